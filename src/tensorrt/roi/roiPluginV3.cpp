#include "roi/roiPluginV3.h"

#if SPP_TRT_PLUGIN_V3

#include "common/logger.h"

#include <utility>

namespace spp
{
namespace plugin
{

using nvinfer1::DynamicPluginTensorDesc;
using nvinfer1::PluginCapabilityType;
using nvinfer1::PluginTensorDesc;

RoiPluginV3::RoiPluginV3(RoiOp op, std::string layerName, RoiPyramid const& pyramid)
    : mOp(op)
    , mLayerName(std::move(layerName))
    , mPyramid(pyramid)
{
}

nvinfer1::IPluginCapability* RoiPluginV3::getCapabilityInterface(PluginCapabilityType type) noexcept
{
    switch (type)
    {
    case PluginCapabilityType::kCORE: return static_cast<nvinfer1::IPluginV3OneCore*>(this);
    case PluginCapabilityType::kBUILD: return static_cast<nvinfer1::IPluginV3OneBuild*>(this);
    case PluginCapabilityType::kRUNTIME: return static_cast<nvinfer1::IPluginV3OneRuntime*>(this);
    }
    return nullptr;
}

nvinfer1::IPluginV3* RoiPluginV3::clone() noexcept
{
    return guarded<nvinfer1::IPluginV3*>("RoiPluginV3::clone", nullptr, [&] { return new RoiPluginV3(*this); });
}

char const* RoiPluginV3::getPluginName() const noexcept
{
    return roiPluginName(mOp);
}

char const* RoiPluginV3::getPluginVersion() const noexcept
{
    return kROI_PLUGIN_VERSION;
}

char const* RoiPluginV3::getPluginNamespace() const noexcept
{
    return kROI_PLUGIN_NAMESPACE;
}

int32_t RoiPluginV3::getNbOutputs() const noexcept
{
    return 1;
}

int32_t RoiPluginV3::getOutputDataTypes(nvinfer1::DataType* outputTypes, int32_t nbOutputs,
    nvinfer1::DataType const* inputTypes, int32_t nbInputs) const noexcept
{
    if (outputTypes == nullptr || inputTypes == nullptr || nbOutputs != 1 || nbInputs != 2)
    {
        SPP_LOG_ERROR("%s '%s': getOutputDataTypes expects 2 inputs and 1 output; got %d and %d", getPluginName(),
            mLayerName.c_str(), nbInputs, nbOutputs);
        return -1;
    }
    outputTypes[0] = inputTypes[0]; // the features' type
    return 0;
}

int32_t RoiPluginV3::getOutputShapes(nvinfer1::DimsExprs const* inputs, int32_t nbInputs,
    nvinfer1::DimsExprs const* /*shapeInputs*/, int32_t nbShapeInputs, nvinfer1::DimsExprs* outputs, int32_t nbOutputs,
    nvinfer1::IExprBuilder& exprBuilder) noexcept
{
    if (nbShapeInputs != 0)
    {
        SPP_LOG_ERROR("%s '%s': takes no shape inputs; got %d", getPluginName(), mLayerName.c_str(), nbShapeInputs);
        return -1;
    }
    return roiOutputShape(mOp, mLayerName.c_str(), mPyramid, inputs, nbInputs, outputs, nbOutputs, exprBuilder);
}

bool RoiPluginV3::supportsFormatCombination(
    int32_t pos, DynamicPluginTensorDesc const* inOut, int32_t nbInputs, int32_t nbOutputs) noexcept
{
    if (inOut == nullptr || pos < 0 || pos >= nbInputs + nbOutputs)
    {
        return false;
    }
    return roiSupportsCombination(
        pos, nbInputs, nbOutputs, inOut[pos].desc.type, inOut[pos].desc.format, inOut[0].desc.type);
}

int32_t RoiPluginV3::configurePlugin(
    DynamicPluginTensorDesc const* in, int32_t nbInputs, DynamicPluginTensorDesc const* out, int32_t nbOutputs) noexcept
{
    Status const status = checkRoiConfigure(mOp, mLayerName.c_str(), mPyramid, in, nbInputs, out, nbOutputs);
    if (!status.ok())
    {
        SPP_LOG_ERROR("%s", status.message());
        return -1;
    }
    return 0;
}

size_t RoiPluginV3::getWorkspaceSize(DynamicPluginTensorDesc const* inputs, int32_t nbInputs,
    DynamicPluginTensorDesc const* /*outputs*/, int32_t /*nbOutputs*/) const noexcept
{
    return roiWorkspaceBytes(mPyramid, inputs, nbInputs);
}

int32_t RoiPluginV3::onShapeChange(
    PluginTensorDesc const* in, int32_t nbInputs, PluginTensorDesc const* out, int32_t nbOutputs) noexcept
{
    RoiDesc desc{};
    Status const status = makeRoiDesc(mOp, mLayerName.c_str(), mPyramid, in, nbInputs, out, nbOutputs, desc);
    if (!status.ok())
    {
        SPP_LOG_ERROR("%s", status.message());
        return -1;
    }
    return 0;
}

int32_t RoiPluginV3::enqueue(PluginTensorDesc const* inputDesc, PluginTensorDesc const* outputDesc,
    void const* const* inputs, void* const* outputs, void* workspace, cudaStream_t stream) noexcept
{
    if (inputs == nullptr || outputs == nullptr)
    {
        SPP_LOG_ERROR("%s '%s': enqueue got null pointer arrays", getPluginName(), mLayerName.c_str());
        return 1;
    }
    // Described afresh each time (a few integer checks): no shape cache to go stale between contexts or shapes.
    RoiDesc desc{};
    Status const status = makeRoiDesc(mOp, mLayerName.c_str(), mPyramid, inputDesc, 2, outputDesc, 1, desc);
    if (!status.ok())
    {
        SPP_LOG_ERROR("%s", status.message());
        return 1;
    }
    return roiLaunch(mOp, mLayerName.c_str(), desc, inputs[0], inputs[1], outputs[0], workspace, stream);
}

nvinfer1::IPluginV3* RoiPluginV3::attachToContext(nvinfer1::IPluginResourceContext* /*context*/) noexcept
{
    return clone(); // no per-context resources
}

nvinfer1::PluginFieldCollection const* RoiPluginV3::getFieldsToSerialize() noexcept
{
    return guarded<nvinfer1::PluginFieldCollection const*>("RoiPluginV3::getFieldsToSerialize", nullptr, [&] {
        writeRoiFields(mOp, mPyramid, mSerialFields);
        return mSerialFields.collection();
    });
}

char const* RoiPluginCreatorV3::getPluginName() const noexcept
{
    return roiPluginName(mOp);
}

char const* RoiPluginCreatorV3::getPluginVersion() const noexcept
{
    return kROI_PLUGIN_VERSION;
}

char const* RoiPluginCreatorV3::getPluginNamespace() const noexcept
{
    return kROI_PLUGIN_NAMESPACE;
}

nvinfer1::PluginFieldCollection const* RoiPluginCreatorV3::getFieldNames() noexcept
{
    return roiFieldNames(mOp);
}

nvinfer1::IPluginV3* RoiPluginCreatorV3::createPlugin(
    char const* name, nvinfer1::PluginFieldCollection const* fc, nvinfer1::TensorRTPhase phase) noexcept
{
    return guarded<nvinfer1::IPluginV3*>("RoiPluginCreatorV3::createPlugin", nullptr, [&]() -> nvinfer1::IPluginV3* {
        char const* const layerName = name == nullptr ? "" : name;
        RoiPyramid pyramid{};
        Status const status = parseRoiFields(mOp, layerName, fc, pyramid);
        if (!status.ok())
        {
            SPP_LOG_ERROR("%s (%s phase)", status.message(),
                phase == nvinfer1::TensorRTPhase::kBUILD ? "build" : "runtime");
            return nullptr;
        }
        return new RoiPluginV3(mOp, layerName, pyramid);
    });
}

} // namespace plugin
} // namespace spp

#endif // SPP_TRT_PLUGIN_V3
