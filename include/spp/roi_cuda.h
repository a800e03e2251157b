// spp-trt ROI pooling CUDA launcher, CUB-style like spp/cuda.h: ask for workspace bytes, then launch on the caller's
// stream. Never throws; every call returns a cudaError_t. No TensorRT types here.
#pragma once

#include "spp/roi.h"

#include <cuda_runtime_api.h>

namespace spp
{

//! ROI kernel choice; kAUTO picks one that fits (docs/roi.md, "Kernels"). The others exist for tests and benchmarks.
enum class RoiAlgo : int32_t
{
    kAUTO = 0,
    kPLANES = 1,   //!< A CTA per (feature plane, run of rois), plane staged in shared memory. kNCHW, N >= 1, small maps.
    kDIRECT = 2,   //!< One thread per output element reading its window from global memory. Any size, any layout.
    kSEGMENTS = 3, //!< Roi-major, channels across lanes, each cell read once per roi (segment tables). Pyramids with
                   //!< sum(2L - 1) <= 32 per axis and sum(Lh * Lw) <= 64, H and W < 2^31; kNCHW needs the workspace
                   //!< (the features transposed to NHWC).
    kSLICES = 4,   //!< A CTA per (image, slice of 16 fp32 / 32 fp16|bf16 channels, run of rois), the slice staged in
                   //!< shared memory; max derives levels that nest in a finer one. N >= 1, sum(Lh * Lw) <= 64, and
                   //!< H * W * 64 bytes plus per-warp buffers within the device's shared memory per block (for
                   //!< {1,2,3,6}: H * W up to about 3350 on sm_90, 2300 on sm_80, 1300 on sm_86/89, 750 on sm_75).
                   //!< Needs the workspace, 16-byte aligned: each roi's windows (computed once per roi, not once per
                   //!< slice) and, for kNCHW, an NHWC copy of the features.
};

struct RoiLaunchOptions
{
    RoiAlgo algo{RoiAlgo::kAUTO};
};

//! Device workspace bytes roiForward needs for `desc`, for every algo (kAUTO uses kSLICES, and kSEGMENTS on kNCHW
//! features, only when the given workspace holds what they need). Never larger for smaller dims of the same pyramid,
//! types and layout, so a size asked for the largest shape also covers every smaller one. 0 for K == 0.
size_t roiWorkspaceSize(RoiDesc const& desc) noexcept;

//! Whether `algo` can run `desc` with `workspaceBytes` of 16-byte aligned workspace (kAUTO always can for a valid
//! desc). roiForward treats a workspace that is not 16-byte aligned as none (cudaMalloc's always is).
bool roiAlgoSupported(RoiDesc const& desc, RoiAlgo algo, size_t workspaceBytes) noexcept;

//! Pools every roi of `rois` ([K, 5], device) over `features` (device) into `output` ([K, C * sum(Lh*Lw)]) on
//! `stream`. Returns cudaErrorInvalidValue for an invalid desc (validate() gives the message), a null pointer with a
//! non-empty tensor, or an algo other than kAUTO that cannot run `desc` (roiAlgoSupported; e.g. kSEGMENTS on kNCHW
//! without the workspace), and cudaErrorMisalignedAddress for a features, rois or output pointer that is not a
//! multiple of its element size; K == 0 launches nothing and returns cudaSuccess; N == 0 with K > 0 is valid (every
//! roi is then out of range: all-zero rows). Otherwise the launch status. Never throws.
cudaError_t roiForward(RoiDesc const& desc, void const* features, void const* rois, void* output, void* workspace,
    size_t workspaceBytes, cudaStream_t stream, RoiLaunchOptions const& options = RoiLaunchOptions{}) noexcept;

} // namespace spp
