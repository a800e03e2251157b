// Descriptor validation, parsing and shape math (no CUDA here: usable by CPU-only builds and the plugins).
#include "spp/spp.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace spp
{
namespace
{
constexpr int64_t kINT32_MAX = 2147483647;
constexpr int64_t kINT64_MAX = 9223372036854775807LL;

// a * b, or -1 when either is negative or the product exceeds int64.
int64_t checkedMul(int64_t a, int64_t b) noexcept
{
    if (a < 0 || b < 0)
    {
        return -1;
    }
    if (a != 0 && b > kINT64_MAX / a)
    {
        return -1;
    }
    return a * b;
}

bool validPoolMode(PoolMode mode) noexcept
{
    return mode == PoolMode::kMAX || mode == PoolMode::kAVG;
}

bool validBinRule(BinRule rule) noexcept
{
    return rule == BinRule::kADAPTIVE || rule == BinRule::kCAFFE;
}

Status checkDim(char const* name, int64_t value, int64_t minimum) noexcept
{
    if (value < minimum)
    {
        return Status::error("input %s = %lld is invalid; %s must be >= %lld", name, static_cast<long long>(value),
            name, static_cast<long long>(minimum));
    }
    if (value > kINT32_MAX)
    {
        return Status::error("input %s = %lld is too large; %s must be <= 2147483647", name,
            static_cast<long long>(value), name);
    }
    return Status::success();
}
} // namespace

Status Status::error(char const* format, ...) noexcept
{
    Status status;
    status.mFailed = true;
    va_list args;
    va_start(args, format);
    std::vsnprintf(status.mMessage, sizeof(status.mMessage), format, args);
    va_end(args);
    return status;
}

Status validate(PyramidConfig const& config) noexcept
{
    if (config.numLevels <= 0)
    {
        return Status::error("levels must not be empty; give 1 to 16 pyramid levels, e.g. [1, 2, 4]");
    }
    if (config.numLevels > kMAX_LEVELS)
    {
        return Status::error(
            "levels has %d entries; at most %d pyramid levels are allowed", config.numLevels, kMAX_LEVELS);
    }
    for (int32_t i = 0; i < config.numLevels; ++i)
    {
        int32_t const level = config.levels[i];
        if (level < 1 || level > kMAX_LEVEL)
        {
            return Status::error(
                "levels[%d] = %d is out of range; each level must be in [1, %d]", i, level, kMAX_LEVEL);
        }
    }
    if (!validPoolMode(config.mode))
    {
        return Status::error("pool_mode %d is not a PoolMode value; allowed: kMAX (0), kAVG (1)",
            static_cast<int32_t>(config.mode));
    }
    if (!validBinRule(config.rule))
    {
        return Status::error("bin_rule %d is not a BinRule value; allowed: kADAPTIVE (0), kCAFFE (1)",
            static_cast<int32_t>(config.rule));
    }
    return Status::success();
}

Status makePyramidConfig(
    int32_t const* levels, int32_t numLevels, PoolMode mode, BinRule rule, PyramidConfig& config) noexcept
{
    if (numLevels > 0 && levels == nullptr)
    {
        return Status::error("levels is a null pointer but numLevels = %d", numLevels);
    }
    PyramidConfig candidate;
    candidate.numLevels = numLevels;
    candidate.mode = mode;
    candidate.rule = rule;
    for (int32_t i = 0; i < numLevels && i < kMAX_LEVELS; ++i)
    {
        candidate.levels[i] = levels[i];
    }
    Status const status = validate(candidate);
    if (status.ok())
    {
        config = candidate;
    }
    return status;
}

Status parsePoolMode(char const* text, PoolMode& mode) noexcept
{
    if (text != nullptr && std::strcmp(text, "max") == 0)
    {
        mode = PoolMode::kMAX;
        return Status::success();
    }
    if (text != nullptr && std::strcmp(text, "avg") == 0)
    {
        mode = PoolMode::kAVG;
        return Status::success();
    }
    return Status::error("pool_mode '%s' is not supported; allowed: 'max', 'avg'", text == nullptr ? "(null)" : text);
}

Status parseBinRule(char const* text, BinRule& rule) noexcept
{
    if (text != nullptr && std::strcmp(text, "adaptive") == 0)
    {
        rule = BinRule::kADAPTIVE;
        return Status::success();
    }
    if (text != nullptr && std::strcmp(text, "caffe") == 0)
    {
        rule = BinRule::kCAFFE;
        return Status::success();
    }
    return Status::error(
        "bin_rule '%s' is not supported; allowed: 'adaptive', 'caffe'", text == nullptr ? "(null)" : text);
}

char const* toString(PoolMode mode) noexcept
{
    switch (mode)
    {
    case PoolMode::kMAX: return "max";
    case PoolMode::kAVG: return "avg";
    }
    return "unknown";
}

char const* toString(BinRule rule) noexcept
{
    switch (rule)
    {
    case BinRule::kADAPTIVE: return "adaptive";
    case BinRule::kCAFFE: return "caffe";
    }
    return "unknown";
}

char const* toString(DataType dtype) noexcept
{
    switch (dtype)
    {
    case DataType::kFLOAT: return "fp32";
    case DataType::kHALF: return "fp16";
    case DataType::kBF16: return "bf16";
    case DataType::kINT8: return "int8";
    }
    return "unknown";
}

char const* toString(Layout layout) noexcept
{
    switch (layout)
    {
    case Layout::kNCHW: return "NCHW";
    case Layout::kNHWC: return "NHWC";
    }
    return "unknown";
}

size_t elementSize(DataType dtype) noexcept
{
    switch (dtype)
    {
    case DataType::kFLOAT: return 4;
    case DataType::kHALF:
    case DataType::kBF16: return 2;
    case DataType::kINT8: return 1;
    }
    return 0;
}

int64_t binsPerChannel(PyramidConfig const& config) noexcept
{
    if (!validate(config).ok())
    {
        return 0;
    }
    int64_t bins = 0;
    for (int32_t i = 0; i < config.numLevels; ++i)
    {
        bins += static_cast<int64_t>(config.levels[i]) * config.levels[i];
    }
    return bins;
}

int64_t outputFeatures(PyramidConfig const& config, int64_t channels) noexcept
{
    int64_t const bins = binsPerChannel(config);
    if (bins == 0 || channels < 0)
    {
        return -1;
    }
    return checkedMul(channels, bins);
}

int64_t effectiveChannelStride(SppDesc const& desc) noexcept
{
    return (desc.layout == Layout::kNHWC && desc.channelStride != 0) ? desc.channelStride : desc.c;
}

int64_t inputElements(SppDesc const& desc) noexcept
{
    int64_t const pixels = checkedMul(checkedMul(desc.n, desc.h), desc.w);
    return checkedMul(pixels, effectiveChannelStride(desc));
}

int64_t outputElements(SppDesc const& desc) noexcept
{
    return checkedMul(desc.n, outputFeatures(desc.pyramid, desc.c));
}

Status validate(SppDesc const& desc) noexcept
{
    Status status = validate(desc.pyramid);
    if (!status.ok())
    {
        return status;
    }
    if (elementSize(desc.dtype) == 0)
    {
        return Status::error("dtype %d is not a DataType value; allowed: kFLOAT (0), kHALF (1), kBF16 (2), kINT8 (3)",
            static_cast<int32_t>(desc.dtype));
    }
    if (desc.layout != Layout::kNCHW && desc.layout != Layout::kNHWC)
    {
        return Status::error(
            "layout %d is not a Layout value; allowed: kNCHW (0), kNHWC (1)", static_cast<int32_t>(desc.layout));
    }
    if (desc.n < 0)
    {
        return Status::error("input N = %lld is invalid; N must be >= 0", static_cast<long long>(desc.n));
    }
    if (!(status = checkDim("C", desc.c, 1)).ok() || !(status = checkDim("H", desc.h, 1)).ok()
        || !(status = checkDim("W", desc.w, 1)).ok())
    {
        return status;
    }
    if (desc.layout == Layout::kNHWC && desc.channelStride != 0 && desc.channelStride < desc.c)
    {
        return Status::error("channelStride = %lld is invalid for NHWC with C = %lld; it must be 0 (dense) or >= C",
            static_cast<long long>(desc.channelStride), static_cast<long long>(desc.c));
    }
    int64_t const features = outputFeatures(desc.pyramid, desc.c);
    if (features < 0 || features > kINT32_MAX)
    {
        return Status::error("output features C * sum(L*L) = %lld * %lld exceed 2147483647, the largest tensor dimension",
            static_cast<long long>(desc.c), static_cast<long long>(binsPerChannel(desc.pyramid)));
    }
    if (inputElements(desc) < 0)
    {
        return Status::error("input size N*H*W*C = %lld*%lld*%lld*%lld overflows int64",
            static_cast<long long>(desc.n), static_cast<long long>(desc.h), static_cast<long long>(desc.w),
            static_cast<long long>(effectiveChannelStride(desc)));
    }
    if (outputElements(desc) < 0)
    {
        return Status::error("output size N * C * sum(L*L) = %lld * %lld overflows int64",
            static_cast<long long>(desc.n), static_cast<long long>(features));
    }
    return Status::success();
}

} // namespace spp
