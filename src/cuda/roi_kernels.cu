// ROI pooling CUDA kernels and the launcher (spp/roi_cuda.h).
//
// Two kernels, both on core/roi_bins.h for the windows (the CPU reference uses the same geometry):
//  - planes (NCHW): a CTA takes one feature plane (batch image b, channel c) and a run of rois; it stages the plane in
//    shared memory when it fits (rois of one image reuse it many times: the read traffic is then the plane once per
//    CTA instead of every window from L2), then each warp pools one roi: per level, lanes reduce the columns of each
//    row window (separable reduction, row-window results kept in shared memory), then each bin reduces its columns.
//    Output per (roi, channel, level) is a contiguous run of Lh*Lw elements, written by consecutive lanes.
//  - direct (any layout, any size): one thread per output element reading its window from global memory; the NHWC
//    path (channels across lanes, so loads coalesce) and the fallback when a plane does not fit in shared memory.
// Every roi row is validated on the device: a batch index outside [0, N) or a non-finite value gives a zero row and
// is never used to address the features.
#include "spp/roi_cuda.h"

#include "core/roi_bins.h"
#include "device_traits.h"

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

constexpr int32_t kROI_THREADS = 256;
constexpr int32_t kWARPS = kROI_THREADS / 32;
//! Shared memory of one planes CTA (under the 48 KiB that needs no opt-in).
constexpr int64_t kPLANE_SMEM_BYTES = 40 * 1024;
//! Rois one planes CTA works through (each warp takes every kWARPS-th).
constexpr int64_t kROIS_PER_CTA = 64;

struct RoiGeometry
{
    int64_t n, c, h, w, cs; // cs: NHWC pixel stride in elements
    int64_t k;              // number of rois
    int64_t features;       // C * sum(Lh * Lw)
    float scale;
    int32_t numLevels;
    int32_t maxLh;          // largest Lh (row-window buffer rows)
    Layout layout;
    int32_t levelsH[kMAX_LEVELS];
    int32_t levelsW[kMAX_LEVELS];
};

//! Loads roi row `k` (any roi dtype) and maps it onto the feature map.
template <typename R>
__device__ __forceinline__ detail::RoiBox loadBox(RoiGeometry const& g, R const* __restrict__ rois, int64_t k)
{
    float row[kROI_COLUMNS];
#pragma unroll
    for (int32_t i = 0; i < kROI_COLUMNS; ++i)
    {
        row[i] = Traits<R>::load(rois[k * kROI_COLUMNS + i]);
    }
    return detail::makeRoiBox(row, g.scale, g.n);
}

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

template <typename T>
bool planesFit(RoiGeometry const& g)
{
    return g.layout == Layout::kNCHW && planeBytes<T>(g) + rowBufferBytes(g) <= kPLANE_SMEM_BYTES;
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

int32_t multiprocessors()
{
    int32_t device = 0;
    int32_t count = 0;
    if (cudaGetDevice(&device) != cudaSuccess
        || cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || count <= 0)
    {
        cudaGetLastError(); // clear a sticky-free error so the launch status is the kernel's own
        return 80;
    }
    return count;
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
    }
    return g;
}

template <typename T, typename R, PoolMode kMode>
cudaError_t launch(RoiGeometry const& g, void const* features, void const* rois, void* output, cudaStream_t stream)
{
    int64_t const runs = (g.k + kROIS_PER_CTA - 1) / kROIS_PER_CTA;
    if (planesFit<T>(g) && g.n > 0 && g.n * g.c <= 0x7fffffff && runs <= 65535)
    {
        size_t const smem = static_cast<size_t>(planeBytes<T>(g) + rowBufferBytes(g));
        dim3 const grid(static_cast<uint32_t>(g.n * g.c), static_cast<uint32_t>(runs));
        roiPlanesKernel<T, R, kMode><<<grid, kROI_THREADS, smem, stream>>>(
            g, static_cast<T const*>(features), static_cast<R const*>(rois), static_cast<T*>(output));
        return cudaGetLastError();
    }
    int64_t const total = g.k * g.features;
    int64_t const blocks = (total + kROI_THREADS - 1) / kROI_THREADS;
    int64_t const maxBlocks = static_cast<int64_t>(multiprocessors()) * 32;
    roiDirectKernel<T, R, kMode><<<static_cast<uint32_t>(blocks < maxBlocks ? blocks : maxBlocks), kROI_THREADS, 0,
        stream>>>(g, static_cast<T const*>(features), static_cast<R const*>(rois), static_cast<T*>(output), total);
    return cudaGetLastError();
}

template <typename T, typename R>
cudaError_t launchMode(RoiGeometry const& g, PoolMode mode, void const* features, void const* rois, void* output,
    cudaStream_t stream)
{
    return mode == PoolMode::kMAX ? launch<T, R, PoolMode::kMAX>(g, features, rois, output, stream)
                                  : launch<T, R, PoolMode::kAVG>(g, features, rois, output, stream);
}

template <typename T>
cudaError_t launchRois(RoiDesc const& desc, RoiGeometry const& g, void const* features, void const* rois,
    void* output, cudaStream_t stream)
{
    PoolMode const mode = desc.pyramid.mode;
    return desc.roiDtype == DataType::kFLOAT ? launchMode<T, float>(g, mode, features, rois, output, stream)
                                             : launchMode<T, T>(g, mode, features, rois, output, stream);
}

} // namespace

size_t roiWorkspaceSize(RoiDesc const& /*desc*/) noexcept
{
    return 0;
}

cudaError_t roiForward(RoiDesc const& desc, void const* features, void const* rois, void* output,
    void* /*workspace*/, size_t /*workspaceBytes*/, cudaStream_t stream) noexcept
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
    RoiGeometry const g = makeGeometry(desc);
    switch (desc.dtype)
    {
    case DataType::kFLOAT: return launchRois<float>(desc, g, features, rois, output, stream);
    case DataType::kHALF: return launchRois<__half>(desc, g, features, rois, output, stream);
    case DataType::kBF16: return launchRois<__nv_bfloat16>(desc, g, features, rois, output, stream);
    case DataType::kINT8: break;
    }
    return cudaErrorInvalidValue;
}

} // namespace spp
