// Conformance driver for RoiSpatialPyramidPooling and MaxRoiPool, for both builds: IPluginV3 (TensorRT >= 10 headers)
// and IPluginV2DynamicExt (8.6). It loads libspp_trt_plugin.so with dlopen and makes TensorRT's calls through a small
// adapter (RoiPlugin below), so the checks are written once: creators and field names, createPlugin from ONNX-parser
// fields (torchvision's MaxRoiPool export attributes included), malformed fields, serialization round trips, symbolic
// output shapes, the format table, configure / shape checks, and enqueue against the CPU reference (GPU only).
#include "harness/exprBuilder.h"
#include "harness/fieldBuilder.h"
#include "harness/pluginLibrary.h"
#include "harness/pluginTest.h"
#include "harness/tensors.h"

#include "spp/reference.h"
#include "spp/roi.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <random>

#if NV_TENSORRT_MAJOR < 10 && defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

namespace spp
{
namespace harness
{
namespace
{

using nvinfer1::DataType;
using nvinfer1::DynamicPluginTensorDesc;
using nvinfer1::PluginFieldCollection;
using nvinfer1::PluginFieldType;
using nvinfer1::PluginTensorDesc;
using nvinfer1::TensorFormat;

//! One plugin object, whichever interface this build has; calls go through it as TensorRT would make them.
class RoiPlugin
{
public:
#if NV_TENSORRT_MAJOR >= 10
    using Creator = nvinfer1::IPluginCreatorV3One;
    explicit RoiPlugin(nvinfer1::IPluginV3* raw)
        : mPlugin(raw)
    {
        if (raw != nullptr)
        {
            mCore = static_cast<nvinfer1::IPluginV3OneCore*>(
                raw->getCapabilityInterface(nvinfer1::PluginCapabilityType::kCORE));
            mBuild = static_cast<nvinfer1::IPluginV3OneBuild*>(
                raw->getCapabilityInterface(nvinfer1::PluginCapabilityType::kBUILD));
            mRuntime = static_cast<nvinfer1::IPluginV3OneRuntime*>(
                raw->getCapabilityInterface(nvinfer1::PluginCapabilityType::kRUNTIME));
        }
    }
    static RoiPlugin create(Creator* creator, PluginFieldCollection const* fc)
    {
        return RoiPlugin(creator->createPlugin("roi_node", fc, nvinfer1::TensorRTPhase::kBUILD));
    }
    bool ok() const
    {
        return mPlugin != nullptr && mCore != nullptr && mBuild != nullptr && mRuntime != nullptr;
    }
    char const* name() const
    {
        return mCore->getPluginName();
    }
    //! What an engine holds: the serialized fields, read back through the creator (kRUNTIME).
    RoiPlugin roundTrip(Creator* creator)
    {
        return RoiPlugin(creator->createPlugin("roi_node", mRuntime->getFieldsToSerialize(),
            nvinfer1::TensorRTPhase::kRUNTIME));
    }
    PluginFieldCollection const* fields()
    {
        return mRuntime->getFieldsToSerialize();
    }
    int32_t outputShape(nvinfer1::DimsExprs const* in, nvinfer1::DimsExprs& out, ExprBuilder& builder)
    {
        return mBuild->getOutputShapes(in, 2, nullptr, 0, &out, 1, builder);
    }
    bool supports(int32_t pos, DynamicPluginTensorDesc const* io)
    {
        return mBuild->supportsFormatCombination(pos, io, 2, 1);
    }
    int32_t configure(DynamicPluginTensorDesc const* in, DynamicPluginTensorDesc const* out)
    {
        return mBuild->configurePlugin(in, 2, out, 1);
    }
    int32_t run(PluginTensorDesc const* in, PluginTensorDesc const& out, void const* x, void const* rois, void* y,
        cudaStream_t stream)
    {
        int32_t const changed = mRuntime->onShapeChange(in, 2, &out, 1);
        if (changed != 0)
        {
            return changed;
        }
        void const* inputs[2]{x, rois};
        void* outputs[1]{y};
        return mRuntime->enqueue(in, &out, inputs, outputs, nullptr, stream);
    }

private:
    std::unique_ptr<nvinfer1::IPluginV3> mPlugin;
    nvinfer1::IPluginV3OneCore* mCore{nullptr};
    nvinfer1::IPluginV3OneBuild* mBuild{nullptr};
    nvinfer1::IPluginV3OneRuntime* mRuntime{nullptr};
#else
    using Creator = nvinfer1::IPluginCreator;
    struct Destroy
    {
        void operator()(nvinfer1::IPluginV2DynamicExt* p) const
        {
            if (p != nullptr)
            {
                p->destroy();
            }
        }
    };
    explicit RoiPlugin(nvinfer1::IPluginV2* raw)
        : mPlugin(static_cast<nvinfer1::IPluginV2DynamicExt*>(raw))
    {
    }
    static RoiPlugin create(Creator* creator, PluginFieldCollection const* fc)
    {
        return RoiPlugin(creator->createPlugin("roi_node", fc));
    }
    bool ok() const
    {
        return mPlugin != nullptr;
    }
    char const* name() const
    {
        return mPlugin->getPluginType();
    }
    RoiPlugin roundTrip(Creator* creator)
    {
        std::vector<uint8_t> bytes(mPlugin->getSerializationSize());
        mPlugin->serialize(bytes.data());
        return RoiPlugin(creator->deserializePlugin("roi_node", bytes.data(), bytes.size()));
    }
    int32_t outputShape(nvinfer1::DimsExprs const* in, nvinfer1::DimsExprs& out, ExprBuilder& builder)
    {
        out = mPlugin->getOutputDimensions(0, in, 2, builder);
        return out.nbDims < 0 ? -1 : 0;
    }
    bool supports(int32_t pos, DynamicPluginTensorDesc const* io)
    {
        PluginTensorDesc flat[3]{io[0].desc, io[1].desc, io[2].desc};
        return mPlugin->supportsFormatCombination(pos, flat, 2, 1);
    }
    int32_t configure(DynamicPluginTensorDesc const* in, DynamicPluginTensorDesc const* out)
    {
        mPlugin->configurePlugin(in, 2, out, 1); // no status in this interface; enqueue re-checks
        return 0;
    }
    int32_t run(PluginTensorDesc const* in, PluginTensorDesc const& out, void const* x, void const* rois, void* y,
        cudaStream_t stream)
    {
        void const* inputs[2]{x, rois};
        void* outputs[1]{y};
        return mPlugin->enqueue(in, &out, inputs, outputs, nullptr, stream);
    }

private:
    std::unique_ptr<nvinfer1::IPluginV2DynamicExt, Destroy> mPlugin;
#endif
};

//! The harness's own type mapping (independent of the plugin library's).
bool toSppDataTypeForTest(DataType type, spp::DataType& out)
{
    switch (type)
    {
    case DataType::kFLOAT: out = spp::DataType::kFLOAT; return true;
    case DataType::kHALF: out = spp::DataType::kHALF; return true;
#if NV_TENSORRT_MAJOR >= 9
    case DataType::kBF16: out = spp::DataType::kBF16; return true;
#endif
    default: break;
    }
    return false;
}

DynamicPluginTensorDesc dynamicDesc(nvinfer1::Dims dims, nvinfer1::Dims max, DataType type, TensorFormat format)
{
    DynamicPluginTensorDesc desc{};
    desc.desc.dims = dims;
    desc.desc.type = type;
    desc.desc.format = format;
    desc.desc.scale = 1.0F;
    desc.min = dims;
#if NV_TENSORRT_MAJOR >= 10
    desc.opt = dims;
#endif
    desc.max = max;
    return desc;
}

nvinfer1::Dims dims(std::initializer_list<int64_t> values)
{
    nvinfer1::Dims d{};
    d.nbDims = static_cast<int32_t>(values.size());
    int32_t i = 0;
    for (int64_t v : values)
    {
        d.d[i++] = static_cast<DimValue>(v);
    }
    return d;
}

PluginTensorDesc tensorDesc(nvinfer1::Dims d, DataType type, TensorFormat format)
{
    PluginTensorDesc desc{};
    desc.dims = d;
    desc.type = type;
    desc.format = format;
    desc.scale = 1.0F;
    return desc;
}

struct MalformedRoiCase
{
    char const* plugin;
    char const* label;
    std::function<void(FieldList&)> build;
    std::vector<std::string> words;
};

std::vector<MalformedRoiCase> malformedRoiCases()
{
    char const* const spp = kROI_SPP_PLUGIN_NAME;
    char const* const pool = kMAX_ROI_POOL_PLUGIN_NAME;
    return {
        {spp, "levels missing", [](FieldList& f) { f.floats("spatial_scale", {0.0625F}); },
            {"RoiSpatialPyramidPooling", "'levels'", "missing"}},
        {spp, "levels empty", [](FieldList& f) { f.int32s("levels", {}); }, {"levels must not be empty"}},
        {spp, "level 0", [](FieldList& f) { f.int32s("levels", {1, 0}); }, {"levels[1] = 0", "[1, 256]"}},
        {spp, "levels as kFLOAT32", [](FieldList& f) { f.floats("levels", {1.0F}); }, {"'levels'", "kFLOAT32", "kINT32"}},
        {spp, "pool_mode median",
            [](FieldList& f) {
                f.int32s("levels", {1, 2});
                f.string("pool_mode", "median");
            },
            {"pool_mode 'median'", "'max', 'avg'"}},
        {spp, "spatial_scale 0",
            [](FieldList& f) {
                f.int32s("levels", {1});
                f.floats("spatial_scale", {0.0F});
            },
            {"spatial_scale = 0", "finite number > 0"}},
        {spp, "spatial_scale as kINT32",
            [](FieldList& f) {
                f.int32s("levels", {1});
                f.int32s("spatial_scale", {1});
            },
            {"'spatial_scale'", "kINT32", "kFLOAT32"}},
        {spp, "spatial_scale of 2 values",
            [](FieldList& f) {
                f.int32s("levels", {1});
                f.floats("spatial_scale", {1.0F, 2.0F});
            },
            {"'spatial_scale'", "length 2", "exactly 1"}},
        {pool, "pooled_shape missing", [](FieldList& f) { f.floats("spatial_scale", {1.0F}); },
            {"MaxRoiPool", "'pooled_shape'", "missing"}},
        {pool, "pooled_shape of 3", [](FieldList& f) { f.int32s("pooled_shape", {7, 7, 7}); },
            {"'pooled_shape'", "has 3 entries", "[pooled_h, pooled_w]"}},
        {pool, "pooled_shape 0", [](FieldList& f) { f.int32s("pooled_shape", {7, 0}); },
            {"pooled_shape[1] = 0 is out of range"}},
        {pool, "spatial_scale NaN",
            [](FieldList& f) {
                f.int32s("pooled_shape", {2, 2});
                f.floats("spatial_scale", {std::numeric_limits<float>::quiet_NaN()});
            },
            {"spatial_scale = nan"}},
        {pool, "pooled_shape given twice",
            [](FieldList& f) {
                f.int32s("pooled_shape", {2, 2});
                f.int32s("pooled_shape", {3, 3});
            },
            {"'pooled_shape'", "more than once"}},
    };
}

class RoiPluginTest : public PluginLibraryTest
{
protected:
    void SetUp() override
    {
        ASSERT_TRUE(sLibrary->ok()) << sLibrary->error();
        sLogger->clear();
    }
    static RoiPlugin::Creator* creator(char const* name)
    {
        return static_cast<RoiPlugin::Creator*>(sLibrary->findCreator(name, kROI_PLUGIN_VERSION));
    }
    //! createPlugin from ONNX node attributes, filtered and converted as the ONNX parser does.
    static RoiPlugin fromOnnx(char const* name, OnnxAttributes const& attributes)
    {
        FieldList fields;
        attributes.toFields(creator(name)->getFieldNames(), fields);
        return RoiPlugin::create(creator(name), fields.collection());
    }
    //! The attributes torchvision.ops.roi_pool's ONNX export writes on MaxRoiPool (pooled_shape INTS, spatial_scale
    //! FLOAT), plus the fallback importer's plugin_version / plugin_namespace, which the creator does not list.
    static OnnxAttributes torchvisionMaxRoiPool(int64_t h, int64_t w, float scale)
    {
        OnnxAttributes a;
        a.ints("pooled_shape", {h, w}).floats("spatial_scale", {scale});
        a.string("plugin_version", "1").string("plugin_namespace", "");
        return a;
    }
    static OnnxAttributes roiSpp(std::vector<int64_t> const& levels, char const* mode, float scale)
    {
        OnnxAttributes a;
        a.ints("levels", levels).floats("spatial_scale", {scale});
        if (mode != nullptr)
        {
            a.string("pool_mode", mode);
        }
        return a;
    }

};


TEST_F(RoiPluginTest, CreatorsNamesVersionsAndFieldNames)
{
    auto* const spp = creator("RoiSpatialPyramidPooling");
    auto* const pool = creator("MaxRoiPool");
    ASSERT_NE(spp, nullptr);
    ASSERT_NE(pool, nullptr);
    EXPECT_NE(creator(kSPP_PLUGIN_NAME), nullptr) << "the image SPP creator is still listed";
    EXPECT_STREQ(spp->getPluginNamespace(), "");
    EXPECT_STREQ(pool->getPluginNamespace(), "");
    PluginFieldCollection const* const a = spp->getFieldNames();
    ASSERT_EQ(a->nbFields, 3);
    EXPECT_STREQ(a->fields[0].name, "levels");
    EXPECT_EQ(a->fields[0].type, PluginFieldType::kINT32);
    EXPECT_STREQ(a->fields[1].name, "pool_mode");
    EXPECT_EQ(a->fields[1].type, PluginFieldType::kCHAR);
    EXPECT_STREQ(a->fields[2].name, "spatial_scale");
    EXPECT_EQ(a->fields[2].type, PluginFieldType::kFLOAT32);
    PluginFieldCollection const* const b = pool->getFieldNames();
    ASSERT_EQ(b->nbFields, 2);
    EXPECT_STREQ(b->fields[0].name, "pooled_shape");
    EXPECT_EQ(b->fields[0].type, PluginFieldType::kINT32);
    EXPECT_STREQ(b->fields[1].name, "spatial_scale");
    EXPECT_EQ(b->fields[1].type, PluginFieldType::kFLOAT32);
}

TEST_F(RoiPluginTest, CreateFromOnnxAttributesAndRoundTrip)
{
    for (auto const& [name, attributes] : {std::make_pair("MaxRoiPool", torchvisionMaxRoiPool(7, 5, 0.0625F)),
             std::make_pair("RoiSpatialPyramidPooling", roiSpp({1, 2, 3, 6}, "avg", 0.0625F)),
             std::make_pair("RoiSpatialPyramidPooling", roiSpp({1, 2, 3, 6}, nullptr, 1.0F))})
    {
        SCOPED_TRACE(name);
        RoiPlugin built = fromOnnx(name, attributes);
        ASSERT_TRUE(built.ok()) << sLogger->text();
        EXPECT_STREQ(built.name(), name);
        RoiPlugin engine = built.roundTrip(creator(name));
        ASSERT_TRUE(engine.ok()) << sLogger->text();
        RoiPlugin twice = engine.roundTrip(creator(name));
        ASSERT_TRUE(twice.ok()) << sLogger->text();
    }
    // Defaults: spatial_scale 1.0 and pool_mode max need not be given.
    FieldList minimal;
    minimal.int32s("pooled_shape", {2, 3});
    EXPECT_TRUE(RoiPlugin::create(creator("MaxRoiPool"), minimal.collection()).ok()) << sLogger->text();
    EXPECT_EQ(sLogger->errorCount(), 0U) << sLogger->text();
}

#if NV_TENSORRT_MAJOR >= 10
TEST_F(RoiPluginTest, SerializedFieldsAreTheCreatorsFields)
{
    RoiPlugin p = fromOnnx("RoiSpatialPyramidPooling", roiSpp({1, 3}, "avg", 0.25F));
    ASSERT_TRUE(p.ok());
    PluginFieldCollection const* const fc = p.fields();
    ASSERT_EQ(fc->nbFields, 3);
    EXPECT_STREQ(fc->fields[0].name, "levels");
    ASSERT_EQ(fc->fields[0].length, 2);
    EXPECT_EQ(static_cast<int32_t const*>(fc->fields[0].data)[1], 3);
    EXPECT_STREQ(fc->fields[1].name, "pool_mode");
    EXPECT_STREQ(static_cast<char const*>(fc->fields[1].data), "avg");
    EXPECT_STREQ(fc->fields[2].name, "spatial_scale");
    EXPECT_EQ(fc->fields[2].type, PluginFieldType::kFLOAT32);
    EXPECT_EQ(*static_cast<float const*>(fc->fields[2].data), 0.25F);
    RoiPlugin q = fromOnnx("MaxRoiPool", torchvisionMaxRoiPool(6, 4, 0.5F));
    ASSERT_TRUE(q.ok());
    PluginFieldCollection const* const gc = q.fields();
    ASSERT_EQ(gc->nbFields, 2);
    EXPECT_STREQ(gc->fields[0].name, "pooled_shape");
    EXPECT_EQ(static_cast<int32_t const*>(gc->fields[0].data)[0], 6);
    EXPECT_EQ(static_cast<int32_t const*>(gc->fields[0].data)[1], 4);
    EXPECT_EQ(*static_cast<float const*>(gc->fields[1].data), 0.5F);
}
#endif

TEST_F(RoiPluginTest, MalformedFieldsFailCleanlyWithAMessage)
{
    for (auto const& bad : malformedRoiCases())
    {
        SCOPED_TRACE(std::string(bad.plugin) + ": " + bad.label);
        sLogger->clear();
        FieldList fields;
        bad.build(fields);
        RoiPlugin const p = RoiPlugin::create(creator(bad.plugin), fields.collection());
        EXPECT_FALSE(p.ok());
        EXPECT_TRUE(sLogger->errorContains(bad.words)) << "logged:\n" << sLogger->text();
    }
    sLogger->clear();
    EXPECT_FALSE(RoiPlugin::create(creator("MaxRoiPool"), nullptr).ok());
    EXPECT_TRUE(sLogger->errorContains({"MaxRoiPool", "null"})) << sLogger->text();
}

TEST_F(RoiPluginTest, OutputShapesAreSymbolic)
{
    for (char const* name : {"RoiSpatialPyramidPooling", "MaxRoiPool"})
    {
        SCOPED_TRACE(name);
        bool const pool = std::strcmp(name, "MaxRoiPool") == 0;
        RoiPlugin p = pool ? fromOnnx(name, torchvisionMaxRoiPool(7, 5, 1.0F)) : fromOnnx(name, roiSpp({1, 2, 3, 6}, nullptr, 1.0F));
        ASSERT_TRUE(p.ok());
        ExprBuilder builder;
        nvinfer1::DimsExprs in[2]{};
        in[0].nbDims = 4;
        in[0].d[0] = builder.symbol(0, "N");
        in[0].d[1] = builder.symbol(1, "C");
        in[0].d[2] = builder.symbol(2, "H");
        in[0].d[3] = builder.symbol(3, "W");
        in[1].nbDims = 2;
        in[1].d[0] = builder.symbol(4, "K");
        in[1].d[1] = builder.makeConstant(5);
        nvinfer1::DimsExprs out{};
        ASSERT_EQ(p.outputShape(in, out, builder), 0) << sLogger->text();
        ASSERT_EQ(out.nbDims, pool ? 4 : 2);
        for (auto const& [c, k] : {std::make_pair(int64_t{256}, int64_t{2000}), std::make_pair(int64_t{3}, int64_t{0})})
        {
            Bindings const values{{0, 1}, {1, c}, {2, 38}, {3, 63}, {4, k}};
            EXPECT_EQ(asExpr(out.d[0])->evaluate(values), k);
            if (pool)
            {
                EXPECT_EQ(asExpr(out.d[1])->evaluate(values), c);
                EXPECT_EQ(asExpr(out.d[2])->evaluate(values), 7);
                EXPECT_EQ(asExpr(out.d[3])->evaluate(values), 5);
            }
            else
            {
                EXPECT_EQ(asExpr(out.d[1])->evaluate(values), c * 50);
            }
        }
        // rois with 4 columns, and a 3-D features input, are refused with a message
        in[1].d[1] = builder.makeConstant(4);
        EXPECT_NE(p.outputShape(in, out, builder), 0);
        EXPECT_TRUE(sLogger->errorContains({"rois must be [K, 5]", "[K, 4]"})) << sLogger->text();
        in[1].d[1] = builder.makeConstant(5);
        in[0].nbDims = 3;
        EXPECT_NE(p.outputShape(in, out, builder), 0);
    }
}

TEST_F(RoiPluginTest, SupportsFormatCombinationTable)
{
    RoiPlugin p = fromOnnx("MaxRoiPool", torchvisionMaxRoiPool(2, 2, 1.0F));
    ASSERT_TRUE(p.ok());
    std::vector<DataType> const types{DataType::kFLOAT, DataType::kHALF, DataType::kINT8, DataType::kINT32
#if NV_TENSORRT_MAJOR >= 9
        , DataType::kBF16
#endif
    };
    std::vector<TensorFormat> const formats{TensorFormat::kLINEAR, TensorFormat::kCHW32, TensorFormat::kHWC8,
        TensorFormat::kHWC};
    int32_t accepted = 0;
    for (DataType xt : types)
    {
        for (TensorFormat xf : formats)
        {
            DynamicPluginTensorDesc io[3]{};
            io[0] = dynamicDesc(dims({1, 8, 5, 5}), dims({1, 8, 5, 5}), xt, xf);
            bool const featuresOk = p.supports(0, io);
            bool const expected = (xf == TensorFormat::kLINEAR && xt != DataType::kINT8 && xt != DataType::kINT32)
                || (xf == TensorFormat::kHWC8 && (xt == DataType::kHALF
#if NV_TENSORRT_MAJOR >= 9
                                                     || xt == DataType::kBF16
#endif
                                                     ))
                || (xf == TensorFormat::kHWC && xt == DataType::kFLOAT);
            EXPECT_EQ(featuresOk, expected) << static_cast<int32_t>(xt) << "/" << static_cast<int32_t>(xf);
            if (!featuresOk)
            {
                continue;
            }
            ++accepted;
            for (DataType rt : types)
            {
                for (TensorFormat rf : formats)
                {
                    io[1] = dynamicDesc(dims({3, 5}), dims({3, 5}), rt, rf);
                    EXPECT_EQ(p.supports(1, io), rf == TensorFormat::kLINEAR && (rt == DataType::kFLOAT || rt == xt));
                    io[2] = dynamicDesc(dims({3, 8, 2, 2}), dims({3, 8, 2, 2}), rt, rf);
                    EXPECT_EQ(p.supports(2, io), rf == TensorFormat::kLINEAR && rt == xt);
                }
            }
        }
    }
    EXPECT_EQ(accepted, NV_TENSORRT_MAJOR >= 9 ? 6 : 4);
    DynamicPluginTensorDesc io[3]{};
    EXPECT_FALSE(p.supports(3, io));
}

TEST_F(RoiPluginTest, ConfigureAndConcreteShapesAreChecked)
{
    RoiPlugin p = fromOnnx("RoiSpatialPyramidPooling", roiSpp({1, 2}, nullptr, 0.5F));
    ASSERT_TRUE(p.ok());
    DynamicPluginTensorDesc in[2]{dynamicDesc(dims({-1, 8, -1, -1}), dims({2, 8, 64, 64}), DataType::kFLOAT,
                                      TensorFormat::kLINEAR),
        dynamicDesc(dims({-1, 5}), dims({300, 5}), DataType::kFLOAT, TensorFormat::kLINEAR)};
    DynamicPluginTensorDesc out
        = dynamicDesc(dims({-1, 40}), dims({300, 40}), DataType::kFLOAT, TensorFormat::kLINEAR);
    EXPECT_EQ(p.configure(in, &out), 0) << sLogger->text();
    EXPECT_EQ(sLogger->errorCount(), 0U) << sLogger->text();
    // rois [K, 4]: refused at configure (V3 returns non-zero; V2 logs) and at enqueue
    in[1].desc.dims = dims({-1, 4});
    p.configure(in, &out);
    EXPECT_TRUE(sLogger->errorContains({"rois [K, 5]"})) << sLogger->text();
    sLogger->clear();
    PluginTensorDesc const x = tensorDesc(dims({1, 8, 6, 6}), DataType::kFLOAT, TensorFormat::kLINEAR);
    PluginTensorDesc const rois4 = tensorDesc(dims({3, 4}), DataType::kFLOAT, TensorFormat::kLINEAR);
    PluginTensorDesc const y = tensorDesc(dims({3, 40}), DataType::kFLOAT, TensorFormat::kLINEAR);
    PluginTensorDesc bad[2]{x, rois4};
    float dummy[4]{};
    EXPECT_NE(p.run(bad, y, dummy, dummy, dummy, nullptr), 0);
    EXPECT_TRUE(sLogger->errorContains({"rois [K, 5]", "columns 4"})) << sLogger->text();
    // wrong output dims; fp16 rois with fp32 features
    PluginTensorDesc const rois = tensorDesc(dims({3, 5}), DataType::kFLOAT, TensorFormat::kLINEAR);
    PluginTensorDesc good[2]{x, rois};
    PluginTensorDesc wrongY = tensorDesc(dims({3, 41}), DataType::kFLOAT, TensorFormat::kLINEAR);
    EXPECT_NE(p.run(good, wrongY, dummy, dummy, dummy, nullptr), 0);
    EXPECT_TRUE(sLogger->errorContains({"output dims do not match", "[K, C * sum(L^2)]"})) << sLogger->text();
    PluginTensorDesc halfRois[2]{x, tensorDesc(dims({3, 5}), DataType::kHALF, TensorFormat::kLINEAR)};
    EXPECT_NE(p.run(halfRois, y, dummy, dummy, dummy, nullptr), 0);
    EXPECT_TRUE(sLogger->errorContains({"rois", "kHALF", "not supported"})) << sLogger->text();
    // null input with non-empty tensors: refused by the launcher before any CUDA call
    sLogger->clear();
    EXPECT_NE(p.run(good, y, nullptr, dummy, dummy, nullptr), 0);
    EXPECT_TRUE(sLogger->errorContains({"enqueue failed", "cudaErrorInvalidValue"})) << sLogger->text();
}

TEST_F(RoiPluginTest, GpuEnqueueMatchesTheReference)
{
    std::string reason;
    if (!gpuAvailable(reason))
    {
        if (gpuRequired())
        {
            FAIL() << "SPP_TRT_REQUIRE_GPU is set but " << reason;
        }
        std::printf("SKIPPED ROI GPU enqueue check: %s\n", reason.c_str());
        GTEST_SKIP() << reason;
    }
    std::mt19937 rng(2015);
    std::vector<std::pair<DataType, TensorFormat>> inputs{{DataType::kFLOAT, TensorFormat::kLINEAR},
        {DataType::kHALF, TensorFormat::kLINEAR}, {DataType::kHALF, TensorFormat::kHWC8},
        {DataType::kFLOAT, TensorFormat::kHWC}};
#if NV_TENSORRT_MAJOR >= 9
    inputs.emplace_back(DataType::kBF16, TensorFormat::kLINEAR);
#endif
    int32_t checks = 0;
    for (char const* name : {"RoiSpatialPyramidPooling", "MaxRoiPool"})
    {
        bool const pool = std::strcmp(name, "MaxRoiPool") == 0;
        RoiPyramid pyramid;
        if (pool)
        {
            ASSERT_TRUE(makeMaxRoiPool(7, 5, 0.25F, pyramid).ok());
        }
        else
        {
            ASSERT_TRUE(makeRoiPyramid([] {
                PyramidConfig c;
                c.numLevels = 4;
                c.levels[0] = 1, c.levels[1] = 2, c.levels[2] = 3, c.levels[3] = 6;
                c.mode = PoolMode::kAVG;
                return c;
            }(), 0.25F, pyramid).ok());
        }
        RoiPlugin built = pool ? fromOnnx(name, torchvisionMaxRoiPool(7, 5, 0.25F))
                               : fromOnnx(name, roiSpp({1, 2, 3, 6}, "avg", 0.25F));
        ASSERT_TRUE(built.ok());
        RoiPlugin p = built.roundTrip(creator(name));
        ASSERT_TRUE(p.ok());
        for (auto const& [type, format] : inputs)
        {
            for (DataType roiType : {DataType::kFLOAT, type})
            {
                for (int64_t k : {int64_t{37}, int64_t{0}, int64_t{130}})
                {
                    SCOPED_TRACE(std::string(name) + " type " + std::to_string(static_cast<int32_t>(type)) + " format "
                        + std::to_string(static_cast<int32_t>(format)) + " K " + std::to_string(k));
                    int64_t const n = 2, c = 5, h = 19, w = 23;
                    RoiDesc desc;
                    desc.pyramid = pyramid;
                    ASSERT_TRUE(toSppDataTypeForTest(type, desc.dtype));
                    ASSERT_TRUE(toSppDataTypeForTest(roiType, desc.roiDtype));
                    desc.n = n, desc.c = c, desc.h = h, desc.w = w, desc.numRois = k;
                    std::vector<uint8_t> const dense = randomTensor(desc.dtype, static_cast<size_t>(n * c * h * w), rng);
                    // rois: some in range, some with a batch index of N (zero rows), coordinates in image space
                    std::vector<float> rows;
                    std::uniform_real_distribution<float> u(-8.0F, 100.0F);
                    for (int64_t i = 0; i < k; ++i)
                    {
                        float const x1 = u(rng), y1 = u(rng);
                        rows.insert(rows.end(), {static_cast<float>(i % 7 == 3 ? n : i % n), x1, y1,
                            x1 + u(rng) * 0.5F, y1 + u(rng) * 0.5F});
                    }
                    std::vector<uint8_t> roiBytes(rows.size() * elementSize(desc.roiDtype));
                    for (size_t i = 0; i < rows.size(); ++i)
                    {
                        float const v = std::round(rows[i] * 4.0F) / 4.0F;
                        if (desc.roiDtype == spp::DataType::kFLOAT)
                        {
                            std::memcpy(&roiBytes[i * 4], &v, 4);
                        }
                        else
                        {
                            uint16_t const b = desc.roiDtype == spp::DataType::kHALF ? floatToHalfBits(v)
                                                                                    : floatToBf16Bits(v);
                            std::memcpy(&roiBytes[i * 2], &b, 2);
                        }
                    }
                    std::vector<uint8_t> expected(
                        static_cast<size_t>(roiOutputElements(desc)) * elementSize(desc.dtype) + 1);
                    Status const ref = roiReferenceCpu(desc, dense.data(), roiBytes.data(), expected.data());
                    ASSERT_TRUE(ref.ok()) << ref.message();
                    expected.pop_back();
                    int64_t cs = 0;
                    std::vector<uint8_t> packed = dense;
                    if (format != TensorFormat::kLINEAR)
                    {
                        cs = format == TensorFormat::kHWC8 ? (c + 7) / 8 * 8 : c;
                        packed = packNhwc(dense, desc.dtype, n, c, h, w, cs, 0xff);
                    }
                    DeviceBuffer xBuf(packed.size());
                    DeviceBuffer rBuf(roiBytes.size() + 1);
                    DeviceBuffer yBuf(expected.size() + 1);
                    xBuf.upload(packed);
                    roiBytes.push_back(0);
                    rBuf.upload(roiBytes);
                    PluginTensorDesc in[2]{tensorDesc(dims({n, c, h, w}), type, format),
                        tensorDesc(dims({k, 5}), roiType, TensorFormat::kLINEAR)};
                    PluginTensorDesc const out = pool ? tensorDesc(dims({k, c, 7, 5}), type, TensorFormat::kLINEAR)
                                                      : tensorDesc(dims({k, c * 50}), type, TensorFormat::kLINEAR);
                    for (uint8_t poison : {uint8_t{0xff}, uint8_t{0x5a}})
                    {
                        yBuf.fill(poison);
                        ASSERT_EQ(p.run(in, out, xBuf.get(), rBuf.get(), yBuf.get(), nullptr), 0) << sLogger->text();
                        ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
                        std::vector<uint8_t> got = yBuf.download();
                        got.resize(expected.size());
                        std::string detail;
                        EXPECT_TRUE(compareTensors(got, expected, desc.dtype, pyramid.mode,
                            static_cast<size_t>(roiOutputElements(desc)), detail))
                            << detail;
                        ++checks;
                    }
                }
            }
        }
    }
    EXPECT_GE(checks, 48);
    EXPECT_EQ(sLogger->errorCount(), 0U) << sLogger->text();
}

} // namespace
} // namespace harness
} // namespace spp
