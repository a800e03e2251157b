// A C ABI over the CPU reference and the CUDA launcher, for the PyTorch oracle script (check_torch.py) to call
// through ctypes. Test-only: not installed, not part of the product API.
#include "spp/reference.h"
#if SPP_TESTAPI_WITH_CUDA
#include "spp/cuda.h"
#endif

#include <cstdio>

namespace
{
spp::SppDesc makeDesc(int32_t const* levels, int32_t numLevels, int32_t mode, int32_t rule, int32_t dtype,
    int32_t layout, int64_t const* dims, int64_t channelStride)
{
    spp::SppDesc desc;
    desc.pyramid.numLevels = numLevels;
    for (int32_t i = 0; i < numLevels && i < spp::kMAX_LEVELS; ++i)
    {
        desc.pyramid.levels[i] = levels[i];
    }
    desc.pyramid.mode = static_cast<spp::PoolMode>(mode);
    desc.pyramid.rule = static_cast<spp::BinRule>(rule);
    desc.dtype = static_cast<spp::DataType>(dtype);
    desc.layout = static_cast<spp::Layout>(layout);
    desc.n = dims[0];
    desc.c = dims[1];
    desc.h = dims[2];
    desc.w = dims[3];
    desc.channelStride = channelStride;
    return desc;
}
} // namespace

extern "C"
{
    // Returns 0 on success; otherwise 1 with the message in `message`.
    __attribute__((visibility("default"))) int32_t sppTestReference(int32_t const* levels, int32_t numLevels,
        int32_t mode, int32_t rule, int32_t dtype, int32_t layout, int64_t const* dims, int64_t channelStride,
        void const* input, void* output, char* message, int32_t messageBytes)
    {
        spp::Status const s = spp::sppReferenceCpu(
            makeDesc(levels, numLevels, mode, rule, dtype, layout, dims, channelStride), input, output);
        if (!s.ok())
        {
            std::snprintf(message, static_cast<size_t>(messageBytes), "%s", s.message());
            return 1;
        }
        return 0;
    }

    // 1 when `algo` can run this call, else 0 (also when built without CUDA).
    __attribute__((visibility("default"))) int32_t sppTestAlgoSupported(int32_t const* levels, int32_t numLevels,
        int32_t mode, int32_t rule, int32_t dtype, int32_t layout, int64_t const* dims, int64_t channelStride,
        int32_t algo)
    {
#if SPP_TESTAPI_WITH_CUDA
        spp::SppDesc const desc = makeDesc(levels, numLevels, mode, rule, dtype, layout, dims, channelStride);
        return spp::sppAlgoSupported(desc, static_cast<spp::Algo>(algo)) ? 1 : 0;
#else
        (void) levels, (void) numLevels, (void) mode, (void) rule, (void) dtype, (void) layout, (void) dims,
            (void) channelStride, (void) algo;
        return 0;
#endif
    }

    // Returns the cudaError_t of sppForward (0 = success), or -1 when built without CUDA.
    __attribute__((visibility("default"))) int32_t sppTestForward(int32_t const* levels, int32_t numLevels,
        int32_t mode, int32_t rule, int32_t dtype, int32_t layout, int64_t const* dims, int64_t channelStride,
        void const* input, void* output, void* stream, int32_t algo)
    {
#if SPP_TESTAPI_WITH_CUDA
        spp::SppDesc const desc = makeDesc(levels, numLevels, mode, rule, dtype, layout, dims, channelStride);
        spp::LaunchOptions options;
        options.algo = static_cast<spp::Algo>(algo);
        return static_cast<int32_t>(
            spp::sppForward(desc, input, output, nullptr, 0, static_cast<cudaStream_t>(stream), options));
#else
        (void) levels, (void) numLevels, (void) mode, (void) rule, (void) dtype, (void) layout, (void) dims,
            (void) channelStride, (void) input, (void) output, (void) stream, (void) algo;
        return -1;
#endif
    }
}
