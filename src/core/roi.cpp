// ROI pooling descriptors: validation and shape math (no CUDA: usable by CPU-only builds and the plugins).
// Feature-map checks reuse the image SPP validation (same fields, same wording) through an equivalent SppDesc.
#include "spp/roi.h"

#include <cmath>
#include <cstdio>

namespace spp
{
namespace
{
constexpr int64_t kINT32_MAX = 2147483647;
constexpr int64_t kINT64_MAX = 9223372036854775807LL;

//! The image-SPP descriptor of the same feature map (one level of 1), so the core checks dims and sizes.
SppDesc featureMapDesc(RoiDesc const& desc) noexcept
{
    SppDesc spp;
    spp.pyramid.numLevels = 1;
    spp.pyramid.levels[0] = 1;
    spp.dtype = desc.dtype;
    spp.layout = desc.layout;
    spp.n = desc.n;
    spp.c = desc.c;
    spp.h = desc.h;
    spp.w = desc.w;
    spp.channelStride = desc.channelStride;
    return spp;
}

Status checkScale(float scale) noexcept
{
    if (!(std::isfinite(scale) && scale > 0.0F))
    {
        return Status::error("spatial_scale = %g is invalid; it must be a finite number > 0 (image -> feature "
                             "coordinates, e.g. 0.0625 for a stride-16 feature map)",
            static_cast<double>(scale));
    }
    return Status::success();
}
} // namespace

Status validate(RoiPyramid const& pyramid) noexcept
{
    if (pyramid.numLevels <= 0 || pyramid.numLevels > kMAX_LEVELS)
    {
        return Status::error("the ROI pyramid has %d levels; give 1 to %d levels", pyramid.numLevels, kMAX_LEVELS);
    }
    for (int32_t i = 0; i < pyramid.numLevels; ++i)
    {
        int32_t const lh = pyramid.levelsH[i];
        int32_t const lw = pyramid.levelsW[i];
        if (lh < 1 || lh > kMAX_LEVEL || lw < 1 || lw > kMAX_LEVEL)
        {
            return Status::error("level %d is %d x %d; each side must be in [1, %d]", i, lh, lw, kMAX_LEVEL);
        }
    }
    if (pyramid.mode != PoolMode::kMAX && pyramid.mode != PoolMode::kAVG)
    {
        return Status::error("pool_mode %d is not a PoolMode value; allowed: kMAX (0), kAVG (1)",
            static_cast<int32_t>(pyramid.mode));
    }
    return checkScale(pyramid.spatialScale);
}

Status makeRoiPyramid(PyramidConfig const& config, float spatialScale, RoiPyramid& pyramid) noexcept
{
    PyramidConfig square = config;
    square.rule = BinRule::kADAPTIVE; // ROI windows have their own rule; only the level list is checked here
    Status status = validate(square);
    if (!status.ok())
    {
        return status;
    }
    RoiPyramid candidate;
    candidate.numLevels = config.numLevels;
    for (int32_t i = 0; i < config.numLevels; ++i)
    {
        candidate.levelsH[i] = config.levels[i];
        candidate.levelsW[i] = config.levels[i];
    }
    candidate.mode = config.mode;
    candidate.spatialScale = spatialScale;
    status = validate(candidate);
    if (status.ok())
    {
        pyramid = candidate;
    }
    return status;
}

Status makeMaxRoiPool(int32_t pooledH, int32_t pooledW, float spatialScale, RoiPyramid& pyramid) noexcept
{
    int32_t const sides[2] = {pooledH, pooledW};
    for (int32_t i = 0; i < 2; ++i)
    {
        if (sides[i] < 1 || sides[i] > kMAX_LEVEL)
        {
            return Status::error(
                "pooled_shape[%d] = %d is out of range; pooled_h and pooled_w must be in [1, %d]", i, sides[i], kMAX_LEVEL);
        }
    }
    RoiPyramid candidate;
    candidate.numLevels = 1;
    candidate.levelsH[0] = pooledH;
    candidate.levelsW[0] = pooledW;
    candidate.mode = PoolMode::kMAX;
    candidate.spatialScale = spatialScale;
    Status const status = validate(candidate);
    if (status.ok())
    {
        pyramid = candidate;
    }
    return status;
}

int64_t roiBinsPerChannel(RoiPyramid const& pyramid) noexcept
{
    if (!validate(pyramid).ok())
    {
        return 0;
    }
    int64_t bins = 0;
    for (int32_t i = 0; i < pyramid.numLevels; ++i)
    {
        bins += static_cast<int64_t>(pyramid.levelsH[i]) * pyramid.levelsW[i];
    }
    return bins;
}

int64_t roiOutputFeatures(RoiPyramid const& pyramid, int64_t channels) noexcept
{
    int64_t const bins = roiBinsPerChannel(pyramid); // <= 16 * 256 * 256 = 2^20
    if (bins == 0 || channels < 0 || channels > kINT64_MAX / bins)
    {
        return -1;
    }
    return channels * bins;
}

int64_t roiFeatureElements(RoiDesc const& desc) noexcept
{
    return inputElements(featureMapDesc(desc));
}

int64_t roiOutputElements(RoiDesc const& desc) noexcept
{
    int64_t const features = roiOutputFeatures(desc.pyramid, desc.c);
    if (features < 0 || desc.numRois < 0 || (features > 0 && desc.numRois > kINT64_MAX / features))
    {
        return -1;
    }
    return desc.numRois * features;
}

Status validate(RoiDesc const& desc) noexcept
{
    Status status = validate(desc.pyramid);
    if (!status.ok())
    {
        return status;
    }
    if (desc.dtype != DataType::kFLOAT && desc.dtype != DataType::kHALF && desc.dtype != DataType::kBF16)
    {
        return Status::error("features dtype %s (%d) is not supported for ROI pooling; allowed: fp32, fp16, bf16",
            toString(desc.dtype), static_cast<int32_t>(desc.dtype));
    }
    if (desc.roiDtype != DataType::kFLOAT && desc.roiDtype != desc.dtype)
    {
        return Status::error("rois dtype %s (%d) is not supported with %s features; allowed: fp32 or %s",
            toString(desc.roiDtype), static_cast<int32_t>(desc.roiDtype), toString(desc.dtype), toString(desc.dtype));
    }
    if (desc.numRois < 0)
    {
        return Status::error("rois K = %lld is invalid; K must be >= 0", static_cast<long long>(desc.numRois));
    }
    status = validate(featureMapDesc(desc)); // layout, N, C, H, W, channelStride, feature-map size
    if (!status.ok())
    {
        return status;
    }
    int64_t const features = roiOutputFeatures(desc.pyramid, desc.c);
    if (features < 0 || features > kINT32_MAX)
    {
        return Status::error("output features C * sum(Lh*Lw) = %lld * %lld exceed 2147483647, the largest tensor "
                             "dimension",
            static_cast<long long>(desc.c), static_cast<long long>(roiBinsPerChannel(desc.pyramid)));
    }
    if (roiOutputElements(desc) < 0 || desc.numRois > kINT64_MAX / kROI_COLUMNS)
    {
        return Status::error("output size K * C * sum(Lh*Lw) = %lld * %lld overflows int64",
            static_cast<long long>(desc.numRois), static_cast<long long>(features));
    }
    return Status::success();
}

} // namespace spp
