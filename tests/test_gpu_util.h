// Helpers shared by the GPU tests (test_cuda.cpp, test_roi_cuda.cpp): why a GPU cannot be used, the skip macro that
// prints it, and an owning device buffer.
#pragma once

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>

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

} // namespace test
} // namespace spp

#define SKIP_WITHOUT_GPU()                                                                                             \
    do                                                                                                                 \
    {                                                                                                                  \
        std::string const reason = ::spp::test::gpuUnavailableReason();                                                \
        if (!reason.empty())                                                                                           \
        {                                                                                                              \
            GTEST_SKIP() << "GPU test skipped: " << reason;                                                            \
        }                                                                                                              \
    } while (0)

#define CUDA_OK(call) ASSERT_EQ((call), cudaSuccess) << #call
