// Host/device tensors for the enqueue checks: random inputs in any spp dtype, packing into TensorRT's channels-last
// formats, device buffers, poisoning, and comparison with the CPU reference. Generic over plugins.
#pragma once

#include "spp/spp.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace spp
{
namespace harness
{

//! Whether a CUDA device can be used; when not, `reason` says why (printed by skipped tests).
bool gpuAvailable(std::string& reason);

//! Whether the environment variable SPP_TRT_REQUIRE_GPU is set to a non-empty value other than 0: then a missing GPU
//! fails the GPU checks instead of skipping them (the device machine's run sets it).
bool gpuRequired();

//! Raw bytes of `count` elements of `dtype` with values drawn from [-range, range] (int8: integers in [-128, 127]).
std::vector<uint8_t> randomTensor(DataType dtype, size_t count, std::mt19937& rng, float range = 4.0F);

//! Copies a dense NCHW tensor into [N, H, W, channelStride]; padding channels get `padByte` (poison).
std::vector<uint8_t> packNhwc(std::vector<uint8_t> const& nchw, DataType dtype, int64_t n, int64_t c, int64_t h,
    int64_t w, int64_t channelStride, uint8_t padByte);

//! Element `index` as float (fp16/bf16 decoded, int8 widened).
float elementAsFloat(std::vector<uint8_t> const& bytes, DataType dtype, size_t index);

//! Compares `got` with `want` (both `count` elements of `dtype`); NaN equals NaN. Max pooling must match exactly;
//! avg within a per-dtype tolerance. On mismatch returns false and describes the first one in `detail`.
bool compareTensors(std::vector<uint8_t> const& got, std::vector<uint8_t> const& want, DataType dtype, PoolMode mode,
    size_t count, std::string& detail);

class DeviceBuffer
{
public:
    explicit DeviceBuffer(size_t bytes);
    ~DeviceBuffer();
    DeviceBuffer(DeviceBuffer const&) = delete;
    DeviceBuffer& operator=(DeviceBuffer const&) = delete;

    void* get() const noexcept
    {
        return mPointer;
    }
    size_t bytes() const noexcept
    {
        return mBytes;
    }
    bool ok() const noexcept
    {
        return mStatus == cudaSuccess;
    }
    void upload(std::vector<uint8_t> const& host);
    std::vector<uint8_t> download() const;
    void fill(uint8_t byte);

private:
    void* mPointer{nullptr};
    size_t mBytes{0};
    cudaError_t mStatus{cudaSuccess};
};

} // namespace harness
} // namespace spp
