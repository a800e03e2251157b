#include "device_limits.h"

#include <cuda_runtime_api.h>

#include <atomic>

namespace spp
{
namespace device
{
namespace
{
constexpr int32_t kMAX_DEVICES = 64;
std::atomic<int32_t> gSmCount[kMAX_DEVICES] = {};
std::atomic<int32_t> gSmemOptin[kMAX_DEVICES] = {};
} // namespace

int32_t currentDevice()
{
    int32_t device = 0;
    return cudaGetDevice(&device) == cudaSuccess ? device : -1;
}

DeviceLimits deviceLimits()
{
    DeviceLimits limits{1, 48 * 1024};
    int32_t const device = currentDevice();
    if (device < 0)
    {
        cudaGetLastError(); // no device: leave no sticky error behind for the caller's launch status
        return limits;
    }
    if (device < kMAX_DEVICES)
    {
        int32_t const sms = gSmCount[device].load(std::memory_order_relaxed);
        int32_t const smem = gSmemOptin[device].load(std::memory_order_relaxed);
        if (sms > 0 && smem > 0)
        {
            return DeviceLimits{sms, smem};
        }
    }
    int32_t sms = 0;
    int32_t smem = 0;
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || sms <= 0
        || cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) != cudaSuccess || smem <= 0)
    {
        cudaGetLastError();
        return limits;
    }
    if (device < kMAX_DEVICES)
    {
        gSmCount[device].store(sms, std::memory_order_relaxed);
        gSmemOptin[device].store(smem, std::memory_order_relaxed);
    }
    return DeviceLimits{sms, smem};
}

} // namespace device
} // namespace spp
