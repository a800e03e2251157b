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
    : PluginV2Base(std::move(layerName), kROI_PLUGIN_VERSION, kROI_PLUGIN_NAMESPACE)
    , mOp(op)
    , mPyramid(pyramid)
{
}

char const* RoiPluginV2::getPluginType() const noexcept
{
    return roiPluginName(mOp);
}

void RoiPluginV2::writeFields(FieldWriter& writer) const
{
    writeRoiFields(mOp, mPyramid, writer);
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
        getPluginType(), "clone", nullptr, [&] { return new RoiPluginV2(*this); });
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
    return roiEnqueue(mOp, mLayerName.c_str(), mPyramid, inputDesc, outputDesc, inputs, outputs, workspace, stream);
}

RoiPluginCreatorV2::RoiPluginCreatorV2(RoiOp op)
    : PluginCreatorV2Base(kROI_PLUGIN_VERSION, kROI_PLUGIN_NAMESPACE)
    , mOp(op)
{
}

char const* RoiPluginCreatorV2::getPluginName() const noexcept
{
    return roiPluginName(mOp);
}

nvinfer1::PluginFieldCollection const* RoiPluginCreatorV2::getFieldNames() noexcept
{
    return roiFieldNames(mOp);
}

nvinfer1::IPluginV2* RoiPluginCreatorV2::parse(
    char const* layerName, nvinfer1::PluginFieldCollection const* fc, Status& status) const
{
    RoiPyramid pyramid{};
    status = parseRoiFields(mOp, layerName, fc, pyramid);
    return status.ok() ? new RoiPluginV2(mOp, layerName, pyramid) : nullptr;
}

} // namespace plugin
} // namespace spp

#endif // !SPP_TRT_PLUGIN_V3
