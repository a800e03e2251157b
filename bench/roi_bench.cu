// roi-bench: times roiForward with CUDA events on the SPP-net detection case (features 1x256x38x63 NCHW, K = 2000 random
// windows, levels {1,2,3,6}) in fp32 and fp16, max and avg, for each kernel (spp::RoiAlgo: auto, planes, direct,
// segments, slices; segments includes its NCHW -> NHWC transpose into the workspace, slices its prep kernel: the roi
// table and the NHWC copy).
// Warm-up, then two medians over --runs (>= 50), each call on the next of 8 input sets (features + rois) so that no call
// reuses the previous one's data in L2 (as spp-bench):
//  - "1 call": one roiForward between two events after the GPU went idle, so it includes the host's enqueue latency;
//  - "pipelined": per call in batches of 20 back-to-back calls (the GPU never waits for the host): the GPU time;
// and the host time of one roiForward call (validation, planning, launches).
// The first result of each case and algo is checked against the CPU reference before timing (max bit-exact).
//
//   roi-bench [--json FILE] [--runs N] [--k K] [--algo auto|planes|direct|segments|slices]
#include "bench_timing.h"
#include "spp/reference.h"
#include "spp/roi.h"
#include "spp/roi_cuda.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <iterator>
#include <cmath>
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

constexpr int32_t kSETS = 8;
char const* const algoNames[] = {"auto", "planes", "direct", "segments", "slices"}; // spp::RoiAlgo order

//! Random proposals in a 600 x 1008 image (38 x 63 at stride 16): x1, y1 uniform, width and height uniform in
//! [16, 400] pixels, clipped to the image - the same generator as bench/torchvision_roi_bench.py.
std::vector<float> proposals(int64_t k, std::mt19937& rng)
{
    std::uniform_real_distribution<float> ux(0.0F, 1008.0F), uy(0.0F, 600.0F), us(16.0F, 400.0F);
    std::vector<float> rows;
    for (int64_t i = 0; i < k; ++i)
    {
        float const x1 = ux(rng), y1 = uy(rng);
        rows.insert(rows.end(), {0.0F, x1, y1, std::min(x1 + us(rng), 1007.0F), std::min(y1 + us(rng), 599.0F)});
    }
    return rows;
}

float median(std::vector<float> v)
{
    std::sort(v.begin(), v.end());
    size_t const m = v.size() / 2;
    return v.size() % 2 ? v[m] : 0.5F * (v[m - 1] + v[m]);
}

} // namespace

int main(int argc, char** argv)
{
    char const* jsonPath = nullptr;
    int32_t runs = 200;
    int64_t k = 2000;
    char const* only = nullptr; // --algo: time this kernel only
    for (int32_t i = 1; i < argc; ++i)
    {
        if (!std::strcmp(argv[i], "--json") && i + 1 < argc)
            jsonPath = argv[++i];
        else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = std::max(50, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--k") && i + 1 < argc)
            k = std::atoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--algo") && i + 1 < argc
            && std::find_if(std::begin(algoNames), std::end(algoNames),
                   [&](char const* name) { return !std::strcmp(name, argv[i + 1]); })
                != std::end(algoNames))
            only = argv[++i];
        else
        {
            std::fprintf(stderr,
                "usage: %s [--json FILE] [--runs N>=50] [--k K] [--algo auto|planes|direct|segments|slices]\n",
                argv[0]);
            return 2;
        }
    }
    cudaDeviceProp prop{};
    int32_t device = 0;
    CHECK_CUDA(cudaGetDevice(&device));
    CHECK_CUDA(cudaGetDeviceProperties(&prop, device));
    std::printf("roi-bench on %s: features 1x256x38x63, K = %lld, levels {1,2,3,6}, scale 1/16, median of %d\n",
        prop.name, static_cast<long long>(k), runs);

    std::string json = "{\"device\": \"" + std::string(prop.name) + "\", \"k\": " + std::to_string(k) + ", \"results\": [";
    int32_t status = 0;
    bool first = true;
    for (spp::DataType dtype : {spp::DataType::kFLOAT, spp::DataType::kHALF})
    {
        for (spp::PoolMode mode : {spp::PoolMode::kMAX, spp::PoolMode::kAVG})
        {
            spp::RoiDesc desc;
            spp::PyramidConfig config;
            int32_t const levels[4] = {1, 2, 3, 6};
            if (!spp::makePyramidConfig(levels, 4, mode, spp::BinRule::kADAPTIVE, config).ok()
                || !spp::makeRoiPyramid(config, 1.0F / 16.0F, desc.pyramid).ok())
            {
                return 1;
            }
            desc.dtype = dtype;
            desc.roiDtype = spp::DataType::kFLOAT;
            desc.n = 1, desc.c = 256, desc.h = 38, desc.w = 63, desc.numRois = k;
            size_t const es = spp::elementSize(dtype);
            size_t const inBytes = static_cast<size_t>(spp::roiFeatureElements(desc)) * es;
            size_t const outBytes = static_cast<size_t>(spp::roiOutputElements(desc)) * es;
            size_t const roiBytes = static_cast<size_t>(k) * 5 * sizeof(float);
            std::mt19937 rng(7 + static_cast<uint32_t>(dtype));
            std::normal_distribution<float> normal(0.0F, 2.0F);
            std::vector<void*> in(kSETS), rois(kSETS), out(kSETS);
            std::vector<std::vector<uint8_t>> hostIn(kSETS);
            std::vector<std::vector<float>> hostRois(kSETS);
            for (int32_t s = 0; s < kSETS; ++s)
            {
                hostIn[s].resize(inBytes);
                for (size_t i = 0; i < inBytes / es; ++i)
                {
                    float const v = normal(rng);
                    if (dtype == spp::DataType::kFLOAT)
                        std::memcpy(&hostIn[s][i * 4], &v, 4);
                    else
                    {
                        uint16_t const b = spp::floatToHalfBits(v);
                        std::memcpy(&hostIn[s][i * 2], &b, 2);
                    }
                }
                hostRois[s] = proposals(k, rng);
                CHECK_CUDA(cudaMalloc(&in[s], inBytes));
                CHECK_CUDA(cudaMalloc(&rois[s], roiBytes));
                CHECK_CUDA(cudaMalloc(&out[s], outBytes));
                CHECK_CUDA(cudaMemcpy(in[s], hostIn[s].data(), inBytes, cudaMemcpyHostToDevice));
                CHECK_CUDA(cudaMemcpy(rois[s], hostRois[s].data(), roiBytes, cudaMemcpyHostToDevice));
            }
            size_t const wsBytes = spp::roiWorkspaceSize(desc);
            void* workspace = nullptr;
            CHECK_CUDA(cudaMalloc(&workspace, wsBytes > 0 ? wsBytes : 1));
            std::vector<uint8_t> want(outBytes);
            if (!spp::roiReferenceCpu(desc, hostIn[0].data(), hostRois[0].data(), want.data()).ok())
                return 1;
            for (spp::RoiAlgo algo : {spp::RoiAlgo::kAUTO, spp::RoiAlgo::kPLANES, spp::RoiAlgo::kDIRECT,
                     spp::RoiAlgo::kSEGMENTS, spp::RoiAlgo::kSLICES})
            {
                char const* const algoName = algoNames[static_cast<int32_t>(algo)];
                if (!spp::roiAlgoSupported(desc, algo, wsBytes) || (only != nullptr && std::strcmp(only, algoName)))
                    continue;
                spp::RoiLaunchOptions const options{algo};
                // correctness of what is timed
                CHECK_CUDA(cudaMemset(out[0], 0xff, outBytes));
                CHECK_CUDA(spp::roiForward(desc, in[0], rois[0], out[0], workspace, wsBytes, nullptr, options));
                CHECK_CUDA(cudaDeviceSynchronize());
                std::vector<uint8_t> got(outBytes);
                CHECK_CUDA(cudaMemcpy(got.data(), out[0], outBytes, cudaMemcpyDeviceToHost));
                int64_t bad = 0;
                for (size_t i = 0; i < outBytes / es; ++i)
                {
                    float a, e;
                    if (dtype == spp::DataType::kFLOAT)
                    {
                        std::memcpy(&a, &got[i * 4], 4);
                        std::memcpy(&e, &want[i * 4], 4);
                    }
                    else
                    {
                        uint16_t ba, be;
                        std::memcpy(&ba, &got[i * 2], 2);
                        std::memcpy(&be, &want[i * 2], 2);
                        a = spp::halfBitsToFloat(ba);
                        e = spp::halfBitsToFloat(be);
                    }
                    bool const ok = mode == spp::PoolMode::kMAX ? a == e : std::fabs(a - e) <= 2e-3F * (1.0F + std::fabs(e));
                    bad += ok ? 0 : 1;
                }
                cudaEvent_t start, stop;
                CHECK_CUDA(cudaEventCreate(&start));
                CHECK_CUDA(cudaEventCreate(&stop));
                for (int32_t i = 0; i < 20; ++i) // warm-up
                    CHECK_CUDA(spp::roiForward(
                        desc, in[i % kSETS], rois[i % kSETS], out[i % kSETS], workspace, wsBytes, nullptr, options));
                constexpr int32_t kBATCH = 20;
                std::vector<float> batches;
                std::vector<float> hostTimes;
                std::vector<float> times;
                for (int32_t r = 0; r < runs; ++r)
                {
                    bench::BatchTime t{};
                    CHECK_CUDA(bench::timeBatch(start, stop, kBATCH, [&](int32_t i) {
                        int32_t const s = (r * kBATCH + i) % kSETS;
                        return spp::roiForward(desc, in[s], rois[s], out[s], workspace, wsBytes, nullptr, options);
                    }, t));
                    batches.push_back(t.gpuMsPerCall);
                    hostTimes.push_back(t.hostUsPerCall);
                }
                for (int32_t r = 0; r < runs; ++r)
                {
                    bench::BatchTime t{};
                    CHECK_CUDA(bench::timeBatch(start, stop, 1, [&](int32_t) {
                        int32_t const s = r % kSETS;
                        return spp::roiForward(desc, in[s], rois[s], out[s], workspace, wsBytes, nullptr, options);
                    }, t));
                    times.push_back(t.gpuMsPerCall);
                }
                float const us = median(times) * 1000.0F;
                float const pipelinedUs = median(batches) * 1000.0F;
                float const hostUs = median(hostTimes);
                double const gbs = static_cast<double>(outBytes) / (pipelinedUs * 1e-6) / 1e9;
                std::printf("  %-4s %-3s %-8s median 1 call %8.1f us, pipelined %8.1f us, host %5.1f us  (output %.1f MB "
                            "written: %.0f GB/s pipelined)  mismatches vs reference: %lld\n",
                    spp::toString(dtype), spp::toString(mode), algoName, us, pipelinedUs, hostUs,
                    static_cast<double>(outBytes) / 1e6, gbs, static_cast<long long>(bad));
                status |= bad != 0;
                json += std::string(first ? "" : ", ") + "{\"dtype\": \"" + spp::toString(dtype) + "\", \"mode\": \""
                    + spp::toString(mode) + "\", \"algo\": \"" + algoName + "\", \"median_us\": " + std::to_string(us) + ", \"pipelined_us\": " + std::to_string(pipelinedUs)
                    + ", \"host_us\": " + std::to_string(hostUs) + ", \"runs\": "
                    + std::to_string(runs) + ", \"mismatches\": " + std::to_string(bad) + "}";
                first = false;
                CHECK_CUDA(cudaEventDestroy(start));
                CHECK_CUDA(cudaEventDestroy(stop));
            }
            CHECK_CUDA(cudaFree(workspace));
            for (int32_t s = 0; s < kSETS; ++s)
            {
                CHECK_CUDA(cudaFree(in[s]));
                CHECK_CUDA(cudaFree(rois[s]));
                CHECK_CUDA(cudaFree(out[s]));
            }
        }
    }
    json += "]}\n";
    if (jsonPath != nullptr)
    {
        FILE* f = std::fopen(jsonPath, "w");
        if (f != nullptr)
        {
            std::fputs(json.c_str(), f);
            std::fclose(f);
        }
    }
    return status;
}
