// The "slices" ROI kernel (RoiAlgo::kSLICES): a channel slice of one image staged in shared memory, rois pooled from
// there. Included by roi_kernels.cu only.
//
// Why: every roi reads its window once per level from the feature map; with thousands of rois over one small map
// (SPP-net / Fast R-CNN detection) those reads, not the output, limit the L2-bound kernels. Here a CTA copies one
// slice of 16 four-byte words per pixel (16 fp32 channels, or 32 fp16/bf16 channels as pairs) of image b into shared
// memory once, [pixel][word], and its warps then pool a run of rois from it:
//  1. A warp takes one roi. Lanes build the roi's row and column windows of every level (core/roi_bins.h: the same
//     fp32 geometry as the CPU reference) into a per-warp table.
//  2. Max only: a level whose windows are, on both axes, exactly unions of consecutive windows of the finest level
//     ("nested", checked per roi on the actual windows, so it is exact whatever the rounding did) is not read from
//     the map: its bins are the max of the finest level's bins they cover. For {1,2,3,6} every coarser level nests
//     in 6 for essentially every roi, so each cell is read about (finest-level window area) / (roi area) times
//     instead of once per level. Levels that do not nest, and every level of avg, are read from the map.
//  3. A warp works on 8 bins at once: 4 lanes per bin, each lane reading 16 bytes (4 words) of every cell in the
//     bin's window and reducing them (max keeps NaN: the same maxNaN / __hmax2_nan as elsewhere; avg sums in fp32).
//  4. Results go to a per-warp staging buffer laid out exactly like the roi's output row for this slice: per level,
//     [channel][Lh * Lw]. Empty windows become 0 there, after the nested levels were derived from raw values.
//  5. The staging buffer is copied to the output with 16-byte streaming stores when aligned (each level's block of
//     the slice is one contiguous run of the output row), else element by element.
// Grid: (roi groups, channel slices, images). Rois of other images are skipped; invalid rois (batch index out of
// range, non-finite values) are written as zeros by the CTAs of image 0.
#pragma once

#include "device_limits.h"
#include "roi_common.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

namespace spp
{
namespace roi
{

constexpr int32_t kSLICE_WORDS = 16;             //!< 4-byte words per staged pixel
constexpr int32_t kSLICE_LANES_PER_BIN = 4;      //!< each lane reads 16 bytes of a pixel
constexpr int32_t kSLICE_BINS_AT_ONCE = 32 / kSLICE_LANES_PER_BIN;
constexpr int32_t kSLICE_MAX_BINS = 64;          //!< sum(Lh * Lw) the per-warp staging holds
constexpr int32_t kSLICE_MAX_WARPS = 16;
constexpr int32_t kSLICE_MIN_WARPS = 4;

//! Channels per 4-byte word.
template <typename T>
struct SliceWord
{
    static constexpr int32_t kChannels = 4 / static_cast<int32_t>(sizeof(T));
};

//! How one launch of the slices kernel is laid out (host-planned).
struct SlicePlan
{
    int32_t warps;           //!< per CTA
    int32_t groups;          //!< CTAs per (image, slice): each takes a contiguous run of rois
    int32_t slices;          //!< ceil(channel words / kSLICE_WORDS)
    int32_t fine;            //!< index of the level with the most bins (ties: the first)
    int32_t fineRowOffset;   //!< its first row window (windows of all levels, in level order)
    int32_t fineColOffset;   //!< its first column window
    uint32_t nestCandidates; //!< levels whose Lh, Lw divide the finest level's (max mode): may be derived per roi
    int64_t sliceBytes;      //!< H * W * 64
    int64_t stageBytes;      //!< per warp: the output-order staging, 64 * totalBins
    int64_t scratchBytes;    //!< per warp: the finest level's raw maxima as words, 64 * its bins (0 if nothing nests)
    int64_t tableBytes;      //!< per warp: (sumLh + sumLw) int2 windows, rounded up to 16 bytes
    int64_t smemBytes;       //!< per CTA
};

//! Whether the slices kernel can run this geometry on this device, and how.
inline bool planSlices(RoiGeometry const& g, DataType dtype, PoolMode mode, device::DeviceLimits const& device,
    SlicePlan& plan)
{
    if (dtype == DataType::kINT8 || g.n < 1 || g.k < 1 || g.totalBins > kSLICE_MAX_BINS || g.n > 65535)
    {
        return false;
    }
    if (g.h * g.w > (int64_t{1} << 24)) // far beyond any shared memory; keeps the products below in range
    {
        return false;
    }
    int64_t const channelsPerWord = dtype == DataType::kFLOAT ? 1 : 2;
    int64_t const words = (g.c + channelsPerWord - 1) / channelsPerWord;
    int64_t const slices = (words + kSLICE_WORDS - 1) / kSLICE_WORDS;
    if (slices > 65535)
    {
        return false;
    }
    plan.fine = 0;
    for (int32_t l = 1; l < g.numLevels; ++l)
    {
        if (g.levelsH[l] * g.levelsW[l] > g.levelsH[plan.fine] * g.levelsW[plan.fine])
        {
            plan.fine = l;
        }
    }
    plan.fineRowOffset = 0;
    plan.fineColOffset = 0;
    for (int32_t l = 0; l < plan.fine; ++l)
    {
        plan.fineRowOffset += g.levelsH[l];
        plan.fineColOffset += g.levelsW[l];
    }
    plan.nestCandidates = 0;
    if (mode == PoolMode::kMAX)
    {
        for (int32_t l = 0; l < g.numLevels; ++l)
        {
            if (l != plan.fine && g.levelsH[plan.fine] % g.levelsH[l] == 0 && g.levelsW[plan.fine] % g.levelsW[l] == 0)
            {
                plan.nestCandidates |= 1U << l;
            }
        }
    }
    int64_t const wordBytes = kSLICE_WORDS * 4;
    plan.sliceBytes = g.h * g.w * wordBytes;
    plan.stageBytes = static_cast<int64_t>(g.totalBins) * wordBytes;
    plan.scratchBytes
        = plan.nestCandidates != 0 ? static_cast<int64_t>(g.levelsH[plan.fine]) * g.levelsW[plan.fine] * wordBytes : 0;
    plan.tableBytes = (static_cast<int64_t>(g.sumLh + g.sumLw) * 8 + 15) / 16 * 16; // keeps the next warp 16-aligned
    int64_t const perWarp = plan.stageBytes + plan.scratchBytes + plan.tableBytes;
    int64_t const fit = (device.smemOptin - plan.sliceBytes) / perWarp;
    if (fit < kSLICE_MIN_WARPS)
    {
        return false;
    }
    plan.warps = static_cast<int32_t>(fit < kSLICE_MAX_WARPS ? fit : kSLICE_MAX_WARPS);
    plan.smemBytes = plan.sliceBytes + plan.warps * perWarp;
    plan.slices = static_cast<int32_t>(slices);
    // One wave: enough roi groups to give every SM a CTA, but no group with fewer rois than warps.
    int64_t const perImage = g.n * slices;
    int64_t groups = device.sms / perImage;
    int64_t const byRois = (g.k + plan.warps - 1) / plan.warps;
    groups = groups < byRois ? groups : byRois;
    plan.groups = static_cast<int32_t>(groups < 1 ? 1 : groups);
    return true;
}

//! Max of two words holding the same channels (NaN wins, as device::maxNaN).
template <typename T>
__device__ __forceinline__ uint32_t maxWord(uint32_t a, uint32_t b)
{
    if constexpr (sizeof(T) == 4)
    {
        return __float_as_uint(device::maxNaN(__uint_as_float(a), __uint_as_float(b)));
    }
    else
    {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
        using Pair = typename std::conditional<std::is_same<T, __half>::value, __half2, __nv_bfloat162>::type;
        Pair const r = __hmax2_nan(*reinterpret_cast<Pair const*>(&a), *reinterpret_cast<Pair const*>(&b));
        return *reinterpret_cast<uint32_t const*>(&r);
#else
        uint32_t out = 0;
        for (int32_t i = 0; i < 2; ++i)
        {
            uint16_t const ra = static_cast<uint16_t>(a >> (16 * i));
            uint16_t const rb = static_cast<uint16_t>(b >> (16 * i));
            float const fa = Traits<T>::load(*reinterpret_cast<T const*>(&ra));
            float const fb = Traits<T>::load(*reinterpret_cast<T const*>(&rb));
            uint32_t const bits = (fb > fa || fb != fb) ? rb : ra; // device::maxNaN's rule, on the raw halves
            out |= bits << (16 * i);
        }
        return out;
#endif
    }
}

//! The -inf word (max identity).
template <typename T>
__device__ __forceinline__ constexpr uint32_t lowestWord()
{
    return sizeof(T) == 4 ? 0xff800000U : (std::is_same<T, __half>::value ? 0xfc00fc00U : 0xff80ff80U);
}

//! Channel `i` (0 or 1) of a word as T.
template <typename T>
__device__ __forceinline__ T wordChannel(uint32_t w, int32_t i)
{
    if constexpr (sizeof(T) == 4)
    {
        return __uint_as_float(w);
    }
    else
    {
        uint16_t const bits = static_cast<uint16_t>(w >> (16 * i));
        return *reinterpret_cast<T const*>(&bits);
    }
}

//! One lane's share of a bin: 4 words = 4 * kChannels channels.
template <typename T, PoolMode kMode>
struct SliceAccumulator
{
    static constexpr int32_t kChannels = SliceWord<T>::kChannels;
    static constexpr int32_t kValues = 4 * kChannels;
    uint32_t raw[4];      // max: raw words
    float sums[kValues];  // avg

    __device__ __forceinline__ void reset()
    {
#pragma unroll
        for (int32_t i = 0; i < 4; ++i)
        {
            raw[i] = lowestWord<T>();
        }
#pragma unroll
        for (int32_t i = 0; i < kValues; ++i)
        {
            sums[i] = 0.0F;
        }
    }

    __device__ __forceinline__ void add(uint4 const v)
    {
        uint32_t const w[4] = {v.x, v.y, v.z, v.w};
        if constexpr (kMode == PoolMode::kMAX)
        {
#pragma unroll
            for (int32_t i = 0; i < 4; ++i)
            {
                raw[i] = maxWord<T>(raw[i], w[i]);
            }
        }
        else
        {
#pragma unroll
            for (int32_t i = 0; i < 4; ++i)
            {
#pragma unroll
                for (int32_t j = 0; j < kChannels; ++j)
                {
                    sums[i * kChannels + j] += Traits<T>::load(wordChannel<T>(w[i], j));
                }
            }
        }
    }

    //! Value of channel `i` (0 .. kValues - 1): the raw max (empty windows fixed later) or the mean (0 if empty).
    __device__ __forceinline__ T value(int32_t i, int32_t area) const
    {
        if constexpr (kMode == PoolMode::kMAX)
        {
            return wordChannel<T>(raw[i / kChannels], i % kChannels);
        }
        else
        {
            return Traits<T>::store(area > 0 ? sums[i] / static_cast<float>(area) : 0.0F);
        }
    }
};

template <typename T>
__device__ __forceinline__ uint16_t rawBits(T const* p, int64_t i)
{
    return reinterpret_cast<uint16_t const*>(p)[i];
}

//! Stages channels [c0, c0 + 16 * kChannels) of image b as [pixel][16 words]; channels >= C are zero.
template <typename T>
__device__ __forceinline__ void stageSlice(
    RoiGeometry const& g, T const* __restrict__ features, int64_t b, int64_t c0, uint32_t* __restrict__ slice)
{
    constexpr int32_t kChannels = SliceWord<T>::kChannels;
    constexpr int32_t kUNROLL = 8;
    int64_t const pixels = g.h * g.w;
    bool const nchw = g.layout == Layout::kNCHW;
    int64_t const cStride = nchw ? pixels : 1;
    int64_t const pStride = nchw ? 1 : g.cs;
    T const* const image = features + b * (nchw ? g.c * pixels : pixels * g.cs);
    int32_t const word = static_cast<int32_t>(threadIdx.x) % kSLICE_WORDS;
    // Lanes 0-15 take even pixels, 16-31 odd ones: for a fixed step the warp reads two neighbouring pixels of 16
    // channels (the next steps hit the same sectors in L1) and writes 32 consecutive words of shared memory.
    int32_t const parity = (static_cast<int32_t>(threadIdx.x) / kSLICE_WORDS) % 2;
    int32_t const warp = static_cast<int32_t>(threadIdx.x) / 32;
    int32_t const warps = static_cast<int32_t>(blockDim.x) / 32;
    int64_t const channel = c0 + static_cast<int64_t>(word) * kChannels;
    for (int64_t chunk = warp; chunk * 2 * kUNROLL < pixels; chunk += warps)
    {
        uint32_t v[kUNROLL];
#pragma unroll
        for (int32_t i = 0; i < kUNROLL; ++i)
        {
            int64_t const p = chunk * 2 * kUNROLL + 2 * i + parity;
            v[i] = 0;
            if (p < pixels)
            {
                if constexpr (kChannels == 1)
                {
                    v[i] = channel < g.c
                        ? reinterpret_cast<uint32_t const*>(image)[channel * cStride + p * pStride]
                        : 0U;
                }
                else
                {
                    uint32_t const lo = channel < g.c ? rawBits(image, channel * cStride + p * pStride) : 0U;
                    uint32_t const hi
                        = channel + 1 < g.c ? rawBits(image, (channel + 1) * cStride + p * pStride) : 0U;
                    v[i] = lo | (hi << 16);
                }
            }
        }
#pragma unroll
        for (int32_t i = 0; i < kUNROLL; ++i)
        {
            int64_t const p = chunk * 2 * kUNROLL + 2 * i + parity;
            if (p < pixels)
            {
                slice[p * kSLICE_WORDS + word] = v[i];
            }
        }
    }
}

//! Copies `count` elements from shared `src` to global `dst` with streaming stores: 16 bytes per lane when both are
//! 16-byte aligned and the run is whole vectors, else one element per lane.
template <typename T>
__device__ __forceinline__ void copyOut(T* __restrict__ dst, T const* __restrict__ src, int32_t count, int32_t lane)
{
    constexpr int32_t kPerVector = 16 / static_cast<int32_t>(sizeof(T));
    bool const vector = ((reinterpret_cast<uintptr_t>(dst) | reinterpret_cast<uintptr_t>(src)) & 15) == 0
        && count % kPerVector == 0;
    if (vector)
    {
        uint4* const d = reinterpret_cast<uint4*>(dst);
        uint4 const* const s = reinterpret_cast<uint4 const*>(src);
        for (int32_t i = lane; i < count / kPerVector; i += 32)
        {
            __stcs(d + i, s[i]);
        }
    }
    else
    {
        for (int32_t i = lane; i < count; i += 32)
        {
            streamStore(dst + i, src[i]);
        }
    }
}

//! Calls f(level, Lh, Lw, rowOffset, colOffset, binOffset) for every level in order: the offsets of its first row
//! window, column window and bin among those of all levels.
template <typename F>
__device__ __forceinline__ void forEachLevel(RoiGeometry const& g, F&& f)
{
    int32_t rowOffset = 0;
    int32_t colOffset = 0;
    int32_t binOffset = 0;
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        int32_t const lh = g.levelsH[l];
        int32_t const lw = g.levelsW[l];
        f(l, lh, lw, rowOffset, colOffset, binOffset);
        rowOffset += lh;
        colOffset += lw;
        binOffset += lh * lw;
    }
}

//! Calls f(level, bin, by, bx, rowOffset, colOffset, binOffset, bins) for this group's share of the bins of the
//! levels in `levels`: bins are dealt round robin to the warp's 8 groups, continuing across levels so the last round
//! of one level is filled by the next.
template <typename F>
__device__ __forceinline__ void forGroupBins(RoiGeometry const& g, uint32_t levels, int32_t group, F&& f)
{
    int32_t dealt = 0;
    forEachLevel(g, [&](int32_t l, int32_t lh, int32_t lw, int32_t rowOffset, int32_t colOffset, int32_t binOffset) {
        if (((levels >> l) & 1U) == 0)
        {
            return;
        }
        int32_t const bins = lh * lw;
        int32_t bin = (group - dealt % kSLICE_BINS_AT_ONCE + kSLICE_BINS_AT_ONCE) % kSLICE_BINS_AT_ONCE;
        int32_t by = bin / lw;
        int32_t bx = bin - by * lw;
        for (; bin < bins; bin += kSLICE_BINS_AT_ONCE)
        {
            f(l, bin, by, bx, rowOffset, colOffset, binOffset, bins);
            bx += kSLICE_BINS_AT_ONCE;
            while (bx >= lw)
            {
                bx -= lw;
                ++by;
            }
        }
        dealt += bins;
    });
}

//! Bits [offset, offset + count) of a 64-bit mask (offset + count <= 64).
__device__ __forceinline__ uint64_t bitRange(int32_t offset, int32_t count)
{
    return (count >= 64 ? ~uint64_t{0} : ((uint64_t{1} << count) - 1)) << offset;
}

//! Window `i` of the per-warp table (row windows of all levels, then column windows): its level and its index there.
__device__ __forceinline__ int32_t windowLevel(RoiGeometry const& g, int32_t i, bool& isRow, int32_t& j)
{
    isRow = i < g.sumLh;
    j = isRow ? i : i - g.sumLh;
    int32_t l = 0;
    for (; l < g.numLevels - 1; ++l)
    {
        int32_t const count = isRow ? g.levelsH[l] : g.levelsW[l];
        if (j < count)
        {
            break;
        }
        j -= count;
    }
    return l;
}

//! Files the ballot of windows [base, base + 32) into 64-bit row and column masks (bit = window index in its axis).
__device__ __forceinline__ void fileWindowBits(
    uint32_t bits, int32_t base, int32_t sumLh, uint64_t& rows, uint64_t& cols)
{
    int32_t const rowBits = sumLh - base; // bits of this chunk that are row windows
    if (rowBits >= 32)
    {
        rows |= static_cast<uint64_t>(bits) << base;
    }
    else if (rowBits <= 0)
    {
        cols |= static_cast<uint64_t>(bits) << (base - sumLh);
    }
    else
    {
        rows |= static_cast<uint64_t>(bits & ((1U << rowBits) - 1U)) << base;
        cols |= static_cast<uint64_t>(bits >> rowBits);
    }
}

template <typename T, typename R, PoolMode kMode>
__global__ void __launch_bounds__(kSLICE_MAX_WARPS * 32, 1) roiSlicesKernel(
    RoiGeometry g, SlicePlan plan, T const* __restrict__ features, R const* __restrict__ rois, T* __restrict__ output)
{
    constexpr int32_t kChannels = SliceWord<T>::kChannels;
    constexpr int32_t kSliceChannels = kSLICE_WORDS * kChannels;
    constexpr int32_t kVectorsPerPixel = kSLICE_WORDS / 4;
    using Acc = SliceAccumulator<T, kMode>;
    extern __shared__ __align__(16) unsigned char smem[];

    int64_t const b = blockIdx.z;
    int64_t const c0 = static_cast<int64_t>(blockIdx.y) * kSliceChannels;
    int32_t const validChannels = static_cast<int32_t>(g.c - c0 < kSliceChannels ? g.c - c0 : kSliceChannels);
    int64_t const kBegin = g.k * blockIdx.x / plan.groups;
    int64_t const kEnd = g.k * (blockIdx.x + 1) / plan.groups;
    int32_t const lane = static_cast<int32_t>(threadIdx.x) % 32;
    int32_t const warp = static_cast<int32_t>(threadIdx.x) / 32;
    int32_t const width = static_cast<int32_t>(g.w); // H * W < 2^24 (planSlices)

    uint32_t* const slice = reinterpret_cast<uint32_t*>(smem);
    unsigned char* const warpArea = smem + plan.sliceBytes
        + warp * (plan.stageBytes + plan.scratchBytes + plan.tableBytes);
    T* const stage = reinterpret_cast<T*>(warpArea);
    uint4* const scratch = reinterpret_cast<uint4*>(warpArea + plan.stageBytes);
    int2* const rowWin = reinterpret_cast<int2*>(warpArea + plan.stageBytes + plan.scratchBytes);
    int2* const colWin = rowWin + g.sumLh;

    stageSlice(g, features, b, c0, slice);
    __syncthreads();

    int32_t const fine = plan.fine;
    int32_t const fineH = g.levelsH[fine];
    int32_t const fineW = g.levelsW[fine];
    int32_t const group = lane / kSLICE_LANES_PER_BIN;
    int32_t const quad = lane % kSLICE_LANES_PER_BIN;
    uint4 const* const pixels = reinterpret_cast<uint4 const*>(slice) + quad;

    // Staging of one bin's result: lane (group, quad) holds channels quad * kValues + i of bin `bin`.
    auto const stageBin = [&](Acc const& acc, int32_t binOffset, int32_t bins, int32_t bin, int32_t area) {
        T* const out = stage + kSliceChannels * binOffset + quad * Acc::kValues * bins + bin;
#pragma unroll
        for (int32_t i = 0; i < Acc::kValues; ++i)
        {
            out[i * bins] = acc.value(i, area);
        }
    };

    for (int64_t k = kBegin + warp; k < kEnd; k += plan.warps)
    {
        detail::RoiBox const box = loadBox(g, rois, k); // one row for the whole warp: uniform branches below
        T* const row = output + k * g.features;
        if (!box.valid || box.batch != b)
        {
            if (!box.valid && b == 0)
            {
                forEachLevel(g, [&](int32_t, int32_t lh, int32_t lw, int32_t, int32_t, int32_t binOffset) {
                    T* const out = row + g.c * binOffset + c0 * lh * lw;
                    for (int32_t i = lane; i < validChannels * lh * lw; i += 32)
                    {
                        streamStore(out + i, Traits<T>::store(0.0F));
                    }
                });
            }
            continue;
        }

        // 1. Windows, one per lane: row windows of all levels, then column windows (sumLh, sumLw <= 64).
        uint64_t emptyRows = 0;
        uint64_t emptyCols = 0;
        for (int32_t base = 0; base < g.sumLh + g.sumLw; base += 32)
        {
            int32_t const i = base + lane;
            bool empty = false;
            if (i < g.sumLh + g.sumLw)
            {
                bool isRow = false;
                int32_t j = 0;
                int32_t const l = windowLevel(g, i, isRow, j);
                detail::Window const w = isRow ? detail::roiBinWindow(box.startH, box.height, j, g.levelsH[l], g.h)
                                               : detail::roiBinWindow(box.startW, box.width, j, g.levelsW[l], g.w);
                rowWin[i] = make_int2(static_cast<int32_t>(w.start), static_cast<int32_t>(w.end)); // colWin follows
                empty = w.end <= w.start;
            }
            fileWindowBits(__ballot_sync(0xffffffffU, empty), base, g.sumLh, emptyRows, emptyCols);
        }
        __syncwarp();

        // 2. Which levels nest in the finest one (max): every window of the level is the union of its run of fine
        //    windows. One window per lane again, against the table.
        uint64_t nestRows = 0;
        uint64_t nestCols = 0;
        if (plan.nestCandidates != 0)
        {
            for (int32_t base = 0; base < g.sumLh + g.sumLw; base += 32)
            {
                int32_t const i = base + lane;
                bool nested = false;
                if (i < g.sumLh + g.sumLw)
                {
                    bool isRow = false;
                    int32_t j = 0;
                    int32_t const l = windowLevel(g, i, isRow, j);
                    if ((plan.nestCandidates >> l) & 1U)
                    {
                        int32_t const ratio = isRow ? fineH / g.levelsH[l] : fineW / g.levelsW[l];
                        int2 const* const fineWin = isRow ? rowWin + plan.fineRowOffset : colWin + plan.fineColOffset;
                        int2 const w = rowWin[i];
                        nested = w.x == fineWin[j * ratio].x && w.y == fineWin[j * ratio + ratio - 1].y;
                    }
                }
                fileWindowBits(__ballot_sync(0xffffffffU, nested), base, g.sumLh, nestRows, nestCols);
            }
        }
        uint32_t emptyLevels = 0;
        uint32_t derived = 0;
        forEachLevel(g, [&](int32_t l, int32_t lh, int32_t lw, int32_t rowOffset, int32_t colOffset, int32_t) {
            uint64_t const rows = bitRange(rowOffset, lh);
            uint64_t const cols = bitRange(colOffset, lw);
            emptyLevels |= ((emptyRows & rows) | (emptyCols & cols)) != 0 ? 1U << l : 0U;
            derived |= (((plan.nestCandidates >> l) & 1U) && (nestRows & rows) == rows && (nestCols & cols) == cols)
                ? 1U << l
                : 0U;
        });

        // 3. Bins of the levels read from the map, 8 at a time. The finest level's raw maxima also go to the scratch
        //    as words when some level derives from them.
        forGroupBins(g, ~derived, group,
            [&](int32_t l, int32_t bin, int32_t by, int32_t bx, int32_t rowOffset, int32_t colOffset,
                int32_t binOffset, int32_t bins) {
                int2 const rw = rowWin[rowOffset + by];
                int2 const cw = colWin[colOffset + bx];
                int32_t const cols = cw.y - cw.x;
                Acc acc;
                acc.reset();
                uint4 const* line = pixels + (rw.x * width + cw.x) * kVectorsPerPixel;
                for (int32_t y = rw.x; y < rw.y; ++y, line += width * kVectorsPerPixel)
                {
                    uint4 const* p = line;
#pragma unroll 2
                    for (int32_t x = 0; x < cols; ++x, p += kVectorsPerPixel)
                    {
                        acc.add(*p);
                    }
                }
                int32_t const area = (rw.y - rw.x) * cols;
                stageBin(acc, binOffset, bins, bin, area);
                if (l == fine && derived != 0)
                {
                    scratch[bin * kVectorsPerPixel + quad] = make_uint4(acc.raw[0], acc.raw[1], acc.raw[2], acc.raw[3]);
                }
            });
        __syncwarp();

        // 4. Nested levels (max only): each bin is the max of the fine bins it covers, 16 bytes per lane per fine bin.
        if (derived != 0)
        {
            forGroupBins(g, derived, group,
                [&](int32_t l, int32_t bin, int32_t by, int32_t bx, int32_t, int32_t, int32_t binOffset,
                    int32_t bins) {
                    int32_t const rh = fineH / g.levelsH[l];
                    int32_t const rw = fineW / g.levelsW[l];
                    Acc acc;
                    acc.reset();
                    uint4 const* first = scratch + (by * rh * fineW + bx * rw) * kVectorsPerPixel + quad;
                    for (int32_t i = 0; i < rh; ++i, first += fineW * kVectorsPerPixel)
                    {
                        for (int32_t j = 0; j < rw; ++j)
                        {
                            acc.add(first[j * kVectorsPerPixel]);
                        }
                    }
                    stageBin(acc, binOffset, bins, bin, 1);
                });
            __syncwarp();
        }

        // 5. Max: zeros for empty windows (rare: rois reaching past the map), after the derivation used the raw -inf.
        if (kMode == PoolMode::kMAX && emptyLevels != 0)
        {
            forEachLevel(g, [&](int32_t l, int32_t lh, int32_t lw, int32_t rowOffset, int32_t colOffset,
                                int32_t binOffset) {
                int32_t const bins = lh * lw;
                if (((emptyLevels >> l) & 1U) == 0)
                {
                    return;
                }
                for (int32_t e = lane; e < kSliceChannels * bins; e += 32)
                {
                    int32_t const bin = e % bins;
                    int32_t const by = bin / lw;
                    int32_t const bx = bin - by * lw;
                    if (rowWin[rowOffset + by].y <= rowWin[rowOffset + by].x
                        || colWin[colOffset + bx].y <= colWin[colOffset + bx].x)
                    {
                        stage[kSliceChannels * binOffset + e] = Traits<T>::store(0.0F);
                    }
                }
            });
            __syncwarp();
        }

        // 6. Output: per level, the slice's channels are one contiguous run of the roi's row.
        forEachLevel(g, [&](int32_t, int32_t lh, int32_t lw, int32_t, int32_t, int32_t binOffset) {
            copyOut(row + g.c * binOffset + c0 * lh * lw, stage + kSliceChannels * binOffset, validChannels * lh * lw,
                lane);
        });
        __syncwarp(); // the next roi rewrites the tables and the staging buffer
    }
}

} // namespace roi
} // namespace spp
