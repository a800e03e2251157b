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
using nvinfer1::PluginCapabilityType;
using nvinfer1::PluginTensorDesc;

SppPluginV3::SppPluginV3(std::string layerName, PyramidConfig const& config)
    : mLayerName(std::move(layerName))
    , mConfig(config)
{
}

nvinfer1::IPluginCapability* SppPluginV3::getCapabilityInterface(PluginCapabilityType type) noexcept
{
    switch (type)
    {
    case PluginCapabilityType::kCORE: return static_cast<nvinfer1::IPluginV3OneCore*>(this);
    case PluginCapabilityType::kBUILD: return static_cast<nvinfer1::IPluginV3OneBuild*>(this);
    case PluginCapabilityType::kRUNTIME: return static_cast<nvinfer1::IPluginV3OneRuntime*>(this);
    }
    return nullptr;
}

nvinfer1::IPluginV3* SppPluginV3::clone() noexcept
{
    return guarded<nvinfer1::IPluginV3*>("SpatialPyramidPooling::clone", nullptr, [&] { return new SppPluginV3(*this); });
}

char const* SppPluginV3::getPluginName() const noexcept
{
    return kSPP_PLUGIN_NAME;
}

char const* SppPluginV3::getPluginVersion() const noexcept
{
    return kSPP_PLUGIN_VERSION;
}

char const* SppPluginV3::getPluginNamespace() const noexcept
{
    return kSPP_PLUGIN_NAMESPACE;
}

int32_t SppPluginV3::getNbOutputs() const noexcept
{
    return 1;
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
    if (inputDesc == nullptr || outputDesc == nullptr || inputs == nullptr || outputs == nullptr)
    {
        SPP_LOG_ERROR("%s '%s': enqueue got null descriptors or pointers", kSPP_PLUGIN_NAME, mLayerName.c_str());
        return 1;
    }
    // onShapeChange normally cached this shape; describe it afresh if TensorRT enqueues another one.
    if (!mDescValid || !sameShape(mDesc, inputDesc[0], outputDesc[0]))
    {
        Status const status = makeSppDesc(mLayerName.c_str(), mConfig, inputDesc[0], outputDesc[0], mDesc);
        mDescValid = status.ok();
        if (!mDescValid)
        {
            SPP_LOG_ERROR("%s", status.message());
            return 1;
        }
    }
    return sppLaunch(mLayerName.c_str(), mDesc, inputs[0], outputs[0], workspace, stream);
}

nvinfer1::IPluginV3* SppPluginV3::attachToContext(nvinfer1::IPluginResourceContext* /*context*/) noexcept
{
    // No per-context resources: each execution context gets its own copy (its own shape cache).
    return clone();
}

nvinfer1::PluginFieldCollection const* SppPluginV3::getFieldsToSerialize() noexcept
{
    return guarded<nvinfer1::PluginFieldCollection const*>(
        "SpatialPyramidPooling::getFieldsToSerialize", nullptr, [&] {
            writeSppFields(mConfig, mSerialFields);
            return mSerialFields.collection();
        });
}

char const* SppPluginCreatorV3::getPluginName() const noexcept
{
    return kSPP_PLUGIN_NAME;
}

char const* SppPluginCreatorV3::getPluginVersion() const noexcept
{
    return kSPP_PLUGIN_VERSION;
}

char const* SppPluginCreatorV3::getPluginNamespace() const noexcept
{
    return kSPP_PLUGIN_NAMESPACE;
}

nvinfer1::PluginFieldCollection const* SppPluginCreatorV3::getFieldNames() noexcept
{
    return sppFieldNames();
}

nvinfer1::IPluginV3* SppPluginCreatorV3::createPlugin(
    char const* name, nvinfer1::PluginFieldCollection const* fc, nvinfer1::TensorRTPhase phase) noexcept
{
    return guarded<nvinfer1::IPluginV3*>("SpatialPyramidPooling::createPlugin", nullptr, [&]() -> nvinfer1::IPluginV3* {
        char const* const layerName = name == nullptr ? "" : name;
        PyramidConfig config{};
        Status const status = parseSppFields(layerName, fc, config);
        if (!status.ok())
        {
            SPP_LOG_ERROR("%s (%s phase)", status.message(),
                phase == nvinfer1::TensorRTPhase::kBUILD ? "build" : "runtime");
            return nullptr;
        }
        return new SppPluginV3(layerName, config);
    });
}

} // namespace plugin
} // namespace spp

#endif // SPP_TRT_PLUGIN_V3
