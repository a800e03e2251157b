// What the SpatialPyramidPooling plugin does, independent of the TensorRT plugin interface it is wrapped in
// (IPluginV3 for TensorRT >= 10, IPluginV2DynamicExt for TensorRT 8.6): fields, output shape, supported
// type/format combinations, the spp::SppDesc for a concrete shape, and the launch.
#pragma once

#include "common/fieldIO.h"
#include "common/trtVersion.h"
#include "spp/spp.h"

#include <cuda_runtime_api.h>

namespace spp
{
namespace plugin
{

constexpr char const* kSPP_FIELD_LEVELS = "levels";
constexpr char const* kSPP_FIELD_POOL_MODE = "pool_mode";
constexpr char const* kSPP_FIELD_BIN_RULE = "bin_rule";

//! The creator's getFieldNames() collection: levels (kINT32), pool_mode (kCHAR), bin_rule (kCHAR).
nvinfer1::PluginFieldCollection const* sppFieldNames() noexcept;

//! Fields -> config. levels is required; pool_mode defaults to "max", bin_rule to "adaptive". The message names the
//! layer, the field, the value and what is allowed (the core's wording for levels / pool_mode / bin_rule).
Status parseSppFields(char const* layerName, nvinfer1::PluginFieldCollection const* fc, PyramidConfig& config);

//! The fields a plugin serializes: the same three, always all of them.
void writeSppFields(PyramidConfig const& config, FieldWriter& writer);

//! output [N, C * sum(L^2)] from input [N, C, H, W]; returns 0, or -1 after logging.
int32_t sppOutputShape(char const* layerName, PyramidConfig const& config, nvinfer1::DimsExprs const* inputs,
    int32_t nbInputs, nvinfer1::DimsExprs* outputs, int32_t nbOutputs, nvinfer1::IExprBuilder& exprBuilder) noexcept;

//! The input combinations the kernels read in place: fp32/fp16/bf16/int8 kLINEAR, fp16/bf16 kHWC8, fp32 kHWC.
bool sppSupportsInput(nvinfer1::DataType type, nvinfer1::TensorFormat format) noexcept;

//! supportsFormatCombination for position `pos` (0: input, 1: output): the output is kLINEAR with the input's type.
bool sppSupportsCombination(int32_t pos, int32_t nbInputs, int32_t nbOutputs, nvinfer1::DataType type,
    nvinfer1::TensorFormat format, nvinfer1::DataType inputType) noexcept;

//! Build-time check of configurePlugin's descriptors (one rank-4 input, one rank-2 output, types, formats).
Status checkSppConfigure(char const* layerName, PyramidConfig const& config,
    nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs, nvinfer1::DynamicPluginTensorDesc const* out,
    int32_t nbOutputs);

//! The descriptor for one concrete shape (onShapeChange / enqueue): dtype switch, format -> layout, output shape
//! check, equal int8 scales, spp::validate.
Status makeSppDesc(char const* layerName, PyramidConfig const& config, nvinfer1::PluginTensorDesc const& in,
    nvinfer1::PluginTensorDesc const& out, SppDesc& desc) noexcept;

//! Workspace for the largest shape of a profile (`in.max`); 0 when the shape cannot be described.
size_t sppWorkspaceBytes(PyramidConfig const& config, nvinfer1::DynamicPluginTensorDesc const& in) noexcept;

//! enqueue of both interfaces: launches with `desc` when `descValid` and it still describes these shapes (configure /
//! onShapeChange cached it), else describes them afresh into `desc` first. Returns 0, or 1 after logging.
int32_t sppEnqueue(char const* layerName, PyramidConfig const& config, SppDesc& desc, bool& descValid,
    nvinfer1::PluginTensorDesc const* inputDesc, nvinfer1::PluginTensorDesc const* outputDesc,
    void const* const* inputs, void* const* outputs, void* workspace, cudaStream_t stream) noexcept;

} // namespace plugin
} // namespace spp
