#include "harness/sppCases.h"

#include "harness/tensors.h"
#include "spp/reference.h"

#include <cstring>
#include <sstream>

namespace spp
{
namespace harness
{

using nvinfer1::DataType;
using nvinfer1::PluginFieldType;
using nvinfer1::TensorFormat;

std::string SppConfigCase::label() const
{
    std::ostringstream text;
    text << "levels=[";
    for (size_t i = 0; i < levels.size(); ++i)
    {
        text << (i == 0 ? "" : ",") << levels[i];
    }
    text << "] pool_mode=" << (mode.empty() ? "(default)" : mode) << " bin_rule=" << (rule.empty() ? "(default)" : rule);
    return text.str();
}

std::vector<SppConfigCase> sppConfigs()
{
    return {
        {{1, 2, 4}, "", ""},
        {{1, 2, 4}, "avg", "adaptive"},
        {{1, 2, 4}, "max", "caffe"},
        {{3, 6}, "avg", "caffe"},
        {{1}, "max", ""},
        {{2, 2, 5}, "", "caffe"},
        {{13}, "avg", ""},
    };
}

OnnxAttributes sppOnnxAttributes(SppConfigCase const& config)
{
    OnnxAttributes attributes;
    attributes.ints("levels", std::vector<int64_t>(config.levels.begin(), config.levels.end()));
    if (!config.mode.empty())
    {
        attributes.string("pool_mode", config.mode);
    }
    if (!config.rule.empty())
    {
        attributes.string("bin_rule", config.rule);
    }
    // Exported graphs may carry attributes the creator does not list; the parser passes only listed names.
    attributes.string("plugin_namespace", "").string("plugin_version", "1").floats("unused_scale", {0.5F});
    return attributes;
}

std::vector<MalformedCase> malformedSppCases()
{
    std::vector<MalformedCase> cases;
    auto add = [&cases](std::string label, std::function<void(FieldList&)> build, std::vector<std::string> words) {
        MalformedCase entry;
        entry.label = std::move(label);
        entry.build = std::move(build);
        entry.words = std::move(words);
        cases.push_back(std::move(entry));
    };
    add("levels missing", [](FieldList& f) { f.string("pool_mode", "avg"); }, {"'levels'", "missing", "INT32"});
    add("no fields at all", [](FieldList&) {}, {"'levels'", "missing"});
    add("levels as kFLOAT32", [](FieldList& f) { f.floats("levels", {1.0F, 2.0F}); },
        {"'levels'", "kFLOAT32", "kINT32"});
    add("levels as kCHAR", [](FieldList& f) { f.string("levels", "1,2,4"); }, {"'levels'", "kCHAR", "kINT32"});
    add("levels empty", [](FieldList& f) { f.int32s("levels", {}); }, {"levels must not be empty", "1 to 16"});
    add("17 levels", [](FieldList& f) { f.int32s("levels", std::vector<int32_t>(17, 1)); },
        {"levels has 17 entries", "at most 16"});
    add("level 0", [](FieldList& f) { f.int32s("levels", {1, 0, 4}); }, {"levels[1] = 0", "[1, 256]"});
    add("level 257", [](FieldList& f) { f.int32s("levels", {257}); }, {"levels[0] = 257", "[1, 256]"});
    add("negative level", [](FieldList& f) { f.int32s("levels", {1, 2, -3}); }, {"levels[2] = -3", "[1, 256]"});
    add("pool_mode median",
        [](FieldList& f) {
            f.int32s("levels", {1, 2});
            f.string("pool_mode", "median");
        },
        {"pool_mode 'median'", "'max', 'avg'"});
    add("pool_mode MAX (case matters)",
        [](FieldList& f) {
            f.int32s("levels", {1, 2});
            f.string("pool_mode", "MAX");
        },
        {"pool_mode 'MAX'", "'max', 'avg'"});
    add("pool_mode as kINT32",
        [](FieldList& f) {
            f.int32s("levels", {1, 2});
            f.int32s("pool_mode", {0});
        },
        {"'pool_mode'", "kINT32", "kCHAR"});
    add("bin_rule floor",
        [](FieldList& f) {
            f.int32s("levels", {1, 2});
            f.string("bin_rule", "floor");
        },
        {"bin_rule 'floor'", "'adaptive', 'caffe'"});
    add("bin_rule empty",
        [](FieldList& f) {
            f.int32s("levels", {1, 2});
            f.string("bin_rule", "");
        },
        {"bin_rule ''", "'adaptive', 'caffe'"});
    add("levels given twice",
        [](FieldList& f) {
            f.int32s("levels", {1});
            f.int32s("levels", {2});
        },
        {"'levels'", "more than once"});
    add("levels with null data",
        [](FieldList& f) { f.raw("levels", PluginFieldType::kINT32, nullptr, 3, 0); }, {"'levels'", "null"});
    add("levels with negative length",
        [](FieldList& f) {
            int32_t const one = 1;
            f.raw("levels", PluginFieldType::kINT32, &one, -1, sizeof(one));
        },
        {"'levels'", "length -1"});
    add("field without a name",
        [](FieldList& f) {
            f.int32s("levels", {1});
            f.nullName(PluginFieldType::kINT32);
        },
        {"no name"});

    MalformedCase nullCollection;
    nullCollection.label = "null collection";
    nullCollection.nullCollection = true;
    nullCollection.words = {"null"};
    cases.push_back(nullCollection);

    MalformedCase negativeCount;
    negativeCount.label = "nbFields = -1";
    negativeCount.words = {"nbFields = -1"};
    negativeCount.custom = []() -> nvinfer1::PluginFieldCollection const* {
        static nvinfer1::PluginFieldCollection const kBAD{-1, nullptr};
        return &kBAD;
    };
    cases.push_back(negativeCount);

    MalformedCase nullFields;
    nullFields.label = "nbFields = 2 with null fields";
    nullFields.words = {"nbFields = 2"};
    nullFields.custom = []() -> nvinfer1::PluginFieldCollection const* {
        static nvinfer1::PluginFieldCollection const kBAD{2, nullptr};
        return &kBAD;
    };
    cases.push_back(nullFields);
    return cases;
}

SppFields readSppFields(nvinfer1::PluginFieldCollection const* fc)
{
    SppFields out;
    if (fc == nullptr || fc->nbFields < 0 || (fc->nbFields > 0 && fc->fields == nullptr))
    {
        out.error = "null or malformed collection";
        return out;
    }
    bool haveLevels = false;
    bool nulOk = true;
    for (int32_t i = 0; i < fc->nbFields; ++i)
    {
        nvinfer1::PluginField const& field = fc->fields[i];
        std::string const name = field.name == nullptr ? "" : field.name;
        if (name == "levels")
        {
            haveLevels = true;
            out.levelsType = field.type;
            if (field.type == PluginFieldType::kINT32 && field.length >= 0)
            {
                auto const* values = static_cast<int32_t const*>(field.data);
                out.levels.assign(values, values + field.length);
            }
        }
        else if (name == "pool_mode" || name == "bin_rule")
        {
            if (field.type != PluginFieldType::kCHAR || field.length < 1 || field.data == nullptr)
            {
                out.error = name + " is not a non-empty kCHAR field";
                return out;
            }
            auto const* text = static_cast<char const*>(field.data);
            nulOk = nulOk && text[field.length - 1] == '\0';
            std::string const value(text, strnlen(text, static_cast<size_t>(field.length)));
            (name == "pool_mode" ? out.mode : out.rule) = value;
        }
        else
        {
            out.error = "unexpected field '" + name + "'";
            return out;
        }
    }
    out.stringsNulTerminated = nulOk;
    out.ok = haveLevels && !out.mode.empty() && !out.rule.empty();
    if (!out.ok)
    {
        out.error = "levels, pool_mode and bin_rule must all be serialized";
    }
    return out;
}

int64_t sppFeatures(std::vector<int32_t> const& levels, int64_t channels)
{
    int64_t bins = 0;
    for (int32_t const level : levels)
    {
        bins += static_cast<int64_t>(level) * level;
    }
    return channels * bins;
}

bool expectedInputSupported(DataType type, TensorFormat format)
{
    bool const bf16 =
#if NV_TENSORRT_MAJOR >= 9
        type == DataType::kBF16;
#else
        false;
#endif
    if (format == TensorFormat::kLINEAR)
    {
        return type == DataType::kFLOAT || type == DataType::kHALF || type == DataType::kINT8 || bf16;
    }
    if (format == TensorFormat::kHWC8)
    {
        return type == DataType::kHALF || bf16;
    }
    if (format == TensorFormat::kHWC)
    {
        return type == DataType::kFLOAT;
    }
    return false;
}

std::vector<DataType> allDataTypes()
{
    std::vector<DataType> types;
    for (int32_t i = 0; i < nvinfer1::EnumMax<DataType>(); ++i)
    {
        types.push_back(static_cast<DataType>(i));
    }
    return types;
}

std::vector<TensorFormat> allFormats()
{
    std::vector<TensorFormat> formats;
    for (int32_t i = 0; i < nvinfer1::EnumMax<TensorFormat>(); ++i)
    {
        formats.push_back(static_cast<TensorFormat>(i));
    }
    return formats;
}

std::vector<std::pair<DataType, TensorFormat>> supportedInputs()
{
    std::vector<std::pair<DataType, TensorFormat>> list;
    for (DataType const type : allDataTypes())
    {
        for (TensorFormat const format : allFormats())
        {
            if (expectedInputSupported(type, format))
            {
                list.emplace_back(type, format);
            }
        }
    }
    return list;
}

std::vector<Shape> enqueueShapes()
{
    // Odd sizes, H < L (empty caffe bins), a large plane, C not a multiple of 8 (kHWC8 padding), and N = 1 and 3.
    return {{2, 3, 13, 17}, {1, 8, 64, 48}, {3, 5, 3, 2}, {1, 11, 7, 30}};
}

nvinfer1::Dims makeDims(std::initializer_list<int64_t> values)
{
    nvinfer1::Dims dims{};
    dims.nbDims = static_cast<int32_t>(values.size());
    int32_t i = 0;
    for (int64_t const value : values)
    {
        dims.d[i++] = static_cast<decltype(dims.d[0] + 0)>(value);
    }
    return dims;
}

namespace
{
constexpr float kINT8_SCALE = 0.05F;
}

nvinfer1::PluginTensorDesc inputDesc(Shape shape, DataType type, TensorFormat format)
{
    nvinfer1::PluginTensorDesc desc{};
    desc.dims = makeDims({shape.n, shape.c, shape.h, shape.w});
    desc.type = type;
    desc.format = format;
    desc.scale = type == DataType::kINT8 ? kINT8_SCALE : 1.0F;
    return desc;
}

nvinfer1::PluginTensorDesc outputDesc(Shape shape, std::vector<int32_t> const& levels, DataType type)
{
    nvinfer1::PluginTensorDesc desc{};
    desc.dims = makeDims({shape.n, sppFeatures(levels, shape.c)});
    desc.type = type;
    desc.format = TensorFormat::kLINEAR;
    desc.scale = type == DataType::kINT8 ? kINT8_SCALE : 1.0F;
    return desc;
}

namespace
{

bool toSpp(DataType type, spp::DataType& out)
{
    switch (type)
    {
    case DataType::kFLOAT: out = spp::DataType::kFLOAT; return true;
    case DataType::kHALF: out = spp::DataType::kHALF; return true;
    case DataType::kINT8: out = spp::DataType::kINT8; return true;
#if NV_TENSORRT_MAJOR >= 9
    case DataType::kBF16: out = spp::DataType::kBF16; return true;
#endif
    default: return false;
    }
}

} // namespace

std::string checkSppEnqueue(SppConfigCase const& config, Shape shape, DataType type, TensorFormat format,
    EnqueueFunction const& enqueue, std::mt19937& rng)
{
    SppDesc dense{};
    if (!toSpp(type, dense.dtype))
    {
        return "harness: unsupported type";
    }
    PoolMode mode = PoolMode::kMAX;
    BinRule rule = BinRule::kADAPTIVE;
    if (!config.mode.empty() && !parsePoolMode(config.mode.c_str(), mode).ok())
    {
        return "harness: bad mode";
    }
    if (!config.rule.empty() && !parseBinRule(config.rule.c_str(), rule).ok())
    {
        return "harness: bad rule";
    }
    Status status = makePyramidConfig(
        config.levels.data(), static_cast<int32_t>(config.levels.size()), mode, rule, dense.pyramid);
    if (!status.ok())
    {
        return std::string("harness: ") + status.message();
    }
    dense.layout = Layout::kNCHW;
    dense.n = shape.n;
    dense.c = shape.c;
    dense.h = shape.h;
    dense.w = shape.w;

    size_t const elementBytes = elementSize(dense.dtype);
    size_t const inputCount = static_cast<size_t>(shape.n * shape.c * shape.h * shape.w);
    size_t const outputCount = static_cast<size_t>(outputElements(dense));
    std::vector<uint8_t> const nchw = randomTensor(dense.dtype, inputCount, rng);
    std::vector<uint8_t> want(outputCount * elementBytes);
    status = sppReferenceCpu(dense, nchw.data(), want.data());
    if (!status.ok())
    {
        return std::string("reference failed: ") + status.message();
    }

    std::vector<uint8_t> input = nchw;
    if (format == TensorFormat::kHWC8 || format == TensorFormat::kHWC)
    {
        int64_t const stride = format == TensorFormat::kHWC8 ? (shape.c + 7) / 8 * 8 : shape.c;
        input = packNhwc(nchw, dense.dtype, shape.n, shape.c, shape.h, shape.w, stride, 0xFF);
    }

    DeviceBuffer deviceInput(input.size());
    DeviceBuffer deviceOutput(outputCount * elementBytes);
    if (!deviceInput.ok() || !deviceOutput.ok())
    {
        return "cudaMalloc failed";
    }
    deviceInput.upload(input);
    cudaStream_t stream{};
    if (cudaStreamCreate(&stream) != cudaSuccess)
    {
        return "cudaStreamCreate failed";
    }
    std::string failure;
    nvinfer1::PluginTensorDesc const in = inputDesc(shape, type, format);
    nvinfer1::PluginTensorDesc const out = outputDesc(shape, config.levels, type);
    for (uint8_t const poison : {uint8_t{0xFF}, uint8_t{0x5A}})
    {
        deviceOutput.fill(poison);
        int32_t const result = enqueue(in, out, deviceInput.get(), deviceOutput.get(), stream);
        cudaError_t const error = cudaStreamSynchronize(stream);
        if (result != 0 || error != cudaSuccess)
        {
            failure = "enqueue returned " + std::to_string(result) + ", stream status " + cudaGetErrorName(error);
            break;
        }
        std::vector<uint8_t> const got = deviceOutput.download();
        std::string detail;
        if (!compareTensors(got, want, dense.dtype, mode, outputCount, detail))
        {
            failure = "poison 0x" + std::to_string(poison) + ": " + detail;
            break;
        }
    }
    cudaStreamDestroy(stream);
    return failure;
}

} // namespace harness
} // namespace spp
