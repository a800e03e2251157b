#include "roi/roiPluginV2.h"

#if !SPP_TRT_PLUGIN_V3

#include "common/logger.h"

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

RoiPluginV2::RoiPluginV2(RoiOp op, std::string layerName, RoiPyramid const& pyramid)
    : mOp(op)
    , mLayerName(std::move(layerName))
    , mNamespace(kROI_PLUGIN_NAMESPACE)
    , mPyramid(pyramid)
{
}

char const* RoiPluginV2::getPluginType() const noexcept
{
    return roiPluginName(mOp);
}

char const* RoiPluginV2::getPluginVersion() const noexcept
{
    return kROI_PLUGIN_VERSION;
}

int32_t RoiPluginV2::getNbOutputs() const noexcept
{
    return 1;
}

int32_t RoiPluginV2::initialize() noexcept
{
    return 0;
}

void RoiPluginV2::terminate() noexcept {}

FieldWriter RoiPluginV2::fields() const
{
    FieldWriter writer;
    writeRoiFields(mOp, mPyramid, writer);
    return writer;
}

size_t RoiPluginV2::getSerializationSize() const noexcept
{
    return guarded<size_t>("RoiPluginV2::getSerializationSize", 0, [&] {
        FieldWriter writer = fields();
        return serializedFieldsSize(*writer.collection());
    });
}

void RoiPluginV2::serialize(void* buffer) const noexcept
{
    guarded<int32_t>("RoiPluginV2::serialize", 0, [&] {
        FieldWriter writer = fields();
        serializeFields(*writer.collection(), buffer);
        return 0;
    });
}

void RoiPluginV2::destroy() noexcept
{
    delete this;
}

void RoiPluginV2::setPluginNamespace(char const* pluginNamespace) noexcept
{
    guarded<int32_t>("RoiPluginV2::setPluginNamespace", 0, [&] {
        mNamespace = pluginNamespace == nullptr ? "" : pluginNamespace;
        return 0;
    });
}

char const* RoiPluginV2::getPluginNamespace() const noexcept
{
    return mNamespace.c_str();
}

nvinfer1::DataType RoiPluginV2::getOutputDataType(
    int32_t index, nvinfer1::DataType const* inputTypes, int32_t nbInputs) const noexcept
{
    if (index != 0 || inputTypes == nullptr || nbInputs != 2)
    {
        SPP_LOG_ERROR("%s '%s': getOutputDataType(%d) with %d inputs; expected output 0 of 2 inputs",
            getPluginType(), mLayerName.c_str(), index, nbInputs);
        return nvinfer1::DataType::kFLOAT;
    }
    return inputTypes[0];
}

nvinfer1::IPluginV2DynamicExt* RoiPluginV2::clone() const noexcept
{
    return guarded<nvinfer1::IPluginV2DynamicExt*>(
        "RoiPluginV2::clone", nullptr, [&] { return new RoiPluginV2(*this); });
}

nvinfer1::DimsExprs RoiPluginV2::getOutputDimensions(
    int32_t outputIndex, nvinfer1::DimsExprs const* inputs, int32_t nbInputs, nvinfer1::IExprBuilder& exprBuilder) noexcept
{
    nvinfer1::DimsExprs failed{};
    failed.nbDims = -1; // TensorRT reads a negative rank as failure
    if (outputIndex != 0)
    {
        SPP_LOG_ERROR("%s '%s': has 1 output; asked for output %d", getPluginType(), mLayerName.c_str(), outputIndex);
        return failed;
    }
    nvinfer1::DimsExprs result{};
    if (roiOutputShape(mOp, mLayerName.c_str(), mPyramid, inputs, nbInputs, &result, 1, exprBuilder) != 0)
    {
        return failed;
    }
    return result;
}

bool RoiPluginV2::supportsFormatCombination(
    int32_t pos, PluginTensorDesc const* inOut, int32_t nbInputs, int32_t nbOutputs) noexcept
{
    if (inOut == nullptr || pos < 0 || pos >= nbInputs + nbOutputs)
    {
        return false;
    }
    return roiSupportsCombination(pos, nbInputs, nbOutputs, inOut[pos].type, inOut[pos].format, inOut[0].type);
}

void RoiPluginV2::configurePlugin(
    DynamicPluginTensorDesc const* in, int32_t nbInputs, DynamicPluginTensorDesc const* out, int32_t nbOutputs) noexcept
{
    // No return value in this interface: a bad configuration is logged here and enqueue refuses it.
    Status const status = checkRoiConfigure(mOp, mLayerName.c_str(), mPyramid, in, nbInputs, out, nbOutputs);
    if (!status.ok())
    {
        SPP_LOG_ERROR("%s", status.message());
    }
}

size_t RoiPluginV2::getWorkspaceSize(PluginTensorDesc const* inputs, int32_t nbInputs,
    PluginTensorDesc const* /*outputs*/, int32_t /*nbOutputs*/) const noexcept
{
    if (inputs == nullptr || nbInputs != 2)
    {
        return 0;
    }
    DynamicPluginTensorDesc desc[2]{};
    for (int32_t i = 0; i < 2; ++i)
    {
        desc[i].desc = inputs[i];
        desc[i].min = inputs[i].dims;
        desc[i].max = inputs[i].dims;
    }
    return roiWorkspaceBytes(mPyramid, desc, 2);
}

int32_t RoiPluginV2::enqueue(PluginTensorDesc const* inputDesc, PluginTensorDesc const* outputDesc,
    void const* const* inputs, void* const* outputs, void* workspace, cudaStream_t stream) noexcept
{
    if (inputs == nullptr || outputs == nullptr)
    {
        SPP_LOG_ERROR("%s '%s': enqueue got null pointer arrays", getPluginType(), mLayerName.c_str());
        return 1;
    }
    RoiDesc desc{};
    Status const status = makeRoiDesc(mOp, mLayerName.c_str(), mPyramid, inputDesc, 2, outputDesc, 1, desc);
    if (!status.ok())
    {
        SPP_LOG_ERROR("%s", status.message());
        return 1;
    }
    return roiLaunch(mOp, mLayerName.c_str(), desc, inputs[0], inputs[1], outputs[0], workspace, stream);
}

char const* RoiPluginCreatorV2::getPluginName() const noexcept
{
    return roiPluginName(mOp);
}

char const* RoiPluginCreatorV2::getPluginVersion() const noexcept
{
    return kROI_PLUGIN_VERSION;
}

nvinfer1::PluginFieldCollection const* RoiPluginCreatorV2::getFieldNames() noexcept
{
    return roiFieldNames(mOp);
}

nvinfer1::IPluginV2* RoiPluginCreatorV2::createPlugin(char const* name, nvinfer1::PluginFieldCollection const* fc) noexcept
{
    return guarded<nvinfer1::IPluginV2*>("RoiPluginCreatorV2::createPlugin", nullptr, [&]() -> nvinfer1::IPluginV2* {
        char const* const layerName = name == nullptr ? "" : name;
        RoiPyramid pyramid{};
        Status const status = parseRoiFields(mOp, layerName, fc, pyramid);
        if (!status.ok())
        {
            SPP_LOG_ERROR("%s", status.message());
            return nullptr;
        }
        auto* const plugin = new RoiPluginV2(mOp, layerName, pyramid);
        plugin->setPluginNamespace(mNamespace.c_str());
        return plugin;
    });
}

nvinfer1::IPluginV2* RoiPluginCreatorV2::deserializePlugin(
    char const* name, void const* serialData, size_t serialLength) noexcept
{
    return guarded<nvinfer1::IPluginV2*>("RoiPluginCreatorV2::deserializePlugin", nullptr, [&]() -> nvinfer1::IPluginV2* {
        char const* const layerName = name == nullptr ? "" : name;
        OwnedFields fields;
        Status status = fields.deserialize(serialData, serialLength);
        RoiPyramid pyramid{};
        if (status.ok())
        {
            status = parseRoiFields(mOp, layerName, fields.collection(), pyramid);
        }
        if (!status.ok())
        {
            SPP_LOG_ERROR("%s '%s': cannot deserialize: %s", roiPluginName(mOp), layerName, status.message());
            return nullptr;
        }
        auto* const plugin = new RoiPluginV2(mOp, layerName, pyramid);
        plugin->setPluginNamespace(mNamespace.c_str());
        return plugin;
    });
}

void RoiPluginCreatorV2::setPluginNamespace(char const* pluginNamespace) noexcept
{
    guarded<int32_t>("RoiPluginCreatorV2::setPluginNamespace", 0, [&] {
        mNamespace = pluginNamespace == nullptr ? "" : pluginNamespace;
        return 0;
    });
}

char const* RoiPluginCreatorV2::getPluginNamespace() const noexcept
{
    return mNamespace.c_str();
}

} // namespace plugin
} // namespace spp

#endif // !SPP_TRT_PLUGIN_V3
