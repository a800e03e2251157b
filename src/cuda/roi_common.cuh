// Pieces the ROI kernels share (roi_kernels.cu, roi_slices.cuh): the launch geometry, the roi-row loader and the
// streaming store. CUDA translation units only.
#pragma once

#include "core/roi_bins.h"
#include "device_traits.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace spp
{
namespace roi
{

using device::Traits;

struct RoiGeometry
{
    int64_t n, c, h, w, cs; // cs: NHWC pixel stride in elements
    int64_t k;              // number of rois
    int64_t features;       // C * sum(Lh * Lw)
    float scale;
    int32_t numLevels;
    int32_t maxLh;          // largest Lh (row-window buffer rows)
    int32_t sumLh;          // row windows of all levels (segments kernel)
    int32_t sumLw;          // column windows of all levels
    int32_t totalBins;      // sum(Lh * Lw)
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

//! One 32 x 32 tile of an NCHW -> NHWC copy (one image: `in` [C][pixels], `out` [pixels][stride], stride >= C;
//! channels C..stride - 1 are not written), by a CTA of 256 threads through `tile`, so both the reads (along pixels)
//! and the writes (along channels) coalesce. The caller syncs before reusing `tile`.
template <typename T>
__device__ __forceinline__ void transposeTile(T const* __restrict__ in, T* __restrict__ out, int64_t channels,
    int64_t pixels, int64_t stride, int64_t p0, int64_t c0, T (*tile)[33])
{
    int32_t const x = static_cast<int32_t>(threadIdx.x) % 32;
    int32_t const y = static_cast<int32_t>(threadIdx.x) / 32;
    for (int32_t i = y; i < 32; i += 8)
    {
        int64_t const ch = c0 + i;
        int64_t const p = p0 + x;
        if (ch < channels && p < pixels)
        {
            tile[i][x] = in[ch * pixels + p];
        }
    }
    __syncthreads();
    for (int32_t i = y; i < 32; i += 8)
    {
        int64_t const p = p0 + i;
        int64_t const ch = c0 + x;
        if (p < pixels && ch < channels)
        {
            out[p * stride + ch] = tile[x][i];
        }
    }
}

//! Streaming store: the output is never read again by this kernel, so keep it from evicting the features in L2.
__device__ __forceinline__ void streamStore(float* p, float v)
{
    __stcs(p, v);
}
__device__ __forceinline__ void streamStore(__half* p, __half v)
{
    __stcs(reinterpret_cast<unsigned short*>(p), __half_as_ushort(v));
}
__device__ __forceinline__ void streamStore(__nv_bfloat16* p, __nv_bfloat16 v)
{
    __stcs(reinterpret_cast<unsigned short*>(p), __bfloat16_as_ushort(v));
}

} // namespace roi
} // namespace spp
