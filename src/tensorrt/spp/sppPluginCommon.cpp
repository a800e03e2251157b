#include "spp/sppPluginCommon.h"

#include "common/logger.h"
#include "common/tensorTypes.h"
#include "spp/cuda.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace spp
{
namespace plugin
{

using nvinfer1::DataType;
using nvinfer1::PluginField;
using nvinfer1::PluginFieldCollection;
using nvinfer1::PluginFieldType;
using nvinfer1::TensorFormat;

namespace
{

char const* const kFIELD_NAMES[] = {kSPP_FIELD_LEVELS, kSPP_FIELD_POOL_MODE, kSPP_FIELD_BIN_RULE};
constexpr int32_t kNB_FIELDS = 3;

//! Prefixes a message with the plugin and layer name: "SpatialPyramidPooling 'spp1': ...".
Status layerError(char const* layerName, Status const& status) noexcept
{
    return Status::error("%s '%s': %s", kSPP_PLUGIN_NAME, layerName == nullptr ? "" : layerName, status.message());
}

} // namespace

PluginFieldCollection const* sppFieldNames() noexcept
{
    // Creator field lists carry names and types only; TensorRT and the ONNX parser read the names.
    static PluginField const kFIELDS[kNB_FIELDS] = {
        PluginField(kSPP_FIELD_LEVELS, nullptr, PluginFieldType::kINT32, 0),
        PluginField(kSPP_FIELD_POOL_MODE, nullptr, PluginFieldType::kCHAR, 0),
        PluginField(kSPP_FIELD_BIN_RULE, nullptr, PluginFieldType::kCHAR, 0),
    };
    static PluginFieldCollection const kCOLLECTION{kNB_FIELDS, kFIELDS};
    return &kCOLLECTION;
}

Status parseSppFields(char const* layerName, PluginFieldCollection const* fc, PyramidConfig& config)
{
    FieldReader const reader(kSPP_PLUGIN_NAME, fc, kFIELD_NAMES, kNB_FIELDS);
    if (!reader.status().ok())
    {
        return reader.status();
    }
    std::vector<int32_t> levels;
    bool hasLevels = false;
    Status status = reader.readInt32Array(kSPP_FIELD_LEVELS, levels, hasLevels);
    if (!status.ok())
    {
        return status;
    }
    if (!hasLevels)
    {
        return Status::error("%s '%s': required field 'levels' is missing; give 1 to %d pyramid levels as an INT32 "
                             "array (ONNX INTS), each in [1, %d], e.g. [1, 2, 4]",
            kSPP_PLUGIN_NAME, layerName == nullptr ? "" : layerName, kMAX_LEVELS, kMAX_LEVEL);
    }

    PoolMode mode = PoolMode::kMAX;
    std::string text;
    bool present = false;
    status = reader.readString(kSPP_FIELD_POOL_MODE, text, present);
    if (!status.ok())
    {
        return status;
    }
    if (present)
    {
        status = parsePoolMode(text.c_str(), mode);
        if (!status.ok())
        {
            return layerError(layerName, status);
        }
    }

    BinRule rule = BinRule::kADAPTIVE;
    status = reader.readString(kSPP_FIELD_BIN_RULE, text, present);
    if (!status.ok())
    {
        return status;
    }
    if (present)
    {
        status = parseBinRule(text.c_str(), rule);
        if (!status.ok())
        {
            return layerError(layerName, status);
        }
    }

    // Lengths beyond int32 cannot come from a PluginField; makePyramidConfig reports more than 16 levels.
    status = makePyramidConfig(levels.data(), static_cast<int32_t>(levels.size()), mode, rule, config);
    return status.ok() ? status : layerError(layerName, status);
}

void writeSppFields(PyramidConfig const& config, FieldWriter& writer)
{
    writer.clear();
    writer.addInt32Array(kSPP_FIELD_LEVELS, config.levels, config.numLevels);
    writer.addString(kSPP_FIELD_POOL_MODE, toString(config.mode));
    writer.addString(kSPP_FIELD_BIN_RULE, toString(config.rule));
}

int32_t sppOutputShape(char const* layerName, PyramidConfig const& config, nvinfer1::DimsExprs const* inputs,
    int32_t nbInputs, nvinfer1::DimsExprs* outputs, int32_t nbOutputs, nvinfer1::IExprBuilder& exprBuilder) noexcept
{
    if (inputs == nullptr || outputs == nullptr || nbInputs != 1 || nbOutputs != 1)
    {
        SPP_LOG_ERROR("%s '%s': expects 1 input and 1 output; got %d inputs and %d outputs", kSPP_PLUGIN_NAME,
            layerName, nbInputs, nbOutputs);
        return -1;
    }
    nvinfer1::DimsExprs const& in = inputs[0];
    if (in.nbDims != 4)
    {
        SPP_LOG_ERROR("%s '%s': expects a 4-D input [N, C, H, W]; got a %d-D input", kSPP_PLUGIN_NAME, layerName,
            in.nbDims);
        return -1;
    }
    int64_t const bins = binsPerChannel(config);
    if (bins <= 0 || in.d[0] == nullptr || in.d[1] == nullptr)
    {
        SPP_LOG_ERROR("%s '%s': invalid pyramid or input dimensions", kSPP_PLUGIN_NAME, layerName);
        return -1;
    }
    if (in.d[1]->isConstant())
    {
        int64_t const channels = in.d[1]->getConstantValue();
        int64_t const features = outputFeatures(config, channels);
        if (channels < 1 || features < 0 || features > std::numeric_limits<int32_t>::max())
        {
            SPP_LOG_ERROR("%s '%s': C = %lld gives C * sum(L^2) = C * %lld output features, which must be in "
                          "[1, 2^31 - 1]",
                kSPP_PLUGIN_NAME, layerName, static_cast<long long>(channels), static_cast<long long>(bins));
            return -1;
        }
    }
    nvinfer1::IDimensionExpr const* const binsExpr = exprBuilder.constant(static_cast<DimConstant>(bins));
    nvinfer1::IDimensionExpr const* const features
        = binsExpr == nullptr ? nullptr : exprBuilder.operation(nvinfer1::DimensionOperation::kPROD, *in.d[1], *binsExpr);
    if (features == nullptr)
    {
        SPP_LOG_ERROR("%s '%s': the expression builder returned null", kSPP_PLUGIN_NAME, layerName);
        return -1;
    }
    outputs[0].nbDims = 2;
    outputs[0].d[0] = in.d[0];
    outputs[0].d[1] = features;
    return 0;
}

bool sppSupportsInput(DataType type, TensorFormat format) noexcept
{
    switch (format)
    {
    case TensorFormat::kLINEAR:
        return type == DataType::kFLOAT || type == DataType::kHALF || type == DataType::kINT8
#if SPP_TRT_HAS_BF16
            || type == DataType::kBF16
#endif
            ;
    case TensorFormat::kHWC8:
        return type == DataType::kHALF
#if SPP_TRT_HAS_BF16
            || type == DataType::kBF16
#endif
            ;
    case TensorFormat::kHWC: return type == DataType::kFLOAT;
    default: break;
    }
    return false;
}

bool sppSupportsCombination(int32_t pos, int32_t nbInputs, int32_t nbOutputs, DataType type, TensorFormat format,
    DataType inputType) noexcept
{
    if (nbInputs != 1 || nbOutputs != 1)
    {
        return false;
    }
    if (pos == 0)
    {
        return sppSupportsInput(type, format);
    }
    if (pos == 1)
    {
        return type == inputType && format == TensorFormat::kLINEAR;
    }
    return false;
}

Status checkSppConfigure(char const* layerName, PyramidConfig const& config,
    nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs, nvinfer1::DynamicPluginTensorDesc const* out,
    int32_t nbOutputs)
{
    if (in == nullptr || out == nullptr || nbInputs != 1 || nbOutputs != 1)
    {
        return Status::error("%s '%s': expects 1 input and 1 output; got %d inputs and %d outputs", kSPP_PLUGIN_NAME,
            layerName, nbInputs, nbOutputs);
    }
    nvinfer1::PluginTensorDesc const& input = in[0].desc;
    nvinfer1::PluginTensorDesc const& output = out[0].desc;
    if (input.dims.nbDims != 4 || output.dims.nbDims != 2)
    {
        return Status::error("%s '%s': expects input [N, C, H, W] and output [N, C * sum(L^2)]; got ranks %d and %d",
            kSPP_PLUGIN_NAME, layerName, input.dims.nbDims, output.dims.nbDims);
    }
    if (!sppSupportsCombination(0, 1, 1, input.type, input.format, input.type)
        || !sppSupportsCombination(1, 1, 1, output.type, output.format, input.type))
    {
        return Status::error("%s '%s': unsupported input %s/%s or output %s/%s; inputs: kFLOAT/kHALF/kBF16/kINT8 "
                             "kLINEAR, kHALF/kBF16 kHWC8, kFLOAT kHWC; the output is kLINEAR of the input's type",
            kSPP_PLUGIN_NAME, layerName, toString(input.type), toString(input.format), toString(output.type),
            toString(output.format));
    }
    // The largest shape of the profile must be describable (sizes fit, C * sum(L^2) fits in int32).
    nvinfer1::Dims const& maxDims = in[0].max;
    if (maxDims.nbDims == 4 && maxDims.d[0] >= 0 && maxDims.d[1] >= 1 && maxDims.d[2] >= 1 && maxDims.d[3] >= 1)
    {
        SppDesc desc{};
        desc.pyramid = config;
        toSppDataType(input.type, desc.dtype);
        toSppLayout(input.format, maxDims.d[1], desc.layout, desc.channelStride);
        desc.n = maxDims.d[0];
        desc.c = maxDims.d[1];
        desc.h = maxDims.d[2];
        desc.w = maxDims.d[3];
        Status const status = validate(desc);
        if (!status.ok())
        {
            return Status::error("%s '%s': profile maximum [%lld, %lld, %lld, %lld]: %s", kSPP_PLUGIN_NAME, layerName,
                static_cast<long long>(desc.n), static_cast<long long>(desc.c), static_cast<long long>(desc.h),
                static_cast<long long>(desc.w), status.message());
        }
    }
    return Status::success();
}

Status makeSppDesc(char const* layerName, PyramidConfig const& config, nvinfer1::PluginTensorDesc const& in,
    nvinfer1::PluginTensorDesc const& out, SppDesc& desc) noexcept
{
    if (in.dims.nbDims != 4)
    {
        return Status::error(
            "%s '%s': expects a 4-D input [N, C, H, W]; got a %d-D input", kSPP_PLUGIN_NAME, layerName, in.dims.nbDims);
    }
    SppDesc next{};
    next.pyramid = config;
    if (!toSppDataType(in.type, next.dtype))
    {
        return Status::error("%s '%s': input type %s is not supported; allowed: kFLOAT, kHALF, kBF16, kINT8",
            kSPP_PLUGIN_NAME, layerName, toString(in.type));
    }
    if (out.type != in.type)
    {
        return Status::error("%s '%s': output type %s differs from input type %s", kSPP_PLUGIN_NAME, layerName,
            toString(out.type), toString(in.type));
    }
    next.n = in.dims.d[0];
    next.c = in.dims.d[1];
    next.h = in.dims.d[2];
    next.w = in.dims.d[3];
    if (!toSppLayout(in.format, next.c, next.layout, next.channelStride) || !sppSupportsInput(in.type, in.format))
    {
        return Status::error("%s '%s': input format %s is not supported for %s", kSPP_PLUGIN_NAME, layerName,
            toString(in.format), toString(in.type));
    }
    if (out.format != TensorFormat::kLINEAR)
    {
        return Status::error(
            "%s '%s': output format %s is not supported; allowed: kLINEAR", kSPP_PLUGIN_NAME, layerName, toString(out.format));
    }
    Status const status = validate(next);
    if (!status.ok())
    {
        return layerError(layerName, status);
    }
    int64_t const features = outputFeatures(config, next.c);
    if (out.dims.nbDims != 2 || out.dims.d[0] != next.n || out.dims.d[1] != features)
    {
        return Status::error("%s '%s': output dims must be [%lld, %lld] for input [%lld, %lld, %lld, %lld]",
            kSPP_PLUGIN_NAME, layerName, static_cast<long long>(next.n), static_cast<long long>(features),
            static_cast<long long>(next.n), static_cast<long long>(next.c), static_cast<long long>(next.h),
            static_cast<long long>(next.w));
    }
    if (in.type == DataType::kINT8 && !(std::fabs(in.scale - out.scale) <= 1e-6F * std::fabs(in.scale)))
    {
        return Status::error("%s '%s': int8 input scale %g and output scale %g differ; SPP copies or averages "
                             "quantized values, so give its output the same dynamic range (scale) as its input",
            kSPP_PLUGIN_NAME, layerName, static_cast<double>(in.scale), static_cast<double>(out.scale));
    }
    desc = next;
    return Status::success();
}

namespace
{
//! Whether a cached descriptor still describes `in` and `out` (same dims, types, formats).
bool sameShape(
    SppDesc const& desc, nvinfer1::PluginTensorDesc const& in, nvinfer1::PluginTensorDesc const& out) noexcept
{
    DataType type{};
    switch (desc.dtype)
    {
    case spp::DataType::kFLOAT: type = DataType::kFLOAT; break;
    case spp::DataType::kHALF: type = DataType::kHALF; break;
#if SPP_TRT_HAS_BF16
    case spp::DataType::kBF16: type = DataType::kBF16; break;
#endif
    case spp::DataType::kINT8: type = DataType::kINT8; break;
    default: return false;
    }
    Layout layout{};
    int64_t stride = 0;
    return in.dims.nbDims == 4 && in.type == type && toSppLayout(in.format, in.dims.d[1], layout, stride)
        && layout == desc.layout && stride == desc.channelStride && in.dims.d[0] == desc.n && in.dims.d[1] == desc.c
        && in.dims.d[2] == desc.h && in.dims.d[3] == desc.w && out.type == in.type
        && out.format == TensorFormat::kLINEAR && out.dims.nbDims == 2 && out.dims.d[0] == desc.n
        && out.dims.d[1] == outputFeatures(desc.pyramid, desc.c);
}
} // namespace

size_t sppWorkspaceBytes(PyramidConfig const& config, nvinfer1::DynamicPluginTensorDesc const& in) noexcept
{
    nvinfer1::Dims const& dims = in.max;
    if (dims.nbDims != 4)
    {
        return 0;
    }
    SppDesc desc{};
    desc.pyramid = config;
    desc.n = dims.d[0];
    desc.c = dims.d[1];
    desc.h = dims.d[2];
    desc.w = dims.d[3];
    if (!toSppDataType(in.desc.type, desc.dtype) || !toSppLayout(in.desc.format, desc.c, desc.layout, desc.channelStride)
        || !validate(desc).ok())
    {
        return 0;
    }
    return sppWorkspaceSize(desc);
}

namespace
{
//! spp::sppForward; returns 0, or 1 after logging the CUDA error.
int32_t sppLaunch(char const* layerName, SppDesc const& desc, void const* input, void* output, void* workspace,
    cudaStream_t stream) noexcept
{
    size_t const workspaceBytes = sppWorkspaceSize(desc);
    cudaError_t const error = sppForward(desc, input, output, workspace, workspaceBytes, stream);
    if (error != cudaSuccess)
    {
        SPP_LOG_ERROR("%s '%s': enqueue failed for input [%lld, %lld, %lld, %lld] %s %s: %s (%s)", kSPP_PLUGIN_NAME,
            layerName, static_cast<long long>(desc.n), static_cast<long long>(desc.c), static_cast<long long>(desc.h),
            static_cast<long long>(desc.w), spp::toString(desc.dtype), spp::toString(desc.layout),
            cudaGetErrorName(error), cudaGetErrorString(error));
        return 1;
    }
    return 0;
}
} // namespace

int32_t sppEnqueue(char const* layerName, PyramidConfig const& config, SppDesc& desc, bool& descValid,
    nvinfer1::PluginTensorDesc const* inputDesc, nvinfer1::PluginTensorDesc const* outputDesc,
    void const* const* inputs, void* const* outputs, void* workspace, cudaStream_t stream) noexcept
{
    if (inputDesc == nullptr || outputDesc == nullptr || inputs == nullptr || outputs == nullptr)
    {
        SPP_LOG_ERROR("%s '%s': enqueue got null descriptors or pointers", kSPP_PLUGIN_NAME, layerName);
        return 1;
    }
    if (!descValid || !sameShape(desc, inputDesc[0], outputDesc[0]))
    {
        Status const status = makeSppDesc(layerName, config, inputDesc[0], outputDesc[0], desc);
        descValid = status.ok();
        if (!descValid)
        {
            SPP_LOG_ERROR("%s", status.message());
            return 1;
        }
    }
    return sppLaunch(layerName, desc, inputs[0], outputs[0], workspace, stream);
}

} // namespace plugin
} // namespace spp
