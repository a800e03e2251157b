// spp-demo: one SPP configuration, three feature maps of different sizes, one fixed-length output.
// Runs on the GPU when spp-trt was built with CUDA and a GPU is present; otherwise on the CPU reference.
#include "spp/reference.h"
#include "spp/spp.h"
#if SPP_DEMO_WITH_CUDA
#include "spp/cuda.h"

#include <cuda_runtime_api.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

namespace
{

#if SPP_DEMO_WITH_CUDA
bool gpuPresent()
{
    int32_t count = 0;
    return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

// Pools on the GPU; returns the median of 20 timed calls in microseconds, or a negative value on a CUDA error.
double poolOnGpu(spp::SppDesc const& desc, std::vector<float> const& input, std::vector<float>& output)
{
    void* in = nullptr;
    void* out = nullptr;
    size_t const inBytes = input.size() * sizeof(float);
    size_t const outBytes = output.size() * sizeof(float);
    if (cudaMalloc(&in, inBytes) != cudaSuccess || cudaMalloc(&out, outBytes) != cudaSuccess
        || cudaMemcpy(in, input.data(), inBytes, cudaMemcpyHostToDevice) != cudaSuccess)
    {
        cudaFree(in);
        return -1.0;
    }
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    std::vector<float> times;
    cudaError_t status = cudaSuccess;
    for (int32_t i = 0; i < 25 && status == cudaSuccess; ++i)
    {
        cudaEventRecord(start);
        status = spp::sppForward(desc, in, out, nullptr, 0, nullptr);
        cudaEventRecord(stop);
        cudaEventSynchronize(stop);
        float ms = 0;
        cudaEventElapsedTime(&ms, start, stop);
        if (i >= 5)
        {
            times.push_back(ms * 1000.0F);
        }
    }
    if (status == cudaSuccess)
    {
        status = cudaMemcpy(output.data(), out, outBytes, cudaMemcpyDeviceToHost);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    cudaFree(in);
    cudaFree(out);
    if (status != cudaSuccess)
    {
        std::fprintf(stderr, "CUDA error: %s\n", cudaGetErrorString(status));
        return -1.0;
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}
#endif

} // namespace

int main()
{
    int32_t const levels[] = {1, 2, 3, 6};
    spp::PyramidConfig config;
    spp::Status status = spp::makePyramidConfig(levels, 4, spp::PoolMode::kMAX, spp::BinRule::kADAPTIVE, config);
    if (!status.ok())
    {
        std::fprintf(stderr, "bad config: %s\n", status.message());
        return 1;
    }
    int64_t const channels = 256;
    bool useGpu = false;
#if SPP_DEMO_WITH_CUDA
    useGpu = gpuPresent();
#endif
    std::printf("spp-trt demo: levels {1,2,3,6}, max, adaptive bins, C = %lld, on the %s\n",
        static_cast<long long>(channels), useGpu ? "GPU (CUDA kernels)" : "CPU (reference; no GPU found)");
    std::printf("every map gives C * (1 + 4 + 9 + 36) = %lld features per image\n\n",
        static_cast<long long>(spp::outputFeatures(config, channels)));

    std::mt19937 rng(7);
    std::uniform_real_distribution<float> dist(-1.0F, 1.0F);
    int64_t const sizes[][2] = {{13, 13}, {24, 37}, {5, 4}};
    for (auto const& hw : sizes)
    {
        spp::SppDesc desc;
        desc.pyramid = config;
        desc.n = 2;
        desc.c = channels;
        desc.h = hw[0];
        desc.w = hw[1];
        if (!(status = spp::validate(desc)).ok())
        {
            std::fprintf(stderr, "bad shape: %s\n", status.message());
            return 1;
        }
        std::vector<float> input(static_cast<size_t>(spp::inputElements(desc)));
        for (float& v : input)
        {
            v = dist(rng);
        }
        std::vector<float> output(static_cast<size_t>(spp::outputElements(desc)));
        std::vector<float> reference(output.size());
        auto const t0 = std::chrono::steady_clock::now();
        status = spp::sppReferenceCpu(desc, input.data(), reference.data());
        double const cpuUs = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
        if (!status.ok())
        {
            std::fprintf(stderr, "reference failed: %s\n", status.message());
            return 1;
        }
        double gpuUs = -1.0;
#if SPP_DEMO_WITH_CUDA
        if (useGpu && (gpuUs = poolOnGpu(desc, input, output)) < 0)
        {
            return 1;
        }
#endif
        if (!useGpu)
        {
            output = reference;
        }
        size_t mismatches = 0;
        for (size_t i = 0; i < output.size(); ++i)
        {
            mismatches += output[i] != reference[i] ? 1 : 0; // max pooling is exact
        }
        std::printf("input [2, %lld, %3lld, %3lld] -> output [2, %lld]   CPU reference %8.1f us", static_cast<long long>(channels),
            static_cast<long long>(desc.h), static_cast<long long>(desc.w),
            static_cast<long long>(spp::outputFeatures(config, channels)), cpuUs);
        if (useGpu)
        {
            std::printf("   GPU %6.2f us (median of 20), %zu mismatches", gpuUs, mismatches);
        }
        std::printf("\n");
        if (mismatches != 0)
        {
            return 1;
        }
    }
    return 0;
}
