// spp-trt CUDA launcher, CUB-style: ask for workspace bytes, then launch on the caller's stream. Never throws;
// every call returns a cudaError_t. No TensorRT types here.
#pragma once

#include "spp/spp.h"

#include <cuda_runtime_api.h>

namespace spp
{

//! Kernel choice; kAUTO picks the fastest one that fits (in this order: kTASKS for small inputs, kPLANES, kGRID,
//! kCOLUMNS, kSTAGED, kDIRECT). The others exist for tests and benchmarks.
enum class Algo : int32_t
{
    kAUTO = 0,
    kSTAGED = 1, //!< Planes (or row strips) staged in shared memory, separable reduction. kNCHW only.
    kDIRECT = 2, //!< One thread per output bin reading its window from global memory. Any size, any layout.
    kPLANES = 3, //!< Small maps: up to 32 whole planes per CTA, one thread per (bin, plane). kNCHW only.
    kCOLUMNS = 4, //!< Column chunks read straight from global memory, then the staged kernel's segment grid. kNCHW
                  //!< only; kAUTO's choice after kPLANES and kGRID.
    kGRID = 5, //!< Uniform pyramids (every level divides the largest, F <= 16; F divides H and W; W / F whole
               //!< 16-byte chunks; W at most 32 chunks; H * W <= 2^24): one warp per group of 1-8 planes, cell rows
               //!< reduced in registers, cells and bins in the warp's shared memory, no CTA barrier. kNCHW only,
               //!< 16-byte aligned input; kAUTO's choice after kPLANES (unless fewer than half its lanes would load).
    kTASKS = 6, //!< Small maps (H, W <= 255, a plane within 46 KiB of shared memory, sum(L^2) <= 640,
                //!< N*C*H*W < 2^31): G whole planes per CTA in shared memory, pooled by a host-planned
                //!< program of rectangle reductions;
                //!< coarse levels made from finer bins where their windows nest. kNCHW only; kAUTO's first choice
                //!< for inputs of at most 2^21 elements.
};

struct LaunchOptions
{
    Algo algo{Algo::kAUTO};
};

//! Device workspace bytes `sppForward` needs for `desc` (0 today; call it anyway, the contract may grow).
size_t sppWorkspaceSize(SppDesc const& desc) noexcept;

//! Whether `algo` can run `desc` (kAUTO always can for a valid desc).
bool sppAlgoSupported(SppDesc const& desc, Algo algo) noexcept;

//! Pools `input` into `output` ([N, C * sum(L^2)], same dtype) on `stream`.
//! Returns cudaErrorInvalidValue for an invalid desc (call validate() for the message), a null pointer with a
//! non-empty tensor or an unsupported algo (also kGRID forced on an input that is not 16-byte aligned:
//! sppAlgoSupported assumes an aligned one), and cudaErrorMisalignedAddress for an input or output pointer that is
//! not a multiple of the element size; N == 0 launches nothing and returns cudaSuccess (for any algo).
//! (The workspace is not used today: sppWorkspaceSize returns 0.)
//! Otherwise returns the launch status (cudaGetLastError()).
cudaError_t sppForward(SppDesc const& desc, void const* input, void* output, void* workspace, size_t workspaceBytes,
    cudaStream_t stream, LaunchOptions const& options = LaunchOptions{}) noexcept;

} // namespace spp
