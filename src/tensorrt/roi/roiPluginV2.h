// RoiSpatialPyramidPooling and MaxRoiPool as IPluginV2DynamicExt (TensorRT 8.6), and their IPluginCreator. Same
// names, version, fields and behaviour as the IPluginV3 build; serialization writes the same fields into the buffer.
#pragma once

#include "common/trtVersion.h"

#if !SPP_TRT_PLUGIN_V3

#include "common/pluginBase.h"
#include "roi/roiPluginCommon.h"
#include "spp/roi.h"

#include <string>

// TensorRT 8.6 marks IPluginV2 / IPluginV2Ext deprecated, yet IPluginV2DynamicExt is the interface it loads.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

namespace spp
{
namespace plugin
{

class RoiPluginV2 final : public PluginV2Base
{
public:
    RoiPluginV2(RoiOp op, std::string layerName, RoiPyramid const& pyramid);
    RoiPluginV2(RoiPluginV2 const&) = default;
    ~RoiPluginV2() override = default;

    // IPluginV2 (the rest: PluginV2Base)
    char const* getPluginType() const noexcept override;

    // IPluginV2Ext
    nvinfer1::DataType getOutputDataType(
        int32_t index, nvinfer1::DataType const* inputTypes, int32_t nbInputs) const noexcept override;

    // IPluginV2DynamicExt
    nvinfer1::IPluginV2DynamicExt* clone() const noexcept override;
    nvinfer1::DimsExprs getOutputDimensions(int32_t outputIndex, nvinfer1::DimsExprs const* inputs, int32_t nbInputs,
        nvinfer1::IExprBuilder& exprBuilder) noexcept override;
    bool supportsFormatCombination(
        int32_t pos, nvinfer1::PluginTensorDesc const* inOut, int32_t nbInputs, int32_t nbOutputs) noexcept override;
    void configurePlugin(nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs,
        nvinfer1::DynamicPluginTensorDesc const* out, int32_t nbOutputs) noexcept override;
    size_t getWorkspaceSize(nvinfer1::PluginTensorDesc const* inputs, int32_t nbInputs,
        nvinfer1::PluginTensorDesc const* outputs, int32_t nbOutputs) const noexcept override;
    int32_t enqueue(nvinfer1::PluginTensorDesc const* inputDesc, nvinfer1::PluginTensorDesc const* outputDesc,
        void const* const* inputs, void* const* outputs, void* workspace, cudaStream_t stream) noexcept override;

private:
    void writeFields(FieldWriter& writer) const override;

    RoiOp mOp;
    RoiPyramid mPyramid;
};

class RoiPluginCreatorV2 final : public PluginCreatorV2Base
{
public:
    explicit RoiPluginCreatorV2(RoiOp op);
    ~RoiPluginCreatorV2() override = default;

    char const* getPluginName() const noexcept override;
    nvinfer1::PluginFieldCollection const* getFieldNames() noexcept override;

private:
    nvinfer1::IPluginV2* parse(
        char const* layerName, nvinfer1::PluginFieldCollection const* fc, Status& status) const override;

    RoiOp mOp;
};

} // namespace plugin
} // namespace spp

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#endif // !SPP_TRT_PLUGIN_V3
