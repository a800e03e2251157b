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

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace spp
{
namespace
{

constexpr int32_t kTHREADS = 256;
//! Shared memory of a single-buffered staged CTA (stays under the 48 KiB that needs no opt-in).
constexpr int64_t kSTAGED_SMEM_BYTES = 46 * 1024;
//! Shared memory of a double-buffered staged CTA (opted in per launch when above 48 KiB).
constexpr int64_t kSTAGED_SMEM_MAX_BYTES = 100 * 1024;
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
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    float r;
    asm("max.NaN.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(v)); // one instruction; NaN in, NaN out
    return r;
#else
    return (v > a || v != v) ? v : a;
#endif
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
    int64_t planesPerCta;   // P
    int64_t rowsPerStrip;   // R (== H in whole-plane mode)
    int64_t numGroups;      // groups of P planes; CTAs loop over them
    int64_t tileBytes;      // one tile buffer, with alignment slack
    int32_t numSegments;    // S: row segments, the pieces that the row windows of all levels cut [0, H) into
    int32_t doubleBuffer;   // whole-plane mode with room for two tiles: the next group loads during compute
    size_t smemBytes;
};

// One output bin of one plane, precomputed per CTA: where it goes and what it reduces.
struct BinEntry
{
    int32_t base;      // C * sum(L'^2 over earlier levels) + by * L + bx: offset inside a sample's features
    int32_t binCount;  // L * L: distance between channels inside the level's block
    int32_t segments;  // first row segment | (last + 1) << 16
    int32_t columns;   // first column | (last + 1) << 16
    int32_t divisor;   // avg divisor; 0 marks an empty (caffe) window, whose bin is 0
    int32_t pad[3];
};

//! Most row windows (sum of L) the staged kernel takes: its segment tables are built in O((2 sumL)^2) per CTA.
constexpr int32_t kSTAGED_MAX_SUM_L = 512;

// Shared memory layout: [bin table: sumL2 BinEntry][row windows: 2 sumL][col windows: 2 sumL][endpoints: 2 sumL]
// [first-occurrence flags: 2 sumL][endpoint ranks: 2 sumL][segment starts: S + 1]  (int32 each)  [segment buffer: P*S*W Acc][tile 0][tile 1].
template <typename T>
__host__ __device__ size_t stagedHeaderBytes(Geometry const& g, int64_t planes, int32_t numSegments)
{
    size_t const tables = static_cast<size_t>(g.sumL2) * sizeof(BinEntry)
        + (10 * static_cast<size_t>(g.sumL) + static_cast<size_t>(numSegments) + 1) * sizeof(int32_t);
    size_t const segmentBuffer = static_cast<size_t>(planes * numSegments * g.w) * sizeof(typename Traits<T>::Acc);
    return ((tables + 15) / 16) * 16 + ((segmentBuffer + 15) / 16) * 16;
}

// A tile holds P*R*W elements copied so that smem and global addresses agree modulo 16, plus up to 16 bytes of
// lead-in and 4 bytes of word rounding at the end.
template <typename T>
int64_t stagedTileBytes(Geometry const& g, int64_t planes, int64_t rows)
{
    return ((planes * rows * g.w * static_cast<int64_t>(sizeof(T)) + 16 + 4 + 15) / 16) * 16;
}

// Number of row segments: distinct endpoints of the non-empty row windows, minus one.
int32_t countRowSegments(Geometry const& g)
{
    std::vector<int64_t> ends;
    ends.reserve(2 * static_cast<size_t>(g.sumL));
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        for (int32_t i = 0; i < g.levels[l]; ++i)
        {
            detail::Window const wh = detail::binWindow(g.rule, i, g.h, g.levels[l]);
            if (wh.end > wh.start)
            {
                ends.push_back(wh.start);
                ends.push_back(wh.end);
            }
        }
    }
    std::sort(ends.begin(), ends.end());
    auto const distinct = std::unique(ends.begin(), ends.end()) - ends.begin();
    return static_cast<int32_t>(distinct - 1);
}

template <typename T>
bool planStaged(Geometry const& g, int32_t numSms, StagedPlan& plan)
{
    if (g.layout != Layout::kNCHW || g.sumL > kSTAGED_MAX_SUM_L || g.w > 0xffff)
    {
        return false; // column indices are packed in 16 bits; rows that wide do not fit in shared memory anyway
    }
    if (std::is_same<T, int8_t>::value && g.h > (int64_t{1} << 31) / 128)
    {
        return false; // int8 column sums stay in int32 only while H * 127 does
    }
    int32_t const segments = countRowSegments(g);
    int64_t const planes = g.n * g.c;
    int64_t const planeBytes = g.h * g.w * static_cast<int64_t>(sizeof(T));
    auto const single = [&](int64_t p, int64_t rows) {
        return static_cast<int64_t>(stagedHeaderBytes<T>(g, p, segments)) + stagedTileBytes<T>(g, p, rows);
    };
    plan.doubleBuffer = 0;
    plan.numSegments = segments;
    if (single(1, g.h) <= kSTAGED_SMEM_BYTES)
    {
        // Whole planes. Enough planes per CTA that its (plane, column) items fill the threads, within the tile
        // target, but keep >= 2 groups per SM.
        int64_t p = kTHREADS / g.w;
        int64_t const fit = planeBytes >= kSTAGED_TILE_TARGET ? 1 : kSTAGED_TILE_TARGET / planeBytes;
        int64_t const spread = (planes + 2 * static_cast<int64_t>(numSms) - 1) / (2 * static_cast<int64_t>(numSms));
        p = p < fit ? p : fit;
        p = p < spread ? p : spread;
        p = p < 1 ? 1 : p;
        while (p > 1 && single(p, g.h) > kSTAGED_SMEM_BYTES)
        {
            --p;
        }
        plan.planesPerCta = p;
        plan.rowsPerStrip = g.h;
        plan.doubleBuffer = single(p, g.h) + stagedTileBytes<T>(g, p, g.h) <= kSTAGED_SMEM_MAX_BYTES ? 1 : 0;
    }
    else
    {
        // One plane per CTA, streamed in strips of rows.
        int64_t const fixed = single(1, 0);
        if (fixed >= kSTAGED_SMEM_BYTES)
        {
            return false;
        }
        int64_t const rows = (kSTAGED_SMEM_BYTES - fixed) / (g.w * static_cast<int64_t>(sizeof(T)));
        if (rows < 1)
        {
            return false;
        }
        plan.planesPerCta = 1;
        plan.rowsPerStrip = rows < g.h ? rows : g.h;
    }
    plan.numGroups = (planes + plan.planesPerCta - 1) / plan.planesPerCta;
    plan.tileBytes = stagedTileBytes<T>(g, plan.planesPerCta, plan.rowsPerStrip);
    plan.smemBytes = stagedHeaderBytes<T>(g, plan.planesPerCta, segments)
        + static_cast<size_t>(plan.tileBytes) * (plan.doubleBuffer ? 2 : 1);
    return true;
}

// Starts copying `count` elements at src into dst with cp.async (bypassing registers, so the whole tile is in
// flight at once) and commits them as one pipeline stage; __pipeline_wait_prior() and a barrier must follow before
// the tile is read. dst[shift + i] receives src[i], where shift puts smem and global addresses in the same position
// modulo 16, so the aligned middle moves in 16-byte pieces and the ragged ends in 4-byte words. Those words may
// take up to 3 bytes beyond either end of the range; they share an aligned word (and so a page) with bytes of the
// range and are never used.
template <typename T>
__device__ __forceinline__ int32_t issueTileCopy(T* dst, T const* __restrict__ src, int64_t count)
{
    auto const begin = reinterpret_cast<uintptr_t>(src);
    auto const end = begin + static_cast<uintptr_t>(count) * sizeof(T);
    int32_t const shift = static_cast<int32_t>((begin % 16) / sizeof(T));
    char* const dstOfBegin = reinterpret_cast<char*>(dst + shift); // smem address receiving byte `begin`
    uintptr_t const wordBegin = begin & ~uintptr_t{3};
    uintptr_t const wordEnd = (end + 3) & ~uintptr_t{3};
    uintptr_t vecBegin = (begin + 15) & ~uintptr_t{15};
    uintptr_t vecEnd = end & ~uintptr_t{15};
    if (vecEnd <= vecBegin)
    {
        vecBegin = vecEnd = wordBegin; // too short for a 16-byte piece: words only
    }
    int64_t const vectors = static_cast<int64_t>(vecEnd - vecBegin) / 16;
    for (int64_t i = threadIdx.x; i < vectors; i += kTHREADS)
    {
        uintptr_t const at = vecBegin + static_cast<uintptr_t>(i) * 16;
        __pipeline_memcpy_async(dstOfBegin + (at - begin), reinterpret_cast<void const*>(at), 16);
    }
    int64_t const headWords = static_cast<int64_t>(vecBegin - wordBegin) / 4;
    int64_t const tailWords = static_cast<int64_t>(wordEnd - vecEnd) / 4;
    for (int64_t i = threadIdx.x; i < headWords + tailWords; i += kTHREADS)
    {
        uintptr_t const at = i < headWords ? wordBegin + static_cast<uintptr_t>(i) * 4
                                           : vecEnd + static_cast<uintptr_t>(i - headWords) * 4;
        __pipeline_memcpy_async(dstOfBegin + (at - begin), reinterpret_cast<void const*>(at), 4);
    }
    __pipeline_commit();
    return shift;
}

template <typename T, PoolMode kMode>
__global__ void __launch_bounds__(kTHREADS, 4) sppStagedKernel(Geometry g, StagedPlan plan, T const* __restrict__ input,
    T* __restrict__ output)
{
    using Acc = typename Traits<T>::Acc;
    using Total = typename Traits<T>::Total;
    extern __shared__ int4 smemRaw[];
    int32_t const numSegments = plan.numSegments;
    auto* binTable = reinterpret_cast<BinEntry*>(smemRaw);          // [sumL2]
    auto* rowWin = reinterpret_cast<int32_t*>(binTable + g.sumL2); // [sumL][2]: row window of (level, by)
    int32_t* colWin = rowWin + 2 * g.sumL;                         // [sumL][2]: column window of (level, bx)
    int32_t* endpoints = colWin + 2 * g.sumL;                      // [2 sumL]: row window ends, kNONE if empty
    int32_t* isFirst = endpoints + 2 * g.sumL;                     // [2 sumL]: first occurrence of its value
    int32_t* ranks = isFirst + 2 * g.sumL;                         // [2 sumL]: segment index of each endpoint
    int32_t* segmentStart = ranks + 2 * g.sumL;                    // [S + 1]: first row of each segment
    auto* segmentBuffer = reinterpret_cast<Acc*>(reinterpret_cast<char*>(smemRaw)
        + ((static_cast<size_t>(g.sumL2) * sizeof(BinEntry) + (10 * static_cast<size_t>(g.sumL) + numSegments + 1) * sizeof(int32_t) + 15) / 16) * 16);
    int32_t const w = static_cast<int32_t>(g.w);
    int32_t const h = static_cast<int32_t>(g.h);
    char* const tiles = reinterpret_cast<char*>(smemRaw) + stagedHeaderBytes<T>(g, plan.planesPerCta, numSegments);
    int64_t const planes = g.n * g.c;
    int64_t group = blockIdx.x;
    auto const groupPlanes = [&](int64_t grp) {
        return static_cast<int32_t>(planes - grp * plan.planesPerCta < plan.planesPerCta
                ? planes - grp * plan.planesPerCta
                : plan.planesPerCta);
    };
    auto const tile = [&](int32_t buffer) { return reinterpret_cast<T*>(tiles + buffer * plan.tileBytes); };

    // Start the first group's load before building the tables, so the two overlap.
    int32_t shift = 0;
    if (plan.doubleBuffer && group < plan.numGroups)
    {
        shift = issueTileCopy(tile(0), input + group * plan.planesPerCta * g.h * g.w,
            static_cast<int64_t>(groupPlanes(group)) * h * w);
    }

    // Tables, once per CTA. Windows first.
    constexpr int32_t kNONE = 0x7fffffff;
    for (int32_t j = threadIdx.x; j < g.sumL; j += kTHREADS)
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
        bool const empty = wh.end <= wh.start;
        endpoints[2 * j] = empty ? kNONE : static_cast<int32_t>(wh.start);
        endpoints[2 * j + 1] = empty ? kNONE : static_cast<int32_t>(wh.end);
    }
    __syncthreads();
    // Row segments: the distinct endpoints of all row windows, in order, cut [0, H) into S pieces; every window
    // is a run of whole segments. rank(e) = number of distinct endpoints below e.
    for (int32_t i = threadIdx.x; i < 2 * g.sumL; i += kTHREADS)
    {
        int32_t const e = endpoints[i];
        bool first = e != kNONE;
        for (int32_t k = 0; k < i && first; ++k)
        {
            first = endpoints[k] != e;
        }
        isFirst[i] = first ? 1 : 0;
    }
    __syncthreads();
    for (int32_t i = threadIdx.x; i < 2 * g.sumL; i += kTHREADS)
    {
        int32_t const e = endpoints[i];
        int32_t rank = 0;
        for (int32_t k = 0; k < 2 * g.sumL; ++k)
        {
            rank += (isFirst[k] != 0 && endpoints[k] < e) ? 1 : 0;
        }
        ranks[i] = e == kNONE ? 0 : rank;
        if (isFirst[i] != 0)
        {
            segmentStart[rank] = e;
        }
    }
    __syncthreads();
    for (int32_t b = threadIdx.x; b < g.sumL2; b += kTHREADS)
    {
        int32_t l = 0;
        int32_t bin = b;
        int32_t windowBase = 0;
        int64_t levelBase = 0;
        while (bin >= g.levels[l] * g.levels[l])
        {
            bin -= g.levels[l] * g.levels[l];
            windowBase += g.levels[l];
            levelBase += g.c * g.levels[l] * g.levels[l];
            ++l;
        }
        int32_t const level = g.levels[l];
        int32_t const by = bin / level;
        int32_t const bx = bin - by * level;
        int32_t const jy = windowBase + by;
        int32_t const jx = windowBase + bx;
        detail::Window const wh{rowWin[2 * jy], rowWin[2 * jy + 1]};
        detail::Window const ww{colWin[2 * jx], colWin[2 * jx + 1]};
        BinEntry e{};
        e.base = static_cast<int32_t>(levelBase + bin);
        e.binCount = level * level;
        e.segments = ranks[2 * jy] | (ranks[2 * jy + 1] << 16);
        e.columns = static_cast<int32_t>(ww.start) | (static_cast<int32_t>(ww.end) << 16);
        bool const empty = wh.end <= wh.start || ww.end <= ww.start;
        e.divisor = empty ? 0
                          : static_cast<int32_t>(detail::avgDivisor(g.rule, wh, g.h, level)
                              * detail::avgDivisor(g.rule, ww, g.w, level));
        binTable[b] = e;
    }

    Acc const identity = kMode == PoolMode::kMAX ? Traits<T>::lowest() : Acc(0);
    int32_t buffer = 0;
    for (; group < plan.numGroups; group += gridDim.x)
    {
        int64_t const firstPlane = group * plan.planesPerCta;
        int32_t const numPlanes = groupPlanes(group);
        // Stage 1 work split: items are (plane, column); when they are fewer than the threads, `groups` threads
        // share an item and split its segments. A thread keeps the same items and segments in every strip, so it
        // accumulates its own segment-buffer slots across strips without synchronisation.
        int32_t const items = numPlanes * w;
        int32_t const groups = items >= kTHREADS ? 1 : kTHREADS / items;
        int32_t const firstItem = groups == 1 ? static_cast<int32_t>(threadIdx.x) : static_cast<int32_t>(threadIdx.x) % items;
        int32_t const firstSegment = groups == 1 ? 0 : static_cast<int32_t>(threadIdx.x) / items;
        int32_t nextShift = 0;
        int32_t segmentBegin = 0; // first segment that reaches into the current strip
        for (int32_t row0 = 0; row0 < h; row0 += static_cast<int32_t>(plan.rowsPerStrip))
        {
            int32_t const rows = h - row0 < plan.rowsPerStrip ? h - row0 : static_cast<int32_t>(plan.rowsPerStrip);
            int32_t const rowEnd = row0 + rows;
            if (plan.doubleBuffer)
            {
                // prefetch the next group into the other buffer, then wait for this group's copy only
                int64_t const next = group + gridDim.x;
                if (next < plan.numGroups)
                {
                    nextShift = issueTileCopy(tile(buffer ^ 1), input + next * plan.planesPerCta * g.h * g.w,
                        static_cast<int64_t>(groupPlanes(next)) * h * w);
                    __pipeline_wait_prior(1);
                }
                else
                {
                    __pipeline_wait_prior(0);
                }
            }
            else
            {
                // single buffer: the barrier after the previous stage 1 ended all reads of the tile
                shift = issueTileCopy(tile(0), input + (firstPlane * g.h + row0) * g.w,
                    static_cast<int64_t>(numPlanes) * rows * w);
                __pipeline_wait_prior(0);
            }
            __syncthreads(); // tile and tables visible; the previous group's stage 2 is done with the buffer
            while (segmentBegin < numSegments && segmentStart[segmentBegin + 1] <= row0)
            {
                ++segmentBegin;
            }
            T const* strip = tile(buffer) + shift;
            if (firstSegment < groups) // the kTHREADS % items leftover threads sit out
            {
                for (int32_t item = firstItem; item < items; item += (groups == 1 ? kTHREADS : items))
                {
                    int32_t const p = item / w;
                    int32_t const x = item - p * w;
                    T const* src = strip + (p * rows - row0) * w + x;  // src[y * w]: row y of this strip
                    Acc* slot = segmentBuffer + p * numSegments * w + x; // slot[s * w]: segment s
                    for (int32_t sg = segmentBegin + firstSegment; sg < numSegments; sg += groups)
                    {
                        int32_t const segStart = segmentStart[sg];
                        if (segStart >= rowEnd)
                        {
                            break;
                        }
                        int32_t const y0 = max(segStart, row0);
                        int32_t const y1 = min(segmentStart[sg + 1], rowEnd);
                        Acc acc = segStart < row0 ? slot[sg * w] : identity; // continues from the last strip
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
                        slot[sg * w] = acc;
                    }
                }
            }
            __syncthreads(); // stage 1 done: the segment buffer is complete and the tile may be overwritten
        }
        if (plan.doubleBuffer)
        {
            buffer ^= 1;
            shift = nextShift;
        }
        // Stage 2, across: (plane, bin) -> output. Consecutive threads write consecutive bins of a level.
        int64_t const n0 = firstPlane / g.c;
        int64_t const c0 = firstPlane - n0 * g.c;
        int32_t const outputs = numPlanes * g.sumL2;
        int32_t p = 0;
        int32_t b = threadIdx.x;
        for (int32_t item = threadIdx.x; item < outputs; item += kTHREADS)
        {
            while (b >= g.sumL2)
            {
                b -= g.sumL2;
                ++p;
            }
            BinEntry const e = binTable[b];
            T result = zeroValue<T>();
            if (e.divisor != 0)
            {
                int32_t const x0 = e.columns & 0xffff;
                int32_t const x1 = e.columns >> 16;
                int32_t const s1 = e.segments >> 16;
                Total acc = static_cast<Total>(identity);
                for (int32_t sg = e.segments & 0xffff; sg < s1; ++sg)
                {
                    Acc const* row = segmentBuffer + (p * numSegments + sg) * w;
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
                }
                result = finishBin<T, kMode>(acc, e.divisor);
            }
            int64_t n = n0;
            int64_t c = c0 + p;
            if (c >= g.c)
            {
                n += c / g.c;
                c %= g.c;
            }
            output[n * g.features + e.base + c * e.binCount] = result;
            b += kTHREADS;
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
        auto const kernel = sppStagedKernel<T, kMode>;
        if (plan.smemBytes > 48 * 1024)
        {
            cudaError_t const status = cudaFuncSetAttribute(
                kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int32_t>(plan.smemBytes));
            if (status != cudaSuccess)
            {
                return status;
            }
        }
        // A persistent grid: every CTA stays resident and walks groups, so the tables are built once per CTA and
        // (double-buffered) the next group's load overlaps this group's reduction.
        int32_t perSm = 0;
        cudaError_t const status = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, kernel, kTHREADS, plan.smemBytes);
        if (status != cudaSuccess)
        {
            return status;
        }
        int64_t const resident = static_cast<int64_t>(numSms) * (perSm > 0 ? perSm : 1);
        int64_t const grid = plan.numGroups < resident ? plan.numGroups : resident;
        kernel<<<static_cast<uint32_t>(grid), kTHREADS, plan.smemBytes, stream>>>(
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
    bool const knownAlgo
        = options.algo == Algo::kAUTO || options.algo == Algo::kSTAGED || options.algo == Algo::kDIRECT;
    if (!knownAlgo || !validate(desc).ok())
    {
        return cudaErrorInvalidValue; // an unsupported kSTAGED is refused by launch()
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
