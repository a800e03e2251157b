// What the two ROI plugins do, independent of the TensorRT interface they are wrapped in (IPluginV3 for TensorRT >= 10,
// IPluginV2DynamicExt for 8.6):
//   RoiSpatialPyramidPooling  inputs (features [N,C,H,W], rois [K,5]) -> [K, C * sum(L^2)]; fields levels, pool_mode,
//                             spatial_scale.
//   MaxRoiPool                the ONNX operator: inputs (X [N,C,H,W], rois [K,5]) -> [K, C, pooled_h, pooled_w]; fields
//                             pooled_shape, spatial_scale.
// Both run spp::roiForward (docs/roi.md); the plugin classes only hold an RoiOp saying which one they are.
#pragma once

#include "common/fieldIO.h"
#include "common/trtVersion.h"
#include "spp/roi.h"

#include <cuda_runtime_api.h>

namespace spp
{
namespace plugin
{

enum class RoiOp : int32_t
{
    kROI_SPP = 0,      //!< RoiSpatialPyramidPooling
    kMAX_ROI_POOL = 1, //!< MaxRoiPool
};

constexpr char const* kROI_FIELD_LEVELS = "levels";
constexpr char const* kROI_FIELD_POOL_MODE = "pool_mode";
constexpr char const* kROI_FIELD_SPATIAL_SCALE = "spatial_scale";
constexpr char const* kROI_FIELD_POOLED_SHAPE = "pooled_shape";

//! kROI_SPP_PLUGIN_NAME or kMAX_ROI_POOL_PLUGIN_NAME.
char const* roiPluginName(RoiOp op) noexcept;

//! The creator's getFieldNames(): levels (kINT32), pool_mode (kCHAR), spatial_scale (kFLOAT32) for
//! RoiSpatialPyramidPooling; pooled_shape (kINT32), spatial_scale (kFLOAT32) for MaxRoiPool.
nvinfer1::PluginFieldCollection const* roiFieldNames(RoiOp op) noexcept;

//! Fields -> pyramid. Messages name the plugin, the layer, the field, the value and what is allowed.
Status parseRoiFields(RoiOp op, char const* layerName, nvinfer1::PluginFieldCollection const* fc, RoiPyramid& pyramid);

//! The fields a plugin serializes (always all of them), readable by parseRoiFields.
void writeRoiFields(RoiOp op, RoiPyramid const& pyramid, FieldWriter& writer);

//! Output dims from (features, rois); returns 0, or -1 after logging.
int32_t roiOutputShape(RoiOp op, char const* layerName, RoiPyramid const& pyramid, nvinfer1::DimsExprs const* inputs,
    int32_t nbInputs, nvinfer1::DimsExprs* outputs, int32_t nbOutputs, nvinfer1::IExprBuilder& exprBuilder) noexcept;

//! supportsFormatCombination for pos 0 (features: fp32/fp16/bf16 kLINEAR, fp16/bf16 kHWC8, fp32 kHWC), 1 (rois:
//! kLINEAR, kFLOAT or the features' type), 2 (output: kLINEAR, the features' type).
bool roiSupportsCombination(int32_t pos, int32_t nbInputs, int32_t nbOutputs, nvinfer1::DataType type,
    nvinfer1::TensorFormat format, nvinfer1::DataType featureType) noexcept;

//! Build-time check of configurePlugin's descriptors (ranks, types, formats, rois [K, 5], the profile maximum).
Status checkRoiConfigure(RoiOp op, char const* layerName, RoiPyramid const& pyramid,
    nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs, nvinfer1::DynamicPluginTensorDesc const* out,
    int32_t nbOutputs);

//! The descriptor of one concrete shape (onShapeChange / enqueue): in[0] features, in[1] rois, out[0].
Status makeRoiDesc(RoiOp op, char const* layerName, RoiPyramid const& pyramid, nvinfer1::PluginTensorDesc const* in,
    int32_t nbInputs, nvinfer1::PluginTensorDesc const* out, int32_t nbOutputs, RoiDesc& desc) noexcept;

//! Workspace for the largest shapes of a profile (in[0].max, in[1].max); 0 when they cannot be described.
size_t roiWorkspaceBytes(RoiPyramid const& pyramid, nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs) noexcept;

//! enqueue of both interfaces: describes the shapes afresh (a few integer checks: no shape cache to go stale between
//! contexts or shapes) and launches. Returns 0, or 1 after logging.
int32_t roiEnqueue(RoiOp op, char const* layerName, RoiPyramid const& pyramid,
    nvinfer1::PluginTensorDesc const* inputDesc, nvinfer1::PluginTensorDesc const* outputDesc,
    void const* const* inputs, void* const* outputs, void* workspace, cudaStream_t stream) noexcept;

} // namespace plugin
} // namespace spp
