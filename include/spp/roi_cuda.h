// spp-trt ROI pooling CUDA launcher, CUB-style like spp/cuda.h: ask for workspace bytes, then launch on the caller's
// stream. Never throws; every call returns a cudaError_t. No TensorRT types here.
#pragma once

#include "spp/roi.h"

#include <cuda_runtime_api.h>

namespace spp
{

//! Device workspace bytes roiForward needs (0 today; call it anyway).
size_t roiWorkspaceSize(RoiDesc const& desc) noexcept;

//! Pools every roi of `rois` ([K, 5], device) over `features` (device) into `output` ([K, C * sum(Lh*Lw)]) on
//! `stream`. Returns cudaErrorInvalidValue for an invalid desc (validate() gives the message), a null pointer with a
//! non-empty tensor or too small a workspace; K == 0 launches nothing and returns cudaSuccess; N == 0 with K > 0 is
//! valid (every roi is then out of range: all-zero rows). Otherwise the launch status. Never throws.
cudaError_t roiForward(RoiDesc const& desc, void const* features, void const* rois, void* output, void* workspace,
    size_t workspaceBytes, cudaStream_t stream) noexcept;

} // namespace spp
