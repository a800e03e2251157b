#include "roi/roiPluginCommon.h"

#include "common/logger.h"
#include "common/tensorTypes.h"
#include "spp/roi_cuda.h"
#include "spp/sppPluginCommon.h"

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

char const* const kROI_SPP_FIELDS[] = {kROI_FIELD_LEVELS, kROI_FIELD_POOL_MODE, kROI_FIELD_SPATIAL_SCALE};
char const* const kMAX_ROI_POOL_FIELDS[] = {kROI_FIELD_POOLED_SHAPE, kROI_FIELD_SPATIAL_SCALE};

char const* layerOrEmpty(char const* layerName) noexcept
{
    return layerName == nullptr ? "" : layerName;
}

//! Prefixes a message with the plugin and layer name: "MaxRoiPool 'roi1': ...".
Status layerError(RoiOp op, char const* layerName, Status const& status) noexcept
{
    return Status::error("%s '%s': %s", roiPluginName(op), layerOrEmpty(layerName), status.message());
}

Status parseRoiSppFields(char const* layerName, FieldReader const& reader, float scale, RoiPyramid& pyramid)
{
    std::vector<int32_t> levels;
    bool present = false;
    Status status = reader.readInt32Array(kROI_FIELD_LEVELS, levels, present);
    if (!status.ok())
    {
        return status;
    }
    if (!present)
    {
        return Status::error("%s '%s': required field 'levels' is missing; give 1 to %d pyramid levels as an INT32 "
                             "array (ONNX INTS), each in [1, %d], e.g. [1, 2, 3, 6]",
            kROI_SPP_PLUGIN_NAME, layerOrEmpty(layerName), kMAX_LEVELS, kMAX_LEVEL);
    }
    PoolMode mode = PoolMode::kMAX;
    std::string text;
    status = reader.readString(kROI_FIELD_POOL_MODE, text, present);
    if (!status.ok())
    {
        return status;
    }
    if (present && !(status = parsePoolMode(text.c_str(), mode)).ok())
    {
        return layerError(RoiOp::kROI_SPP, layerName, status);
    }
    PyramidConfig config;
    status = makePyramidConfig(levels.data(), static_cast<int32_t>(levels.size()), mode, BinRule::kADAPTIVE, config);
    if (status.ok())
    {
        status = makeRoiPyramid(config, scale, pyramid);
    }
    return status.ok() ? status : layerError(RoiOp::kROI_SPP, layerName, status);
}

Status parseMaxRoiPoolFields(char const* layerName, FieldReader const& reader, float scale, RoiPyramid& pyramid)
{
    std::vector<int32_t> shape;
    bool present = false;
    Status status = reader.readInt32Array(kROI_FIELD_POOLED_SHAPE, shape, present);
    if (!status.ok())
    {
        return status;
    }
    if (!present || shape.size() != 2)
    {
        return Status::error("%s '%s': required field 'pooled_shape' %s; give [pooled_h, pooled_w] as an INT32 array "
                             "of 2 (ONNX INTS), each in [1, %d]",
            kMAX_ROI_POOL_PLUGIN_NAME, layerOrEmpty(layerName),
            present ? ("has " + std::to_string(shape.size()) + " entries").c_str() : "is missing", kMAX_LEVEL);
    }
    status = makeMaxRoiPool(shape[0], shape[1], scale, pyramid);
    return status.ok() ? status : layerError(RoiOp::kMAX_ROI_POOL, layerName, status);
}

//! rois [K, 5]: rank 2 and, where known, 5 columns.
bool roisShapeOk(nvinfer1::Dims const& dims) noexcept
{
    return dims.nbDims == 2 && (dims.d[1] == kROI_COLUMNS || dims.d[1] < 0);
}

} // namespace

char const* roiPluginName(RoiOp op) noexcept
{
    return op == RoiOp::kMAX_ROI_POOL ? kMAX_ROI_POOL_PLUGIN_NAME : kROI_SPP_PLUGIN_NAME;
}

PluginFieldCollection const* roiFieldNames(RoiOp op) noexcept
{
    static PluginField const kSPP_FIELDS[3] = {
        PluginField(kROI_FIELD_LEVELS, nullptr, PluginFieldType::kINT32, 0),
        PluginField(kROI_FIELD_POOL_MODE, nullptr, PluginFieldType::kCHAR, 0),
        PluginField(kROI_FIELD_SPATIAL_SCALE, nullptr, PluginFieldType::kFLOAT32, 0),
    };
    static PluginField const kPOOL_FIELDS[2] = {
        PluginField(kROI_FIELD_POOLED_SHAPE, nullptr, PluginFieldType::kINT32, 0),
        PluginField(kROI_FIELD_SPATIAL_SCALE, nullptr, PluginFieldType::kFLOAT32, 0),
    };
    static PluginFieldCollection const kSPP_COLLECTION{3, kSPP_FIELDS};
    static PluginFieldCollection const kPOOL_COLLECTION{2, kPOOL_FIELDS};
    return op == RoiOp::kMAX_ROI_POOL ? &kPOOL_COLLECTION : &kSPP_COLLECTION;
}

Status parseRoiFields(RoiOp op, char const* layerName, PluginFieldCollection const* fc, RoiPyramid& pyramid)
{
    bool const pool = op == RoiOp::kMAX_ROI_POOL;
    FieldReader const reader(roiPluginName(op), fc, pool ? kMAX_ROI_POOL_FIELDS : kROI_SPP_FIELDS, pool ? 2 : 3);
    if (!reader.status().ok())
    {
        return reader.status();
    }
    float scale = 1.0F;
    bool present = false;
    Status const status = reader.readFloat32(kROI_FIELD_SPATIAL_SCALE, scale, present);
    if (!status.ok())
    {
        return status;
    }
    return pool ? parseMaxRoiPoolFields(layerName, reader, scale, pyramid)
                : parseRoiSppFields(layerName, reader, scale, pyramid);
}

void writeRoiFields(RoiOp op, RoiPyramid const& pyramid, FieldWriter& writer)
{
    writer.clear();
    if (op == RoiOp::kMAX_ROI_POOL)
    {
        int32_t const shape[2] = {pyramid.levelsH[0], pyramid.levelsW[0]};
        writer.addInt32Array(kROI_FIELD_POOLED_SHAPE, shape, 2);
    }
    else
    {
        writer.addInt32Array(kROI_FIELD_LEVELS, pyramid.levelsH, pyramid.numLevels);
        writer.addString(kROI_FIELD_POOL_MODE, toString(pyramid.mode));
    }
    writer.addRaw(kROI_FIELD_SPATIAL_SCALE, PluginFieldType::kFLOAT32, &pyramid.spatialScale, 1, sizeof(float));
}

int32_t roiOutputShape(RoiOp op, char const* layerName, RoiPyramid const& pyramid, nvinfer1::DimsExprs const* inputs,
    int32_t nbInputs, nvinfer1::DimsExprs* outputs, int32_t nbOutputs, nvinfer1::IExprBuilder& exprBuilder) noexcept
{
    char const* const name = roiPluginName(op);
    if (inputs == nullptr || outputs == nullptr || nbInputs != 2 || nbOutputs != 1)
    {
        SPP_LOG_ERROR("%s '%s': expects 2 inputs (features, rois) and 1 output; got %d inputs and %d outputs", name,
            layerName, nbInputs, nbOutputs);
        return -1;
    }
    nvinfer1::DimsExprs const& x = inputs[0];
    nvinfer1::DimsExprs const& rois = inputs[1];
    if (x.nbDims != 4 || rois.nbDims != 2)
    {
        SPP_LOG_ERROR("%s '%s': expects features [N, C, H, W] and rois [K, 5]; got a %d-D features and %d-D rois input",
            name, layerName, x.nbDims, rois.nbDims);
        return -1;
    }
    if (x.d[1] == nullptr || rois.d[0] == nullptr || rois.d[1] == nullptr)
    {
        SPP_LOG_ERROR("%s '%s': null input dimension expressions", name, layerName);
        return -1;
    }
    if (rois.d[1]->isConstant() && rois.d[1]->getConstantValue() != kROI_COLUMNS)
    {
        SPP_LOG_ERROR("%s '%s': rois must be [K, 5] rows (batch_index, x1, y1, x2, y2); got [K, %lld]", name,
            layerName, static_cast<long long>(rois.d[1]->getConstantValue()));
        return -1;
    }
    int64_t const bins = roiBinsPerChannel(pyramid);
    if (bins <= 0)
    {
        SPP_LOG_ERROR("%s '%s': invalid pyramid", name, layerName);
        return -1;
    }
    if (x.d[1]->isConstant())
    {
        int64_t const channels = x.d[1]->getConstantValue();
        int64_t const features = roiOutputFeatures(pyramid, channels);
        if (channels < 1 || features < 0 || features > std::numeric_limits<int32_t>::max())
        {
            SPP_LOG_ERROR("%s '%s': C = %lld gives C * %lld output features per roi, which must be in [1, 2^31 - 1]",
                name, layerName, static_cast<long long>(channels), static_cast<long long>(bins));
            return -1;
        }
    }
    outputs[0].d[0] = rois.d[0];
    if (op == RoiOp::kMAX_ROI_POOL)
    {
        outputs[0].nbDims = 4;
        outputs[0].d[1] = x.d[1];
        outputs[0].d[2] = exprBuilder.constant(static_cast<DimConstant>(pyramid.levelsH[0]));
        outputs[0].d[3] = exprBuilder.constant(static_cast<DimConstant>(pyramid.levelsW[0]));
        if (outputs[0].d[2] == nullptr || outputs[0].d[3] == nullptr)
        {
            SPP_LOG_ERROR("%s '%s': the expression builder returned null", name, layerName);
            return -1;
        }
        return 0;
    }
    nvinfer1::IDimensionExpr const* const binsExpr = exprBuilder.constant(static_cast<DimConstant>(bins));
    nvinfer1::IDimensionExpr const* const features
        = binsExpr == nullptr ? nullptr : exprBuilder.operation(nvinfer1::DimensionOperation::kPROD, *x.d[1], *binsExpr);
    if (features == nullptr)
    {
        SPP_LOG_ERROR("%s '%s': the expression builder returned null", name, layerName);
        return -1;
    }
    outputs[0].nbDims = 2;
    outputs[0].d[1] = features;
    return 0;
}

bool roiSupportsCombination(int32_t pos, int32_t nbInputs, int32_t nbOutputs, DataType type, TensorFormat format,
    DataType featureType) noexcept
{
    if (nbInputs != 2 || nbOutputs != 1)
    {
        return false;
    }
    switch (pos)
    {
    case 0: return type != DataType::kINT8 && sppSupportsInput(type, format); // the SPP table without int8
    case 1: return format == TensorFormat::kLINEAR && (type == DataType::kFLOAT || type == featureType);
    case 2: return format == TensorFormat::kLINEAR && type == featureType;
    default: break;
    }
    return false;
}

Status checkRoiConfigure(RoiOp op, char const* layerName, RoiPyramid const& pyramid,
    nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs, nvinfer1::DynamicPluginTensorDesc const* out,
    int32_t nbOutputs)
{
    char const* const name = roiPluginName(op);
    if (in == nullptr || out == nullptr || nbInputs != 2 || nbOutputs != 1)
    {
        return Status::error("%s '%s': expects 2 inputs (features, rois) and 1 output; got %d inputs and %d outputs",
            name, layerName, nbInputs, nbOutputs);
    }
    int32_t const outRank = op == RoiOp::kMAX_ROI_POOL ? 4 : 2;
    if (in[0].desc.dims.nbDims != 4 || !roisShapeOk(in[1].desc.dims) || out[0].desc.dims.nbDims != outRank)
    {
        return Status::error("%s '%s': expects features [N, C, H, W], rois [K, 5] and a %d-D output; got ranks %d, %d "
                             "(rois columns %lld) and %d",
            name, layerName, outRank, in[0].desc.dims.nbDims, in[1].desc.dims.nbDims,
            static_cast<long long>(in[1].desc.dims.nbDims == 2 ? in[1].desc.dims.d[1] : -1), out[0].desc.dims.nbDims);
    }
    DataType const featureType = in[0].desc.type;
    for (int32_t pos = 0; pos < 3; ++pos)
    {
        nvinfer1::PluginTensorDesc const& d = pos < 2 ? in[pos].desc : out[0].desc;
        if (!roiSupportsCombination(pos, 2, 1, d.type, d.format, featureType))
        {
            return Status::error("%s '%s': unsupported %s %s/%s; features: kFLOAT/kHALF/kBF16 kLINEAR, kHALF/kBF16 "
                                 "kHWC8, kFLOAT kHWC; rois: kLINEAR kFLOAT or the features' type; output: kLINEAR of "
                                 "the features' type",
                name, layerName, pos == 0 ? "features" : (pos == 1 ? "rois" : "output"), toString(d.type),
                toString(d.format));
        }
    }
    nvinfer1::Dims const& xMax = in[0].max;
    nvinfer1::Dims const& rMax = in[1].max;
    if (xMax.nbDims == 4 && rMax.nbDims == 2 && xMax.d[1] >= 1 && xMax.d[2] >= 1 && xMax.d[3] >= 1 && rMax.d[0] >= 0)
    {
        RoiDesc desc{};
        desc.pyramid = pyramid;
        toSppDataType(featureType, desc.dtype);
        toSppDataType(in[1].desc.type, desc.roiDtype);
        toSppLayout(in[0].desc.format, xMax.d[1], desc.layout, desc.channelStride);
        desc.n = xMax.d[0];
        desc.c = xMax.d[1];
        desc.h = xMax.d[2];
        desc.w = xMax.d[3];
        desc.numRois = rMax.d[0];
        Status const status = validate(desc);
        if (!status.ok())
        {
            return Status::error("%s '%s': profile maximum features [%lld, %lld, %lld, %lld], rois [%lld, 5]: %s", name,
                layerName, static_cast<long long>(desc.n), static_cast<long long>(desc.c),
                static_cast<long long>(desc.h), static_cast<long long>(desc.w), static_cast<long long>(desc.numRois),
                status.message());
        }
    }
    return Status::success();
}

Status makeRoiDesc(RoiOp op, char const* layerName, RoiPyramid const& pyramid, nvinfer1::PluginTensorDesc const* in,
    int32_t nbInputs, nvinfer1::PluginTensorDesc const* out, int32_t nbOutputs, RoiDesc& desc) noexcept
{
    char const* const name = roiPluginName(op);
    if (in == nullptr || out == nullptr || nbInputs != 2 || nbOutputs != 1)
    {
        return Status::error("%s '%s': expects 2 inputs (features, rois) and 1 output; got %d inputs and %d outputs",
            name, layerName, nbInputs, nbOutputs);
    }
    nvinfer1::PluginTensorDesc const& x = in[0];
    nvinfer1::PluginTensorDesc const& rois = in[1];
    if (x.dims.nbDims != 4 || rois.dims.nbDims != 2 || rois.dims.d[1] != kROI_COLUMNS)
    {
        return Status::error("%s '%s': expects features [N, C, H, W] and rois [K, 5]; got ranks %d and %d (rois "
                             "columns %lld)",
            name, layerName, x.dims.nbDims, rois.dims.nbDims,
            static_cast<long long>(rois.dims.nbDims == 2 ? rois.dims.d[1] : -1));
    }
    RoiDesc next{};
    next.pyramid = pyramid;
    next.n = x.dims.d[0];
    next.c = x.dims.d[1];
    next.h = x.dims.d[2];
    next.w = x.dims.d[3];
    next.numRois = rois.dims.d[0];
    if (!roiSupportsCombination(0, 2, 1, x.type, x.format, x.type) || !toSppDataType(x.type, next.dtype)
        || !toSppLayout(x.format, next.c, next.layout, next.channelStride))
    {
        return Status::error("%s '%s': features %s/%s are not supported; allowed: kFLOAT/kHALF/kBF16 kLINEAR, "
                             "kHALF/kBF16 kHWC8, kFLOAT kHWC",
            name, layerName, toString(x.type), toString(x.format));
    }
    if (!roiSupportsCombination(1, 2, 1, rois.type, rois.format, x.type) || !toSppDataType(rois.type, next.roiDtype))
    {
        return Status::error("%s '%s': rois %s/%s are not supported; allowed: kLINEAR kFLOAT or %s", name, layerName,
            toString(rois.type), toString(rois.format), toString(x.type));
    }
    if (!roiSupportsCombination(2, 2, 1, out[0].type, out[0].format, x.type))
    {
        return Status::error("%s '%s': output %s/%s is not supported; allowed: kLINEAR %s", name, layerName,
            toString(out[0].type), toString(out[0].format), toString(x.type));
    }
    Status const status = validate(next);
    if (!status.ok())
    {
        return layerError(op, layerName, status);
    }
    nvinfer1::Dims const& o = out[0].dims;
    bool const shapeOk = op == RoiOp::kMAX_ROI_POOL
        ? (o.nbDims == 4 && o.d[0] == next.numRois && o.d[1] == next.c && o.d[2] == pyramid.levelsH[0]
            && o.d[3] == pyramid.levelsW[0])
        : (o.nbDims == 2 && o.d[0] == next.numRois && o.d[1] == roiOutputFeatures(pyramid, next.c));
    if (!shapeOk)
    {
        return Status::error("%s '%s': output dims do not match features [%lld, %lld, %lld, %lld] and rois [%lld, 5]; "
                             "expected %s",
            name, layerName, static_cast<long long>(next.n), static_cast<long long>(next.c),
            static_cast<long long>(next.h), static_cast<long long>(next.w), static_cast<long long>(next.numRois),
            op == RoiOp::kMAX_ROI_POOL ? "[K, C, pooled_h, pooled_w]" : "[K, C * sum(L^2)]");
    }
    desc = next;
    return Status::success();
}

size_t roiWorkspaceBytes(RoiPyramid const& pyramid, nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs) noexcept
{
    if (in == nullptr || nbInputs != 2 || in[0].max.nbDims != 4 || in[1].max.nbDims != 2)
    {
        return 0;
    }
    RoiDesc desc{};
    desc.pyramid = pyramid;
    desc.n = in[0].max.d[0];
    desc.c = in[0].max.d[1];
    desc.h = in[0].max.d[2];
    desc.w = in[0].max.d[3];
    desc.numRois = in[1].max.d[0];
    if (!toSppDataType(in[0].desc.type, desc.dtype) || !toSppDataType(in[1].desc.type, desc.roiDtype)
        || !toSppLayout(in[0].desc.format, desc.c, desc.layout, desc.channelStride) || !validate(desc).ok())
    {
        return 0;
    }
    return roiWorkspaceSize(desc);
}

namespace
{
//! spp::roiForward; returns 0, or 1 after logging the CUDA error.
int32_t roiLaunch(RoiOp op, char const* layerName, RoiDesc const& desc, void const* features, void const* rois,
    void* output, void* workspace, cudaStream_t stream) noexcept
{
    cudaError_t const error
        = roiForward(desc, features, rois, output, workspace, roiWorkspaceSize(desc), stream);
    if (error != cudaSuccess)
    {
        SPP_LOG_ERROR("%s '%s': enqueue failed for features [%lld, %lld, %lld, %lld] %s %s, rois [%lld, 5] %s: %s (%s)",
            roiPluginName(op), layerName, static_cast<long long>(desc.n), static_cast<long long>(desc.c),
            static_cast<long long>(desc.h), static_cast<long long>(desc.w), spp::toString(desc.dtype),
            spp::toString(desc.layout), static_cast<long long>(desc.numRois), spp::toString(desc.roiDtype),
            cudaGetErrorName(error), cudaGetErrorString(error));
        return 1;
    }
    return 0;
}
} // namespace

int32_t roiEnqueue(RoiOp op, char const* layerName, RoiPyramid const& pyramid,
    nvinfer1::PluginTensorDesc const* inputDesc, nvinfer1::PluginTensorDesc const* outputDesc,
    void const* const* inputs, void* const* outputs, void* workspace, cudaStream_t stream) noexcept
{
    if (inputs == nullptr || outputs == nullptr)
    {
        SPP_LOG_ERROR("%s '%s': enqueue got null pointer arrays", roiPluginName(op), layerName);
        return 1;
    }
    RoiDesc desc{};
    Status const status = makeRoiDesc(op, layerName, pyramid, inputDesc, 2, outputDesc, 1, desc);
    if (!status.ok())
    {
        SPP_LOG_ERROR("%s", status.message());
        return 1;
    }
    return roiLaunch(op, layerName, desc, inputs[0], inputs[1], outputs[0], workspace, stream);
}

} // namespace plugin
} // namespace spp
