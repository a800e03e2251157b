// SPP CUDA kernels and the launcher (spp/cuda.h). Six kernels; sppForward's kAUTO takes the first that fits:
//  - tasks (NCHW, small maps, inputs up to 2^21 elements for kAUTO; spp_tasks.cuh): G whole planes per CTA in shared
//    memory, pooled by a host-planned program of rectangle reductions (coarse levels from finer bins where the
//    windows nest); made for small, latency-bound calls.
//  - planes (NCHW, small maps): up to 32 whole planes per CTA staged transposed in shared memory ([pixel][plane]);
//    one thread per (bin, plane), lanes on consecutive planes of one bin.
//  - grid (NCHW, uniform pyramids: every level divides the largest, F, and F divides H and W): one warp per group of
//    planes, lanes on (row, 16-byte chunk) positions; each F x F cell is reduced in registers and shared memory of
//    the warp alone, and every level's bins are blocks of cells. No CTA-wide barrier.
//  - columns (NCHW): a persistent CTA takes a few planes at a time; each thread walks one column chunk of a plane
//    (16 bytes, or one element when the input or its rows are not 16-byte aligned) down the row segments (the
//    pieces the row windows of all levels cut [0, H) into) straight from global memory, and files one value per
//    (segment, column); then the staged kernel's stages 2a, 2b and 3 (below) make the bins. Every input byte is read
//    from DRAM once, with no shared-memory tile in between.
//  - staged (NCHW): a persistent CTA copies a contiguous run of input (several whole planes, or a strip of rows of
//    one large plane) into shared memory with cp.async, double-buffered where the device allows, then reduces it
//    separably: stage 1 reduces every column over the row segments, stage 2a those over the column segments, stage
//    2b combines segment blocks into bins, stage 3 stores each level's bins as one coalesced run.
//  - direct (any layout, any size): one thread per output bin reading its window from global memory; the fallback
//    for rows or tables too large for shared memory, and the NHWC path (channels across lanes, so loads coalesce).
// All use core/bins.h for the windows, like the CPU reference.
#include "spp/cuda.h"

#include "bulk_copy.cuh"
#include "core/bins.h"
#include "device_limits.h"
#include "device_traits.h"
#include "magic.h"
#include "spp_grid_butterfly.h"
#include "spp_tasks_plan.h"
#include "spp_tasks_program.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_pipeline.h>

#include <algorithm>
#include <cstring>
#include <cstdint>
#include <mutex>
#include <type_traits>

namespace spp
{
namespace
{

// Threads per CTA of every kernel here (a compile-time tuning knob, like the ones below).
#ifndef SPP_THREADS
#define SPP_THREADS 256
#endif
constexpr int32_t kTHREADS = SPP_THREADS;
//! Shared memory of a single-buffered staged CTA (stays under the 48 KiB that needs no opt-in).
constexpr int64_t kSTAGED_SMEM_BYTES = 46 * 1024;
//! Shared memory of a double-buffered staged CTA (opted in per launch when above 48 KiB).
constexpr int64_t kSTAGED_SMEM_MAX_BYTES = 100 * 1024;
//! Target bytes of input per staged CTA when several planes share one.
// Compile-time tuning knobs for experiments (scripts/device_tune.sh), not part of the API. TILE_KIB caps the input
// bytes of one staged group (planes per CTA are also capped by 256 / W and the 46 KiB single-buffer budget, so it
// rarely binds); MIN_BLOCKS is the __launch_bounds__ minimum-blocks hint, i.e. a register cap (65536 / (256 * n)),
// not a guaranteed occupancy: shared memory can allow fewer CTAs per SM.
#ifndef SPP_STAGED_TILE_KIB
#define SPP_STAGED_TILE_KIB 32
#endif
constexpr int64_t kSTAGED_TILE_TARGET = SPP_STAGED_TILE_KIB * 1024;
// Rows of one column chunk a columns-kernel thread should reduce per group (a tuning knob like the two above).
#ifndef SPP_COLUMNS_ROWS
#define SPP_COLUMNS_ROWS 16
#endif
// __launch_bounds__ minimum blocks of the columns kernel (a register cap: 65536 / (256 * n)).
#ifndef SPP_COLUMNS_MIN_BLOCKS
#define SPP_COLUMNS_MIN_BLOCKS 3
#endif
// __launch_bounds__ minimum blocks of the grid kernel (a register cap, as above).
#ifndef SPP_GRID_MIN_BLOCKS
#define SPP_GRID_MIN_BLOCKS 3
#endif
#ifndef SPP_STAGED_MIN_BLOCKS
#define SPP_STAGED_MIN_BLOCKS 6
#endif

struct Geometry
{
    int64_t n, c, h, w, cs; // cs: NHWC pixel stride in elements
    int64_t features;       // C * sum(L^2)
    int32_t numLevels;
    int32_t sumL;           // sum of L: windows per axis
    int32_t sumL2;          // sum of L^2
    BinRule rule;
    Layout layout;
    int32_t levels[kMAX_LEVELS];
};

using device::DeviceLimits;
using device::deviceLimits;
using device::currentDevice;

using device::combine;
using device::maxNaN;
using device::Traits;

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

// The level of bin `bin` of a plane's sum(L^2) bins (in output order); `bin` becomes its index inside the level.
__device__ __forceinline__ int32_t levelOfBin(Geometry const& g, int32_t& bin)
{
    int32_t l = 0;
    while (bin >= g.levels[l] * g.levels[l])
    {
        bin -= g.levels[l] * g.levels[l];
        ++l;
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
    int64_t rowsPerStrip; // R (== H in whole-plane mode)
    int64_t numGroups;    // groups of P planes; CTAs loop over them
    int64_t tileBytes;    // one tile buffer, with alignment slack
    int32_t rowSegments;  // S_r: pieces that the row windows of all levels cut [0, H) into
    int32_t colSegments;  // S_c: the same for the columns
    float rowSegmentsInverse; // 1 / S_r: stage 2a finds a block's plane by multiplying, not dividing
    int32_t gridStride;   // S_r * S_c rounded up to odd: lanes on consecutive planes hit distinct banks
    int32_t doubleBuffer; // whole-plane mode with room for two tiles: the next group loads during compute
    int64_t offSegments;  // byte offsets of the shared-memory regions (see stagedLayout)
    int64_t offGrid;
    int64_t offStaging;
    int64_t offTiles;
    size_t smemBytes;
};

// One output bin, precomputed per CTA: what it reduces and where it goes.
struct BinEntry
{
    int32_t rowSegments;  // first row segment | (last + 1) << 16
    int32_t colSegments;  // first column segment | (last + 1) << 16
    int32_t divisor;      // avg divisor; 0 marks an empty (caffe) window, whose bin is 0
    int32_t levelPrefix;  // sum of L'^2 over earlier levels
    int32_t binCount;     // L * L
    int32_t binInLevel;   // by * L + bx
    int32_t pad[2];
};

//! Most row windows (sum of L) the staged kernel takes: its segment tables are built in O(sumL^2) per CTA.
constexpr int32_t kSTAGED_MAX_SUM_L = 512;

// Number of segments along an axis: distinct endpoints of the non-empty windows of all levels, minus one.
int32_t countSegments(Geometry const& g, int64_t size)
{
    int64_t ends[2 * kSTAGED_MAX_SUM_L]; // callers check sumL <= kSTAGED_MAX_SUM_L; no heap on the launch path
    int32_t count = 0;
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        for (int32_t i = 0; i < g.levels[l] && count + 2 <= 2 * kSTAGED_MAX_SUM_L; ++i)
        {
            detail::Window const win = detail::binWindow(g.rule, i, size, g.levels[l]);
            if (win.end > win.start)
            {
                ends[count++] = win.start;
                ends[count++] = win.end;
            }
        }
    }
    std::sort(ends, ends + count);
    return static_cast<int32_t>(std::unique(ends, ends + count) - ends - 1);
}

int64_t align16(int64_t bytes)
{
    return (bytes + 15) / 16 * 16;
}

// Shared memory, in this order:
//   bin table      sumL2 BinEntry
//   int tables     16 sumL + S_r + S_c + 2 int32: windows, endpoints, first-occurrence flags, ranks, segment starts
//   segments       P * S_r * W Acc: stage 1, each column reduced over each row segment
//   grid           P * gridStride Total: stage 2a, each (row segment, column segment) block
//   staging        P * sumL2 T: stage 2b's bins in output order, for coalesced stores
//   tiles          one or two tile buffers of P * R * W T, plus alignment slack
template <typename T>
void stagedLayout(Geometry const& g, int64_t planes, int64_t rows, int32_t doubleBuffer, StagedPlan& plan)
{
    using Acc = typename Traits<T>::Acc;
    using Total = typename Traits<T>::Total;
    plan.gridStride = (plan.rowSegments * plan.colSegments) | 1;
    int64_t const tables = static_cast<int64_t>(g.sumL2) * static_cast<int64_t>(sizeof(BinEntry))
        + (16 * static_cast<int64_t>(g.sumL) + plan.rowSegments + plan.colSegments + 2) * 4;
    plan.offSegments = align16(tables);
    plan.offGrid = plan.offSegments + align16(planes * plan.rowSegments * g.w * static_cast<int64_t>(sizeof(Acc)));
    plan.offStaging = plan.offGrid + align16(planes * plan.gridStride * static_cast<int64_t>(sizeof(Total)));
    plan.offTiles = plan.offStaging + align16(planes * g.sumL2 * static_cast<int64_t>(sizeof(T)));
    // a tile keeps smem and global addresses equal modulo 16: up to 16 bytes of lead-in, 4 of word rounding
    plan.tileBytes = align16(planes * rows * g.w * static_cast<int64_t>(sizeof(T)) + 16 + 4);
    plan.doubleBuffer = doubleBuffer;
    plan.smemBytes = static_cast<size_t>(plan.offTiles + plan.tileBytes * (doubleBuffer ? 2 : 1));
}

// What the two segment kernels (staged, columns) share in planning: the shapes they take and the segment counts.
template <typename T>
bool planSegments(Geometry const& g, StagedPlan& plan)
{
    if (g.layout != Layout::kNCHW || g.sumL > kSTAGED_MAX_SUM_L || g.h * g.w > 0x7fffffffLL)
    {
        return false; // in-plane offsets and avg divisors are int32 here; larger planes go to the direct kernel
    }
    if (std::is_same<T, int8_t>::value && g.h > (int64_t{1} << 31) / 128)
    {
        return false; // int8 column-segment sums stay in int32 only while H * 127 does
    }
    plan.rowSegments = countSegments(g, g.h);
    plan.rowSegmentsInverse = 1.0F / static_cast<float>(plan.rowSegments);
    plan.colSegments = countSegments(g, g.w);
    return true;
}

template <typename T>
bool planStaged(Geometry const& g, DeviceLimits const& device, StagedPlan& plan)
{
    int32_t const numSms = device.sms;
    if (!planSegments<T>(g, plan))
    {
        return false;
    }
    int64_t const planes = g.n * g.c;
    int64_t const planeBytes = g.h * g.w * static_cast<int64_t>(sizeof(T));
    auto const bytes = [&](int64_t p, int64_t rows, int32_t doubleBuffer) {
        stagedLayout<T>(g, p, rows, doubleBuffer, plan);
        return static_cast<int64_t>(plan.smemBytes);
    };
    if (bytes(1, g.h, 0) <= kSTAGED_SMEM_BYTES)
    {
        // Whole planes. Enough planes per CTA that its (plane, column) items fill the threads, within the tile
        // target, but keep >= 2 groups per SM.
        int64_t p = kTHREADS / g.w;
        int64_t const fit = planeBytes >= kSTAGED_TILE_TARGET ? 1 : kSTAGED_TILE_TARGET / planeBytes;
        int64_t const spread = (planes + 2 * static_cast<int64_t>(numSms) - 1) / (2 * static_cast<int64_t>(numSms));
        p = p < fit ? p : fit;
        p = p < spread ? p : spread;
        p = p < 1 ? 1 : p;
        while (p > 1 && bytes(p, g.h, 0) > kSTAGED_SMEM_BYTES)
        {
            --p;
        }
        // Turing allows 64 KiB per block, Ampere and later 99-227 KiB: double-buffer only where the device allows it
        int64_t const maxBytes = device.smemOptin < kSTAGED_SMEM_MAX_BYTES ? device.smemOptin : kSTAGED_SMEM_MAX_BYTES;
        int32_t const doubleBuffer = bytes(p, g.h, 1) <= maxBytes ? 1 : 0;
        bytes(p, g.h, doubleBuffer);
        plan.planesPerCta = p;
        plan.rowsPerStrip = g.h;
    }
    else
    {
        // One plane per CTA, streamed in strips of rows.
        int64_t const fixed = bytes(1, 0, 0);
        if (fixed >= kSTAGED_SMEM_BYTES)
        {
            return false;
        }
        int64_t rows = (kSTAGED_SMEM_BYTES - fixed - 32) / (g.w * static_cast<int64_t>(sizeof(T)));
        if (rows < 1)
        {
            return false;
        }
        rows = rows < g.h ? rows : g.h;
        bytes(1, rows, 0);
        plan.planesPerCta = 1;
        plan.rowsPerStrip = rows;
    }
    plan.numGroups = (planes + plan.planesPerCta - 1) / plan.planesPerCta;
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

// (quotient, remainder) of a thread's item index by d, stepped by kTHREADS without dividing per item: the two
// divisions are paid once, when the walk is made (once per CTA for full groups).
struct Walk
{
    int32_t q, r, qStep, rStep, d;
};

__device__ __forceinline__ Walk makeWalk(int32_t start, int32_t d)
{
    return Walk{start / d, start % d, kTHREADS / d, kTHREADS % d, d};
}

__device__ __forceinline__ void step(Walk& walk)
{
    walk.q += walk.qStep;
    walk.r += walk.rStep;
    if (walk.r >= walk.d)
    {
        walk.r -= walk.d;
        ++walk.q;
    }
}

//! The sample of a plane (n of plane = n * C + c); a 32-bit division where the numbers allow (a 64-bit one is far
//! longer).
__device__ __forceinline__ int64_t sampleOf(Geometry const& g, int64_t plane)
{
    if (plane <= 0xffffffffLL && g.c <= 0xffffffffLL)
    {
        return static_cast<uint32_t>(plane) / static_cast<uint32_t>(g.c);
    }
    return plane / g.c;
}

// Stores a group's bins from `staging` (per level: [plane][bin]). In each level the group's planes are consecutive
// channels, so its bins are one contiguous run of the output; a group that crosses into the next sample takes the
// general path.
template <typename T>
__device__ __forceinline__ void storeStaging(
    Geometry const& g, T const* staging, int64_t firstPlane, int32_t numPlanes, T* __restrict__ output)
{
    int64_t const n0 = sampleOf(g, firstPlane); // (sample, channel) of the first plane
    int64_t const c0 = firstPlane - n0 * g.c;
    if (c0 + numPlanes <= g.c)
    {
        T* const sampleOut = output + n0 * g.features;
        int32_t prefix = 0;
        for (int32_t l = 0; l < g.numLevels; ++l)
        {
            int32_t const binCount = g.levels[l] * g.levels[l];
            int32_t const run = numPlanes * binCount;
            T* const dst = sampleOut + (g.c * prefix + c0 * binCount);
            T const* const src = staging + numPlanes * prefix;
            for (int32_t i = static_cast<int32_t>(threadIdx.x); i < run; i += kTHREADS)
            {
                dst[i] = src[i];
            }
            prefix += binCount;
        }
        return;
    }
    int32_t const outputs = numPlanes * g.sumL2;
    for (int32_t i = static_cast<int32_t>(threadIdx.x); i < outputs; i += kTHREADS)
    {
        int32_t l = 0;
        int32_t q = i;
        int32_t prefix = 0;
        while (q >= numPlanes * g.levels[l] * g.levels[l])
        {
            q -= numPlanes * g.levels[l] * g.levels[l];
            prefix += g.levels[l] * g.levels[l];
            ++l;
        }
        int32_t const binCount = g.levels[l] * g.levels[l];
        int32_t const p = q / binCount;
        int64_t n = n0;
        int64_t c = c0 + p;
        if (c >= g.c)
        {
            n += c / g.c;
            c %= g.c;
        }
        output[n * g.features + g.c * prefix + c * binCount + (q - p * binCount)] = staging[i];
    }
}

// Segment tables for both axes at once. endpoints[a][i] holds the ends of axis a's windows (kNONE when empty);
// rank(e) = number of distinct endpoints below e is the index of the segment that starts at e.
__device__ __forceinline__ void buildSegments(int32_t count, int32_t const* endpoints, int32_t* isFirst,
    int32_t* ranks, int32_t* rowSegmentStart, int32_t* colSegmentStart, int32_t none)
{
    for (int32_t t = threadIdx.x; t < 2 * count; t += kTHREADS)
    {
        int32_t const axis = t / count;
        int32_t const i = t - axis * count;
        int32_t const* ends = endpoints + axis * count;
        int32_t const e = ends[i];
        bool first = e != none;
        for (int32_t k = 0; k < i && first; ++k)
        {
            first = ends[k] != e;
        }
        isFirst[t] = first ? 1 : 0;
    }
    __syncthreads();
    for (int32_t t = threadIdx.x; t < 2 * count; t += kTHREADS)
    {
        int32_t const axis = t / count;
        int32_t const i = t - axis * count;
        int32_t const* ends = endpoints + axis * count;
        int32_t const* firsts = isFirst + axis * count;
        int32_t const e = ends[i];
        int32_t rank = 0;
        for (int32_t k = 0; k < count; ++k)
        {
            rank += (firsts[k] != 0 && ends[k] < e) ? 1 : 0;
        }
        ranks[t] = e == none ? 0 : rank;
        if (firsts[i] != 0)
        {
            (axis == 0 ? rowSegmentStart : colSegmentStart)[rank] = e;
        }
    }
    __syncthreads();
}

// Shared-memory tables of the two segment kernels (staged, columns), at the start of stagedLayout's shared memory.
struct SegmentTables
{
    BinEntry* binTable;       // [sumL2]
    int32_t* rowSegmentStart; // [S_r + 1]
    int32_t* colSegmentStart; // [S_c + 1]
};

__device__ __forceinline__ SegmentTables segmentTables(Geometry const& g, int32_t rowSegments, char* smem)
{
    auto* binTable = reinterpret_cast<BinEntry*>(smem);
    int32_t* rowSegmentStart = reinterpret_cast<int32_t*>(binTable + g.sumL2) + 16 * g.sumL; // after the scratch
    return SegmentTables{binTable, rowSegmentStart, rowSegmentStart + rowSegments + 1};
}

// Builds the tables once per CTA: windows of every level, the segments their endpoints cut each axis into, and per
// bin the segment ranges it covers. Ends with the bin table written but not yet synchronised: callers put a barrier
// before reading it (they all have one before stage 2).
__device__ __forceinline__ void buildTables(Geometry const& g, int32_t rowSegments, char* smem)
{
    constexpr int32_t kNONE = 0x7fffffff;
    int32_t const sumL = g.sumL;
    SegmentTables const t = segmentTables(g, rowSegments, smem);
    BinEntry* const binTable = t.binTable;
    auto* rowWin = reinterpret_cast<int32_t*>(binTable + g.sumL2); // [sumL][2]
    int32_t* colWin = rowWin + 2 * sumL;                           // [sumL][2]
    int32_t* endpoints = colWin + 2 * sumL;                        // [2][2 sumL]: rows, then columns
    int32_t* isFirst = endpoints + 4 * sumL;                       // [2][2 sumL]
    int32_t* ranks = isFirst + 4 * sumL;                           // [2][2 sumL]
    for (int32_t j = threadIdx.x; j < sumL; j += kTHREADS)
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
        bool const emptyRow = wh.end <= wh.start;
        bool const emptyCol = ww.end <= ww.start;
        endpoints[2 * j] = emptyRow ? kNONE : static_cast<int32_t>(wh.start);
        endpoints[2 * j + 1] = emptyRow ? kNONE : static_cast<int32_t>(wh.end);
        endpoints[2 * sumL + 2 * j] = emptyCol ? kNONE : static_cast<int32_t>(ww.start);
        endpoints[2 * sumL + 2 * j + 1] = emptyCol ? kNONE : static_cast<int32_t>(ww.end);
    }
    __syncthreads();
    buildSegments(2 * sumL, endpoints, isFirst, ranks, t.rowSegmentStart, t.colSegmentStart, kNONE);
    for (int32_t b = threadIdx.x; b < g.sumL2; b += kTHREADS)
    {
        int32_t l = 0;
        int32_t bin = b;
        int32_t windowBase = 0;
        while (bin >= g.levels[l] * g.levels[l])
        {
            bin -= g.levels[l] * g.levels[l];
            windowBase += g.levels[l];
            ++l;
        }
        int32_t const level = g.levels[l];
        int32_t const jy = windowBase + bin / level;
        int32_t const jx = windowBase + bin % level;
        detail::Window const wh{rowWin[2 * jy], rowWin[2 * jy + 1]};
        detail::Window const ww{colWin[2 * jx], colWin[2 * jx + 1]};
        BinEntry e{};
        e.rowSegments = ranks[2 * jy] | (ranks[2 * jy + 1] << 16);
        e.colSegments = ranks[2 * sumL + 2 * jx] | (ranks[2 * sumL + 2 * jx + 1] << 16); // column axis: second half
        bool const empty = wh.end <= wh.start || ww.end <= ww.start;
        e.divisor = empty ? 0
                          : static_cast<int32_t>(detail::avgDivisor(g.rule, wh, g.h, level)
                              * detail::avgDivisor(g.rule, ww, g.w, level));
        e.levelPrefix = b - bin;
        e.binCount = level * level;
        e.binInLevel = bin;
        binTable[b] = e;
    }
}

// Stages 2a, 2b and 3 of a group, from the segment buffer ([plane][row segment][column], every column reduced over
// every row segment) to the output. Starts after a barrier that made the segment buffer and the tables visible;
// ends with a barrier-free store, so the next group may rewrite the segment buffer (stage 2b's barrier ended its
// reads) but must pass a barrier before writing the staging buffer again (both kernels' stage 1 ends with one).
template <typename T, PoolMode kMode>
__device__ __forceinline__ void reduceGroup(Geometry const& g, StagedPlan const& plan,
    typename Traits<T>::Acc const* segmentBuffer, typename Traits<T>::Total* grid, T* staging, char* smem,
    int64_t firstPlane, int32_t numPlanes, Walk rc, Walk bp, T* __restrict__ output)
{
    using Acc = typename Traits<T>::Acc;
    using Total = typename Traits<T>::Total;
    int32_t const rowSegments = plan.rowSegments;
    int32_t const colSegments = plan.colSegments;
    int32_t const w = static_cast<int32_t>(g.w);
    SegmentTables const t = segmentTables(g, rowSegments, smem);
    BinEntry const* binTable = t.binTable;
    int32_t const* colSegmentStart = t.colSegmentStart;
    Acc const identity = kMode == PoolMode::kMAX ? Traits<T>::lowest() : Acc(0);
    // Stage 2a, across: (plane, row segment, column segment) blocks.
    int32_t const blocks = numPlanes * rowSegments * colSegments;
    // rc walks (plane * S_r + row segment, column segment). prs < P * S_r, which the segment buffer's shared memory
    // keeps far below 2^22, where (prs + 0.5) / S_r in float floors to the exact quotient.
    for (int32_t item = static_cast<int32_t>(threadIdx.x); item < blocks; item += kTHREADS, step(rc))
    {
        int32_t const prs = rc.q;
        int32_t const sc = rc.r;
        auto const p = static_cast<int32_t>((static_cast<float>(prs) + 0.5F) * plan.rowSegmentsInverse);
        Acc const* row = segmentBuffer + prs * w;
        int32_t const x1 = colSegmentStart[sc + 1];
        Total acc = static_cast<Total>(identity);
        for (int32_t x = colSegmentStart[sc]; x < x1; ++x)
        {
            combine<Total, kMode>(acc, static_cast<Total>(row[x]));
        }
        grid[p * plan.gridStride + (prs - p * rowSegments) * colSegments + sc] = acc;
    }
    __syncthreads();
    // Stage 2b: bins from blocks. Lanes take consecutive planes of one bin: equal trip counts, and the odd grid
    // stride keeps their reads in distinct banks.
    int32_t const outputs = numPlanes * g.sumL2;
    // bp walks (bin, plane)
    for (int32_t item = static_cast<int32_t>(threadIdx.x); item < outputs; item += kTHREADS, step(bp))
    {
        int32_t const b = bp.q;
        int32_t const p = bp.r;
        BinEntry const e = binTable[b];
        T result = zeroValue<T>();
        if (e.divisor != 0)
        {
            Total const* planeGrid = grid + p * plan.gridStride;
            int32_t const r1 = e.rowSegments >> 16;
            int32_t const c0 = e.colSegments & 0xffff;
            int32_t const c1 = e.colSegments >> 16;
            Total acc = static_cast<Total>(identity);
            for (int32_t r = e.rowSegments & 0xffff; r < r1; ++r)
            {
                for (int32_t c = c0; c < c1; ++c)
                {
                    combine<Total, kMode>(acc, planeGrid[r * colSegments + c]);
                }
            }
            result = finishBin<T, kMode>(acc, e.divisor);
        }
        staging[numPlanes * e.levelPrefix + p * e.binCount + e.binInLevel] = result;
    }
    __syncthreads();
    storeStaging(g, staging, firstPlane, numPlanes, output);
}

template <typename T, PoolMode kMode>
__global__ void __launch_bounds__(kTHREADS, SPP_STAGED_MIN_BLOCKS) sppStagedKernel(Geometry g, StagedPlan plan, T const* __restrict__ input,
    T* __restrict__ output)
{
    using Acc = typename Traits<T>::Acc;
    using Total = typename Traits<T>::Total;
    extern __shared__ int4 smemRaw[];
    char* const smem = reinterpret_cast<char*>(smemRaw);
    int32_t const rowSegments = plan.rowSegments;
    int32_t const* rowSegmentStart = segmentTables(g, rowSegments, smem).rowSegmentStart;
    auto* segmentBuffer = reinterpret_cast<Acc*>(smem + plan.offSegments);
    auto* grid = reinterpret_cast<Total*>(smem + plan.offGrid);
    auto* staging = reinterpret_cast<T*>(smem + plan.offStaging);
    char* const tiles = smem + plan.offTiles;
    int32_t const w = static_cast<int32_t>(g.w);
    int32_t const h = static_cast<int32_t>(g.h);
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

    buildTables(g, rowSegments, smem);

    Acc const identity = kMode == PoolMode::kMAX ? Traits<T>::lowest() : Acc(0);
    int32_t buffer = 0;
    // per-thread walks for full groups (only a ragged last group recomputes them)
    int32_t const fullItems = static_cast<int32_t>(plan.planesPerCta) * w;
    Walk const fullItemStart = makeWalk(fullItems >= kTHREADS ? threadIdx.x : threadIdx.x % fullItems, w);
    Walk const fullBinStart = makeWalk(threadIdx.x, static_cast<int32_t>(plan.planesPerCta));
    Walk const cellStart = makeWalk(threadIdx.x, plan.colSegments);
    for (; group < plan.numGroups; group += gridDim.x)
    {
        int64_t const firstPlane = group * plan.planesPerCta;
        int32_t const numPlanes = groupPlanes(group);
        // Stage 1, down the columns: (plane, column) items, each reduced over every row segment. When items are
        // fewer than threads, `groups` threads share an item and split its segments. A thread keeps the same items
        // and segments in every strip, so it accumulates its own slots across strips without synchronisation.
        bool const full = numPlanes == plan.planesPerCta;
        int32_t const items = numPlanes * w;
        int32_t const groups = items >= kTHREADS ? 1 : kTHREADS / items;
        Walk const itemStart = full ? fullItemStart : makeWalk(groups == 1 ? threadIdx.x : threadIdx.x % items, w);
        // (threads past groups * items sit out: with groups == 1 and items < threads they would otherwise repeat
        // an item, and in strip mode two threads continuing the same avg slot would count a strip twice)
        int32_t const firstSegment = items >= kTHREADS ? 0 : static_cast<int32_t>(threadIdx.x) / items;
        int32_t nextShift = 0;
        int32_t segmentBegin = 0; // first row segment that reaches into the current strip
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
            __syncthreads(); // tile and tables visible; the previous group is done with the segment buffer
            while (segmentBegin < rowSegments && rowSegmentStart[segmentBegin + 1] <= row0)
            {
                ++segmentBegin;
            }
            T const* strip = tile(buffer) + shift;
            if (firstSegment < groups) // the kTHREADS % items leftover threads sit out
            {
                // with groups > 1 every thread has exactly one item; otherwise walk (plane, column) by kTHREADS
                Walk px = itemStart;
                for (int32_t item = px.q * w + px.r; item < items; item += kTHREADS, step(px))
                {
                    int32_t const p = px.q;
                    int32_t const x = px.r;
                    T const* src = strip + (p * rows - row0) * w + x;    // src[y * w]: row y of this strip
                    Acc* slot = segmentBuffer + p * rowSegments * w + x; // slot[s * w]: row segment s
                    for (int32_t sg = segmentBegin + firstSegment; sg < rowSegments; sg += groups)
                    {
                        int32_t const segStart = rowSegmentStart[sg];
                        if (segStart >= rowEnd)
                        {
                            break;
                        }
                        int32_t const y1 = min(rowSegmentStart[sg + 1], rowEnd);
                        Acc acc = segStart < row0 ? slot[sg * w] : identity; // continues from the last strip
                        for (int32_t y = max(segStart, row0); y < y1; ++y)
                        {
                            combine<Acc, kMode>(acc, Traits<T>::load(src[y * w]));
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
        reduceGroup<T, kMode>(g, plan, segmentBuffer, grid, staging, smem, firstPlane, numPlanes, cellStart,
            full ? fullBinStart : makeWalk(threadIdx.x, numPlanes), output);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Columns kernel (NCHW): the staged kernel's segment reduction without the shared-memory tile. Stage 1 reads the
// input straight from global memory: a thread walks one column chunk of a plane (16 bytes when rows are 16-byte
// aligned, else one element) down every row segment, so lanes read consecutive chunks of one row (coalesced), a
// thread keeps several independent loads in flight, and each element costs one load share and one combine. Stage 2
// (shared with the staged kernel) turns the per-segment column values into bins.

//! Shared memory of a columns CTA: small enough for several CTAs per SM (no tile to hold).
constexpr int64_t kCOLUMNS_SMEM_BYTES = 40 * 1024;

//! Elements of T in one 16-byte chunk.
template <typename T>
constexpr int32_t kVECTOR_ELEMENTS = static_cast<int32_t>(16 / sizeof(T));

template <typename T>
bool planColumns(Geometry const& g, DeviceLimits const& device, bool vector, StagedPlan& plan)
{
    if (!planSegments<T>(g, plan))
    {
        return false;
    }
    int64_t const planes = g.n * g.c;
    int64_t const chunks = vector ? g.w / kVECTOR_ELEMENTS<T> : g.w;
    // Planes per CTA: about SPP_COLUMNS_ROWS rows per thread (the threads of a column chunk split its row
    // segments), so groups are small and many (a persistent CTA balances well, and the loads of the next group
    // overlap the current one's stage 2); at least six groups per SM where there are planes for that. Within the
    // shared-memory budget.
    int64_t const perPlane = chunks * g.h;
    int64_t p = (kTHREADS * int64_t{SPP_COLUMNS_ROWS} + perPlane - 1) / perPlane;
    int64_t const rowFill = chunks >= kTHREADS ? 1 : kTHREADS / chunks;
    p = p < rowFill ? p : rowFill;
    int64_t const spread = planes / (6 * static_cast<int64_t>(device.sms));
    p = p < spread ? p : spread;
    p = p < 1 ? 1 : p;
    stagedLayout<T>(g, p, 0, 0, plan);
    while (p > 1 && static_cast<int64_t>(plan.smemBytes) > kCOLUMNS_SMEM_BYTES)
    {
        stagedLayout<T>(g, --p, 0, 0, plan);
    }
    if (static_cast<int64_t>(plan.smemBytes) > kCOLUMNS_SMEM_BYTES)
    {
        return false;
    }
    plan.planesPerCta = p;
    plan.rowsPerStrip = g.h;
    plan.numGroups = (planes + p - 1) / p;
    return true;
}

// Files four consecutive segment values with one 16-byte shared-memory store (dst 16-byte aligned): lanes on
// consecutive chunks then write without bank conflicts, where four 4-byte stores would conflict four ways.
__device__ __forceinline__ void fileFour(float* dst, float a, float b, float c, float d)
{
    *reinterpret_cast<float4*>(dst) = make_float4(a, b, c, d);
}

__device__ __forceinline__ void fileFour(int32_t* dst, int32_t a, int32_t b, int32_t c, int32_t d)
{
    *reinterpret_cast<int4*>(dst) = make_int4(a, b, c, d);
}

// The running reduction of one column chunk (kV elements: one element, or 16 bytes) over a row segment.
template <typename T, PoolMode kMode, int32_t kV>
struct ChunkAcc
{
    using Acc = typename Traits<T>::Acc;
    Acc v[kV];

    __device__ __forceinline__ void reset(Acc identity)
    {
#pragma unroll
        for (int32_t j = 0; j < kV; ++j)
        {
            v[j] = identity;
        }
    }

    template <typename Chunk>
    __device__ __forceinline__ void add(Chunk const& chunk)
    {
        T values[kV];
        memcpy(values, &chunk, sizeof(values));
#pragma unroll
        for (int32_t j = 0; j < kV; ++j)
        {
            combine<Acc, kMode>(v[j], Traits<T>::load(values[j]));
        }
    }

    //! The chunk's kV values reduced to one (the grid kernel's chunks lie inside one cell).
    __device__ __forceinline__ Acc reduce() const
    {
        Acc r = v[0];
#pragma unroll
        for (int32_t j = 1; j < kV; ++j)
        {
            combine<Acc, kMode>(r, v[j]);
        }
        return r;
    }

    __device__ __forceinline__ void file(Acc* slot) const
    {
        if constexpr (kV % 4 == 0) // 16-byte chunks: slot is 16-byte aligned (whole-chunk rows, aligned buffer)
        {
#pragma unroll
            for (int32_t j = 0; j < kV; j += 4)
            {
                fileFour(slot + j, v[j], v[j + 1], v[j + 2], v[j + 3]);
            }
        }
        else
        {
#pragma unroll
            for (int32_t j = 0; j < kV; ++j)
            {
                slot[j] = v[j];
            }
        }
    }
};

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
// Max of 16-byte fp16 / bf16 chunks stays packed: one max.NaN per element pair (exact: the max of two halves is one
// of them), widened to float only when a segment is filed. Ampere and later; older GPUs take the generic path.
template <typename T, typename T2>
struct PackedMaxAcc
{
    static constexpr int32_t kPAIRS = 4;
    T2 v[kPAIRS];

    __device__ __forceinline__ void reset(float identity)
    {
        T2 const start = {T(identity), T(identity)};
#pragma unroll
        for (int32_t j = 0; j < kPAIRS; ++j)
        {
            v[j] = start;
        }
    }

    __device__ __forceinline__ void add(int4 const& chunk)
    {
        T2 pairs[kPAIRS];
        memcpy(pairs, &chunk, sizeof(pairs));
#pragma unroll
        for (int32_t j = 0; j < kPAIRS; ++j)
        {
            v[j] = __hmax2_nan(v[j], pairs[j]);
        }
    }

    __device__ __forceinline__ float reduce() const
    {
        T2 const m = __hmax2_nan(__hmax2_nan(v[0], v[1]), __hmax2_nan(v[2], v[3]));
        return maxNaN(static_cast<float>(m.x), static_cast<float>(m.y));
    }

    __device__ __forceinline__ void file(float* slot) const
    {
#pragma unroll
        for (int32_t j = 0; j < kPAIRS; j += 2)
        {
            fileFour(slot + 2 * j, static_cast<float>(v[j].x), static_cast<float>(v[j].y),
                static_cast<float>(v[j + 1].x), static_cast<float>(v[j + 1].y));
        }
    }
};

template <>
struct ChunkAcc<__half, PoolMode::kMAX, 8> : PackedMaxAcc<__half, __half2>
{
};

template <>
struct ChunkAcc<__nv_bfloat16, PoolMode::kMAX, 8> : PackedMaxAcc<__nv_bfloat16, __nv_bfloat162>
{
};
#endif

//! Rows a columns thread loads at once (independent loads in flight per thread).
constexpr int32_t kCOLUMN_BATCH = 8;

//! One 16-byte chunk, or one element.
template <typename T, int32_t kV>
using ColumnChunk = typename std::conditional<kV == 1, T, int4>::type;

// Loads rows [y0, min(y0 + kCOLUMN_BATCH, yEnd)) of a column chunk (src[y * w]), stepping a 32-bit offset by rows.
template <typename T, int32_t kV>
__device__ __forceinline__ void loadBatch(
    ColumnChunk<T, kV> (&chunk)[kCOLUMN_BATCH], T const* src, int32_t w, int32_t y0, int32_t yEnd)
{
    using Chunk = ColumnChunk<T, kV>;
    auto const* column = reinterpret_cast<Chunk const*>(src);
    // in-plane offsets fit in int32 (planSegments); unsigned, so stepping past the last row cannot overflow
    auto const step = static_cast<uint32_t>(w / kV); // rows are whole chunks (kV == 1, or 16-byte rows)
    uint32_t at = static_cast<uint32_t>(y0) * step;
#pragma unroll
    for (int32_t k = 0; k < kCOLUMN_BATCH; ++k)
    {
        if (y0 + k < yEnd)
        {
            chunk[k] = __ldg(column + at);
        }
        at += step;
    }
}

// A thread's stage-1 work in one group: (plane, chunk) items from `start`, rows [yBegin, yEnd) = row segments from
// `segmentBegin` on. When items are fewer than threads, `groups` threads share an item, each taking a contiguous
// run of its row segments; the leftover threads have none (active false).
struct ColumnWork
{
    Walk start;
    int32_t items, segmentBegin, yBegin, yEnd;
    bool active;
};

__device__ __forceinline__ ColumnWork columnWork(int32_t numPlanes, int32_t chunks, int32_t rowSegments,
    int32_t const* rowSegmentStart, Walk const* fullStart)
{
    ColumnWork work{};
    work.items = numPlanes * chunks;
    int32_t groups = work.items >= kTHREADS ? 1 : kTHREADS / work.items;
    groups = groups < rowSegments ? groups : rowSegments;
    // a thread's part of its item's row segments; >= groups: no work (with groups == 1 only items >= threads)
    int32_t const part = static_cast<int32_t>(threadIdx.x) / work.items;
    work.start = fullStart != nullptr
        ? *fullStart
        : makeWalk(work.items >= kTHREADS ? threadIdx.x : threadIdx.x % work.items, chunks);
    work.active = (work.items >= kTHREADS || part < groups) && work.start.q * chunks + work.start.r < work.items;
    if (work.active) // (an idle thread's part would index past the segment table)
    {
        work.segmentBegin = part * rowSegments / groups;
        work.yBegin = rowSegmentStart[work.segmentBegin];
        work.yEnd = rowSegmentStart[(part + 1) * rowSegments / groups];
    }
    return work;
}

// Stage 1 of one (plane, chunk) item: reduces rows [work.yBegin, work.yEnd) of the chunk at src (src[y * w]: row y)
// over their row segments, filing one value per (segment, column) at slot[s * w]. With `prefetched`, `batch`
// already holds the first batch of rows. A batch inside one segment takes a path without per-row checks.
template <typename T, PoolMode kMode, int32_t kV>
__device__ __forceinline__ void reduceItem(ColumnChunk<T, kV> (&batch)[kCOLUMN_BATCH], bool prefetched, T const* src,
    int32_t w, ColumnWork const& work, int32_t const* rowSegmentStart, typename Traits<T>::Acc* slot,
    typename Traits<T>::Acc identity)
{
    using Chunk = ColumnChunk<T, kV>;
    ChunkAcc<T, kMode, kV> acc;
    acc.reset(identity);
    int32_t segment = work.segmentBegin;
    int32_t segmentEnd = rowSegmentStart[segment + 1];
    bool first = prefetched;
    for (int32_t y0 = work.yBegin; y0 < work.yEnd; y0 += kCOLUMN_BATCH)
    {
        Chunk (&chunk)[kCOLUMN_BATCH] = batch;
        if (!first)
        {
            loadBatch<T, kV>(chunk, src, w, y0, work.yEnd);
        }
        first = false;
        if (y0 + kCOLUMN_BATCH <= segmentEnd)
        {
            // the whole batch lies in the current segment (and so before yEnd, a segment end)
#pragma unroll
            for (int32_t k = 0; k < kCOLUMN_BATCH; ++k)
            {
                acc.add(chunk[k]);
            }
            if (y0 + kCOLUMN_BATCH == segmentEnd)
            {
                acc.file(slot + segment * w);
                acc.reset(identity);
                ++segment;
                segmentEnd = segmentEnd < work.yEnd ? rowSegmentStart[segment + 1] : segmentEnd;
            }
            continue;
        }
#pragma unroll
        for (int32_t k = 0; k < kCOLUMN_BATCH; ++k)
        {
            if (y0 + k < work.yEnd)
            {
                acc.add(chunk[k]);
                if (y0 + k + 1 == segmentEnd) // the segment is complete: file it, start the next
                {
                    acc.file(slot + segment * w);
                    acc.reset(identity);
                    ++segment;
                    segmentEnd = y0 + k + 1 < work.yEnd ? rowSegmentStart[segment + 1] : segmentEnd;
                }
            }
        }
    }
}

template <typename T, PoolMode kMode, bool kVector>
__global__ void __launch_bounds__(kTHREADS, SPP_COLUMNS_MIN_BLOCKS)
    sppColumnsKernel(Geometry g, StagedPlan plan, T const* __restrict__ input, T* __restrict__ output)
{
    using Acc = typename Traits<T>::Acc;
    using Total = typename Traits<T>::Total;
    constexpr int32_t kV = kVector ? kVECTOR_ELEMENTS<T> : 1;
    using Chunk = ColumnChunk<T, kV>;
    extern __shared__ int4 smemRaw[];
    char* const smem = reinterpret_cast<char*>(smemRaw);
    int32_t const rowSegments = plan.rowSegments;
    int32_t const* rowSegmentStart = segmentTables(g, rowSegments, smem).rowSegmentStart;
    auto* segmentBuffer = reinterpret_cast<Acc*>(smem + plan.offSegments);
    auto* grid = reinterpret_cast<Total*>(smem + plan.offGrid);
    auto* staging = reinterpret_cast<T*>(smem + plan.offStaging);
    int32_t const w = static_cast<int32_t>(g.w);
    int32_t const chunks = w / kV;
    int64_t const planeElements = g.h * g.w;
    int64_t const planes = g.n * g.c;
    int32_t const planesPerCta = static_cast<int32_t>(plan.planesPerCta);
    auto const groupPlanes = [&](int64_t grp) {
        return static_cast<int32_t>(
            planes - grp * planesPerCta < planesPerCta ? planes - grp * planesPerCta : planesPerCta);
    };
    // the first element of a thread's first item in a group
    auto const firstSource = [&](int64_t grp, ColumnWork const& work) {
        return input + (grp * planesPerCta + work.start.q) * planeElements + work.start.r * kV;
    };

    buildTables(g, rowSegments, smem); // its segment starts are visible on return (barrier inside)

    Acc const identity = kMode == PoolMode::kMAX ? Traits<T>::lowest() : Acc(0);
    int32_t const rank = static_cast<int32_t>(threadIdx.x);
    int32_t const fullItems = planesPerCta * chunks;
    Walk const fullItemStart = makeWalk(fullItems >= kTHREADS ? rank : rank % fullItems, chunks);
    Walk const fullBinStart = makeWalk(rank, planesPerCta);
    Walk const cellStart = makeWalk(rank, plan.colSegments);
    ColumnWork const fullWork
        = columnWork(planesPerCta, chunks, rowSegments, rowSegmentStart, &fullItemStart);
    auto const workOf = [&](int32_t numPlanes) {
        return numPlanes == planesPerCta
            ? fullWork
            : columnWork(numPlanes, chunks, rowSegments, rowSegmentStart, nullptr);
    };

    // The first batch of rows of a thread's next group is loaded before the current group's stage 2, so the loads
    // are in flight while the CTA reduces and stores (register double buffering across groups).
    Chunk batch[kCOLUMN_BATCH];
    int64_t group = blockIdx.x;
    if (group < plan.numGroups)
    {
        ColumnWork const work = workOf(groupPlanes(group));
        if (work.active)
        {
            loadBatch<T, kV>(batch, firstSource(group, work), w, work.yBegin, work.yEnd);
        }
    }
    for (; group < plan.numGroups; group += gridDim.x)
    {
        int64_t const firstPlane = group * planesPerCta;
        int32_t const numPlanes = groupPlanes(group);
        ColumnWork const work = workOf(numPlanes);
        if (work.active)
        {
            Walk px = work.start;
            bool first = true;
            for (int32_t item = px.q * chunks + px.r; item < work.items; item += kTHREADS, step(px))
            {
                T const* src = input + (firstPlane + px.q) * planeElements + px.r * kV; // src[y * w]: row y
                Acc* slot = segmentBuffer + px.q * rowSegments * w + px.r * kV;        // slot[s * w]: segment s
                reduceItem<T, kMode, kV>(batch, first, src, w, work, rowSegmentStart, slot, identity);
                first = false;
            }
        }
        __syncthreads(); // stage 1 done (and the bin table visible)
        int64_t const next = group + gridDim.x;
        if (next < plan.numGroups)
        {
            ColumnWork const nextWork = workOf(groupPlanes(next));
            if (nextWork.active)
            {
                loadBatch<T, kV>(batch, firstSource(next, nextWork), w, nextWork.yBegin, nextWork.yEnd);
            }
        }
        reduceGroup<T, kMode>(g, plan, segmentBuffer, grid, staging, smem, firstPlane, numPlanes, cellStart,
            numPlanes == planesPerCta ? fullBinStart : makeWalk(rank, numPlanes), output);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Planes kernel (NCHW, small maps): a CTA stages P whole planes transposed ([pixel][plane], plane stride odd) and
// each thread reduces one bin of one plane straight from shared memory. Lanes take consecutive planes of the same
// bin: the warp's trip counts are equal, reads hit consecutive banks, and no index arithmetic is repeated per
// plane. Every element is read once from DRAM and L times from shared memory.
struct PlanesPlan
{
    int64_t planesPerCta; // P <= 32
    int64_t numGroups;
    int32_t laneStride;   // P rounded up to odd
    int32_t offTile;      // byte offsets in shared memory
    int32_t offStaging;
    size_t smemBytes;
};

struct WindowBin
{
    int32_t rows;        // y0 | y1 << 16
    int32_t cols;        // x0 | x1 << 16
    int32_t divisor;     // avg divisor; 0: empty window, bin is 0
    int32_t levelPrefix; // sum of L'^2 over earlier levels
    int32_t binCount;    // L * L
    int32_t binInLevel;  // by * L + bx
    int32_t pad[2];
};

constexpr int64_t kPLANES_MIN_PLANES = 16;

template <typename T>
bool planPlanes(Geometry const& g, DeviceLimits const& device, PlanesPlan& plan)
{
    int32_t const numSms = device.sms;
    using Acc = typename Traits<T>::Acc;
    if (g.layout != Layout::kNCHW || g.h > 0xffff || g.w > 0xffff)
    {
        return false;
    }
    int64_t const planes = g.n * g.c;
    if (planes == 0)
    {
        return true; // nothing to launch (sppForward returns before planning); any plan is valid
    }
    int64_t const pixels = g.h * g.w;
    int64_t const fixed = align16(static_cast<int64_t>(g.sumL2) * static_cast<int64_t>(sizeof(WindowBin)));
    auto const bytes = [&](int64_t p) {
        int64_t const tile = align16(pixels * (p | 1) * static_cast<int64_t>(sizeof(Acc)));
        return fixed + tile + align16(p * g.sumL2 * static_cast<int64_t>(sizeof(T)));
    };
    // 16 to 32 planes (lanes of a warp then share at most two bins), as few as keep >= 4 CTAs per SM busy: a CTA's
    // critical path grows with its planes (ncu, 13x13 on an H200: 32 planes/CTA = 256 CTAs at 24 % warp occupancy,
    // latency-bound), within the single-buffer budget; and enough groups to give every SM work.
    int64_t p = (planes + 4 * static_cast<int64_t>(numSms) - 1) / (4 * static_cast<int64_t>(numSms));
    p = p < kPLANES_MIN_PLANES ? kPLANES_MIN_PLANES : (p > 32 ? 32 : p);
    p = p < planes ? p : planes;
    while (p > kPLANES_MIN_PLANES && bytes(p) > kSTAGED_SMEM_BYTES)
    {
        --p;
    }
    if (bytes(p) > kSTAGED_SMEM_BYTES || (p < kPLANES_MIN_PLANES && p < planes))
    {
        return false;
    }
    if (planes > p && (planes + p - 1) / p < numSms)
    {
        // fewer groups than SMs: split planes more thinly, as long as lanes stay mostly on one bin
        int64_t const thinner = (planes + numSms - 1) / numSms;
        if (thinner < kPLANES_MIN_PLANES)
        {
            return false; // the staged kernel spreads such shapes better
        }
        p = thinner;
    }
    plan.planesPerCta = p;
    plan.numGroups = (planes + p - 1) / p;
    plan.laneStride = static_cast<int32_t>(p | 1);
    plan.offTile = static_cast<int32_t>(fixed);
    plan.offStaging = static_cast<int32_t>(fixed + align16(pixels * (p | 1) * static_cast<int64_t>(sizeof(Acc))));
    plan.smemBytes = static_cast<size_t>(bytes(p));
    return true;
}

template <typename T, PoolMode kMode>
__global__ void __launch_bounds__(kTHREADS) sppPlanesKernel(Geometry g, PlanesPlan plan, T const* __restrict__ input,
    T* __restrict__ output)
{
    using Acc = typename Traits<T>::Acc;
    using Total = typename Traits<T>::Total;
    extern __shared__ int4 smemRaw[];
    char* const smem = reinterpret_cast<char*>(smemRaw);
    auto* bins = reinterpret_cast<WindowBin*>(smem);
    auto* tile = reinterpret_cast<Acc*>(smem + plan.offTile);
    auto* staging = reinterpret_cast<T*>(smem + plan.offStaging);
    int32_t const w = static_cast<int32_t>(g.w);
    int32_t const pixels = static_cast<int32_t>(g.h * g.w);
    int32_t const laneStride = plan.laneStride;
    int64_t const planes = g.n * g.c;

    for (int32_t b = threadIdx.x; b < g.sumL2; b += kTHREADS)
    {
        int32_t bin = b;
        int32_t const level = g.levels[levelOfBin(g, bin)];
        detail::Window const wh = detail::binWindow(g.rule, bin / level, g.h, level);
        detail::Window const ww = detail::binWindow(g.rule, bin % level, g.w, level);
        WindowBin e{};
        e.rows = static_cast<int32_t>(wh.start) | static_cast<int32_t>(wh.end << 16);
        e.cols = static_cast<int32_t>(ww.start) | static_cast<int32_t>(ww.end << 16);
        bool const empty = wh.end <= wh.start || ww.end <= ww.start;
        e.divisor = empty ? 0
                          : static_cast<int32_t>(detail::avgDivisor(g.rule, wh, g.h, level)
                              * detail::avgDivisor(g.rule, ww, g.w, level));
        e.levelPrefix = b - bin;
        e.binCount = level * level;
        e.binInLevel = bin;
        bins[b] = e;
    }

    Acc const identity = kMode == PoolMode::kMAX ? Traits<T>::lowest() : Acc(0);
    Walk const loadStart = makeWalk(threadIdx.x, pixels);
    Walk const binPlaneStart = makeWalk(threadIdx.x, static_cast<int32_t>(plan.planesPerCta));
    for (int64_t group = blockIdx.x; group < plan.numGroups; group += gridDim.x)
    {
        int64_t const firstPlane = group * plan.planesPerCta;
        int32_t const numPlanes = static_cast<int32_t>(
            planes - firstPlane < plan.planesPerCta ? planes - firstPlane : plan.planesPerCta);
        int32_t const count = numPlanes * pixels;
        T const* src = input + firstPlane * pixels;
        __syncthreads(); // bins built; the previous group is done with the tile and the staging buffer
        // Transposing load: consecutive threads read consecutive elements (coalesced) and write them with the odd
        // plane stride (no bank conflicts). Up to kBATCH loads per thread are in flight before the first store, so
        // a group costs about one DRAM round trip.
        constexpr int32_t kBATCH = 16;
        Walk at = loadStart; // (plane, pixel) of this thread's next element
        for (int32_t base = 0; base < count; base += kBATCH * kTHREADS)
        {
            T values[kBATCH];
#pragma unroll
            for (int32_t k = 0; k < kBATCH; ++k)
            {
                int32_t const i = base + k * kTHREADS + static_cast<int32_t>(threadIdx.x);
                values[k] = i < count ? src[i] : T{};
            }
#pragma unroll
            for (int32_t k = 0; k < kBATCH; ++k)
            {
                if (base + k * kTHREADS + static_cast<int32_t>(threadIdx.x) < count)
                {
                    tile[at.r * laneStride + at.q] = Traits<T>::load(values[k]);
                }
                step(at);
            }
        }
        __syncthreads();
        int32_t const outputs = numPlanes * g.sumL2;
        Walk bp = numPlanes == plan.planesPerCta ? binPlaneStart : makeWalk(threadIdx.x, numPlanes); // (bin, plane)
        for (int32_t item = threadIdx.x; item < outputs; item += kTHREADS, step(bp))
        {
            int32_t const b = bp.q;
            int32_t const p = bp.r;
            WindowBin const e = bins[b];
            T result = zeroValue<T>();
            if (e.divisor != 0)
            {
                int32_t const y1 = e.rows >> 16;
                int32_t const x0 = e.cols & 0xffff;
                int32_t const x1 = e.cols >> 16;
                Total acc = static_cast<Total>(identity);
                for (int32_t y = e.rows & 0xffff; y < y1; ++y)
                {
                    Acc const* row = tile + (y * w) * laneStride + p;
#pragma unroll 4
                    for (int32_t x = x0; x < x1; ++x)
                    {
                        combine<Total, kMode>(acc, static_cast<Total>(row[x * laneStride]));
                    }
                }
                result = finishBin<T, kMode>(acc, e.divisor);
            }
            staging[numPlanes * e.levelPrefix + p * e.binCount + e.binInLevel] = result;
        }
        __syncthreads();
        storeStaging(g, staging, firstPlane, numPlanes, output);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Grid kernel (NCHW, uniform pyramids): when every level divides the finest level F and F divides H and W, every bin
// of every level is a block of the F x F cells of (H / F) x (W / F) elements. A warp then pools a group of P
// consecutive planes at a time - to the warp one tall plane of P * H rows, since NCHW planes are contiguous - with no
// CTA-wide barrier: its lanes sit on (row, 16-byte chunk) positions (rowLanes rows of `chunks` chunks), walk down the
// rows with kGRID_BATCH loads in flight, and reduce each cell row's chunks in registers (a chunk lies in one cell).
// Per group the warp files one partial per (cell row, lane) in its own shared-memory area, combines them into cells,
// and the cells into the bins of every level; the group's bins of one level are one contiguous output run when its
// planes are in one sample. The next group's first loads are issued before that epilogue, whose divisions are
// multiplications by host-made constants. P grows until a lane has enough loads in flight and the epilogue enough
// cells and bins to keep the lanes busy.

//! Largest finest level of the grid kernel (its per-warp shared memory grows with F^2).
constexpr int32_t kGRID_MAX_FINE = 16;
//! Loads a grid-kernel lane keeps in flight (a tuning knob; 16, with SPP_GRID_MIN_BLOCKS=2 against spills, halves the
//! round trips of a 64x64 or 96x96 group but measured slower on an H100 in session 11: 32x32 fp16 32.3 -> 34.1 us).
#ifndef SPP_GRID_BATCH
#define SPP_GRID_BATCH 8
#endif
constexpr int32_t kGRID_BATCH = SPP_GRID_BATCH;
//! Most planes a grid-kernel warp takes at once.
constexpr int32_t kGRID_MAX_PLANES = 8;
//! Fewest loading lanes (rowLanes * chunks) for kAUTO to take the grid kernel. Every measured shape loads with 24 or
//! 32; a row of few chunks whose cell rows have few divisors (fp32 74x16 {1,2}: 4 lanes) was never measured, and
//! the columns kernel keeps it.
constexpr int32_t kGRID_AUTO_LANES = 16;
//! Fewest warp groups per SM the grid kernel's choice of P keeps (of about 24 resident warps).
constexpr int64_t kGRID_MIN_GROUPS_PER_SM = 12;
//! Per-warp shared memory the grid kernel may use (8 warps: 48 KiB per CTA, no opt-in).
constexpr int64_t kGRID_WARP_BYTES = 6 * 1024;
// P = 1 always fits: F^2 int64 cells and F rows of 32 int32 partials (int8, the largest case) within a warp's share.
static_assert(kGRID_MAX_FINE * kGRID_MAX_FINE * 8 + kGRID_MAX_FINE * 32 * 4 <= kGRID_WARP_BYTES,
    "the grid kernel's per-warp shared memory must hold one plane at F = kGRID_MAX_FINE");
//! Largest plane of the grid kernel: 32-bit in-plane offsets and avg divisors; a lane's int8 sum over one cell row (at
//! most H <= 2^24 / 16 loads of 16 values) lies in [-2^31, 127 * 2^24], inside int32.
constexpr int64_t kGRID_MAX_PLANE = int64_t{1} << 24;

using detail::Magic;

struct GridLevel
{
    int64_t outOffset; // C * (sum of L'^2 over earlier levels): where the level's block starts in a sample's output
    int32_t bins;      // L (per axis)
    int32_t span;      // F / L cells per bin side
    int32_t divisor;   // avg divisor: (H / L) * (W / L)
    Magic perAxis;     // / L
    Magic perPlane;    // / L^2
    // butterfly epilogue (GridPlan::butterfly): a bin combines the cells of the lanes that differ in the bfLanes bits;
    // log2(span)
    uint32_t bfLanes;
    int32_t spanShift;
};

#ifndef SPP_GRID_BUTTERFLY
//! Tuning knob: 1 = the grid kernel's butterfly epilogue where the plan allows it (planGrid), 0 = never.
#define SPP_GRID_BUTTERFLY 1
#endif

struct GridPlan
{
    int64_t numPlanes;
    int64_t numGroups;
    int32_t planes;       // P, planes per warp group
    int32_t fine;         // F, the finest level
    Magic perFine;        // / F
    int32_t chunks;       // 16-byte chunks per row
    int32_t rowLanes;     // rows one warp-wide load covers (a divisor of H / F, at most 32 / chunks)
    int32_t cellChunks;   // chunks per cell row segment (W / F / chunk elements)
    int32_t loadsPerLane; // per plane: H / rowLanes
    int32_t loadsPerCell; // (H / F) / rowLanes
    int32_t warpBytes;    // one warp's shared memory: cells [P * F * F] Total, then partials [P * F][32] Acc
    bool autoPick;        // kAUTO takes it: at least kGRID_AUTO_LANES lanes load
    size_t smemBytes;
    GridLevel levels[kMAX_LEVELS];
    // (after the levels, so that the offsets of the fields above stay those of the measured kernel)
    int32_t cellLevels; // bit l: level l is F (its bins are the cells, written as the cells are formed)
    int32_t flatItems;  // bins per plane of the other levels (one pass over P * flatItems items per group)
    // The butterfly epilogue (spp_grid_butterfly.h) where `butterfly` is set: cells and bins by shuffles.
    int32_t butterfly;
    grid::Butterfly bf;
};

// The butterfly epilogue's plan where it applies: float totals (not int8) and the lane mapping of grid::planButterfly;
// for {1,2,4} with 32 loading lanes and P <= 2: 32x32 and 64x64 fp32 / fp16 / bf16.
template <typename T>
void planGridButterfly(Geometry const& g, GridPlan& plan)
{
    plan.butterfly = SPP_GRID_BUTTERFLY != 0 && !std::is_same<T, int8_t>::value
        && grid::planButterfly(plan.fine, plan.chunks, plan.rowLanes, plan.cellChunks, plan.planes, plan.bf);
    if (plan.butterfly == 0)
    {
        return;
    }
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        GridLevel& level = plan.levels[l];
        level.spanShift = grid::log2Of(level.span);
        level.bfLanes = plan.bf.binLanes(level.spanShift);
    }
}

template <typename T>
bool planGrid(Geometry const& g, DeviceLimits const& device, bool vector, GridPlan& plan)
{
    using Acc = typename Traits<T>::Acc;
    using Total = typename Traits<T>::Total;
    constexpr int32_t kV = kVECTOR_ELEMENTS<T>;
    if (g.layout != Layout::kNCHW || !vector || g.h * g.w > kGRID_MAX_PLANE)
    {
        return false;
    }
    int32_t fine = 1;
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        fine = g.levels[l] > fine ? g.levels[l] : fine;
    }
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        if (fine % g.levels[l] != 0)
        {
            return false;
        }
    }
    if (fine > kGRID_MAX_FINE || g.h % fine != 0 || g.w % fine != 0 || (g.w / fine) % kV != 0 || g.w / kV > 32)
    {
        return false;
    }
    int32_t const chunks = static_cast<int32_t>(g.w / kV);
    int32_t const cellRows = static_cast<int32_t>(g.h / fine);
    int32_t rowLanes = 32 / chunks;
    while (cellRows % rowLanes != 0)
    {
        --rowLanes;
    }
    int32_t const loadsPerLane = static_cast<int32_t>(g.h / rowLanes);
    auto const warpBytes = [&](int32_t p) {
        return align16(static_cast<int64_t>(p) * fine * fine * sizeof(Total)
            + static_cast<int64_t>(p) * fine * 32 * sizeof(Acc));
    };
    // P grows until a lane has a batch of loads and the epilogue 32 cells, within the shared memory, while every SM
    // keeps at least kGRID_MIN_GROUPS_PER_SM groups (fewer, larger groups leave warps idle: on the H200, 96x96 fp32
    // {1,2,4} with 2048 planes took 24.0 us with P = 1 and 29.6 us with P = 2; 32x32 took 44.7 / 41.3 us)
    int64_t const maxPlanes = g.n * g.c / (static_cast<int64_t>(device.sms) * kGRID_MIN_GROUPS_PER_SM);
    int32_t p = 1;
    while (p < kGRID_MAX_PLANES && (p * loadsPerLane < kGRID_BATCH || p * fine * fine < 32) && p < maxPlanes
        && warpBytes(p + 1) <= kGRID_WARP_BYTES)
    {
        ++p;
    }
    plan.numPlanes = g.n * g.c;
    plan.planes = p;
    plan.numGroups = (plan.numPlanes + p - 1) / p;
    plan.fine = fine;
    plan.perFine = Magic::of(fine);
    plan.chunks = chunks;
    plan.rowLanes = rowLanes;
    plan.cellChunks = static_cast<int32_t>(g.w / fine / kV);
    plan.loadsPerLane = loadsPerLane;
    plan.loadsPerCell = cellRows / rowLanes;
    plan.warpBytes = static_cast<int32_t>(warpBytes(p));
    plan.autoPick = rowLanes * chunks >= kGRID_AUTO_LANES;
    plan.smemBytes = static_cast<size_t>(plan.warpBytes) * (kTHREADS / 32);
    int64_t prefix = 0;
    plan.cellLevels = 0;
    plan.flatItems = 0;
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        int32_t const bins = g.levels[l];
        plan.levels[l] = GridLevel{g.c * prefix, bins, fine / bins,
            static_cast<int32_t>((g.h / bins) * (g.w / bins)), Magic::of(bins), Magic::of(bins * bins), 0, 0};
        prefix += bins * bins;
        if (bins == fine)
        {
            plan.cellLevels |= 1 << l;
        }
        else
        {
            plan.flatItems += bins * bins;
        }
    }
    planGridButterfly<T>(g, plan);
    return true;
}

// Loads [t0, min(t0 + kGRID_BATCH, count)) of a lane: chunk src[t * step].
__device__ __forceinline__ void loadGridBatch(
    int4 (&batch)[kGRID_BATCH], int4 const* src, uint32_t step, int32_t t0, int32_t count)
{
#pragma unroll
    for (int32_t k = 0; k < kGRID_BATCH; ++k)
    {
        if (t0 + k < count)
        {
            batch[k] = __ldg(src + static_cast<uint32_t>(t0 + k) * step);
        }
    }
}

// The grid kernel's epilogue where GridPlan::butterfly is set (float totals): the lane's P * F partials (of the planes
// it loaded; identity past them) are reduce-scattered over the 8 lanes of its cell column, after which the lane holds
// one whole cell; each level's bin combines its cells across the lanes of bfLanes, and one lane per bin stores it.
// Every lane runs every shuffle (the branches are uniform).
template <typename T, PoolMode kMode, typename OutIndex>
__device__ __forceinline__ void gridButterflyEpilogue(Geometry const& g, GridPlan const& plan,
    typename Traits<T>::Acc const* partials, int32_t lane, int32_t loadedPlanes, int32_t planes,
    OutIndex const& outIndex, T* __restrict__ output)
{
    using Total = typename Traits<T>::Total;
    constexpr int32_t kN = grid::kBF_VALUES;
    Total const identity = kMode == PoolMode::kMAX ? Total(Traits<T>::lowest()) : Total(0);
    int32_t const filed = loadedPlanes * plan.fine;
    // (a lane reads only the partials it filed itself: no barrier before the next group files its own)
    Total held[kN];
#pragma unroll
    for (int32_t v = 0; v < kN; ++v)
    {
        held[v] = v < filed ? static_cast<Total>(partials[v * 32 + lane]) : identity;
    }
    auto const combined = [](Total a, Total b) {
        combine<Total, kMode>(a, b);
        return a;
    };
    auto const shuffle = [](Total value, uint32_t mask, int32_t = 0) {
        return __shfl_xor_sync(0xffffffffU, value, mask);
    };
    int32_t cell = 0; // after the steps the lane holds cell v = p * F + cell row of its cell column
#pragma unroll
    for (int32_t j = 0; j < grid::kBF_STEPS; ++j)
    {
        grid::butterflyStep(held, j, static_cast<uint32_t>(lane), plan.bf, cell, combined, shuffle);
    }
    int32_t const p = plan.bf.planeOf(cell);
    bool const stores = loadedPlanes > 0 && p < planes; // lanes past rowLanes * chunks loaded nothing
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        GridLevel const& level = plan.levels[l];
        Total bin = held[0];
        for (uint32_t rest = level.bfLanes; rest != 0; rest &= rest - 1)
        {
            combine<Total, kMode>(bin, shuffle(bin, rest & (0U - rest)));
        }
        if (stores && (static_cast<uint32_t>(lane) & level.bfLanes) == 0)
        {
            int32_t const b = plan.bf.binOf(cell, static_cast<uint32_t>(lane), level.spanShift);
            output[outIndex(p, level.outOffset, level.bins * level.bins, b)]
                = finishBin<T, kMode>(bin, level.divisor);
        }
    }
}

template <typename T, PoolMode kMode>
__global__ void __launch_bounds__(kTHREADS, SPP_GRID_MIN_BLOCKS)
    sppGridKernel(Geometry g, GridPlan plan, T const* __restrict__ input, T* __restrict__ output)
{
    using Acc = typename Traits<T>::Acc;
    using Total = typename Traits<T>::Total;
    constexpr int32_t kV = kVECTOR_ELEMENTS<T>;
    constexpr int32_t kWARPS = kTHREADS / 32;
    extern __shared__ int4 smemRaw[];
    int32_t const lane = static_cast<int32_t>(threadIdx.x % 32);
    int32_t const fine = plan.fine;
    int32_t const planeCells = fine * fine;
    char* const area = reinterpret_cast<char*>(smemRaw) + (threadIdx.x / 32) * plan.warpBytes;
    auto* const cells = reinterpret_cast<Total*>(area); // [P * F * F]
    auto* const partials = reinterpret_cast<Acc*>(
        area + static_cast<size_t>(plan.planes) * planeCells * sizeof(Total)); // [P * F][32]

    int32_t const rowLane = lane / plan.chunks;
    bool const loads = rowLane < plan.rowLanes; // lanes past rowLanes * chunks idle in stage 1
    // in 16-byte chunks: a plane, a lane's first chunk in it, and the step between its loads (rowLanes rows)
    int64_t const planeChunks = g.h * g.w / kV;
    auto const firstChunk = static_cast<uint32_t>(rowLane * plan.chunks + lane % plan.chunks);
    auto const step = static_cast<uint32_t>(plan.rowLanes * plan.chunks);
    auto const* const base = reinterpret_cast<int4 const*>(input) + firstChunk;
    Acc const identity = device::identity<T, kMode>();
    Total const totalIdentity = kMode == PoolMode::kMAX ? Total(Traits<T>::lowest()) : Total(0);
    int64_t const groupChunks = planeChunks * plan.planes;
    auto const planesOf = [&](int64_t group) {
        int64_t const left = plan.numPlanes - group * plan.planes;
        return static_cast<int32_t>(left < plan.planes ? left : plan.planes);
    };

    int64_t const stride = static_cast<int64_t>(gridDim.x) * kWARPS;
    int64_t group = static_cast<int64_t>(blockIdx.x) * kWARPS + threadIdx.x / 32;
    int4 batch[kGRID_BATCH];
    if (group < plan.numGroups && loads)
    {
        loadGridBatch(batch, base + group * groupChunks, step, 0, planesOf(group) * plan.loadsPerLane);
    }
    for (; group < plan.numGroups; group += stride)
    {
        int32_t const planes = planesOf(group);
        if (loads)
        {
            int4 const* const src = base + group * groupChunks;
            int32_t const count = planes * plan.loadsPerLane;
            ChunkAcc<T, kMode, kV> acc;
            acc.reset(identity);
            int32_t inCell = 0;
            Acc* slot = partials + lane;
            for (int32_t t0 = 0; t0 < count; t0 += kGRID_BATCH)
            {
                if (t0 > 0)
                {
                    loadGridBatch(batch, src, step, t0, count);
                }
#pragma unroll
                for (int32_t k = 0; k < kGRID_BATCH; ++k)
                {
                    if (t0 + k < count)
                    {
                        acc.add(batch[k]);
                        if (++inCell == plan.loadsPerCell) // a cell row is complete: file this lane's partial
                        {
                            *slot = acc.reduce();
                            slot += 32;
                            acc.reset(identity);
                            inCell = 0;
                        }
                    }
                }
            }
        }
        __syncwarp(); // partials visible
        // cell q of the group ((cell row, cell column) of its planes) from the partials of its lanes (rowLanes x
        // cellChunks)
        auto const cellOf = [&](int32_t q, int32_t cellRow) {
            Acc const* from = partials + cellRow * 32 + (q - cellRow * fine) * plan.cellChunks;
            Total t = totalIdentity;
            for (int32_t r = 0; r < plan.rowLanes; ++r, from += plan.chunks)
            {
                for (int32_t k = 0; k < plan.cellChunks; ++k)
                {
                    combine<Total, kMode>(t, static_cast<Total>(from[k]));
                }
            }
            return t;
        };
        int64_t const next = group + stride;
        if (next < plan.numGroups && loads)
        {
            loadGridBatch(batch, base + next * groupChunks, step, 0, planesOf(next) * plan.loadsPerLane);
        }
        // (n, c) of the group's first plane; its other planes are the next channels, wrapping into the next samples.
        int64_t const first = group * plan.planes;
        int64_t const n0 = sampleOf(g, first);
        int64_t const c0 = first - n0 * g.c;
        // output element of bin b of plane p for a level whose block starts at outOffset and has `bins` bins
        auto const outIndex = [&](int32_t p, int64_t outOffset, int32_t bins, int32_t b) {
            int64_t n = n0;
            int64_t c = c0 + p;
            while (c >= g.c) // planes of the group past the sample's last channel
            {
                c -= g.c;
                ++n;
            }
            return n * g.features + outOffset + c * bins + b;
        };
        if constexpr (!std::is_same<T, int8_t>::value)
        {
            if (plan.butterfly != 0) // (uniform) the butterfly epilogue: cells and bins by shuffles, see GridPlan
            {
                gridButterflyEpilogue<T, kMode>(
                    g, plan, partials, lane, loads ? planes : 0, planes, outIndex, output);
                continue;
            }
        }
        // cells
        for (int32_t q = lane; q < planes * planeCells; q += 32)
        {
            int32_t const cellRow = plan.perFine.div(q);
            Total const t = cellOf(q, cellRow);
            cells[q] = t;
            if (plan.cellLevels != 0) // a level of F x F bins: the cell is its bin
            {
                int32_t const p = plan.perFine.div(cellRow);
                for (int32_t l = 0; l < g.numLevels; ++l)
                {
                    if ((plan.cellLevels >> l & 1) != 0)
                    {
                        output[outIndex(p, plan.levels[l].outOffset, planeCells, q - p * planeCells)]
                            = finishBin<T, kMode>(t, plan.levels[l].divisor);
                    }
                }
            }
        }
        __syncwarp(); // cells visible; partials free for the next group
        // bins: a bin of level L is a block of F / L x F / L cells; `item` is plane * L^2 + bin of the level
        auto const storeBin = [&](GridLevel const& level, int32_t item) {
            int32_t const bins = level.bins * level.bins;
            int32_t const p = level.perPlane.div(item);
            int32_t const b = item - p * bins;
            int32_t const by = level.perAxis.div(b);
            Total const* block = cells + p * planeCells + (by * fine + (b - by * level.bins)) * level.span;
            int32_t const span = level.span;
            Total t = totalIdentity;
            for (int32_t i = 0; i < span; ++i, block += fine)
            {
                for (int32_t j = 0; j < span; j += 4) // four predicated cells a step: their loads issue together
                {
                    Total const v0 = block[j];
                    Total const v1 = j + 1 < span ? block[j + 1] : totalIdentity;
                    Total const v2 = j + 2 < span ? block[j + 2] : totalIdentity;
                    Total const v3 = j + 3 < span ? block[j + 3] : totalIdentity;
                    combine<Total, kMode>(t, v0);
                    combine<Total, kMode>(t, v1);
                    combine<Total, kMode>(t, v2);
                    combine<Total, kMode>(t, v3);
                }
            }
            output[outIndex(p, level.outOffset, bins, b)] = finishBin<T, kMode>(t, level.divisor);
        };
        // The levels other than F as one run of items, level after level (each level's part P * L^2 items): a lane
        // finds its item's level by selects in a uniform loop, so every lane runs the same code (no pass per level).
        for (int32_t item = lane; item < planes * plan.flatItems; item += 32)
        {
            int32_t level = 0;
            int32_t inLevel = item;
            int32_t start = 0;
            for (int32_t l = 0; l < g.numLevels; ++l)
            {
                if ((plan.cellLevels >> l & 1) == 0)
                {
                    bool const past = item >= start;
                    level = past ? l : level;
                    inLevel = past ? item - start : inLevel;
                    start += planes * plan.levels[l].bins * plan.levels[l].bins;
                }
            }
            storeBin(plan.levels[level], inLevel);
        }
    }
}

#include "spp_tasks.cuh"

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

// Note: the cache assumes the CUDA context lives as long as the process; after cudaDeviceReset() the >48 KiB opt-in
// would have to be set again (an open limitation, documented in docs/spp.md).
// Per-launch host work is on the critical path of small calls (the GPU finishes them in a few microseconds), so
// what never changes for a device is looked up once: SM counts, and per (kernel, shared memory, device) the
// occupancy and the >48 KiB opt-in. The cache is tiny and lock-protected; if it is full, calls are made uncached.
struct LaunchCacheEntry
{
    void const* kernel;
    size_t smemBytes;
    int32_t device;
    int32_t perSm;
};

class LaunchCache
{
public:
    //! Blocks per SM for `kernel` with `smemBytes` of dynamic shared memory on the current device, opting in to more
    //! than 48 KiB first. Returns the CUDA error of the first failing call.
    template <typename Kernel>
    cudaError_t blocksPerSm(Kernel kernel, size_t smemBytes, int32_t& perSm) noexcept
    {
        int32_t const device = currentDevice();
        auto const* key = reinterpret_cast<void const*>(kernel);
        try
        {
            std::lock_guard<std::mutex> lock(mMutex);
            for (int32_t i = 0; i < mSize; ++i)
            {
                if (mEntries[i].kernel == key && mEntries[i].smemBytes == smemBytes && mEntries[i].device == device)
                {
                    perSm = mEntries[i].perSm;
                    return cudaSuccess;
                }
            }
        }
        catch (...)
        {
            // a failing mutex only costs the cache
        }
        if (smemBytes > 48 * 1024)
        {
            cudaError_t const status = cudaFuncSetAttribute(
                kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int32_t>(smemBytes));
            if (status != cudaSuccess)
            {
                return status;
            }
        }
        cudaError_t const status = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, kernel, kTHREADS, smemBytes);
        if (status != cudaSuccess)
        {
            return status;
        }
        try
        {
            std::lock_guard<std::mutex> lock(mMutex);
            if (mSize < kCAPACITY)
            {
                mEntries[mSize++] = LaunchCacheEntry{key, smemBytes, device, perSm};
            }
        }
        catch (...)
        {
        }
        return cudaSuccess;
    }

private:
    static constexpr int32_t kCAPACITY = 256;
    std::mutex mMutex;
    LaunchCacheEntry mEntries[kCAPACITY]{};
    int32_t mSize{0};
};

LaunchCache gLaunchCache;

// Launches a kernel that walks `groups` work items with a persistent grid: every CTA stays resident, builds its
// tables once and loops over groups.
template <typename Kernel, typename... Args>
cudaError_t launchPersistent(
    Kernel kernel, int64_t groups, size_t smemBytes, int32_t numSms, cudaStream_t stream, Args... args)
{
    int32_t perSm = 0;
    cudaError_t const status = gLaunchCache.blocksPerSm(kernel, smemBytes, perSm);
    if (status != cudaSuccess)
    {
        return status;
    }
    int64_t const resident = static_cast<int64_t>(numSms) * (perSm > 0 ? perSm : 1);
    int64_t const grid = groups < resident ? groups : resident;
    kernel<<<static_cast<uint32_t>(grid), kTHREADS, smemBytes, stream>>>(args...);
    return cudaGetLastError();
}

template <typename T, PoolMode kMode>
cudaError_t launch(
    SppDesc const& desc, Geometry const& g, Algo algo, void const* input, void* output, cudaStream_t stream)
{
    DeviceLimits const device = deviceLimits();
    int32_t const numSms = device.sms;
    // (the size test in this order cannot overflow: H * W is first bounded by the kernel's 255 x 255)
    bool const small = g.h <= tasks::kMAX_SIDE && g.w <= tasks::kMAX_SIDE
        && g.n * g.c <= tasks::kAUTO_MAX_ELEMENTS / (g.h * g.w);
    if (algo == Algo::kTASKS || (algo == Algo::kAUTO && small))
    {
        tasks::TasksPlan tasksPlan;
        bool const tasksFit = tasks::planTasksCached(desc, kTHREADS, numSms, tasksPlan);
        if (!tasksFit && algo == Algo::kTASKS)
        {
            return cudaErrorInvalidValue;
        }
        if (tasksFit && (algo == Algo::kTASKS || tasksPlan.autoPick != 0))
        {
            return launchPersistent(sppTasksKernel<T, kMode>, tasksPlan.numGroups, tasksPlan.smemBytes, numSms,
                stream, g, tasksPlan, static_cast<T const*>(input), static_cast<T*>(output));
        }
    }
    PlanesPlan planesPlan{};
    bool const planesFit = (algo == Algo::kAUTO || algo == Algo::kPLANES) && planPlanes<T>(g, device, planesPlan);
    if (algo == Algo::kPLANES || (algo == Algo::kAUTO && planesFit))
    {
        if (!planesFit)
        {
            return cudaErrorInvalidValue;
        }
        return launchPersistent(sppPlanesKernel<T, kMode>, planesPlan.numGroups, planesPlan.smemBytes, numSms, stream,
            g, planesPlan, static_cast<T const*>(input), static_cast<T*>(output));
    }
    bool const vector
        = reinterpret_cast<uintptr_t>(input) % 16 == 0 && g.w * static_cast<int64_t>(sizeof(T)) % 16 == 0;
    if (algo == Algo::kGRID || algo == Algo::kAUTO)
    {
        GridPlan gridPlan{};
        bool const gridFits = planGrid<T>(g, device, vector, gridPlan);
        if (!gridFits && algo == Algo::kGRID)
        {
            return cudaErrorInvalidValue;
        }
        if (gridFits && (algo == Algo::kGRID || gridPlan.autoPick))
        {
            int64_t const warps = kTHREADS / 32;
            return launchPersistent(sppGridKernel<T, kMode>, (gridPlan.numGroups + warps - 1) / warps,
                gridPlan.smemBytes, numSms, stream, g, gridPlan, static_cast<T const*>(input), static_cast<T*>(output));
        }
    }
    if (algo == Algo::kCOLUMNS || algo == Algo::kAUTO)
    {
        StagedPlan columnsPlan{};
        bool const columnsFit = planColumns<T>(g, device, vector, columnsPlan);
        if (!columnsFit && algo == Algo::kCOLUMNS)
        {
            return cudaErrorInvalidValue;
        }
        if (columnsFit)
        {
            auto const kernel = vector ? sppColumnsKernel<T, kMode, true>
                                       : sppColumnsKernel<T, kMode, false>;
            return launchPersistent(kernel, columnsPlan.numGroups, columnsPlan.smemBytes, numSms, stream, g,
                columnsPlan, static_cast<T const*>(input), static_cast<T*>(output));
        }
    }
    StagedPlan plan{};
    bool const stagedFits = planStaged<T>(g, device, plan);
    if (algo == Algo::kSTAGED || (algo == Algo::kAUTO && stagedFits))
    {
        if (!stagedFits)
        {
            return cudaErrorInvalidValue;
        }
        return launchPersistent(sppStagedKernel<T, kMode>, plan.numGroups, plan.smemBytes, numSms, stream, g, plan,
            static_cast<T const*>(input), static_cast<T*>(output));
    }
    int64_t const total = g.n * g.features;
    int64_t const blocks = (total + kTHREADS - 1) / kTHREADS;
    int64_t const maxBlocks = static_cast<int64_t>(numSms) * 32;
    sppDirectKernel<T, kMode><<<static_cast<uint32_t>(blocks < maxBlocks ? blocks : maxBlocks), kTHREADS, 0, stream>>>(
        g, static_cast<T const*>(input), static_cast<T*>(output), total);
    return cudaGetLastError();
}

template <typename T>
cudaError_t launchMode(SppDesc const& desc, Geometry const& g, Algo algo, void const* input, void* output,
    cudaStream_t stream)
{
    return desc.pyramid.mode == PoolMode::kMAX ? launch<T, PoolMode::kMAX>(desc, g, algo, input, output, stream)
                                               : launch<T, PoolMode::kAVG>(desc, g, algo, input, output, stream);
}

template <typename T>
bool algoFits(SppDesc const& desc, Geometry const& g, Algo algo, DeviceLimits const& device)
{
    if (algo == Algo::kTASKS)
    {
        tasks::TasksPlan plan;
        return tasks::planTasks(desc, kTHREADS, device.sms, plan);
    }
    if (algo == Algo::kPLANES)
    {
        PlanesPlan plan{};
        return planPlanes<T>(g, device, plan);
    }
    if (algo == Algo::kGRID)
    {
        GridPlan plan{};
        return planGrid<T>(g, device, true, plan); // with a 16-byte aligned input (sppForward refuses a misaligned one)
    }
    StagedPlan plan{};
    if (algo == Algo::kCOLUMNS)
    {
        return planColumns<T>(g, device, false, plan); // the scalar plan: a misaligned input takes it
    }
    return planStaged<T>(g, device, plan);
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
    if (algo == Algo::kAUTO || algo == Algo::kDIRECT)
    {
        return true;
    }
    if (algo != Algo::kSTAGED && algo != Algo::kPLANES && algo != Algo::kCOLUMNS && algo != Algo::kGRID
        && algo != Algo::kTASKS)
    {
        return false;
    }
    Geometry const g = makeGeometry(desc);
    DeviceLimits const device = deviceLimits();
    switch (desc.dtype)
    {
    case DataType::kFLOAT: return algoFits<float>(desc, g, algo, device);
    case DataType::kHALF: return algoFits<__half>(desc, g, algo, device);
    case DataType::kBF16: return algoFits<__nv_bfloat16>(desc, g, algo, device);
    case DataType::kINT8: return algoFits<int8_t>(desc, g, algo, device);
    }
    return false;
}

cudaError_t sppForward(SppDesc const& desc, void const* input, void* output, void* /*workspace*/,
    size_t /*workspaceBytes*/, cudaStream_t stream, LaunchOptions const& options) noexcept
{
    bool const knownAlgo = options.algo == Algo::kAUTO || options.algo == Algo::kSTAGED
        || options.algo == Algo::kDIRECT || options.algo == Algo::kPLANES || options.algo == Algo::kCOLUMNS
        || options.algo == Algo::kGRID || options.algo == Algo::kTASKS;
    if (!knownAlgo || !validate(desc).ok())
    {
        return cudaErrorInvalidValue; // a forced kSTAGED / kPLANES that does not fit is refused by launch()
    }
    if (outputElements(desc) == 0)
    {
        return cudaSuccess;
    }
    if (input == nullptr || output == nullptr)
    {
        return cudaErrorInvalidValue;
    }
    // the kernels address elements of the tensor's type (and round pointers down to 16 bytes for vector loads)
    size_t const element = elementSize(desc.dtype);
    if (reinterpret_cast<uintptr_t>(input) % element != 0 || reinterpret_cast<uintptr_t>(output) % element != 0)
    {
        return cudaErrorMisalignedAddress;
    }
    Geometry const g = makeGeometry(desc);
    switch (desc.dtype)
    {
    case DataType::kFLOAT: return launchMode<float>(desc, g, options.algo, input, output, stream);
    case DataType::kHALF: return launchMode<__half>(desc, g, options.algo, input, output, stream);
    case DataType::kBF16: return launchMode<__nv_bfloat16>(desc, g, options.algo, input, output, stream);
    case DataType::kINT8: return launchMode<int8_t>(desc, g, options.algo, input, output, stream);
    }
    return cudaErrorInvalidValue;
}

} // namespace spp
