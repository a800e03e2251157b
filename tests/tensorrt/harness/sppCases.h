// SpatialPyramidPooling-specific harness data shared by the IPluginV3 and IPluginV2DynamicExt drivers: field cases
// (valid and malformed), the format table the plugin must report, enqueue shapes, and the GPU check against the CPU
// reference.
#pragma once

#include "harness/fieldBuilder.h"
#include "spp/spp.h"

#include <NvInferRuntime.h>
#include <cuda_runtime_api.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

namespace spp
{
namespace harness
{

struct SppConfigCase
{
    std::vector<int32_t> levels;
    std::string mode; //!< "" = attribute absent (default)
    std::string rule; //!< "" = attribute absent (default)
    std::string label() const;
};

//! Configs covering both modes, both rules, defaults, one level, duplicate levels and a large level.
std::vector<SppConfigCase> sppConfigs();

//! The ONNX node attributes of a config (plus an attribute the creator does not list, which the parser drops).
OnnxAttributes sppOnnxAttributes(SppConfigCase const& config);

struct MalformedCase
{
    std::string label;
    bool nullCollection{false};
    std::function<void(FieldList&)> build;
    std::vector<std::string> words; //!< every one must appear in one error message
    nvinfer1::PluginFieldCollection const* (*custom)(){nullptr}; //!< a hand-made collection instead of `build`
};

//! Field collections createPlugin must refuse, each with the words its message must contain.
std::vector<MalformedCase> malformedSppCases();

//! What the plugin's fields say, read independently of the plugin library.
struct SppFields
{
    bool ok{false};
    std::string error;
    std::vector<int32_t> levels;
    std::string mode;
    std::string rule;
    nvinfer1::PluginFieldType levelsType{nvinfer1::PluginFieldType::kUNKNOWN};
    bool stringsNulTerminated{false};
};
SppFields readSppFields(nvinfer1::PluginFieldCollection const* fc);

//! C * sum(L^2) for a config (levels as given).
int64_t sppFeatures(std::vector<int32_t> const& levels, int64_t channels);

//! The expected support table (written independently of the plugin): fp32/fp16/bf16/int8 kLINEAR, fp16/bf16 kHWC8,
//! fp32 kHWC. The output must be kLINEAR with the input's type.
bool expectedInputSupported(nvinfer1::DataType type, nvinfer1::TensorFormat format);

std::vector<nvinfer1::DataType> allDataTypes();
std::vector<nvinfer1::TensorFormat> allFormats();
//! The (type, format) inputs the GPU check runs.
std::vector<std::pair<nvinfer1::DataType, nvinfer1::TensorFormat>> supportedInputs();

struct Shape
{
    int64_t n;
    int64_t c;
    int64_t h;
    int64_t w;
};
//! Input sizes enqueued one after another on the same plugin (at least three, with H < L and odd sizes).
std::vector<Shape> enqueueShapes();

nvinfer1::Dims makeDims(std::initializer_list<int64_t> values);
nvinfer1::PluginTensorDesc inputDesc(Shape shape, nvinfer1::DataType type, nvinfer1::TensorFormat format);
nvinfer1::PluginTensorDesc outputDesc(Shape shape, std::vector<int32_t> const& levels, nvinfer1::DataType type);

//! One enqueue as the driver does it: (re)configure for the shape, then enqueue. Returns the plugin's status.
using EnqueueFunction = std::function<int32_t(nvinfer1::PluginTensorDesc const& in,
    nvinfer1::PluginTensorDesc const& out, void const* input, void* output, cudaStream_t stream)>;

//! Runs `enqueue` for one shape/type/format with the output poisoned twice (0xFF, then 0x5A) and compares both runs
//! with spp::sppReferenceCpu on the dense NCHW input. Returns "" or what went wrong.
std::string checkSppEnqueue(SppConfigCase const& config, Shape shape, nvinfer1::DataType type,
    nvinfer1::TensorFormat format, EnqueueFunction const& enqueue, std::mt19937& rng);

} // namespace harness
} // namespace spp
