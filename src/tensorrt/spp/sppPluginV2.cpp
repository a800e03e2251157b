#include "spp/sppPluginV2.h"

#if !SPP_TRT_PLUGIN_V3

#include "common/logger.h"
#include "spp/sppPluginCommon.h"

#include <utility>

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

namespace spp
{
namespace plugin
{

using nvinfer1::DynamicPluginTensorDesc;
using nvinfer1::PluginTensorDesc;

SppPluginV2::SppPluginV2(std::string layerName, PyramidConfig const& config)
    : PluginV2Base(std::move(layerName), kSPP_PLUGIN_VERSION, kSPP_PLUGIN_NAMESPACE)
    , mConfig(config)
{
}

char const* SppPluginV2::getPluginType() const noexcept
{
    return kSPP_PLUGIN_NAME;
}

void SppPluginV2::writeFields(FieldWriter& writer) const
{
    writeSppFields(mConfig, writer);
}

nvinfer1::DataType SppPluginV2::getOutputDataType(
    int32_t index, nvinfer1::DataType const* inputTypes, int32_t nbInputs) const noexcept
{
    if (index != 0 || inputTypes == nullptr || nbInputs != 1)
    {
        SPP_LOG_ERROR("%s '%s': getOutputDataType(%d) with %d inputs; expected output 0 of 1 input",
            kSPP_PLUGIN_NAME, mLayerName.c_str(), index, nbInputs);
        return nvinfer1::DataType::kFLOAT;
    }
    return inputTypes[0];
}

nvinfer1::IPluginV2DynamicExt* SppPluginV2::clone() const noexcept
{
    return guarded<nvinfer1::IPluginV2DynamicExt*>(
        kSPP_PLUGIN_NAME, "clone", nullptr, [&] { return new SppPluginV2(*this); });
}

nvinfer1::DimsExprs SppPluginV2::getOutputDimensions(
    int32_t outputIndex, nvinfer1::DimsExprs const* inputs, int32_t nbInputs, nvinfer1::IExprBuilder& exprBuilder) noexcept
{
    nvinfer1::DimsExprs output{};
    output.nbDims = -1; // TensorRT reads a negative rank as failure
    if (outputIndex != 0)
    {
        SPP_LOG_ERROR("%s '%s': has 1 output; asked for output %d", kSPP_PLUGIN_NAME, mLayerName.c_str(), outputIndex);
        return output;
    }
    nvinfer1::DimsExprs result{};
    if (sppOutputShape(mLayerName.c_str(), mConfig, inputs, nbInputs, &result, 1, exprBuilder) != 0)
    {
        return output;
    }
    return result;
}

bool SppPluginV2::supportsFormatCombination(
    int32_t pos, PluginTensorDesc const* inOut, int32_t nbInputs, int32_t nbOutputs) noexcept
{
    if (inOut == nullptr || pos < 0 || pos >= nbInputs + nbOutputs)
    {
        return false;
    }
    return sppSupportsCombination(pos, nbInputs, nbOutputs, inOut[pos].type, inOut[pos].format, inOut[0].type);
}

void SppPluginV2::configurePlugin(
    DynamicPluginTensorDesc const* in, int32_t nbInputs, DynamicPluginTensorDesc const* out, int32_t nbOutputs) noexcept
{
    // No return value in this interface: a bad configuration is logged here and enqueue refuses it.
    mDescValid = false;
    Status const status = checkSppConfigure(mLayerName.c_str(), mConfig, in, nbInputs, out, nbOutputs);
    if (!status.ok())
    {
        SPP_LOG_ERROR("%s", status.message());
        return;
    }
    // At runtime TensorRT 8.6 passes the concrete shape as desc; cache it like IPluginV3::onShapeChange does.
    if (makeSppDesc(mLayerName.c_str(), mConfig, in[0].desc, out[0].desc, mDesc).ok())
    {
        mDescValid = true;
    }
}

size_t SppPluginV2::getWorkspaceSize(PluginTensorDesc const* inputs, int32_t nbInputs,
    PluginTensorDesc const* /*outputs*/, int32_t /*nbOutputs*/) const noexcept
{
    if (inputs == nullptr || nbInputs != 1)
    {
        return 0;
    }
    DynamicPluginTensorDesc desc{};
    desc.desc = inputs[0];
    desc.min = inputs[0].dims;
    desc.max = inputs[0].dims;
    return sppWorkspaceBytes(mConfig, desc);
}

int32_t SppPluginV2::enqueue(PluginTensorDesc const* inputDesc, PluginTensorDesc const* outputDesc,
    void const* const* inputs, void* const* outputs, void* workspace, cudaStream_t stream) noexcept
{
    return sppEnqueue(
        mLayerName.c_str(), mConfig, mDesc, mDescValid, inputDesc, outputDesc, inputs, outputs, workspace, stream);
}

SppPluginCreatorV2::SppPluginCreatorV2()
    : PluginCreatorV2Base(kSPP_PLUGIN_VERSION, kSPP_PLUGIN_NAMESPACE)
{
}

char const* SppPluginCreatorV2::getPluginName() const noexcept
{
    return kSPP_PLUGIN_NAME;
}

nvinfer1::PluginFieldCollection const* SppPluginCreatorV2::getFieldNames() noexcept
{
    return sppFieldNames();
}

nvinfer1::IPluginV2* SppPluginCreatorV2::parse(
    char const* layerName, nvinfer1::PluginFieldCollection const* fc, Status& status) const
{
    PyramidConfig config{};
    status = parseSppFields(layerName, fc, config);
    return status.ok() ? new SppPluginV2(layerName, config) : nullptr;
}

} // namespace plugin
} // namespace spp

#endif // !SPP_TRT_PLUGIN_V3
