// The "rows" ROI kernel (RoiAlgo::kROWS): max pooling from a channel slice staged in shared memory, like the slices
// kernel (roi_slices.cuh: the same prep kernel, roi table, NHWC copy, slice staging and grid), with a roi's work laid
// out differently. Included by roi_kernels.cu only.
//
// Why: in the slices kernel most of a roi's instructions and shared-memory traffic are not the map reads but the
// bookkeeping around them: rounds of derived tasks reading the finest level's results back from shared memory, the
// bin-major staging and the gathering copy that undoes it (docs/roi.md, "What 40 us asks"). Here one warp per
// (roi, slice), lane = (word w of every pixel: lanes w and w + 16, half = lane / 16):
//  1. scans the finest level F (the derived schedule's one phase-0 level, Fh, Fw <= 8) row by row: for each row of a
//     row bin, each lane reads word w of its half's cells of every column window (half 0 the cells 0, 2, 4 ..., half
//     1 the cells 1, 3, 5 ... of each window, so a warp load covers two neighbouring pixels: 128 bytes, one shared
//     wavefront) into a K x K tile of registers; one xor-shuffle per bin then joins the halves;
//  2. derives every other level from those registers when the roi votes that its windows nest (the prep kernel's
//     vote, exact on the actual windows): a level of Lh x Lw is a max over groups of Fh / Lh x Fw / Lw registers, at
//     constant indices (2x2, 3x3, 4x4 groups and the 1x1 level unrolled, other groupings row by row);
//  3. stages the results in output order ([channel][bin] per level, one buffer per warp; the two halves store two
//     bins at once), so the copy to the output is a plain run of 16-byte streaming stores per level.
// A roi whose windows do not nest (or a plan that derives nothing) scans every level from the map the same way, a row
// bin at a time (empty windows give 0). Fits pyramids whose levels have at most 8 columns and at most 32 windows in
// all (one per lane); planSliceRows says which. The first version (session 23: lane quads of 16-byte loads, one quad
// per column bin) was correct but half as fast as the slices kernel (H200, session 25: 156.5 us fp32 max).
#pragma once

#include "roi_slices.cuh"

#include <cstdint>
#include <type_traits>

namespace spp
{
namespace roi
{

constexpr int32_t kROWS_MAX_ROWS = 8;     //!< Fh: the finest level's row results are registers
constexpr int32_t kROWS_MAX_COLUMNS = 8;  //!< Lw of every level: a row of the register tile
constexpr int32_t kROWS_MAX_WINDOWS = 32; //!< sumLh + sumLw: one window per lane
#ifndef SPP_ROI_ROWS_UNROLL
//! Compile-time knob (scripts/device_tune.sh): unroll factor of the rows kernel's loop over a row bin's rows (each row
//! is K x pairs independent loads already).
#define SPP_ROI_ROWS_UNROLL 1
#endif
constexpr int32_t kROWS_UNROLL = SPP_ROI_ROWS_UNROLL;
#ifndef SPP_ROI_ROWS_WARPS
//! Compile-time knob (scripts/device_tune.sh): most warps per CTA of the rows kernel (shared memory usually decides:
//! roi-bench's 38 x 63 map leaves room for 20 with {1,2,3,6}).
#define SPP_ROI_ROWS_WARPS 20
#endif
//! Most warps per CTA of the rows kernel with the 8 x 8 register tile: 16, so that a thread may use 128 registers (at
//! 20 warps, 96, the K = 8 kernels spill 400-1200 bytes; ptxas, sm_90).
constexpr int32_t kROWS_TILE8_WARPS = SPP_ROI_ROWS_WARPS < 16 ? SPP_ROI_ROWS_WARPS : 16;

//! One level as the rows kernel sees it (host-built).
struct SliceRowsLevel
{
    int16_t lh;
    int16_t lw;
    int16_t rowWindow;   //!< roi-table index of its first row window
    int16_t colWindow;   //!< roi-table index of its first column window
    int32_t stageOffset; //!< element offset of its [channel][bin] block in a warp's staging buffer
    int32_t outOffset;   //!< element offset of the level in an output row (C * bins of the levels before it)
    int32_t rowGroup;    //!< derived levels: rows of F per row bin (Fh / Lh); 0: read from the map
    int32_t colGroup;    //!< derived levels: columns of F per column bin (Fw / Lw)
};

//! How the rows kernel is laid out (host-planned; a kernel parameter).
struct SliceRowsPlan
{
    int32_t warps;   //!< per CTA
    int32_t groups;  //!< CTAs per (image, slice)
    int32_t slices;
    int32_t levels;
    int32_t finest;  //!< F, the level the others derive from; -1: the plan derives nothing
    int32_t tile;    //!< K of the kernel's K x K register tile (sliceRowsTile)
    int64_t sliceBytes;  //!< H * W * 64
    int64_t stageBytes;  //!< per warp: 64 * totalBins
    int64_t roiRowBytes; //!< one roi's row of the roi table
    int64_t smemBytes;   //!< per CTA: the slice, the roi counter (16 bytes) and the staging buffers
    SliceRowsLevel level[kMAX_LEVELS];
};

//! The rows kernel's register tile: K x K when every level it scans has at most K columns and, when levels are
//! derived, the finest has at most K rows (6 for {1,2,3,6}; 8 otherwise).
inline int32_t sliceRowsTile(RoiGeometry const& g, int32_t finest)
{
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        if (g.levelsW[l] > 6 || (finest == l && g.levelsH[l] > 6))
        {
            return 8;
        }
    }
    return 6;
}

//! Whether the rows kernel can run this geometry (max only) with `workspaceBytes` of workspace, and how. `setup` is
//! the slices plan it shares the prep kernel and the workspace with.
inline bool planSliceRows(RoiGeometry const& g, DataType dtype, PoolMode mode, device::DeviceLimits const& device,
    size_t workspaceBytes, SliceSetup& setup, SliceRowsPlan& rows)
{
    if (mode != PoolMode::kMAX || g.sumLh + g.sumLw > kROWS_MAX_WINDOWS
        || !planSlices(g, dtype, mode, device, workspaceBytes, setup))
    {
        return false;
    }
    SliceWindows const& windows = setup.windows;
    int32_t finest = -1;
    int32_t phase0 = 0;
    for (int32_t l = 0, r = 0; l < g.numLevels; r += g.levelsH[l], ++l)
    {
        if (g.levelsW[l] > kROWS_MAX_COLUMNS)
        {
            return false;
        }
        if (setup.plan.phases > 0 && windows.window[r].nestFirst < 0) // not derived: read from the map
        {
            finest = l;
            ++phase0;
        }
    }
    if (setup.plan.phases > 0 && (phase0 != 1 || g.levelsH[finest] > kROWS_MAX_ROWS))
    {
        return false; // derived levels would need more than one level in registers: the slices kernel does those
    }
    int32_t const elementBytes = dtype == DataType::kFLOAT ? 4 : 2;
    int32_t const sliceChannels = kSLICE_WORDS * 4 / elementBytes;
    rows.levels = g.numLevels;
    rows.finest = setup.plan.phases > 0 ? finest : -1;
    for (int32_t l = 0, r = 0, c = 0, bins = 0; l < g.numLevels; ++l)
    {
        SliceRowsLevel& level = rows.level[l];
        level.lh = static_cast<int16_t>(g.levelsH[l]);
        level.lw = static_cast<int16_t>(g.levelsW[l]);
        level.rowWindow = static_cast<int16_t>(r);
        level.colWindow = static_cast<int16_t>(g.sumLh + c);
        level.stageOffset = sliceChannels * bins;
        level.outOffset = static_cast<int32_t>(g.c * bins); // C * sum(Lh * Lw) < 2^31 (validate)
        level.rowGroup = 0;
        level.colGroup = 0;
        if (rows.finest >= 0 && l != finest)
        {
            // derived (every level but F is, with one phase-0 level), so Lh | Fh and Lw | Fw
            level.rowGroup = g.levelsH[finest] / g.levelsH[l];
            level.colGroup = g.levelsW[finest] / g.levelsW[l];
        }
        r += g.levelsH[l];
        c += g.levelsW[l];
        bins += g.levelsH[l] * g.levelsW[l];
    }
    rows.sliceBytes = setup.plan.sliceBytes;
    rows.stageBytes = static_cast<int64_t>(g.totalBins) * kSLICE_WORDS * 4;
    rows.roiRowBytes = setup.plan.roiRowBytes;
    int64_t const fit = (device.smemOptin - rows.sliceBytes - 16) / rows.stageBytes;
    if (fit < kSLICE_MIN_WARPS)
    {
        return false;
    }
    rows.tile = sliceRowsTile(g, rows.finest);
    int64_t const maxWarps = rows.tile == 6 ? SPP_ROI_ROWS_WARPS : kROWS_TILE8_WARPS;
    rows.warps = static_cast<int32_t>(fit < maxWarps ? fit : maxWarps);
    rows.smemBytes = rows.sliceBytes + 16 + rows.warps * rows.stageBytes;
    rows.slices = setup.plan.slices;
    rows.groups = sliceGroups(g, rows.slices, rows.warps, device.sms);
    return true;
}

template <typename T, int32_t K>
__global__ void __launch_bounds__((K == 6 ? SPP_ROI_ROWS_WARPS : kROWS_TILE8_WARPS) * 32, 1)
    roiSliceRowsKernel(RoiGeometry g, SliceRowsPlan plan, T const* __restrict__ features,
        unsigned char const* __restrict__ roiTable, T* __restrict__ output)
{
    constexpr int32_t kChannels = SliceWord<T>::kChannels;
    constexpr int32_t kSliceChannels = kSLICE_WORDS * kChannels;
    constexpr uint32_t kFULL = 0xffffffffU;
    extern __shared__ __align__(16) unsigned char smem[];

    SliceCta const cta = sliceCta<kSliceChannels>(g, plan.groups);
    int32_t const lane = cta.lane;
    int32_t const word = lane % kSLICE_WORDS; // this lane's word of every pixel
    int32_t const half = lane / kSLICE_WORDS; // 0: cells 0, 2, 4 ... of a column window; 1: cells 1, 3, 5 ...
    int32_t const rowWords = static_cast<int32_t>(g.w) * kSLICE_WORDS; // H * W < 2^24 (planSlices)
    auto* const roiCounter = reinterpret_cast<unsigned long long*>(smem + plan.sliceBytes);
    T* const stage = reinterpret_cast<T*>(smem + plan.sliceBytes + 16 + cta.warp * plan.stageBytes);
    uint32_t const* const cells = reinterpret_cast<uint32_t const*>(smem) + word;
    uint32_t const lowest = lowestWord<T>();

    if (threadIdx.x == 0)
    {
        *roiCounter = static_cast<unsigned long long>(cta.kBegin + plan.warps); // each warp starts at kBegin + warp
    }
    stageSlice(g, features, cta.b, cta.c0, reinterpret_cast<uint32_t*>(smem));
    __syncthreads();

    // Word v (this lane's channels) of bin `bin` of `level`, into the staging buffer in output order.
    auto const stageWord = [&](SliceRowsLevel const& level, int32_t bin, uint32_t v) {
        int32_t const bins = level.lh * level.lw;
        T* const first = stage + level.stageOffset + kChannels * word * bins + bin;
#pragma unroll
        for (int32_t h = 0; h < kChannels; ++h)
        {
            first[h * bins] = wordChannel<T>(v, h);
        }
    };
    // Bins `bin` (value v0) and `bin + 1` (v1, when `both`) in one store per lane: half 0 stages the first, half 1
    // the second (both halves hold both values).
    auto const stagePair = [&](SliceRowsLevel const& level, int32_t bin, uint32_t v0, uint32_t v1, bool both) {
        if (half == 0 || both)
        {
            stageWord(level, bin + half, half == 0 ? v0 : v1);
        }
    };

    for (int64_t k = cta.kBegin + cta.warp; k < cta.kEnd;)
    {
        unsigned char const* const row = roiTable + k * plan.roiRowBytes;
        int2 const header = *reinterpret_cast<int2 const*>(row); // batch (-1: invalid), derive
        int2 const* const windows = reinterpret_cast<int2 const*>(row + sizeof(SliceRoiHeader));
        int2 const mine = lane < g.sumLh + g.sumLw ? windows[lane] : make_int2(0, 0); // <= 32 windows (planSliceRows)
        auto const window = [&](int32_t i) {
            return make_int2(__shfl_sync(kFULL, mine.x, i), __shfl_sync(kFULL, mine.y, i));
        };
        // The column windows of `level` as [first, last] cells (an empty one: [0, 0], a cell that exists; its bins
        // are staged as 0), and the most cells a half reads in one of them. Every lane holds the same windows.
        int32_t first[K];
        int32_t last[K];
        uint32_t empty = 0; // bit j: column window j is empty (or j >= Lw)
        auto const columns = [&](SliceRowsLevel const& level) {
            int32_t pairs = 0;
            empty = 0;
#pragma unroll
            for (int32_t j = 0; j < K; ++j)
            {
                int2 const cw = window(level.colWindow + (j < level.lw ? j : 0));
                bool const some = j < level.lw && cw.y > cw.x;
                first[j] = some ? cw.x : 0;
                last[j] = some ? cw.y - 1 : 0;
                empty |= some ? 0U : 1U << j;
                pairs = max(pairs, some ? (cw.y - cw.x + 1) / 2 : 0);
            }
            return pairs;
        };
        // Max of this lane's cells of rows [rw.x, rw.y) of column window j into a[j], j < lw: cell first[j] + half + 2m
        // for m < the widest window's pairs (kPairs; 0: `pairs`, any number), clamped to the window's last cell
        // (max is idempotent, so a repeated cell changes nothing).
        auto const scanRows = [&](auto const pairsConstant, int32_t pairs, int32_t lw, int2 rw, uint32_t(&a)[K]) {
            constexpr int32_t kPairs = decltype(pairsConstant)::value;
            int32_t const steps = kPairs > 0 ? kPairs : pairs;
#pragma unroll kROWS_UNROLL
            for (int32_t y = rw.x; y < rw.y; ++y)
            {
                uint32_t const* const line = cells + y * rowWords;
#pragma unroll
                for (int32_t j = 0; j < K; ++j)
                {
                    if (j < lw)
                    {
#pragma unroll
                        for (int32_t m = 0; m < (kPairs > 0 ? kPairs : 1); ++m)
                        {
                            a[j] = maxWord<T>(a[j], line[min(first[j] + half + 2 * m, last[j]) * kSLICE_WORDS]);
                        }
                        if constexpr (kPairs == 0)
                        {
                            for (int32_t m = 1; m < steps; ++m)
                            {
                                a[j] = maxWord<T>(a[j], line[min(first[j] + half + 2 * m, last[j]) * kSLICE_WORDS]);
                            }
                        }
                    }
                }
            }
        };
        // Calls f(std::integral_constant<int32_t, kPairs>) for `pairs` (code with the cells at constant offsets
        // for 1-3 pairs a window, i.e. windows of up to 6 cells).
        auto const byPairs = [&](int32_t pairs, auto const f) {
            switch (pairs)
            {
            case 1: f(std::integral_constant<int32_t, 1>{}); break;
            case 2: f(std::integral_constant<int32_t, 2>{}); break;
            case 3: f(std::integral_constant<int32_t, 3>{}); break;
            default: f(std::integral_constant<int32_t, 0>{}); break;
            }
        };
        auto const halves = [&](uint32_t v) { return maxWord<T>(v, __shfl_xor_sync(kFULL, v, kSLICE_WORDS)); };

        // invalid rois: image 0's CTAs write the zeros
        bool const mineToPool = header.x == cta.b || (header.x < 0 && cta.b == 0);
        if (mineToPool)
        {
            if (header.x < 0)
            {
                for (int32_t i = lane; i < static_cast<int32_t>(plan.stageBytes / 16); i += 32)
                {
                    reinterpret_cast<uint4*>(stage)[i] = make_uint4(0, 0, 0, 0);
                }
            }
            else if (header.y != 0 && plan.finest >= 0)
            {
                // 1. The finest level F into registers (every window of the roi non-empty: the prep kernel's vote).
                SliceRowsLevel const& fine = plan.level[plan.finest];
                uint32_t acc[K][K];
#pragma unroll
                for (int32_t i = 0; i < K; ++i)
                {
#pragma unroll
                    for (int32_t j = 0; j < K; ++j)
                    {
                        acc[i][j] = lowest;
                    }
                }
                int32_t const pairs = columns(fine);
                byPairs(pairs, [&](auto const pairsConstant) {
#pragma unroll
                    for (int32_t i = 0; i < K; ++i)
                    {
                        if (i < fine.lh)
                        {
                            scanRows(pairsConstant, pairs, fine.lw, window(fine.rowWindow + i), acc[i]);
                        }
                    }
                });
#pragma unroll
                for (int32_t i = 0; i < K; ++i)
                {
#pragma unroll
                    for (int32_t j = 0; j < K; ++j)
                    {
                        acc[i][j] = halves(acc[i][j]);
                    }
                }
#pragma unroll
                for (int32_t i = 0; i < K; ++i)
                {
#pragma unroll
                    for (int32_t j = 0; j < K; j += 2)
                    {
                        if (i < fine.lh && j < fine.lw)
                        {
                            stagePair(fine, i * fine.lw + j, acc[i][j], acc[i][j + 1 < K ? j + 1 : j], j + 1 < fine.lw);
                        }
                    }
                }
                // 2. The other levels from those registers: bins of RG x CG bins of F, at constant indices.
                auto const derive = [&](SliceRowsLevel const& level, auto const rgConstant, auto const cgConstant) {
                    constexpr int32_t kRG = decltype(rgConstant)::value;
                    constexpr int32_t kCG = decltype(cgConstant)::value;
#pragma unroll
                    for (int32_t p = 0; p < K / kRG; ++p)
                    {
                        uint32_t v[K / kCG + 1];
#pragma unroll
                        for (int32_t q = 0; q < K / kCG; ++q)
                        {
                            v[q] = acc[p * kRG][q * kCG];
#pragma unroll
                            for (int32_t a = 0; a < kRG; ++a)
                            {
#pragma unroll
                                for (int32_t c = 0; c < kCG; ++c)
                                {
                                    if (a + c > 0)
                                    {
                                        v[q] = maxWord<T>(v[q], acc[p * kRG + a][q * kCG + c]);
                                    }
                                }
                            }
                        }
                        v[K / kCG] = v[0];
#pragma unroll
                        for (int32_t q = 0; q < K / kCG; q += 2)
                        {
                            if (p < level.lh && q < level.lw)
                            {
                                stagePair(level, p * level.lw + q, v[q], v[q + 1], q + 1 < level.lw);
                            }
                        }
                    }
                };
                for (int32_t l = 0; l < plan.levels; ++l)
                {
                    SliceRowsLevel const& level = plan.level[l];
                    if (level.rowGroup == 0)
                    {
                        continue; // F
                    }
                    int32_t const groups = level.rowGroup * 16 + level.colGroup;
                    if (groups == 0x22)
                    {
                        derive(level, std::integral_constant<int32_t, 2>{}, std::integral_constant<int32_t, 2>{});
                    }
                    else if (groups == 0x33 && K % 3 == 0)
                    {
                        derive(level, std::integral_constant<int32_t, 3>{}, std::integral_constant<int32_t, 3>{});
                    }
                    else if (groups == 0x44 && K % 4 == 0)
                    {
                        derive(level, std::integral_constant<int32_t, 4>{}, std::integral_constant<int32_t, 4>{});
                    }
                    else if (level.rowGroup == fine.lh && level.colGroup == fine.lw && level.lh == 1 && level.lw == 1)
                    {
                        // one bin over all of F: its K x K registers, lowest outside F
                        derive(level, std::integral_constant<int32_t, K>{}, std::integral_constant<int32_t, K>{});
                    }
                    else
                    {
                        // any other grouping: F's rows in order, closing a row bin every rowGroup rows
                        uint32_t run[K];
#pragma unroll
                        for (int32_t j = 0; j < K; ++j)
                        {
                            run[j] = lowest;
                        }
                        int32_t left = level.rowGroup;
                        int32_t binRow = 0;
#pragma unroll
                        for (int32_t i = 0; i < K; ++i)
                        {
                            if (i < fine.lh)
                            {
#pragma unroll
                                for (int32_t j = 0; j < K; ++j)
                                {
                                    run[j] = maxWord<T>(run[j], acc[i][j]);
                                }
                                if (--left == 0)
                                {
                                    uint32_t v = lowest;
                                    int32_t columnsLeft = level.colGroup;
                                    int32_t binColumn = 0;
#pragma unroll
                                    for (int32_t j = 0; j < K; ++j)
                                    {
                                        if (j < fine.lw)
                                        {
                                            v = maxWord<T>(v, run[j]);
                                            if (--columnsLeft == 0)
                                            {
                                                if (half == 0)
                                                {
                                                    stageWord(level, binRow * level.lw + binColumn, v);
                                                }
                                                v = lowest;
                                                columnsLeft = level.colGroup;
                                                ++binColumn;
                                            }
                                        }
                                        run[j] = lowest;
                                    }
                                    left = level.rowGroup;
                                    ++binRow;
                                }
                            }
                        }
                    }
                }
            }
            else
            {
                // Every level from the map, a row bin at a time (empty windows give 0).
                for (int32_t l = 0; l < plan.levels; ++l)
                {
                    SliceRowsLevel const& level = plan.level[l];
                    int32_t const pairs = columns(level);
                    byPairs(pairs, [&](auto const pairsConstant) {
                        for (int32_t i = 0; i < level.lh; ++i)
                        {
                            int2 const rw = window(level.rowWindow + i);
                            uint32_t a[K];
#pragma unroll
                            for (int32_t j = 0; j < K; ++j)
                            {
                                a[j] = lowest;
                            }
                            scanRows(pairsConstant, pairs, level.lw, rw, a);
#pragma unroll
                            for (int32_t j = 0; j < K; ++j)
                            {
                                uint32_t const both = halves(a[j]);
                                a[j] = rw.y <= rw.x || ((empty >> j) & 1U) != 0 ? 0U : both;
                            }
#pragma unroll
                            for (int32_t j = 0; j < K; j += 2)
                            {
                                if (j < level.lw)
                                {
                                    stagePair(level, i * level.lw + j, a[j], a[j + 1 < K ? j + 1 : j], j + 1 < level.lw);
                                }
                            }
                        }
                    });
                }
            }
            T* const outRow = output + k * g.features;
            __syncwarp();
            for (int32_t l = 0; l < plan.levels; ++l)
            {
                SliceRowsLevel const& level = plan.level[l];
                int32_t const bins = level.lh * level.lw;
                copyOut(outRow + level.outOffset + cta.c0 * bins, stage + level.stageOffset, cta.validChannels * bins,
                    lane);
            }
            __syncwarp(); // the next roi rewrites the staging buffer
        }
        unsigned long long next = 0;
        if (lane == 0)
        {
            next = SPP_ROI_DYNAMIC != 0 ? atomicAdd(roiCounter, 1ULL) : k + plan.warps;
        }
        k = static_cast<int64_t>(__shfl_sync(kFULL, next, 0));
    }
}

} // namespace roi
} // namespace spp
