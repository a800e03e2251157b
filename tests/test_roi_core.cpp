// CPU tests of ROI pooling: validation messages, the window rule against hand-computed windows (rounding half away
// from zero, width/height at least 1, float bin size, clipping, empty bins), the invalid-roi rule, and the reference
// on a map whose values make every window's max and mean known in closed form.
#include "core/roi_bins.h"
#include "test_roi_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace spp
{
namespace
{

using test::makeRoiDesc;
using test::squareLevels;

::testing::AssertionResult failsWith(Status const& status, char const* expected)
{
    if (status.ok())
    {
        return ::testing::AssertionFailure() << "accepted; expected an error containing \"" << expected << '"';
    }
    if (std::string(status.message()).find(expected) == std::string::npos)
    {
        return ::testing::AssertionFailure() << "message \"" << status.message() << "\" lacks \"" << expected << '"';
    }
    return ::testing::AssertionSuccess();
}

RoiDesc smallDesc(DataType dtype = DataType::kFLOAT)
{
    return makeRoiDesc(squareLevels({1, 2}), PoolMode::kMAX, 0.5F, dtype, DataType::kFLOAT, Layout::kNCHW, 1, 2, 5, 6, 8);
}

// ---- validation ---------------------------------------------------------------------------------------------------

TEST(RoiValidation, AcceptsTypicalDescriptors)
{
    EXPECT_TRUE(validate(smallDesc()).ok());
    RoiDesc desc = smallDesc(DataType::kHALF);
    desc.roiDtype = DataType::kHALF;
    EXPECT_TRUE(validate(desc).ok());
    desc.numRois = 0; // K = 0: empty output
    EXPECT_TRUE(validate(desc).ok());
    EXPECT_EQ(roiOutputElements(desc), 0);
    desc.numRois = 3;
    desc.n = 0; // no images: every roi is out of range, rows of zeros
    EXPECT_TRUE(validate(desc).ok());
}

TEST(RoiValidation, MakeRoiPyramidUsesTheCoreLevelRulesAndChecksTheScale)
{
    RoiPyramid pyramid;
    EXPECT_TRUE(makeRoiPyramid(test::pyramid({1, 2, 3, 6}, PoolMode::kAVG), 0.0625F, pyramid).ok());
    EXPECT_EQ(pyramid.numLevels, 4);
    EXPECT_EQ(pyramid.levelsH[3], 6);
    EXPECT_EQ(pyramid.levelsW[3], 6);
    EXPECT_EQ(pyramid.mode, PoolMode::kAVG);
    EXPECT_EQ(roiBinsPerChannel(pyramid), 50);
    EXPECT_EQ(roiOutputFeatures(pyramid, 256), 12800);
    RoiPyramid unchanged = pyramid;
    EXPECT_TRUE(failsWith(makeRoiPyramid(test::pyramid({}), 1.0F, pyramid), "levels must not be empty"));
    EXPECT_TRUE(failsWith(makeRoiPyramid(test::pyramid({1, 300}), 1.0F, pyramid),
        "levels[1] = 300 is out of range; each level must be in [1, 256]"));
    for (float bad : {0.0F, -0.5F, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()})
    {
        EXPECT_TRUE(failsWith(makeRoiPyramid(test::pyramid({1}), bad, pyramid), "spatial_scale = "));
        EXPECT_TRUE(failsWith(makeRoiPyramid(test::pyramid({1}), bad, pyramid), "finite number > 0"));
    }
    EXPECT_EQ(pyramid.numLevels, unchanged.numLevels);
    EXPECT_EQ(pyramid.spatialScale, unchanged.spatialScale);
}

TEST(RoiValidation, MaxRoiPoolShape)
{
    RoiPyramid pyramid;
    ASSERT_TRUE(makeMaxRoiPool(7, 5, 0.25F, pyramid).ok());
    EXPECT_EQ(pyramid.numLevels, 1);
    EXPECT_EQ(pyramid.levelsH[0], 7);
    EXPECT_EQ(pyramid.levelsW[0], 5);
    EXPECT_EQ(pyramid.mode, PoolMode::kMAX);
    EXPECT_EQ(roiOutputFeatures(pyramid, 3), 105);
    EXPECT_TRUE(failsWith(makeMaxRoiPool(0, 5, 1.0F, pyramid), "pooled_shape[0] = 0 is out of range"));
    EXPECT_TRUE(failsWith(makeMaxRoiPool(7, 257, 1.0F, pyramid), "pooled_shape[1] = 257 is out of range"));
    EXPECT_TRUE(failsWith(makeMaxRoiPool(7, 7, -1.0F, pyramid), "spatial_scale = -1"));
}

TEST(RoiValidation, RejectsBadDescriptorsWithMessages)
{
    RoiDesc desc = smallDesc();
    desc.dtype = DataType::kINT8;
    EXPECT_TRUE(failsWith(validate(desc), "features dtype int8 (3) is not supported for ROI pooling; allowed: fp32, "
                                          "fp16, bf16"));
    desc = smallDesc();
    desc.roiDtype = DataType::kHALF; // fp16 rois with fp32 features
    EXPECT_TRUE(failsWith(validate(desc), "rois dtype fp16 (1) is not supported with fp32 features"));
    desc = smallDesc();
    desc.numRois = -1;
    EXPECT_TRUE(failsWith(validate(desc), "rois K = -1 is invalid"));
    desc = smallDesc();
    desc.h = 0;
    EXPECT_TRUE(failsWith(validate(desc), "input H = 0 is invalid; H must be >= 1"));
    desc = smallDesc();
    desc.layout = Layout::kNHWC;
    desc.channelStride = 1;
    EXPECT_TRUE(failsWith(validate(desc), "channelStride = 1 is invalid"));
    desc = smallDesc();
    desc.pyramid.levelsW[1] = 0;
    EXPECT_TRUE(failsWith(validate(desc), "level 1 is 2 x 0; each side must be in [1, 256]"));
    desc = smallDesc();
    desc.pyramid.numLevels = 17;
    EXPECT_TRUE(failsWith(validate(desc), "17 levels"));
    desc = smallDesc();
    desc.pyramid.mode = static_cast<PoolMode>(5);
    EXPECT_TRUE(failsWith(validate(desc), "pool_mode 5 is not a PoolMode value"));
    desc = smallDesc();
    desc.c = int64_t{1} << 30; // 2^30 * 5 output features do not fit a tensor dimension
    EXPECT_TRUE(failsWith(validate(desc), "output features C * sum(Lh*Lw)"));
    desc = smallDesc();
    desc.numRois = int64_t{1} << 62;
    EXPECT_TRUE(failsWith(validate(desc), "overflows int64"));
}

TEST(RoiReference, RejectsNullPointersButNotEmptyOutputs)
{
    RoiDesc desc = smallDesc();
    float buffer[64] = {};
    EXPECT_TRUE(failsWith(roiReferenceCpu(desc, buffer, nullptr, buffer), "rois is a null pointer"));
    EXPECT_TRUE(failsWith(roiReferenceCpu(desc, buffer, buffer, nullptr), "output is a null pointer"));
    EXPECT_TRUE(failsWith(roiReferenceCpu(desc, nullptr, buffer, buffer), "features is a null pointer"));
    desc.numRois = 0;
    EXPECT_TRUE(roiReferenceCpu(desc, nullptr, nullptr, nullptr).ok());
    desc = smallDesc();
    desc.dtype = DataType::kINT8;
    EXPECT_TRUE(failsWith(roiReferenceCpu(desc, buffer, buffer, buffer), "not supported for ROI pooling"));
}

// ---- the window rule ----------------------------------------------------------------------------------------------

TEST(RoiWindows, CornersRoundHalfAwayFromZero)
{
    EXPECT_EQ(detail::roiCorner(0.5F, 1.0F), 1);
    EXPECT_EQ(detail::roiCorner(1.5F, 1.0F), 2);
    EXPECT_EQ(detail::roiCorner(2.5F, 1.0F), 3); // banker's rounding would give 2
    EXPECT_EQ(detail::roiCorner(-0.5F, 1.0F), -1);
    EXPECT_EQ(detail::roiCorner(-2.5F, 1.0F), -3);
    EXPECT_EQ(detail::roiCorner(1.49F, 1.0F), 1);
    EXPECT_EQ(detail::roiCorner(40.0F, 0.0625F), 3); // 2.5 -> 3
    EXPECT_EQ(detail::roiCorner(24.0F, 0.0625F), 2); // 1.5 -> 2
    EXPECT_EQ(detail::roiCorner(3.0e38F, 10.0F), kROI_COORD_LIMIT); // overflows to inf: clamped, never UB
    EXPECT_EQ(detail::roiCorner(-3.0e38F, 10.0F), -kROI_COORD_LIMIT);
}

TEST(RoiWindows, BoxesAndTheInvalidRoiRule)
{
    float const nan = std::numeric_limits<float>::quiet_NaN();
    float const inf = std::numeric_limits<float>::infinity();
    float const ordinary[5] = {0.0F, 0.0F, 0.0F, 6.0F, 4.0F};
    detail::RoiBox box = detail::makeRoiBox(ordinary, 0.5F, 1);
    EXPECT_TRUE(box.valid);
    EXPECT_EQ(box.batch, 0);
    EXPECT_EQ(box.startW, 0);
    EXPECT_EQ(box.width, 4);  // round(3) - 0 + 1
    EXPECT_EQ(box.startH, 0);
    EXPECT_EQ(box.height, 3); // round(2) - 0 + 1
    float const degenerate[5] = {1.9F, 9.0F, 7.0F, 3.0F, 1.0F};
    box = detail::makeRoiBox(degenerate, 0.5F, 2);
    EXPECT_TRUE(box.valid);
    EXPECT_EQ(box.batch, 1); // truncated
    EXPECT_EQ(box.startW, 5); // round(4.5)
    EXPECT_EQ(box.width, 1);  // end 2 < start 5: forced to 1
    EXPECT_EQ(box.startH, 4); // round(3.5)
    EXPECT_EQ(box.height, 1);
    float rows[][5] = {{1.0F, 0, 0, 1, 1}, {-1.0F, 0, 0, 1, 1}, {-0.5F, 0, 0, 1, 1}, {0.0F, nan, 0, 1, 1},
        {0.0F, 0, 0, inf, 1}, {nan, 0, 0, 1, 1}, {0.0F, 0, 0, 1, -inf}};
    bool const expectedValid[] = {false, false, true, false, false, false, false};
    for (size_t i = 0; i < sizeof(expectedValid); ++i)
    {
        EXPECT_EQ(detail::makeRoiBox(rows[i], 1.0F, 1).valid, expectedValid[i]) << "row " << i;
    }
    EXPECT_FALSE(detail::makeRoiBox(ordinary, 1.0F, 0).valid) << "N = 0: no image to pool";
    EXPECT_FALSE(detail::makeRoiBox(rows[2], 1.0F, 0).valid) << "N = 0, batch -0.5 truncates to the missing image 0";
}

TEST(RoiWindows, BinEdgesFloorCeilOffsetAndClipped)
{
    // height 3 in 2 bins: size 1.5 -> [0, 2), [1, 3)
    EXPECT_EQ(detail::roiBinWindow(0, 3, 0, 2, 5).start, 0);
    EXPECT_EQ(detail::roiBinWindow(0, 3, 0, 2, 5).end, 2);
    EXPECT_EQ(detail::roiBinWindow(0, 3, 1, 2, 5).start, 1);
    EXPECT_EQ(detail::roiBinWindow(0, 3, 1, 2, 5).end, 3);
    // width 4 in 3 bins: size 4/3 -> [0, 2), [1, 3), [2, 4); offset by 1
    int64_t const expected[3][2] = {{1, 3}, {2, 4}, {3, 5}};
    for (int64_t i = 0; i < 3; ++i)
    {
        detail::Window const wnd = detail::roiBinWindow(1, 4, i, 3, 6);
        EXPECT_EQ(wnd.start, expected[i][0]) << i;
        EXPECT_EQ(wnd.end, expected[i][1]) << i;
    }
    // start -3, extent 14 in 2 bins of 7 on a map of 6: [-3, 4) -> [0, 4), [4, 11) -> [4, 6)
    EXPECT_EQ(detail::roiBinWindow(-3, 14, 0, 2, 6).start, 0);
    EXPECT_EQ(detail::roiBinWindow(-3, 14, 0, 2, 6).end, 4);
    EXPECT_EQ(detail::roiBinWindow(-3, 14, 1, 2, 6).start, 4);
    EXPECT_EQ(detail::roiBinWindow(-3, 14, 1, 2, 6).end, 6);
    // more bins than cells: extent 1 in 2 bins of 0.5: [0, 1) and [0, 1), both the one cell
    EXPECT_EQ(detail::roiBinWindow(4, 1, 1, 2, 5).start, 4);
    EXPECT_EQ(detail::roiBinWindow(4, 1, 1, 2, 5).end, 5);
    // wholly outside: empty after clipping
    detail::Window const outside = detail::roiBinWindow(20, 11, 0, 2, 6);
    EXPECT_EQ(outside.start, 6);
    EXPECT_EQ(outside.end, 6);
    detail::Window const before = detail::roiBinWindow(-30, 5, 0, 1, 6);
    EXPECT_EQ(before.start, 0);
    EXPECT_EQ(before.end, 0);
}

// ---- the reference on hand-computed windows -----------------------------------------------------------------------

// Map [1, 2, 5, 6] with x[c][y][x] = 100c + 10y + x: the max of a window is its bottom-right cell and its mean is
// 100c + 10*(y0 + y1 - 1)/2 + (x0 + x1 - 1)/2.
struct HandWindow
{
    int32_t y0, y1, x0, x1; // y1 == y0: empty
};
struct HandRoi
{
    float row[5];
    bool zero;            // the whole output row is 0
    HandWindow level1;    // the one bin of level 1
    HandWindow level2[4]; // bins (0,0), (0,1), (1,0), (1,1) of level 2
};

std::vector<HandRoi> handRois()
{
    float const nan = std::numeric_limits<float>::quiet_NaN();
    HandWindow const none{0, 0, 0, 0};
    return {
        // scaled (0,0)-(3,2): 4 wide, 3 high; rows [0,2),[1,3); cols [0,2),[2,4)
        {{0, 0, 0, 6, 4}, false, {0, 3, 0, 4}, {{0, 2, 0, 2}, {0, 2, 2, 4}, {1, 3, 0, 2}, {1, 3, 2, 4}}},
        // scaled (-3,-3)-(10,10): 14 x 14, bins of 7 clipped: rows [0,4),[4,5); cols [0,4),[4,6)
        {{0, -6, -6, 20, 20}, false, {0, 5, 0, 6}, {{0, 4, 0, 4}, {0, 4, 4, 6}, {4, 5, 0, 4}, {4, 5, 4, 6}}},
        // degenerate: start (5, 4) (4.5 and 3.5 round up), forced to 1 x 1; every bin is the cell (4, 5)
        {{0, 9, 7, 3, 1}, false, {4, 5, 5, 6}, {{4, 5, 5, 6}, {4, 5, 5, 6}, {4, 5, 5, 6}, {4, 5, 5, 6}}},
        // wholly outside the map: every bin empty -> 0
        {{0, 40, 40, 60, 60}, false, none, {none, none, none, none}},
        // batch index 1 with N = 1, batch index -1, NaN coordinate: zero rows
        {{1, 0, 0, 6, 4}, true, none, {}},
        {{-1, 0, 0, 6, 4}, true, none, {}},
        {{0, nan, 0, 6, 4}, true, none, {}},
        // batch -0.5 truncates to 0; scaled (0,0)-(1,1): 2 x 2, bins of 1
        {{-0.5F, 0, 0, 2, 2}, false, {0, 2, 0, 2}, {{0, 1, 0, 1}, {0, 1, 1, 2}, {1, 2, 0, 1}, {1, 2, 1, 2}}},
        // half away from zero: (0.5, 0.5, 2.5, 1.5) -> (1, 1, 3, 2): 3 wide, 2 high; cols [1,3),[2,4); rows [1,2),[2,3)
        {{0, 1, 1, 5, 3}, false, {1, 3, 1, 4}, {{1, 2, 1, 3}, {1, 2, 2, 4}, {2, 3, 1, 3}, {2, 3, 2, 4}}},
    };
}

float handValue(HandWindow const& wnd, int32_t c, PoolMode mode)
{
    if (wnd.y1 <= wnd.y0 || wnd.x1 <= wnd.x0)
    {
        return 0.0F;
    }
    if (mode == PoolMode::kMAX)
    {
        return static_cast<float>(100 * c + 10 * (wnd.y1 - 1) + (wnd.x1 - 1));
    }
    return 100.0F * static_cast<float>(c) + 5.0F * static_cast<float>(wnd.y0 + wnd.y1 - 1)
        + 0.5F * static_cast<float>(wnd.x0 + wnd.x1 - 1);
}

std::vector<float> handFeatures(Layout layout, int64_t channelStride)
{
    int64_t const cs = layout == Layout::kNHWC && channelStride != 0 ? channelStride : 2;
    std::vector<float> x(static_cast<size_t>(5 * 6 * cs), -999.0F); // NHWC padding poisoned
    for (int32_t c = 0; c < 2; ++c)
    {
        for (int32_t y = 0; y < 5; ++y)
        {
            for (int32_t xx = 0; xx < 6; ++xx)
            {
                size_t const at = layout == Layout::kNCHW ? static_cast<size_t>((c * 5 + y) * 6 + xx)
                                                          : static_cast<size_t>((y * 6 + xx) * cs + c);
                x[at] = static_cast<float>(100 * c + 10 * y + xx);
            }
        }
    }
    return x;
}

void checkHandComputed(DataType dtype, DataType roiDtype, Layout layout, int64_t channelStride, PoolMode mode)
{
    std::vector<HandRoi> const rois = handRois();
    RoiDesc const desc = makeRoiDesc(squareLevels({1, 2}), mode, 0.5F, dtype, roiDtype, layout, 1, 2, 5, 6,
        static_cast<int64_t>(rois.size()), channelStride);
    std::vector<float> const features = handFeatures(layout, channelStride);
    std::vector<uint8_t> const featureBytes = test::encodeRois(features, dtype); // any float -> dtype encoding
    std::vector<float> rows;
    for (HandRoi const& r : rois)
    {
        rows.insert(rows.end(), r.row, r.row + 5);
    }
    std::vector<uint8_t> const roiBytes = test::encodeRois(rows, roiDtype);
    std::vector<uint8_t> out(static_cast<size_t>(roiOutputElements(desc)) * elementSize(dtype), 0xff);
    Status const status = roiReferenceCpu(desc, featureBytes.data(), roiBytes.data(), out.data());
    ASSERT_TRUE(status.ok()) << status.message();
    for (size_t k = 0; k < rois.size(); ++k)
    {
        for (int32_t c = 0; c < 2; ++c)
        {
            // layout: [level 1: c0, c1][level 2: c0 bins 0..3, c1 bins 0..3]
            float const want1 = rois[k].zero ? 0.0F : handValue(rois[k].level1, c, mode);
            double const got1 = test::elementAsDouble(dtype, out, static_cast<int64_t>(k * 10) + c);
            EXPECT_NEAR(got1, want1, mode == PoolMode::kMAX ? 0.0 : 1e-5 + 4e-3 * std::fabs(want1))
                << test::describeRoi(desc) << " roi " << k << " c " << c << " level 1";
            for (int32_t b = 0; b < 4; ++b)
            {
                float const want2 = rois[k].zero ? 0.0F : handValue(rois[k].level2[b], c, mode);
                double const got2 = test::elementAsDouble(dtype, out, static_cast<int64_t>(k * 10 + 2 + c * 4 + b));
                EXPECT_NEAR(got2, want2, mode == PoolMode::kMAX ? 0.0 : 1e-5 + 4e-3 * std::fabs(want2))
                    << test::describeRoi(desc) << " roi " << k << " c " << c << " level 2 bin " << b;
            }
        }
    }
}

TEST(RoiReference, HandComputedWindowsFp32)
{
    for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
    {
        checkHandComputed(DataType::kFLOAT, DataType::kFLOAT, Layout::kNCHW, 0, mode);
        checkHandComputed(DataType::kFLOAT, DataType::kFLOAT, Layout::kNHWC, 0, mode);
        checkHandComputed(DataType::kFLOAT, DataType::kFLOAT, Layout::kNHWC, 8, mode);
    }
}

TEST(RoiReference, HandComputedWindowsHalfAndBf16)
{
    // Values up to 154 and roi coordinates in halves are exact in fp16 and bf16.
    for (DataType dtype : {DataType::kHALF, DataType::kBF16})
    {
        for (DataType roiDtype : {DataType::kFLOAT, dtype})
        {
            for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
            {
                checkHandComputed(dtype, roiDtype, Layout::kNCHW, 0, mode);
                checkHandComputed(dtype, roiDtype, Layout::kNHWC, 8, mode);
            }
        }
    }
}

TEST(RoiReference, RectangularLevelOfMaxRoiPool)
{
    // One 2 x 3 level over the first hand roi: rows [0,2),[1,3); cols [0,2),[1,3),[2,4) (bin width 4/3).
    RoiDesc const desc
        = makeRoiDesc({{2, 3}}, PoolMode::kMAX, 0.5F, DataType::kFLOAT, DataType::kFLOAT, Layout::kNCHW, 1, 2, 5, 6, 1);
    std::vector<float> const features = handFeatures(Layout::kNCHW, 0);
    float const row[5] = {0, 0, 0, 6, 4};
    std::vector<float> out(12, -1.0F);
    ASSERT_TRUE(roiReferenceCpu(desc, features.data(), row, out.data()).ok());
    int32_t const rowEnds[2] = {2, 3};
    int32_t const colEnds[3] = {2, 3, 4};
    for (int32_t c = 0; c < 2; ++c)
    {
        for (int32_t by = 0; by < 2; ++by)
        {
            for (int32_t bx = 0; bx < 3; ++bx)
            {
                EXPECT_EQ(out[static_cast<size_t>((c * 2 + by) * 3 + bx)],
                    static_cast<float>(100 * c + 10 * (rowEnds[by] - 1) + colEnds[bx] - 1))
                    << c << ' ' << by << ' ' << bx;
            }
        }
    }
}

TEST(RoiReference, NanPropagatesAndNegativeInfinityStaysInMax)
{
    RoiDesc const desc = makeRoiDesc(
        squareLevels({1, 2}), PoolMode::kMAX, 1.0F, DataType::kFLOAT, DataType::kFLOAT, Layout::kNCHW, 1, 1, 4, 4, 1);
    std::vector<float> x(16, -std::numeric_limits<float>::infinity());
    x[5] = std::numeric_limits<float>::quiet_NaN(); // cell (1, 1): in bin (0, 0) only
    float const row[5] = {0, 0, 0, 3, 3};
    std::vector<float> out(5, 7.0F);
    ASSERT_TRUE(roiReferenceCpu(desc, x.data(), row, out.data()).ok());
    EXPECT_TRUE(std::isnan(out[0]));
    EXPECT_TRUE(std::isnan(out[1]));
    for (int32_t i = 2; i < 5; ++i)
    {
        EXPECT_EQ(out[static_cast<size_t>(i)], -std::numeric_limits<float>::infinity()) << i;
    }
}

} // namespace
} // namespace spp
