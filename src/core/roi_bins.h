// ROI window geometry shared by the CPU reference and the CUDA kernels (docs/roi.md): Fast R-CNN RoIPool exactly as
// torchvision.ops.roi_pool computes it, in fp32, plus the invalid-roi rule. Both sides evaluate the same IEEE fp32
// operations (device code uses the explicitly rounded intrinsics, so neither fast-math nor FMA contraction can move a
// bin edge), hence they agree on every window.
#pragma once

#include "core/bins.h"
#include "spp/roi.h"

#include <cmath>
#include <cstdint>

namespace spp
{
namespace detail
{

//! A roi mapped onto the feature map: its batch image and its (unclipped) start and extent in feature cells.
struct RoiBox
{
    bool valid;    //!< false: batch index out of [0, N) or a non-finite value; the roi's output row is all zeros
    int64_t batch;
    int64_t startH;
    int64_t startW;
    int64_t height; //!< >= 1
    int64_t width;  //!< >= 1
};

SPP_HD float roiMul(float a, float b)
{
#if defined(__CUDA_ARCH__)
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}

SPP_HD float roiDiv(float a, float b)
{
#if defined(__CUDA_ARCH__)
    return __fdiv_rn(a, b);
#else
    return a / b;
#endif
}

SPP_HD bool roiFinite(float v)
{
    return v - v == 0.0F; // false for NaN and +-inf, true for every finite value (no <cmath> overload questions)
}

//! round(value * scale), half away from zero (torchvision calls round()), clamped to +-kROI_COORD_LIMIT so the
//! conversion to int64 is always defined. A finite product that overflows to inf is clamped too.
SPP_HD int64_t roiCorner(float value, float scale)
{
    float r = ::roundf(roiMul(value, scale));
    float const limit = static_cast<float>(kROI_COORD_LIMIT);
    r = r > limit ? limit : (r < -limit ? -limit : r);
    return static_cast<int64_t>(r);
}

//! One roi row (batch_index, x1, y1, x2, y2), already converted to float, against a batch of `n` images.
//! torchvision truncates the batch index toward zero; so do we, and a row is valid only when every value is finite
//! and the truncated index is in [0, n).
SPP_HD RoiBox makeRoiBox(float const* row, float scale, int64_t n)
{
    RoiBox box{false, 0, 0, 0, 1, 1};
    for (int32_t i = 0; i < kROI_COLUMNS; ++i)
    {
        if (!roiFinite(row[i]))
        {
            return box;
        }
    }
    double const b = row[0];
    if (!(b > -1.0 && b < static_cast<double>(n)))
    {
        return box;
    }
    int64_t const batch = static_cast<int64_t>(b); // truncation toward zero, as torchvision's int conversion
    if (batch >= n)
    {
        return box; // n = 0 and b in (-1, 0): truncates to image 0, which does not exist
    }
    box.valid = true;
    box.batch = batch;
    box.startW = roiCorner(row[1], scale);
    box.startH = roiCorner(row[2], scale);
    int64_t const endW = roiCorner(row[3], scale);
    int64_t const endH = roiCorner(row[4], scale);
    // "malformed" rois (end < start) become 1 x 1, as in torchvision
    box.width = endW - box.startW + 1 > 1 ? endW - box.startW + 1 : 1;
    box.height = endH - box.startH + 1 > 1 ? endH - box.startH + 1 : 1;
    return box;
}

//! Bin `i` of `numBins` along an axis: [floor(i*s) + start, ceil((i+1)*s) + start) with s = extent / numBins in fp32,
//! clipped to [0, size). May be empty (then the bin outputs 0).
SPP_HD Window roiBinWindow(int64_t start, int64_t extent, int64_t i, int64_t numBins, int64_t size)
{
    float const binSize = roiDiv(static_cast<float>(extent), static_cast<float>(numBins));
    int64_t s = static_cast<int64_t>(::floorf(roiMul(static_cast<float>(i), binSize))) + start;
    int64_t e = static_cast<int64_t>(::ceilf(roiMul(static_cast<float>(i + 1), binSize))) + start;
    s = s < 0 ? 0 : (s > size ? size : s);
    e = e < 0 ? 0 : (e > size ? size : e);
    return Window{s, e};
}

} // namespace detail
} // namespace spp
