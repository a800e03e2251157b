// The ROI pooling CPU reference: one output bin at a time, straight from docs/roi.md. Shares only the window geometry
// (core/roi_bins.h) with the kernels; the tests check that geometry against hand-computed windows.
#include "spp/reference.h"
#include "spp/roi.h"

#include "core/roi_bins.h"

#include <cmath>
#include <limits>

namespace spp
{
namespace
{

float toFloat(DataType dtype, void const* base, int64_t index) noexcept
{
    if (dtype == DataType::kFLOAT)
    {
        return static_cast<float const*>(base)[index];
    }
    uint16_t const bits = static_cast<uint16_t const*>(base)[index];
    return dtype == DataType::kHALF ? halfBitsToFloat(bits) : bf16BitsToFloat(bits);
}

void fromFloat(DataType dtype, void* base, int64_t index, float value) noexcept
{
    if (dtype == DataType::kFLOAT)
    {
        static_cast<float*>(base)[index] = value;
        return;
    }
    static_cast<uint16_t*>(base)[index] = dtype == DataType::kHALF ? floatToHalfBits(value) : floatToBf16Bits(value);
}

// Max (NaN wins and stays, -inf stays) or mean of the window; 0 for an empty window.
float poolWindow(RoiDesc const& desc, void const* features, int64_t batch, int64_t c, detail::Window wh,
    detail::Window ww) noexcept
{
    if (wh.end <= wh.start || ww.end <= ww.start)
    {
        return 0.0F;
    }
    int64_t const cs = desc.layout == Layout::kNHWC && desc.channelStride != 0 ? desc.channelStride : desc.c;
    double maxValue = -std::numeric_limits<double>::infinity();
    double sum = 0.0;
    for (int64_t y = wh.start; y < wh.end; ++y)
    {
        for (int64_t x = ww.start; x < ww.end; ++x)
        {
            int64_t const index = desc.layout == Layout::kNCHW ? ((batch * desc.c + c) * desc.h + y) * desc.w + x
                                                               : ((batch * desc.h + y) * desc.w + x) * cs + c;
            double const v = toFloat(desc.dtype, features, index);
            if (std::isnan(v) || std::isnan(maxValue))
            {
                maxValue = std::numeric_limits<double>::quiet_NaN();
            }
            else if (v > maxValue)
            {
                maxValue = v;
            }
            sum += v;
        }
    }
    if (desc.pyramid.mode == PoolMode::kMAX)
    {
        return static_cast<float>(maxValue);
    }
    return static_cast<float>(sum / static_cast<double>((wh.end - wh.start) * (ww.end - ww.start)));
}

} // namespace

Status roiReferenceCpu(RoiDesc const& desc, void const* features, void const* rois, void* output) noexcept
{
    Status const status = validate(desc);
    if (!status.ok())
    {
        return status;
    }
    if (roiOutputElements(desc) == 0)
    {
        return Status::success();
    }
    if (rois == nullptr || output == nullptr || (features == nullptr && roiFeatureElements(desc) > 0))
    {
        return Status::error("%s is a null pointer for a non-empty tensor",
            rois == nullptr ? "rois" : (output == nullptr ? "output" : "features"));
    }
    int64_t const outFeatures = roiOutputFeatures(desc.pyramid, desc.c);
    for (int64_t k = 0; k < desc.numRois; ++k)
    {
        float row[kROI_COLUMNS];
        for (int32_t i = 0; i < kROI_COLUMNS; ++i)
        {
            row[i] = toFloat(desc.roiDtype, rois, k * kROI_COLUMNS + i);
        }
        detail::RoiBox const box = detail::makeRoiBox(row, desc.pyramid.spatialScale, desc.n);
        int64_t levelOffset = 0;
        for (int32_t l = 0; l < desc.pyramid.numLevels; ++l)
        {
            int64_t const lh = desc.pyramid.levelsH[l];
            int64_t const lw = desc.pyramid.levelsW[l];
            for (int64_t c = 0; c < desc.c; ++c)
            {
                for (int64_t by = 0; by < lh; ++by)
                {
                    detail::Window const wh = detail::roiBinWindow(box.startH, box.height, by, lh, desc.h);
                    for (int64_t bx = 0; bx < lw; ++bx)
                    {
                        detail::Window const ww = detail::roiBinWindow(box.startW, box.width, bx, lw, desc.w);
                        float const value = box.valid ? poolWindow(desc, features, box.batch, c, wh, ww) : 0.0F;
                        fromFloat(desc.dtype, output, k * outFeatures + levelOffset + (c * lh + by) * lw + bx, value);
                    }
                }
            }
            levelOffset += desc.c * lh * lw;
        }
    }
    return Status::success();
}

} // namespace spp
