// sppnet_infer: SpatialPyramidPooling inside real TensorRT engines.
//
//   sppnet_infer --plugin libspp_trt_plugin.so [--onnx samples/data/sppnet_tiny.onnx]
//
// 1. Network API: conv 3x3 (3 -> 8) -> ReLU -> SpatialPyramidPooling(levels [1, 2, 4], max) -> fully connected (-> 10),
//    one optimization profile over several H x W, engine serialized, deserialized, run at three input sizes and
//    compared with a CPU implementation of the same network (spp::sppReferenceCpu for the SPP part).
// 2. ONNX: the same through the ONNX parser with a model holding a SpatialPyramidPooling node; the plugin layer's
//    input and output are marked as outputs and the plugin output is compared with the CPU reference of its input.
// Reports build time, load time and latency. The plugin is loaded with IPluginRegistry::loadLibrary.
// Exit status: 0 pass, 1 failure, 77 skipped (no GPU, no plugin library or no model), the ctest skip code.
#include "common/fieldIO.h"
#include "spp/reference.h"
#include "spp/spp.h"
#include "spp/sppPluginCommon.h"

#include <NvInfer.h>
#if SPP_HAVE_ONNX_PARSER
#include <NvOnnxParser.h>
#endif
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations" // the TensorRT 8.6 path uses IPluginV2 on purpose
#endif

namespace
{

constexpr int32_t kSKIP = 77;

class Logger final : public nvinfer1::ILogger
{
public:
    void log(Severity severity, char const* msg) noexcept override
    {
        if (severity <= Severity::kWARNING)
        {
            std::printf("[TensorRT] %s\n", msg);
        }
    }
};

Logger gLogger;

template <typename T>
struct Deleter
{
    void operator()(T* object) const
    {
        delete object;
    }
};
template <typename T>
using Ptr = std::unique_ptr<T, Deleter<T>>;

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

#define CHECK_CUDA(call)                                                                                               \
    do                                                                                                                 \
    {                                                                                                                  \
        cudaError_t const e_ = (call);                                                                                 \
        if (e_ != cudaSuccess)                                                                                         \
        {                                                                                                              \
            std::printf("CUDA error %s at %s:%d\n", cudaGetErrorName(e_), __FILE__, __LINE__);                         \
            return false;                                                                                              \
        }                                                                                                              \
    } while (0)

struct Shape
{
    int32_t n, c, h, w;
};

//! The sample network's weights, shared by the TensorRT network and the CPU implementation.
struct SppNet
{
    static constexpr int32_t kIN = 3;
    static constexpr int32_t kMID = 8;
    static constexpr int32_t kOUT = 10;
    spp::PyramidConfig pyramid{};
    std::vector<float> convWeights; // [kMID, kIN, 3, 3]
    std::vector<float> convBias;    // [kMID]
    std::vector<float> fcWeights;   // [K, kOUT], K = kMID * sum(L^2)
    std::vector<float> fcBias;      // [1, kOUT]

    int64_t features() const
    {
        return spp::outputFeatures(pyramid, kMID);
    }
};

SppNet makeNet(std::mt19937& rng)
{
    SppNet net;
    int32_t const levels[] = {1, 2, 4};
    spp::makePyramidConfig(levels, 3, spp::PoolMode::kMAX, spp::BinRule::kADAPTIVE, net.pyramid);
    std::uniform_real_distribution<float> u(-0.5F, 0.5F);
    auto fill = [&](std::vector<float>& v, size_t n) {
        v.resize(n);
        for (float& x : v)
        {
            x = u(rng);
        }
    };
    fill(net.convWeights, SppNet::kMID * SppNet::kIN * 9);
    fill(net.convBias, SppNet::kMID);
    fill(net.fcWeights, static_cast<size_t>(net.features()) * SppNet::kOUT);
    fill(net.fcBias, SppNet::kOUT);
    return net;
}

//! CPU: conv 3x3 pad 1 -> ReLU -> SPP (reference) -> FC.
std::vector<float> runCpu(SppNet const& net, Shape s, std::vector<float> const& input)
{
    std::vector<float> mid(static_cast<size_t>(s.n) * SppNet::kMID * s.h * s.w);
    for (int32_t n = 0; n < s.n; ++n)
        for (int32_t o = 0; o < SppNet::kMID; ++o)
            for (int32_t y = 0; y < s.h; ++y)
                for (int32_t x = 0; x < s.w; ++x)
                {
                    double acc = net.convBias[o];
                    for (int32_t i = 0; i < SppNet::kIN; ++i)
                        for (int32_t ky = 0; ky < 3; ++ky)
                            for (int32_t kx = 0; kx < 3; ++kx)
                            {
                                int32_t const yy = y + ky - 1;
                                int32_t const xx = x + kx - 1;
                                if (yy < 0 || yy >= s.h || xx < 0 || xx >= s.w)
                                    continue;
                                acc += static_cast<double>(net.convWeights[((o * SppNet::kIN + i) * 3 + ky) * 3 + kx])
                                    * input[((static_cast<size_t>(n) * SppNet::kIN + i) * s.h + yy) * s.w + xx];
                            }
                    mid[((static_cast<size_t>(n) * SppNet::kMID + o) * s.h + y) * s.w + x]
                        = std::max(0.0F, static_cast<float>(acc));
                }
    spp::SppDesc desc{};
    desc.pyramid = net.pyramid;
    desc.n = s.n;
    desc.c = SppNet::kMID;
    desc.h = s.h;
    desc.w = s.w;
    std::vector<float> pooled(static_cast<size_t>(spp::outputElements(desc)));
    spp::sppReferenceCpu(desc, mid.data(), pooled.data());
    int64_t const k = net.features();
    std::vector<float> out(static_cast<size_t>(s.n) * SppNet::kOUT);
    for (int32_t n = 0; n < s.n; ++n)
        for (int32_t j = 0; j < SppNet::kOUT; ++j)
        {
            double acc = net.fcBias[j];
            for (int64_t i = 0; i < k; ++i)
                acc += static_cast<double>(pooled[n * k + i]) * net.fcWeights[i * SppNet::kOUT + j];
            out[static_cast<size_t>(n) * SppNet::kOUT + j] = static_cast<float>(acc);
        }
    return out;
}

bool close(std::vector<float> const& got, std::vector<float> const& want, char const* what)
{
    if (got.size() != want.size())
    {
        std::printf("  %s: %zu values, expected %zu\n", what, got.size(), want.size());
        return false;
    }
    double worst = 0.0;
    for (size_t i = 0; i < got.size(); ++i)
    {
        double const err = std::fabs(got[i] - want[i]) / std::max(1.0, std::fabs(static_cast<double>(want[i])));
        if (!(err <= 1e-3))
        {
            std::printf("  %s: element %zu got %g expected %g\n", what, i, got[i], want[i]);
            return false;
        }
        worst = std::max(worst, err);
    }
    std::printf("  %s: %zu values match (max rel. error %.2e)\n", what, got.size(), worst);
    return true;
}

//! Creates the plugin through the registry, as an application does after loadLibrary.
#if NV_TENSORRT_MAJOR >= 10
nvinfer1::IPluginV3* createSppPlugin(nvinfer1::PluginFieldCollection const* fc)
{
    nvinfer1::IPluginCreatorInterface* const creator
        = getPluginRegistry()->getCreator(spp::kSPP_PLUGIN_NAME, spp::kSPP_PLUGIN_VERSION, spp::kSPP_PLUGIN_NAMESPACE);
    if (creator == nullptr || std::strcmp(creator->getInterfaceInfo().kind, "PLUGIN CREATOR_V3ONE") != 0)
    {
        return nullptr;
    }
    return static_cast<nvinfer1::IPluginCreatorV3One*>(creator)->createPlugin("spp", fc, nvinfer1::TensorRTPhase::kBUILD);
}
#else
nvinfer1::IPluginV2* createSppPlugin(nvinfer1::PluginFieldCollection const* fc)
{
    nvinfer1::IPluginCreator* const creator = getPluginRegistry()->getPluginCreator(
        spp::kSPP_PLUGIN_NAME, spp::kSPP_PLUGIN_VERSION, spp::kSPP_PLUGIN_NAMESPACE);
    return creator == nullptr ? nullptr : creator->createPlugin("spp", fc);
}
#endif

struct HostTensor
{
    std::string name;
    nvinfer1::Dims dims;
    std::vector<float> data;
};

HostTensor const* findTensor(std::vector<HostTensor> const& tensors, char const* name)
{
    for (auto const& t : tensors)
        if (t.name == name)
            return &t;
    return nullptr;
}

struct Profile
{
    Shape min, opt, max;
};

Ptr<nvinfer1::IHostMemory> buildEngine(nvinfer1::IBuilder& builder, nvinfer1::INetworkDefinition& network,
    char const* inputName, Profile const& profile, double& seconds)
{
    Ptr<nvinfer1::IBuilderConfig> config(builder.createBuilderConfig());
    nvinfer1::IOptimizationProfile* const p = builder.createOptimizationProfile();
    auto dims = [](Shape s) { return nvinfer1::Dims4(s.n, s.c, s.h, s.w); };
    p->setDimensions(inputName, nvinfer1::OptProfileSelector::kMIN, dims(profile.min));
    p->setDimensions(inputName, nvinfer1::OptProfileSelector::kOPT, dims(profile.opt));
    p->setDimensions(inputName, nvinfer1::OptProfileSelector::kMAX, dims(profile.max));
    config->addOptimizationProfile(p);
    config->setMemoryPoolLimit(nvinfer1::MemoryPoolType::kWORKSPACE, size_t{1} << 28);
    auto const start = std::chrono::steady_clock::now();
    Ptr<nvinfer1::IHostMemory> plan(builder.buildSerializedNetwork(network, *config));
    seconds = secondsSince(start);
    return plan;
}

//! Runs the engine for one input shape; returns host copies of every output tensor with its name and dims.
bool runEngine(nvinfer1::ICudaEngine& engine, nvinfer1::IExecutionContext& context, Shape s,
    std::vector<float> const& input, std::vector<HostTensor>& outputs, double& latencyMs)
{
    int32_t const nbIO = engine.getNbIOTensors();
    std::vector<void*> buffers(nbIO, nullptr);
    outputs.clear();
    std::vector<int32_t> outputIndex;
    bool ok = true;
    cudaStream_t stream{};
    CHECK_CUDA(cudaStreamCreate(&stream));
    for (int32_t i = 0; i < nbIO && ok; ++i)
    {
        char const* const name = engine.getIOTensorName(i);
        if (engine.getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT)
        {
            ok = context.setInputShape(name, nvinfer1::Dims4(s.n, s.c, s.h, s.w));
            CHECK_CUDA(cudaMalloc(&buffers[i], input.size() * sizeof(float)));
            CHECK_CUDA(cudaMemcpy(buffers[i], input.data(), input.size() * sizeof(float), cudaMemcpyHostToDevice));
            ok = ok && context.setTensorAddress(name, buffers[i]);
        }
    }
    for (int32_t i = 0; i < nbIO && ok; ++i)
    {
        char const* const name = engine.getIOTensorName(i);
        if (engine.getTensorIOMode(name) != nvinfer1::TensorIOMode::kOUTPUT)
            continue;
        nvinfer1::Dims const d = context.getTensorShape(name);
        size_t count = 1;
        for (int32_t k = 0; k < d.nbDims; ++k)
            count *= static_cast<size_t>(std::max<int64_t>(d.d[k], 0));
        outputs.push_back(HostTensor{name, d, std::vector<float>(count)});
        outputIndex.push_back(i);
        CHECK_CUDA(cudaMalloc(&buffers[i], std::max<size_t>(count, 1) * sizeof(float)));
        ok = context.setTensorAddress(name, buffers[i]);
    }
    ok = ok && context.enqueueV3(stream);
    CHECK_CUDA(cudaStreamSynchronize(stream));
    if (ok)
    {
        cudaEvent_t begin{}, end{};
        CHECK_CUDA(cudaEventCreate(&begin));
        CHECK_CUDA(cudaEventCreate(&end));
        constexpr int32_t kRUNS = 20;
        CHECK_CUDA(cudaEventRecord(begin, stream));
        for (int32_t r = 0; r < kRUNS && ok; ++r)
            ok = context.enqueueV3(stream);
        CHECK_CUDA(cudaEventRecord(end, stream));
        CHECK_CUDA(cudaEventSynchronize(end));
        float ms = 0.0F;
        CHECK_CUDA(cudaEventElapsedTime(&ms, begin, end));
        latencyMs = ms / kRUNS;
        cudaEventDestroy(begin);
        cudaEventDestroy(end);
    }
    for (size_t o = 0; o < outputs.size() && ok; ++o)
    {
        CHECK_CUDA(cudaMemcpy(outputs[o].data.data(), buffers[outputIndex[o]], outputs[o].data.size() * sizeof(float),
            cudaMemcpyDeviceToHost));
    }
    for (void* b : buffers)
        cudaFree(b);
    cudaStreamDestroy(stream);
    return ok;
}

std::vector<float> randomInput(Shape s, std::mt19937& rng)
{
    std::uniform_real_distribution<float> u(-1.0F, 1.0F);
    std::vector<float> v(static_cast<size_t>(s.n) * s.c * s.h * s.w);
    for (float& x : v)
        x = u(rng);
    return v;
}

Ptr<nvinfer1::INetworkDefinition> createNetwork(nvinfer1::IBuilder& builder)
{
#if NV_TENSORRT_MAJOR >= 10
    return Ptr<nvinfer1::INetworkDefinition>(builder.createNetworkV2(0));
#else
    return Ptr<nvinfer1::INetworkDefinition>(builder.createNetworkV2(
        1U << static_cast<uint32_t>(nvinfer1::NetworkDefinitionCreationFlag::kEXPLICIT_BATCH)));
#endif
}

bool deserializeAndRun(nvinfer1::IHostMemory& plan, std::vector<Shape> const& shapes,
    std::function<bool(Shape, std::vector<float> const&, std::vector<HostTensor> const&)> const& check,
    std::mt19937& rng)
{
    Ptr<nvinfer1::IRuntime> runtime(nvinfer1::createInferRuntime(gLogger));
    auto const start = std::chrono::steady_clock::now();
    Ptr<nvinfer1::ICudaEngine> engine(runtime->deserializeCudaEngine(plan.data(), plan.size()));
    double const loadSeconds = secondsSince(start);
    if (!engine)
    {
        std::printf("  deserializeCudaEngine failed\n");
        return false;
    }
    Ptr<nvinfer1::IExecutionContext> context(engine->createExecutionContext());
    std::printf("  engine: %zu bytes, load time %.3f s\n", plan.size(), loadSeconds);
    bool ok = context != nullptr;
    for (Shape const s : shapes)
    {
        std::vector<float> const input = randomInput(s, rng);
        std::vector<HostTensor> outputs;
        double latency = 0.0;
        bool const ran = ok && runEngine(*engine, *context, s, input, outputs, latency);
        std::printf("  input [%d, %d, %d, %d]: %s, latency %.3f ms\n", s.n, s.c, s.h, s.w, ran ? "ran" : "FAILED",
            latency);
        ok = ran && check(s, input, outputs) && ok;
    }
    return ok;
}

bool networkApiPath(std::mt19937& rng)
{
    std::printf("== network API: conv -> ReLU -> SpatialPyramidPooling -> FC\n");
    SppNet const net = makeNet(rng);
    Ptr<nvinfer1::IBuilder> builder(nvinfer1::createInferBuilder(gLogger));
    Ptr<nvinfer1::INetworkDefinition> network = createNetwork(*builder);
    nvinfer1::ITensor* const input
        = network->addInput("input", nvinfer1::DataType::kFLOAT, nvinfer1::Dims4(-1, SppNet::kIN, -1, -1));
    nvinfer1::Weights const convW{nvinfer1::DataType::kFLOAT, net.convWeights.data(),
        static_cast<int64_t>(net.convWeights.size())};
    nvinfer1::Weights const convB{nvinfer1::DataType::kFLOAT, net.convBias.data(), SppNet::kMID};
    nvinfer1::IConvolutionLayer* const conv
        = network->addConvolutionNd(*input, SppNet::kMID, nvinfer1::DimsHW(3, 3), convW, convB);
    conv->setPaddingNd(nvinfer1::DimsHW(1, 1));
    nvinfer1::IActivationLayer* const relu
        = network->addActivation(*conv->getOutput(0), nvinfer1::ActivationType::kRELU);

    spp::plugin::FieldWriter fields;
    spp::plugin::writeSppFields(net.pyramid, fields);
    nvinfer1::ITensor* reluOut = relu->getOutput(0);
#if NV_TENSORRT_MAJOR >= 10
    std::unique_ptr<nvinfer1::IPluginV3> plugin(createSppPlugin(fields.collection()));
    nvinfer1::ILayer* const sppLayer
        = plugin ? network->addPluginV3(&reluOut, 1, nullptr, 0, *plugin) : nullptr;
#else
    Ptr<nvinfer1::IPluginV2> plugin(createSppPlugin(fields.collection()));
    nvinfer1::ILayer* const sppLayer = plugin ? network->addPluginV2(&reluOut, 1, *plugin) : nullptr;
#endif
    if (sppLayer == nullptr)
    {
        std::printf("  could not create/add the SpatialPyramidPooling plugin\n");
        return false;
    }
    int64_t const k = net.features();
    nvinfer1::Dims fcDims{};
    fcDims.nbDims = 2;
    fcDims.d[0] = static_cast<int32_t>(k);
    fcDims.d[1] = SppNet::kOUT;
    nvinfer1::IConstantLayer* const fcW = network->addConstant(
        fcDims, nvinfer1::Weights{nvinfer1::DataType::kFLOAT, net.fcWeights.data(), k * SppNet::kOUT});
    nvinfer1::Dims biasDims = fcDims;
    biasDims.d[0] = 1;
    nvinfer1::IConstantLayer* const fcB
        = network->addConstant(biasDims, nvinfer1::Weights{nvinfer1::DataType::kFLOAT, net.fcBias.data(), SppNet::kOUT});
    nvinfer1::IMatrixMultiplyLayer* const mm = network->addMatrixMultiply(*sppLayer->getOutput(0),
        nvinfer1::MatrixOperation::kNONE, *fcW->getOutput(0), nvinfer1::MatrixOperation::kNONE);
    nvinfer1::IElementWiseLayer* const fc
        = network->addElementWise(*mm->getOutput(0), *fcB->getOutput(0), nvinfer1::ElementWiseOperation::kSUM);
    fc->getOutput(0)->setName("logits");
    network->markOutput(*fc->getOutput(0));

    Profile const profile{{1, 3, 8, 8}, {2, 3, 64, 64}, {4, 3, 160, 192}};
    double buildSeconds = 0.0;
    Ptr<nvinfer1::IHostMemory> plan = buildEngine(*builder, *network, "input", profile, buildSeconds);
    if (!plan)
    {
        std::printf("  buildSerializedNetwork failed\n");
        return false;
    }
    std::printf("  build time %.3f s\n", buildSeconds);
    std::vector<Shape> const shapes{{1, 3, 8, 8}, {2, 3, 37, 53}, {4, 3, 160, 192}};
    return deserializeAndRun(*plan, shapes,
        [&net](Shape s, std::vector<float> const& in, std::vector<HostTensor> const& outs) {
            HostTensor const* const logits = findTensor(outs, "logits");
            return logits != nullptr && close(logits->data, runCpu(net, s, in), "logits vs CPU reference");
        },
        rng);
}

#if SPP_HAVE_ONNX_PARSER
//! The pyramid of the plugin layer, read back from the plugin's own fields.
bool pluginPyramid(nvinfer1::ILayer* layer, spp::PyramidConfig& pyramid)
{
#if NV_TENSORRT_MAJOR >= 10
    if (layer->getType() != nvinfer1::LayerType::kPLUGIN_V3)
        return false;
    nvinfer1::IPluginV3& plugin = static_cast<nvinfer1::IPluginV3Layer*>(layer)->getPlugin();
    auto* const runtime = static_cast<nvinfer1::IPluginV3OneRuntime*>(
        plugin.getCapabilityInterface(nvinfer1::PluginCapabilityType::kRUNTIME));
    return runtime != nullptr && spp::plugin::parseSppFields("onnx", runtime->getFieldsToSerialize(), pyramid).ok();
#else
    if (layer->getType() != nvinfer1::LayerType::kPLUGIN_V2)
        return false;
    nvinfer1::IPluginV2& plugin = static_cast<nvinfer1::IPluginV2Layer*>(layer)->getPlugin();
    if (std::strcmp(plugin.getPluginType(), spp::kSPP_PLUGIN_NAME) != 0)
        return false;
    std::vector<uint8_t> bytes(plugin.getSerializationSize());
    plugin.serialize(bytes.data());
    spp::plugin::OwnedFields fields;
    return fields.deserialize(bytes.data(), bytes.size()).ok()
        && spp::plugin::parseSppFields("onnx", fields.collection(), pyramid).ok();
#endif
}

int32_t runOnnxPath(std::string const& path, std::mt19937& rng)
{
    std::printf("== ONNX parser: %s\n", path.c_str());
    if (!std::ifstream(path).good())
    {
        std::printf("  SKIPPED: %s not found\n", path.c_str());
        return kSKIP;
    }
    Ptr<nvinfer1::IBuilder> builder(nvinfer1::createInferBuilder(gLogger));
    Ptr<nvinfer1::INetworkDefinition> network = createNetwork(*builder);
    Ptr<nvonnxparser::IParser> parser(nvonnxparser::createParser(*network, gLogger));
    if (!parser->parseFromFile(path.c_str(), static_cast<int32_t>(nvinfer1::ILogger::Severity::kWARNING)))
    {
        std::printf("  parseFromFile failed\n");
        return 1;
    }
    nvinfer1::ILayer* sppLayer = nullptr;
    spp::PyramidConfig pyramid{};
    for (int32_t i = 0; i < network->getNbLayers() && sppLayer == nullptr; ++i)
    {
        if (pluginPyramid(network->getLayer(i), pyramid))
            sppLayer = network->getLayer(i);
    }
    if (sppLayer == nullptr)
    {
        std::printf("  no SpatialPyramidPooling plugin layer in the parsed network\n");
        return 1;
    }
    // Expose the plugin's input and output so that the plugin itself can be checked against the reference.
    nvinfer1::ITensor* const sppIn = sppLayer->getInput(0);
    nvinfer1::ITensor* const sppOut = sppLayer->getOutput(0);
    sppIn->setName("spp_input");
    sppOut->setName("spp_output");
    if (!sppIn->isNetworkInput())
        network->markOutput(*sppIn);
    if (!sppOut->isNetworkOutput())
        network->markOutput(*sppOut);
    nvinfer1::ITensor* const input = network->getInput(0);
    nvinfer1::Dims const d = input->getDimensions();
    int32_t const c = d.nbDims == 4 && d.d[1] > 0 ? static_cast<int32_t>(d.d[1]) : 3;
    Profile const profile{{1, c, 8, 8}, {2, c, 64, 64}, {4, c, 128, 160}};
    double buildSeconds = 0.0;
    Ptr<nvinfer1::IHostMemory> plan = buildEngine(*builder, *network, input->getName(), profile, buildSeconds);
    if (!plan)
    {
        std::printf("  buildSerializedNetwork failed\n");
        return 1;
    }
    std::printf("  build time %.3f s (pyramid: %d levels, %s, %s)\n", buildSeconds, pyramid.numLevels,
        spp::toString(pyramid.mode), spp::toString(pyramid.rule));
    std::vector<Shape> const shapes{{1, c, 8, 8}, {2, c, 41, 29}, {4, c, 128, 160}};
    bool const ok = deserializeAndRun(*plan, shapes,
        [&pyramid](Shape, std::vector<float> const&, std::vector<HostTensor> const& outs) {
            HostTensor const* const in = findTensor(outs, "spp_input");
            HostTensor const* const out = findTensor(outs, "spp_output");
            if (in == nullptr || out == nullptr || in->dims.nbDims != 4)
            {
                std::printf("  spp_input / spp_output missing from the engine outputs\n");
                return false;
            }
            spp::SppDesc desc{};
            desc.pyramid = pyramid;
            desc.n = in->dims.d[0];
            desc.c = in->dims.d[1];
            desc.h = in->dims.d[2];
            desc.w = in->dims.d[3];
            std::vector<float> want(static_cast<size_t>(std::max<int64_t>(spp::outputElements(desc), 0)));
            spp::Status const status = spp::sppReferenceCpu(desc, in->data.data(), want.data());
            if (!status.ok())
            {
                std::printf("  reference failed: %s\n", status.message());
                return false;
            }
            return close(out->data, want, "SpatialPyramidPooling output vs CPU reference");
        },
        rng);
    return ok ? 0 : 1;
}
#endif

} // namespace

int main(int argc, char** argv)
{
    std::string pluginPath;
    std::string onnxPath = "samples/data/sppnet_tiny.onnx";
    for (int32_t i = 1; i + 1 < argc; i += 2)
    {
        if (std::strcmp(argv[i], "--plugin") == 0)
            pluginPath = argv[i + 1];
        else if (std::strcmp(argv[i], "--onnx") == 0)
            onnxPath = argv[i + 1];
    }
    int32_t devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0)
    {
        std::printf("SKIPPED: no CUDA device available\n");
        return kSKIP;
    }
    if (pluginPath.empty() || getPluginRegistry()->loadLibrary(pluginPath.c_str()) == nullptr)
    {
        std::printf("SKIPPED: could not load the plugin library '%s' (pass --plugin)\n", pluginPath.c_str());
        return kSKIP;
    }
    std::printf("TensorRT library version %d (headers %d.%d.%d), plugin library %s\n", getInferLibVersion(),
        NV_TENSORRT_MAJOR, NV_TENSORRT_MINOR, NV_TENSORRT_PATCH, pluginPath.c_str());
    std::mt19937 rng(42);
    bool ok = networkApiPath(rng);
#if SPP_HAVE_ONNX_PARSER
    int32_t const onnx = onnxPath.empty() ? kSKIP : runOnnxPath(onnxPath, rng);
    ok = ok && onnx != 1;
#else
    std::printf("== ONNX parser: SKIPPED (built without nvonnxparser)\n");
#endif
    std::printf("%s\n", ok ? "PASSED" : "FAILED");
    return ok ? 0 : 1;
}
