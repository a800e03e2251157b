// Bin geometry and small numeric helpers shared by the CPU reference and the CUDA kernels (docs/spp.md).
// Integer arithmetic only, so both sides agree exactly on every window.
#pragma once

#include "spp/spp.h"

#include <cstdint>

#if defined(__CUDACC__)
#define SPP_HD __host__ __device__ __forceinline__
#else
#define SPP_HD inline
#endif

namespace spp
{
namespace detail
{

//! Half-open window [start, end) along one axis, already clipped to the input.
struct Window
{
    int64_t start;
    int64_t end;
};

//! Caffe's kernel size ceil(size / L); size <= INT32_MAX and L <= 256 keep it in 32 bits.
SPP_HD int64_t caffeKernel(int64_t size, int64_t numBins)
{
    return static_cast<uint32_t>(size + numBins - 1) / static_cast<uint32_t>(numBins);
}

//! Window of bin `i` of `numBins` along an axis of `size` elements.
//! adaptive: [floor(i*size/L), ceil((i+1)*size/L)), never empty.
//! caffe:    k = ceil(size/L), pad = (k*L - size + 1) / 2, [i*k - pad, i*k - pad + k) clipped to [0, size); may be empty.
SPP_HD Window binWindow(BinRule rule, int64_t i, int64_t size, int64_t numBins)
{
    if (rule == BinRule::kADAPTIVE)
    {
        int64_t const a = i * size;
        int64_t const b = (i + 1) * size + numBins - 1;
        if (b <= 0xffffffffLL) // 32-bit division is several times cheaper on the GPU than 64-bit
        {
            auto const n = static_cast<uint32_t>(numBins);
            return Window{static_cast<uint32_t>(a) / n, static_cast<uint32_t>(b) / n};
        }
        return Window{a / numBins, b / numBins};
    }
    int64_t const k = caffeKernel(size, numBins);
    int64_t const pad = (k * numBins - size + 1) / 2;
    int64_t const start = i * k - pad;
    int64_t const end = start + k;
    return Window{start < 0 ? 0 : start, end > size ? size : end};
}

//! What avg divides the window sum by along one axis: the clipped length (adaptive) or the kernel k (caffe).
SPP_HD int64_t avgDivisor(BinRule rule, Window window, int64_t size, int64_t numBins)
{
    return rule == BinRule::kADAPTIVE ? window.end - window.start : caffeKernel(size, numBins);
}

//! sum / count rounded to nearest, ties to even (count > 0). Exact for any int64 sum.
SPP_HD int64_t divRoundHalfEven(int64_t sum, int64_t count)
{
    int64_t q = sum / count; // truncates toward zero
    int64_t r = sum - q * count;
    int64_t const twiceR = r < 0 ? -2 * r : 2 * r;
    if (twiceR > count || (twiceR == count && (q & 1) != 0))
    {
        q += sum < 0 ? -1 : 1;
    }
    return q;
}

//! Rounds an int64 avg result into int8, saturating.
SPP_HD int8_t saturateInt8(int64_t value)
{
    return static_cast<int8_t>(value < -128 ? -128 : (value > 127 ? 127 : value));
}

} // namespace detail
} // namespace spp
