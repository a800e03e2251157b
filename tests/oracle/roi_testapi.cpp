// A C ABI over the ROI pooling CPU reference and CUDA launcher, for check_torchvision_roi.py (torchvision.ops.roi_pool
// as an oracle we did not write) to call through ctypes. Test-only: not installed, not part of the product API.
#include "spp/roi.h"
#if SPP_TESTAPI_WITH_CUDA
#include "spp/roi_cuda.h"
#endif

#include <cstdio>

namespace
{
// dims: N, C, H, W, K, channelStride. types: features dtype, rois dtype, layout (spp enum values).
spp::RoiDesc makeRoiDesc(int32_t const* levelsH, int32_t const* levelsW, int32_t numLevels, int32_t mode, float scale,
    int32_t const* types, int64_t const* dims)
{
    spp::RoiDesc desc;
    desc.pyramid.numLevels = numLevels;
    for (int32_t i = 0; i < numLevels && i < spp::kMAX_LEVELS; ++i)
    {
        desc.pyramid.levelsH[i] = levelsH[i];
        desc.pyramid.levelsW[i] = levelsW[i];
    }
    desc.pyramid.mode = static_cast<spp::PoolMode>(mode);
    desc.pyramid.spatialScale = scale;
    desc.dtype = static_cast<spp::DataType>(types[0]);
    desc.roiDtype = static_cast<spp::DataType>(types[1]);
    desc.layout = static_cast<spp::Layout>(types[2]);
    desc.n = dims[0];
    desc.c = dims[1];
    desc.h = dims[2];
    desc.w = dims[3];
    desc.numRois = dims[4];
    desc.channelStride = dims[5];
    return desc;
}
} // namespace

extern "C"
{
    // Returns 0 on success; otherwise 1 with the message in `message`.
    __attribute__((visibility("default"))) int32_t roiTestReference(int32_t const* levelsH, int32_t const* levelsW,
        int32_t numLevels, int32_t mode, float scale, int32_t const* types, int64_t const* dims, void const* features,
        void const* rois, void* output, char* message, int32_t messageBytes)
    {
        spp::Status const s = spp::roiReferenceCpu(
            makeRoiDesc(levelsH, levelsW, numLevels, mode, scale, types, dims), features, rois, output);
        if (!s.ok())
        {
            std::snprintf(message, static_cast<size_t>(messageBytes), "%s", s.message());
            return 1;
        }
        return 0;
    }

    // Workspace bytes roiForward needs for this call (roiWorkspaceSize), or 0 when built without CUDA.
    __attribute__((visibility("default"))) int64_t roiTestWorkspaceSize(int32_t const* levelsH, int32_t const* levelsW,
        int32_t numLevels, int32_t mode, float scale, int32_t const* types, int64_t const* dims)
    {
#if SPP_TESTAPI_WITH_CUDA
        return static_cast<int64_t>(
            spp::roiWorkspaceSize(makeRoiDesc(levelsH, levelsW, numLevels, mode, scale, types, dims)));
#else
        (void) levelsH, (void) levelsW, (void) numLevels, (void) mode, (void) scale, (void) types, (void) dims;
        return 0;
#endif
    }

    // 1 when `algo` (spp::RoiAlgo value) can run this call with `workspaceBytes`, else 0 (always 0 without CUDA).
    __attribute__((visibility("default"))) int32_t roiTestAlgoSupported(int32_t const* levelsH, int32_t const* levelsW,
        int32_t numLevels, int32_t mode, float scale, int32_t const* types, int64_t const* dims, int32_t algo,
        int64_t workspaceBytes)
    {
#if SPP_TESTAPI_WITH_CUDA
        return spp::roiAlgoSupported(makeRoiDesc(levelsH, levelsW, numLevels, mode, scale, types, dims),
                   static_cast<spp::RoiAlgo>(algo), static_cast<size_t>(workspaceBytes))
            ? 1
            : 0;
#else
        (void) levelsH, (void) levelsW, (void) numLevels, (void) mode, (void) scale, (void) types, (void) dims,
            (void) algo, (void) workspaceBytes;
        return 0;
#endif
    }

    // Returns the cudaError_t of roiForward (0 = success), or -1 when built without CUDA. `algo`: spp::RoiAlgo value;
    // `workspace` (device, may be null with workspaceBytes 0).
    __attribute__((visibility("default"))) int32_t roiTestForward(int32_t const* levelsH, int32_t const* levelsW,
        int32_t numLevels, int32_t mode, float scale, int32_t const* types, int64_t const* dims, void const* features,
        void const* rois, void* output, void* stream, int32_t algo, void* workspace, int64_t workspaceBytes)
    {
#if SPP_TESTAPI_WITH_CUDA
        spp::RoiDesc const desc = makeRoiDesc(levelsH, levelsW, numLevels, mode, scale, types, dims);
        spp::RoiLaunchOptions options;
        options.algo = static_cast<spp::RoiAlgo>(algo);
        return static_cast<int32_t>(spp::roiForward(desc, features, rois, output, workspace,
            static_cast<size_t>(workspaceBytes), static_cast<cudaStream_t>(stream), options));
#else
        (void) levelsH, (void) levelsW, (void) numLevels, (void) mode, (void) scale, (void) types, (void) dims,
            (void) features, (void) rois, (void) output, (void) stream, (void) algo, (void) workspace,
            (void) workspaceBytes;
        return -1;
#endif
    }
}
