// SPP CUDA kernels and the launcher (spp/cuda.h).
//
// Two kernels:
//  - staged (NCHW): a CTA copies a contiguous run of input (several whole planes, or a strip of rows of one large
//    plane) into shared memory with 16-byte loads, then reduces it separably: stage 1 reduces each row over every
//    level's column windows into a small row buffer, stage 2 reduces that buffer over the row windows and writes the
//    bins. Every input byte is read from DRAM once.
//  - direct (any layout, any size): one thread per output bin reading its window from global memory; the fallback
//    when a row or the row buffer would not fit in shared memory, and the NHWC path (channels across lanes, so
//    loads coalesce).
// Both use core/bins.h for the windows, like the CPU reference.
#include "spp/cuda.h"

#include "core/bins.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

namespace spp
{
namespace
{

constexpr int32_t kTHREADS = 256;
//! Shared memory one staged CTA may use (stays under the 48 KiB that needs no opt-in).
constexpr int64_t kSTAGED_SMEM_BYTES = 46 * 1024;
//! Target bytes of input per staged CTA when several planes share one.
constexpr int64_t kSTAGED_TILE_TARGET = 32 * 1024;

struct Geometry
{
    int64_t n, c, h, w, cs; // cs: NHWC pixel stride in elements
    int64_t features;       // C * sum(L^2)
    int32_t numLevels;
    int32_t sumL;           // sum of L (row-buffer columns)
    int32_t sumL2;          // sum of L^2
    BinRule rule;
    Layout layout;
    int32_t levels[kMAX_LEVELS];
};

// Per-type behaviour: what accumulates, how to load and store.
template <typename T>
struct Traits
{
    using Acc = float;      // row-buffer / window accumulator
    using Total = float;    // stage-2 accumulator
    static __device__ __forceinline__ float load(T v)
    {
        return static_cast<float>(v);
    }
    static __device__ __forceinline__ T store(float v)
    {
        return static_cast<T>(v);
    }
    static __device__ __forceinline__ float lowest()
    {
        return -__int_as_float(0x7f800000);
    }
};

template <>
struct Traits<__half>
{
    using Acc = float;
    using Total = float;
    static __device__ __forceinline__ float load(__half v)
    {
        return __half2float(v);
    }
    static __device__ __forceinline__ __half store(float v)
    {
        return __float2half_rn(v);
    }
    static __device__ __forceinline__ float lowest()
    {
        return -__int_as_float(0x7f800000);
    }
};

template <>
struct Traits<__nv_bfloat16>
{
    using Acc = float;
    using Total = float;
    static __device__ __forceinline__ float load(__nv_bfloat16 v)
    {
        return __bfloat162float(v);
    }
    static __device__ __forceinline__ __nv_bfloat16 store(float v)
    {
        return __float2bfloat16_rn(v);
    }
    static __device__ __forceinline__ float lowest()
    {
        return -__int_as_float(0x7f800000);
    }
};

template <>
struct Traits<int8_t>
{
    using Acc = int32_t;   // a row of int8 sums exactly in int32 (rows are bounded by shared memory)
    using Total = int64_t; // whole windows may be huge
    static __device__ __forceinline__ int32_t load(int8_t v)
    {
        return v;
    }
    static __device__ __forceinline__ int32_t lowest()
    {
        return -128;
    }
};

// max keeping NaN: a NaN operand wins, and once the running value is NaN nothing replaces it with a number.
__device__ __forceinline__ float maxNaN(float a, float v)
{
    return (v > a || v != v) ? v : a;
}
__device__ __forceinline__ int32_t maxNaN(int32_t a, int32_t v)
{
    return v > a ? v : a;
}
__device__ __forceinline__ int64_t maxNaN(int64_t a, int64_t v)
{
    return v > a ? v : a;
}

// Final value of one bin from its reduction: max as is, avg divided (int8: rounded half-even, saturated).
template <typename T, PoolMode kMode>
__device__ __forceinline__ T finishBin(typename Traits<T>::Total total, int64_t divisor)
{
    if constexpr (kMode == PoolMode::kMAX)
    {
        return Traits<T>::store(total);
    }
    else
    {
        return Traits<T>::store(total / static_cast<float>(divisor));
    }
}

template <>
__device__ __forceinline__ int8_t finishBin<int8_t, PoolMode::kMAX>(int64_t total, int64_t)
{
    return static_cast<int8_t>(total);
}

template <>
__device__ __forceinline__ int8_t finishBin<int8_t, PoolMode::kAVG>(int64_t total, int64_t divisor)
{
    return detail::saturateInt8(detail::divRoundHalfEven(total, divisor));
}

template <typename T>
__device__ __forceinline__ T zeroValue()
{
    if constexpr (std::is_same<T, int8_t>::value)
    {
        return 0;
    }
    else
    {
        return Traits<T>::store(0.0F);
    }
}

// Maps a flat per-sample feature index to its level and the index inside the level's block.
__device__ __forceinline__ int32_t findLevel(Geometry const& g, int64_t& featureInLevel)
{
    int32_t l = 0;
    for (; l < g.numLevels - 1; ++l)
    {
        int64_t const block = g.c * g.levels[l] * g.levels[l];
        if (featureInLevel < block)
        {
            break;
        }
        featureInLevel -= block;
    }
    return l;
}

__device__ __forceinline__ int64_t levelOffset(Geometry const& g, int32_t level)
{
    int64_t offset = 0;
    for (int32_t l = 0; l < level; ++l)
    {
        offset += g.c * g.levels[l] * g.levels[l];
    }
    return offset;
}

// ---------------------------------------------------------------------------------------------------------------
// Direct kernel: one thread per output bin.
template <typename T, PoolMode kMode>
__global__ void __launch_bounds__(kTHREADS) sppDirectKernel(Geometry g, T const* __restrict__ input,
    T* __restrict__ output, int64_t total)
{
    using Acc = typename Traits<T>::Total;
    for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < total;
         t += static_cast<int64_t>(gridDim.x) * blockDim.x)
    {
        int64_t const n = t / g.features;
        int64_t inLevel = t - n * g.features;
        int32_t const l = findLevel(g, inLevel);
        int64_t const level = g.levels[l];
        int64_t c, bin;
        if (g.layout == Layout::kNHWC)
        {
            bin = inLevel / g.c; // channels fastest across threads: coalesced NHWC loads
            c = inLevel - bin * g.c;
        }
        else
        {
            c = inLevel / (level * level);
            bin = inLevel - c * level * level;
        }
        int64_t const by = bin / level;
        int64_t const bx = bin - by * level;
        detail::Window const wh = detail::binWindow(g.rule, by, g.h, level);
        detail::Window const ww = detail::binWindow(g.rule, bx, g.w, level);
        T result = zeroValue<T>();
        if (wh.end > wh.start && ww.end > ww.start)
        {
            int64_t rowStride, colStride, base;
            if (g.layout == Layout::kNHWC)
            {
                colStride = g.cs;
                rowStride = g.w * g.cs;
                base = n * g.h * rowStride + c;
            }
            else
            {
                colStride = 1;
                rowStride = g.w;
                base = (n * g.c + c) * g.h * g.w;
            }
            Acc acc = kMode == PoolMode::kMAX ? static_cast<Acc>(Traits<T>::lowest()) : Acc(0);
            for (int64_t y = wh.start; y < wh.end; ++y)
            {
                T const* row = input + base + y * rowStride;
                for (int64_t x = ww.start; x < ww.end; ++x)
                {
                    auto const v = static_cast<Acc>(Traits<T>::load(row[x * colStride]));
                    if constexpr (kMode == PoolMode::kMAX)
                    {
                        acc = maxNaN(acc, v);
                    }
                    else
                    {
                        acc += v;
                    }
                }
            }
            int64_t const divisor = detail::avgDivisor(g.rule, wh, g.h, level) * detail::avgDivisor(g.rule, ww, g.w, level);
            result = finishBin<T, kMode>(acc, divisor);
        }
        output[n * g.features + levelOffset(g, l) + c * level * level + bin] = result;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Staged kernel (NCHW).
struct StagedPlan
{
    int64_t planesPerCta; // P
    int64_t rowsPerStrip; // R (== H when P > 1)
    int64_t numGroups;    // CTAs' work items
    size_t smemBytes;
};

// Shared memory layout: [row windows: 2*sumL int32][col windows: 2*sumL int32][row buffer: P*H*sumL Acc]
// [tile: P*R*W T + 16 bytes of alignment slack].
template <typename T>
size_t stagedSmemBytes(Geometry const& g, int64_t planes, int64_t rows)
{
    size_t const tables = 4 * static_cast<size_t>(g.sumL) * sizeof(int32_t);
    size_t const rowBuffer = static_cast<size_t>(planes * g.h * g.sumL) * sizeof(typename Traits<T>::Acc);
    size_t const tile = static_cast<size_t>(planes * rows * g.w) * sizeof(T) + 16;
    return ((tables + rowBuffer + 15) / 16) * 16 + tile;
}

template <typename T>
bool planStaged(Geometry const& g, int32_t numSms, StagedPlan& plan)
{
    if (g.layout != Layout::kNCHW)
    {
        return false;
    }
    int64_t const planes = g.n * g.c;
    int64_t const planeBytes = g.h * g.w * static_cast<int64_t>(sizeof(T));
    if (stagedSmemBytes<T>(g, 1, g.h) <= static_cast<size_t>(kSTAGED_SMEM_BYTES))
    {
        // Whole planes: as many per CTA as the tile target allows, but keep >= 4 CTAs per SM when there is work.
        int64_t p = planeBytes >= kSTAGED_TILE_TARGET ? 1 : kSTAGED_TILE_TARGET / planeBytes;
        int64_t const spread = (planes + 4 * static_cast<int64_t>(numSms) - 1) / (4 * static_cast<int64_t>(numSms));
        p = p < spread ? p : spread;
        p = p < 1 ? 1 : p;
        while (p > 1 && stagedSmemBytes<T>(g, p, g.h) > static_cast<size_t>(kSTAGED_SMEM_BYTES))
        {
            --p;
        }
        plan.planesPerCta = p;
        plan.rowsPerStrip = g.h;
    }
    else
    {
        // One plane per CTA, streamed in strips of rows.
        size_t const fixed = stagedSmemBytes<T>(g, 1, 0);
        if (fixed >= static_cast<size_t>(kSTAGED_SMEM_BYTES))
        {
            return false;
        }
        int64_t const rows = (kSTAGED_SMEM_BYTES - static_cast<int64_t>(fixed)) / (g.w * static_cast<int64_t>(sizeof(T)));
        if (rows < 1)
        {
            return false;
        }
        plan.planesPerCta = 1;
        plan.rowsPerStrip = rows < g.h ? rows : g.h;
    }
    plan.numGroups = (planes + plan.planesPerCta - 1) / plan.planesPerCta;
    plan.smemBytes = stagedSmemBytes<T>(g, plan.planesPerCta, plan.rowsPerStrip);
    return true;
}

// Copies count elements from src (any alignment of T) into dst so that dst[i] sits at the same address offset
// modulo 16 as src[i]: the 16-byte aligned middle then moves with vector loads and stores. Returns the shift
// (elements) at which the copy starts in dst.
template <typename T>
__device__ __forceinline__ int32_t copyToShared(T* dst, T const* __restrict__ src, int64_t count)
{
    constexpr int32_t kVEC = 16 / static_cast<int32_t>(sizeof(T));
    auto const address = reinterpret_cast<uintptr_t>(src);
    int32_t const shift = static_cast<int32_t>((address % 16) / sizeof(T));
    T* const out = dst + shift;
    int64_t head = shift == 0 ? 0 : kVEC - shift;
    head = head < count ? head : count;
    int64_t const vectors = (count - head) / kVEC;
    int64_t const tailStart = head + vectors * kVEC;
    for (int64_t i = threadIdx.x; i < head; i += blockDim.x)
    {
        out[i] = src[i];
    }
    auto const* srcVec = reinterpret_cast<int4 const*>(src + head);
    auto* dstVec = reinterpret_cast<int4*>(out + head);
    int64_t i = threadIdx.x;
    // four independent 16-byte loads in flight per thread before the stores
    for (; i + 3 * kTHREADS < vectors; i += 4 * kTHREADS)
    {
        int4 const a = __ldg(srcVec + i);
        int4 const b = __ldg(srcVec + i + kTHREADS);
        int4 const c = __ldg(srcVec + i + 2 * kTHREADS);
        int4 const d = __ldg(srcVec + i + 3 * kTHREADS);
        dstVec[i] = a;
        dstVec[i + kTHREADS] = b;
        dstVec[i + 2 * kTHREADS] = c;
        dstVec[i + 3 * kTHREADS] = d;
    }
    for (; i < vectors; i += kTHREADS)
    {
        dstVec[i] = __ldg(srcVec + i);
    }
    for (int64_t j = tailStart + threadIdx.x; j < count; j += blockDim.x)
    {
        out[j] = src[j];
    }
    return shift;
}

template <typename T, PoolMode kMode>
__global__ void __launch_bounds__(kTHREADS) sppStagedKernel(Geometry g, StagedPlan plan, T const* __restrict__ input,
    T* __restrict__ output)
{
    using Acc = typename Traits<T>::Acc;
    using Total = typename Traits<T>::Total;
    extern __shared__ int4 smemRaw[];
    auto* rowWin = reinterpret_cast<int32_t*>(smemRaw);   // [sumL][2]: row window of (level, by)
    int32_t* colWin = rowWin + 2 * g.sumL;                // [sumL][2]: column window of (level, bx)
    auto* rowBuffer = reinterpret_cast<Acc*>(colWin + 2 * g.sumL);
    size_t const headerBytes = ((4 * static_cast<size_t>(g.sumL) * sizeof(int32_t)
                                    + static_cast<size_t>(plan.planesPerCta * g.h * g.sumL) * sizeof(Acc) + 15)
                                   / 16)
        * 16;
    T* tile = reinterpret_cast<T*>(reinterpret_cast<char*>(smemRaw) + headerBytes);

    // Window tables, once per CTA.
    for (int32_t j = threadIdx.x; j < g.sumL; j += blockDim.x)
    {
        int32_t l = 0;
        int32_t bin = j;
        while (bin >= g.levels[l])
        {
            bin -= g.levels[l];
            ++l;
        }
        detail::Window const wh = detail::binWindow(g.rule, bin, g.h, g.levels[l]);
        detail::Window const ww = detail::binWindow(g.rule, bin, g.w, g.levels[l]);
        rowWin[2 * j] = static_cast<int32_t>(wh.start);
        rowWin[2 * j + 1] = static_cast<int32_t>(wh.end);
        colWin[2 * j] = static_cast<int32_t>(ww.start);
        colWin[2 * j + 1] = static_cast<int32_t>(ww.end);
    }

    int64_t const planes = g.n * g.c;
    int32_t const w = static_cast<int32_t>(g.w);
    int32_t const h = static_cast<int32_t>(g.h);
    for (int64_t group = blockIdx.x; group < plan.numGroups; group += gridDim.x)
    {
        int64_t const firstPlane = group * plan.planesPerCta;
        int32_t const numPlanes = static_cast<int32_t>(
            planes - firstPlane < plan.planesPerCta ? planes - firstPlane : plan.planesPerCta);
        for (int32_t row0 = 0; row0 < h; row0 += static_cast<int32_t>(plan.rowsPerStrip))
        {
            int32_t const rows = h - row0 < plan.rowsPerStrip ? h - row0 : static_cast<int32_t>(plan.rowsPerStrip);
            int64_t const count = numPlanes == 1 ? static_cast<int64_t>(rows) * w : numPlanes * g.h * g.w;
            __syncthreads(); // the previous strip's stage 1 (and the tables) are done with shared memory
            int32_t const shift = copyToShared(tile, input + (firstPlane * g.h + row0) * g.w, count);
            __syncthreads();
            T const* strip = tile + shift;
            // Stage 1: (plane, row, column window) -> row buffer.
            int32_t const items = numPlanes * rows * g.sumL;
            for (int32_t item = threadIdx.x; item < items; item += blockDim.x)
            {
                int32_t const j = item % g.sumL;
                int32_t const pr = item / g.sumL; // plane * rows + row
                int32_t const p = pr / rows;
                int32_t const r = pr - p * rows;
                int32_t const x0 = colWin[2 * j];
                int32_t const x1 = colWin[2 * j + 1];
                T const* src = strip + (static_cast<int64_t>(p) * rows + r) * w;
                Acc acc = kMode == PoolMode::kMAX ? Traits<T>::lowest() : Acc(0);
#pragma unroll 4
                for (int32_t x = x0; x < x1; ++x)
                {
                    Acc const v = Traits<T>::load(src[x]);
                    if constexpr (kMode == PoolMode::kMAX)
                    {
                        acc = maxNaN(acc, v);
                    }
                    else
                    {
                        acc += v;
                    }
                }
                rowBuffer[(static_cast<int64_t>(p) * h + row0 + r) * g.sumL + j] = acc;
            }
        }
        __syncthreads();
        // Stage 2: (plane, level, by, bx) -> output. Consecutive threads write consecutive bins of one level.
        int32_t const items = numPlanes * g.sumL2;
        for (int32_t item = threadIdx.x; item < items; item += blockDim.x)
        {
            int32_t const p = item / g.sumL2;
            int32_t bin = item - p * g.sumL2;
            int32_t l = 0;
            int32_t colBase = 0; // sum of L over previous levels
            int64_t outOffset = 0;
            while (bin >= g.levels[l] * g.levels[l])
            {
                bin -= g.levels[l] * g.levels[l];
                colBase += g.levels[l];
                outOffset += g.c * g.levels[l] * g.levels[l];
                ++l;
            }
            int32_t const level = g.levels[l];
            int32_t const by = bin / level;
            int32_t const bx = bin - by * level;
            int32_t const y0 = rowWin[2 * (colBase + by)];
            int32_t const y1 = rowWin[2 * (colBase + by) + 1];
            int32_t const x0 = colWin[2 * (colBase + bx)];
            int32_t const x1 = colWin[2 * (colBase + bx) + 1];
            T result = zeroValue<T>();
            if (y1 > y0 && x1 > x0)
            {
                Acc const* column = rowBuffer + static_cast<int64_t>(p) * h * g.sumL + colBase + bx;
                Total acc = kMode == PoolMode::kMAX ? static_cast<Total>(Traits<T>::lowest()) : Total(0);
                for (int32_t y = y0; y < y1; ++y)
                {
                    Total const v = column[static_cast<int64_t>(y) * g.sumL];
                    if constexpr (kMode == PoolMode::kMAX)
                    {
                        acc = maxNaN(acc, v);
                    }
                    else
                    {
                        acc += v;
                    }
                }
                int64_t const divisor = detail::avgDivisor(g.rule, detail::Window{y0, y1}, g.h, level)
                    * detail::avgDivisor(g.rule, detail::Window{x0, x1}, g.w, level);
                result = finishBin<T, kMode>(acc, divisor);
            }
            int64_t const plane = firstPlane + p;
            int64_t const n = plane / g.c;
            int64_t const c = plane - n * g.c;
            output[n * g.features + outOffset + c * level * level + bin] = result;
        }
    }
}

Geometry makeGeometry(SppDesc const& desc)
{
    Geometry g{};
    g.n = desc.n;
    g.c = desc.c;
    g.h = desc.h;
    g.w = desc.w;
    g.cs = effectiveChannelStride(desc);
    g.features = outputFeatures(desc.pyramid, desc.c);
    g.numLevels = desc.pyramid.numLevels;
    g.rule = desc.pyramid.rule;
    g.layout = desc.layout;
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        g.levels[l] = desc.pyramid.levels[l];
        g.sumL += g.levels[l];
        g.sumL2 += g.levels[l] * g.levels[l];
    }
    return g;
}

int32_t multiprocessorCount()
{
    int32_t device = 0;
    int32_t count = 0;
    if (cudaGetDevice(&device) != cudaSuccess
        || cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || count <= 0)
    {
        return 1;
    }
    return count;
}

template <typename T, PoolMode kMode>
cudaError_t launch(Geometry const& g, Algo algo, void const* input, void* output, cudaStream_t stream)
{
    int32_t const numSms = multiprocessorCount();
    StagedPlan plan{};
    bool const stagedFits = planStaged<T>(g, numSms, plan);
    if (algo == Algo::kSTAGED || (algo == Algo::kAUTO && stagedFits))
    {
        if (!stagedFits)
        {
            return cudaErrorInvalidValue;
        }
        int64_t const grid = plan.numGroups < 0x7fffffff ? plan.numGroups : 0x7fffffff;
        sppStagedKernel<T, kMode><<<static_cast<uint32_t>(grid), kTHREADS, plan.smemBytes, stream>>>(
            g, plan, static_cast<T const*>(input), static_cast<T*>(output));
        return cudaGetLastError();
    }
    int64_t const total = g.n * g.features;
    int64_t const blocks = (total + kTHREADS - 1) / kTHREADS;
    int64_t const maxBlocks = static_cast<int64_t>(numSms) * 32;
    sppDirectKernel<T, kMode><<<static_cast<uint32_t>(blocks < maxBlocks ? blocks : maxBlocks), kTHREADS, 0, stream>>>(
        g, static_cast<T const*>(input), static_cast<T*>(output), total);
    return cudaGetLastError();
}

template <typename T>
cudaError_t launchMode(Geometry const& g, PoolMode mode, Algo algo, void const* input, void* output,
    cudaStream_t stream)
{
    return mode == PoolMode::kMAX ? launch<T, PoolMode::kMAX>(g, algo, input, output, stream)
                                  : launch<T, PoolMode::kAVG>(g, algo, input, output, stream);
}

} // namespace

size_t sppWorkspaceSize(SppDesc const& /*desc*/) noexcept
{
    return 0;
}

bool sppAlgoSupported(SppDesc const& desc, Algo algo) noexcept
{
    if (!validate(desc).ok())
    {
        return false;
    }
    if (algo != Algo::kSTAGED)
    {
        return algo == Algo::kAUTO || algo == Algo::kDIRECT;
    }
    Geometry const g = makeGeometry(desc);
    StagedPlan plan{};
    int32_t const sms = 1; // the plan's feasibility does not depend on the SM count
    switch (desc.dtype)
    {
    case DataType::kFLOAT: return planStaged<float>(g, sms, plan);
    case DataType::kHALF: return planStaged<__half>(g, sms, plan);
    case DataType::kBF16: return planStaged<__nv_bfloat16>(g, sms, plan);
    case DataType::kINT8: return planStaged<int8_t>(g, sms, plan);
    }
    return false;
}

cudaError_t sppForward(SppDesc const& desc, void const* input, void* output, void* /*workspace*/,
    size_t /*workspaceBytes*/, cudaStream_t stream, LaunchOptions const& options) noexcept
{
    if (!validate(desc).ok() || !sppAlgoSupported(desc, options.algo))
    {
        return cudaErrorInvalidValue;
    }
    if (outputElements(desc) == 0)
    {
        return cudaSuccess;
    }
    if (input == nullptr || output == nullptr)
    {
        return cudaErrorInvalidValue;
    }
    Geometry const g = makeGeometry(desc);
    PoolMode const mode = desc.pyramid.mode;
    switch (desc.dtype)
    {
    case DataType::kFLOAT: return launchMode<float>(g, mode, options.algo, input, output, stream);
    case DataType::kHALF: return launchMode<__half>(g, mode, options.algo, input, output, stream);
    case DataType::kBF16: return launchMode<__nv_bfloat16>(g, mode, options.algo, input, output, stream);
    case DataType::kINT8: return launchMode<int8_t>(g, mode, options.algo, input, output, stream);
    }
    return cudaErrorInvalidValue;
}

} // namespace spp
