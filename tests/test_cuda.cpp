// GPU tests: the kernels against the CPU reference over a randomized grid of dtypes, layouts, modes, rules, level
// sets and shapes, with poisoned outputs. Max (and int8) must match bit for bit. Without a GPU they skip, saying why.
#include "cuda/spp_tasks_plan.h"
#include "spp/cuda.h"
#include "test_gpu_util.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace spp
{
namespace
{

using test::makeDesc;
using test::pyramid;

using test::DeviceBuffer;

// Runs the kernel twice, with the output poisoned by two different byte patterns, so an element the kernel fails to
// write cannot match the reference both times. Returns "" on success or a description of the mismatch.
// `inputOffset` bytes shift the input off the allocation's alignment (the columns kernel then reads element-wise).
std::string checkAgainstReference(
    SppDesc const& desc, std::vector<uint8_t> const& input, Algo algo, size_t inputOffset = 0)
{
    size_t const es = elementSize(desc.dtype);
    size_t const outBytes = static_cast<size_t>(outputElements(desc)) * es;
    std::vector<uint8_t> expected(outBytes, 0x5a);
    Status const ref = sppReferenceCpu(desc, input.data(), expected.data());
    if (!ref.ok())
    {
        return std::string("reference failed: ") + ref.message();
    }
    DeviceBuffer in(input.size() + inputOffset);
    DeviceBuffer out(outBytes);
    if ((input.size() > 0 && in.get() == nullptr) || (outBytes > 0 && out.get() == nullptr))
    {
        return "cudaMalloc failed";
    }
    void* const inputAt = static_cast<uint8_t*>(in.get()) + inputOffset;
    if (!input.empty() && cudaMemcpy(inputAt, input.data(), input.size(), cudaMemcpyHostToDevice) != cudaSuccess)
    {
        return "cudaMemcpy to device failed";
    }
    size_t const wsBytes = sppWorkspaceSize(desc);
    DeviceBuffer workspace(wsBytes);
    for (int32_t poison : {0xff, 0x00})
    {
        if (outBytes > 0 && cudaMemset(out.get(), poison, outBytes) != cudaSuccess)
        {
            return "cudaMemset failed";
        }
        LaunchOptions options;
        options.algo = algo;
        cudaError_t const launched = sppForward(desc, inputAt, out.get(), workspace.get(), wsBytes, nullptr, options);
        if (launched != cudaSuccess)
        {
            return std::string("sppForward: ") + cudaGetErrorString(launched);
        }
        cudaError_t const synced = cudaDeviceSynchronize();
        if (synced != cudaSuccess)
        {
            return std::string("kernel failed: ") + cudaGetErrorString(synced);
        }
        std::vector<uint8_t> actual(outBytes);
        if (outBytes > 0 && cudaMemcpy(actual.data(), out.get(), outBytes, cudaMemcpyDeviceToHost) != cudaSuccess)
        {
            return "cudaMemcpy to host failed";
        }
        std::string const diff = test::compareOutputs(desc, expected, actual);
        if (!diff.empty())
        {
            return "poison 0x" + std::to_string(poison) + ":" + diff;
        }
    }
    return {};
}

//! Every kernel, and kAUTO with them.
std::vector<Algo> const kKERNELS
    = {Algo::kSTAGED, Algo::kDIRECT, Algo::kPLANES, Algo::kCOLUMNS, Algo::kGRID, Algo::kTASKS};
std::vector<Algo> const kALL_ALGOS
    = {Algo::kAUTO, Algo::kSTAGED, Algo::kDIRECT, Algo::kPLANES, Algo::kCOLUMNS, Algo::kGRID, Algo::kTASKS};

struct Shape
{
    int64_t n, c, h, w;
};

// 1x1, 1x97, 5x7 (with L = 6 > H), 13x13, 38x63, 96x96, 257x3, N = 0, C = 1, several planes per CTA with a ragged
// last group (C = 1201), row strips (300x200 fp32 does not fit in shared memory), a row too wide to stage, and rows
// of whole 16-byte chunks (32x32, 8x24 for fp32/fp16, 96x96) that the columns kernel reads vectorized.
std::vector<Shape> const kSHAPES = {{2, 3, 1, 1}, {1, 2, 1, 97}, {2, 3, 5, 7}, {2, 3, 13, 13}, {1, 2, 38, 63},
    {1, 2, 96, 96}, {2, 2, 257, 3}, {0, 3, 13, 13}, {3, 1, 6, 5}, {1, 1201, 5, 7}, {16, 64, 13, 13},
    {1, 2, 300, 200}, {1, 1, 3, 20000}, {2, 5, 32, 32}, {1, 40, 8, 24}};

std::vector<std::vector<int32_t>> const kLEVELS = {{1}, {1, 2, 4}, {1, 2, 3, 6}, {1, 2, 3, 4, 5, 6, 7, 8, 13}};

using test::pyramidOf;

void runGrid(DataType dtype)
{
    std::mt19937_64 rng(0x5eed0000u + static_cast<uint32_t>(dtype));
    int32_t cases = 0;
    int32_t failures = 0;
    for (Shape const& s : kSHAPES)
    {
        for (Layout layout : {Layout::kNCHW, Layout::kNHWC})
        {
            int64_t const cs = layout == Layout::kNHWC ? (s.c + 7) / 8 * 8 : 0; // kHWC8-style padding
            // one fresh random input per shape and layout, shared by the mode/rule/level variations
            SppDesc const probe = makeDesc(pyramid({1}), dtype, layout, s.n, s.c, s.h, s.w, cs);
            std::vector<uint8_t> const input = test::randomTensor(dtype, inputElements(probe), rng);
            for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
            {
                for (BinRule rule : {BinRule::kADAPTIVE, BinRule::kCAFFE})
                {
                    for (auto const& levels : kLEVELS)
                    {
                        SppDesc const desc = makeDesc(pyramidOf(levels, mode, rule), dtype, layout, s.n, s.c, s.h,
                            s.w, cs);
                        for (Algo algo : kALL_ALGOS)
                        {
                            if (!sppAlgoSupported(desc, algo))
                            {
                                continue;
                            }
                            ++cases;
                            std::string const error = checkAgainstReference(desc, input, algo);
                            if (!error.empty())
                            {
                                ++failures;
                                ADD_FAILURE() << test::describe(desc) << " algo " << static_cast<int32_t>(algo)
                                              << ": " << error;
                                if (failures > 10)
                                {
                                    return;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    std::printf("[ grid     ] %s: %d cases checked against the CPU reference\n", toString(dtype), cases);
    EXPECT_GT(cases, 600);
}

TEST(Kernels, GridFloat)
{
    SKIP_WITHOUT_GPU();
    runGrid(DataType::kFLOAT);
}

TEST(Kernels, GridHalf)
{
    SKIP_WITHOUT_GPU();
    runGrid(DataType::kHALF);
}

TEST(Kernels, GridBf16)
{
    SKIP_WITHOUT_GPU();
    runGrid(DataType::kBF16);
}

TEST(Kernels, GridInt8)
{
    SKIP_WITHOUT_GPU();
    runGrid(DataType::kINT8);
}

// Max of one map with NaN sprinkled in and channel 0 of sample 0 all -inf, by every kernel that takes it.
void checkNanAndNegativeInfinity(DataType dtype, Layout layout, BinRule rule, int64_t h, int64_t w,
    std::vector<int32_t> const& levels, std::mt19937_64& rng)
{
    SppDesc const desc = makeDesc(pyramidOf(levels, PoolMode::kMAX, rule), dtype, layout, 2, 4, h, w);
    std::vector<uint8_t> input = test::randomTensor(dtype, inputElements(desc), rng);
    size_t const es = elementSize(dtype);
    std::uniform_int_distribution<int64_t> pick(0, inputElements(desc) - 1);
    for (int32_t k = 0; k < 6; ++k)
    {
        size_t const at = static_cast<size_t>(pick(rng)) * es;
        std::memset(&input[at], 0xff, es); // NaN in all three float formats
    }
    for (int64_t i = 0; i < h * w; ++i)
    {
        int64_t const index = layout == Layout::kNCHW ? i : i * desc.c; // channel 0 of sample 0
        float const inf = -std::numeric_limits<float>::infinity();
        if (dtype == DataType::kFLOAT)
        {
            std::memcpy(&input[static_cast<size_t>(index) * 4], &inf, 4);
        }
        else
        {
            uint16_t const bits = dtype == DataType::kHALF ? floatToHalfBits(inf) : floatToBf16Bits(inf);
            std::memcpy(&input[static_cast<size_t>(index) * 2], &bits, 2);
        }
    }
    for (Algo algo : kKERNELS)
    {
        if (sppAlgoSupported(desc, algo))
        {
            EXPECT_EQ(checkAgainstReference(desc, input, algo), "")
                << test::describe(desc) << " algo " << static_cast<int32_t>(algo);
        }
    }
}

TEST(Kernels, NanAndNegativeInfinityPropagateInMax)
{
    SKIP_WITHOUT_GPU();
    std::mt19937_64 rng(77);
    for (DataType dtype : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16})
    {
        for (Layout layout : {Layout::kNCHW, Layout::kNHWC})
        {
            for (BinRule rule : {BinRule::kADAPTIVE, BinRule::kCAFFE})
            {
                // 13x11: the planes / staged / columns / direct kernels
                checkNanAndNegativeInfinity(dtype, layout, rule, 13, 11, {1, 2, 3, 6}, rng);
                // 32x64 {1,2,4}: the grid kernel too (NCHW)
                SppDesc const uniform = makeDesc(pyramid({1, 2, 4}), dtype, Layout::kNCHW, 2, 4, 32, 64);
                EXPECT_TRUE(sppAlgoSupported(uniform, Algo::kGRID)) << test::describe(uniform);
                checkNanAndNegativeInfinity(dtype, layout, rule, 32, 64, {1, 2, 4}, rng);
            }
        }
    }
}

// One tensor over 2^31 elements (int8, 2.15 GB): 64-bit indexing in every kernel. Only some planes are compared,
// against the reference run on those planes alone, so the check stays fast.
TEST(Kernels, Int8TensorOver2Pow31Elements)
{
    SKIP_WITHOUT_GPU();
    int64_t const h = 64, w = 64, c = (1LL << 31) / (h * w) + 3; // 2^31 + 3*4096 elements
    // {1,2,3}: every kernel but grid; {1,2,4}: grid too (NCHW; uniform, 16 int8 columns per cell)
    for (auto const& [layout, uniform] : {std::make_pair(Layout::kNCHW, false), std::make_pair(Layout::kNHWC, false),
             std::make_pair(Layout::kNCHW, true)})
    {
        SppDesc const desc = uniform
            ? makeDesc(pyramid({1, 2, 4}, PoolMode::kAVG), DataType::kINT8, layout, 1, c, h, w)
            : makeDesc(pyramid({1, 2, 3}, PoolMode::kAVG), DataType::kINT8, layout, 1, c, h, w);
        EXPECT_EQ(sppAlgoSupported(desc, Algo::kGRID), uniform);
        int64_t const count = inputElements(desc);
        ASSERT_GT(count, 1LL << 31);
        std::vector<uint8_t> input(static_cast<size_t>(count));
        uint64_t state = 0x9e3779b97f4a7c15ULL;
        for (auto& b : input)
        {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            b = static_cast<uint8_t>(state >> 56);
        }
        DeviceBuffer in(input.size());
        int64_t const outCount = outputElements(desc);
        DeviceBuffer out(static_cast<size_t>(outCount));
        if (in.get() == nullptr || out.get() == nullptr)
        {
            GTEST_SKIP() << "GPU test skipped: cannot allocate 2.2 GB on this GPU";
        }
        CUDA_OK(cudaMemcpy(in.get(), input.data(), input.size(), cudaMemcpyHostToDevice));
        for (Algo algo : kKERNELS)
        {
            if (!sppAlgoSupported(desc, algo))
            {
                continue;
            }
            CUDA_OK(cudaMemset(out.get(), 0x7f, static_cast<size_t>(outCount)));
            LaunchOptions options;
            options.algo = algo;
            CUDA_OK(sppForward(desc, in.get(), out.get(), nullptr, 0, nullptr, options));
            CUDA_OK(cudaDeviceSynchronize());
            std::vector<int8_t> actual(static_cast<size_t>(outCount));
            CUDA_OK(cudaMemcpy(actual.data(), out.get(), actual.size(), cudaMemcpyDeviceToHost));
            for (int64_t channel : {int64_t{0}, int64_t{1}, c / 2, c - 2, c - 1})
            {
                // the plane of this channel, as its own NCHW tensor with C = 1
                std::vector<int8_t> plane(static_cast<size_t>(h * w));
                for (int64_t i = 0; i < h * w; ++i)
                {
                    int64_t const src = layout == Layout::kNCHW ? channel * h * w + i : i * c + channel;
                    plane[static_cast<size_t>(i)] = static_cast<int8_t>(input[static_cast<size_t>(src)]);
                }
                SppDesc const one = makeDesc(desc.pyramid, DataType::kINT8, Layout::kNCHW, 1, 1, h, w);
                std::vector<int8_t> expected(static_cast<size_t>(outputElements(one)));
                ASSERT_TRUE(sppReferenceCpu(one, plane.data(), expected.data()).ok());
                int64_t levelBase = 0;
                int64_t k = 0;
                for (int32_t l = 0; l < desc.pyramid.numLevels; ++l)
                {
                    int64_t const bins = desc.pyramid.levels[l] * desc.pyramid.levels[l];
                    for (int64_t b = 0; b < bins; ++b, ++k)
                    {
                        ASSERT_EQ(actual[static_cast<size_t>(levelBase + channel * bins + b)],
                            expected[static_cast<size_t>(k)])
                            << toString(layout) << " algo " << static_cast<int32_t>(algo) << " channel " << channel
                            << " level " << l << " bin " << b;
                    }
                    levelBase += c * bins;
                }
            }
        }
    }
}

// The columns kernel reads 16-byte chunks only from a 16-byte aligned input with whole-chunk rows; an input one
// element off that alignment must take its element-wise path and still match (fresh random data per dtype).
TEST(Kernels, ColumnsKernelMisalignedInput)
{
    SKIP_WITHOUT_GPU();
    std::mt19937_64 rng(0xa11a11u);
    for (DataType dtype : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT8})
    {
        for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
        {
            SppDesc const desc = makeDesc(pyramid({1, 2, 4}, mode), dtype, Layout::kNCHW, 2, 6, 32, 32);
            ASSERT_TRUE(sppAlgoSupported(desc, Algo::kCOLUMNS));
            std::vector<uint8_t> const input = test::randomTensor(dtype, inputElements(desc), rng);
            for (size_t offset : {size_t{0}, elementSize(dtype)})
            {
                EXPECT_EQ(checkAgainstReference(desc, input, Algo::kCOLUMNS, offset), "")
                    << test::describe(desc) << " input offset " << offset;
            }
        }
    }
}

// Thousands of planes: the columns kernel's persistent CTAs then loop over many groups, with full per-group walks
// and a ragged last group (odd plane counts); the small grid above never gets there. Vector and element paths
// (13x20 fp16 rows are 40 bytes), every dtype, both modes, both rules; kAUTO too.
TEST(Kernels, ManyPlanes)
{
    SKIP_WITHOUT_GPU();
    std::mt19937_64 rng(0x3a9b5u);
    for (DataType dtype : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT8})
    {
        for (Shape const& s : {Shape{9, 601, 32, 32}, Shape{5, 1001, 8, 24}, Shape{3, 999, 13, 20}})
        {
            SppDesc const probe = makeDesc(pyramid({1}), dtype, Layout::kNCHW, s.n, s.c, s.h, s.w);
            std::vector<uint8_t> const input = test::randomTensor(dtype, inputElements(probe), rng);
            for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
            {
                for (auto const& [levels, rule] : {std::make_pair(std::vector<int32_t>{1, 2, 4}, BinRule::kADAPTIVE),
                         std::make_pair(std::vector<int32_t>{1, 2, 3, 6}, BinRule::kCAFFE)})
                {
                    SppDesc const desc
                        = makeDesc(pyramidOf(levels, mode, rule), dtype, Layout::kNCHW, s.n, s.c, s.h, s.w);
                    ASSERT_TRUE(sppAlgoSupported(desc, Algo::kCOLUMNS)) << test::describe(desc);
                    for (Algo algo : {Algo::kCOLUMNS, Algo::kAUTO})
                    {
                        EXPECT_EQ(checkAgainstReference(desc, input, algo), "")
                            << test::describe(desc) << " algo " << static_cast<int32_t>(algo);
                    }
                }
            }
        }
    }
}

// The grid kernel takes uniform pyramids: every level divides the largest, F, which divides H and W, with W / F whole
// 16-byte chunks and W at most 32 chunks. 64x64 {1,2,4} qualifies in every dtype; 48x96 {1,2,3,6} (F = 6) leaves
// lanes idle where a cell's rows are not a multiple of 32 / chunks (int8: 6 chunks, 4 rows per load, not 5); 16x128
// {1,2,4,8,16} has cells of one row. Odd plane counts end the warps' walk mid-CTA; 12987 planes of 16x32 {1,2} make
// a warp take several planes at once (P = 8 on an H100/H200, every dtype): groups cross samples (C = 999 is no
// multiple of P) and the last group is ragged. A misaligned input cannot take it:
// forced, sppForward refuses; kAUTO falls back and still matches.
TEST(Kernels, GridKernelUniformPyramids)
{
    SKIP_WITHOUT_GPU();
    std::mt19937_64 rng(0x6a1du);
    struct GridCase
    {
        Shape shape;
        std::vector<int32_t> levels;
        bool int8; // whether W / F is whole 16-byte chunks of int8 too
    };
    std::vector<GridCase> const cases = {{{3, 7, 64, 64}, {1, 2, 4}, true}, {{2, 5, 48, 96}, {1, 2, 3, 6}, true},
        {{1, 3, 16, 128}, {1, 2, 4, 8, 16}, false}, {{4, 333, 32, 32}, {2, 4, 1}, false},
        {{13, 999, 16, 32}, {1, 2}, true}, {{2, 6, 32, 64}, {4, 4, 2}, true}, {{1, 9, 32, 32}, {4}, false}};
    int32_t checked = 0;
    for (DataType dtype : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT8})
    {
        for (GridCase const& k : cases)
        {
            Shape const& s = k.shape;
            SppDesc const probe = makeDesc(pyramid({1}), dtype, Layout::kNCHW, s.n, s.c, s.h, s.w);
            std::vector<uint8_t> const input = test::randomTensor(dtype, inputElements(probe), rng);
            for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
            {
                for (BinRule rule : {BinRule::kADAPTIVE, BinRule::kCAFFE})
                {
                    SppDesc const desc
                        = makeDesc(pyramidOf(k.levels, mode, rule), dtype, Layout::kNCHW, s.n, s.c, s.h, s.w);
                    bool const expected = dtype != DataType::kINT8 || k.int8;
                    bool const supported = sppAlgoSupported(desc, Algo::kGRID);
                    EXPECT_EQ(supported, expected) << test::describe(desc);
                    if (!supported)
                    {
                        continue;
                    }
                    EXPECT_EQ(checkAgainstReference(desc, input, Algo::kGRID), "") << test::describe(desc);
                    EXPECT_EQ(checkAgainstReference(desc, input, Algo::kAUTO), "") << test::describe(desc);
                    size_t const offset = elementSize(dtype);
                    EXPECT_EQ(checkAgainstReference(desc, input, Algo::kGRID, offset),
                        std::string("sppForward: ") + cudaGetErrorString(cudaErrorInvalidValue))
                        << test::describe(desc);
                    EXPECT_EQ(checkAgainstReference(desc, input, Algo::kAUTO, offset), "") << test::describe(desc);
                    ++checked;
                }
            }
        }
    }
    EXPECT_EQ(checked, 3 * 7 * 4 + 4 * 4); // fp32/fp16/bf16: 7 cases; int8: 4; each in 2 modes x 2 rules
}

// More groups than warps can be resident (2048 / 32 per SM on the SMs of this GPU), so warps of the grid kernel take
// several groups in turn: the next group's loads issued before the current group's epilogue, and the per-warp
// partials and cells reused from group to group. fp32 32x32 {1,2,4,8} and int8 16x128 {1,2,4,8} (P = 1), fp16 /
// bf16 32x32 {1,2,4} (P = 2); both modes.
TEST(Kernels, GridKernelWarpsTakeSeveralGroups)
{
    SKIP_WITHOUT_GPU();
    int32_t device = 0;
    int32_t sms = 0;
    CUDA_OK(cudaGetDevice(&device));
    CUDA_OK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    int64_t const residentWarps = static_cast<int64_t>(sms) * 2048 / 32;
    std::mt19937_64 rng(0x9a0b5u);
    for (DataType dtype : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT8})
    {
        bool const half = dtype == DataType::kHALF || dtype == DataType::kBF16;
        int64_t const h = dtype == DataType::kINT8 ? 16 : 32;
        int64_t const w = dtype == DataType::kINT8 ? 128 : 32;
        std::vector<int32_t> const levels = half ? std::vector<int32_t>{1, 2, 4} : std::vector<int32_t>{1, 2, 4, 8};
        int64_t const planesPerGroup = half ? 2 : 1; // planGrid's P for these shapes
        int64_t const c = 1001;
        int64_t const n = residentWarps * planesPerGroup / c + 1;
        SppDesc const probe = makeDesc(pyramid({1}), dtype, Layout::kNCHW, n, c, h, w);
        std::vector<uint8_t> const input = test::randomTensor(dtype, inputElements(probe), rng);
        for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
        {
            SppDesc const desc = makeDesc(pyramidOf(levels, mode, BinRule::kADAPTIVE), dtype, Layout::kNCHW, n, c, h, w);
            ASSERT_TRUE(sppAlgoSupported(desc, Algo::kGRID)) << test::describe(desc);
            EXPECT_EQ(checkAgainstReference(desc, input, Algo::kGRID), "") << test::describe(desc);
        }
    }
}

// The grid kernel's butterfly epilogue (planGridButterfly: float types, F = 4 with 8 lanes per cell, P * F <= 8) with
// two planes per warp group, as in spp-bench's 32x32 and 64x64 {1,2,4} cases: 4995 planes (P = 2 from 3168 planes on
// a 132-SM GPU; fewer SMs keep P = 2), C = 999, so groups cross samples and the last group is ragged; levels in any
// order and repeated; both modes. (The grid above and GridKernelUniformPyramids reach it with P = 1.)
TEST(Kernels, GridKernelButterflyPairs)
{
    SKIP_WITHOUT_GPU();
    std::mt19937_64 rng(0xbf1f2u);
    int32_t checked = 0;
    for (DataType dtype : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16})
    {
        for (int64_t side : {32, 64})
        {
            int64_t const n = side == 32 ? 5 : 4;
            SppDesc const probe = makeDesc(pyramid({1}), dtype, Layout::kNCHW, n, 999, side, side);
            std::vector<uint8_t> const input = test::randomTensor(dtype, inputElements(probe), rng);
            for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
            {
                for (auto const& levels : {std::vector<int32_t>{1, 2, 4}, std::vector<int32_t>{4, 2, 1, 2}})
                {
                    SppDesc const desc = makeDesc(
                        pyramidOf(levels, mode, BinRule::kADAPTIVE), dtype, Layout::kNCHW, n, 999, side, side);
                    ASSERT_TRUE(sppAlgoSupported(desc, Algo::kGRID)) << test::describe(desc);
                    EXPECT_EQ(checkAgainstReference(desc, input, Algo::kGRID), "") << test::describe(desc);
                    ++checked;
                }
            }
        }
    }
    EXPECT_EQ(checked, 3 * 2 * 2 * 2);
}

// The tasks kernel's group paths that the small grid above does not reach: many planes, so G (planes per CTA) is 1 to
// 32 (on an H100/H200: 40x37 13x13 G = 2, 13x1000 5x7 G = 32, 3x1057 5x7 G = 8, 2x999 24x24 G = 4, 3x11 38x63 and
// 1x5 90x100 G = 1); plane counts that are no multiple of G (a ragged last group); C no multiple of G (groups that
// cross into the next sample take the general store path); plane runs that start off 16-byte alignment (scalar head
// and tail around the vector loads, vectors that span two planes); one large plane per CTA (rows split into partials,
// then combined; 90x100 avg {1,2,3,6} has too many rows for the task table and runs whole bins). Pyramids whose
// levels nest ({1,2,3,6} on 13x13: derived levels; {1,2,4} on 24x24: avg derives too) and one that does not
// ({1,2,3,4,5,6,7,8,13}, which some shapes refuse); max and avg; both rules; every dtype; kAUTO too.
TEST(Kernels, TasksKernelGroups)
{
    SKIP_WITHOUT_GPU();
    std::mt19937_64 rng(0x7a5c5u);
    int32_t checked = 0;
    for (DataType dtype : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT8})
    {
        for (Shape const& s : {Shape{40, 37, 13, 13}, Shape{13, 1000, 5, 7}, Shape{3, 1057, 5, 7},
                 Shape{3, 11, 38, 63}, Shape{2, 999, 24, 24}, Shape{1, 5, 90, 100}})
        {
            SppDesc const probe = makeDesc(pyramid({1}), dtype, Layout::kNCHW, s.n, s.c, s.h, s.w);
            std::vector<uint8_t> const input = test::randomTensor(dtype, inputElements(probe), rng);
            for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
            {
                for (BinRule rule : {BinRule::kADAPTIVE, BinRule::kCAFFE})
                {
                    for (auto const& levels : {std::vector<int32_t>{1, 2, 3, 6}, std::vector<int32_t>{4, 2, 1},
                             std::vector<int32_t>{1, 2, 3, 4, 5, 6, 7, 8, 13}})
                    {
                        SppDesc const desc
                            = makeDesc(pyramidOf(levels, mode, rule), dtype, Layout::kNCHW, s.n, s.c, s.h, s.w);
                        bool const nineLevels = levels.size() == 9;
                        if (!nineLevels)
                        {
                            ASSERT_TRUE(sppAlgoSupported(desc, Algo::kTASKS)) << test::describe(desc);
                        }
                        else if (!sppAlgoSupported(desc, Algo::kTASKS))
                        {
                            continue; // e.g. 90x100 with 9 levels: more tasks than a plan holds
                        }
                        for (Algo algo : {Algo::kTASKS, Algo::kAUTO})
                        {
                            EXPECT_EQ(checkAgainstReference(desc, input, algo), "")
                                << test::describe(desc) << " algo " << static_cast<int32_t>(algo);
                        }
                        ++checked;
                    }
                }
            }
        }
    }
    EXPECT_GE(checked, 4 * 6 * 2 * 2 * 2); // every shape with the two nesting pyramids, every dtype / mode / rule
}

// Shapes whose groups are whole planes of one sample with every level's run whole 16-byte vectors (the plan's
// storeVector, in elements: G here), where the tasks kernel's SPP_TASKS_VSTORE store runs. The plans are checked on the
// host, so the test says when no shape reaches that store for a dtype any more.
TEST(Kernels, TasksKernelVectorStore)
{
    SKIP_WITHOUT_GPU();
    int32_t sms = 0;
    ASSERT_EQ(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0), cudaSuccess);
    std::mt19937_64 rng(0x7a5c6u);
    for (DataType dtype : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT8})
    {
        int32_t const perVector = 16 / static_cast<int32_t>(elementSize(dtype));
        int32_t vectorized = 0;
        // the last shape has 32 planes for each CTA the choice of G aims for (G = 32 whatever the GPU and the
        // SPP_TASKS_CTAS_PER_SM knob), so that int8's 16-element vectors stay reachable with the knob at 4 too
        for (Shape const& s : {Shape{32, 256, 13, 13}, Shape{8, 512, 9, 9}, Shape{16, 128, 6, 10},
                 Shape{sms * tasks::kCTAS_PER_SM, 32, 13, 13}})
        {
            SppDesc const probe = makeDesc(pyramid({1}), dtype, Layout::kNCHW, s.n, s.c, s.h, s.w);
            std::vector<uint8_t> const input = test::randomTensor(dtype, inputElements(probe), rng);
            for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
            {
                for (auto const& levels : {std::vector<int32_t>{1, 2, 3, 6}, std::vector<int32_t>{4, 2, 1}})
                {
                    SppDesc const desc = makeDesc(
                        pyramidOf(levels, mode, BinRule::kADAPTIVE), dtype, Layout::kNCHW, s.n, s.c, s.h, s.w);
                    tasks::TasksPlan plan;
                    ASSERT_TRUE(tasks::planTasks(desc, 256, sms, plan)) << test::describe(desc); // 256: the CTA size
                    vectorized += plan.storeVector >= perVector ? 1 : 0;
                    EXPECT_EQ(checkAgainstReference(desc, input, Algo::kTASKS), "") << test::describe(desc);
                }
            }
        }
        EXPECT_GE(vectorized, 4) << "dtype " << static_cast<int32_t>(dtype)
                                 << ": too few shapes reach the vector store";
    }
}

// Persistent CTAs that run three or more groups each (at most 8 CTAs of 256 threads fit an SM, so 24 groups per SM
// guarantee it), in the fp32 kernels with their bulk-copied loads (SPP_TASKS_BULK: the barrier's parity must alternate
// over several groups) and the fp16 kernels with two planes per lane (SPP_TASKS_PAIRS 2): 13x13 (whole aligned groups);
// 1x1 planes whose last group holds one plane (no 16-byte vector: no bulk copy after bulk-copied groups); 89x101, one
// plane per CTA whose 35956-byte planes leave every group differently misaligned. Aligned and misaligned inputs.
TEST(Kernels, TasksKernelManyGroupsPerCta)
{
    SKIP_WITHOUT_GPU();
    int32_t sms = 0;
    ASSERT_EQ(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0), cudaSuccess);
    int64_t const minGroups = int64_t{24} * sms;
    std::mt19937_64 rng(0x7a5c7u);
    for (DataType dtype : {DataType::kFLOAT, DataType::kHALF})
    {
        for (Shape const& s :
            {Shape{400, 256, 13, 13}, Shape{1, 32 * minGroups + 1, 1, 1}, Shape{1, minGroups, 89, 101}})
        {
            SppDesc const probe = makeDesc(pyramid({1}), dtype, Layout::kNCHW, s.n, s.c, s.h, s.w);
            std::vector<uint8_t> const input = test::randomTensor(dtype, inputElements(probe), rng);
            for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
            {
                SppDesc const desc = makeDesc(
                    pyramidOf({1, 2, 3, 6}, mode, BinRule::kADAPTIVE), dtype, Layout::kNCHW, s.n, s.c, s.h, s.w);
                tasks::TasksPlan plan;
                ASSERT_TRUE(tasks::planTasks(desc, 256, sms, plan)) << test::describe(desc); // 256: the CTA size
                ASSERT_GE(plan.numGroups, minGroups) << test::describe(desc);
                ASSERT_NE(plan.contiguous, 0) << test::describe(desc) << ": pixels not contiguous, no bulk copy";
                if (s.h * s.w == 1)
                {
                    ASSERT_EQ(s.n * s.c % plan.planes, 1) << test::describe(desc) << ": last group not one plane";
                }
                if (s.h == 89)
                {
                    ASSERT_EQ(plan.planes, 1) << test::describe(desc);
                }
                for (size_t const offset : {size_t{0}, elementSize(dtype)})
                {
                    EXPECT_EQ(checkAgainstReference(desc, input, Algo::kTASKS, offset), "")
                        << test::describe(desc) << " input offset " << offset;
                }
            }
        }
    }
}

// ---- launcher contract (no GPU needed: these return before any CUDA call) -----------------------------------------

TEST(Launcher, RejectsInvalidInputWithoutLaunching)
{
    float dummy = 0;
    SppDesc desc = makeDesc(pyramid({1, 2}), DataType::kFLOAT, Layout::kNCHW, 1, 2, 3, 3);
    EXPECT_EQ(sppForward(desc, nullptr, &dummy, nullptr, 0, nullptr), cudaErrorInvalidValue);
    EXPECT_EQ(sppForward(desc, &dummy, nullptr, nullptr, 0, nullptr), cudaErrorInvalidValue);
    SppDesc bad = desc;
    bad.pyramid.levels[1] = 0;
    EXPECT_EQ(sppForward(bad, &dummy, &dummy, nullptr, 0, nullptr), cudaErrorInvalidValue);
    bad = desc;
    bad.h = 0;
    EXPECT_EQ(sppForward(bad, &dummy, &dummy, nullptr, 0, nullptr), cudaErrorInvalidValue);
    // the staged kernel reads NCHW only
    SppDesc nhwc = desc;
    nhwc.layout = Layout::kNHWC;
    EXPECT_FALSE(sppAlgoSupported(nhwc, Algo::kSTAGED));
    EXPECT_FALSE(sppAlgoSupported(nhwc, Algo::kCOLUMNS));
    LaunchOptions staged;
    staged.algo = Algo::kSTAGED;
    EXPECT_EQ(sppForward(nhwc, &dummy, &dummy, nullptr, 0, nullptr, staged), cudaErrorInvalidValue);
    LaunchOptions unknown;
    unknown.algo = static_cast<Algo>(9);
    EXPECT_EQ(sppForward(desc, &dummy, &dummy, nullptr, 0, nullptr, unknown), cudaErrorInvalidValue);
    // pointers that are not a multiple of the element size (the kernels' loads would fault on them)
    alignas(16) unsigned char bytes[64] = {};
    EXPECT_EQ(sppForward(desc, bytes + 2, bytes + 32, nullptr, 0, nullptr), cudaErrorMisalignedAddress);
    EXPECT_EQ(sppForward(desc, bytes, bytes + 34, nullptr, 0, nullptr), cudaErrorMisalignedAddress);
    SppDesc half = desc;
    half.dtype = DataType::kHALF;
    EXPECT_EQ(sppForward(half, bytes + 1, bytes + 32, nullptr, 0, nullptr), cudaErrorMisalignedAddress);
}

TEST(Launcher, EmptyBatchLaunchesNothing)
{
    SppDesc const desc = makeDesc(pyramid({1, 2, 4}), DataType::kHALF, Layout::kNCHW, 0, 8, 32, 32);
    EXPECT_EQ(sppWorkspaceSize(desc), 0u);
    EXPECT_EQ(sppForward(desc, nullptr, nullptr, nullptr, 0, nullptr), cudaSuccess);
    for (Algo algo : kALL_ALGOS)
    {
        EXPECT_TRUE(sppAlgoSupported(desc, algo)) << static_cast<int32_t>(algo); // planning N = 0 must not divide by 0
        LaunchOptions options;
        options.algo = algo;
        EXPECT_EQ(sppForward(desc, nullptr, nullptr, nullptr, 0, nullptr, options), cudaSuccess);
    }
}

TEST(Launcher, AlgoSupport)
{
    SppDesc const small = makeDesc(pyramid({1, 2, 4}), DataType::kFLOAT, Layout::kNCHW, 1, 2, 13, 13);
    EXPECT_TRUE(sppAlgoSupported(small, Algo::kSTAGED));
    EXPECT_TRUE(sppAlgoSupported(small, Algo::kDIRECT));
    // a 20000-wide fp32 row (80 KB) cannot be staged; the direct kernel takes it
    SppDesc const wide = makeDesc(pyramid({1, 2, 4}), DataType::kFLOAT, Layout::kNCHW, 1, 2, 3, 20000);
    EXPECT_FALSE(sppAlgoSupported(wide, Algo::kSTAGED));
    EXPECT_FALSE(sppAlgoSupported(wide, Algo::kCOLUMNS)); // its segment values of one plane need 240 KB
    EXPECT_TRUE(sppAlgoSupported(wide, Algo::kAUTO));
    EXPECT_TRUE(sppAlgoSupported(small, Algo::kCOLUMNS));
    // a plane larger than shared memory is streamed in row strips
    SppDesc const tall = makeDesc(pyramid({1, 2, 4}), DataType::kFLOAT, Layout::kNCHW, 1, 2, 300, 200);
    EXPECT_TRUE(sppAlgoSupported(tall, Algo::kSTAGED));
    // a single plane of >= 2^31 elements: the staged kernel's in-plane offsets and avg divisors are int32, so it
    // must refuse (the direct kernel, 64-bit throughout, takes it)
    SppDesc const huge = makeDesc(pyramid({1}, PoolMode::kAVG), DataType::kINT8, Layout::kNCHW, 1, 1, 1 << 20, 2048);
    EXPECT_FALSE(sppAlgoSupported(huge, Algo::kSTAGED));
    EXPECT_FALSE(sppAlgoSupported(huge, Algo::kPLANES));
    EXPECT_FALSE(sppAlgoSupported(huge, Algo::kCOLUMNS));
    EXPECT_TRUE(sppAlgoSupported(huge, Algo::kAUTO));
    EXPECT_FALSE(sppAlgoSupported(huge, Algo::kGRID));
    // the grid kernel: uniform pyramids only (each level divides the largest, F; F divides H and W; W / F whole
    // 16-byte chunks; W at most 32 chunks), NCHW
    auto const grid = [](std::vector<int32_t> const& levels, DataType dtype, Layout layout, int64_t h, int64_t w) {
        return sppAlgoSupported(
            makeDesc(pyramidOf(levels, PoolMode::kMAX, BinRule::kADAPTIVE), dtype, layout, 2, 3, h, w), Algo::kGRID);
    };
    EXPECT_TRUE(grid({1, 2, 4}, DataType::kFLOAT, Layout::kNCHW, 32, 32));
    EXPECT_TRUE(grid({4, 2, 1}, DataType::kHALF, Layout::kNCHW, 96, 96));
    EXPECT_FALSE(grid({1, 2, 4}, DataType::kFLOAT, Layout::kNCHW, 13, 13));  // 4 does not divide 13
    EXPECT_FALSE(grid({1, 2, 3}, DataType::kFLOAT, Layout::kNCHW, 36, 36));  // 2 does not divide 3
    EXPECT_FALSE(grid({1, 2, 4}, DataType::kFLOAT, Layout::kNCHW, 32, 20));  // a cell of 5 columns: not whole chunks
    EXPECT_FALSE(grid({1, 2, 4}, DataType::kINT8, Layout::kNCHW, 32, 32));   // 8 int8 columns: half a chunk
    EXPECT_FALSE(grid({1, 2, 4}, DataType::kFLOAT, Layout::kNCHW, 32, 256)); // 64 chunks per row
    EXPECT_FALSE(grid({1, 2, 4}, DataType::kFLOAT, Layout::kNHWC, 32, 32));
    EXPECT_FALSE(grid({1, 2, 4, 8, 16, 32}, DataType::kFLOAT, Layout::kNCHW, 64, 128)); // F = 32 > 16
    // the tasks kernel: NCHW, H and W <= 255, sum(L^2) <= 640 (a task per bin), and a plan that fits its tables
    auto const tasks = [](std::vector<int32_t> const& levels, PoolMode mode, Layout layout, int64_t h, int64_t w) {
        return sppAlgoSupported(
            makeDesc(pyramidOf(levels, mode, BinRule::kADAPTIVE), DataType::kHALF, layout, 32, 256, h, w),
            Algo::kTASKS);
    };
    EXPECT_TRUE(tasks({1, 2, 3, 6}, PoolMode::kMAX, Layout::kNCHW, 13, 13));
    EXPECT_TRUE(tasks({1, 2, 3, 6}, PoolMode::kAVG, Layout::kNCHW, 38, 63));
    EXPECT_TRUE(tasks({25}, PoolMode::kMAX, Layout::kNCHW, 25, 25));      // 625 bins
    EXPECT_FALSE(tasks({26}, PoolMode::kMAX, Layout::kNCHW, 26, 26));     // 676 bins
    EXPECT_FALSE(tasks({1, 2, 3, 6}, PoolMode::kMAX, Layout::kNHWC, 13, 13));
    EXPECT_FALSE(tasks({1, 2, 3, 6}, PoolMode::kMAX, Layout::kNCHW, 13, 256));
    EXPECT_FALSE(tasks({1, 2, 3, 6}, PoolMode::kMAX, Layout::kNCHW, 256, 13));
    EXPECT_FALSE(tasks({1, 2, 4}, PoolMode::kMAX, Layout::kNCHW, 200, 200)); // 160 KB per plane
}

} // namespace
} // namespace spp
