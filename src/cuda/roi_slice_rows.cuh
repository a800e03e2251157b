// The "rows" ROI kernel (RoiAlgo::kROWS): max pooling from a channel slice staged in shared memory, like the slices
// kernel (roi_slices.cuh: the same prep kernel, roi table, NHWC copy, slice staging and grid), with a roi's work laid
// out differently. Included by roi_kernels.cu only.
//
// Why: in the slices kernel most of a roi's instructions and shared-memory traffic are not the map reads but the
// bookkeeping around them: rounds of derived tasks reading the finest level's results back from shared memory, the
// bin-major staging and the gathering copy that undoes it (docs/roi.md, "What 40 us asks"). Here, per (roi, slice),
// one warp:
//  1. scans the finest level F (the derived schedule's one phase-0 level, Fh <= 8, Fw <= 8) row bin by row bin:
//     lane quad j owns column bin j (lane t of the quad: 16 bytes = words 4t .. 4t + 3 of every pixel), and the warp
//     walks each row bin's rows together, keeping the Fh results in registers;
//  2. derives every other level from those registers when the roi votes that its windows nest (the prep kernel's
//     vote, exact on the actual windows): a level of Lh x Lw takes Fh / Lh consecutive row results in-lane and
//     Fw / Lw consecutive column quads by shuffles;
//  3. stages the results in output order ([channel][bin] per level, one buffer per warp), so the copy to the output
//     is a plain run of 16-byte streaming stores per level.
// A roi whose windows do not nest (or a plan that derives nothing) scans every level from the map the same way,
// staging each row bin as it completes (empty windows give 0). Fits pyramids whose levels have at most 8 columns and
// at most 32 windows in all (one per lane); planSliceRows says which.
#pragma once

#include "roi_slices.cuh"

#include <cstdint>
#include <type_traits>

namespace spp
{
namespace roi
{

constexpr int32_t kROWS_MAX_ROWS = 8;     //!< Fh: the finest level's row results are registers
constexpr int32_t kROWS_MAX_COLUMNS = 8;  //!< Lw of every level: one lane quad per column bin
constexpr int32_t kROWS_MAX_WINDOWS = 32; //!< sumLh + sumLw: one window per lane
#ifndef SPP_ROI_ROWS_BULK
//! Compile-time knob (scripts/device_tune.sh): 1 = on sm_90+, a warp's staged results leave by the copy engine (one
//! cp.async.bulk per level, issued by lane 0, waited for only before the next roi's results are staged) instead of the
//! lanes' 16-byte stores; 0 = the lanes' stores.
#define SPP_ROI_ROWS_BULK 0
#endif
#ifndef SPP_ROI_ROWS_WARPS
//! Compile-time knob (scripts/device_tune.sh): most warps per CTA of the rows kernel (shared memory usually decides:
//! roi-bench's 38 x 63 map leaves room for 20 with {1,2,3,6}).
#define SPP_ROI_ROWS_WARPS 20
#endif

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
    uint32_t owners;     //!< derived levels: bit j set when lane quad j stages a column bin, namely bits
                         //!< 8 + 3j .. 10 + 3j
};

//! How the rows kernel is laid out (host-planned; a kernel parameter).
struct SliceRowsPlan
{
    int32_t warps;   //!< per CTA
    int32_t groups;  //!< CTAs per (image, slice)
    int32_t slices;
    int32_t levels;
    int32_t finest;  //!< F, the level the others derive from; -1: the plan derives nothing
    int64_t sliceBytes;  //!< H * W * 64
    int64_t stageBytes;  //!< per warp: 64 * totalBins
    int64_t roiRowBytes; //!< one roi's row of the roi table
    int64_t smemBytes;   //!< per CTA: the slice, the roi counter (16 bytes) and the staging buffers
    SliceRowsLevel level[kMAX_LEVELS];
};

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
        level.owners = 0;
        if (rows.finest >= 0 && l != finest)
        {
            // derived (every level but F is, with one phase-0 level), so Lh | Fh and Lw | Fw
            level.rowGroup = g.levelsH[finest] / g.levelsH[l];
            level.colGroup = g.levelsW[finest] / g.levelsW[l];
            for (int32_t j = 0; j < g.levelsW[finest]; j += level.colGroup)
            {
                level.owners |= (1U << j) | static_cast<uint32_t>(j / level.colGroup) << (8 + 3 * j);
            }
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
    rows.warps = static_cast<int32_t>(fit < SPP_ROI_ROWS_WARPS ? fit : SPP_ROI_ROWS_WARPS);
    rows.smemBytes = rows.sliceBytes + 16 + rows.warps * rows.stageBytes;
    rows.slices = setup.plan.slices;
    rows.groups = sliceGroups(g, rows.slices, rows.warps, device.sms);
    return true;
}

__device__ __forceinline__ uint4 shuffleDown(uint4 v, int32_t delta)
{
    return make_uint4(__shfl_down_sync(0xffffffffU, v.x, delta), __shfl_down_sync(0xffffffffU, v.y, delta),
        __shfl_down_sync(0xffffffffU, v.z, delta), __shfl_down_sync(0xffffffffU, v.w, delta));
}

template <typename T>
__device__ __forceinline__ uint4 maxWords(uint4 a, uint4 b)
{
    return make_uint4(maxWord<T>(a.x, b.x), maxWord<T>(a.y, b.y), maxWord<T>(a.z, b.z), maxWord<T>(a.w, b.w));
}

#if SPP_ROI_ROWS_BULK != 0 && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
constexpr bool kROWS_BULK = true;
#else
constexpr bool kROWS_BULK = false;
#endif

//! SPP_ROI_ROWS_BULK: lane 0 waits until the copy engine has read the warp's staging buffer (its last bulk group).
__device__ __forceinline__ void waitStagingRead(bool bulk, int32_t lane)
{
#if SPP_ROI_ROWS_BULK != 0 && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    if (bulk && lane == 0)
    {
        asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory");
    }
    __syncwarp();
#else
    (void) bulk;
    (void) lane;
#endif
}

template <typename T>
__global__ void __launch_bounds__(SPP_ROI_ROWS_WARPS * 32, 1) roiSliceRowsKernel(RoiGeometry g, SliceRowsPlan plan,
    T const* __restrict__ features, unsigned char const* __restrict__ roiTable, T* __restrict__ output)
{
    constexpr int32_t kChannels = SliceWord<T>::kChannels;
    constexpr int32_t kSliceChannels = kSLICE_WORDS * kChannels;
    constexpr uint32_t kFULL = 0xffffffffU;
    extern __shared__ __align__(16) unsigned char smem[];

    SliceCta const cta = sliceCta<kSliceChannels>(g, plan.groups);
    int32_t const lane = cta.lane;
    int32_t const warp = cta.warp;
    int32_t const j = lane / 4; // the lane quad: a column bin
    int32_t const t = lane % 4; // words 4t .. 4t + 3 of every pixel
    int32_t const rowVectors = static_cast<int32_t>(g.w) * 4; // 16-byte vectors per map row (H * W < 2^24)
    auto* const roiCounter = reinterpret_cast<unsigned long long*>(smem + plan.sliceBytes);
    T* const stage = reinterpret_cast<T*>(smem + plan.sliceBytes + 16 + warp * plan.stageBytes);
    uint4 const* const pixels = reinterpret_cast<uint4 const*>(smem) + t;
    uint4 const lowest = make_uint4(lowestWord<T>(), lowestWord<T>(), lowestWord<T>(), lowestWord<T>());

    if (threadIdx.x == 0)
    {
        *roiCounter = static_cast<unsigned long long>(cta.kBegin + plan.warps); // each warp starts at kBegin + warp
    }
    stageSlice(g, features, cta.b, cta.c0, reinterpret_cast<uint32_t*>(smem));
    __syncthreads();
    // SPP_ROI_ROWS_BULK: every level's run of this slice 16-byte aligned, a multiple of 16 bytes
    bool bulk = kROWS_BULK && (reinterpret_cast<uintptr_t>(output) & 15) == 0
        && g.features * static_cast<int64_t>(sizeof(T)) % 16 == 0;
    for (int32_t l = 0; l < plan.levels; ++l)
    {
        int64_t const bins = plan.level[l].lh * plan.level[l].lw;
        bulk = bulk && plan.level[l].outOffset * static_cast<int64_t>(sizeof(T)) % 16 == 0
            && cta.validChannels * bins * static_cast<int64_t>(sizeof(T)) % 16 == 0;
    }

    // This lane's 4 words of bin `bin` of `level`, into the staging buffer in output order.
    auto const stageBin = [&](SliceRowsLevel const& level, int32_t bin, uint4 v) {
        int32_t const bins = level.lh * level.lw;
        T* const first = stage + level.stageOffset + 4 * kChannels * t * bins + bin;
        uint32_t const w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int32_t e = 0; e < 4; ++e)
        {
#pragma unroll
            for (int32_t h = 0; h < kChannels; ++h)
            {
                first[(e * kChannels + h) * bins] = wordChannel<T>(w[e], h);
            }
        }
    };

    for (int64_t k = cta.kBegin + warp; k < cta.kEnd;)
    {
        unsigned char const* const row = roiTable + k * plan.roiRowBytes;
        int2 const header = *reinterpret_cast<int2 const*>(row); // batch (-1: invalid), derive
        int2 const* const windows = reinterpret_cast<int2 const*>(row + sizeof(SliceRoiHeader));
        int2 const mine = lane < g.sumLh + g.sumLw ? windows[lane] : make_int2(0, 0); // <= 32 windows (planSliceRows)
        auto const window = [&](int32_t i) {
            return make_int2(__shfl_sync(kFULL, mine.x, i), __shfl_sync(kFULL, mine.y, i));
        };
        // Scans `level` from the map, lane quad j over column bin j: keep = true puts row bin i's maxima in acc[i]
        // (every window non-empty: the derived schedule runs only then), false stages each (0 when empty).
        auto const scanLevel = [&](SliceRowsLevel const& level, auto const keep, uint4(&acc)[kROWS_MAX_ROWS]) {
            constexpr bool kKeep = decltype(keep)::value;
            bool const owner = j < level.lw;
            int2 const cw = window(level.colWindow + (owner ? j : 0));
            int32_t const cols = owner && cw.y > cw.x ? cw.y - cw.x : 0;
            int32_t widest = cols;
#pragma unroll
            for (int32_t d = 4; d < 32; d *= 2)
            {
                widest = max(widest, __shfl_xor_sync(kFULL, widest, d));
            }
            uint4 const* const columnStart = pixels + cw.x * 4;
            auto const scan = [&](auto const shape) {
                constexpr int32_t kCols = decltype(shape)::value; // 0: any width
                auto const rowBin = [&](int2 const rw) {
                    uint4 a = lowest;
                    uint4 const* p = columnStart + rw.x * rowVectors;
#pragma unroll 2
                    for (int32_t y = rw.x; y < rw.y; ++y, p += rowVectors)
                    {
                        if constexpr (kCols == 0)
                        {
                            for (int32_t x = 0; x < cols; ++x)
                            {
                                a = maxWords<T>(a, p[x * 4]);
                            }
                        }
                        else
                        {
#pragma unroll
                            for (int32_t x = 0; x < kCols; ++x)
                            {
                                if (x < cols)
                                {
                                    a = maxWords<T>(a, p[x * 4]);
                                }
                            }
                        }
                    }
                    return a;
                };
                if constexpr (kKeep)
                {
#pragma unroll
                    for (int32_t i = 0; i < kROWS_MAX_ROWS; ++i)
                    {
                        if (i < level.lh)
                        {
                            acc[i] = rowBin(window(level.rowWindow + i));
                        }
                    }
                }
                else
                {
                    for (int32_t i = 0; i < level.lh; ++i)
                    {
                        int2 const rw = window(level.rowWindow + i);
                        uint4 const a = rowBin(rw);
                        if (owner)
                        {
                            stageBin(level, i * level.lw + j, rw.y > rw.x && cols > 0 ? a : make_uint4(0, 0, 0, 0));
                        }
                    }
                }
            };
            scanByWidth(widest, scan, [&] { scan(std::integral_constant<int32_t, 0>{}); });
        };

        // invalid rois: image 0's CTAs write the zeros
        bool const mineToPool = header.x == cta.b || (header.x < 0 && cta.b == 0);
        if (mineToPool)
        {
            uint4 acc[kROWS_MAX_ROWS];
            if (header.x < 0)
            {
                waitStagingRead(bulk, lane);
                for (int32_t i = lane; i < static_cast<int32_t>(plan.stageBytes / 16); i += 32)
                {
                    reinterpret_cast<uint4*>(stage)[i] = make_uint4(0, 0, 0, 0);
                }
            }
            else if (header.y != 0 && plan.finest >= 0)
            {
                SliceRowsLevel const& fine = plan.level[plan.finest];
                scanLevel(fine, std::true_type{}, acc);
                waitStagingRead(bulk, lane);
#pragma unroll
                for (int32_t i = 0; i < kROWS_MAX_ROWS; ++i)
                {
                    if (i < fine.lh && j < fine.lw)
                    {
                        stageBin(fine, i * fine.lw + j, acc[i]);
                    }
                }
                for (int32_t l = 0; l < plan.levels; ++l)
                {
                    SliceRowsLevel const& level = plan.level[l];
                    if (level.rowGroup == 0)
                    {
                        continue; // F
                    }
                    bool const columnOwner = ((level.owners >> j) & 1U) != 0; // only quads j < Fw
                    int32_t const column = static_cast<int32_t>((level.owners >> (8 + 3 * j)) & 7U);
                    uint4 run = lowest;
                    int32_t left = level.rowGroup;
                    int32_t binRow = 0;
#pragma unroll
                    for (int32_t m = 0; m < kROWS_MAX_ROWS; ++m)
                    {
                        if (m < fine.lh)
                        {
                            run = maxWords<T>(run, acc[m]);
                            if (--left == 0) // a row bin of this level is complete: fold its column groups
                            {
                                uint4 v = run;
                                for (int32_t d = 1; d < level.colGroup; ++d)
                                {
                                    v = maxWords<T>(v, shuffleDown(run, 4 * d));
                                }
                                if (columnOwner)
                                {
                                    stageBin(level, binRow * level.lw + column, v);
                                }
                                run = lowest;
                                left = level.rowGroup;
                                ++binRow;
                            }
                        }
                    }
                }
            }
            else
            {
                waitStagingRead(bulk, lane);
                for (int32_t l = 0; l < plan.levels; ++l)
                {
                    scanLevel(plan.level[l], std::false_type{}, acc);
                }
            }
            T* const outRow = output + k * g.features;
#if SPP_ROI_ROWS_BULK != 0 && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
            if (bulk)
            {
                asm volatile("fence.proxy.async.shared::cta;" ::: "memory"); // this lane's staging, to the copy engine
                __syncwarp();
                if (lane == 0)
                {
                    for (int32_t l = 0; l < plan.levels; ++l)
                    {
                        SliceRowsLevel const& level = plan.level[l];
                        int32_t const bins = level.lh * level.lw;
                        asm volatile("cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], %2;" ::"l"(
                                         outRow + level.outOffset + cta.c0 * bins),
                            "r"(static_cast<uint32_t>(__cvta_generic_to_shared(stage + level.stageOffset))),
                            "r"(static_cast<uint32_t>(cta.validChannels * bins * static_cast<int32_t>(sizeof(T))))
                            : "memory");
                    }
                    asm volatile("cp.async.bulk.commit_group;" ::: "memory");
                }
            }
            else
#endif
            {
                __syncwarp();
                for (int32_t l = 0; l < plan.levels; ++l)
                {
                    SliceRowsLevel const& level = plan.level[l];
                    int32_t const bins = level.lh * level.lw;
                    copyOut(outRow + level.outOffset + cta.c0 * bins, stage + level.stageOffset,
                        cta.validChannels * bins, lane);
                }
                __syncwarp(); // the next roi rewrites the staging buffer
            }
        }
        unsigned long long next = 0;
        if (lane == 0)
        {
            next = SPP_ROI_DYNAMIC != 0 ? atomicAdd(roiCounter, 1ULL) : k + plan.warps;
        }
        k = static_cast<int64_t>(__shfl_sync(kFULL, next, 0));
    }
#if SPP_ROI_ROWS_BULK != 0 && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    if (bulk && lane == 0)
    {
        asm volatile("cp.async.bulk.wait_group 0;" ::: "memory"); // the CTA's shared memory must outlive the copies
    }
#endif
}

} // namespace roi
} // namespace spp
