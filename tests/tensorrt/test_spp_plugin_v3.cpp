// Conformance driver for the IPluginV3 build of SpatialPyramidPooling (TensorRT >= 10 headers). It loads
// libspp_trt_plugin.so with dlopen and makes the calls TensorRT makes, in TensorRT's order: getCreators,
// getFieldNames, createPlugin(kBUILD) from ONNX-parser-style fields, getOutputDataTypes, getOutputShapes (symbolic),
// supportsFormatCombination (every type x format), configurePlugin (min/opt/max), getWorkspaceSize,
// getFieldsToSerialize -> createPlugin(kRUNTIME), clone, attachToContext, onShapeChange, enqueue (GPU only).
#include "harness/exprBuilder.h"
#include "harness/fieldBuilder.h"
#include "harness/pluginLibrary.h"
#include "harness/pluginTest.h"
#include "harness/sppCases.h"
#include "harness/tensors.h"

#include "spp/cuda.h"
#include "spp/spp.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>

#if NV_TENSORRT_MAJOR < 10
#error "test_spp_plugin_v3.cpp needs TensorRT >= 10 headers"
#endif

namespace spp
{
namespace harness
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DynamicPluginTensorDesc;
using nvinfer1::PluginCapabilityType;
using nvinfer1::PluginTensorDesc;
using nvinfer1::TensorFormat;
using nvinfer1::TensorRTPhase;

class ResourceContext final : public nvinfer1::IPluginResourceContext
{
public:
    nvinfer1::IGpuAllocator* getGpuAllocator() const noexcept override
    {
        return nullptr;
    }
    nvinfer1::IErrorRecorder* getErrorRecorder() const noexcept override
    {
        return nullptr;
    }
};

//! A plugin and its capability interfaces, obtained the way TensorRT does (check the interface kind, then cast).
struct V3Plugin
{
    std::unique_ptr<nvinfer1::IPluginV3> plugin;
    nvinfer1::IPluginV3OneCore* core{nullptr};
    nvinfer1::IPluginV3OneBuild* build{nullptr};
    nvinfer1::IPluginV3OneRuntime* runtime{nullptr};

    explicit V3Plugin(nvinfer1::IPluginV3* raw)
        : plugin(raw)
    {
        if (raw == nullptr)
        {
            return;
        }
        auto* const c = raw->getCapabilityInterface(PluginCapabilityType::kCORE);
        auto* const b = raw->getCapabilityInterface(PluginCapabilityType::kBUILD);
        auto* const r = raw->getCapabilityInterface(PluginCapabilityType::kRUNTIME);
        if (c != nullptr && std::strcmp(c->getInterfaceInfo().kind, "PLUGIN_V3ONE_CORE") == 0)
        {
            core = static_cast<nvinfer1::IPluginV3OneCore*>(c);
        }
        if (b != nullptr && std::strcmp(b->getInterfaceInfo().kind, "PLUGIN_V3ONE_BUILD") == 0)
        {
            build = static_cast<nvinfer1::IPluginV3OneBuild*>(b);
        }
        if (r != nullptr && std::strcmp(r->getInterfaceInfo().kind, "PLUGIN_V3ONE_RUNTIME") == 0)
        {
            runtime = static_cast<nvinfer1::IPluginV3OneRuntime*>(r);
        }
    }
    bool complete() const
    {
        return plugin != nullptr && core != nullptr && build != nullptr && runtime != nullptr;
    }
};

DynamicPluginTensorDesc dynamicDesc(nvinfer1::Dims dims, nvinfer1::Dims min, nvinfer1::Dims opt, nvinfer1::Dims max,
    DataType type, TensorFormat format)
{
    DynamicPluginTensorDesc desc{};
    desc.desc.dims = dims;
    desc.desc.type = type;
    desc.desc.format = format;
    desc.desc.scale = type == DataType::kINT8 ? 0.05F : 1.0F;
    desc.min = min;
    desc.opt = opt;
    desc.max = max;
    return desc;
}

class SppPluginV3Test : public PluginLibraryTest
{
protected:
    void SetUp() override
    {
        ASSERT_TRUE(sLibrary->ok()) << sLibrary->error();
        auto* const creator = sLibrary->findCreator(kSPP_PLUGIN_NAME, kSPP_PLUGIN_VERSION);
        ASSERT_NE(creator, nullptr) << "no creator " << kSPP_PLUGIN_NAME << " version " << kSPP_PLUGIN_VERSION;
        mCreator = static_cast<nvinfer1::IPluginCreatorV3One*>(creator);
        sLogger->clear();
    }

    //! createPlugin from the ONNX attributes of `config`, filtered and converted as the ONNX parser does.
    V3Plugin createFromOnnx(SppConfigCase const& config, TensorRTPhase phase = TensorRTPhase::kBUILD)
    {
        FieldList fields;
        sppOnnxAttributes(config).toFields(mCreator->getFieldNames(), fields);
        return V3Plugin(mCreator->createPlugin("spp_node", fields.collection(), phase));
    }

    //! What TensorRT does when it serializes a plugin and deserializes it again.
    V3Plugin roundTrip(V3Plugin& built)
    {
        nvinfer1::PluginFieldCollection const* const fc = built.runtime->getFieldsToSerialize();
        return V3Plugin(mCreator->createPlugin("spp_node", fc, TensorRTPhase::kRUNTIME));
    }

    nvinfer1::IPluginCreatorV3One* mCreator{nullptr};
};


TEST_F(SppPluginV3Test, LibraryExportsOnlyTheV3EntryPoints)
{
    EXPECT_NE(sLibrary->symbol("getCreators"), nullptr);
    EXPECT_NE(sLibrary->symbol("setLoggerFinder"), nullptr);
    EXPECT_EQ(sLibrary->symbol("getPluginCreators"), nullptr) << "the TensorRT 8.6 entry point in a V3 build";
    EXPECT_EQ(sLibrary->symbol("cudaMalloc"), nullptr) << "the static CUDA runtime must not be exported";
    EXPECT_EQ(sLibrary->symbol("getPluginRegistry"), nullptr) << "libnvinfer must not be linked";
    auto const creators = sLibrary->creators();
    ASSERT_GE(creators.size(), 1U);
    for (auto* const creator : creators)
    {
        ASSERT_NE(creator, nullptr);
        EXPECT_STREQ(creator->getInterfaceInfo().kind, "PLUGIN CREATOR_V3ONE");
        EXPECT_EQ(creator->getInterfaceInfo().major, 1);
    }
}

TEST_F(SppPluginV3Test, CreatorNameVersionNamespaceAndFieldNames)
{
    EXPECT_STREQ(mCreator->getPluginName(), "SpatialPyramidPooling");
    EXPECT_STREQ(mCreator->getPluginVersion(), "1");
    EXPECT_STREQ(mCreator->getPluginNamespace(), "");
    nvinfer1::PluginFieldCollection const* const names = mCreator->getFieldNames();
    ASSERT_NE(names, nullptr);
    ASSERT_EQ(names->nbFields, 3);
    EXPECT_STREQ(names->fields[0].name, "levels");
    EXPECT_EQ(names->fields[0].type, nvinfer1::PluginFieldType::kINT32);
    EXPECT_STREQ(names->fields[1].name, "pool_mode");
    EXPECT_EQ(names->fields[1].type, nvinfer1::PluginFieldType::kCHAR);
    EXPECT_STREQ(names->fields[2].name, "bin_rule");
    EXPECT_EQ(names->fields[2].type, nvinfer1::PluginFieldType::kCHAR);
}

TEST_F(SppPluginV3Test, CreateFromOnnxFieldsAndCapabilities)
{
    for (auto const& config : sppConfigs())
    {
        SCOPED_TRACE(config.label());
        V3Plugin p = createFromOnnx(config);
        ASSERT_TRUE(p.complete()) << sLogger->text();
        EXPECT_STREQ(p.core->getPluginName(), "SpatialPyramidPooling");
        EXPECT_STREQ(p.core->getPluginVersion(), "1");
        EXPECT_STREQ(p.core->getPluginNamespace(), "");
        EXPECT_STREQ(p.plugin->getInterfaceInfo().kind, "PLUGIN");
        EXPECT_EQ(p.build->getNbOutputs(), 1);
        SppFields const fields = readSppFields(p.runtime->getFieldsToSerialize());
        ASSERT_TRUE(fields.ok) << fields.error;
        EXPECT_EQ(fields.levels, config.levels);
        EXPECT_EQ(fields.mode, config.mode.empty() ? "max" : config.mode);
        EXPECT_EQ(fields.rule, config.rule.empty() ? "adaptive" : config.rule);
    }
    EXPECT_EQ(sLogger->errorCount(), 0U) << sLogger->text();
}

TEST_F(SppPluginV3Test, PythonStyleStringsWithoutNulAndUnknownFieldsAreAccepted)
{
    FieldList fields;
    fields.int32s("levels", {1, 3}).string("pool_mode", "avg", false).string("bin_rule", "caffe", false);
    fields.floats("not_a_field", {1.0F});
    V3Plugin p(mCreator->createPlugin("py", fields.collection(), TensorRTPhase::kBUILD));
    ASSERT_TRUE(p.complete()) << sLogger->text();
    SppFields const read = readSppFields(p.runtime->getFieldsToSerialize());
    EXPECT_EQ(read.mode, "avg");
    EXPECT_EQ(read.rule, "caffe");
    EXPECT_NE(sLogger->text().find("not_a_field"), std::string::npos) << "unknown fields are reported as warnings";
    EXPECT_EQ(sLogger->errorCount(), 0U);
}

TEST_F(SppPluginV3Test, MalformedFieldsFailCleanlyWithAMessage)
{
    for (auto const& bad : malformedSppCases())
    {
        for (TensorRTPhase const phase : {TensorRTPhase::kBUILD, TensorRTPhase::kRUNTIME})
        {
            SCOPED_TRACE(bad.label + (phase == TensorRTPhase::kBUILD ? " (kBUILD)" : " (kRUNTIME)"));
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
            nvinfer1::IPluginV3* const plugin = mCreator->createPlugin("bad_node", fc, phase);
            EXPECT_EQ(plugin, nullptr);
            delete plugin;
            EXPECT_TRUE(sLogger->errorContains(bad.words)) << "logged:\n" << sLogger->text();
        }
    }
}

TEST_F(SppPluginV3Test, OutputDataTypesFollowTheInput)
{
    V3Plugin p = createFromOnnx(sppConfigs()[0]);
    ASSERT_TRUE(p.complete());
    for (DataType const type : allDataTypes())
    {
        DataType out = DataType::kBOOL;
        ASSERT_EQ(p.build->getOutputDataTypes(&out, 1, &type, 1), 0);
        EXPECT_EQ(out, type);
    }
    DataType out[2]{};
    DataType const in[2]{DataType::kFLOAT, DataType::kFLOAT};
    EXPECT_NE(p.build->getOutputDataTypes(out, 2, in, 1), 0);
    EXPECT_NE(p.build->getOutputDataTypes(out, 1, in, 2), 0);
}

TEST_F(SppPluginV3Test, OutputShapesAreSymbolicAndEvaluateForEveryShape)
{
    for (auto const& config : sppConfigs())
    {
        SCOPED_TRACE(config.label());
        V3Plugin p = createFromOnnx(config);
        ASSERT_TRUE(p.complete());

        // All four dims dynamic.
        ExprBuilder builder;
        nvinfer1::DimsExprs in{};
        in.nbDims = 4;
        in.d[0] = builder.symbol(0, "N");
        in.d[1] = builder.symbol(1, "C");
        in.d[2] = builder.symbol(2, "H");
        in.d[3] = builder.symbol(3, "W");
        nvinfer1::DimsExprs out{};
        ASSERT_EQ(p.build->getOutputShapes(&in, 1, nullptr, 0, &out, 1, builder), 0) << sLogger->text();
        ASSERT_EQ(out.nbDims, 2);
        Expr const* const d0 = asExpr(out.d[0]);
        Expr const* const d1 = asExpr(out.d[1]);
        ASSERT_NE(d0, nullptr);
        ASSERT_NE(d1, nullptr);
        EXPECT_TRUE(builder.owns(d0) && builder.owns(d1));
        for (Shape const s : {Shape{1, 1, 1, 1}, Shape{2, 3, 13, 17}, Shape{7, 256, 224, 224}, Shape{0, 64, 5, 5}})
        {
            Bindings const values{{0, s.n}, {1, s.c}, {2, s.h}, {3, s.w}};
            EXPECT_EQ(d0->evaluate(values), s.n) << d0->toString();
            EXPECT_EQ(d1->evaluate(values), sppFeatures(config.levels, s.c)) << d1->toString();
        }

        // Static C: the feature count is a build-time constant.
        ExprBuilder constants;
        nvinfer1::DimsExprs fixed{};
        fixed.nbDims = 4;
        fixed.d[0] = constants.symbol(0, "N");
        fixed.d[1] = constants.makeConstant(96);
        fixed.d[2] = constants.symbol(2, "H");
        fixed.d[3] = constants.symbol(3, "W");
        ASSERT_EQ(p.build->getOutputShapes(&fixed, 1, nullptr, 0, &out, 1, constants), 0);
        ASSERT_TRUE(out.d[1]->isConstant());
        EXPECT_EQ(out.d[1]->getConstantValue(), sppFeatures(config.levels, 96));
    }
}

TEST_F(SppPluginV3Test, OutputShapesRejectWrongRankAndCounts)
{
    V3Plugin p = createFromOnnx(sppConfigs()[0]);
    ASSERT_TRUE(p.complete());
    ExprBuilder builder;
    nvinfer1::DimsExprs in{};
    in.nbDims = 3;
    in.d[0] = builder.symbol(0, "C");
    in.d[1] = builder.symbol(1, "H");
    in.d[2] = builder.symbol(2, "W");
    nvinfer1::DimsExprs out{};
    EXPECT_NE(p.build->getOutputShapes(&in, 1, nullptr, 0, &out, 1, builder), 0);
    EXPECT_TRUE(sLogger->errorContains({"4-D input", "3-D"})) << sLogger->text();
    nvinfer1::DimsExprs two[2]{};
    EXPECT_NE(p.build->getOutputShapes(two, 2, nullptr, 0, &out, 1, builder), 0);
    // C * sum(L^2) must fit in int32.
    ExprBuilder big;
    nvinfer1::DimsExprs huge{};
    huge.nbDims = 4;
    huge.d[0] = big.symbol(0, "N");
    huge.d[1] = big.makeConstant(int64_t{1} << 30);
    huge.d[2] = big.symbol(2, "H");
    huge.d[3] = big.symbol(3, "W");
    EXPECT_NE(p.build->getOutputShapes(&huge, 1, nullptr, 0, &out, 1, big), 0);
}

TEST_F(SppPluginV3Test, SupportsFormatCombinationExhaustively)
{
    V3Plugin p = createFromOnnx(sppConfigs()[0]);
    ASSERT_TRUE(p.complete());
    nvinfer1::Dims const inDims = makeDims({-1, 3, -1, -1});
    nvinfer1::Dims const outDims = makeDims({-1, 63});
    int32_t accepted = 0;
    for (DataType const inType : allDataTypes())
    {
        for (TensorFormat const inFormat : allFormats())
        {
            DynamicPluginTensorDesc io[2]{};
            io[0] = dynamicDesc(inDims, inDims, inDims, inDims, inType, inFormat);
            io[1] = dynamicDesc(outDims, outDims, outDims, outDims, DataType::kFLOAT, TensorFormat::kLINEAR);
            bool const inputOk = p.build->supportsFormatCombination(0, io, 1, 1);
            EXPECT_EQ(inputOk, expectedInputSupported(inType, inFormat))
                << "input " << static_cast<int32_t>(inType) << "/" << static_cast<int32_t>(inFormat);
            if (!inputOk)
            {
                continue;
            }
            ++accepted;
            for (DataType const outType : allDataTypes())
            {
                for (TensorFormat const outFormat : allFormats())
                {
                    io[1].desc.type = outType;
                    io[1].desc.format = outFormat;
                    bool const expected = outType == inType && outFormat == TensorFormat::kLINEAR;
                    EXPECT_EQ(p.build->supportsFormatCombination(1, io, 1, 1), expected)
                        << "input " << static_cast<int32_t>(inType) << "/" << static_cast<int32_t>(inFormat)
                        << " output " << static_cast<int32_t>(outType) << "/" << static_cast<int32_t>(outFormat);
                }
            }
        }
    }
    EXPECT_EQ(accepted, static_cast<int32_t>(supportedInputs().size()));
    DynamicPluginTensorDesc io[2]{};
    EXPECT_FALSE(p.build->supportsFormatCombination(2, io, 1, 1));
    EXPECT_FALSE(p.build->supportsFormatCombination(-1, io, 1, 1));
    EXPECT_LE(accepted, p.build->getFormatCombinationLimit());
}

TEST_F(SppPluginV3Test, ConfigurePluginWithMinOptMaxAndWorkspace)
{
    V3Plugin p = createFromOnnx(sppConfigs()[1]);
    ASSERT_TRUE(p.complete());
    for (auto const& [type, format] : supportedInputs())
    {
        SCOPED_TRACE(static_cast<int32_t>(type) * 100 + static_cast<int32_t>(format));
        DynamicPluginTensorDesc in = dynamicDesc(makeDims({-1, 16, -1, -1}), makeDims({1, 16, 8, 8}),
            makeDims({4, 16, 64, 64}), makeDims({8, 16, 256, 320}), type, format);
        DynamicPluginTensorDesc out = dynamicDesc(makeDims({-1, 16 * 21}), makeDims({1, 16 * 21}),
            makeDims({4, 16 * 21}), makeDims({8, 16 * 21}), type, TensorFormat::kLINEAR);
        EXPECT_EQ(p.build->configurePlugin(&in, 1, &out, 1), 0) << sLogger->text();
        SppDesc maxDesc{};
        ASSERT_TRUE(makePyramidConfig(sppConfigs()[1].levels.data(), 3, PoolMode::kAVG, BinRule::kADAPTIVE,
            maxDesc.pyramid).ok());
        maxDesc.dtype = type == DataType::kFLOAT ? spp::DataType::kFLOAT
            : type == DataType::kHALF            ? spp::DataType::kHALF
            : type == DataType::kBF16            ? spp::DataType::kBF16
                                                 : spp::DataType::kINT8;
        maxDesc.layout = format == TensorFormat::kLINEAR ? Layout::kNCHW : Layout::kNHWC;
        maxDesc.channelStride = format == TensorFormat::kLINEAR ? 0 : 16;
        maxDesc.n = 8;
        maxDesc.c = 16;
        maxDesc.h = 256;
        maxDesc.w = 320;
        EXPECT_EQ(p.build->getWorkspaceSize(&in, 1, &out, 1), sppWorkspaceSize(maxDesc));
    }
    EXPECT_EQ(sLogger->errorCount(), 0U) << sLogger->text();

    // Wrong rank, wrong output format, and a profile maximum whose feature count overflows int32.
    DynamicPluginTensorDesc in3 = dynamicDesc(makeDims({-1, 8, 8}), makeDims({1, 8, 8}), makeDims({1, 8, 8}),
        makeDims({1, 8, 8}), DataType::kFLOAT, TensorFormat::kLINEAR);
    DynamicPluginTensorDesc out = dynamicDesc(
        makeDims({-1, 168}), makeDims({1, 168}), makeDims({1, 168}), makeDims({1, 168}), DataType::kFLOAT,
        TensorFormat::kLINEAR);
    EXPECT_NE(p.build->configurePlugin(&in3, 1, &out, 1), 0);
    DynamicPluginTensorDesc in = dynamicDesc(makeDims({-1, 8, -1, -1}), makeDims({1, 8, 4, 4}),
        makeDims({1, 8, 4, 4}), makeDims({1, 8, 4, 4}), DataType::kFLOAT, TensorFormat::kLINEAR);
    out.desc.format = TensorFormat::kHWC;
    EXPECT_NE(p.build->configurePlugin(&in, 1, &out, 1), 0);
    EXPECT_TRUE(sLogger->errorContains({"unsupported", "kHWC"})) << sLogger->text();
    out.desc.format = TensorFormat::kLINEAR;
    in.max = makeDims({1, int64_t{1} << 27, 4, 4});
    EXPECT_NE(p.build->configurePlugin(&in, 1, &out, 1), 0);
    EXPECT_TRUE(sLogger->errorContains({"profile maximum"})) << sLogger->text();
}

TEST_F(SppPluginV3Test, SerializeRoundTripCloneAndAttach)
{
    ResourceContext context;
    for (auto const& config : sppConfigs())
    {
        SCOPED_TRACE(config.label());
        V3Plugin built = createFromOnnx(config);
        ASSERT_TRUE(built.complete());
        nvinfer1::PluginFieldCollection const* const fc = built.runtime->getFieldsToSerialize();
        SppFields const first = readSppFields(fc);
        ASSERT_TRUE(first.ok) << first.error;
        EXPECT_EQ(first.levelsType, nvinfer1::PluginFieldType::kINT32);
        EXPECT_TRUE(first.stringsNulTerminated);

        V3Plugin runtime = roundTrip(built);
        ASSERT_TRUE(runtime.complete()) << sLogger->text();
        SppFields const second = readSppFields(runtime.runtime->getFieldsToSerialize());
        EXPECT_EQ(second.levels, first.levels);
        EXPECT_EQ(second.mode, first.mode);
        EXPECT_EQ(second.rule, first.rule);

        V3Plugin cloned(runtime.plugin->clone());
        ASSERT_TRUE(cloned.complete());
        EXPECT_NE(cloned.plugin.get(), runtime.plugin.get());
        runtime.plugin.reset(); // the clone must not depend on the original
        EXPECT_EQ(readSppFields(cloned.runtime->getFieldsToSerialize()).levels, first.levels);

        V3Plugin attached(cloned.runtime->attachToContext(&context));
        ASSERT_TRUE(attached.complete());
        EXPECT_NE(attached.plugin.get(), cloned.plugin.get());
        EXPECT_EQ(readSppFields(attached.runtime->getFieldsToSerialize()).rule, first.rule);
    }
}

TEST_F(SppPluginV3Test, OnShapeChangeChecksTheConcreteShape)
{
    V3Plugin built = createFromOnnx(sppConfigs()[0]);
    ASSERT_TRUE(built.complete());
    V3Plugin p = roundTrip(built);
    ASSERT_TRUE(p.complete());
    std::vector<int32_t> const levels = sppConfigs()[0].levels;
    Shape const shape{2, 3, 13, 17};
    for (auto const& [type, format] : supportedInputs())
    {
        PluginTensorDesc const in = inputDesc(shape, type, format);
        PluginTensorDesc const out = outputDesc(shape, levels, type);
        EXPECT_EQ(p.runtime->onShapeChange(&in, 1, &out, 1), 0) << sLogger->text();
    }
    PluginTensorDesc in = inputDesc(shape, DataType::kFLOAT, TensorFormat::kLINEAR);
    PluginTensorDesc out = outputDesc(shape, levels, DataType::kFLOAT);
    out.dims.d[1] += 1;
    EXPECT_NE(p.runtime->onShapeChange(&in, 1, &out, 1), 0);
    EXPECT_TRUE(sLogger->errorContains({"output dims must be [2, 63]"})) << sLogger->text();
    out = outputDesc(shape, levels, DataType::kHALF);
    EXPECT_NE(p.runtime->onShapeChange(&in, 1, &out, 1), 0);
    in = inputDesc(shape, DataType::kINT8, TensorFormat::kLINEAR);
    out = outputDesc(shape, levels, DataType::kINT8);
    out.scale = in.scale * 2.0F;
    EXPECT_NE(p.runtime->onShapeChange(&in, 1, &out, 1), 0);
    EXPECT_TRUE(sLogger->errorContains({"int8", "scale"})) << sLogger->text();
    in = inputDesc(shape, DataType::kFLOAT, TensorFormat::kCHW32);
    out = outputDesc(shape, levels, DataType::kFLOAT);
    EXPECT_NE(p.runtime->onShapeChange(&in, 1, &out, 1), 0);
    in = inputDesc(Shape{1, 3, 0, 5}, DataType::kFLOAT, TensorFormat::kLINEAR);
    out = outputDesc(Shape{1, 3, 0, 5}, levels, DataType::kFLOAT);
    EXPECT_NE(p.runtime->onShapeChange(&in, 1, &out, 1), 0);
    EXPECT_NE(p.runtime->onShapeChange(&in, 2, &out, 1), 0);
}

TEST_F(SppPluginV3Test, EnqueueReportsErrorsWithoutTouchingTheGpu)
{
    // A null input with a non-empty tensor is refused by the launcher before any CUDA call: non-zero + message.
    V3Plugin built = createFromOnnx(sppConfigs()[0]);
    ASSERT_TRUE(built.complete());
    V3Plugin p = roundTrip(built);
    ASSERT_TRUE(p.complete());
    Shape const shape{1, 3, 8, 8};
    PluginTensorDesc const in = inputDesc(shape, DataType::kFLOAT, TensorFormat::kLINEAR);
    PluginTensorDesc const out = outputDesc(shape, sppConfigs()[0].levels, DataType::kFLOAT);
    ASSERT_EQ(p.runtime->onShapeChange(&in, 1, &out, 1), 0);
    void const* inputs[1]{nullptr};
    void* outputs[1]{nullptr};
    EXPECT_NE(p.runtime->enqueue(&in, &out, inputs, outputs, nullptr, nullptr), 0);
    EXPECT_TRUE(sLogger->errorContains({"enqueue failed", "cudaErrorInvalidValue"})) << sLogger->text();
    EXPECT_NE(p.runtime->enqueue(nullptr, &out, inputs, outputs, nullptr, nullptr), 0);
    // An output that does not match the cached shape is re-checked, never launched into.
    PluginTensorDesc badOut = out;
    badOut.dims.d[1] = 5;
    EXPECT_NE(p.runtime->enqueue(&in, &badOut, inputs, outputs, nullptr, nullptr), 0);
    EXPECT_TRUE(sLogger->errorContains({"output dims must be"})) << sLogger->text();
}

TEST_F(SppPluginV3Test, GpuEnqueueMatchesTheReferenceAtSeveralSizes)
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
    ResourceContext context;
    for (auto const& config : sppConfigs())
    {
        for (auto const& [type, format] : supportedInputs())
        {
            SCOPED_TRACE(config.label() + " type " + std::to_string(static_cast<int32_t>(type)) + " format "
                + std::to_string(static_cast<int32_t>(format)));
            // Build phase: configure once for a profile covering every shape below.
            V3Plugin built = createFromOnnx(config);
            ASSERT_TRUE(built.complete());
            int64_t const features = sppFeatures(config.levels, 1);
            DynamicPluginTensorDesc in = dynamicDesc(makeDims({-1, -1, -1, -1}), makeDims({0, 1, 1, 1}),
                makeDims({2, 8, 32, 32}), makeDims({4, 16, 64, 64}), type, format);
            DynamicPluginTensorDesc out = dynamicDesc(makeDims({-1, -1}), makeDims({0, features}),
                makeDims({2, 8 * features}), makeDims({4, 16 * features}), type, TensorFormat::kLINEAR);
            ASSERT_EQ(built.build->configurePlugin(&in, 1, &out, 1), 0) << sLogger->text();
            ASSERT_EQ(built.build->getWorkspaceSize(&in, 1, &out, 1), 0U);
            // Runtime: deserialize, attach to a context, then enqueue several shapes without rebuilding.
            V3Plugin engine = roundTrip(built);
            ASSERT_TRUE(engine.complete());
            V3Plugin p(engine.runtime->attachToContext(&context));
            ASSERT_TRUE(p.complete());
            auto const run = [&p](PluginTensorDesc const& inDesc, PluginTensorDesc const& outDesc, void const* input,
                                 void* output, cudaStream_t stream) -> int32_t {
                int32_t const changed = p.runtime->onShapeChange(&inDesc, 1, &outDesc, 1);
                if (changed != 0)
                {
                    return changed;
                }
                void const* inputs[1]{input};
                void* outputs[1]{output};
                return p.runtime->enqueue(&inDesc, &outDesc, inputs, outputs, nullptr, stream);
            };
            for (Shape const shape : enqueueShapes())
            {
                std::string const failure = checkSppEnqueue(config, shape, type, format, run, rng);
                EXPECT_EQ(failure, "") << "shape [" << shape.n << ", " << shape.c << ", " << shape.h << ", "
                                       << shape.w << "]\n"
                                       << sLogger->text();
            }
            // N = 0: nothing to do, success.
            PluginTensorDesc const emptyIn = inputDesc(Shape{0, 3, 5, 5}, type, format);
            PluginTensorDesc const emptyOut = outputDesc(Shape{0, 3, 5, 5}, config.levels, type);
            EXPECT_EQ(run(emptyIn, emptyOut, nullptr, nullptr, nullptr), 0) << sLogger->text();
        }
    }
    EXPECT_EQ(sLogger->errorCount(), 0U) << sLogger->text();
}

} // namespace
} // namespace harness
} // namespace spp
