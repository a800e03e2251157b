// The CPU reference: one output bin at a time, straight from the definition in docs/spp.md.
// Kept deliberately simple (no shared code paths with the kernels beyond the bin geometry in core/bins.h).
#include "spp/reference.h"

#include "core/bins.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace spp
{
namespace
{

double loadElement(DataType dtype, void const* base, int64_t index) noexcept
{
    switch (dtype)
    {
    case DataType::kFLOAT: return static_cast<float const*>(base)[index];
    case DataType::kHALF: return halfBitsToFloat(static_cast<uint16_t const*>(base)[index]);
    case DataType::kBF16: return bf16BitsToFloat(static_cast<uint16_t const*>(base)[index]);
    case DataType::kINT8: return static_cast<int8_t const*>(base)[index];
    }
    return 0.0;
}

void storeElement(DataType dtype, void* base, int64_t index, double value) noexcept
{
    switch (dtype)
    {
    case DataType::kFLOAT: static_cast<float*>(base)[index] = static_cast<float>(value); break;
    case DataType::kHALF: static_cast<uint16_t*>(base)[index] = floatToHalfBits(static_cast<float>(value)); break;
    case DataType::kBF16: static_cast<uint16_t*>(base)[index] = floatToBf16Bits(static_cast<float>(value)); break;
    // int8 values reach here already rounded and saturated (see poolBin).
    case DataType::kINT8: static_cast<int8_t*>(base)[index] = static_cast<int8_t>(value); break;
    }
}

// Reduces one bin. Returns the value to store (for int8 avg: the rounded, saturated integer).
double poolBin(SppDesc const& desc, void const* input, int64_t n, int64_t c, detail::Window wh, detail::Window ww,
    int64_t divisor) noexcept
{
    if (wh.end <= wh.start || ww.end <= ww.start)
    {
        return 0.0; // caffe windows that fall entirely into the padding
    }
    int64_t const cs = effectiveChannelStride(desc);
    bool const isMax = desc.pyramid.mode == PoolMode::kMAX;
    double maxValue = -std::numeric_limits<double>::infinity();
    double sum = 0.0;
    int64_t intSum = 0;
    for (int64_t h = wh.start; h < wh.end; ++h)
    {
        for (int64_t w = ww.start; w < ww.end; ++w)
        {
            int64_t const index = desc.layout == Layout::kNCHW ? ((n * desc.c + c) * desc.h + h) * desc.w + w
                                                               : ((n * desc.h + h) * desc.w + w) * cs + c;
            double const v = loadElement(desc.dtype, input, index);
            // NaN wins and stays: `v > maxValue` is false for NaN, so test it explicitly, and once maxValue is NaN
            // nothing compares greater.
            if (v > maxValue || std::isnan(v))
            {
                maxValue = std::isnan(maxValue) ? maxValue : v;
            }
            sum += v;
            intSum += static_cast<int64_t>(desc.dtype == DataType::kINT8 ? v : 0.0);
        }
    }
    if (isMax)
    {
        return maxValue;
    }
    if (desc.dtype == DataType::kINT8)
    {
        return static_cast<double>(detail::saturateInt8(detail::divRoundHalfEven(intSum, divisor)));
    }
    return sum / static_cast<double>(divisor);
}

} // namespace

Status sppReferenceCpu(SppDesc const& desc, void const* input, void* output) noexcept
{
    Status const status = validate(desc);
    if (!status.ok())
    {
        return status;
    }
    if (outputElements(desc) == 0)
    {
        return Status::success();
    }
    if (input == nullptr || output == nullptr)
    {
        return Status::error("%s is a null pointer for a non-empty tensor", input == nullptr ? "input" : "output");
    }
    int64_t const features = outputFeatures(desc.pyramid, desc.c);
    BinRule const rule = desc.pyramid.rule;
    for (int64_t n = 0; n < desc.n; ++n)
    {
        int64_t levelOffset = 0; // C * sum of L*L over the previous levels
        for (int32_t l = 0; l < desc.pyramid.numLevels; ++l)
        {
            int64_t const level = desc.pyramid.levels[l];
            for (int64_t c = 0; c < desc.c; ++c)
            {
                for (int64_t by = 0; by < level; ++by)
                {
                    detail::Window const wh = detail::binWindow(rule, by, desc.h, level);
                    for (int64_t bx = 0; bx < level; ++bx)
                    {
                        detail::Window const ww = detail::binWindow(rule, bx, desc.w, level);
                        int64_t const divisor = detail::avgDivisor(rule, wh, desc.h, level)
                            * detail::avgDivisor(rule, ww, desc.w, level);
                        int64_t const outIndex = n * features + levelOffset + (c * level + by) * level + bx;
                        storeElement(desc.dtype, output, outIndex, poolBin(desc, input, n, c, wh, ww, divisor));
                    }
                }
            }
            levelOffset += desc.c * level * level;
        }
    }
    return Status::success();
}

uint16_t floatToHalfBits(float value) noexcept
{
    uint32_t x;
    std::memcpy(&x, &value, sizeof(x));
    uint32_t const sign = (x >> 16) & 0x8000u;
    uint32_t const absX = x & 0x7fffffffu;
    if (absX > 0x7f800000u)
    {
        return static_cast<uint16_t>(sign | 0x7e00u | ((absX >> 13) & 0x3ffu)); // NaN, quiet
    }
    if (absX >= 0x477ff000u) // rounds to >= 65520: overflow to infinity (also for inf itself)
    {
        return static_cast<uint16_t>(sign | 0x7c00u);
    }
    if (absX < 0x38800000u) // below the smallest normal half, 2^-14: subnormal or zero
    {
        if (absX < 0x33000000u) // below half of the smallest subnormal 2^-24 (ties to even go to 0)
        {
            return static_cast<uint16_t>(sign);
        }
        int32_t const exponent = static_cast<int32_t>(absX >> 23); // biased, 102..112
        uint32_t const mantissa = (absX & 0x7fffffu) | 0x800000u;
        int32_t const shift = 126 - exponent; // 14..24
        uint32_t result = mantissa >> shift;
        uint32_t const remainder = mantissa & ((1u << shift) - 1u);
        uint32_t const halfway = 1u << (shift - 1);
        if (remainder > halfway || (remainder == halfway && (result & 1u)))
        {
            ++result;
        }
        return static_cast<uint16_t>(sign | result);
    }
    uint32_t result = ((absX - 0x38000000u) >> 13); // rebias 127 -> 15
    uint32_t const remainder = absX & 0x1fffu;
    if (remainder > 0x1000u || (remainder == 0x1000u && (result & 1u)))
    {
        ++result; // may carry into the exponent, which is the right answer
    }
    return static_cast<uint16_t>(sign | result);
}

float halfBitsToFloat(uint16_t bits) noexcept
{
    uint32_t const sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
    uint32_t const exponent = (bits >> 10) & 0x1fu;
    uint32_t mantissa = bits & 0x3ffu;
    uint32_t x;
    if (exponent == 0x1fu)
    {
        x = sign | 0x7f800000u | (mantissa << 13);
    }
    else if (exponent != 0)
    {
        x = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    }
    else if (mantissa == 0)
    {
        x = sign;
    }
    else
    {
        // subnormal: normalise
        int32_t e = -1;
        do
        {
            ++e;
            mantissa <<= 1;
        } while ((mantissa & 0x400u) == 0);
        x = sign | (static_cast<uint32_t>(112 - e) << 23) | ((mantissa & 0x3ffu) << 13);
    }
    float value;
    std::memcpy(&value, &x, sizeof(value));
    return value;
}

uint16_t floatToBf16Bits(float value) noexcept
{
    uint32_t x;
    std::memcpy(&x, &value, sizeof(x));
    if ((x & 0x7fffffffu) > 0x7f800000u)
    {
        return static_cast<uint16_t>((x >> 16) | 0x40u); // quiet NaN
    }
    uint32_t const rounding = 0x7fffu + ((x >> 16) & 1u);
    return static_cast<uint16_t>((x + rounding) >> 16);
}

float bf16BitsToFloat(uint16_t bits) noexcept
{
    uint32_t const x = static_cast<uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &x, sizeof(value));
    return value;
}

} // namespace spp
