#include "spp/sppPluginV3.h"

#if SPP_TRT_PLUGIN_V3

#include "common/logger.h"
#include "spp/sppPluginCommon.h"

#include <utility>

namespace spp
{
namespace plugin
{

using nvinfer1::DynamicPluginTensorDesc;
using nvinfer1::PluginTensorDesc;

SppPluginV3::SppPluginV3(std::string layerName, PyramidConfig const& config)
    : PluginV3Base(std::move(layerName), kSPP_PLUGIN_VERSION, kSPP_PLUGIN_NAMESPACE)
    , mConfig(config)
{
}

nvinfer1::IPluginV3* SppPluginV3::clone() noexcept
{
    return guarded<nvinfer1::IPluginV3*>(kSPP_PLUGIN_NAME, "clone", nullptr, [&] { return new SppPluginV3(*this); });
}

char const* SppPluginV3::getPluginName() const noexcept
{
    return kSPP_PLUGIN_NAME;
}

void SppPluginV3::writeFields(FieldWriter& writer) const
{
    writeSppFields(mConfig, writer);
}

int32_t SppPluginV3::getOutputDataTypes(nvinfer1::DataType* outputTypes, int32_t nbOutputs,
    nvinfer1::DataType const* inputTypes, int32_t nbInputs) const noexcept
{
    if (outputTypes == nullptr || inputTypes == nullptr || nbOutputs != 1 || nbInputs != 1)
    {
        SPP_LOG_ERROR("%s '%s': getOutputDataTypes expects 1 input and 1 output; got %d and %d", kSPP_PLUGIN_NAME,
            mLayerName.c_str(), nbInputs, nbOutputs);
        return -1;
    }
    outputTypes[0] = inputTypes[0];
    return 0;
}

int32_t SppPluginV3::getOutputShapes(nvinfer1::DimsExprs const* inputs, int32_t nbInputs,
    nvinfer1::DimsExprs const* /*shapeInputs*/, int32_t nbShapeInputs, nvinfer1::DimsExprs* outputs, int32_t nbOutputs,
    nvinfer1::IExprBuilder& exprBuilder) noexcept
{
    if (nbShapeInputs != 0)
    {
        SPP_LOG_ERROR("%s '%s': takes no shape inputs; got %d", kSPP_PLUGIN_NAME, mLayerName.c_str(), nbShapeInputs);
        return -1;
    }
    return sppOutputShape(mLayerName.c_str(), mConfig, inputs, nbInputs, outputs, nbOutputs, exprBuilder);
}

bool SppPluginV3::supportsFormatCombination(
    int32_t pos, DynamicPluginTensorDesc const* inOut, int32_t nbInputs, int32_t nbOutputs) noexcept
{
    if (inOut == nullptr || pos < 0 || pos >= nbInputs + nbOutputs)
    {
        return false;
    }
    return sppSupportsCombination(
        pos, nbInputs, nbOutputs, inOut[pos].desc.type, inOut[pos].desc.format, inOut[0].desc.type);
}

int32_t SppPluginV3::configurePlugin(
    DynamicPluginTensorDesc const* in, int32_t nbInputs, DynamicPluginTensorDesc const* out, int32_t nbOutputs) noexcept
{
    Status const status = checkSppConfigure(mLayerName.c_str(), mConfig, in, nbInputs, out, nbOutputs);
    if (!status.ok())
    {
        SPP_LOG_ERROR("%s", status.message());
        return -1;
    }
    return 0;
}

size_t SppPluginV3::getWorkspaceSize(DynamicPluginTensorDesc const* inputs, int32_t nbInputs,
    DynamicPluginTensorDesc const* /*outputs*/, int32_t /*nbOutputs*/) const noexcept
{
    return inputs == nullptr || nbInputs != 1 ? 0 : sppWorkspaceBytes(mConfig, inputs[0]);
}

int32_t SppPluginV3::onShapeChange(
    PluginTensorDesc const* in, int32_t nbInputs, PluginTensorDesc const* out, int32_t nbOutputs) noexcept
{
    mDescValid = false;
    if (in == nullptr || out == nullptr || nbInputs != 1 || nbOutputs != 1)
    {
        SPP_LOG_ERROR("%s '%s': onShapeChange expects 1 input and 1 output; got %d and %d", kSPP_PLUGIN_NAME,
            mLayerName.c_str(), nbInputs, nbOutputs);
        return -1;
    }
    Status const status = makeSppDesc(mLayerName.c_str(), mConfig, in[0], out[0], mDesc);
    if (!status.ok())
    {
        SPP_LOG_ERROR("%s", status.message());
        return -1;
    }
    mDescValid = true;
    return 0;
}

int32_t SppPluginV3::enqueue(PluginTensorDesc const* inputDesc, PluginTensorDesc const* outputDesc,
    void const* const* inputs, void* const* outputs, void* workspace, cudaStream_t stream) noexcept
{
    return sppEnqueue(
        mLayerName.c_str(), mConfig, mDesc, mDescValid, inputDesc, outputDesc, inputs, outputs, workspace, stream);
}

SppPluginCreatorV3::SppPluginCreatorV3()
    : PluginCreatorV3Base(kSPP_PLUGIN_VERSION, kSPP_PLUGIN_NAMESPACE)
{
}

char const* SppPluginCreatorV3::getPluginName() const noexcept
{
    return kSPP_PLUGIN_NAME;
}

nvinfer1::PluginFieldCollection const* SppPluginCreatorV3::getFieldNames() noexcept
{
    return sppFieldNames();
}

nvinfer1::IPluginV3* SppPluginCreatorV3::parse(
    char const* layerName, nvinfer1::PluginFieldCollection const* fc, Status& status) const
{
    PyramidConfig config{};
    status = parseSppFields(layerName, fc, config);
    return status.ok() ? new SppPluginV3(layerName, config) : nullptr;
}

} // namespace plugin
} // namespace spp

#endif // SPP_TRT_PLUGIN_V3
