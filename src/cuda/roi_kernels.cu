// ROI pooling CUDA kernels and the launcher (spp/roi_cuda.h).
//
// Three kernels, all on core/roi_bins.h for the windows (the CPU reference uses the same geometry):
//  - planes (NCHW): a CTA takes one feature plane (batch image b, channel c) and a run of rois; it stages the plane in
//    shared memory when it fits (rois of one image reuse it many times: the read traffic is then the plane once per
//    CTA instead of every window from L2), then each warp pools one roi: per level, lanes reduce the columns of each
//    row window (separable reduction, row-window results kept in shared memory), then each bin reduces its columns.
//    Output per (roi, channel, level) is a contiguous run of Lh*Lw elements, written by consecutive lanes.
//  - direct (any layout, any size): one thread per output element reading its window from global memory; the NHWC
//    path (channels across lanes, so loads coalesce) and the fallback when a plane does not fit in shared memory.
//  - segments (NHWC; NCHW after a transpose into the workspace): a CTA per (roi, tile of up to 128 channels), one
//    channel per thread. The roi's windows are cut into row and column segments once per CTA (cuda/roi_segments.h);
//    each thread reads every cell of the roi once, reducing it into its column segment's register, and after each
//    row segment folds those partials into the column windows of every level and then into the bins (shared memory,
//    [bin][channel]) of the row windows that contain the row segment. Bins are written in output order at the end.
// Every roi row is validated on the device: a batch index outside [0, N) or a non-finite value gives a zero row and
// is never used to address the features.
#include "spp/roi_cuda.h"

#include "core/roi_bins.h"
#include "device_limits.h"
#include "device_traits.h"
#include "roi_common.cuh"
#include "roi_segments.h"
#include "roi_slices.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace spp
{
namespace
{

using device::combine;
using device::identity;
using device::Traits;
using roi::loadBox;
using roi::RoiGeometry;
using roi::streamStore;

constexpr int32_t kROI_THREADS = 256;
constexpr int32_t kWARPS = kROI_THREADS / 32;
//! Shared memory of one planes CTA (under the 48 KiB that needs no opt-in).
constexpr int64_t kPLANE_SMEM_BYTES = 40 * 1024;
//! Rois one planes CTA works through (each warp takes every kWARPS-th).
constexpr int64_t kROIS_PER_CTA = 64;

// ---------------------------------------------------------------------------------------------------------------
// Direct kernel: one thread per output element.
template <typename T, typename R, PoolMode kMode>
__global__ void __launch_bounds__(kROI_THREADS) roiDirectKernel(
    RoiGeometry g, T const* __restrict__ features, R const* __restrict__ rois, T* __restrict__ output, int64_t total)
{
    for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < total;
         t += static_cast<int64_t>(gridDim.x) * blockDim.x)
    {
        int64_t const k = t / g.features;
        int64_t inLevel = t - k * g.features;
        int32_t l = 0;
        int64_t levelStart = 0;
        for (; l < g.numLevels - 1; ++l)
        {
            int64_t const block = g.c * g.levelsH[l] * g.levelsW[l];
            if (inLevel < block)
            {
                break;
            }
            inLevel -= block;
            levelStart += block;
        }
        int64_t const lh = g.levelsH[l];
        int64_t const lw = g.levelsW[l];
        int64_t c, bin;
        if (g.layout == Layout::kNHWC)
        {
            bin = inLevel / g.c; // channels fastest across threads: coalesced NHWC loads
            c = inLevel - bin * g.c;
        }
        else
        {
            c = inLevel / (lh * lw);
            bin = inLevel - c * lh * lw;
        }
        int64_t const by = bin / lw;
        int64_t const bx = bin - by * lw;
        detail::RoiBox const box = loadBox(g, rois, k);
        float result = 0.0F;
        if (box.valid)
        {
            detail::Window const wh = detail::roiBinWindow(box.startH, box.height, by, lh, g.h);
            detail::Window const ww = detail::roiBinWindow(box.startW, box.width, bx, lw, g.w);
            if (wh.end > wh.start && ww.end > ww.start)
            {
                int64_t const colStride = g.layout == Layout::kNHWC ? g.cs : 1;
                int64_t const rowStride = g.w * colStride;
                int64_t const base
                    = g.layout == Layout::kNHWC ? box.batch * g.h * rowStride + c : (box.batch * g.c + c) * g.h * g.w;
                float acc = identity<T, kMode>();
                for (int64_t y = wh.start; y < wh.end; ++y)
                {
                    T const* const rowPtr = features + base + y * rowStride;
                    for (int64_t x = ww.start; x < ww.end; ++x)
                    {
                        combine<float, kMode>(acc, Traits<T>::load(rowPtr[x * colStride]));
                    }
                }
                result = kMode == PoolMode::kMAX
                    ? acc
                    : acc / static_cast<float>((wh.end - wh.start) * (ww.end - ww.start));
            }
        }
        output[k * g.features + levelStart + c * lh * lw + bin] = Traits<T>::store(result);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Planes kernel (NCHW). blockIdx.x: plane (b * C + c) fastest, so CTAs running together write neighbouring channels
// of the same rois (their partial output sectors merge in L2); blockIdx.y: run of kROIS_PER_CTA rois.
// Shared memory: [plane H*W of T, when staged][per warp: maxLh * W floats of row-window results].
template <typename T>
__host__ __device__ int64_t planeBytes(RoiGeometry const& g)
{
    return ((g.h * g.w * static_cast<int64_t>(sizeof(T)) + 15) / 16) * 16;
}

__host__ __device__ inline int64_t rowBufferBytes(RoiGeometry const& g)
{
    return static_cast<int64_t>(kWARPS) * g.maxLh * g.w * static_cast<int64_t>(sizeof(float));
}

template <typename T, typename R, PoolMode kMode>
__global__ void __launch_bounds__(kROI_THREADS) roiPlanesKernel(
    RoiGeometry g, T const* __restrict__ features, R const* __restrict__ rois, T* __restrict__ output)
{
    extern __shared__ __align__(16) unsigned char smem[];
    int64_t const plane = blockIdx.x; // b * C + c
    int64_t const b = plane / g.c;
    int64_t const c = plane - b * g.c;
    int64_t const kBegin = static_cast<int64_t>(blockIdx.y) * kROIS_PER_CTA;
    int64_t const kEnd = kBegin + kROIS_PER_CTA < g.k ? kBegin + kROIS_PER_CTA : g.k;
    int64_t const planeSize = g.h * g.w;
    int32_t const warp = static_cast<int32_t>(threadIdx.x) / 32;
    int32_t const lane = static_cast<int32_t>(threadIdx.x) % 32;

    // Stage the plane only if some roi of this run addresses image b (most runs, for N = 1).
    bool anyRoi = false;
    for (int64_t k = kBegin + threadIdx.x; k < kEnd && !anyRoi; k += blockDim.x)
    {
        detail::RoiBox const box = loadBox(g, rois, k);
        anyRoi = box.valid && box.batch == b;
    }
    if (__syncthreads_or(anyRoi) == 0)
    {
        // Still write the zeros of this plane's channel for the rois that belong to other images or are invalid.
        for (int64_t k = kBegin + warp; k < kEnd; k += kWARPS)
        {
            detail::RoiBox const box = loadBox(g, rois, k);
            if (box.valid && box.batch != b)
            {
                continue; // that roi's own plane CTA writes this channel
            }
            int64_t levelStart = 0;
            for (int32_t l = 0; l < g.numLevels; ++l)
            {
                int64_t const bins = static_cast<int64_t>(g.levelsH[l]) * g.levelsW[l];
                for (int64_t i = lane; i < bins; i += 32)
                {
                    output[k * g.features + levelStart + c * bins + i] = Traits<T>::store(0.0F);
                }
                levelStart += g.c * bins;
            }
        }
        return;
    }
    T* const staged = reinterpret_cast<T*>(smem);
    T const* const source = features + plane * planeSize;
    for (int64_t i = threadIdx.x; i < planeSize; i += blockDim.x)
    {
        staged[i] = source[i];
    }
    float* const rowResults = reinterpret_cast<float*>(smem + planeBytes<T>(g)) + warp * g.maxLh * g.w;
    __syncthreads();

    for (int64_t k = kBegin + warp; k < kEnd; k += kWARPS)
    {
        detail::RoiBox const box = loadBox(g, rois, k);
        bool const mine = box.valid && box.batch == b;
        if (box.valid && !mine)
        {
            continue; // pooled by the CTA of its own image's plane
        }
        int64_t levelStart = 0;
        for (int32_t l = 0; l < g.numLevels; ++l)
        {
            int64_t const lh = g.levelsH[l];
            int64_t const lw = g.levelsW[l];
            T* const out = output + k * g.features + levelStart + c * lh * lw;
            levelStart += g.c * lh * lw;
            if (!mine)
            {
                for (int64_t i = lane; i < lh * lw; i += 32)
                {
                    out[i] = Traits<T>::store(0.0F);
                }
                continue;
            }
            // The level's columns: the union of its column windows, [first start, last end) (consecutive windows
            // touch or overlap, so the union is one interval).
            int64_t const x0 = detail::roiBinWindow(box.startW, box.width, 0, lw, g.w).start;
            int64_t const x1 = detail::roiBinWindow(box.startW, box.width, lw - 1, lw, g.w).end;
            // Stage 1: every (row window, column) pair of the level, lanes on consecutive columns (narrow rois
            // still keep the lanes busy: the pairs of several row windows share one pass).
            int64_t const width = x1 - x0;
            for (int64_t i = lane; i < lh * width; i += 32)
            {
                int64_t const by = i / width;
                int64_t const x = x0 + (i - by * width);
                detail::Window const wh = detail::roiBinWindow(box.startH, box.height, by, lh, g.h);
                float acc = identity<T, kMode>();
                for (int64_t y = wh.start; y < wh.end; ++y)
                {
                    combine<float, kMode>(acc, Traits<T>::load(staged[y * g.w + x]));
                }
                rowResults[by * g.w + x] = acc;
            }
            __syncwarp();
            // Stage 2: one lane per bin reduces its columns of its row window's results.
            for (int64_t bin = lane; bin < lh * lw; bin += 32)
            {
                int64_t const by = bin / lw;
                int64_t const bx = bin - by * lw;
                detail::Window const wh = detail::roiBinWindow(box.startH, box.height, by, lh, g.h);
                detail::Window const ww = detail::roiBinWindow(box.startW, box.width, bx, lw, g.w);
                float result = 0.0F;
                if (wh.end > wh.start && ww.end > ww.start)
                {
                    float acc = identity<T, kMode>();
                    for (int64_t x = ww.start; x < ww.end; ++x)
                    {
                        combine<float, kMode>(acc, rowResults[by * g.w + x]);
                    }
                    result = kMode == PoolMode::kMAX
                        ? acc
                        : acc / static_cast<float>((wh.end - wh.start) * (ww.end - ww.start));
                }
                out[bin] = Traits<T>::store(result);
            }
            __syncwarp();
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Segments kernel (roi-major). Features are NHWC with pixel stride `pixelStride` (the caller's, or C for the
// transposed workspace). Work item = (roi k, channel tile); consecutive items are the tiles of one roi, so the CTAs
// running together write neighbouring parts of the same output rows. blockDim.x = channels per tile (32..128).
// Shared memory: static segment tables, then dynamic [totalBins][blockDim.x + 1] float bin accumulators (the +1
// keeps the output pass, which walks bins of one channel, free of bank conflicts; the accumulation walks channels).
constexpr int32_t kSEG_THREADS = 128;

template <typename T, typename R, PoolMode kMode>
__global__ void __launch_bounds__(kSEG_THREADS) roiSegmentsKernel(RoiGeometry g, T const* __restrict__ features,
    int64_t pixelStride, R const* __restrict__ rois, T* __restrict__ output, int64_t items, int32_t tiles)
{
    using detail::kROI_SEG_MAX_SEGMENTS;
    using detail::kROI_SEG_MAX_SLOTS;
    __shared__ int32_t sEndpoints[2][kROI_SEG_MAX_SLOTS]; // [axis][slot]: axis 0 rows, 1 columns
    __shared__ int32_t sIsFirst[2][kROI_SEG_MAX_SLOTS];
    __shared__ int32_t sRanks[2][kROI_SEG_MAX_SLOTS];
    __shared__ int32_t sSegmentStart[2][kROI_SEG_MAX_SEGMENTS + 1];
    __shared__ int32_t sSegments[2];
    extern __shared__ float sBins[];

    int32_t const tid = static_cast<int32_t>(threadIdx.x);
    int32_t const threads = static_cast<int32_t>(blockDim.x);
    int32_t const binStride = threads + 1;
    int32_t const slotsH = 2 * g.sumLh;
    int32_t const slots = slotsH + 2 * g.sumLw;
    for (int64_t item = blockIdx.x; item < items; item += gridDim.x)
    {
        int64_t const k = item / tiles;
        int64_t const c0 = (item - k * tiles) * threads;
        int64_t const c = c0 + tid;
        bool const active = c < g.c;
        int32_t const tileChannels = static_cast<int32_t>(g.c - c0 < threads ? g.c - c0 : threads);
        detail::RoiBox const box = loadBox(g, rois, k); // the same row for every thread: uniform branches below
        if (box.valid)
        {
            // Tables, in three phases of one slot per thread (cuda/roi_segments.h; roiBuildAxis is the same in order).
            for (int32_t i = tid; i < slots; i += threads)
            {
                bool const row = i < slotsH;
                sEndpoints[row ? 0 : 1][row ? i : i - slotsH] = row
                    ? detail::roiAxisEndpoint(box.startH, box.height, g.levelsH, g.numLevels, g.h, i)
                    : detail::roiAxisEndpoint(box.startW, box.width, g.levelsW, g.numLevels, g.w, i - slotsH);
            }
            __syncthreads();
            for (int32_t i = tid; i < slots; i += threads)
            {
                int32_t const axis = i < slotsH ? 0 : 1;
                int32_t const j = axis == 0 ? i : i - slotsH;
                sIsFirst[axis][j] = detail::roiEndpointIsFirst(sEndpoints[axis], j);
            }
            __syncthreads();
            for (int32_t i = tid; i < slots; i += threads)
            {
                int32_t const axis = i < slotsH ? 0 : 1;
                int32_t const j = axis == 0 ? i : i - slotsH;
                int32_t const count = axis == 0 ? slotsH : slots - slotsH;
                int32_t const rank = detail::roiEndpointRank(sEndpoints[axis], sIsFirst[axis], count, j);
                sRanks[axis][j] = rank;
                sSegmentStart[axis][rank] = sEndpoints[axis][j]; // equal endpoints write the same value
            }
            if (tid < 2)
            {
                int32_t const count = tid == 0 ? slotsH : slots - slotsH;
                int32_t distinct = 0;
                for (int32_t j = 0; j < count; ++j)
                {
                    distinct += sIsFirst[tid][j];
                }
                sSegments[tid] = distinct - 1;
            }
            for (int32_t b = 0; b < g.totalBins; ++b)
            {
                sBins[b * binStride + tid] = identity<T, kMode>(); // each thread owns its column
            }
            __syncthreads();

            int32_t const rowSegments = sSegments[0];
            int32_t const colSegments = sSegments[1];
            T const* const image = features + box.batch * g.h * g.w * pixelStride + c;
            for (int32_t ys = 0; ys < rowSegments; ++ys)
            {
                // Column-segment partials of this row segment: every cell of the roi is read here exactly once.
                float part[kROI_SEG_MAX_SEGMENTS];
#pragma unroll
                for (int32_t s = 0; s < kROI_SEG_MAX_SEGMENTS; ++s)
                {
                    part[s] = identity<T, kMode>();
                }
                if (active)
                {
                    int64_t const y0 = sSegmentStart[0][ys];
                    int64_t const y1 = sSegmentStart[0][ys + 1];
#pragma unroll
                    for (int32_t s = 0; s < kROI_SEG_MAX_SEGMENTS; ++s)
                    {
                        if (s >= colSegments)
                        {
                            break;
                        }
                        int64_t const x0 = sSegmentStart[1][s];
                        int64_t const x1 = sSegmentStart[1][s + 1];
#pragma unroll 1
                        for (int64_t y = y0; y < y1; ++y)
                        {
                            T const* const row = image + y * g.w * pixelStride;
#pragma unroll 1
                            for (int64_t x = x0; x < x1; ++x)
                            {
                                combine<float, kMode>(part[s], Traits<T>::load(row[x * pixelStride]));
                            }
                        }
                    }
                }
                // Fold into the bins whose row window contains this row segment (the same for all threads).
                int32_t rowWindow = 0;
                int32_t colWindow = 0;
                int32_t binBase = 0;
                for (int32_t l = 0; l < g.numLevels; ++l)
                {
                    int32_t const lh = g.levelsH[l];
                    int32_t const lw = g.levelsW[l];
                    int32_t byFirst = lh;
                    int32_t byLast = -1;
                    for (int32_t by = 0; by < lh; ++by)
                    {
                        int32_t const* const r = &sRanks[0][2 * (rowWindow + by)];
                        if (r[0] <= ys && ys < r[1])
                        {
                            byFirst = by < byFirst ? by : byFirst;
                            byLast = by;
                        }
                    }
                    for (int32_t bx = 0; bx < lw && byFirst <= byLast; ++bx)
                    {
                        int32_t const segBegin = sRanks[1][2 * (colWindow + bx)];
                        int32_t const segEnd = sRanks[1][2 * (colWindow + bx) + 1];
                        float v = identity<T, kMode>();
#pragma unroll
                        for (int32_t s = 0; s < kROI_SEG_MAX_SEGMENTS; ++s)
                        {
                            if (s >= segEnd)
                            {
                                break;
                            }
                            if (s >= segBegin)
                            {
                                combine<float, kMode>(v, part[s]);
                            }
                        }
                        for (int32_t by = byFirst; by <= byLast; ++by)
                        {
                            int32_t const* const r = &sRanks[0][2 * (rowWindow + by)];
                            if (r[0] <= ys && ys < r[1])
                            {
                                combine<float, kMode>(sBins[(binBase + by * lw + bx) * binStride + tid], v);
                            }
                        }
                    }
                    rowWindow += lh;
                    colWindow += lw;
                    binBase += lh * lw;
                }
            }
            __syncthreads(); // the output pass reads other threads' bin columns
        }
        // Output, level by level: the tile's channels of one level are one contiguous run of tileChannels * Lh * Lw
        // elements, written by consecutive threads (invalid rois: zeros, without reading the tables).
        int64_t levelStart = 0;
        int32_t rowWindow = 0;
        int32_t colWindow = 0;
        int32_t binBase = 0;
        for (int32_t l = 0; l < g.numLevels; ++l)
        {
            int32_t const lw = g.levelsW[l];
            int32_t const bins = g.levelsH[l] * lw;
            T* const out = output + k * g.features + levelStart + c0 * bins;
            int32_t const count = tileChannels * bins;
            for (int32_t e = tid; e < count; e += threads)
            {
                int32_t const channel = e / bins;
                int32_t const bin = e - channel * bins;
                int32_t const by = bin / lw;
                int32_t const bx = bin - by * lw;
                float result = 0.0F;
                if (box.valid)
                {
                    int32_t const* const rw = &sEndpoints[0][2 * (rowWindow + by)];
                    int32_t const* const cw = &sEndpoints[1][2 * (colWindow + bx)];
                    if (rw[1] > rw[0] && cw[1] > cw[0])
                    {
                        float const acc = sBins[(binBase + bin) * binStride + channel];
                        result = kMode == PoolMode::kMAX
                            ? acc
                            : acc / static_cast<float>(static_cast<int64_t>(rw[1] - rw[0]) * (cw[1] - cw[0]));
                    }
                }
                streamStore(out + e, Traits<T>::store(result));
            }
            levelStart += g.c * bins;
            rowWindow += g.levelsH[l];
            colWindow += lw;
            binBase += bins;
        }
        __syncthreads(); // the next item rewrites the tables and the bins
    }
}

// NCHW -> NHWC (pixel stride C) into the workspace, for the segments kernel: transposeTile per CTA of 256 threads.
// grid (pixel tiles, channel tiles, N).
template <typename T>
__global__ void __launch_bounds__(256) nchwToNhwcKernel(
    T const* __restrict__ in, T* __restrict__ out, int64_t channels, int64_t pixels)
{
    __shared__ T tile[32][33];
    int64_t const b = blockIdx.z;
    roi::transposeTile(in + b * channels * pixels, out + b * pixels * channels, channels, pixels, channels,
        static_cast<int64_t>(blockIdx.x) * 32, static_cast<int64_t>(blockIdx.y) * 32, tile);
}

RoiGeometry makeGeometry(RoiDesc const& desc)
{
    RoiGeometry g{};
    g.n = desc.n;
    g.c = desc.c;
    g.h = desc.h;
    g.w = desc.w;
    g.cs = desc.layout == Layout::kNHWC && desc.channelStride != 0 ? desc.channelStride : desc.c;
    g.k = desc.numRois;
    g.features = roiOutputFeatures(desc.pyramid, desc.c);
    g.scale = desc.pyramid.spatialScale;
    g.numLevels = desc.pyramid.numLevels;
    g.layout = desc.layout;
    g.maxLh = 1;
    for (int32_t i = 0; i < kMAX_LEVELS; ++i)
    {
        g.levelsH[i] = i < g.numLevels ? desc.pyramid.levelsH[i] : 0;
        g.levelsW[i] = i < g.numLevels ? desc.pyramid.levelsW[i] : 0;
        g.maxLh = g.levelsH[i] > g.maxLh ? g.levelsH[i] : g.maxLh;
        g.sumLh += g.levelsH[i];
        g.sumLw += g.levelsW[i];
        g.totalBins += g.levelsH[i] * g.levelsW[i];
    }
    return g;
}

//! The kernel a call runs (kAUTO resolved).
enum class Kernel : int32_t
{
    kPLANES,
    kDIRECT,
    kSEGMENTS,
    kSLICES,
};

//! What pickKernel planned: the slices kernel's plan.
struct Plan
{
    roi::SliceSetup slices;
};

//! Bytes of the NHWC copy of NCHW features that the segments kernel reads (0 when it is not needed).
int64_t transposeBytes(RoiDesc const& desc)
{
    if (desc.layout != Layout::kNCHW || desc.numRois == 0 || !detail::roiSegmentsFit(desc.pyramid))
    {
        return 0;
    }
    int64_t const bytes = desc.n * desc.c * desc.h * desc.w * static_cast<int64_t>(elementSize(desc.dtype));
    return (bytes + 255) / 256 * 256;
}

//! Workspace bytes of the slices kernel (roi::sliceWorkspace; 0 where the slices kernel never runs).
int64_t sliceWorkspaceBytes(RoiDesc const& desc)
{
    int64_t bins = 0;
    int64_t windows = 0;
    for (int32_t l = 0; l < desc.pyramid.numLevels; ++l)
    {
        bins += static_cast<int64_t>(desc.pyramid.levelsH[l]) * desc.pyramid.levelsW[l];
        windows += desc.pyramid.levelsH[l] + desc.pyramid.levelsW[l];
    }
    if (desc.dtype == DataType::kINT8 || desc.numRois == 0 || desc.numRois > roi::kSLICE_MAX_ROIS
        || bins > roi::kSLICE_MAX_BINS)
    {
        return 0;
    }
    return roi::sliceWorkspace(desc.n, desc.c, desc.h, desc.w, desc.numRois, windows, desc.layout,
        static_cast<int64_t>(elementSize(desc.dtype)))
        .totalBytes;
}

bool planesRuns(RoiGeometry const& g, DataType dtype)
{
    int64_t const es = static_cast<int64_t>(elementSize(dtype));
    int64_t const plane = (g.h * g.w * es + 15) / 16 * 16;
    int64_t const runs = (g.k + kROIS_PER_CTA - 1) / kROIS_PER_CTA;
    return g.layout == Layout::kNCHW && plane + rowBufferBytes(g) <= kPLANE_SMEM_BYTES && g.n > 0
        && g.n * g.c <= 0x7fffffff && runs <= 65535;
}

bool segmentsRuns(RoiDesc const& desc, RoiGeometry const& g, size_t workspaceBytes)
{
    if (!detail::roiSegmentsFit(desc.pyramid) || g.h > 0x7fffffff || g.w > 0x7fffffff)
    {
        return false; // tables hold int32 coordinates
    }
    if (g.layout == Layout::kNHWC)
    {
        return true;
    }
    // the transpose's grid: pixel tiles in x, channel tiles in y, images in z
    return workspaceBytes >= static_cast<size_t>(transposeBytes(desc)) && (g.h * g.w + 31) / 32 <= 0x7fffffff
        && (g.c + 31) / 32 <= 65535 && g.n <= 65535;
}

//! Which kernel runs `desc` for `algo` with `workspaceBytes` of (16-byte aligned) workspace; false when a forced algo
//! cannot.
bool pickKernel(RoiDesc const& desc, RoiGeometry const& g, RoiAlgo algo, size_t workspaceBytes, Kernel& kernel,
    Plan& plan)
{
    roi::SliceSetup& slices = plan.slices;
    device::DeviceLimits const limits = device::deviceLimits();
    switch (algo)
    {
    case RoiAlgo::kPLANES: kernel = Kernel::kPLANES; return planesRuns(g, desc.dtype);
    case RoiAlgo::kDIRECT: kernel = Kernel::kDIRECT; return true;
    case RoiAlgo::kSEGMENTS: kernel = Kernel::kSEGMENTS; return segmentsRuns(desc, g, workspaceBytes);
    case RoiAlgo::kSLICES:
        kernel = Kernel::kSLICES;
        return roi::planSlices(g, desc.dtype, desc.pyramid.mode, limits, workspaceBytes, slices);
    case RoiAlgo::kAUTO: break;
    }
    if (algo != RoiAlgo::kAUTO)
    {
        return false;
    }
    // kAUTO: slices where a channel slice of the map fits in shared memory, else segments, except (for both) maps
    // much larger than the pooled output (a few rois over a big map): there staging or transposing every feature
    // would cost more than the pooling.
    bool const mapWorthIt = g.n * g.h * g.w <= 8 * g.k * static_cast<int64_t>(g.totalBins);
    if (mapWorthIt && roi::planSlices(g, desc.dtype, desc.pyramid.mode, limits, workspaceBytes, slices))
    {
        kernel = Kernel::kSLICES;
    }
    else if ((mapWorthIt || g.layout == Layout::kNHWC) && segmentsRuns(desc, g, workspaceBytes))
    {
        kernel = Kernel::kSEGMENTS;
    }
    else
    {
        kernel = planesRuns(g, desc.dtype) ? Kernel::kPLANES : Kernel::kDIRECT;
    }
    return true;
}

//! Launches a kernel of the slices grid (roi groups x slices x images, `warps` warps a CTA), first raising its dynamic
//! shared-memory limit where it needs more than the default 48 KiB.
template <typename... Params, typename... Args>
cudaError_t launchSliceGrid(void (*function)(Params...), int32_t groups, int32_t slices, int64_t images, int32_t warps,
    int64_t smemBytes, cudaStream_t stream, Args const&... args)
{
    if (smemBytes > 48 * 1024)
    {
        cudaError_t const status = cudaFuncSetAttribute(
            function, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int32_t>(smemBytes));
        if (status != cudaSuccess)
        {
            return status;
        }
    }
    dim3 const grid(static_cast<uint32_t>(groups), static_cast<uint32_t>(slices), static_cast<uint32_t>(images));
    function<<<grid, warps * 32, static_cast<size_t>(smemBytes), stream>>>(args...);
    return cudaGetLastError();
}

template <typename T, typename R, PoolMode kMode>
cudaError_t launch(RoiGeometry const& g, Kernel kernel, Plan const& plan, void const* features,
    void const* rois, void* output, void* workspace, cudaStream_t stream)
{
    roi::SliceSetup const& slices = plan.slices;
    if (kernel == Kernel::kSLICES)
    {
        static_assert(sizeof(RoiGeometry) + sizeof(roi::SlicePlan) + 3 * sizeof(void*) <= 4096
                && sizeof(RoiGeometry) + sizeof(roi::SliceWindows) + 5 * sizeof(void*) + 2 * sizeof(int64_t) <= 4096,
            "the slices kernels' parameters must stay within the classic 4 KiB limit");
        // 1. The roi table (box, windows, nesting vote, once per roi) and, for NCHW features, their NHWC copy with
        // 16-byte pixel runs, in one launch; 2. the pooling, per (roi group, slice, image).
        roi::SlicePlan const& slicePlan = slices.plan;
        unsigned char* const table = static_cast<unsigned char*>(workspace);
        RoiGeometry pooled = g;
        T const* source = static_cast<T const*>(features);
        T* copy = nullptr;
        int64_t copyCtas = 0;
        int64_t const maxCtas = static_cast<int64_t>(device::deviceLimits().sms) * 8;
        if (slicePlan.workspace.copyStride > 0)
        {
            copy = reinterpret_cast<T*>(table + slicePlan.workspace.tableBytes);
            int64_t const tiles = (g.h * g.w + 31) / 32 * ((g.c + 31) / 32) * g.n;
            copyCtas = tiles < maxCtas ? tiles : maxCtas;
            pooled.layout = Layout::kNHWC;
            pooled.cs = slicePlan.workspace.copyStride;
            source = copy;
        }
        int64_t const tableWarps = (g.k + roi::kSLICE_PREP_WARPS - 1) / roi::kSLICE_PREP_WARPS;
        int32_t const tableCtas = static_cast<int32_t>(tableWarps < maxCtas ? tableWarps : maxCtas);
        roi::roiSlicePrepKernel<T, R>
            <<<static_cast<uint32_t>(tableCtas + copyCtas), roi::kSLICE_PREP_WARPS * 32, 0, stream>>>(g,
                slices.windows, static_cast<R const*>(rois), table, static_cast<T const*>(features), copy,
                slicePlan.workspace.copyStride, tableCtas);
        cudaError_t const prepStatus = cudaGetLastError();
        if (prepStatus != cudaSuccess)
        {
            return prepStatus;
        }
        return launchSliceGrid(roi::roiSlicesKernel<T, kMode>, slicePlan.groups, slicePlan.slices, g.n,
            slicePlan.warps, slicePlan.smemBytes, stream, pooled, slicePlan, source, table, static_cast<T*>(output));
    }
    if (kernel == Kernel::kPLANES)
    {
        int64_t const runs = (g.k + kROIS_PER_CTA - 1) / kROIS_PER_CTA;
        size_t const smem = static_cast<size_t>(planeBytes<T>(g) + rowBufferBytes(g));
        dim3 const grid(static_cast<uint32_t>(g.n * g.c), static_cast<uint32_t>(runs));
        roiPlanesKernel<T, R, kMode><<<grid, kROI_THREADS, smem, stream>>>(
            g, static_cast<T const*>(features), static_cast<R const*>(rois), static_cast<T*>(output));
        return cudaGetLastError();
    }
    if (kernel == Kernel::kSEGMENTS)
    {
        T const* source = static_cast<T const*>(features);
        int64_t pixelStride = g.cs;
        if (g.layout == Layout::kNCHW)
        {
            pixelStride = g.c;
            source = static_cast<T const*>(workspace);
            if (g.n > 0) // N == 0: every roi is invalid and no feature is read
            {
                dim3 const grid(static_cast<uint32_t>((g.h * g.w + 31) / 32), static_cast<uint32_t>((g.c + 31) / 32),
                    static_cast<uint32_t>(g.n));
                nchwToNhwcKernel<T><<<grid, 256, 0, stream>>>(
                    static_cast<T const*>(features), static_cast<T*>(workspace), g.c, g.h * g.w);
                cudaError_t const error = cudaGetLastError();
                if (error != cudaSuccess)
                {
                    return error;
                }
            }
        }
        // One channel per thread, tiles of up to kSEG_THREADS channels (fewer threads when C is small).
        int32_t const threads = static_cast<int32_t>(g.c >= kSEG_THREADS ? kSEG_THREADS : (g.c + 31) / 32 * 32);
        int64_t const tiles = (g.c + threads - 1) / threads;
        int64_t const items = g.k * tiles;
        int64_t const maxBlocks = static_cast<int64_t>(device::deviceLimits().sms) * 64;
        size_t const smem = static_cast<size_t>(g.totalBins) * static_cast<size_t>(threads + 1) * sizeof(float);
        roiSegmentsKernel<T, R, kMode>
            <<<static_cast<uint32_t>(items < maxBlocks ? items : maxBlocks), threads, smem, stream>>>(g, source,
                pixelStride, static_cast<R const*>(rois), static_cast<T*>(output), items, static_cast<int32_t>(tiles));
        return cudaGetLastError();
    }
    int64_t const total = g.k * g.features;
    int64_t const blocks = (total + kROI_THREADS - 1) / kROI_THREADS;
    int64_t const maxBlocks = static_cast<int64_t>(device::deviceLimits().sms) * 32;
    roiDirectKernel<T, R, kMode><<<static_cast<uint32_t>(blocks < maxBlocks ? blocks : maxBlocks), kROI_THREADS, 0,
        stream>>>(g, static_cast<T const*>(features), static_cast<R const*>(rois), static_cast<T*>(output), total);
    return cudaGetLastError();
}

template <typename T, typename R>
cudaError_t launchMode(RoiGeometry const& g, Kernel kernel, Plan const& plan, PoolMode mode, void const* features,
    void const* rois, void* output, void* workspace, cudaStream_t stream)
{
    return mode == PoolMode::kMAX
        ? launch<T, R, PoolMode::kMAX>(g, kernel, plan, features, rois, output, workspace, stream)
        : launch<T, R, PoolMode::kAVG>(g, kernel, plan, features, rois, output, workspace, stream);
}

template <typename T>
cudaError_t launchRois(RoiDesc const& desc, RoiGeometry const& g, Kernel kernel, Plan const& plan,
    void const* features,
    void const* rois, void* output, void* workspace, cudaStream_t stream)
{
    PoolMode const mode = desc.pyramid.mode;
    return desc.roiDtype == DataType::kFLOAT
        ? launchMode<T, float>(g, kernel, plan, mode, features, rois, output, workspace, stream)
        : launchMode<T, T>(g, kernel, plan, mode, features, rois, output, workspace, stream);
}

} // namespace

size_t roiWorkspaceSize(RoiDesc const& desc) noexcept
{
    if (!validate(desc).ok())
    {
        return 0;
    }
    int64_t const transpose = transposeBytes(desc);
    int64_t const slices = sliceWorkspaceBytes(desc);
    return static_cast<size_t>(transpose > slices ? transpose : slices);
}

bool roiAlgoSupported(RoiDesc const& desc, RoiAlgo algo, size_t workspaceBytes) noexcept
{
    if (!validate(desc).ok())
    {
        return false;
    }
    Kernel kernel{};
    Plan plan{};
    return pickKernel(desc, makeGeometry(desc), algo, workspaceBytes, kernel, plan);
}

cudaError_t roiForward(RoiDesc const& desc, void const* features, void const* rois, void* output, void* workspace,
    size_t workspaceBytes, cudaStream_t stream, RoiLaunchOptions const& options) noexcept
{
    if (!validate(desc).ok())
    {
        return cudaErrorInvalidValue;
    }
    if (roiOutputElements(desc) == 0)
    {
        return cudaSuccess;
    }
    if (rois == nullptr || output == nullptr || (features == nullptr && roiFeatureElements(desc) > 0))
    {
        return cudaErrorInvalidValue;
    }
    // the kernels address elements of each tensor's type
    auto const misaligned = [](void const* p, DataType type) {
        return reinterpret_cast<uintptr_t>(p) % elementSize(type) != 0;
    };
    if (misaligned(features, desc.dtype) || misaligned(output, desc.dtype) || misaligned(rois, desc.roiDtype))
    {
        return cudaErrorMisalignedAddress;
    }
    RoiGeometry const g = makeGeometry(desc);
    Kernel kernel{};
    Plan plan{};
    // A workspace that is not 16-byte aligned counts as none (the slices kernel copies 16-byte words of it, the
    // segments transpose writes elements of any type to it).
    bool const aligned = reinterpret_cast<uintptr_t>(workspace) % 16 == 0;
    size_t const usable = workspace == nullptr || !aligned ? 0 : workspaceBytes;
    if (!pickKernel(desc, g, options.algo, usable, kernel, plan))
    {
        return cudaErrorInvalidValue;
    }
    switch (desc.dtype)
    {
    case DataType::kFLOAT: return launchRois<float>(desc, g, kernel, plan, features, rois, output, workspace, stream);
    case DataType::kHALF: return launchRois<__half>(desc, g, kernel, plan, features, rois, output, workspace, stream);
    case DataType::kBF16:
        return launchRois<__nv_bfloat16>(desc, g, kernel, plan, features, rois, output, workspace, stream);
    case DataType::kINT8: break;
    }
    return cudaErrorInvalidValue;
}

} // namespace spp
