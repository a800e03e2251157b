// SPP CUDA kernels and the launcher (spp/cuda.h).
//
// Two kernels:
//  - staged (NCHW): a CTA copies a contiguous run of input (several whole planes, or a strip of rows of one large
//    plane) into shared memory with 16-byte loads, then reduces it separably: stage 1 reduces each column over every
//    level's row windows into a small column buffer (lanes on consecutive columns: no bank conflicts), stage 2
//    reduces that buffer across the column windows and writes the bins. Every input byte is read from DRAM once.
//  - direct (any layout, any size): one thread per output bin reading its window from global memory; the fallback
//    when a row or the column buffer would not fit in shared memory, and the NHWC path (channels across lanes, so
//    loads coalesce).
// Both use core/bins.h for the windows, like the CPU reference.
#include "spp/cuda.h"

#include "core/bins.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_pipeline.h>

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
constexpr int64_t kSTAGED_TILE_TARGET = 16 * 1024;

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

// Shared memory layout: [row windows: 2*sumL int32][col windows: 2*sumL int32][column buffer: P*sumL*W Acc]
// [tile: P*R*W T + 16 bytes of alignment slack].
template <typename T>
size_t stagedSmemBytes(Geometry const& g, int64_t planes, int64_t rows)
{
    size_t const tables = 4 * static_cast<size_t>(g.sumL) * sizeof(int32_t);
    size_t const columnBuffer = static_cast<size_t>(planes * g.sumL * g.w) * sizeof(typename Traits<T>::Acc);
    size_t const tile = static_cast<size_t>(planes * rows * g.w) * sizeof(T) + 16;
    return ((tables + columnBuffer + 15) / 16) * 16 + tile;
}

template <typename T>
bool planStaged(Geometry const& g, int32_t numSms, StagedPlan& plan)
{
    if (g.layout != Layout::kNCHW)
    {
        return false;
    }
    if (std::is_same<T, int8_t>::value && g.h > (int64_t{1} << 31) / 128)
    {
        return false; // int8 column sums stay in int32 only while H * 127 does
    }
    int64_t const planes = g.n * g.c;
    int64_t const planeBytes = g.h * g.w * static_cast<int64_t>(sizeof(T));
    if (stagedSmemBytes<T>(g, 1, g.h) <= static_cast<size_t>(kSTAGED_SMEM_BYTES))
    {
        // Whole planes: as many per CTA as the tile target allows, but keep >= 8 CTAs per SM when there is work.
        int64_t p = planeBytes >= kSTAGED_TILE_TARGET ? 1 : kSTAGED_TILE_TARGET / planeBytes;
        int64_t const spread = (planes + 8 * static_cast<int64_t>(numSms) - 1) / (8 * static_cast<int64_t>(numSms));
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
// modulo 16 as src[i]: the 16-byte aligned middle then moves with asynchronous 16-byte copies (cp.async, which
// bypass registers, so every load of the tile is in flight at once). Returns the shift (elements) at which the copy
// starts in dst. The caller must __syncthreads() before reading dst.
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
    auto const* srcVec = reinterpret_cast<int4 const*>(src + head);
    auto* dstVec = reinterpret_cast<int4*>(out + head);
    for (int64_t i = threadIdx.x; i < vectors; i += kTHREADS)
    {
        __pipeline_memcpy_async(dstVec + i, srcVec + i, sizeof(int4));
    }
    __pipeline_commit();
    if (threadIdx.x < head)
    {
        out[threadIdx.x] = src[threadIdx.x];
    }
    for (int64_t j = tailStart + threadIdx.x; j < count; j += kTHREADS)
    {
        out[j] = src[j];
    }
    __pipeline_wait_prior(0);
    return shift;
}

template <typename T, PoolMode kMode>
__global__ void __launch_bounds__(kTHREADS) sppStagedKernel(Geometry g, StagedPlan plan, T const* __restrict__ input,
    T* __restrict__ output)
{
    using Acc = typename Traits<T>::Acc;
    using Total = typename Traits<T>::Total;
    extern __shared__ int4 smemRaw[];
    auto* rowWin = reinterpret_cast<int32_t*>(smemRaw); // [sumL][2]: row window of (level, by)
    int32_t* colWin = rowWin + 2 * g.sumL;              // [sumL][2]: column window of (level, bx)
    auto* columnBuffer = reinterpret_cast<Acc*>(colWin + 2 * g.sumL);
    int32_t const w = static_cast<int32_t>(g.w);
    int32_t const h = static_cast<int32_t>(g.h);
    size_t const headerBytes
        = ((4 * static_cast<size_t>(g.sumL) * sizeof(int32_t) + static_cast<size_t>(plan.planesPerCta) * g.sumL * w * sizeof(Acc) + 15) / 16) * 16;
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
    Acc const identity = kMode == PoolMode::kMAX ? Traits<T>::lowest() : Acc(0);
    // Stage 1 thread layout: columnThreads lanes across the columns, pairStride groups of them down the pairs.
    int32_t const columnThreads = w < kTHREADS ? w : kTHREADS;
    int32_t const pairStride = kTHREADS / columnThreads;
    int32_t const pairStart = static_cast<int32_t>(threadIdx.x) / columnThreads;
    // the kTHREADS % columnThreads leftover threads sit out stage 1 (they would repeat another thread's pairs)
    int32_t const firstColumn = pairStart < pairStride ? static_cast<int32_t>(threadIdx.x) % columnThreads : w;
    for (int64_t group = blockIdx.x; group < plan.numGroups; group += gridDim.x)
    {
        int64_t const firstPlane = group * plan.planesPerCta;
        int32_t const numPlanes = static_cast<int32_t>(
            planes - firstPlane < plan.planesPerCta ? planes - firstPlane : plan.planesPerCta);
        // Stage 1 work split: thread -> fixed column x (lanes on consecutive columns) and a fixed sequence of
        // (plane, row window) pairs; the same in every strip, so a thread accumulates its own column-buffer slots
        // across strips without synchronisation.
        int32_t const pairs = numPlanes * g.sumL;
        for (int32_t row0 = 0; row0 < h; row0 += static_cast<int32_t>(plan.rowsPerStrip))
        {
            int32_t const rows = h - row0 < plan.rowsPerStrip ? h - row0 : static_cast<int32_t>(plan.rowsPerStrip);
            int64_t const count = static_cast<int64_t>(numPlanes) * rows * w;
            __syncthreads(); // the previous strip (or group) is done with the tile and the column buffer
            int32_t const shift = copyToShared(tile, input + (firstPlane * g.h + row0) * g.w, count);
            __syncthreads();
            T const* strip = tile + shift;
            for (int32_t x = firstColumn; x < w; x += columnThreads)
            {
                int32_t p = 0;
                int32_t j = pairStart;
                while (j >= g.sumL)
                {
                    j -= g.sumL;
                    ++p;
                }
                for (int32_t pj = pairStart; pj < pairs; pj += pairStride)
                {
                    int32_t const y0 = max(rowWin[2 * j], row0);
                    int32_t const y1 = min(rowWin[2 * j + 1], row0 + rows);
                    Acc* slot = columnBuffer + static_cast<int64_t>(pj) * w + x;
                    Acc acc = row0 == 0 ? identity : *slot;
                    T const* src = strip + (p * rows - row0) * w + x;
#pragma unroll 4
                    for (int32_t y = y0; y < y1; ++y)
                    {
                        Acc const v = Traits<T>::load(src[y * w]);
                        if constexpr (kMode == PoolMode::kMAX)
                        {
                            acc = maxNaN(acc, v);
                        }
                        else
                        {
                            acc += v;
                        }
                    }
                    *slot = acc;
                    j += pairStride;
                    while (j >= g.sumL)
                    {
                        j -= g.sumL;
                        ++p;
                    }
                }
            }
        }
        __syncthreads();
        // Stage 2, across: (plane, level, by, bx) -> output. Consecutive threads write consecutive bins of a level.
        int64_t const n0 = firstPlane / g.c;
        int64_t const c0 = firstPlane - n0 * g.c;
        int32_t const outputs = numPlanes * g.sumL2;
        int32_t p = 0;
        int32_t binInPlane = threadIdx.x;
        for (int32_t item = threadIdx.x; item < outputs; item += kTHREADS)
        {
            while (binInPlane >= g.sumL2)
            {
                binInPlane -= g.sumL2;
                ++p;
            }
            int32_t bin = binInPlane;
            int32_t l = 0;
            int32_t windowBase = 0; // sum of L over previous levels
            int64_t outOffset = 0;
            while (bin >= g.levels[l] * g.levels[l])
            {
                bin -= g.levels[l] * g.levels[l];
                windowBase += g.levels[l];
                outOffset += g.c * g.levels[l] * g.levels[l];
                ++l;
            }
            int32_t const level = g.levels[l];
            int32_t const by = bin / level;
            int32_t const bx = bin - by * level;
            int32_t const y0 = rowWin[2 * (windowBase + by)];
            int32_t const y1 = rowWin[2 * (windowBase + by) + 1];
            int32_t const x0 = colWin[2 * (windowBase + bx)];
            int32_t const x1 = colWin[2 * (windowBase + bx) + 1];
            T result = zeroValue<T>();
            if (y1 > y0 && x1 > x0)
            {
                Acc const* row = columnBuffer + (p * g.sumL + windowBase + by) * w;
                Total acc = static_cast<Total>(identity);
                for (int32_t x = x0; x < x1; ++x)
                {
                    Total const v = row[x];
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
            int64_t n = n0;
            int64_t c = c0 + p;
            if (c >= g.c)
            {
                n += c / g.c;
                c %= g.c;
            }
            output[n * g.features + outOffset + c * level * level + bin] = result;
            binInPlane += kTHREADS;
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
