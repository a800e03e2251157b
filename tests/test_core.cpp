// CPU tests: validation messages, bin windows, hand-computed SPP results, layouts, int8 rounding, conversions.
#include "core/bins.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace spp
{
namespace
{

using test::makeDesc;
using test::pyramid;

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

// ---- validation -------------------------------------------------------------------------------------------------

TEST(Validation, AcceptsTypicalPyramids)
{
    EXPECT_TRUE(validate(pyramid({1, 2, 4})).ok());
    EXPECT_TRUE(validate(pyramid({1, 2, 3, 6}, PoolMode::kAVG, BinRule::kCAFFE)).ok());
    EXPECT_TRUE(validate(pyramid({256, 256})).ok()); // duplicates and the largest level are fine
}

TEST(Validation, RejectsBadLevelsWithMessages)
{
    EXPECT_TRUE(failsWith(validate(pyramid({})), "levels must not be empty; give 1 to 16 pyramid levels"));
    PyramidConfig tooMany = pyramid({1});
    tooMany.numLevels = 17;
    EXPECT_TRUE(failsWith(validate(tooMany), "levels has 17 entries; at most 16 pyramid levels are allowed"));
    EXPECT_TRUE(failsWith(validate(pyramid({1, 0})), "levels[1] = 0 is out of range; each level must be in [1, 256]"));
    EXPECT_TRUE(failsWith(validate(pyramid({-3})), "levels[0] = -3 is out of range"));
    EXPECT_TRUE(failsWith(validate(pyramid({1, 2, 257})), "levels[2] = 257 is out of range"));
}

TEST(Validation, RejectsUnknownModeAndRule)
{
    PyramidConfig config = pyramid({1});
    config.mode = static_cast<PoolMode>(7);
    EXPECT_TRUE(failsWith(validate(config), "pool_mode 7 is not a PoolMode value"));
    config = pyramid({1});
    config.rule = static_cast<BinRule>(-1);
    EXPECT_TRUE(failsWith(validate(config), "bin_rule -1 is not a BinRule value"));
}

TEST(Validation, ParsesStrings)
{
    PoolMode mode = PoolMode::kMAX;
    EXPECT_TRUE(parsePoolMode("avg", mode).ok());
    EXPECT_EQ(mode, PoolMode::kAVG);
    EXPECT_TRUE(failsWith(parsePoolMode("mean", mode), "pool_mode 'mean' is not supported; allowed: 'max', 'avg'"));
    EXPECT_TRUE(failsWith(parsePoolMode(nullptr, mode), "pool_mode '(null)'"));
    EXPECT_EQ(mode, PoolMode::kAVG); // untouched on error
    BinRule rule = BinRule::kADAPTIVE;
    EXPECT_TRUE(parseBinRule("caffe", rule).ok());
    EXPECT_EQ(rule, BinRule::kCAFFE);
    EXPECT_TRUE(
        failsWith(parseBinRule("Adaptive", rule), "bin_rule 'Adaptive' is not supported; allowed: 'adaptive', 'caffe'"));
}

TEST(Validation, MakePyramidConfigChecksAndKeepsOldOnError)
{
    int32_t const good[] = {1, 2, 4};
    PyramidConfig config;
    ASSERT_TRUE(makePyramidConfig(good, 3, PoolMode::kAVG, BinRule::kCAFFE, config).ok());
    EXPECT_EQ(config.numLevels, 3);
    EXPECT_EQ(config.levels[2], 4);
    int32_t const bad[] = {1, 300};
    EXPECT_TRUE(failsWith(makePyramidConfig(bad, 2, PoolMode::kMAX, BinRule::kADAPTIVE, config), "levels[1] = 300"));
    EXPECT_EQ(config.numLevels, 3);
    EXPECT_TRUE(failsWith(makePyramidConfig(nullptr, 2, PoolMode::kMAX, BinRule::kADAPTIVE, config), "null pointer"));
    EXPECT_TRUE(failsWith(makePyramidConfig(good, 20, PoolMode::kMAX, BinRule::kADAPTIVE, config), "has 20 entries"));
}

TEST(Validation, RejectsBadDims)
{
    PyramidConfig const p = pyramid({1, 2});
    EXPECT_TRUE(validate(makeDesc(p, DataType::kFLOAT, Layout::kNCHW, 0, 3, 5, 5)).ok()); // N = 0 is valid
    EXPECT_TRUE(failsWith(validate(makeDesc(p, DataType::kFLOAT, Layout::kNCHW, -1, 3, 5, 5)),
        "input N = -1 is invalid; N must be >= 0"));
    EXPECT_TRUE(failsWith(validate(makeDesc(p, DataType::kFLOAT, Layout::kNCHW, 1, 0, 5, 5)),
        "input C = 0 is invalid; C must be >= 1"));
    EXPECT_TRUE(failsWith(validate(makeDesc(p, DataType::kFLOAT, Layout::kNCHW, 1, 3, 0, 5)), "input H = 0 is invalid"));
    EXPECT_TRUE(failsWith(validate(makeDesc(p, DataType::kFLOAT, Layout::kNCHW, 1, 3, 5, -2)), "input W = -2 is invalid"));
    EXPECT_TRUE(failsWith(validate(makeDesc(p, DataType::kFLOAT, Layout::kNCHW, 1, 3, 5, 3000000000LL)),
        "input W = 3000000000 is too large"));
    EXPECT_TRUE(failsWith(validate(makeDesc(p, DataType::kHALF, Layout::kNHWC, 1, 8, 5, 5, 4)),
        "channelStride = 4 is invalid for NHWC with C = 8"));
    EXPECT_TRUE(validate(makeDesc(p, DataType::kHALF, Layout::kNHWC, 1, 5, 5, 5, 8)).ok());
    SppDesc bad = makeDesc(p, DataType::kFLOAT, Layout::kNCHW, 1, 3, 5, 5);
    bad.dtype = static_cast<DataType>(9);
    EXPECT_TRUE(failsWith(validate(bad), "dtype 9 is not a DataType value"));
    bad = makeDesc(p, DataType::kFLOAT, Layout::kNCHW, 1, 3, 5, 5);
    bad.layout = static_cast<Layout>(2);
    EXPECT_TRUE(failsWith(validate(bad), "layout 2 is not a Layout value"));
}

TEST(Validation, RejectsOverflowingSizes)
{
    // 16 levels of 256: sum(L^2) = 1048576, so C = 4096 gives 2^32 output features.
    PyramidConfig big = pyramid({256, 256, 256, 256, 256, 256, 256, 256, 256, 256, 256, 256, 256, 256, 256, 256});
    EXPECT_TRUE(failsWith(validate(makeDesc(big, DataType::kFLOAT, Layout::kNCHW, 1, 4096, 8, 8)),
        "output features C * sum(L*L) = 4096 * 1048576 exceed 2147483647"));
    EXPECT_TRUE(failsWith(validate(makeDesc(pyramid({1}), DataType::kFLOAT, Layout::kNCHW, 1LL << 40, 2147483647LL,
                              2147483647LL, 8)),
        "overflows int64"));
}

TEST(Shapes, OutputSizes)
{
    EXPECT_EQ(binsPerChannel(pyramid({1, 2, 4})), 21);
    EXPECT_EQ(binsPerChannel(pyramid({1, 2, 3, 6})), 50);
    EXPECT_EQ(binsPerChannel(pyramid({})), 0);
    EXPECT_EQ(outputFeatures(pyramid({1, 2, 4}), 256), 5376);
    EXPECT_EQ(outputFeatures(pyramid({0}), 256), -1);
    SppDesc const d = makeDesc(pyramid({1, 2, 3, 6}), DataType::kHALF, Layout::kNHWC, 4, 5, 7, 9, 8);
    EXPECT_EQ(outputElements(d), 4 * 5 * 50);
    EXPECT_EQ(inputElements(d), 4 * 7 * 9 * 8);
    EXPECT_EQ(effectiveChannelStride(d), 8);
}

// ---- bin windows ------------------------------------------------------------------------------------------------

TEST(Bins, AdaptiveMatchesFloorCeilFormula)
{
    // H = 5, L = 3: [0,2) [1,4) [3,5)  (overlapping bins)
    EXPECT_EQ(detail::binWindow(BinRule::kADAPTIVE, 0, 5, 3).start, 0);
    EXPECT_EQ(detail::binWindow(BinRule::kADAPTIVE, 0, 5, 3).end, 2);
    EXPECT_EQ(detail::binWindow(BinRule::kADAPTIVE, 1, 5, 3).start, 1);
    EXPECT_EQ(detail::binWindow(BinRule::kADAPTIVE, 1, 5, 3).end, 4);
    EXPECT_EQ(detail::binWindow(BinRule::kADAPTIVE, 2, 5, 3).start, 3);
    EXPECT_EQ(detail::binWindow(BinRule::kADAPTIVE, 2, 5, 3).end, 5);
    // H < L: never empty; H = 2, L = 6: bins 0-2 -> row 0, bins 3-5 -> row 1
    for (int64_t i = 0; i < 6; ++i)
    {
        detail::Window const w = detail::binWindow(BinRule::kADAPTIVE, i, 2, 6);
        EXPECT_EQ(w.start, i < 3 ? 0 : 1);
        EXPECT_EQ(w.end, w.start + 1);
    }
    // Against the real-valued floor/ceil definition over many sizes.
    for (int64_t size = 1; size < 70; ++size)
    {
        for (int64_t level = 1; level < 20; ++level)
        {
            for (int64_t i = 0; i < level; ++i)
            {
                detail::Window const w = detail::binWindow(BinRule::kADAPTIVE, i, size, level);
                EXPECT_EQ(w.start, static_cast<int64_t>(std::floor(static_cast<double>(i * size) / static_cast<double>(level))));
                EXPECT_EQ(w.end, static_cast<int64_t>(std::ceil(static_cast<double>((i + 1) * size) / static_cast<double>(level))));
                EXPECT_LT(w.start, w.end);
            }
        }
    }
}

TEST(Bins, CaffeKernelPadStride)
{
    // H = 13, L = 6: k = 3, pad = (18 - 13 + 1) / 2 = 3. Windows [-3,0) [0,3) [3,6) [6,9) [9,12) [12,15)
    int64_t const starts[] = {0, 0, 3, 6, 9, 12};
    int64_t const ends[] = {0, 3, 6, 9, 12, 13};
    for (int64_t i = 0; i < 6; ++i)
    {
        detail::Window const w = detail::binWindow(BinRule::kCAFFE, i, 13, 6);
        EXPECT_EQ(w.start, starts[i]) << i;
        EXPECT_EQ(w.end, ends[i]) << i;
        EXPECT_EQ(detail::avgDivisor(BinRule::kCAFFE, w, 13, 6), 3);
    }
    // H = 3, L = 2: k = 2, pad = 1 -> [-1,1) [1,3)
    EXPECT_EQ(detail::binWindow(BinRule::kCAFFE, 0, 3, 2).start, 0);
    EXPECT_EQ(detail::binWindow(BinRule::kCAFFE, 0, 3, 2).end, 1);
    EXPECT_EQ(detail::binWindow(BinRule::kCAFFE, 1, 3, 2).start, 1);
    EXPECT_EQ(detail::binWindow(BinRule::kCAFFE, 1, 3, 2).end, 3);
    // L = 1 is global pooling with no padding.
    EXPECT_EQ(detail::binWindow(BinRule::kCAFFE, 0, 97, 1).start, 0);
    EXPECT_EQ(detail::binWindow(BinRule::kCAFFE, 0, 97, 1).end, 97);
}

TEST(Bins, RoundHalfEvenAndSaturate)
{
    EXPECT_EQ(detail::divRoundHalfEven(3, 2), 2);   // 1.5 -> 2
    EXPECT_EQ(detail::divRoundHalfEven(5, 2), 2);   // 2.5 -> 2
    EXPECT_EQ(detail::divRoundHalfEven(-3, 2), -2); // -1.5 -> -2
    EXPECT_EQ(detail::divRoundHalfEven(-5, 2), -2); // -2.5 -> -2
    EXPECT_EQ(detail::divRoundHalfEven(7, 3), 2);   // 2.33
    EXPECT_EQ(detail::divRoundHalfEven(8, 3), 3);   // 2.67
    EXPECT_EQ(detail::divRoundHalfEven(-8, 3), -3);
    EXPECT_EQ(detail::divRoundHalfEven(0, 9), 0);
    for (int64_t sum = -1000; sum <= 1000; ++sum)
    {
        for (int64_t count = 1; count <= 12; ++count)
        {
            EXPECT_EQ(detail::divRoundHalfEven(sum, count),
                static_cast<int64_t>(std::nearbyint(static_cast<double>(sum) / static_cast<double>(count))))
                << sum << '/' << count;
        }
    }
    EXPECT_EQ(detail::saturateInt8(200), 127);
    EXPECT_EQ(detail::saturateInt8(-129), -128);
    EXPECT_EQ(detail::saturateInt8(-5), -5);
}

// ---- hand-computed results ----------------------------------------------------------------------------------------

// x[h][w] = 4h + w + 1 on a 3x4 map.
std::vector<float> ramp3x4()
{
    std::vector<float> x(12);
    for (int32_t i = 0; i < 12; ++i)
    {
        x[static_cast<size_t>(i)] = static_cast<float>(i + 1);
    }
    return x;
}

std::vector<float> runFloat(PyramidConfig const& p, std::vector<float> const& x, int64_t h, int64_t w)
{
    SppDesc const d = makeDesc(p, DataType::kFLOAT, Layout::kNCHW, 1, 1, h, w);
    std::vector<float> y(static_cast<size_t>(outputElements(d)), std::nanf(""));
    Status const s = sppReferenceCpu(d, x.data(), y.data());
    EXPECT_TRUE(s.ok()) << s.message();
    return y;
}

TEST(Reference, AdaptiveMaxAndAvgByHand)
{
    std::vector<float> const x = ramp3x4();
    // L=2: rows [0,2) [1,3), cols [0,2) [2,4)
    EXPECT_EQ(runFloat(pyramid({1, 2}), x, 3, 4), (std::vector<float>{12, 6, 8, 10, 12}));
    EXPECT_EQ(runFloat(pyramid({1, 2}, PoolMode::kAVG), x, 3, 4), (std::vector<float>{6.5F, 3.5F, 5.5F, 7.5F, 9.5F}));
}

TEST(Reference, CaffeMaxAndAvgByHand)
{
    std::vector<float> const x = ramp3x4();
    // L=2: rows k=2 pad=1 -> [0,1) [1,3); cols k=2 pad=0 -> [0,2) [2,4); avg divides by k*k = 4.
    EXPECT_EQ(runFloat(pyramid({2, 1}, PoolMode::kMAX, BinRule::kCAFFE), x, 3, 4),
        (std::vector<float>{2, 4, 10, 12, 12}));
    EXPECT_EQ(runFloat(pyramid({2, 1}, PoolMode::kAVG, BinRule::kCAFFE), x, 3, 4),
        (std::vector<float>{0.75F, 1.75F, 7.5F, 9.5F, 6.5F}));
}

TEST(Reference, OneByOneMapSmallerThanLevel)
{
    std::vector<float> const x{-2.5F};
    // adaptive: every bin sees the single pixel
    EXPECT_EQ(runFloat(pyramid({1, 3}), x, 1, 1), std::vector<float>(10, -2.5F));
    // caffe, L = 3: k = 1, pad = 1 -> windows [-1,0) [0,1) [1,2): only the centre bin is non-empty; empty bins are 0
    std::vector<float> expected(9, 0.0F);
    expected[4] = -2.5F;
    EXPECT_EQ(runFloat(pyramid({3}, PoolMode::kMAX, BinRule::kCAFFE), x, 1, 1), expected);
    EXPECT_EQ(runFloat(pyramid({3}, PoolMode::kAVG, BinRule::kCAFFE), x, 1, 1), expected); // divisor k*k = 1
}

TEST(Reference, OddSizeOverlappingBins)
{
    // 1 x 5 map, L = 3 adaptive: cols [0,2) [1,4) [3,5) over values 3 1 4 1 5
    std::vector<float> const x{3, 1, 4, 1, 5};
    EXPECT_EQ(runFloat(pyramid({3}), x, 1, 5), (std::vector<float>{3, 4, 5, 3, 4, 5, 3, 4, 5}));
    std::vector<float> const avg = runFloat(pyramid({3}, PoolMode::kAVG), x, 1, 5);
    EXPECT_FLOAT_EQ(avg[0], 2.0F);
    EXPECT_FLOAT_EQ(avg[1], 2.0F);
    EXPECT_FLOAT_EQ(avg[2], 3.0F);
}

TEST(Reference, NanPropagatesAndNegativeInfinityStays)
{
    float const inf = std::numeric_limits<float>::infinity();
    std::vector<float> const x{1, std::nanf(""), -inf, -inf};
    std::vector<float> const y = runFloat(pyramid({1, 2}), x, 2, 2);
    EXPECT_TRUE(std::isnan(y[0]));
    EXPECT_EQ(y[1], 1.0F);
    EXPECT_TRUE(std::isnan(y[2]));
    EXPECT_EQ(y[3], -inf);
    EXPECT_EQ(y[4], -inf);
}

TEST(Reference, ChannelMajorLayoutOfOutput)
{
    // N=2, C=2, 2x2, levels {1,2}: per sample [L1: c0, c1][L2: c0 (4 bins), c1 (4 bins)]
    std::vector<float> x(16);
    for (size_t i = 0; i < x.size(); ++i)
    {
        x[i] = static_cast<float>(i);
    }
    SppDesc const d = makeDesc(pyramid({1, 2}), DataType::kFLOAT, Layout::kNCHW, 2, 2, 2, 2);
    std::vector<float> y(static_cast<size_t>(outputElements(d)));
    ASSERT_TRUE(sppReferenceCpu(d, x.data(), y.data()).ok());
    EXPECT_EQ(y, (std::vector<float>{3, 7, 0, 1, 2, 3, 4, 5, 6, 7, 11, 15, 8, 9, 10, 11, 12, 13, 14, 15}));
}

TEST(Reference, Int8AvgRoundsHalfToEven)
{
    // 1 x 4 map, L = 2 adaptive: pairs (1,2) -> 1.5 -> 2, (2,3)... use two channels for negative ties.
    std::vector<int8_t> const x{1, 2, 5, 6, -1, -2, -5, -6};
    SppDesc const d = makeDesc(pyramid({2}, PoolMode::kAVG), DataType::kINT8, Layout::kNCHW, 1, 2, 1, 4);
    std::vector<int8_t> y(static_cast<size_t>(outputElements(d)), 99);
    ASSERT_TRUE(sppReferenceCpu(d, x.data(), y.data()).ok());
    // each level bin covers one row, so L rows collapse: bins (0,0)(0,1) are row 0 -> duplicated vertically
    EXPECT_EQ(y, (std::vector<int8_t>{2, 6, 2, 6, -2, -6, -2, -6}));
    // max of int8 is exact, -128 included
    std::vector<int8_t> const z{-128, -128, 127, -1};
    SppDesc const m = makeDesc(pyramid({1, 2}), DataType::kINT8, Layout::kNCHW, 1, 1, 2, 2);
    std::vector<int8_t> ym(5);
    ASSERT_TRUE(sppReferenceCpu(m, z.data(), ym.data()).ok());
    EXPECT_EQ(ym, (std::vector<int8_t>{127, -128, -128, 127, -1}));
}

TEST(Reference, NhwcWithPaddedChannelsEqualsNchw)
{
    std::mt19937_64 rng(1234);
    for (DataType dtype : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT8})
    {
        for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
        {
            for (BinRule rule : {BinRule::kADAPTIVE, BinRule::kCAFFE})
            {
                int64_t const n = 2, c = 5, h = 7, w = 6, cs = 8;
                SppDesc const nchw = makeDesc(pyramid({1, 2, 3, 6}, mode, rule), dtype, Layout::kNCHW, n, c, h, w);
                SppDesc const nhwc = makeDesc(pyramid({1, 2, 3, 6}, mode, rule), dtype, Layout::kNHWC, n, c, h, w, cs);
                std::vector<uint8_t> const src = test::randomTensor(dtype, inputElements(nchw), rng);
                // padding channels hold 0xff bytes (NaN for float types): reading them would show
                std::vector<uint8_t> hwc(static_cast<size_t>(inputElements(nhwc)) * elementSize(dtype), 0xff);
                size_t const es = elementSize(dtype);
                for (int64_t in = 0; in < n; ++in)
                    for (int64_t ic = 0; ic < c; ++ic)
                        for (int64_t ih = 0; ih < h; ++ih)
                            for (int64_t iw = 0; iw < w; ++iw)
                            {
                                int64_t const from = ((in * c + ic) * h + ih) * w + iw;
                                int64_t const to = ((in * h + ih) * w + iw) * cs + ic;
                                std::memcpy(&hwc[static_cast<size_t>(to) * es], &src[static_cast<size_t>(from) * es], es);
                            }
                size_t const outBytes = static_cast<size_t>(outputElements(nchw)) * es;
                std::vector<uint8_t> a(outBytes, 0x55), b(outBytes, 0xaa);
                ASSERT_TRUE(sppReferenceCpu(nchw, src.data(), a.data()).ok());
                ASSERT_TRUE(sppReferenceCpu(nhwc, hwc.data(), b.data()).ok());
                EXPECT_EQ(a, b) << test::describe(nhwc);
            }
        }
    }
}

TEST(Reference, RejectsInvalidDescAndNullPointers)
{
    float x = 1, y = 0;
    SppDesc d = makeDesc(pyramid({0}), DataType::kFLOAT, Layout::kNCHW, 1, 1, 1, 1);
    EXPECT_TRUE(failsWith(sppReferenceCpu(d, &x, &y), "levels[0] = 0"));
    d.pyramid = pyramid({1});
    EXPECT_TRUE(failsWith(sppReferenceCpu(d, nullptr, &y), "input is a null pointer"));
    EXPECT_TRUE(failsWith(sppReferenceCpu(d, &x, nullptr), "output is a null pointer"));
    d.n = 0; // empty: nothing is touched, null pointers are fine
    EXPECT_TRUE(sppReferenceCpu(d, nullptr, nullptr).ok());
}

// ---- conversions --------------------------------------------------------------------------------------------------

TEST(Conversions, HalfRoundTripsEveryPattern)
{
    for (uint32_t bits = 0; bits < 0x10000u; ++bits)
    {
        float const f = halfBitsToFloat(static_cast<uint16_t>(bits));
        if (std::isnan(f))
        {
            EXPECT_TRUE(std::isnan(halfBitsToFloat(floatToHalfBits(f))));
            continue;
        }
        ASSERT_EQ(floatToHalfBits(f), bits) << bits;
    }
}

TEST(Conversions, HalfRoundsToNearestEven)
{
    EXPECT_EQ(floatToHalfBits(1.0F), 0x3c00u);
    EXPECT_EQ(floatToHalfBits(1.0F + 1.0F / 2048.0F), 0x3c00u);               // tie, even stays
    EXPECT_EQ(floatToHalfBits(1.0F + 3.0F / 2048.0F), 0x3c02u);               // tie, odd rounds up
    EXPECT_EQ(floatToHalfBits(65504.0F), 0x7bffu);
    EXPECT_EQ(floatToHalfBits(65520.0F), 0x7c00u);                            // rounds to infinity
    EXPECT_EQ(floatToHalfBits(-std::numeric_limits<float>::infinity()), 0xfc00u);
    EXPECT_EQ(floatToHalfBits(std::ldexp(1.0F, -24)), 0x0001u);               // smallest subnormal
    EXPECT_EQ(floatToHalfBits(std::ldexp(1.0F, -25)), 0x0000u);               // tie to even: zero
    EXPECT_EQ(floatToHalfBits(std::ldexp(3.0F, -26)), 0x0001u);               // 0.75 ulp -> 1
}

TEST(Conversions, Bf16)
{
    EXPECT_EQ(floatToBf16Bits(1.0F), 0x3f80u);
    EXPECT_EQ(bf16BitsToFloat(0x3f80u), 1.0F);
    EXPECT_EQ(floatToBf16Bits(1.0F + std::ldexp(1.0F, -8)), 0x3f80u);         // tie, even stays
    EXPECT_EQ(floatToBf16Bits(1.0F + 3.0F * std::ldexp(1.0F, -8)), 0x3f82u);  // tie, odd rounds up
    EXPECT_TRUE(std::isnan(bf16BitsToFloat(floatToBf16Bits(std::nanf("")))));
    for (uint32_t bits = 0; bits < 0x10000u; bits += 7)
    {
        float const f = bf16BitsToFloat(static_cast<uint16_t>(bits));
        if (!std::isnan(f))
        {
            ASSERT_EQ(floatToBf16Bits(f), bits);
        }
    }
}

} // namespace
} // namespace spp
