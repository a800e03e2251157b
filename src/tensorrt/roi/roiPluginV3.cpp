#include "roi/roiPluginV3.h"

#if SPP_TRT_PLUGIN_V3

#include "common/logger.h"

#include <utility>

namespace spp
{
namespace plugin
{

using nvinfer1::DynamicPluginTensorDesc;
using nvinfer1::PluginTensorDesc;

RoiPluginV3::RoiPluginV3(RoiOp op, std::string layerName, RoiPyramid const& pyramid)
    : PluginV3Base(std::move(layerName), kROI_PLUGIN_VERSION, kROI_PLUGIN_NAMESPACE)
    , mOp(op)
    , mPyramid(pyramid)
{
}

nvinfer1::IPluginV3* RoiPluginV3::clone() noexcept
{
    return guarded<nvinfer1::IPluginV3*>(getPluginName(), "clone", nullptr, [&] { return new RoiPluginV3(*this); });
}

char const* RoiPluginV3::getPluginName() const noexcept
{
    return roiPluginName(mOp);
}

void RoiPluginV3::writeFields(FieldWriter& writer) const
{
    writeRoiFields(mOp, mPyramid, writer);
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
    return roiEnqueue(mOp, mLayerName.c_str(), mPyramid, inputDesc, outputDesc, inputs, outputs, workspace, stream);
}

RoiPluginCreatorV3::RoiPluginCreatorV3(RoiOp op)
    : PluginCreatorV3Base(kROI_PLUGIN_VERSION, kROI_PLUGIN_NAMESPACE)
    , mOp(op)
{
}

char const* RoiPluginCreatorV3::getPluginName() const noexcept
{
    return roiPluginName(mOp);
}

nvinfer1::PluginFieldCollection const* RoiPluginCreatorV3::getFieldNames() noexcept
{
    return roiFieldNames(mOp);
}

nvinfer1::IPluginV3* RoiPluginCreatorV3::parse(
    char const* layerName, nvinfer1::PluginFieldCollection const* fc, Status& status) const
{
    RoiPyramid pyramid{};
    status = parseRoiFields(mOp, layerName, fc, pyramid);
    return status.ok() ? new RoiPluginV3(mOp, layerName, pyramid) : nullptr;
}

} // namespace plugin
} // namespace spp

#endif // SPP_TRT_PLUGIN_V3
