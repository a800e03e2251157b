// Helpers shared by the ROI tests: descriptors, roi rows in any roi dtype, random rois that include the edge cases
// (border, outside the map, degenerate, out-of-range batch index, non-finite), and output comparison.
#pragma once

#include "spp/reference.h"
#include "spp/roi.h"
#include "test_util.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace spp
{
namespace test
{

//! Square levels (RoiSpatialPyramidPooling) or, with `rect`, explicit (Lh, Lw) pairs.
inline RoiDesc makeRoiDesc(std::vector<std::pair<int32_t, int32_t>> const& levels, PoolMode mode, float scale,
    DataType dtype, DataType roiDtype, Layout layout, int64_t n, int64_t c, int64_t h, int64_t w, int64_t k,
    int64_t channelStride = 0)
{
    RoiDesc desc;
    desc.pyramid.numLevels = static_cast<int32_t>(levels.size());
    for (size_t i = 0; i < levels.size() && i < static_cast<size_t>(kMAX_LEVELS); ++i)
    {
        desc.pyramid.levelsH[i] = levels[i].first;
        desc.pyramid.levelsW[i] = levels[i].second;
    }
    desc.pyramid.mode = mode;
    desc.pyramid.spatialScale = scale;
    desc.dtype = dtype;
    desc.roiDtype = roiDtype;
    desc.layout = layout;
    desc.n = n;
    desc.c = c;
    desc.h = h;
    desc.w = w;
    desc.channelStride = channelStride;
    desc.numRois = k;
    return desc;
}

inline std::vector<std::pair<int32_t, int32_t>> squareLevels(std::vector<int32_t> const& levels)
{
    std::vector<std::pair<int32_t, int32_t>> out;
    for (int32_t l : levels)
    {
        out.emplace_back(l, l);
    }
    return out;
}

//! Roi rows (float) as bytes of `roiDtype`.
inline std::vector<uint8_t> encodeRois(std::vector<float> const& rows, DataType roiDtype)
{
    std::vector<uint8_t> bytes(rows.size() * elementSize(roiDtype));
    for (size_t i = 0; i < rows.size(); ++i)
    {
        if (roiDtype == DataType::kFLOAT)
        {
            std::memcpy(&bytes[i * 4], &rows[i], 4);
        }
        else
        {
            uint16_t const b = roiDtype == DataType::kHALF ? floatToHalfBits(rows[i]) : floatToBf16Bits(rows[i]);
            std::memcpy(&bytes[i * 2], &b, 2);
        }
    }
    return bytes;
}

//! `k` roi rows in image coordinates for a feature map h x w at `scale`: mostly ordinary windows, and every few rows
//! one of the edge cases. Coordinates are multiples of 0.25 (exact in fp16 and, for small maps, bf16) and often land
//! on .5 after scaling, so the rounding mode matters.
inline std::vector<float> randomRois(int64_t k, int64_t n, int64_t h, int64_t w, float scale, std::mt19937_64& rng)
{
    float const imageH = static_cast<float>(h) / scale;
    float const imageW = static_cast<float>(w) / scale;
    std::uniform_real_distribution<float> unit(0.0F, 1.0F);
    auto quarter = [](float v) { return std::round(v * 4.0F) / 4.0F; };
    std::vector<float> rows;
    rows.reserve(static_cast<size_t>(k) * kROI_COLUMNS);
    float const nan = std::numeric_limits<float>::quiet_NaN();
    float const inf = std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < k; ++i)
    {
        float batch = static_cast<float>(static_cast<int64_t>(unit(rng) * static_cast<float>(n > 0 ? n : 1)));
        float x1 = quarter(unit(rng) * imageW);
        float y1 = quarter(unit(rng) * imageH);
        float x2 = quarter(x1 + unit(rng) * imageW * 0.6F);
        float y2 = quarter(y1 + unit(rng) * imageH * 0.6F);
        switch (i % 13)
        {
        case 3: x1 = -quarter(unit(rng) * imageW * 0.5F), y2 = imageH * 1.5F; break; // over the border
        case 5: x1 += imageW * 2.0F, x2 += imageW * 2.0F; break;                      // outside the map
        case 6: std::swap(x1, x2); break;                                             // degenerate (x2 < x1)
        case 7: x2 = x1, y2 = y1; break;                                              // a single point
        case 8: batch = static_cast<float>(n); break;                                 // batch index == N
        case 9: batch = -1.0F; break;                                                 // negative batch index
        case 10: x2 = (i % 2 == 0) ? nan : inf; break;                                // non-finite
        case 11: batch = (n > 0 ? 0.75F : 0.5F); break;                               // truncates to 0
        case 12: x1 = 0.0F, y1 = 0.0F, x2 = imageW, y2 = imageH; break;               // the whole map
        default: break;
        }
        rows.insert(rows.end(), {batch, x1, y1, x2, y2});
    }
    return rows;
}

//! "" when `actual` matches `expected`: bit-exact for max (NaN matches NaN), within a dtype tolerance for avg.
inline std::string compareRoiOutputs(
    RoiDesc const& desc, std::vector<uint8_t> const& expected, std::vector<uint8_t> const& actual)
{
    SppDesc view;
    view.pyramid.numLevels = 1;
    view.pyramid.levels[0] = 1;
    view.pyramid.mode = desc.pyramid.mode;
    view.dtype = desc.dtype;
    view.n = roiOutputElements(desc); // the comparison walks n * c * 1 elements
    view.c = 1;
    view.h = 1;
    view.w = 1;
    return compareOutputs(view, expected, actual);
}

inline std::string describeRoi(RoiDesc const& d)
{
    std::ostringstream out;
    out << toString(d.dtype) << " rois " << toString(d.roiDtype) << ' ' << toString(d.layout) << ' '
        << toString(d.pyramid.mode) << " scale " << d.pyramid.spatialScale << " N" << d.n << " C" << d.c << ' '
        << d.h << 'x' << d.w << " K" << d.numRois << " levels{";
    for (int32_t i = 0; i < d.pyramid.numLevels; ++i)
    {
        out << (i ? "," : "") << d.pyramid.levelsH[i] << 'x' << d.pyramid.levelsW[i];
    }
    out << '}';
    return out.str();
}

} // namespace test
} // namespace spp
