// spp-bench: times sppForward with CUDA events (warm-up, median of many runs, inputs rotated so that L2 does not
// flatter) and reports effective bandwidth against the device read bandwidth measured in the same run.
//
//   spp-bench [--json FILE] [--runs N] [--algo auto|staged|direct|planes|columns|grid|tasks|all] [--case NAME]
#include "bench_timing.h"
#include "spp/cuda.h"
#include "spp/reference.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace
{

#define CHECK_CUDA(call)                                                                                               \
    do                                                                                                                 \
    {                                                                                                                  \
        cudaError_t const e_ = (call);                                                                                 \
        if (e_ != cudaSuccess)                                                                                         \
        {                                                                                                              \
            std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_));        \
            std::exit(1);                                                                                              \
        }                                                                                                              \
    } while (0)

struct Case
{
    char const* name;
    int64_t n, c, h, w;
    std::vector<int32_t> levels;
};

std::vector<Case> const kCASES = {
    {"N32_C256_13x13_L1236", 32, 256, 13, 13, {1, 2, 3, 6}},
    {"N1_C256_38x63_L1236", 1, 256, 38, 63, {1, 2, 3, 6}},
    {"N64_C512_32x32_L124", 64, 512, 32, 32, {1, 2, 4}},
    {"N16_C256_64x64_L124", 16, 256, 64, 64, {1, 2, 4}},
    {"N8_C256_96x96_L124", 8, 256, 96, 96, {1, 2, 4}},
};

// Reads a buffer once with 16-byte loads; the sum goes to a sink so the loads cannot be dropped.
__global__ void readKernel(int4 const* __restrict__ data, int64_t count, int32_t* sink)
{
    int32_t acc = 0;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    {
        int4 const v = __ldg(data + i);
        acc ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    if (acc == 0x13572468)
    {
        *sink = acc;
    }
}

// A read shaped for one short launch: one wave of CTAs (as many as fit at once) and four independent 16-byte loads
// in flight per thread per step. A second estimate of what a launch that only reads these bytes can take.
constexpr int32_t kWAVE_THREADS = 256;

__global__ void __launch_bounds__(kWAVE_THREADS) readWaveKernel(int4 const* __restrict__ data, int64_t count,
    int32_t* sink)
{
    int32_t acc = 0;
    int64_t const threads = static_cast<int64_t>(gridDim.x) * blockDim.x;
    int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    for (; i + 3 * threads < count; i += 4 * threads)
    {
        int4 const a = __ldg(data + i);
        int4 const b = __ldg(data + i + threads);
        int4 const c = __ldg(data + i + 2 * threads);
        int4 const d = __ldg(data + i + 3 * threads);
        acc ^= (a.x ^ a.y ^ a.z ^ a.w) ^ (b.x ^ b.y ^ b.z ^ b.w) ^ (c.x ^ c.y ^ c.z ^ c.w) ^ (d.x ^ d.y ^ d.z ^ d.w);
    }
    for (; i < count; i += threads)
    {
        int4 const v = __ldg(data + i);
        acc ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    if (acc == 0x13572468)
    {
        *sink = acc;
    }
}

// Launch-cost probe: kernels that do nothing, launched like the small-input kernels (256 CTAs of 256 threads), with a
// 16-byte parameter list and with one as large as the tasks kernel's plan (about 3.5 KiB). The difference is what a
// large parameter costs per launch (host enqueue and GPU), the rest what any launch costs.
struct LargeParams
{
    uint32_t words[860];
};

__global__ void emptyKernel(int32_t* sink, int32_t x)
{
    if (x == 0x13572468)
    {
        *sink = x;
    }
}

__global__ void emptyLargeParamsKernel(LargeParams params, int32_t* sink)
{
    if (params.words[threadIdx.x % 860] == 0x13572468U)
    {
        *sink = 1;
    }
}

float median(std::vector<float> v)
{
    std::sort(v.begin(), v.end());
    size_t const m = v.size() / 2;
    return v.size() % 2 ? v[m] : 0.5F * (v[m - 1] + v[m]);
}

// Median us per call of CUDA-graph replays: graph j (of `graphs`) holds the `calls` calls
// enqueue(stream, j * calls + b), b < calls, captured once; the graphs are replayed in turn, events around each
// replay. No host launch cost between the calls: the GPU's own time per call back to back (TensorRT engines launched
// from a CUDA graph see this). -1 when the calls cannot be captured.
template <typename Enqueue>
double graphUsPerCall(cudaStream_t stream, cudaEvent_t start, cudaEvent_t stop, int32_t graphs, int32_t calls,
    int32_t runs, Enqueue&& enqueue)
{
    std::vector<cudaGraphExec_t> execs;
    bool ok = true;
    for (int32_t j = 0; j < graphs && ok; ++j)
    {
        cudaGraph_t graph = nullptr;
        ok = cudaStreamBeginCapture(stream, cudaStreamCaptureModeRelaxed) == cudaSuccess;
        for (int32_t b = 0; b < calls && ok; ++b)
        {
            ok = enqueue(stream, j * calls + b) == cudaSuccess;
        }
        ok = cudaStreamEndCapture(stream, &graph) == cudaSuccess && ok;
        cudaGraphExec_t exec = nullptr;
        ok = ok && cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess;
        ok = ok && cudaGraphUpload(exec, stream) == cudaSuccess; // not inside the first timed replays
        if (exec != nullptr)
        {
            execs.push_back(exec);
        }
        if (graph != nullptr)
        {
            cudaGraphDestroy(graph);
        }
    }
    ok = ok && !execs.empty();
    std::vector<float> times;
    for (int32_t i = 0; i < runs + 3 && ok; ++i)
    {
        ok = cudaEventRecord(start, stream) == cudaSuccess
            && cudaGraphLaunch(execs[static_cast<size_t>(i) % execs.size()], stream) == cudaSuccess
            && cudaEventRecord(stop, stream) == cudaSuccess && cudaEventSynchronize(stop) == cudaSuccess;
        float ms = 0;
        ok = ok && cudaEventElapsedTime(&ms, start, stop) == cudaSuccess;
        if (i >= 3)
        {
            times.push_back(ms);
        }
    }
    for (cudaGraphExec_t exec : execs)
    {
        cudaGraphExecDestroy(exec);
    }
    cudaGetLastError(); // a failed capture leaves its error here; it is reported as -1
    return ok ? median(times) * 1e3 / calls : -1.0;
}

// Median ms of one read of `bytes` (a 2 GiB buffer read whole: far beyond L2).
double measureReadBandwidth(int32_t runs)
{
    size_t const bytes = size_t{2} << 30;
    void* buffer = nullptr;
    int32_t* sink = nullptr;
    CHECK_CUDA(cudaMalloc(&buffer, bytes));
    CHECK_CUDA(cudaMalloc(&sink, sizeof(int32_t)));
    CHECK_CUDA(cudaMemset(buffer, 0x3c, bytes));
    int32_t device = 0, sms = 0;
    CHECK_CUDA(cudaGetDevice(&device));
    CHECK_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    cudaEvent_t start, stop;
    CHECK_CUDA(cudaEventCreate(&start));
    CHECK_CUDA(cudaEventCreate(&stop));
    std::vector<float> times;
    for (int32_t i = 0; i < runs + 5; ++i)
    {
        CHECK_CUDA(cudaEventRecord(start));
        readKernel<<<sms * 8, 512>>>(static_cast<int4 const*>(buffer), static_cast<int64_t>(bytes / 16), sink);
        CHECK_CUDA(cudaGetLastError());
        CHECK_CUDA(cudaEventRecord(stop));
        CHECK_CUDA(cudaEventSynchronize(stop));
        float ms = 0;
        CHECK_CUDA(cudaEventElapsedTime(&ms, start, stop));
        if (i >= 5)
        {
            times.push_back(ms);
        }
    }
    CHECK_CUDA(cudaEventDestroy(start));
    CHECK_CUDA(cudaEventDestroy(stop));
    CHECK_CUDA(cudaFree(buffer));
    CHECK_CUDA(cudaFree(sink));
    return static_cast<double>(bytes) / (median(times) * 1e-3) / 1e9;
}

void fillRandom(spp::DataType dtype, void* device, int64_t count, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> dist(-4.0F, 4.0F);
    size_t const es = spp::elementSize(dtype);
    std::vector<uint8_t> host(static_cast<size_t>(count) * es);
    for (int64_t i = 0; i < count; ++i)
    {
        float const v = dist(rng);
        if (dtype == spp::DataType::kFLOAT)
        {
            std::memcpy(&host[static_cast<size_t>(i) * 4], &v, 4);
        }
        else
        {
            uint16_t const b = spp::floatToHalfBits(v);
            std::memcpy(&host[static_cast<size_t>(i) * 2], &b, 2);
        }
    }
    CHECK_CUDA(cudaMemcpy(device, host.data(), host.size(), cudaMemcpyHostToDevice));
}

struct Result
{
    std::string name;
    std::string dtype;
    std::string algo;
    double inputMiB;
    double medianUs;   // one call between two events (includes the launch latency when the GPU was idle)
    double pipelinedUs; // per call in a stream of kBATCH back-to-back calls (the GPU never waits for the host)
    double hostUs;      // host time of one sppForward call (validation, planning, launch), median over batches
    double gbps;        // from pipelinedUs
    double pctRead;
    double readUs;      // readKernel over the same rotating inputs, pipelined: a plain read of these bytes
    double waveReadUs;  // readWaveKernel, the same way
    double graphUs;     // per call in CUDA graphs of kBATCH calls (no host launch cost between calls); -1: not captured
    double readGraphUs; // readKernel over the same inputs, the same way
    double streamUs;    // pipelined like pipelinedUs, on a created non-blocking stream instead of the legacy one
};

} // namespace

int main(int argc, char** argv)
{
    char const* jsonPath = nullptr;
    char const* only = nullptr;
    int32_t runs = 100;
    std::string algoArg = "auto";
    for (int32_t i = 1; i < argc; ++i)
    {
        if (!std::strcmp(argv[i], "--json") && i + 1 < argc)
            jsonPath = argv[++i];
        else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = std::max(50, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--algo") && i + 1 < argc)
            algoArg = argv[++i];
        else if (!std::strcmp(argv[i], "--case") && i + 1 < argc)
            only = argv[++i];
        else
        {
            std::fprintf(stderr, "usage: %s [--json FILE] [--runs N>=50] [--algo auto|staged|direct|planes|columns|grid|tasks|all] [--case NAME]\n",
                argv[0]);
            return 2;
        }
    }
    std::vector<std::pair<std::string, spp::Algo>> algos;
    if (algoArg == "auto" || algoArg == "all")
        algos.emplace_back("auto", spp::Algo::kAUTO);
    if (algoArg == "staged" || algoArg == "all")
        algos.emplace_back("staged", spp::Algo::kSTAGED);
    if (algoArg == "direct" || algoArg == "all")
        algos.emplace_back("direct", spp::Algo::kDIRECT);
    if (algoArg == "planes" || algoArg == "all")
        algos.emplace_back("planes", spp::Algo::kPLANES);
    if (algoArg == "columns" || algoArg == "all")
        algos.emplace_back("columns", spp::Algo::kCOLUMNS);
    if (algoArg == "grid" || algoArg == "all")
        algos.emplace_back("grid", spp::Algo::kGRID);
    if (algoArg == "tasks" || algoArg == "all")
        algos.emplace_back("tasks", spp::Algo::kTASKS);
    if (algos.empty())
    {
        std::fprintf(stderr, "--algo must be auto, staged, direct, planes, columns, grid, tasks or all (got '%s')\n", algoArg.c_str());
        return 2;
    }

    int32_t device = 0;
    if (cudaGetDevice(&device) != cudaSuccess)
    {
        std::fprintf(stderr, "spp-bench needs a CUDA GPU\n");
        return 1;
    }
    cudaDeviceProp prop{};
    CHECK_CUDA(cudaGetDeviceProperties(&prop, device));
    double const readGBps = measureReadBandwidth(20);
    std::printf("GPU: %s (%d SMs, L2 %d MiB); measured read bandwidth %.0f GB/s\n", prop.name,
        prop.multiProcessorCount, prop.l2CacheSize >> 20, readGBps);

    std::vector<Result> results;
    cudaEvent_t start, stop;
    CHECK_CUDA(cudaEventCreate(&start));
    CHECK_CUDA(cudaEventCreate(&stop));
    int32_t* sink = nullptr; // the read kernels'
    CHECK_CUDA(cudaMalloc(&sink, sizeof(int32_t)));
    cudaStream_t graphStream = nullptr; // graph capture needs a stream other than the legacy default one
    CHECK_CUDA(cudaStreamCreateWithFlags(&graphStream, cudaStreamNonBlocking));
    // The launch probe, run before and after the cases (a launch's cost may depend on what ran before).
    struct Probe
    {
        double us[2][2]; // [small, large parameters][gpu, host] per launch, pipelined
        double graphUs;  // small parameters, from a CUDA graph
        double ownStream[2]; // small parameters, pipelined on a created non-blocking stream: [gpu, host]
    };
    // median GPU and host us per launch of batches of 20 launches on `stream`
    auto const probeLaunches = [&](cudaStream_t stream, auto&& launch, double (&result)[2]) {
        std::vector<float> gpu;
        std::vector<float> host;
        for (int32_t i = 0; i < runs + 3; ++i)
        {
            bench::BatchTime t{};
            CHECK_CUDA(bench::timeBatch(start, stop, 20, [&](int32_t b) {
                launch(stream, b);
                return cudaGetLastError();
            }, t, stream));
            if (i >= 3)
            {
                gpu.push_back(t.gpuMsPerCall);
                host.push_back(t.hostUsPerCall);
            }
        }
        result[0] = median(gpu) * 1e3;
        result[1] = median(host);
    };
    auto const launchProbe = [&](char const* when) {
        Probe probe{};
        auto const empty = [&](cudaStream_t stream, int32_t b) { emptyKernel<<<256, 256, 0, stream>>>(sink, b); };
        LargeParams params{};
        auto const large = [&](cudaStream_t stream, int32_t b) {
            params.words[0] = static_cast<uint32_t>(b);
            emptyLargeParamsKernel<<<256, 256, 0, stream>>>(params, sink);
        };
        probeLaunches(nullptr, empty, probe.us[0]);
        probeLaunches(nullptr, large, probe.us[1]);
        probeLaunches(graphStream, empty, probe.ownStream);
        probe.graphUs = graphUsPerCall(graphStream, start, stop, 1, 20, runs, [&](cudaStream_t s, int32_t b) {
            empty(s, b);
            return cudaGetLastError();
        });
        std::printf("launch probe %s (empty kernel, 256 x 256 threads, 20 back-to-back launches): %zu-byte parameters "
                    "%.2f us per launch (host %.2f us), %zu-byte parameters %.2f us (host %.2f us); on a created "
                    "stream %.2f us (host %.2f us); from a CUDA graph %.2f us\n",
            when, sizeof(int32_t*) + sizeof(int32_t), probe.us[0][0], probe.us[0][1],
            sizeof(LargeParams) + sizeof(int32_t*), probe.us[1][0], probe.us[1][1], probe.ownStream[0],
            probe.ownStream[1], probe.graphUs);
        return probe;
    };
    Probe const probeBefore = launchProbe("before the cases");
    int32_t waveBlocksPerSm = 0; // readWaveKernel: one wave
    CHECK_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&waveBlocksPerSm, readWaveKernel, kWAVE_THREADS, 0));
    for (Case const& k : kCASES)
    {
        if (only != nullptr && k.name != std::string(only))
        {
            continue;
        }
        for (spp::DataType dtype : {spp::DataType::kFLOAT, spp::DataType::kHALF})
        {
            spp::SppDesc desc;
            if (!spp::makePyramidConfig(k.levels.data(), static_cast<int32_t>(k.levels.size()), spp::PoolMode::kMAX,
                    spp::BinRule::kADAPTIVE, desc.pyramid)
                     .ok())
            {
                return 1;
            }
            desc.dtype = dtype;
            desc.n = k.n;
            desc.c = k.c;
            desc.h = k.h;
            desc.w = k.w;
            size_t const inBytes = static_cast<size_t>(spp::inputElements(desc)) * spp::elementSize(dtype);
            size_t const outBytes = static_cast<size_t>(spp::outputElements(desc)) * spp::elementSize(dtype);
            // enough distinct inputs that together they exceed 4x L2: each run reads cold data
            size_t const rotate = std::max<size_t>(2, (4 * static_cast<size_t>(prop.l2CacheSize)) / inBytes + 1);
            std::vector<void*> inputs(rotate);
            for (size_t i = 0; i < rotate; ++i)
            {
                CHECK_CUDA(cudaMalloc(&inputs[i], inBytes));
                fillRandom(dtype, inputs[i], spp::inputElements(desc), 1000 + i);
            }
            void* output = nullptr;
            CHECK_CUDA(cudaMalloc(&output, outBytes));
            size_t const wsBytes = spp::sppWorkspaceSize(desc);
            void* workspace = nullptr;
            if (wsBytes > 0)
            {
                CHECK_CUDA(cudaMalloc(&workspace, wsBytes));
            }
            // the same bytes read by readKernel and by readWaveKernel, pipelined like the calls below: what a launch
            // that only reads them takes
            auto const timeRead = [&](bool wave) {
                std::vector<float> batches;
                for (int32_t i = 0; i < runs + 3; ++i)
                {
                    bench::BatchTime t{};
                    CHECK_CUDA(bench::timeBatch(start, stop, 20, [&](int32_t b) {
                        auto const* in = static_cast<int4 const*>(inputs[static_cast<size_t>(i * 20 + b) % rotate]);
                        auto const count = static_cast<int64_t>(inBytes / 16);
                        if (wave)
                        {
                            readWaveKernel<<<prop.multiProcessorCount * waveBlocksPerSm, kWAVE_THREADS>>>(
                                in, count, sink);
                        }
                        else
                        {
                            readKernel<<<prop.multiProcessorCount * 8, 512>>>(in, count, sink);
                        }
                        return cudaGetLastError();
                    }, t));
                    if (i >= 3)
                    {
                        batches.push_back(t.gpuMsPerCall);
                    }
                }
                return median(batches) * 1e3;
            };
            double const readUs = timeRead(false);
            double const waveReadUs = timeRead(true);
            constexpr int32_t kGRAPH_CALLS = 20;
            auto const graphs = static_cast<int32_t>((rotate + kGRAPH_CALLS - 1) / kGRAPH_CALLS);
            double const readGraphUs = graphUsPerCall(graphStream, start, stop, graphs, kGRAPH_CALLS, runs,
                [&](cudaStream_t s, int32_t call) {
                    readKernel<<<prop.multiProcessorCount * 8, 512, 0, s>>>(
                        static_cast<int4 const*>(inputs[static_cast<size_t>(call) % rotate]),
                        static_cast<int64_t>(inBytes / 16), sink);
                    return cudaGetLastError();
                });
            for (auto const& [algoName, algo] : algos)
            {
                if (!spp::sppAlgoSupported(desc, algo))
                {
                    continue;
                }
                spp::LaunchOptions options;
                options.algo = algo;
                constexpr int32_t kBATCH = 20;
                // batches of kBATCH back-to-back calls on `stream`: GPU ms per call of each (past 3 warm-up batches),
                // host us per call of every batch
                auto const pipelined = [&](cudaStream_t stream, std::vector<float>& hostTimes) {
                    std::vector<float> batches;
                    for (int32_t i = 0; i < runs + 3; ++i)
                    {
                        bench::BatchTime t{};
                        CHECK_CUDA(bench::timeBatch(start, stop, kBATCH, [&](int32_t b) {
                            void const* in = inputs[static_cast<size_t>(i * kBATCH + b) % rotate];
                            return spp::sppForward(desc, in, output, workspace, wsBytes, stream, options);
                        }, t, stream));
                        hostTimes.push_back(t.hostUsPerCall);
                        if (i >= 3)
                        {
                            batches.push_back(t.gpuMsPerCall);
                        }
                    }
                    return batches;
                };
                std::vector<float> hostTimes;
                std::vector<float> const batches = pipelined(nullptr, hostTimes);
                // the same on a created non-blocking stream (what a TensorRT engine enqueues on), not the legacy one
                std::vector<float> streamHostTimes;
                std::vector<float> const streamBatches = pipelined(graphStream, streamHostTimes);
                std::vector<float> times;
                for (int32_t i = 0; i < runs + 10; ++i)
                {
                    bench::BatchTime t{};
                    CHECK_CUDA(bench::timeBatch(start, stop, 1, [&](int32_t) {
                        void const* in = inputs[static_cast<size_t>(i) % rotate];
                        return spp::sppForward(desc, in, output, workspace, wsBytes, nullptr, options);
                    }, t));
                    if (i >= 10)
                    {
                        times.push_back(t.gpuMsPerCall);
                    }
                }
                double const graphUs = graphUsPerCall(graphStream, start, stop, graphs, kGRAPH_CALLS, runs,
                    [&](cudaStream_t s, int32_t call) {
                        return spp::sppForward(desc, inputs[static_cast<size_t>(call) % rotate], output, workspace,
                            wsBytes, s, options);
                    });
                double const us = median(times) * 1e3;
                double const pipelinedUs = median(batches) * 1e3;
                double const gbps = static_cast<double>(inBytes + outBytes) / (pipelinedUs * 1e-6) / 1e9;
                results.push_back({k.name, spp::toString(dtype), algoName, static_cast<double>(inBytes) / (1 << 20), us,
                    pipelinedUs, median(hostTimes), gbps, 100.0 * gbps / readGBps, readUs, waveReadUs, graphUs,
                    readGraphUs, median(streamBatches) * 1e3});
            }
            for (void* p : inputs)
            {
                CHECK_CUDA(cudaFree(p));
            }
            CHECK_CUDA(cudaFree(output));
            CHECK_CUDA(cudaFree(workspace));
        }
    }
    Probe const probeAfter = launchProbe("after the cases");
    std::printf("\n%-24s %-5s %-7s %9s %12s %12s %8s %8s %7s %8s %6s %8s %9s %9s %9s\n", "case", "dtype", "algo",
        "input MiB", "1 call us", "pipelined us", "host us", "GB/s", "% read", "read us", "/read", "wave us",
        "graph us", "rd graph", "stream us");
    for (Result const& r : results)
    {
        std::printf("%-24s %-5s %-7s %9.1f %12.2f %12.2f %8.2f %8.0f %6.1f%% %8.2f %5.0f%% %8.2f %9.2f %9.2f %9.2f\n",
            r.name.c_str(), r.dtype.c_str(), r.algo.c_str(), r.inputMiB, r.medianUs, r.pipelinedUs, r.hostUs, r.gbps,
            r.pctRead, r.readUs, 100.0 * r.readUs / r.pipelinedUs, r.waveReadUs, r.graphUs, r.readGraphUs,
            r.streamUs);
    }
    std::printf("(1 call: events around a single call, median of %d; pipelined: events around 20 back-to-back calls "
                "on rotating inputs / 20, median of %d; GB/s = (input + output bytes) / pipelined time; read us / wave "
                "us: readKernel (8 CTAs x 512 per SM, one load per step) / readWaveKernel (one wave, 4 loads per step) "
                "over the same input bytes, pipelined; /read = read us / pipelined us; graph us / rd graph: the call / "
                "readKernel replayed from CUDA graphs of 20 calls on rotating inputs, per call: no host launch cost in "
                "between; stream us: pipelined, on a created non-blocking stream instead of the legacy default one)\n",
        runs, runs);
    if (jsonPath != nullptr)
    {
        FILE* f = std::fopen(jsonPath, "w");
        if (f == nullptr)
        {
            std::fprintf(stderr, "cannot write %s\n", jsonPath);
            return 1;
        }
        std::fprintf(f,
            "{\n  \"gpu\": \"%s\",\n  \"read_bandwidth_gbps\": %.1f,\n  \"runs\": %d,\n"
            "  \"empty_launch_us\": {\"small_params\": %.3f, \"small_params_host\": %.3f, \"large_params\": %.3f, "
            "\"large_params_host\": %.3f, \"graph\": %.3f, \"small_params_after\": %.3f, "
            "\"small_params_host_after\": %.3f, \"graph_after\": %.3f, \"own_stream\": %.3f, "
            "\"own_stream_host\": %.3f, \"own_stream_after\": %.3f},\n  \"results\": [\n",
            prop.name, readGBps, runs, probeBefore.us[0][0], probeBefore.us[0][1], probeBefore.us[1][0],
            probeBefore.us[1][1], probeBefore.graphUs, probeAfter.us[0][0], probeAfter.us[0][1], probeAfter.graphUs,
            probeBefore.ownStream[0], probeBefore.ownStream[1], probeAfter.ownStream[0]);
        for (size_t i = 0; i < results.size(); ++i)
        {
            Result const& r = results[i];
            std::fprintf(f,
                "    {\"case\": \"%s\", \"dtype\": \"%s\", \"algo\": \"%s\", \"input_mib\": %.2f, \"median_us\": %.3f, "
                "\"pipelined_us\": %.3f, \"host_us\": %.3f, \"gbps\": %.1f, \"pct_read_bw\": %.1f, "
                "\"same_size_read_us\": %.3f, \"same_size_wave_read_us\": %.3f, \"graph_us\": %.3f, "
                "\"same_size_read_graph_us\": %.3f, \"stream_pipelined_us\": %.3f}%s\n",
                r.name.c_str(), r.dtype.c_str(), r.algo.c_str(), r.inputMiB, r.medianUs, r.pipelinedUs, r.hostUs, r.gbps,
                r.pctRead, r.readUs, r.waveReadUs, r.graphUs, r.readGraphUs, r.streamUs,
                i + 1 < results.size() ? "," : "");
        }
        std::fprintf(f, "  ]\n}\n");
        std::fclose(f);
    }
    CHECK_CUDA(cudaStreamDestroy(graphStream));
    CHECK_CUDA(cudaFree(sink));
    return 0;
}
