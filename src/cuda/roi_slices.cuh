// The "slices" ROI kernel (RoiAlgo::kSLICES): a channel slice of one image staged in shared memory, rois pooled from
// there. Included by roi_kernels.cu only.
//
// Why: every roi reads its window once per level from the feature map; with thousands of rois over one small map
// (SPP-net / Fast R-CNN detection) those reads, not the output, limit the L2-bound kernels. Here a CTA copies one
// slice of 16 four-byte words per pixel (16 fp32 channels, or 32 fp16/bf16 channels as pairs) of image b into shared
// memory once, [pixel][word], and its warps then pool a run of rois from it. A roi's work for one slice is small
// (about 50 bins of a few cells each for {1,2,3,6}), so what costs is the bookkeeping around it; the host therefore
// plans everything that does not depend on the roi (SliceWindows: the window table; SlicePlan: the task tables), and
// everything that depends on the roi but not on the slice is done once per roi, before the pooling. Two launches:
//  A. roiSlicePrepKernel writes the roi table to the workspace (SliceRoiHeader + the roi's windows), one warp per roi:
//     1. Windows, one per lane: the row windows of all levels, then the column windows (core/roi_bins.h: the same
//        fp32 geometry as the CPU reference).
//     2. Max only: a level whose Lh and Lw divide those of a finer level is derived from that level's bins instead of
//        being read from the map (the host picks the source needing the fewest reads, e.g. 3 and 2 from 6, 1 from
//        2), but only where every one of its windows is exactly the union of the source windows it covers; that is
//        checked per roi on the actual windows (one lane per window, one vote), so it is exact whatever the rounding
//        did. A source window must also be non-empty (an empty bin is staged as 0, see 4). If any window of the roi
//        fails, the roi uses the direct schedule: every level read from the map.
//     Its other CTAs copy NCHW features to NHWC in the workspace (pixel stride rounded up to 16 bytes), so the
//     pooling kernel stages every slice with 16-byte copies.
//  B. roiSlicesKernel: per (roi group, slice, image) CTA, the slice is staged, then a warp per roi (the warps take the
//     rois of the CTA's run from a shared counter; a roi's row of the roi table is copied to shared memory while the
//     warp pools its previous roi) does:
//     3. Tasks, one per bin, in the host-built order: phase 0 reads the map, phase p > 0 combines results of earlier
//        phases, read back from the staging buffer. A warp runs 8 tasks at once, 4 lanes per task, each lane reading
//        16 bytes (4 words) of every cell (max keeps NaN: the same maxNaN / __hmax2_nan as elsewhere; avg sums in
//        fp32). In the fp32 max kernel (SPP_ROI_ROWS) a phase 0 of one level with at most 8 columns is a row scan
//        instead: lane quad j owns column bin j, and the warp walks each row bin's rows together.
//     4. Results go to a per-warp staging buffer (an empty window gives 0 there). Max kernels (SPP_ROI_BIN_MAJOR,
//        SPP_ROI_BIN_MAJOR_HALF): like the map, [bin][16 words], so a lane stages and a derived task reads 16 bytes at
//        a time. Avg kernels: laid out exactly like the roi's output row for this slice, per level
//        [channel][Lh * Lw] (fp32 avg too, SPP_ROI_BIN_MAJOR = 2).
//     5. The staging buffer is copied to the output with 16-byte streaming stores when aligned (each level's block of
//        the slice is one contiguous run of the output row; bin-major gathers each vector's 4 words from a table),
//        else element by element.
// Shared memory per warp is only the staging buffer and two roi-table rows (no separate scratch for derived levels):
// the slice of a 38 x 63 map takes 153 KB, and what is left holds 16 warps instead of 12, which the latency-bound
// task loops need (H200, roi-bench fp32 max: 8 warps 148 us, 10 warps 139 us, 12 warps 118 us).
// Grid of B: (roi groups, channel slices, images). Rois of other images are skipped; invalid rois (batch index out of
// range, non-finite values) are written as zeros by the CTAs of image 0.
#pragma once

#include "device_limits.h"
#include "roi_common.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_pipeline.h>

#include <algorithm>
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
constexpr int32_t kSLICE_MAX_WINDOWS = 2 * kSLICE_MAX_BINS; //!< sum(Lh) + sum(Lw) <= 2 * sum(Lh * Lw)
constexpr int64_t kSLICE_MAX_ROIS = int64_t{1} << 40; //!< keeps K * roi-table row bytes far from int64 overflow
#ifndef SPP_ROI_SLICE_WARPS
#define SPP_ROI_SLICE_WARPS 16 // compile-time knob (scripts/device_tune.sh): most warps per CTA (bin-major: below)
#endif
constexpr int32_t kSLICE_MAX_WARPS = SPP_ROI_SLICE_WARPS;
#ifndef SPP_ROI_FIXED_DERIVED
//! Compile-time knob (scripts/device_tune.sh): derived tasks (max) whose sources are 2x2 or 3x3 bins run fully
//! unrolled (loads at constant offsets, no loop control), as the tasks kernel's SPP_TASKS_FIXED does: 0 = never,
//! 1 = in every kernel, 2 (default) = in the kernels of 4-byte types only. H100, session 14, roi-bench pipelined
//! (mean of two rounds), 0 -> 1: fp32 max 95.3 -> 90.0 us, fp16 max 62.7 -> 65.5, avg unchanged (no derived tasks).
#define SPP_ROI_FIXED_DERIVED 2
#endif
#ifndef SPP_ROI_DYNAMIC
//! Compile-time knob (scripts/device_tune.sh): 1 = a CTA's warps take their next roi from a counter in shared memory;
//! 0 = warp w pools rois kBegin + w, + warps, ... Rois differ in size (roi-bench: 1 to 25 cells a side), so with the
//! fixed stride the warps that drew small rois idled at the end while others finished large ones. H100, session 13,
//! roi-bench pipelined: fp32 max 96.0 -> 95.5 us, fp32 avg 161.4 -> 156.0, fp16 max 63.0 -> 62.9, fp16 avg 186.9 ->
//! 174.1 (mean of two rounds).
#define SPP_ROI_DYNAMIC 1
#endif
#ifndef SPP_ROI_BIN_MAJOR
//! Compile-time knob (scripts/device_tune.sh): how the kernels of 4-byte types stage a roi's results in shared memory.
//! Bin-major = [bin][16 words] (64 bytes a bin, bins in level order), the layout the map already has:
//! a lane stages its 4 words of a bin with one 16-byte store and a derived task reads each source bin with one
//! 16-byte load; the output copy gathers each 16-byte output vector (one channel, 4 bins) word by word. Output order
//! = [channel][bin] per level (as the 2-byte kernels always do): the copy is 16-byte loads, but staging a result
//! takes 4 strided 4-byte stores and a derived source 4 strided 4-byte loads. 0 = output order everywhere; 1 =
//! bin-major in the 4-byte kernels of both modes; 2 (default) = bin-major in the 4-byte max kernels only (avg derives
//! no levels, so it keeps only the cheaper stores and pays for the gathering copy). Nsight Compute, H100, session
//! 15, roi-bench fp32 max with 0: per (roi, slice) 506 shared wavefronts, 160 of them derived-task loads (81 ideal:
//! rounds of 1-4 active bins, 4-byte loads) and 73 result stores (46 ideal); the map's cell loads were 204.
//! H100, session 16, roi-bench pipelined (two rounds each), 0 -> 1 (with SPP_ROI_GATHER_UNROLL=4): fp32 max
//! 90.7 / 90.5 -> 86.7 / 86.9 us (-4 %), fp32 avg 157.4 / 157.4 -> 158.8 / 158.8 (+1 %); fp16 unchanged.
#define SPP_ROI_BIN_MAJOR 2
#endif
#ifndef SPP_ROI_BIN_MAJOR_HALF
//! Compile-time knob (scripts/device_tune.sh): 1 (default) = the 2-byte (fp16 / bf16) max kernels stage bin-major
//! too (each word two channels; derived sources one 16-byte load, unrolled like the 4-byte ones; the output copy
//! gathers 8 half-words per 16-byte vector). 0 = output order. Session 20, H100, roi-bench pipelined, two rounds:
//! fp16 max 62.8 / 63.2 -> 53.5 / 53.1 us (-15 %); the other kernels unchanged.
#define SPP_ROI_BIN_MAJOR_HALF 1
#endif
#ifndef SPP_ROI_ROWS
//! Compile-time knob (scripts/device_tune.sh): 1 = in the bin-major max kernels, when phase 0 of the derived schedule
//! is one level of at most 8 columns ({1,2,3,6}: the 6x6 bins), that phase runs as a row scan instead of 8 tasks at a
//! time: lane quad j owns column bin j for the whole roi, the warp walks each row bin's rows together and each lane
//! reads its column window's cells of a row at constant offsets (code specialised for 1-6 cells per window), so the
//! loop is warp-uniform (no divergent task sizes, no flat-index bookkeeping). 0 = the task rounds everywhere; 1 = the
//! row scan in the fp32 and the 2-byte kernels; 2 (default) = in the fp32 kernels only. Session 20, H100, roi-bench
//! pipelined, two rounds, 0 -> 1 (both builds passed RoiKernels.*): fp32 max 82.5 / 82.1 -> 79.2 / 79.3 us (-4 %),
//! fp16 max 53.6 / 53.2 -> 60.8 / 61.0 (+14 %: 24 of 32 lanes busy where 8 task rounds keep more busy).
#define SPP_ROI_ROWS 2
#endif
#ifndef SPP_ROI_ROWS_ROTATE
//! Compile-time knob (scripts/device_tune.sh): 1 = in the row scan (SPP_ROI_ROWS), the odd lane quad of each pair that
//! shares a phase of the 16-byte loads (quads 2m and 2m + 1, lanes 8m .. 8m + 7) walks its rows one row later (the
//! first row last) when its column window starts on a pixel of the same parity as its partner's. Two pixels of the
//! same parity fall on the same 16 banks (64 bytes a pixel), so those loads took two wavefronts; with an odd row pitch
//! a row later is the other parity. Nsight Compute, session 22, H100, the default: map and derived source loads 271
//! shared wavefronts per (roi, slice) for 184 ideal, of 425 in all. 0 (default until measured) = in order.
#define SPP_ROI_ROWS_ROTATE 0
#endif
#ifndef SPP_ROI_GATHER_UNROLL
//! Compile-time knob (scripts/device_tune.sh): unroll factor of the bin-major output copy's loop. Left to the
//! compiler, it unrolled it so far that the fp32 kernels needed 128 registers and spilled (84 with 1, 78 with 4).
//! H100, session 16, fp32 max with bin-major: 1 -> 4: 87.8 / 87.6 -> 86.7 / 86.9 us.
#define SPP_ROI_GATHER_UNROLL 4
#endif
constexpr int32_t kSLICE_GATHER_UNROLL = SPP_ROI_GATHER_UNROLL;
constexpr int32_t kSLICE_MIN_WARPS = 4;

//! Whether the `mode` kernels of `elementBytes`-byte elements stage results bin-major (SPP_ROI_BIN_MAJOR).
__host__ __device__ constexpr bool sliceBinMajor(int32_t elementBytes, PoolMode mode)
{
    return (elementBytes == 4 && (SPP_ROI_BIN_MAJOR == 1 || (SPP_ROI_BIN_MAJOR == 2 && mode == PoolMode::kMAX)))
        || (elementBytes == 2 && SPP_ROI_BIN_MAJOR_HALF != 0 && mode == PoolMode::kMAX);
}

//! Whether the max kernels of `elementBytes`-byte elements may run phase 0 as a row scan (SPP_ROI_ROWS).
__host__ __device__ constexpr bool sliceRowScan(int32_t elementBytes)
{
    return SPP_ROI_ROWS == 1 || (SPP_ROI_ROWS == 2 && elementBytes == 4);
}

#ifndef SPP_ROI_BIN_MAJOR_WARPS
//! Compile-time knob (scripts/device_tune.sh): most warps per CTA of the kernels that stage bin-major. They need ~78
//! registers a thread where the others need 120-128, so more warps fit the register file (24 x 32 x 78 < 64 K);
//! shared memory then sets the count (planSlices: roi-bench's 38x63 map leaves room for 20). H200, session 16,
//! roi-bench pipelined (two rounds), 16 -> 20: fp32 max 86.3 / 86.3 -> 82.2 / 81.7 us (-5 %).
#define SPP_ROI_BIN_MAJOR_WARPS 20
#endif

//! Most warps per CTA of the `mode` kernels of `elementBytes`-byte elements (the kernels' launch bounds).
__host__ __device__ constexpr int32_t sliceMaxWarps(int32_t elementBytes, PoolMode mode)
{
    return sliceBinMajor(elementBytes, mode) ? SPP_ROI_BIN_MAJOR_WARPS : kSLICE_MAX_WARPS;
}

//! Bin-major staging: byte offset of 16-byte chunk `q` (words 4q .. 4q + 3) of the bin at byte offset `binBytes`
//! (bin * 64). The chunks are permuted so that the output copy, whose lanes read one word of the same channel from bins
//! 4, 8, 12 ... apart (consecutive 16-byte output vectors of one channel), finds it in different banks: with
//! g = bin / 4, bins of odd g swap places in pairs (moving to the other half of the 32 banks) and the chunks of a bin
//! are rotated by (g / 2) % 4 (moving within the half), so 8 consecutive g give 8 different bank sets.
__host__ __device__ constexpr uint32_t sliceBinChunk(uint32_t binBytes, uint32_t q)
{
    return (binBytes ^ ((binBytes >> 2) & 64U)) + 16U * (q ^ ((binBytes >> 9) & 3U));
}

//! Bin-major staging: word offset of word `w` (0 .. 15) of bin `bin` (sliceBinChunk's layout).
__host__ __device__ constexpr uint32_t sliceBinWord(uint32_t bin, uint32_t w)
{
    return sliceBinChunk(bin * 64, w >> 2) / 4 + (w & 3U);
}

//! Channels per 4-byte word.
template <typename T>
struct SliceWord
{
    static constexpr int32_t kChannels = 4 / static_cast<int32_t>(sizeof(T));
};

//! One window of a roi (host-built, the same for every roi): the lane that computes it and, when its level is derived,
//! the source windows it must be the union of.
struct SliceWindow
{
    int16_t index;     //!< bin index along its axis
    int16_t bins;      //!< Lh (row windows, table indices < sumLh) or Lw (column windows), | kSLICE_SOURCE_WINDOW
    int16_t nestFirst; //!< table index of the first source window it must start with; -1: level not derived
    int16_t nestLast;  //!< table index of the last source window it must end with
};

//! One bin of a roi (host-built): where its windows and values are, as byte offsets, in four words (one 16-byte
//! shared load). Tasks of phase 0 read the map over their own windows; the others combine source rows x source columns
//! results of a finer level, read back from the staging buffer.
struct SliceTask
{
    uint32_t windows; //!< bits 0-15: byte offset of its row window in the roi's window table; 16-31: of its column one
    uint32_t stage;   //!< bits 0-15: staging byte offset of its first channel; 16-31: bytes between channels
                      //!< (Lh*Lw*size); bin-major (sliceBinMajor): bin * 64 (before sliceBinChunk)
    uint32_t source;  //!< derived: bits 0-15: staging byte offset of its first source bin's first channel; 16-31: bytes
                      //!< between the source level's channels; bin-major: the first source bin * 64
    uint32_t shape;   //!< derived: bits 0-15: staging bytes per source row; 16-23: source rows; 24-31: source columns
};
//! SliceWindow::bins flag: the window belongs to a level that others derive from, so it must not be empty (an empty
//! bin is staged as 0, not as the max identity a coarser bin could combine).
constexpr int16_t kSLICE_SOURCE_WINDOW = 0x4000;
static_assert(sizeof(SliceTask) == 16, "SliceTask is copied as 16-byte words");
static_assert(sizeof(SliceWindow) == 8, "SliceWindow is copied as 8-byte words");

//! The roi table, the slices kernel's workspace: one row per roi, written once by roiSlicePrepKernel and read by
//! every channel slice's CTA, so the box, the windows and the nesting vote are not redone for each slice. A row is a
//! 16-byte header, then the roi's windows as int2 (start, end) in SliceWindows::window order.
struct SliceRoiHeader
{
    int32_t batch;  //!< the roi's image; -1: invalid roi (batch index out of range or a non-finite value: zero row)
    int32_t derive; //!< 1: run the derived schedule (every derived window is the union of its source windows and no
                    //!< source window is empty), 0: the direct one
    int32_t unused[2];
};
static_assert(sizeof(SliceRoiHeader) == 16, "the header is one 16-byte copy");

//! Bytes of one roi's row in the roi table (16-byte multiples: rows are copied as 16-byte words).
inline int64_t sliceRoiRowBytes(int64_t windows)
{
    return static_cast<int64_t>(sizeof(SliceRoiHeader)) + (windows * 8 + 15) / 16 * 16;
}

//! Pixel stride, in elements, of the NHWC copy of NCHW features in the workspace: C rounded up to 16 bytes, so that
//! every pixel's slice is a 16-byte aligned run a CTA stages with 16-byte asynchronous copies (gathering 4- or 2-byte
//! values from 16 or 32 planes instead made the staging, not the pooling, most of a small-K launch).
inline int64_t sliceCopyStride(int64_t c, int64_t elementBytes)
{
    int64_t const perVector = 16 / elementBytes;
    return (c + perVector - 1) / perVector * perVector;
}

//! The slices kernel's workspace: the roi table (K rows, rounded up to 256 bytes), then, for NCHW features, their NHWC
//! copy (pixel stride sliceCopyStride).
struct SliceWorkspace
{
    int64_t tableBytes;
    int64_t copyStride; //!< 0: no copy (NHWC features are read in place)
    int64_t totalBytes;
};

inline SliceWorkspace sliceWorkspace(
    int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t windows, Layout layout, int64_t elementBytes)
{
    SliceWorkspace ws{};
    ws.tableBytes = (k * sliceRoiRowBytes(windows) + 255) / 256 * 256;
    ws.copyStride = layout == Layout::kNCHW ? sliceCopyStride(c, elementBytes) : 0;
    ws.totalBytes = ws.tableBytes + (n * h * w * ws.copyStride * elementBytes + 255) / 256 * 256;
    return ws;
}

//! What roiSlicePrepKernel needs to write the roi table (host-planned; a kernel parameter).
struct SliceWindows
{
    int32_t count;       //!< sumLh + sumLw
    int32_t derivable;   //!< 1: the plan has a derived schedule (max), so each roi votes on nesting
    int64_t roiRowBytes; //!< one roi's row of the roi table (sliceRoiRowBytes)
    SliceWindow window[kSLICE_MAX_WINDOWS];
};

//! How the pooling kernel is laid out (host-planned; a kernel parameter, under the 4 KiB limit).
struct SlicePlan
{
    int32_t warps;           //!< per CTA
    int32_t groups;          //!< CTAs per (image, slice): each takes a contiguous run of rois
    int32_t slices;          //!< ceil(channel words / kSLICE_WORDS)
    int32_t phases;          //!< phases of the derived schedule; 0: nothing can be derived (avg, or no divisors)
    int32_t rowsColumns;     //!< SPP_ROI_ROWS: Lw of phase 0's one level (<= 8), whose bins are phase 0's tasks in
                             //!< row-major order; 0: phase 0 runs as task rounds
    int32_t phaseEnd[kMAX_LEVELS]; //!< derived schedule: tasks [phaseEnd[p - 1], phaseEnd[p]) form phase p
    int64_t sliceBytes;      //!< H * W * 64
    int64_t tableBytes;      //!< per CTA: the task and copy tables and the roi counter (16-byte multiples)
    int64_t stageBytes;      //!< per warp: the staging, 64 * totalBins (bin-major: totalBins rounded up to even)
    int64_t roiRowBytes;     //!< one roi's row of the roi table (sliceRoiRowBytes); each warp holds two
    SliceWorkspace workspace; //!< where the roi table and the NHWC copy of NCHW features are
    int64_t smemBytes;       //!< per CTA
    SliceTask derived[kSLICE_MAX_BINS]; //!< the derived schedule (max; phases > 0)
    SliceTask direct[kSLICE_MAX_BINS];  //!< every level from the map
};

//! Everything planSlices decides: the pooling kernel's plan and the prep kernel's window table.
struct SliceSetup
{
    SlicePlan plan;
    SliceWindows windows;
};

//! Fills the window table and both task schedules for `g` (planSlices has checked the sizes).
inline void planSliceTasks(RoiGeometry const& g, DataType dtype, PoolMode mode, SlicePlan& plan, SliceWindows& windows)
{
    int32_t const elementBytes = dtype == DataType::kFLOAT ? 4 : 2;
    int32_t const sliceChannels = kSLICE_WORDS * 4 / elementBytes;
    bool const binMajor = sliceBinMajor(elementBytes, mode);
    int32_t const levels = g.numLevels;
    int32_t rowOffset[kMAX_LEVELS], colOffset[kMAX_LEVELS], binOffset[kMAX_LEVELS];
    int32_t source[kMAX_LEVELS], phase[kMAX_LEVELS];
    bool isSource[kMAX_LEVELS];
    int32_t order[kMAX_LEVELS]; // levels by bins, most first (ties: level order): every source precedes its users
    for (int32_t l = 0, r = 0, c = 0, b = 0; l < levels; ++l)
    {
        rowOffset[l] = r;
        colOffset[l] = c;
        binOffset[l] = b;
        r += g.levelsH[l];
        c += g.levelsW[l];
        b += g.levelsH[l] * g.levelsW[l];
        order[l] = l;
        source[l] = -1;
        phase[l] = 0;
        isSource[l] = false;
    }
    auto const bins = [&](int32_t l) { return g.levelsH[l] * g.levelsW[l]; };
    std::stable_sort(order, order + levels, [&](int32_t a, int32_t b) { return bins(a) > bins(b); });
    // Sources (max only): among the levels before it in that order whose Lh and Lw it divides, the one needing the
    // fewest reads per bin (ties: the earlier level).
    plan.phases = 0;
    for (int32_t i = 0; i < levels && mode == PoolMode::kMAX; ++i)
    {
        int32_t const a = order[i];
        for (int32_t j = 0; j < i; ++j)
        {
            int32_t const s = order[j];
            if (g.levelsH[s] % g.levelsH[a] == 0 && g.levelsW[s] % g.levelsW[a] == 0
                && (source[a] < 0 || bins(s) < bins(source[a])))
            {
                source[a] = s;
            }
        }
        if (source[a] >= 0)
        {
            phase[a] = phase[source[a]] + 1;
            plan.phases = std::max(plan.phases, phase[a] + 1);
            isSource[source[a]] = true;
        }
    }

    // Windows: rows of all levels, then columns; a derived level's window i must be the union of the source's windows
    // [i * ratio, (i + 1) * ratio).
    windows.count = g.sumLh + g.sumLw;
    for (int32_t l = 0; l < levels; ++l)
    {
        for (int32_t axis = 0; axis < 2; ++axis)
        {
            int32_t const count = axis == 0 ? g.levelsH[l] : g.levelsW[l];
            int32_t const first = axis == 0 ? rowOffset[l] : g.sumLh + colOffset[l];
            for (int32_t i = 0; i < count; ++i)
            {
                SliceWindow& w = windows.window[first + i];
                w = SliceWindow{static_cast<int16_t>(i),
                    static_cast<int16_t>(count | (isSource[l] ? kSLICE_SOURCE_WINDOW : 0)), -1, -1};
                int32_t const s = source[l];
                if (s >= 0)
                {
                    int32_t const ratio = axis == 0 ? g.levelsH[s] / count : g.levelsW[s] / count;
                    int32_t const sourceFirst = (axis == 0 ? rowOffset[s] : g.sumLh + colOffset[s]) + i * ratio;
                    w.nestFirst = static_cast<int16_t>(sourceFirst);
                    w.nestLast = static_cast<int16_t>(sourceFirst + ratio - 1);
                }
            }
        }
    }

    // Tasks. Direct schedule: levels with fewer bins (larger windows) first, so each round of 8 tasks has bins of
    // similar size. Derived schedule: by phase, then, within a phase, the same.
    auto const fill = [&](SliceTask* tasks, bool derive) {
        int32_t n = 0;
        for (int32_t p = 0; p < (derive ? plan.phases : 1); ++p)
        {
            for (int32_t i = levels - 1; i >= 0; --i)
            {
                int32_t const l = order[i];
                if (derive && phase[l] != p)
                {
                    continue;
                }
                int32_t const lh = g.levelsH[l];
                int32_t const lw = g.levelsW[l];
                int32_t const s = derive ? source[l] : -1;
                int32_t const rh = s >= 0 ? g.levelsH[s] / lh : 0;
                int32_t const rw = s >= 0 ? g.levelsW[s] / lw : 0;
                for (int32_t by = 0; by < lh; ++by)
                {
                    for (int32_t bx = 0; bx < lw; ++bx)
                    {
                        int32_t const bin = by * lw + bx;
                        uint32_t const rowWindow = static_cast<uint32_t>(rowOffset[l] + by) * 8;
                        uint32_t const colWindow = static_cast<uint32_t>(g.sumLh + colOffset[l] + bx) * 8;
                        uint32_t source = 0;
                        uint32_t shape = 0;
                        if (s >= 0 && binMajor)
                        {
                            source = static_cast<uint32_t>((binOffset[s] + by * rh * g.levelsW[s] + bx * rw) * 64);
                            shape = static_cast<uint32_t>(g.levelsW[s] * 64) | static_cast<uint32_t>(rh) << 16
                                | static_cast<uint32_t>(rw) << 24;
                        }
                        else if (s >= 0)
                        {
                            int32_t const first = sliceChannels * binOffset[s] + by * rh * g.levelsW[s] + bx * rw;
                            source = static_cast<uint32_t>(first * elementBytes)
                                | static_cast<uint32_t>(bins(s) * elementBytes) << 16;
                            shape = static_cast<uint32_t>(g.levelsW[s] * elementBytes)
                                | static_cast<uint32_t>(rh) << 16 | static_cast<uint32_t>(rw) << 24;
                        }
                        uint32_t stage = static_cast<uint32_t>((binOffset[l] + bin) * 64);
                        if (!binMajor)
                        {
                            stage = static_cast<uint32_t>((sliceChannels * binOffset[l] + bin) * elementBytes)
                                | static_cast<uint32_t>(lh * lw * elementBytes) << 16;
                        }
                        tasks[n++] = SliceTask{rowWindow | colWindow << 16, stage, source, shape};
                    }
                }
            }
            if (derive)
            {
                plan.phaseEnd[p] = n;
            }
        }
    };
    fill(plan.direct, false);
    plan.rowsColumns = 0;
    if (plan.phases > 0)
    {
        fill(plan.derived, true);
        // SPP_ROI_ROWS: phase 0 must be exactly one level (the fill above then lists its bins row by row)
        int32_t phase0 = -1;
        int32_t phase0Levels = 0;
        for (int32_t l = 0; l < levels; ++l)
        {
            if (phase[l] == 0)
            {
                phase0 = l;
                ++phase0Levels;
            }
        }
        if (sliceRowScan(elementBytes) && binMajor && phase0Levels == 1 && g.levelsW[phase0] <= kSLICE_BINS_AT_ONCE)
        {
            plan.rowsColumns = g.levelsW[phase0];
        }
    }
}

//! Roi groups (CTAs per image and slice) of the slices grid, for one wave: enough to give every SM a CTA, but no group
//! with fewer rois than warps.
inline int32_t sliceGroups(RoiGeometry const& g, int64_t slices, int32_t warps, int32_t sms)
{
    int64_t groups = sms / (g.n * slices);
    int64_t const byRois = (g.k + warps - 1) / warps;
    groups = groups < byRois ? groups : byRois;
    return static_cast<int32_t>(groups < 1 ? 1 : groups);
}

//! Whether the slices kernel can run this geometry on this device with `workspaceBytes` of workspace (the roi table
//! needs K * sliceRoiRowBytes), and how.
inline bool planSlices(RoiGeometry const& g, DataType dtype, PoolMode mode, device::DeviceLimits const& device,
    size_t workspaceBytes, SliceSetup& setup)
{
    SlicePlan& plan = setup.plan;
    if (dtype == DataType::kINT8 || g.n < 1 || g.k < 1 || g.k > kSLICE_MAX_ROIS || g.totalBins > kSLICE_MAX_BINS
        || g.n > 65535)
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
    int64_t const elementBytes = dtype == DataType::kFLOAT ? 4 : 2;
    bool const binMajor = sliceBinMajor(static_cast<int32_t>(elementBytes), mode);
    plan.workspace = sliceWorkspace(g.n, g.c, g.h, g.w, g.k, g.sumLh + g.sumLw, g.layout, elementBytes);
    if (workspaceBytes < static_cast<uint64_t>(plan.workspace.totalBytes))
    {
        return false;
    }
    planSliceTasks(g, dtype, mode, plan, setup.windows);
    int64_t const wordBytes = kSLICE_WORDS * 4;
    plan.sliceBytes = g.h * g.w * wordBytes;
    plan.tableBytes = 2 * static_cast<int64_t>(g.totalBins) * static_cast<int64_t>(sizeof(SliceTask))
        // copy table, per 16 bytes of staging: an int2 (output order), or a uint4 (bin-major: 4 word offsets; 2-byte
        // types: 6 half-word offsets, the other 2 in a uint32 after the table)
        + static_cast<int64_t>(g.totalBins) * wordBytes / 16 * (binMajor ? (elementBytes == 2 ? 20 : 16) : 8)
        + 16;                                                     // the CTA's next-roi counter (SPP_ROI_DYNAMIC)
    // bin-major: an even number of bins, as sliceBinChunk may move the last bin one up
    plan.stageBytes = static_cast<int64_t>(binMajor ? (g.totalBins + 1) / 2 * 2 : g.totalBins) * wordBytes;
    plan.roiRowBytes = sliceRoiRowBytes(setup.windows.count);
    setup.windows.roiRowBytes = plan.roiRowBytes;
    setup.windows.derivable = plan.phases > 0 ? 1 : 0;
    int64_t const perWarp = plan.stageBytes + 2 * plan.roiRowBytes; // staging, this roi's row and the next one's
    int64_t const fit = (device.smemOptin - plan.sliceBytes - plan.tableBytes) / perWarp;
    if (fit < kSLICE_MIN_WARPS)
    {
        return false;
    }
    int64_t const maxWarps = sliceMaxWarps(static_cast<int32_t>(elementBytes), mode);
    plan.warps = static_cast<int32_t>(fit < maxWarps ? fit : maxWarps);
    plan.smemBytes = plan.sliceBytes + plan.tableBytes + plan.warps * perWarp;
    plan.slices = static_cast<int32_t>(slices);
    plan.groups = sliceGroups(g, slices, plan.warps, device.sms);
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

//! A lane's 4 words of a staged result at `q` in the per-warp staging buffer (output order: its channels are
//! `channelBytes` apart there).
template <typename T>
__device__ __forceinline__ uint4 sourceWords(unsigned char const* q, uint32_t channelBytes)
{
    uint32_t w[4];
#pragma unroll
    for (int32_t i = 0; i < 4; ++i)
    {
        if constexpr (SliceWord<T>::kChannels == 1)
        {
            w[i] = *reinterpret_cast<uint32_t const*>(q + i * channelBytes);
        }
        else
        {
            uint32_t const lo = *reinterpret_cast<uint16_t const*>(q + 2 * i * channelBytes);
            uint32_t const hi = *reinterpret_cast<uint16_t const*>(q + (2 * i + 1) * channelBytes);
            w[i] = lo | hi << 16;
        }
    }
    return make_uint4(w[0], w[1], w[2], w[3]);
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

    //! Folds another accumulator of the same bin into this one.
    __device__ __forceinline__ void merge(SliceAccumulator const& other)
    {
        if constexpr (kMode == PoolMode::kMAX)
        {
#pragma unroll
            for (int32_t i = 0; i < 4; ++i)
            {
                raw[i] = maxWord<T>(raw[i], other.raw[i]);
            }
        }
        else
        {
#pragma unroll
            for (int32_t i = 0; i < kValues; ++i)
            {
                sums[i] += other.sums[i];
            }
        }
    }

    //! Value of channel `i` (0 .. kValues - 1): the raw max, or the sum times `scale` (the reciprocal of the area).
    __device__ __forceinline__ T value(int32_t i, float scale) const
    {
        if constexpr (kMode == PoolMode::kMAX)
        {
            return wordChannel<T>(raw[i / kChannels], i % kChannels);
        }
        else
        {
            return Traits<T>::store(sums[i] * scale);
        }
    }
};

template <typename T>
__device__ __forceinline__ uint16_t rawBits(T const* p, int64_t i)
{
    return reinterpret_cast<uint16_t const*>(p)[i];
}

//! Copies the first `bytes` (0 to 16, a multiple of 2) of `src` to 16 bytes of shared memory at `dst` and zeroes the
//! rest: a 16-byte asynchronous copy when all 16 are wanted (sm_80+), else ordinary loads of exactly the bytes wanted
//! (a zero-filling cp.async would also do, but it counts as a 16-byte read for compute-sanitizer's initcheck, and
//! the bytes past C are padding nobody wrote).
__device__ __forceinline__ void copy16(void* dst, void const* src, uint32_t bytes)
{
    if (bytes == 16)
    {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
        uint32_t const address = static_cast<uint32_t>(__cvta_generic_to_shared(dst));
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(address), "l"(src) : "memory");
#else
        *static_cast<uint4*>(dst) = *static_cast<uint4 const*>(src);
#endif
        return;
    }
    uint32_t w[4] = {0, 0, 0, 0};
#pragma unroll
    for (uint32_t i = 0; i < 8; ++i)
    {
        if (2 * i < bytes)
        {
            w[i / 2] |= static_cast<uint32_t>(static_cast<uint16_t const*>(src)[i]) << (16 * (i % 2));
        }
    }
    *static_cast<uint4*>(dst) = make_uint4(w[0], w[1], w[2], w[3]);
}

//! Stages channels [c0, c0 + 16 * kChannels) of image b of NHWC features (NCHW ones are copied to NHWC in the
//! workspace first) as [pixel][16 words]; channels >= C are zero.
template <typename T>
__device__ __forceinline__ void stageSlice(
    RoiGeometry const& g, T const* __restrict__ features, int64_t b, int64_t c0, uint32_t* __restrict__ slice)
{
    constexpr int32_t kChannels = SliceWord<T>::kChannels;
    constexpr int32_t kUNROLL = 8;
    int64_t const pixels = g.h * g.w;
    T const* const image = features + b * pixels * g.cs;
    int32_t const lane = static_cast<int32_t>(threadIdx.x) % 32;
    int32_t const warp = static_cast<int32_t>(threadIdx.x) / 32;
    int32_t const warps = static_cast<int32_t>(blockDim.x) / 32;
    int64_t const pixelBytes = g.cs * static_cast<int64_t>(sizeof(T));
    if (pixelBytes % 16 == 0 && (reinterpret_cast<uintptr_t>(image) & 15) == 0)
    {
        // Each pixel's slice is a 16-byte aligned run (always so for the workspace copy of NCHW features): 16-byte
        // asynchronous copies, a warp instruction covering 8 pixels x 64 bytes (512 consecutive bytes of shared
        // memory). Bytes of channels >= C are zeroed, not read.
        int32_t const quad = lane % 4;
        int64_t const valid = (g.c - c0) * static_cast<int64_t>(sizeof(T)) - 16 * quad; // of this lane's 16 bytes
        uint32_t const bytes = static_cast<uint32_t>(valid >= 16 ? 16 : (valid > 0 ? valid : 0));
        unsigned char const* const source
            = reinterpret_cast<unsigned char const*>(image + c0) + (bytes > 0 ? 16 * quad : 0);
        for (int64_t p = static_cast<int64_t>(warp) * 8 + lane / 4; p < pixels; p += static_cast<int64_t>(warps) * 8)
        {
            copy16(slice + p * kSLICE_WORDS + 4 * quad, source + p * pixelBytes, bytes);
        }
        __pipeline_commit();
        __pipeline_wait_prior(0);
    }
    else if constexpr (kChannels == 1)
    {
        // Unaligned pixel stride, one element per word: 4-byte asynchronous copies, a warp instruction covering 2
        // pixels x 16 channels (two runs of 64 bytes, 32 consecutive shared words); channels >= C zero-filled.
        int32_t const px = lane % 2;
        int32_t const word = lane / 2 % kSLICE_WORDS;
        int64_t const channel = c0 + word;
        bool const inside = channel < g.c;
        T const* const column = inside ? image + channel : image; // not read when outside
        for (int64_t p = static_cast<int64_t>(warp) * 2 + px; p < pixels; p += static_cast<int64_t>(warps) * 2)
        {
            __pipeline_memcpy_async(slice + p * kSLICE_WORDS + word, column + p * g.cs, 4, inside ? 0 : 4);
        }
        __pipeline_commit();
        __pipeline_wait_prior(0);
    }
    else
    {
        // Unaligned pixel stride, two 16-bit channels per word: through registers. Lanes 0-15 take even pixels,
        // 16-31 odd ones: for a fixed step the warp reads two neighbouring pixels of 32 channels and writes 32
        // consecutive words of shared memory.
        int32_t const word = static_cast<int32_t>(threadIdx.x) % kSLICE_WORDS;
        int32_t const parity = (static_cast<int32_t>(threadIdx.x) / kSLICE_WORDS) % 2;
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
                    uint32_t const lo = channel < g.c ? rawBits(image, p * g.cs + channel) : 0U;
                    uint32_t const hi = channel + 1 < g.c ? rawBits(image, p * g.cs + channel + 1) : 0U;
                    v[i] = lo | (hi << 16);
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

constexpr int32_t kSLICE_PREP_WARPS = 8; //!< warps per CTA of roiSlicePrepKernel

//! The first launch of the slices kernel: CTAs [0, tableCtas) write the roi table (SliceRoiHeader), the others, for
//! NCHW features (copyStride > 0), copy them to NHWC in the workspace (transposeTile), in one launch.
//! Roi table: one warp per roi computes its box, then its windows (one per lane, core/roi_bins.h: the same fp32
//! geometry as the CPU reference), then, when the plan has a derived schedule (max), votes on whether this roi may use
//! it: every window of a derived level must be exactly the union of its source windows (checked on the actual
//! windows, so it is exact whatever the rounding did), and no source window may be empty (an empty bin is staged as
//! 0, not as the max identity a coarser bin could combine).
template <typename T, typename R>
__global__ void __launch_bounds__(kSLICE_PREP_WARPS * 32) roiSlicePrepKernel(RoiGeometry g, SliceWindows plan,
    R const* __restrict__ rois, unsigned char* __restrict__ table, T const* __restrict__ features,
    T* __restrict__ copy, int64_t copyStride, int32_t tableCtas)
{
    if (static_cast<int32_t>(blockIdx.x) >= tableCtas)
    {
        __shared__ T tile[32][33];
        int64_t const pixels = g.h * g.w;
        int64_t const pixelTiles = (pixels + 31) / 32;
        int64_t const tilesPerImage = pixelTiles * ((g.c + 31) / 32);
        for (int64_t t = blockIdx.x - tableCtas; t < tilesPerImage * g.n; t += gridDim.x - tableCtas)
        {
            int64_t const b = t / tilesPerImage;
            int64_t const inImage = t - b * tilesPerImage;
            transposeTile(features + b * g.c * pixels, copy + b * pixels * copyStride, g.c, pixels, copyStride,
                (inImage % pixelTiles) * 32, (inImage / pixelTiles) * 32, tile);
            __syncthreads(); // the next tile rewrites `tile`
        }
        return;
    }
    __shared__ SliceWindow windowInfo[kSLICE_MAX_WINDOWS];
    __shared__ int2 windowsOfWarp[kSLICE_PREP_WARPS][kSLICE_MAX_WINDOWS];
    for (int32_t i = static_cast<int32_t>(threadIdx.x); i < plan.count; i += static_cast<int32_t>(blockDim.x))
    {
        windowInfo[i] = plan.window[i]; // lanes index it by window: the parameter bank would serialise
    }
    __syncthreads();
    int32_t const lane = static_cast<int32_t>(threadIdx.x) % 32;
    int32_t const warp = static_cast<int32_t>(threadIdx.x) / 32;
    int2* const windows = windowsOfWarp[warp];
    for (int64_t k = static_cast<int64_t>(blockIdx.x) * kSLICE_PREP_WARPS + warp; k < g.k;
         k += static_cast<int64_t>(tableCtas) * kSLICE_PREP_WARPS)
    {
        float const mine = lane < kROI_COLUMNS ? Traits<R>::load(rois[k * kROI_COLUMNS + lane]) : 0.0F;
        float values[kROI_COLUMNS];
#pragma unroll
        for (int32_t i = 0; i < kROI_COLUMNS; ++i)
        {
            values[i] = __shfl_sync(0xffffffffU, mine, i);
        }
        detail::RoiBox const box = detail::makeRoiBox(values, g.scale, g.n); // the same row in every lane: uniform
        unsigned char* const row = table + k * plan.roiRowBytes;
        int2* const rowWindows = reinterpret_cast<int2*>(row + sizeof(SliceRoiHeader));
        bool derive = false;
        if (box.valid)
        {
            for (int32_t j = lane; j < plan.count; j += 32)
            {
                SliceWindow const info = windowInfo[j];
                int32_t const count = info.bins & ~kSLICE_SOURCE_WINDOW;
                detail::Window const w = j < g.sumLh
                    ? detail::roiBinWindow(box.startH, box.height, info.index, count, g.h)
                    : detail::roiBinWindow(box.startW, box.width, info.index, count, g.w);
                int2 const window = make_int2(static_cast<int32_t>(w.start), static_cast<int32_t>(w.end));
                windows[j] = window;
                rowWindows[j] = window;
            }
            __syncwarp();
            if (plan.derivable != 0)
            {
                bool broken = false;
                for (int32_t j = lane; j < plan.count; j += 32)
                {
                    SliceWindow const info = windowInfo[j];
                    int2 const w = windows[j];
                    broken = broken || ((info.bins & kSLICE_SOURCE_WINDOW) != 0 && w.y <= w.x);
                    if (info.nestFirst >= 0)
                    {
                        broken = broken || w.x != windows[info.nestFirst].x || w.y != windows[info.nestLast].y;
                    }
                }
                derive = __any_sync(0xffffffffU, broken) == 0;
            }
            __syncwarp(); // the next roi rewrites windows[]
        }
        else
        {
            for (int32_t j = lane; j < plan.count; j += 32)
            {
                rowWindows[j] = make_int2(0, 0); // never used, but the pooling kernel copies whole rows
            }
        }
        if (lane == 0 && plan.count % 2 != 0)
        {
            rowWindows[plan.count] = make_int2(0, 0); // the row's padding to 16 bytes, copied with it
        }
        if (lane == 0)
        {
            *reinterpret_cast<int4*>(row)
                = make_int4(box.valid ? static_cast<int32_t>(box.batch) : -1, derive ? 1 : 0, 0, 0);
        }
    }
}

//! Where a CTA of the slices grid (roi groups, slices, images) works: its image, first channel, channels of the slice
//! that exist, and its run of rois [kBegin, kEnd); and the thread's lane and warp.
struct SliceCta
{
    int64_t b;
    int64_t c0;
    int32_t validChannels;
    int64_t kBegin;
    int64_t kEnd;
    int32_t lane;
    int32_t warp;
};

template <int32_t kSliceChannels>
__device__ __forceinline__ SliceCta sliceCta(RoiGeometry const& g, int32_t groups)
{
    SliceCta cta;
    cta.b = blockIdx.z;
    cta.c0 = static_cast<int64_t>(blockIdx.y) * kSliceChannels;
    cta.validChannels = static_cast<int32_t>(g.c - cta.c0 < kSliceChannels ? g.c - cta.c0 : kSliceChannels);
    cta.kBegin = g.k * blockIdx.x / groups;
    cta.kEnd = g.k * (blockIdx.x + 1) / groups;
    cta.lane = static_cast<int32_t>(threadIdx.x) % 32;
    cta.warp = static_cast<int32_t>(threadIdx.x) / 32;
    return cta;
}

//! Row scans (SPP_ROI_ROWS): calls scan(std::integral_constant<int32_t, kCols>) for the widest
//! column window of 1 to 6 cells (code with the cells at constant offsets), else wider().
template <typename Scan, typename Wider>
__device__ __forceinline__ void scanByWidth(int32_t widest, Scan&& scan, Wider&& wider)
{
    switch (widest)
    {
    case 1: scan(std::integral_constant<int32_t, 1>{}); break;
    case 2: scan(std::integral_constant<int32_t, 2>{}); break;
    case 3: scan(std::integral_constant<int32_t, 3>{}); break;
    case 4: scan(std::integral_constant<int32_t, 4>{}); break;
    case 5: scan(std::integral_constant<int32_t, 5>{}); break;
    case 6: scan(std::integral_constant<int32_t, 6>{}); break;
    default: wider(); break;
    }
}

template <typename T, PoolMode kMode>
__global__ void __launch_bounds__(sliceMaxWarps(static_cast<int32_t>(sizeof(T)), kMode) * 32, 1)
    roiSlicesKernel(RoiGeometry g, SlicePlan plan, T const* __restrict__ features,
        unsigned char const* __restrict__ roiTable, T* __restrict__ output)
{
    constexpr int32_t kChannels = SliceWord<T>::kChannels;
    constexpr int32_t kSliceChannels = kSLICE_WORDS * kChannels;
    constexpr int32_t kCellBytes = kSLICE_WORDS * 4;
    constexpr int32_t kPerVector = 16 / static_cast<int32_t>(sizeof(T));
    using Acc = SliceAccumulator<T, kMode>;
    constexpr bool kBinMajor = sliceBinMajor(static_cast<int32_t>(sizeof(T)), kMode);
    extern __shared__ __align__(16) unsigned char smem[];

    SliceCta const cta = sliceCta<kSliceChannels>(g, plan.groups);
    int64_t const b = cta.b;
    int64_t const c0 = cta.c0;
    int32_t const validChannels = cta.validChannels;
    int64_t const kBegin = cta.kBegin;
    int64_t const kEnd = cta.kEnd;
    int32_t const lane = cta.lane;
    int32_t const warp = cta.warp;
    int32_t const width = static_cast<int32_t>(g.w); // H * W < 2^24 (planSlices)

    // Shared memory: [slice][direct tasks][derived tasks][copy table][next-roi counter, 16 bytes]
    //                [per warp: staging, two rows of the roi table (this roi's and the next one's)].
    uint4* const directTasks = reinterpret_cast<uint4*>(smem + plan.sliceBytes);
    uint4* const derivedTasks = directTasks + g.totalBins;
    int2* const copyTable = reinterpret_cast<int2*>(derivedTasks + g.totalBins);    // output order
    uint4* const gatherTable = reinterpret_cast<uint4*>(derivedTasks + g.totalBins); // bin-major
    uint32_t* const gatherTail = reinterpret_cast<uint32_t*>(gatherTable + 4 * g.totalBins); // bin-major, 2-byte
    auto* const roiCounter = reinterpret_cast<unsigned long long*>(smem + plan.sliceBytes + plan.tableBytes - 16);
    unsigned char* const stage = smem + plan.sliceBytes + plan.tableBytes
        + warp * (plan.stageBytes + 2 * plan.roiRowBytes);
    unsigned char* const roiRows = stage + plan.stageBytes;

    // The host-built tables go to shared memory: lanes index them by task, which the parameter bank would serialise.
    for (int32_t i = static_cast<int32_t>(threadIdx.x); i < g.totalBins; i += static_cast<int32_t>(blockDim.x))
    {
        SliceTask const d = plan.direct[i];
        SliceTask const e = plan.derived[i];
        directTasks[i] = make_uint4(d.windows, d.stage, d.source, d.shape);
        derivedTasks[i] = make_uint4(e.windows, e.stage, e.source, e.shape);
    }
    // Output copy: when every level's block of this slice is whole 16-byte vectors at 16-byte aligned addresses, one
    // table serves all levels: (staging vector, vector in the output row) pairs, or, bin-major, (vector in the output
    // row, its 4 staging words as 16-bit word offsets); else level by level, element by element.
    bool vectorOut = (reinterpret_cast<uintptr_t>(output) & 15) == 0
        && g.features * static_cast<int64_t>(sizeof(T)) % 16 == 0;
    int32_t vectors = 0;
    forEachLevel(g, [&](int32_t, int32_t lh, int32_t lw, int32_t, int32_t, int32_t binOffset) {
        vectorOut = vectorOut && validChannels * lh * lw % kPerVector == 0 && g.c * binOffset % kPerVector == 0;
        vectors += validChannels * lh * lw / kPerVector;
    });
    if (vectorOut)
    {
        for (int32_t i = static_cast<int32_t>(threadIdx.x); i < vectors; i += static_cast<int32_t>(blockDim.x))
        {
            int32_t before = 0; // vectors of the levels before
            forEachLevel(g, [&](int32_t, int32_t lh, int32_t lw, int32_t, int32_t, int32_t binOffset) {
                int32_t const count = validChannels * lh * lw / kPerVector;
                if (i >= before && i < before + count)
                {
                    int32_t const j = i - before;
                    int32_t const base = static_cast<int32_t>((g.c * binOffset + c0 * lh * lw) / kPerVector);
                    if constexpr (kBinMajor && kChannels == 1)
                    {
                        // Vector j holds elements 4j .. 4j + 3 of the level's [channel][bin] block (consecutive
                        // lanes store consecutive vectors: whole sectors).
                        int32_t const bins = lh * lw;
                        uint32_t word[4];
#pragma unroll
                        for (int32_t e = 0; e < 4; ++e)
                        {
                            int32_t const f = 4 * j + e;
                            word[e] = sliceBinWord(static_cast<uint32_t>(binOffset + f % bins),
                                static_cast<uint32_t>(f / bins));
                        }
                        gatherTable[i] = make_uint4(static_cast<uint32_t>(base + j), word[0] | word[1] << 16,
                            word[2] | word[3] << 16, 0U);
                    }
                    else if constexpr (kBinMajor)
                    {
                        // 2-byte types: elements 8j .. 8j + 7, as half-word offsets (channel f / bins is half
                        // (f / bins) % 2 of word (f / bins) / 2 of its bin).
                        int32_t const bins = lh * lw;
                        uint32_t half[8];
#pragma unroll
                        for (int32_t e = 0; e < 8; ++e)
                        {
                            int32_t const f = 8 * j + e;
                            int32_t const channel = f / bins;
                            half[e] = 2 * sliceBinWord(static_cast<uint32_t>(binOffset + f % bins),
                                          static_cast<uint32_t>(channel / 2))
                                + static_cast<uint32_t>(channel % 2);
                        }
                        gatherTable[i] = make_uint4(static_cast<uint32_t>(base + j), half[0] | half[1] << 16,
                            half[2] | half[3] << 16, half[4] | half[5] << 16);
                        gatherTail[i] = half[6] | half[7] << 16;
                    }
                    else
                    {
                        copyTable[i] = make_int2(kSliceChannels * binOffset / kPerVector + j, base + j);
                    }
                }
                before += count;
            });
        }
    }
    if (SPP_ROI_DYNAMIC != 0 && threadIdx.x == 0)
    {
        *roiCounter = static_cast<unsigned long long>(kBegin + plan.warps); // each warp starts at kBegin + warp
    }
    stageSlice(g, features, b, c0, reinterpret_cast<uint32_t*>(smem));
    __syncthreads();

    int32_t const group = lane / kSLICE_LANES_PER_BIN;
    int32_t const quad = lane % kSLICE_LANES_PER_BIN;
    unsigned char const* const pixels = smem + quad * 16;

    unsigned char const* table = nullptr; // the current roi's windows (int2), indexed by the tasks' byte offsets

    // Stages a task's result (0 for an empty window): bin-major, the lane's 4 words as one 16-byte store (bin t.y / 64,
    // sliceBinChunk); in output order, its channels t.y >> 16 bytes apart.
    auto const stageResult = [&](uint4 const t, Acc const& acc, int32_t area) {
        if constexpr (kBinMajor)
        {
            float const scale = kMode == PoolMode::kAVG && area > 0 ? __frcp_rn(static_cast<float>(area)) : 0.0F;
            uint32_t w[4];
#pragma unroll
            for (int32_t i = 0; i < 4; ++i)
            {
                if constexpr (kChannels == 2) // max only (sliceBinMajor): the raw words, two channels each
                {
                    w[i] = area > 0 ? acc.raw[i] : 0U;
                }
                else
                {
                    w[i] = area > 0 ? __float_as_uint(acc.value(i, scale)) : 0U;
                }
            }
            *reinterpret_cast<uint4*>(stage + sliceBinChunk(t.y, static_cast<uint32_t>(quad)))
                = make_uint4(w[0], w[1], w[2], w[3]);
            return;
        }
        uint32_t const channelBytes = t.y >> 16;
        unsigned char* const out = stage + (t.y & 0xffffU) + quad * Acc::kValues * channelBytes;
        float const scale = kMode == PoolMode::kAVG && area > 0 ? __frcp_rn(static_cast<float>(area)) : 0.0F;
#pragma unroll
        for (int32_t i = 0; i < Acc::kValues; ++i)
        {
            *reinterpret_cast<T*>(out + i * channelBytes) = area > 0 ? acc.value(i, scale) : Traits<T>::store(0.0F);
        }
    };

    // A task of phase 0: reduce the cells of its bin's window in the map.
    auto const runMapTask = [&](uint4 const t) {
        int2 const rw = *reinterpret_cast<int2 const*>(table + (t.x & 0xffffU));
        int2 const cw = *reinterpret_cast<int2 const*>(table + (t.x >> 16));
        int32_t const area = (rw.y - rw.x) * (cw.y - cw.x); // windows are clipped, so never negative
        unsigned char const* p = pixels + (rw.x * width + cw.x) * kCellBytes;
        int32_t const rows = area > 0 ? rw.y - rw.x : 0;
        int32_t const cols = cw.y - cw.x;
        int32_t const rowBytes = width * kCellBytes;
        // Cells in pairs, row after row, as one flat loop (bins are a few cells wide, so per-row loops cost more than
        // the cells). Max reads a row's last cell twice when the row is odd (max is idempotent); avg skips it.
        // Avg sums the pair's second cell into a second accumulator (two dependency chains of fp32 adds); max keeps
        // one (H200, roi-bench: two chains cost max 4 %, gained avg 1-7 %).
        int32_t const last = (cols - 1) * kCellBytes;
        Acc acc;
        acc.reset();
        int32_t x = 0;
        Acc second;
        second.reset();
        for (int32_t n = rows * ((cols + 1) / 2); n > 0; --n)
        {
            int32_t const x1 = x + kCellBytes < last ? x + kCellBytes : last;
            uint4 const v0 = *reinterpret_cast<uint4 const*>(p + x);
            uint4 const v1 = *reinterpret_cast<uint4 const*>(p + x1);
            acc.add(v0);
            if (kMode == PoolMode::kMAX || x + kCellBytes <= last)
            {
                (kMode == PoolMode::kAVG ? second : acc).add(v1);
            }
            x += 2 * kCellBytes;
            if (x > last)
            {
                x = 0;
                p += rowBytes;
            }
        }
        if constexpr (kMode == PoolMode::kAVG)
        {
            acc.merge(second);
        }
        stageResult(t, acc, area);
    };

    // SPP_ROI_ROWS: phase 0 (one level, Fh x Fw bins, Fw <= 8, row-major tasks) as a row scan. Lane quad `group`
    // owns column bin `group`; for each row bin the warp walks its rows together, each lane maxing its column window's
    // cells of the row (kCols cells at constant offsets; lanes of narrower windows skip the extra cells). Every
    // window is non-empty here (the derived schedule runs only then).
    auto const runRowsPhase = [&](uint4 const* const tasks, int32_t const fw, int32_t const fh) {
        bool const owner = group < fw;
        int32_t const j = owner ? group : 0;
        int2 const cw = *reinterpret_cast<int2 const*>(table + (tasks[j].x >> 16));
        int32_t const cols = owner ? cw.y - cw.x : 0;
        int32_t widest = cols;
#pragma unroll
        for (int32_t d = 4; d < 32; d *= 2)
        {
            widest = max(widest, __shfl_xor_sync(0xffffffffU, widest, d));
        }
        int32_t const rowBytes = width * kCellBytes;
        unsigned char const* const columnStart = pixels + cw.x * kCellBytes;
        // SPP_ROI_ROWS_ROTATE: whether this lane quad walks its rows starting one later (its partner's window starts
        // on the same pixel parity; the shuffle is outside the condition: every lane must take part)
        int32_t const partnerStart
            = SPP_ROI_ROWS_ROTATE != 0 ? __shfl_xor_sync(0xffffffffU, cw.x, kSLICE_LANES_PER_BIN) : cw.x;
        bool const rotate = SPP_ROI_ROWS_ROTATE != 0 && (group & 1) != 0 && ((cw.x ^ partnerStart) & 1) == 0;
        auto const scan = [&](auto const shape) {
            constexpr int32_t kCols = decltype(shape)::value;
            auto const addRow = [&](unsigned char const* p, Acc& acc) {
#pragma unroll
                for (int32_t x = 0; x < kCols; ++x)
                {
                    if (kCols == 1 || x < cols)
                    {
                        acc.add(*reinterpret_cast<uint4 const*>(p + x * kCellBytes));
                    }
                }
            };
            for (int32_t i = 0; i < fh; ++i)
            {
                uint4 const t = tasks[i * fw + j];
                int2 const rw = *reinterpret_cast<int2 const*>(table + (t.x & 0xffffU));
                Acc acc;
                acc.reset();
                unsigned char const* p = columnStart + rw.x * rowBytes;
                if constexpr (SPP_ROI_ROWS_ROTATE != 0)
                {
                    // rows rw.x .. rw.y - 2 then rw.y - 1, or (rotate) rw.x + 1 .. rw.y - 1 then rw.x: the loop is
                    // the same for both (every window has a row: the derived schedule runs only then)
                    unsigned char const* const last = rotate ? p : columnStart + (rw.y - 1) * rowBytes;
                    p += rotate ? rowBytes : 0;
#pragma unroll 2
                    for (int32_t y = rw.x + 1; y < rw.y; ++y, p += rowBytes)
                    {
                        addRow(p, acc);
                    }
                    addRow(last, acc);
                }
                else
                {
#pragma unroll 2
                    for (int32_t y = rw.x; y < rw.y; ++y, p += rowBytes)
                    {
                        addRow(p, acc);
                    }
                }
                if (owner)
                {
                    stageResult(t, acc, 1);
                }
            }
        };
        scanByWidth(widest, scan, [&] {
            for (int32_t i = 0; i < fh; ++i) // wider windows: the tasks, one per lane quad and column bin
            {
                if (owner)
                {
                    runMapTask(tasks[i * fw + j]);
                }
            }
        });
    };

    // A task of a later phase (max): the max of its source bins' staged results, which are raw maxima because the
    // derived schedule runs only when no source window is empty. Bin-major: this lane's 4 words of a source bin are
    // one 16-byte load (sliceBinChunk); in output order, its channels are channelBytes apart.
    // Its window is the union of non-empty source windows, so it is not empty either: no area to look up.
    auto const sourceAt = [&](unsigned char const* p, int32_t offset, uint32_t channelBytes) -> uint4 {
        if constexpr (kBinMajor)
        {
            // p is stage + t.z: bin-major bytes, before sliceBinChunk
            uint32_t const binBytes = static_cast<uint32_t>(p - stage) + static_cast<uint32_t>(offset);
            return *reinterpret_cast<uint4 const*>(stage + sliceBinChunk(binBytes, static_cast<uint32_t>(quad)));
        }
        else
        {
            return sourceWords<T>(p + offset, channelBytes);
        }
    };
    auto const runDerivedTask = [&](uint4 const t) {
        uint32_t const channelBytes = kBinMajor ? 0U : t.z >> 16;
        unsigned char const* p
            = stage + (t.z & 0xffffU) + (kBinMajor ? 0U : quad * Acc::kValues * channelBytes);
        int32_t const step = kBinMajor ? 64 : static_cast<int32_t>(sizeof(T)); // between source columns
        int32_t const rows = static_cast<int32_t>((t.w >> 16) & 0xffU);
        int32_t const cols = static_cast<int32_t>(t.w >> 24);
        int32_t const rowBytes = static_cast<int32_t>(t.w & 0xffffU);
        Acc acc;
        acc.reset();
        // SPP_ROI_FIXED_DERIVED: 2x2 and 3x3 sources ({1,2,3,6}: 3 and 1 from 2x2, 2 from 3x3) fully unrolled
        auto const addFixed = [&](auto const shape) {
            constexpr int32_t kSide = decltype(shape)::value;
#pragma unroll
            for (int32_t y = 0; y < kSide; ++y)
            {
#pragma unroll
                for (int32_t x = 0; x < kSide; ++x)
                {
                    acc.add(sourceAt(p, y * rowBytes + x * step, channelBytes));
                }
            }
        };
        if constexpr (SPP_ROI_FIXED_DERIVED == 1 || (SPP_ROI_FIXED_DERIVED == 2 && (sizeof(T) == 4 || kBinMajor)))
        {
            if (rows == 2 && cols == 2)
            {
                addFixed(std::integral_constant<int32_t, 2>{});
                stageResult(t, acc, 1);
                return;
            }
            if (rows == 3 && cols == 3)
            {
                addFixed(std::integral_constant<int32_t, 3>{});
                stageResult(t, acc, 1);
                return;
            }
        }
        for (int32_t y = 0; y < rows; ++y, p += rowBytes)
        {
            for (int32_t x = 0; x < cols; ++x)
            {
                acc.add(sourceAt(p, x * step, channelBytes));
            }
        }
        stageResult(t, acc, 1);
    };

    // Rois of this CTA's run, one per warp. Their rows of the roi table (header and windows) are copied to shared
    // memory asynchronously, the next roi's while this one is pooled.
    int32_t const rowVectors = static_cast<int32_t>(plan.roiRowBytes / 16);
    auto const fetchRow = [&](int64_t roi, int32_t buffer) {
        if (roi < kEnd)
        {
            for (int32_t i = lane; i < rowVectors; i += 32)
            {
                __pipeline_memcpy_async(roiRows + buffer * plan.roiRowBytes + 16 * i,
                    roiTable + roi * plan.roiRowBytes + 16 * i, 16);
            }
        }
        __pipeline_commit(); // possibly empty: one group per roi keeps the wait below uniform
    };
    // The roi after this warp's current one: the next in a fixed stride of `warps`, or (SPP_ROI_DYNAMIC) the next not
    // yet taken by any warp of the CTA, so warps that drew small rois do not idle while others finish large ones.
    auto const nextRoi = [&](int64_t k) -> int64_t {
        if constexpr (SPP_ROI_DYNAMIC != 0)
        {
            unsigned long long taken = 0;
            if (lane == 0)
            {
                taken = atomicAdd(roiCounter, 1ULL);
            }
            return static_cast<int64_t>(__shfl_sync(0xffffffffU, taken, 0));
        }
        else
        {
            return k + plan.warps;
        }
    };
    int32_t buffer = 0;
    int64_t k = kBegin + warp;
    fetchRow(k, buffer);
    for (int64_t next = 0; k < kEnd; k = next, buffer ^= 1)
    {
        next = nextRoi(k);
        fetchRow(next, buffer ^ 1);
        __pipeline_wait_prior(1); // this roi's row has landed (the next one's may still be in flight)
        __syncwarp();
        unsigned char const* const roiRow = roiRows + buffer * plan.roiRowBytes;
        int4 const header = *reinterpret_cast<int4 const*>(roiRow); // SliceRoiHeader, the same in every lane
        table = roiRow + sizeof(SliceRoiHeader);
        T* const row = output + k * g.features;
        if (header.x != b)
        {
            if (header.x < 0 && b == 0)
            {
                forEachLevel(g, [&](int32_t, int32_t lh, int32_t lw, int32_t, int32_t, int32_t binOffset) {
                    T* const out = row + g.c * binOffset + c0 * lh * lw;
                    for (int32_t i = lane; i < validChannels * lh * lw; i += 32)
                    {
                        streamStore(out + i, Traits<T>::store(0.0F));
                    }
                });
            }
            __syncwarp(); // the next fetch rewrites this row
            continue;
        }
        bool const derive = kMode == PoolMode::kMAX && header.y != 0;

        // 3-4. Tasks, phase by phase, 8 at a time.
        uint4 const* const tasks = derive ? derivedTasks : directTasks;
        int32_t const phases = derive ? plan.phases : 1;
        int32_t begin = 0;
        for (int32_t phase = 0; phase < phases; ++phase)
        {
            int32_t const end = derive ? plan.phaseEnd[phase] : g.totalBins;
            if (kMode == PoolMode::kMAX && kBinMajor && sliceRowScan(static_cast<int32_t>(sizeof(T))) && derive
                && phase == 0 && plan.rowsColumns > 0)
            {
                runRowsPhase(tasks, plan.rowsColumns, end / plan.rowsColumns);
                __syncwarp();
                begin = end;
                continue;
            }
            for (int32_t s = begin + group; s < end; s += kSLICE_BINS_AT_ONCE)
            {
                if (phase == 0)
                {
                    runMapTask(tasks[s]);
                }
                else
                {
                    runDerivedTask(tasks[s]);
                }
            }
            __syncwarp(); // the next phase reads this one's results
            begin = end;
        }

        // 5. Output: per level, the slice's channels are one contiguous run of the roi's row.
        if (vectorOut && kBinMajor && kChannels == 1)
        {
            uint4* const rowVectors = reinterpret_cast<uint4*>(row);
            uint32_t const* const staged = reinterpret_cast<uint32_t const*>(stage);
#pragma unroll kSLICE_GATHER_UNROLL
            for (int32_t i = lane; i < vectors; i += 32)
            {
                uint4 const e = gatherTable[i];
                __stcs(rowVectors + e.x, make_uint4(staged[e.y & 0xffffU], staged[e.y >> 16], staged[e.z & 0xffffU],
                                             staged[e.z >> 16]));
            }
        }
        else if (vectorOut && kBinMajor)
        {
            uint4* const rowVectors = reinterpret_cast<uint4*>(row);
            uint16_t const* const staged = reinterpret_cast<uint16_t const*>(stage);
            auto const pair = [&](uint32_t offsets) {
                return static_cast<uint32_t>(staged[offsets & 0xffffU])
                    | static_cast<uint32_t>(staged[offsets >> 16]) << 16;
            };
#pragma unroll kSLICE_GATHER_UNROLL
            for (int32_t i = lane; i < vectors; i += 32)
            {
                uint4 const e = gatherTable[i];
                __stcs(rowVectors + e.x, make_uint4(pair(e.y), pair(e.z), pair(e.w), pair(gatherTail[i])));
            }
        }
        else if (vectorOut)
        {
            uint4* const rowVectors = reinterpret_cast<uint4*>(row);
            uint4 const* const staged = reinterpret_cast<uint4 const*>(stage);
            for (int32_t i = lane; i < vectors; i += 32)
            {
                int2 const e = copyTable[i];
                __stcs(rowVectors + e.y, staged[e.x]);
            }
        }
        else if (kBinMajor)
        {
            uint32_t const* const staged = reinterpret_cast<uint32_t const*>(stage);
            forEachLevel(g, [&](int32_t, int32_t lh, int32_t lw, int32_t, int32_t, int32_t binOffset) {
                T* const out = row + g.c * binOffset + c0 * lh * lw;
                int32_t const bins = lh * lw;
                for (int32_t i = lane; i < validChannels * bins; i += 32)
                {
                    uint32_t const channel = static_cast<uint32_t>(i / bins);
                    uint32_t const w = staged[sliceBinWord(static_cast<uint32_t>(binOffset + i % bins),
                        kChannels == 1 ? channel : channel / 2)];
                    streamStore(out + i, wordChannel<T>(w, kChannels == 1 ? 0 : static_cast<int32_t>(channel % 2)));
                }
            });
        }
        else
        {
            forEachLevel(g, [&](int32_t, int32_t lh, int32_t lw, int32_t, int32_t, int32_t binOffset) {
                copyOut(row + g.c * binOffset + c0 * lh * lw,
                    reinterpret_cast<T const*>(stage) + kSliceChannels * binOffset, validChannels * lh * lw, lane);
            });
        }
        __syncwarp(); // the next fetch and roi rewrite the roi row and the staging buffer
    }
}

} // namespace roi
} // namespace spp
