// Helpers shared by the tests: random inputs in every dtype, descriptors, and element-wise comparison.
#pragma once

#include "spp/reference.h"
#include "spp/spp.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace spp
{
namespace test
{

inline PyramidConfig pyramidOf(std::vector<int32_t> const& levels, PoolMode mode, BinRule rule)
{
    PyramidConfig config;
    config.numLevels = static_cast<int32_t>(levels.size());
    for (size_t i = 0; i < levels.size() && i < static_cast<size_t>(kMAX_LEVELS); ++i)
    {
        config.levels[i] = levels[i];
    }
    config.mode = mode;
    config.rule = rule;
    return config;
}

inline PyramidConfig pyramid(std::initializer_list<int32_t> levels, PoolMode mode = PoolMode::kMAX,
    BinRule rule = BinRule::kADAPTIVE)
{
    return pyramidOf(std::vector<int32_t>(levels), mode, rule);
}

inline SppDesc makeDesc(PyramidConfig const& config, DataType dtype, Layout layout, int64_t n, int64_t c, int64_t h,
    int64_t w, int64_t channelStride = 0)
{
    SppDesc desc;
    desc.pyramid = config;
    desc.dtype = dtype;
    desc.layout = layout;
    desc.n = n;
    desc.c = c;
    desc.h = h;
    desc.w = w;
    desc.channelStride = channelStride;
    return desc;
}

//! Byte buffer holding `count` elements of `dtype` filled with random values (never all zero).
inline std::vector<uint8_t> randomTensor(DataType dtype, int64_t count, std::mt19937_64& rng)
{
    std::vector<uint8_t> bytes(static_cast<size_t>(count) * elementSize(dtype));
    std::uniform_real_distribution<float> real(-8.0F, 8.0F);
    std::uniform_int_distribution<int32_t> integer(-128, 127);
    for (int64_t i = 0; i < count; ++i)
    {
        switch (dtype)
        {
        case DataType::kFLOAT:
        {
            float const v = real(rng);
            std::memcpy(&bytes[static_cast<size_t>(i) * 4], &v, 4);
            break;
        }
        case DataType::kHALF:
        case DataType::kBF16:
        {
            float const v = real(rng);
            uint16_t const b = dtype == DataType::kHALF ? floatToHalfBits(v) : floatToBf16Bits(v);
            std::memcpy(&bytes[static_cast<size_t>(i) * 2], &b, 2);
            break;
        }
        case DataType::kINT8: bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(integer(rng)); break;
        }
    }
    return bytes;
}

inline double elementAsDouble(DataType dtype, std::vector<uint8_t> const& bytes, int64_t i)
{
    switch (dtype)
    {
    case DataType::kFLOAT:
    {
        float v;
        std::memcpy(&v, &bytes[static_cast<size_t>(i) * 4], 4);
        return v;
    }
    case DataType::kHALF:
    case DataType::kBF16:
    {
        uint16_t b;
        std::memcpy(&b, &bytes[static_cast<size_t>(i) * 2], 2);
        return dtype == DataType::kHALF ? halfBitsToFloat(b) : bf16BitsToFloat(b);
    }
    case DataType::kINT8: return static_cast<int8_t>(bytes[static_cast<size_t>(i)]);
    }
    return 0.0;
}

//! Empty string when `actual` matches `expected`: bit-exact for max and int8 (NaN matches NaN), within a
//! dtype-dependent tolerance for floating-point avg. Otherwise a description of the first mismatches.
inline std::string compareOutputs(SppDesc const& desc, std::vector<uint8_t> const& expected,
    std::vector<uint8_t> const& actual)
{
    int64_t const count = outputElements(desc);
    bool const exact = desc.pyramid.mode == PoolMode::kMAX || desc.dtype == DataType::kINT8;
    double const tolerance = desc.dtype == DataType::kFLOAT ? 2e-6 : (desc.dtype == DataType::kHALF ? 1e-3 : 8e-3);
    std::ostringstream out;
    int32_t reported = 0;
    for (int64_t i = 0; i < count && reported < 5; ++i)
    {
        double const e = elementAsDouble(desc.dtype, expected, i);
        double const a = elementAsDouble(desc.dtype, actual, i);
        bool ok;
        if (std::isnan(e) || std::isnan(a))
        {
            ok = std::isnan(e) && std::isnan(a);
        }
        else if (exact)
        {
            size_t const size = elementSize(desc.dtype);
            ok = std::memcmp(&expected[static_cast<size_t>(i) * size], &actual[static_cast<size_t>(i) * size], size) == 0;
        }
        else
        {
            ok = std::fabs(a - e) <= tolerance * (1.0 + std::fabs(e));
        }
        if (!ok)
        {
            out << " [" << i << "] expected " << e << " got " << a << ";";
            ++reported;
        }
    }
    return out.str();
}

inline std::string describe(SppDesc const& d)
{
    std::ostringstream out;
    out << toString(d.dtype) << ' ' << toString(d.layout) << ' ' << toString(d.pyramid.mode) << ' '
        << toString(d.pyramid.rule) << " N" << d.n << " C" << d.c << ' ' << d.h << 'x' << d.w << " levels{";
    for (int32_t i = 0; i < d.pyramid.numLevels; ++i)
    {
        out << (i ? "," : "") << d.pyramid.levels[i];
    }
    out << '}';
    if (d.layout == Layout::kNHWC)
    {
        out << " cs" << effectiveChannelStride(d);
    }
    return out.str();
}

} // namespace test
} // namespace spp
