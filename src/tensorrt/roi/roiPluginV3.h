// RoiSpatialPyramidPooling and MaxRoiPool as IPluginV3 (TensorRT >= 10): one class for both, told apart by RoiOp, and
// one creator class instantiated once per plugin name.
#pragma once

#include "common/trtVersion.h"

#if SPP_TRT_PLUGIN_V3

#include "common/pluginBase.h"
#include "roi/roiPluginCommon.h"
#include "spp/roi.h"

#include <string>

namespace spp
{
namespace plugin
{

class RoiPluginV3 final : public PluginV3Base
{
public:
    RoiPluginV3(RoiOp op, std::string layerName, RoiPyramid const& pyramid);
    RoiPluginV3(RoiPluginV3 const&) = default;
    ~RoiPluginV3() override = default;

    // IPluginV3 (PluginV3Base has getCapabilityInterface, the version and namespace, getNbOutputs, attachToContext
    // and getFieldsToSerialize)
    nvinfer1::IPluginV3* clone() noexcept override;

    // IPluginV3OneCore
    char const* getPluginName() const noexcept override;

    // IPluginV3OneBuild
    int32_t getOutputDataTypes(nvinfer1::DataType* outputTypes, int32_t nbOutputs,
        nvinfer1::DataType const* inputTypes, int32_t nbInputs) const noexcept override;
    int32_t getOutputShapes(nvinfer1::DimsExprs const* inputs, int32_t nbInputs, nvinfer1::DimsExprs const* shapeInputs,
        int32_t nbShapeInputs, nvinfer1::DimsExprs* outputs, int32_t nbOutputs,
        nvinfer1::IExprBuilder& exprBuilder) noexcept override;
    bool supportsFormatCombination(int32_t pos, nvinfer1::DynamicPluginTensorDesc const* inOut, int32_t nbInputs,
        int32_t nbOutputs) noexcept override;
    int32_t configurePlugin(nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs,
        nvinfer1::DynamicPluginTensorDesc const* out, int32_t nbOutputs) noexcept override;
    size_t getWorkspaceSize(nvinfer1::DynamicPluginTensorDesc const* inputs, int32_t nbInputs,
        nvinfer1::DynamicPluginTensorDesc const* outputs, int32_t nbOutputs) const noexcept override;

    // IPluginV3OneRuntime
    int32_t onShapeChange(nvinfer1::PluginTensorDesc const* in, int32_t nbInputs, nvinfer1::PluginTensorDesc const* out,
        int32_t nbOutputs) noexcept override;
    int32_t enqueue(nvinfer1::PluginTensorDesc const* inputDesc, nvinfer1::PluginTensorDesc const* outputDesc,
        void const* const* inputs, void* const* outputs, void* workspace, cudaStream_t stream) noexcept override;

private:
    void writeFields(FieldWriter& writer) const override;

    RoiOp mOp;
    RoiPyramid mPyramid;
};

class RoiPluginCreatorV3 final : public PluginCreatorV3Base
{
public:
    explicit RoiPluginCreatorV3(RoiOp op);
    ~RoiPluginCreatorV3() override = default;

    char const* getPluginName() const noexcept override;
    nvinfer1::PluginFieldCollection const* getFieldNames() noexcept override;

private:
    nvinfer1::IPluginV3* parse(
        char const* layerName, nvinfer1::PluginFieldCollection const* fc, Status& status) const override;

    RoiOp mOp;
};

} // namespace plugin
} // namespace spp

#endif // SPP_TRT_PLUGIN_V3
