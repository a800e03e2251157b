// Helpers shared by the GPU tests (test_cuda.cpp, test_roi_cuda.cpp): why a GPU cannot be used, the skip macro that
// prints it, an owning device buffer, an owning non-blocking stream and an upload ordered on a stream.
//
// Stream rule for the tests: a test that launches on its own stream must put every other device operation of the
// check (uploads, poison memsets, downloads) on that same stream. cudaMemset/cudaMemcpy use the legacy default
// stream, which does not synchronise with a cudaStreamNonBlocking stream, so they race with the kernel.
#pragma once

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace spp
{
namespace test
{

inline std::string gpuUnavailableReason()
{
    int32_t count = 0;
    cudaError_t const status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess)
    {
        return std::string("no usable CUDA GPU (cudaGetDeviceCount: ") + cudaGetErrorString(status) + ")";
    }
    if (count == 0)
    {
        return "no CUDA GPU on this machine";
    }
    return {};
}

class DeviceBuffer
{
public:
    explicit DeviceBuffer(size_t bytes)
    {
        if (bytes > 0 && cudaMalloc(&mPtr, bytes) != cudaSuccess)
        {
            mPtr = nullptr;
        }
    }
    ~DeviceBuffer()
    {
        cudaFree(mPtr);
    }
    DeviceBuffer(DeviceBuffer const&) = delete;
    DeviceBuffer& operator=(DeviceBuffer const&) = delete;
    void* get() const
    {
        return mPtr;
    }

private:
    void* mPtr{nullptr};
};

//! A cudaStreamNonBlocking stream (nullptr when it cannot be created), destroyed at scope exit.
class Stream
{
public:
    Stream()
    {
        if (cudaStreamCreateWithFlags(&mStream, cudaStreamNonBlocking) != cudaSuccess)
        {
            mStream = nullptr;
        }
    }
    ~Stream()
    {
        if (mStream != nullptr)
        {
            cudaStreamDestroy(mStream);
        }
    }
    Stream(Stream const&) = delete;
    Stream& operator=(Stream const&) = delete;
    cudaStream_t get() const
    {
        return mStream;
    }

private:
    cudaStream_t mStream{nullptr};
};

//! Copies `host` to `device` in stream order (the caller keeps `host` alive until the stream is synchronised).
inline cudaError_t uploadAsync(void* device, std::vector<uint8_t> const& host, cudaStream_t stream)
{
    return host.empty() ? cudaSuccess
                        : cudaMemcpyAsync(device, host.data(), host.size(), cudaMemcpyHostToDevice, stream);
}

} // namespace test
} // namespace spp

// Without a GPU the GPU tests skip and say why; with SPP_REQUIRE_GPU=1 (set by the GPU-machine scripts) a missing
// GPU is a failure instead, so a broken driver there cannot pass as "skipped".
#define SKIP_WITHOUT_GPU()                                                                                             \
    do                                                                                                                 \
    {                                                                                                                  \
        std::string const reason = ::spp::test::gpuUnavailableReason();                                                \
        if (!reason.empty())                                                                                           \
        {                                                                                                              \
            char const* required = std::getenv("SPP_REQUIRE_GPU");                                                     \
            if (required != nullptr && std::string(required) == "1")                                                   \
            {                                                                                                          \
                FAIL() << "SPP_REQUIRE_GPU=1 but " << reason;                                                          \
            }                                                                                                          \
            GTEST_SKIP() << "GPU test skipped: " << reason;                                                            \
        }                                                                                                              \
    } while (0)

#define CUDA_OK(call) ASSERT_EQ((call), cudaSuccess) << #call
