#include "harness/tensors.h"

#include "spp/reference.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace spp
{
namespace harness
{

bool gpuAvailable(std::string& reason)
{
    int32_t count = 0;
    cudaError_t const error = cudaGetDeviceCount(&count);
    if (error != cudaSuccess)
    {
        reason = std::string("no usable CUDA device: cudaGetDeviceCount failed with ") + cudaGetErrorName(error) + " ("
            + cudaGetErrorString(error) + ")";
        cudaGetLastError();
        return false;
    }
    if (count == 0)
    {
        reason = "no CUDA device found";
        return false;
    }
    return true;
}

bool gpuRequired()
{
    char const* const value = std::getenv("SPP_TRT_REQUIRE_GPU");
    return value != nullptr && value[0] != '\0' && std::strcmp(value, "0") != 0;
}

std::vector<uint8_t> randomTensor(DataType dtype, size_t count, std::mt19937& rng, float range)
{
    std::vector<uint8_t> bytes(count * elementSize(dtype));
    std::uniform_real_distribution<float> real(-range, range);
    std::uniform_int_distribution<int32_t> integer(-128, 127);
    for (size_t i = 0; i < count; ++i)
    {
        switch (dtype)
        {
        case DataType::kFLOAT:
        {
            float const value = real(rng);
            std::memcpy(bytes.data() + 4 * i, &value, 4);
            break;
        }
        case DataType::kHALF:
        {
            uint16_t const bits = floatToHalfBits(real(rng));
            std::memcpy(bytes.data() + 2 * i, &bits, 2);
            break;
        }
        case DataType::kBF16:
        {
            uint16_t const bits = floatToBf16Bits(real(rng));
            std::memcpy(bytes.data() + 2 * i, &bits, 2);
            break;
        }
        case DataType::kINT8: bytes[i] = static_cast<uint8_t>(static_cast<int8_t>(integer(rng))); break;
        }
    }
    return bytes;
}

std::vector<uint8_t> packNhwc(std::vector<uint8_t> const& nchw, DataType dtype, int64_t n, int64_t c, int64_t h,
    int64_t w, int64_t channelStride, uint8_t padByte)
{
    size_t const es = elementSize(dtype);
    std::vector<uint8_t> out(static_cast<size_t>(n * h * w * channelStride) * es, padByte);
    for (int64_t in = 0; in < n; ++in)
    {
        for (int64_t ic = 0; ic < c; ++ic)
        {
            for (int64_t iy = 0; iy < h; ++iy)
            {
                for (int64_t ix = 0; ix < w; ++ix)
                {
                    size_t const from = static_cast<size_t>(((in * c + ic) * h + iy) * w + ix);
                    size_t const to = static_cast<size_t>(((in * h + iy) * w + ix) * channelStride + ic);
                    std::memcpy(out.data() + to * es, nchw.data() + from * es, es);
                }
            }
        }
    }
    return out;
}

float elementAsFloat(std::vector<uint8_t> const& bytes, DataType dtype, size_t index)
{
    switch (dtype)
    {
    case DataType::kFLOAT:
    {
        float value = 0.0F;
        std::memcpy(&value, bytes.data() + 4 * index, 4);
        return value;
    }
    case DataType::kHALF:
    {
        uint16_t bits = 0;
        std::memcpy(&bits, bytes.data() + 2 * index, 2);
        return halfBitsToFloat(bits);
    }
    case DataType::kBF16:
    {
        uint16_t bits = 0;
        std::memcpy(&bits, bytes.data() + 2 * index, 2);
        return bf16BitsToFloat(bits);
    }
    case DataType::kINT8: return static_cast<float>(static_cast<int8_t>(bytes[index]));
    }
    return std::nanf("");
}

bool compareTensors(std::vector<uint8_t> const& got, std::vector<uint8_t> const& want, DataType dtype, PoolMode mode,
    size_t count, std::string& detail)
{
    for (size_t i = 0; i < count; ++i)
    {
        float const g = elementAsFloat(got, dtype, i);
        float const r = elementAsFloat(want, dtype, i);
        if (std::isnan(g) || std::isnan(r))
        {
            if (std::isnan(g) && std::isnan(r))
            {
                continue;
            }
        }
        else
        {
            float tolerance = 0.0F;
            if (mode == PoolMode::kAVG)
            {
                switch (dtype)
                {
                case DataType::kFLOAT: tolerance = 1e-5F * std::fmax(1.0F, std::fabs(r)); break;
                case DataType::kHALF: tolerance = 1e-3F + 2e-3F * std::fabs(r); break;
                case DataType::kBF16: tolerance = 1e-2F * std::fmax(1.0F, std::fabs(r)); break;
                case DataType::kINT8: tolerance = 1.0F; break;
                }
            }
            if (g == r || std::fabs(g - r) <= tolerance)
            {
                continue;
            }
        }
        std::ostringstream text;
        text << "element " << i << " of " << count << ": got " << g << ", reference " << r;
        detail = text.str();
        return false;
    }
    return true;
}

DeviceBuffer::DeviceBuffer(size_t bytes)
    : mBytes(bytes)
{
    if (bytes > 0)
    {
        mStatus = cudaMalloc(&mPointer, bytes);
    }
}

DeviceBuffer::~DeviceBuffer()
{
    if (mPointer != nullptr)
    {
        cudaFree(mPointer);
    }
}

void DeviceBuffer::upload(std::vector<uint8_t> const& host)
{
    if (host.size() != mBytes)
    {
        throw std::length_error("DeviceBuffer::upload size mismatch");
    }
    if (mBytes > 0 && cudaMemcpy(mPointer, host.data(), mBytes, cudaMemcpyHostToDevice) != cudaSuccess)
    {
        throw std::runtime_error("cudaMemcpy to device failed");
    }
}

std::vector<uint8_t> DeviceBuffer::download() const
{
    std::vector<uint8_t> host(mBytes);
    if (mBytes > 0 && cudaMemcpy(host.data(), mPointer, mBytes, cudaMemcpyDeviceToHost) != cudaSuccess)
    {
        throw std::runtime_error("cudaMemcpy to host failed");
    }
    return host;
}

void DeviceBuffer::fill(uint8_t byte)
{
    if (mBytes > 0 && cudaMemset(mPointer, byte, mBytes) != cudaSuccess)
    {
        throw std::runtime_error("cudaMemset failed");
    }
}

} // namespace harness
} // namespace spp
