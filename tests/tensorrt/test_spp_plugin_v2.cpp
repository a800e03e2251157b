// Conformance driver for the IPluginV2DynamicExt build of SpatialPyramidPooling (TensorRT 8.6 headers). It loads
// libspp_trt_plugin.so with dlopen and makes TensorRT 8.6's calls: getPluginCreators, getFieldNames, createPlugin
// from ONNX-parser-style fields, getOutputDataType, getOutputDimensions (symbolic), supportsFormatCombination (every
// type x format), configurePlugin (min/opt/max), getWorkspaceSize, serialize -> deserializePlugin through the byte
// buffer (and corrupted buffers), clone, attachToContext, initialize, and enqueue (GPU only) with configurePlugin
// at runtime for each new shape.
#include "harness/exprBuilder.h"
#include "harness/fieldBuilder.h"
#include "harness/pluginLibrary.h"
#include "harness/pluginTest.h"
#include "harness/sppCases.h"
#include "harness/tensors.h"

#include "spp/spp.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>

#if NV_TENSORRT_MAJOR >= 10
#error "test_spp_plugin_v2.cpp is the TensorRT 8.6 driver"
#endif

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations" // IPluginV2 is deprecated in 8.6, and it is what 8.6 loads
#endif

namespace spp
{
namespace harness
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DynamicPluginTensorDesc;
using nvinfer1::PluginTensorDesc;
using nvinfer1::TensorFormat;

struct Destroy
{
    void operator()(nvinfer1::IPluginV2* plugin) const
    {
        if (plugin != nullptr)
        {
            plugin->destroy();
        }
    }
};
using PluginPtr = std::unique_ptr<nvinfer1::IPluginV2DynamicExt, Destroy>;

//! TensorRT checks the version word's top byte before treating an IPluginV2 as IPluginV2DynamicExt.
PluginPtr asDynamic(nvinfer1::IPluginV2* plugin)
{
    if (plugin == nullptr)
    {
        return PluginPtr(nullptr);
    }
    int32_t const version = plugin->getTensorRTVersion();
    if (((static_cast<uint32_t>(version) >> 24U) & 0xFFU) != 3U) // PluginVersion::kV2_DYNAMICEXT
    {
        plugin->destroy();
        ADD_FAILURE() << "getTensorRTVersion() = " << version << " is not an IPluginV2DynamicExt";
        return PluginPtr(nullptr);
    }
    return PluginPtr(static_cast<nvinfer1::IPluginV2DynamicExt*>(plugin));
}

DynamicPluginTensorDesc dynamicDesc(nvinfer1::Dims dims, nvinfer1::Dims min, nvinfer1::Dims max, DataType type,
    TensorFormat format)
{
    DynamicPluginTensorDesc desc{};
    desc.desc.dims = dims;
    desc.desc.type = type;
    desc.desc.format = format;
    desc.desc.scale = type == DataType::kINT8 ? 0.05F : 1.0F;
    desc.min = min;
    desc.max = max;
    return desc;
}

class SppPluginV2Test : public PluginLibraryTest
{
protected:
    void SetUp() override
    {
        ASSERT_TRUE(sLibrary->ok()) << sLibrary->error();
        mCreator = sLibrary->findCreator(kSPP_PLUGIN_NAME, kSPP_PLUGIN_VERSION);
        ASSERT_NE(mCreator, nullptr);
        sLogger->clear();
    }

    PluginPtr createFromOnnx(SppConfigCase const& config)
    {
        FieldList fields;
        sppOnnxAttributes(config).toFields(mCreator->getFieldNames(), fields);
        return asDynamic(mCreator->createPlugin("spp_node", fields.collection()));
    }

    //! serialize into a byte buffer, then deserializePlugin, as engine building and loading do.
    PluginPtr roundTrip(nvinfer1::IPluginV2DynamicExt const& plugin, std::vector<uint8_t>* bytes = nullptr)
    {
        std::vector<uint8_t> buffer(plugin.getSerializationSize());
        plugin.serialize(buffer.data());
        if (bytes != nullptr)
        {
            *bytes = buffer;
        }
        return asDynamic(mCreator->deserializePlugin("spp_node", buffer.data(), buffer.size()));
    }

    nvinfer1::IPluginCreator* mCreator{nullptr};
};


TEST_F(SppPluginV2Test, LibraryExportsOnlyThe86EntryPoints)
{
    EXPECT_NE(sLibrary->symbol("getPluginCreators"), nullptr);
    EXPECT_NE(sLibrary->symbol("setLoggerFinder"), nullptr);
    EXPECT_EQ(sLibrary->symbol("getCreators"), nullptr);
    EXPECT_EQ(sLibrary->symbol("cudaMalloc"), nullptr);
    EXPECT_EQ(sLibrary->symbol("getPluginRegistry"), nullptr);
    EXPECT_GE(sLibrary->creators().size(), 1U);
}

TEST_F(SppPluginV2Test, CreatorNameVersionNamespaceAndFieldNames)
{
    EXPECT_STREQ(mCreator->getPluginName(), "SpatialPyramidPooling");
    EXPECT_STREQ(mCreator->getPluginVersion(), "1");
    EXPECT_STREQ(mCreator->getPluginNamespace(), "");
    nvinfer1::PluginFieldCollection const* const names = mCreator->getFieldNames();
    ASSERT_NE(names, nullptr);
    ASSERT_EQ(names->nbFields, 3);
    EXPECT_STREQ(names->fields[0].name, "levels");
    EXPECT_STREQ(names->fields[1].name, "pool_mode");
    EXPECT_STREQ(names->fields[2].name, "bin_rule");
}

TEST_F(SppPluginV2Test, CreateFromOnnxFieldsSerializeAndDeserialize)
{
    for (auto const& config : sppConfigs())
    {
        SCOPED_TRACE(config.label());
        PluginPtr p = createFromOnnx(config);
        ASSERT_NE(p, nullptr) << sLogger->text();
        EXPECT_STREQ(p->getPluginType(), "SpatialPyramidPooling");
        EXPECT_STREQ(p->getPluginVersion(), "1");
        EXPECT_STREQ(p->getPluginNamespace(), "");
        EXPECT_EQ(p->getNbOutputs(), 1);
        EXPECT_EQ(p->initialize(), 0);
        std::vector<uint8_t> first;
        PluginPtr back = roundTrip(*p, &first);
        ASSERT_NE(back, nullptr) << sLogger->text();
        std::vector<uint8_t> second;
        PluginPtr again = roundTrip(*back, &second);
        ASSERT_NE(again, nullptr);
        EXPECT_EQ(first, second) << "serialization must be stable across a round trip";
        PluginPtr cloned(p->clone());
        ASSERT_NE(cloned, nullptr);
        p->terminate();
        p.reset();
        std::vector<uint8_t> third;
        PluginPtr fromClone = roundTrip(*cloned, &third);
        EXPECT_EQ(first, third);
        cloned->attachToContext(nullptr, nullptr, nullptr);
        cloned->detachFromContext();
        cloned->setPluginNamespace("ns");
        EXPECT_STREQ(cloned->getPluginNamespace(), "ns");
    }
    EXPECT_EQ(sLogger->errorCount(), 0U) << sLogger->text();
}

TEST_F(SppPluginV2Test, MalformedFieldsFailCleanlyWithAMessage)
{
    for (auto const& bad : malformedSppCases())
    {
        SCOPED_TRACE(bad.label);
        sLogger->clear();
        FieldList fields;
        nvinfer1::PluginFieldCollection const* fc = nullptr;
        if (bad.custom != nullptr)
        {
            fc = bad.custom();
        }
        else if (!bad.nullCollection)
        {
            bad.build(fields);
            fc = fields.collection();
        }
        nvinfer1::IPluginV2* const plugin = mCreator->createPlugin("bad_node", fc);
        EXPECT_EQ(plugin, nullptr);
        if (plugin != nullptr)
        {
            plugin->destroy();
        }
        EXPECT_TRUE(sLogger->errorContains(bad.words)) << "logged:\n" << sLogger->text();
    }
}

TEST_F(SppPluginV2Test, CorruptSerializedBuffersFailCleanly)
{
    PluginPtr p = createFromOnnx(sppConfigs()[1]);
    ASSERT_NE(p, nullptr);
    std::vector<uint8_t> bytes(p->getSerializationSize());
    p->serialize(bytes.data());
    for (size_t length = 0; length < bytes.size(); ++length)
    {
        nvinfer1::IPluginV2* const plugin = mCreator->deserializePlugin("cut", bytes.data(), length);
        EXPECT_EQ(plugin, nullptr) << "truncated to " << length << " bytes";
        if (plugin != nullptr)
        {
            plugin->destroy();
        }
    }
    std::vector<uint8_t> longer = bytes;
    longer.push_back(0);
    EXPECT_EQ(mCreator->deserializePlugin("long", longer.data(), longer.size()), nullptr);
    std::vector<uint8_t> foreign = bytes;
    foreign[0] ^= 0xFFU;
    EXPECT_EQ(mCreator->deserializePlugin("magic", foreign.data(), foreign.size()), nullptr);
    EXPECT_EQ(mCreator->deserializePlugin("null", nullptr, 0), nullptr);
    EXPECT_TRUE(sLogger->errorContains({"cannot deserialize"})) << sLogger->text();
}

TEST_F(SppPluginV2Test, OutputTypeAndSymbolicDimensions)
{
    for (auto const& config : sppConfigs())
    {
        SCOPED_TRACE(config.label());
        PluginPtr p = createFromOnnx(config);
        ASSERT_NE(p, nullptr);
        for (DataType const type : allDataTypes())
        {
            EXPECT_EQ(p->getOutputDataType(0, &type, 1), type);
        }
        ExprBuilder builder;
        nvinfer1::DimsExprs in{};
        in.nbDims = 4;
        in.d[0] = builder.symbol(0, "N");
        in.d[1] = builder.symbol(1, "C");
        in.d[2] = builder.symbol(2, "H");
        in.d[3] = builder.symbol(3, "W");
        nvinfer1::DimsExprs const out = p->getOutputDimensions(0, &in, 1, builder);
        ASSERT_EQ(out.nbDims, 2) << sLogger->text();
        for (Shape const s : {Shape{1, 1, 1, 1}, Shape{2, 3, 13, 17}, Shape{7, 256, 224, 224}})
        {
            Bindings const values{{0, s.n}, {1, s.c}, {2, s.h}, {3, s.w}};
            EXPECT_EQ(asExpr(out.d[0])->evaluate(values), s.n);
            EXPECT_EQ(asExpr(out.d[1])->evaluate(values), sppFeatures(config.levels, s.c));
        }
        in.d[1] = builder.makeConstant(32);
        nvinfer1::DimsExprs const fixed = p->getOutputDimensions(0, &in, 1, builder);
        ASSERT_TRUE(fixed.d[1]->isConstant());
        EXPECT_EQ(fixed.d[1]->getConstantValue(), sppFeatures(config.levels, 32));
        in.nbDims = 3;
        EXPECT_LT(p->getOutputDimensions(0, &in, 1, builder).nbDims, 0);
        EXPECT_LT(p->getOutputDimensions(1, &in, 1, builder).nbDims, 0);
    }
}

TEST_F(SppPluginV2Test, SupportsFormatCombinationExhaustively)
{
    PluginPtr p = createFromOnnx(sppConfigs()[0]);
    ASSERT_NE(p, nullptr);
    int32_t accepted = 0;
    for (DataType const inType : allDataTypes())
    {
        for (TensorFormat const inFormat : allFormats())
        {
            PluginTensorDesc io[2]{};
            io[0].dims = makeDims({-1, 3, -1, -1});
            io[0].type = inType;
            io[0].format = inFormat;
            io[1].dims = makeDims({-1, 63});
            bool const inputOk = p->supportsFormatCombination(0, io, 1, 1);
            EXPECT_EQ(inputOk, expectedInputSupported(inType, inFormat));
            if (!inputOk)
            {
                continue;
            }
            ++accepted;
            for (DataType const outType : allDataTypes())
            {
                for (TensorFormat const outFormat : allFormats())
                {
                    io[1].type = outType;
                    io[1].format = outFormat;
                    EXPECT_EQ(p->supportsFormatCombination(1, io, 1, 1),
                        outType == inType && outFormat == TensorFormat::kLINEAR);
                }
            }
        }
    }
    EXPECT_EQ(accepted, static_cast<int32_t>(supportedInputs().size()));
    EXPECT_LE(accepted, nvinfer1::IPluginV2DynamicExt::kFORMAT_COMBINATION_LIMIT);
}

TEST_F(SppPluginV2Test, ConfigurePluginWithMinMaxAndWorkspace)
{
    PluginPtr p = createFromOnnx(sppConfigs()[1]);
    ASSERT_NE(p, nullptr);
    for (auto const& [type, format] : supportedInputs())
    {
        DynamicPluginTensorDesc in = dynamicDesc(makeDims({-1, 16, -1, -1}), makeDims({1, 16, 8, 8}),
            makeDims({8, 16, 256, 320}), type, format);
        DynamicPluginTensorDesc out = dynamicDesc(
            makeDims({-1, 336}), makeDims({1, 336}), makeDims({8, 336}), type, TensorFormat::kLINEAR);
        p->configurePlugin(&in, 1, &out, 1);
        PluginTensorDesc const concrete = inputDesc(Shape{8, 16, 256, 320}, type, format);
        PluginTensorDesc const concreteOut = outputDesc(Shape{8, 16, 256, 320}, sppConfigs()[1].levels, type);
        EXPECT_EQ(p->getWorkspaceSize(&concrete, 1, &concreteOut, 1), 0U);
    }
    EXPECT_EQ(sLogger->errorCount(), 0U) << sLogger->text();
    DynamicPluginTensorDesc in = dynamicDesc(
        makeDims({-1, 8, 8}), makeDims({1, 8, 8}), makeDims({1, 8, 8}), DataType::kFLOAT, TensorFormat::kLINEAR);
    DynamicPluginTensorDesc out = dynamicDesc(
        makeDims({-1, 168}), makeDims({1, 168}), makeDims({1, 168}), DataType::kFLOAT, TensorFormat::kLINEAR);
    p->configurePlugin(&in, 1, &out, 1);
    EXPECT_TRUE(sLogger->errorContains({"expects input [N, C, H, W]"})) << sLogger->text();
}

TEST_F(SppPluginV2Test, EnqueueReportsErrorsWithoutTouchingTheGpu)
{
    PluginPtr built = createFromOnnx(sppConfigs()[0]);
    ASSERT_NE(built, nullptr);
    PluginPtr p = roundTrip(*built);
    ASSERT_NE(p, nullptr);
    Shape const shape{1, 3, 8, 8};
    PluginTensorDesc const in = inputDesc(shape, DataType::kFLOAT, TensorFormat::kLINEAR);
    PluginTensorDesc out = outputDesc(shape, sppConfigs()[0].levels, DataType::kFLOAT);
    void const* inputs[1]{nullptr};
    void* outputs[1]{nullptr};
    EXPECT_NE(p->enqueue(&in, &out, inputs, outputs, nullptr, nullptr), 0);
    EXPECT_TRUE(sLogger->errorContains({"enqueue failed", "cudaErrorInvalidValue"})) << sLogger->text();
    out.dims.d[1] = 5;
    EXPECT_NE(p->enqueue(&in, &out, inputs, outputs, nullptr, nullptr), 0);
    EXPECT_TRUE(sLogger->errorContains({"output dims must be"})) << sLogger->text();
}

TEST_F(SppPluginV2Test, GpuEnqueueMatchesTheReferenceAtSeveralSizes)
{
    std::string reason;
    if (!gpuAvailable(reason))
    {
        if (gpuRequired())
        {
            FAIL() << "SPP_TRT_REQUIRE_GPU is set but " << reason;
        }
        std::printf("SKIPPED GPU enqueue check: %s\n", reason.c_str());
        GTEST_SKIP() << reason;
    }
    std::mt19937 rng(1234);
    for (auto const& config : sppConfigs())
    {
        for (auto const& [type, format] : supportedInputs())
        {
            SCOPED_TRACE(config.label() + " type " + std::to_string(static_cast<int32_t>(type)) + " format "
                + std::to_string(static_cast<int32_t>(format)));
            PluginPtr built = createFromOnnx(config);
            ASSERT_NE(built, nullptr);
            int64_t const features = sppFeatures(config.levels, 1);
            DynamicPluginTensorDesc in = dynamicDesc(
                makeDims({-1, -1, -1, -1}), makeDims({0, 1, 1, 1}), makeDims({4, 16, 64, 64}), type, format);
            DynamicPluginTensorDesc out = dynamicDesc(makeDims({-1, -1}), makeDims({0, features}),
                makeDims({4, 16 * features}), type, TensorFormat::kLINEAR);
            built->configurePlugin(&in, 1, &out, 1);
            PluginPtr p = roundTrip(*built);
            ASSERT_NE(p, nullptr);
            p->attachToContext(nullptr, nullptr, nullptr);
            ASSERT_EQ(p->initialize(), 0);
            auto const run = [&p](PluginTensorDesc const& inDesc, PluginTensorDesc const& outDesc, void const* input,
                                 void* output, cudaStream_t stream) -> int32_t {
                // TensorRT 8.6 calls configurePlugin with the concrete shape when it changes.
                DynamicPluginTensorDesc dynIn{};
                dynIn.desc = inDesc;
                dynIn.min = inDesc.dims;
                dynIn.max = inDesc.dims;
                DynamicPluginTensorDesc dynOut{};
                dynOut.desc = outDesc;
                dynOut.min = outDesc.dims;
                dynOut.max = outDesc.dims;
                p->configurePlugin(&dynIn, 1, &dynOut, 1);
                void const* inputs[1]{input};
                void* outputs[1]{output};
                return p->enqueue(&inDesc, &outDesc, inputs, outputs, nullptr, stream);
            };
            for (Shape const shape : enqueueShapes())
            {
                std::string const failure = checkSppEnqueue(config, shape, type, format, run, rng);
                EXPECT_EQ(failure, "") << "shape [" << shape.n << ", " << shape.c << ", " << shape.h << ", "
                                       << shape.w << "]\n"
                                       << sLogger->text();
            }
            p->terminate();
        }
    }
    EXPECT_EQ(sLogger->errorCount(), 0U) << sLogger->text();
}

} // namespace
} // namespace harness
} // namespace spp
