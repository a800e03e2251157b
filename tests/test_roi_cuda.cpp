// GPU tests of ROI pooling: roiForward against the CPU reference over random rois (with the edge cases mixed in),
// every kernel (RoiAlgo) that can run the case, every feature dtype, both roi dtypes, both layouts, both modes,
// square and rectangular levels, maps that are staged in shared memory and maps that are not; outputs poisoned twice.
// Max must match bit for bit. Without a GPU they skip, saying why; the launcher-contract tests and the host emulation
// of the segments kernel's index math (RoiSegments.*) need no GPU.
#include "cuda/roi_segments.h"
#include "spp/roi_cuda.h"
#include "test_gpu_util.h"
#include "test_roi_util.h"

#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace spp
{
namespace
{

using test::DeviceBuffer;
using test::makeRoiDesc;
using test::squareLevels;

// Every device operation of one check - uploads, poison, launch, download - is ordered on one non-blocking stream.
// (The legacy default stream does not synchronise with a non-blocking stream: a cudaMemset/cudaMemcpy there is
// unordered with the kernel, so under GPU load the poison could land after the kernel's stores, or the kernel could
// read inputs whose copy had not finished. That was the flaky NHWC failure of ctest -j4.)
std::string checkAgainstReference(RoiDesc const& desc, std::vector<uint8_t> const& features,
    std::vector<uint8_t> const& rois, RoiAlgo algo = RoiAlgo::kAUTO)
{
    size_t const outBytes = static_cast<size_t>(roiOutputElements(desc)) * elementSize(desc.dtype);
    std::vector<uint8_t> expected(outBytes, 0x5a);
    Status const ref = roiReferenceCpu(desc, features.data(), rois.data(), expected.data());
    if (!ref.ok())
    {
        return std::string("reference failed: ") + ref.message();
    }
    DeviceBuffer in(features.size());
    DeviceBuffer roiBuffer(rois.size());
    DeviceBuffer out(outBytes);
    if ((!features.empty() && in.get() == nullptr) || (!rois.empty() && roiBuffer.get() == nullptr)
        || (outBytes > 0 && out.get() == nullptr))
    {
        return "cudaMalloc failed";
    }
    size_t const wsBytes = roiWorkspaceSize(desc);
    DeviceBuffer workspace(wsBytes);
    test::Stream stream;
    if (stream.get() == nullptr)
    {
        return "cudaStreamCreate failed";
    }
    if (test::uploadAsync(in.get(), features, stream.get()) != cudaSuccess
        || test::uploadAsync(roiBuffer.get(), rois, stream.get()) != cudaSuccess)
    {
        return "cudaMemcpyAsync to device failed";
    }
    for (int32_t poison : {0xff, 0x00})
    {
        if (outBytes > 0 && cudaMemsetAsync(out.get(), poison, outBytes, stream.get()) != cudaSuccess)
        {
            return "cudaMemsetAsync failed";
        }
        cudaError_t const launched = roiForward(
            desc, in.get(), roiBuffer.get(), out.get(), workspace.get(), wsBytes, stream.get(), RoiLaunchOptions{algo});
        std::vector<uint8_t> actual(outBytes);
        cudaError_t const copied = outBytes > 0
            ? cudaMemcpyAsync(actual.data(), out.get(), outBytes, cudaMemcpyDeviceToHost, stream.get())
            : cudaSuccess;
        cudaError_t const synced = cudaStreamSynchronize(stream.get());
        if (launched != cudaSuccess || copied != cudaSuccess || synced != cudaSuccess)
        {
            return std::string("roiForward: ") + cudaGetErrorString(launched) + ", copy: " + cudaGetErrorString(copied)
                + ", sync: " + cudaGetErrorString(synced);
        }
        std::string const diff = test::compareRoiOutputs(desc, expected, actual);
        if (!diff.empty())
        {
            return "algo " + std::to_string(static_cast<int32_t>(algo)) + " poison 0x" + std::to_string(poison) + ":"
                + diff;
        }
    }
    return {};
}

struct MapShape
{
    int64_t n, c, h, w, k;
    float scale;
};

// 38x63 (the SPP-net detection map, staged), a tiny map, N = 3, a map too large to stage (direct kernel), N = 0 with
// rois (all zero rows), K = 0, and K above one CTA's run of rois.
// C = 37 and 40: several channel slices of the slices kernel, the last one partial (and, in fp16/bf16, odd).
std::vector<MapShape> const kMAPS = {{1, 8, 38, 63, 301, 0.0625F}, {2, 3, 5, 7, 97, 0.5F}, {3, 5, 13, 17, 200, 0.25F},
    {1, 2, 150, 200, 64, 1.0F}, {0, 3, 9, 9, 20, 1.0F}, {2, 3, 9, 9, 0, 1.0F}, {1, 2, 24, 24, 700, 0.125F},
    {2, 37, 11, 19, 150, 0.25F}, {1, 40, 38, 63, 120, 0.0625F}};

// {4, 2, 2, 13} is beyond the segments kernel's tables (kAUTO falls back); {5, 4, 3, 2} (sum(2L - 1) = 24) comes
// closer to their limits.
// {4, 2, 2, 13} is beyond the slices kernel's staging too. {{1, 1}, {2, 3}, {4, 6}}: rectangular levels that nest in
// the finest one (the slices kernel derives them in max mode). {{1, 16}, {16, 1}, {2, 2}}: 38 windows, more than one
// warp's ballot in the slices kernel's window flags. {{6, 6}, {2, 3}, {3, 2}}: derived levels that group the finest
// one's rows and columns unequally; {{4, 8}, {2, 4}, {1, 2}}: a finest level wider than high.
std::vector<std::vector<std::pair<int32_t, int32_t>>> const kLEVELS = {squareLevels({1, 2, 3, 6}), squareLevels({1}),
    {{7, 5}}, squareLevels({4, 2, 2, 13}), squareLevels({5, 4, 3, 2}), {{1, 1}, {2, 3}, {4, 6}},
    {{1, 16}, {16, 1}, {2, 2}}, {{6, 6}, {2, 3}, {3, 2}}, {{4, 8}, {2, 4}, {1, 2}}};

std::vector<RoiAlgo> const kALGOS
    = {RoiAlgo::kAUTO, RoiAlgo::kPLANES, RoiAlgo::kDIRECT, RoiAlgo::kSEGMENTS, RoiAlgo::kSLICES};

//! Every algo that can run `desc` (with its workspace) against the reference; returns the first error.
std::string checkAllAlgos(RoiDesc const& desc, std::vector<uint8_t> const& features, std::vector<uint8_t> const& rois,
    int32_t& cases)
{
    for (RoiAlgo algo : kALGOS)
    {
        if (algo != RoiAlgo::kAUTO && !roiAlgoSupported(desc, algo, roiWorkspaceSize(desc)))
        {
            continue;
        }
        ++cases;
        std::string const error = checkAgainstReference(desc, features, rois, algo);
        if (!error.empty())
        {
            return error;
        }
    }
    return {};
}

void runGrid(DataType dtype)
{
    std::mt19937_64 rng(0x701u + static_cast<uint32_t>(dtype));
    int32_t cases = 0;
    int32_t failures = 0;
    for (MapShape const& s : kMAPS)
    {
        // NCHW; NHWC with kHWC8-style padding (C rounded up to 8: 16-byte pixel runs in fp16); NHWC with no padding
        // (odd C: the slices kernel's 4-byte and register staging paths)
        for (int32_t variant = 0; variant < 3; ++variant)
        {
            Layout const layout = variant == 0 ? Layout::kNCHW : Layout::kNHWC;
            int64_t const cs = variant == 1 ? (s.c + 7) / 8 * 8 : (variant == 2 ? s.c : 0);
            RoiDesc const probe = makeRoiDesc(squareLevels({1}), PoolMode::kMAX, s.scale, dtype, DataType::kFLOAT,
                layout, s.n, s.c, s.h, s.w, s.k, cs);
            std::vector<uint8_t> const features = test::randomTensor(dtype, roiFeatureElements(probe), rng);
            std::vector<float> const rows = test::randomRois(s.k, s.n, s.h, s.w, s.scale, rng);
            for (DataType roiDtype : {DataType::kFLOAT, dtype})
            {
                std::vector<uint8_t> const rois = test::encodeRois(rows, roiDtype);
                for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
                {
                    for (auto const& levels : kLEVELS)
                    {
                        RoiDesc const desc
                            = makeRoiDesc(levels, mode, s.scale, dtype, roiDtype, layout, s.n, s.c, s.h, s.w, s.k, cs);
                        std::string const error = checkAllAlgos(desc, features, rois, cases);
                        if (!error.empty())
                        {
                            ++failures;
                            ADD_FAILURE() << test::describeRoi(desc) << ": " << error;
                            if (failures > 10)
                            {
                                return;
                            }
                        }
                    }
                }
                if (dtype == DataType::kFLOAT)
                {
                    break; // fp32 rois only once
                }
            }
        }
    }
    std::printf("[ roi grid ] %s: %d cases checked against the CPU reference\n", toString(dtype), cases);
    EXPECT_GE(cases, dtype == DataType::kFLOAT ? 280 : 560);
}

TEST(RoiKernels, GridFloat)
{
    SKIP_WITHOUT_GPU();
    runGrid(DataType::kFLOAT);
}

TEST(RoiKernels, GridHalf)
{
    SKIP_WITHOUT_GPU();
    runGrid(DataType::kHALF);
}

TEST(RoiKernels, GridBf16)
{
    SKIP_WITHOUT_GPU();
    runGrid(DataType::kBF16);
}

TEST(RoiKernels, NanAndNegativeInfinityPropagateInMax)
{
    SKIP_WITHOUT_GPU();
    std::mt19937_64 rng(99);
    for (DataType dtype : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16})
    {
        for (Layout layout : {Layout::kNCHW, Layout::kNHWC})
        {
            RoiDesc const desc = makeRoiDesc(squareLevels({1, 2, 3, 6}), PoolMode::kMAX, 1.0F, dtype,
                DataType::kFLOAT, layout, 1, 4, 13, 11, 40);
            std::vector<uint8_t> features = test::randomTensor(dtype, roiFeatureElements(desc), rng);
            size_t const es = elementSize(dtype);
            std::uniform_int_distribution<int64_t> pick(0, roiFeatureElements(desc) - 1);
            for (int32_t i = 0; i < 6; ++i)
            {
                std::memset(&features[static_cast<size_t>(pick(rng)) * es], 0xff, es); // NaN in every float format
            }
            for (int64_t i = 0; i < 13 * 11; ++i) // channel 0 all -inf
            {
                int64_t const index = layout == Layout::kNCHW ? i : i * desc.c;
                float const inf = -std::numeric_limits<float>::infinity();
                std::vector<uint8_t> const bits = test::encodeRois({inf}, dtype);
                std::memcpy(&features[static_cast<size_t>(index) * es], bits.data(), es);
            }
            std::vector<uint8_t> const rois
                = test::encodeRois(test::randomRois(desc.numRois, 1, 13, 11, 1.0F, rng), DataType::kFLOAT);
            int32_t cases = 0;
            EXPECT_EQ(checkAllAlgos(desc, features, rois, cases), "") << test::describeRoi(desc);
            EXPECT_GE(cases, 3) << test::describeRoi(desc);
        }
    }
}

// The slices kernel derives a max level from the finest one only where the windows nest exactly. With levels {1, 7}
// and a roi 57 cells high, fp32 rounding makes the last of the 7 row windows end at 58 (one row past the roi) while
// the single window of level 1 ends at 57: level 1 must then be read from the map, not taken from the 7 x 7 bins
// (row 57 holds the largest values, so taking it would show). Rois of other heights nest and are derived.
TEST(RoiKernels, SlicesDeriveOnlyNestedLevels)
{
    SKIP_WITHOUT_GPU();
    std::mt19937_64 rng(57);
    for (DataType dtype : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16})
    {
        int64_t const h = 60, w = 20;
        std::vector<float> rows = {0, 0, 0, 19, 56, 0, 2, 1, 17, 57, 0, 0, 3, 9, 59, 0, 5, 0, 5, 56};
        RoiDesc const desc = makeRoiDesc({{1, 1}, {7, 7}}, PoolMode::kMAX, 1.0F, dtype, DataType::kFLOAT,
            Layout::kNCHW, 1, 24, h, w, static_cast<int64_t>(rows.size() / 5));
        ASSERT_TRUE(roiAlgoSupported(desc, RoiAlgo::kSLICES, roiWorkspaceSize(desc))) << test::describeRoi(desc);
        std::vector<float> values(static_cast<size_t>(roiFeatureElements(desc)));
        std::uniform_real_distribution<float> small(-4.0F, 4.0F);
        for (int64_t c = 0; c < desc.c; ++c)
        {
            for (int64_t y = 0; y < h; ++y)
            {
                for (int64_t x = 0; x < w; ++x)
                {
                    values[static_cast<size_t>((c * h + y) * w + x)] = y == 57 ? 8.0F + small(rng) : small(rng);
                }
            }
        }
        std::vector<uint8_t> const features = test::encodeRois(values, dtype);
        std::vector<uint8_t> const rois = test::encodeRois(rows, DataType::kFLOAT);
        EXPECT_EQ(checkAgainstReference(desc, features, rois, RoiAlgo::kSLICES), "") << test::describeRoi(desc);
    }
}

// roiForward must enqueue all of its work on the caller's stream (TensorRT gives each enqueue its own stream, and
// CUDA graphs capture only that stream). Captured into a graph: a launch on any other stream would either fail the
// capture or be missing from the graph, whose replay must produce the whole output. Planes and direct kernels.
TEST(RoiKernels, EnqueuesOnlyOnTheGivenStream)
{
    SKIP_WITHOUT_GPU();
    std::mt19937_64 rng(17);
    for (Layout layout : {Layout::kNCHW, Layout::kNHWC})
    {
        for (int64_t h : {int64_t{13}, int64_t{150}})
        {
          for (RoiAlgo algo : {RoiAlgo::kAUTO, RoiAlgo::kSEGMENTS, RoiAlgo::kSLICES}) // segments: the transpose too
          {
            RoiDesc const desc = makeRoiDesc(squareLevels({1, 2, 3}), PoolMode::kAVG, 0.5F, DataType::kFLOAT,
                DataType::kFLOAT, layout, 2, 3, h, h + 4, 50);
            if (!roiAlgoSupported(desc, algo, roiWorkspaceSize(desc)))
            {
                continue; // slices: the 150 x 154 map does not fit in shared memory
            }
            std::vector<uint8_t> const features = test::randomTensor(desc.dtype, roiFeatureElements(desc), rng);
            std::vector<uint8_t> const rois = test::encodeRois(
                test::randomRois(desc.numRois, desc.n, desc.h, desc.w, 0.5F, rng), DataType::kFLOAT);
            size_t const outBytes = static_cast<size_t>(roiOutputElements(desc)) * 4;
            std::vector<uint8_t> expected(outBytes);
            ASSERT_TRUE(roiReferenceCpu(desc, features.data(), rois.data(), expected.data()).ok());
            DeviceBuffer in(features.size());
            DeviceBuffer roiBuffer(rois.size());
            DeviceBuffer out(outBytes);
            test::Stream stream;
            ASSERT_TRUE(in.get() != nullptr && roiBuffer.get() != nullptr && out.get() != nullptr);
            ASSERT_TRUE(stream.get() != nullptr);
            CUDA_OK(test::uploadAsync(in.get(), features, stream.get()));
            CUDA_OK(test::uploadAsync(roiBuffer.get(), rois, stream.get()));
            CUDA_OK(cudaMemsetAsync(out.get(), 0xff, outBytes, stream.get()));
            CUDA_OK(cudaStreamSynchronize(stream.get()));

            // allocate before capturing: cudaMalloc is not allowed while a global-mode capture is active (it failed
            // there, and the abandoned capture then broke every later test in the process with error 900)
            size_t const wsBytes = roiWorkspaceSize(desc);
            DeviceBuffer workspace(wsBytes);
            ASSERT_TRUE(wsBytes == 0 || workspace.get() != nullptr);
            cudaGraph_t graph = nullptr;
            CUDA_OK(cudaStreamBeginCapture(stream.get(), cudaStreamCaptureModeGlobal));
            cudaError_t const launched = roiForward(desc, in.get(), roiBuffer.get(), out.get(), workspace.get(),
                wsBytes, stream.get(), RoiLaunchOptions{algo});
            cudaError_t const ended = cudaStreamEndCapture(stream.get(), &graph);
            ASSERT_EQ(launched, cudaSuccess) << cudaGetErrorString(launched) << ' ' << test::describeRoi(desc);
            ASSERT_EQ(ended, cudaSuccess) << cudaGetErrorString(ended) << ' ' << test::describeRoi(desc);
            size_t nodes = 0;
            CUDA_OK(cudaGraphGetNodes(graph, nullptr, &nodes));
            EXPECT_GE(nodes, 1U) << "nothing was enqueued on the given stream: " << test::describeRoi(desc);
            cudaGraphExec_t exec = nullptr;
            CUDA_OK(cudaGraphInstantiate(&exec, graph, 0));
            CUDA_OK(cudaGraphLaunch(exec, stream.get()));
            std::vector<uint8_t> actual(outBytes);
            CUDA_OK(cudaMemcpyAsync(actual.data(), out.get(), outBytes, cudaMemcpyDeviceToHost, stream.get()));
            CUDA_OK(cudaStreamSynchronize(stream.get()));
            cudaGraphExecDestroy(exec);
            cudaGraphDestroy(graph);
            EXPECT_EQ(test::compareRoiOutputs(desc, expected, actual), "")
                << "algo " << static_cast<int32_t>(algo) << ' ' << test::describeRoi(desc);
          }
        }
    }
}

// Features over 2^31 elements (fp16, 4.3 GB): 64-bit indexing. The rois look at the last planes only.
TEST(RoiKernels, FeaturesOver2Pow31Elements)
{
    SKIP_WITHOUT_GPU();
    int64_t const h = 64, w = 64, c = (int64_t{1} << 31) / (h * w) + 5;
    RoiDesc desc = makeRoiDesc(squareLevels({1, 2, 3}), PoolMode::kMAX, 1.0F, DataType::kHALF, DataType::kFLOAT,
        Layout::kNCHW, 1, c, h, w, 4);
    int64_t const count = roiFeatureElements(desc);
    ASSERT_GT(count, int64_t{1} << 31);
    DeviceBuffer in(static_cast<size_t>(count) * 2);
    float const rows[4][5] = {{0, 0, 0, 63, 63}, {0, 5, 7, 30, 50}, {0, 60, 60, 70, 70}, {1, 0, 0, 9, 9}};
    DeviceBuffer rois(sizeof(rows));
    int64_t const outCount = roiOutputElements(desc);
    DeviceBuffer out(static_cast<size_t>(outCount) * 2);
    if (in.get() == nullptr || out.get() == nullptr || rois.get() == nullptr)
    {
        GTEST_SKIP() << "GPU test skipped: cannot allocate 4.3 GB on this GPU";
    }
    // Every plane 0x3c3c (fp16 1.06); the planes checked below get random values (faster than 2^31 host values).
    CUDA_OK(cudaMemset(in.get(), 0x3c, static_cast<size_t>(count) * 2));
    std::vector<int64_t> const checked{0, c / 2, c - 2, c - 1};
    std::vector<std::vector<uint16_t>> planes;
    uint64_t state = 0x2545f4914f6cdd1dULL;
    for (int64_t channel : checked)
    {
        std::vector<uint16_t> plane(static_cast<size_t>(h * w));
        for (auto& v : plane)
        {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            v = floatToHalfBits(static_cast<float>(static_cast<int32_t>(state >> 52) - 2048) / 256.0F);
        }
        CUDA_OK(cudaMemcpy(static_cast<uint16_t*>(in.get()) + channel * h * w, plane.data(), plane.size() * 2,
            cudaMemcpyHostToDevice));
        planes.push_back(plane);
    }
    CUDA_OK(cudaMemcpy(rois.get(), rows, sizeof(rows), cudaMemcpyHostToDevice));
  // kAUTO without workspace (planes here), direct, and segments (transposes all 4.3 GB into its workspace)
  for (RoiAlgo algo : {RoiAlgo::kAUTO, RoiAlgo::kDIRECT, RoiAlgo::kSEGMENTS})
  {
    size_t const wsBytes = algo == RoiAlgo::kSEGMENTS ? roiWorkspaceSize(desc) : 0;
    DeviceBuffer workspace(wsBytes);
    if (wsBytes > 0 && workspace.get() == nullptr)
    {
        std::printf("FeaturesOver2Pow31Elements: segments not checked (cannot allocate %zu workspace bytes)\n", wsBytes);
        continue;
    }
    CUDA_OK(cudaMemset(out.get(), 0x7f, static_cast<size_t>(outCount) * 2));
    CUDA_OK(roiForward(desc, in.get(), rois.get(), out.get(), workspace.get(), wsBytes, nullptr, RoiLaunchOptions{algo}));
    CUDA_OK(cudaDeviceSynchronize());
    std::vector<uint16_t> actual(static_cast<size_t>(outCount));
    CUDA_OK(cudaMemcpy(actual.data(), out.get(), actual.size() * 2, cudaMemcpyDeviceToHost));
    for (size_t i = 0; i < checked.size(); ++i)
    {
        int64_t const channel = checked[i];
        // the plane alone, as a C = 1 map
        RoiDesc one = desc;
        one.c = 1;
        std::vector<uint16_t> const& plane = planes[i];
        std::vector<uint16_t> expected(static_cast<size_t>(roiOutputElements(one)));
        ASSERT_TRUE(roiReferenceCpu(one, plane.data(), rows, expected.data()).ok());
        for (int64_t k = 0; k < 4; ++k)
        {
            int64_t levelBase = 0;
            int64_t e = k * 14;
            for (int32_t l = 0; l < 3; ++l)
            {
                int64_t const bins = static_cast<int64_t>(desc.pyramid.levelsH[l]) * desc.pyramid.levelsW[l];
                for (int64_t b = 0; b < bins; ++b, ++e)
                {
                    ASSERT_EQ(actual[static_cast<size_t>(k * c * 14 + levelBase + channel * bins + b)],
                        expected[static_cast<size_t>(e)])
                        << "algo " << static_cast<int32_t>(algo) << " roi " << k << " channel " << channel << " level "
                        << l << " bin " << b;
                }
                levelBase += c * bins;
            }
        }
    }
  }
}

// ---- the segments kernel's index math, emulated on the host (no GPU needed) -----------------------------------------

// The kernel's algorithm for one roi and one channel (fp32, C = 1 NCHW plane), step for step: the same tables
// (roiBuildAxis runs the kernel's per-slot functions in order), column-segment partials per row segment, the fold into
// the bins of the row windows containing the row segment, then the output pass.
std::vector<float> emulateSegments(RoiDesc const& desc, std::vector<float> const& plane, float const* row)
{
    RoiPyramid const& p = desc.pyramid;
    std::vector<float> out;
    detail::RoiBox const box = detail::makeRoiBox(row, p.spatialScale, desc.n);
    detail::RoiAxisTable rows{};
    detail::RoiAxisTable cols{};
    bool const maxMode = p.mode == PoolMode::kMAX;
    float const identity = maxMode ? -std::numeric_limits<float>::infinity() : 0.0F;
    auto combine = [maxMode](float& acc, float v) {
        acc = maxMode ? ((v > acc || v != v || acc != acc) ? (acc != acc ? acc : v) : acc) : acc + v;
    };
    std::vector<float> bins(static_cast<size_t>(roiBinsPerChannel(p)), identity);
    if (box.valid)
    {
        detail::roiBuildAxis(box.startH, box.height, p.levelsH, p.numLevels, desc.h, rows);
        detail::roiBuildAxis(box.startW, box.width, p.levelsW, p.numLevels, desc.w, cols);
        for (int32_t ys = 0; ys < rows.numSegments; ++ys)
        {
            float part[detail::kROI_SEG_MAX_SEGMENTS];
            for (float& v : part)
            {
                v = identity;
            }
            for (int32_t s = 0; s < cols.numSegments; ++s)
            {
                for (int64_t y = rows.segmentStart[ys]; y < rows.segmentStart[ys + 1]; ++y)
                {
                    for (int64_t x = cols.segmentStart[s]; x < cols.segmentStart[s + 1]; ++x)
                    {
                        combine(part[s], plane[static_cast<size_t>(y * desc.w + x)]);
                    }
                }
            }
            int32_t rowWindow = 0, colWindow = 0, binBase = 0;
            for (int32_t l = 0; l < p.numLevels; ++l)
            {
                int32_t const lh = p.levelsH[l], lw = p.levelsW[l];
                for (int32_t bx = 0; bx < lw; ++bx)
                {
                    float v = identity;
                    for (int32_t s = cols.ranks[2 * (colWindow + bx)]; s < cols.ranks[2 * (colWindow + bx) + 1]; ++s)
                    {
                        combine(v, part[s]);
                    }
                    for (int32_t by = 0; by < lh; ++by)
                    {
                        if (rows.ranks[2 * (rowWindow + by)] <= ys && ys < rows.ranks[2 * (rowWindow + by) + 1])
                        {
                            combine(bins[static_cast<size_t>(binBase + by * lw + bx)], v);
                        }
                    }
                }
                rowWindow += lh, colWindow += lw, binBase += lh * lw;
            }
        }
    }
    int32_t rowWindow = 0, colWindow = 0, binBase = 0;
    for (int32_t l = 0; l < p.numLevels; ++l)
    {
        int32_t const lh = p.levelsH[l], lw = p.levelsW[l];
        for (int32_t bin = 0; bin < lh * lw; ++bin)
        {
            int32_t const by = bin / lw, bx = bin % lw;
            float result = 0.0F;
            if (box.valid)
            {
                int32_t const* const rw = &rows.endpoints[2 * (rowWindow + by)];
                int32_t const* const cw = &cols.endpoints[2 * (colWindow + bx)];
                if (rw[1] > rw[0] && cw[1] > cw[0])
                {
                    float const acc = bins[static_cast<size_t>(binBase + bin)];
                    result = maxMode ? acc : acc / static_cast<float>(int64_t{rw[1] - rw[0]} * (cw[1] - cw[0]));
                }
            }
            out.push_back(result);
        }
        rowWindow += lh, colWindow += lw, binBase += lh * lw;
    }
    return out;
}

// Invariants of the tables for every roi: segments strictly increasing, within the bound that sizes the kernel's
// register array, and every window exactly the run of segments its ranks name.
void checkAxis(detail::RoiAxisTable const& t, int32_t const* levels, int32_t numLevels, int64_t start, int64_t extent,
    int64_t size, std::string const& what)
{
    ASSERT_GE(t.numSegments, 0) << what;
    ASSERT_LE(t.numSegments, detail::roiSegmentBound(levels, numLevels)) << what;
    ASSERT_LE(t.numSegments, detail::kROI_SEG_MAX_SEGMENTS) << what;
    for (int32_t s = 0; s < t.numSegments; ++s)
    {
        ASSERT_LT(t.segmentStart[s], t.segmentStart[s + 1]) << what << " segment " << s;
    }
    ASSERT_GE(t.segmentStart[0], 0) << what;
    ASSERT_LE(t.segmentStart[t.numSegments], size) << what;
    int32_t j = 0;
    for (int32_t l = 0; l < numLevels; ++l)
    {
        for (int32_t i = 0; i < levels[l]; ++i, ++j)
        {
            detail::Window const w = detail::roiBinWindow(start, extent, i, levels[l], size);
            ASSERT_EQ(t.endpoints[2 * j], w.start) << what;
            ASSERT_EQ(t.endpoints[2 * j + 1], w.end) << what;
            ASSERT_LE(t.ranks[2 * j], t.ranks[2 * j + 1]) << what;
            ASSERT_EQ(t.segmentStart[t.ranks[2 * j]], w.start) << what << " window " << j;
            ASSERT_EQ(t.segmentStart[t.ranks[2 * j + 1]], w.end) << what << " window " << j;
        }
    }
}

TEST(RoiSegments, TablesAndEmulationMatchTheReference)
{
    std::mt19937_64 rng(0x5e9);
    std::vector<std::vector<std::pair<int32_t, int32_t>>> const pyramids = {squareLevels({1, 2, 3, 6}),
        squareLevels({1}), {{7, 5}}, squareLevels({5, 4, 3, 2}), {{16, 1}, {1, 16}}, squareLevels({2, 2, 1})};
    struct Map
    {
        int64_t h, w;
        float scale;
    };
    std::vector<Map> const maps = {{38, 63, 0.0625F}, {5, 7, 0.5F}, {1, 1, 1.0F}, {13, 17, 0.25F}, {150, 200, 1.0F},
        {3, 40, 0.125F}};
    int64_t checked = 0;
    for (auto const& levels : pyramids)
    {
        for (Map const& m : maps)
        {
            for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
            {
                RoiDesc const desc = makeRoiDesc(levels, mode, m.scale, DataType::kFLOAT, DataType::kFLOAT,
                    Layout::kNCHW, 1, 1, m.h, m.w, 120);
                ASSERT_TRUE(detail::roiSegmentsFit(desc.pyramid)) << test::describeRoi(desc);
                std::vector<uint8_t> const bytes = test::randomTensor(DataType::kFLOAT, m.h * m.w, rng);
                std::vector<float> plane(static_cast<size_t>(m.h * m.w));
                std::memcpy(plane.data(), bytes.data(), bytes.size());
                plane[static_cast<size_t>(m.h * m.w / 2)] = std::numeric_limits<float>::quiet_NaN(); // max keeps NaN
                std::vector<float> const rois = test::randomRois(desc.numRois, 1, m.h, m.w, m.scale, rng);
                std::vector<float> expected(static_cast<size_t>(roiOutputElements(desc)));
                ASSERT_TRUE(roiReferenceCpu(desc, plane.data(), rois.data(), expected.data()).ok());
                int64_t const perRoi = roiBinsPerChannel(desc.pyramid);
                for (int64_t k = 0; k < desc.numRois; ++k)
                {
                    float const* row = &rois[static_cast<size_t>(k * kROI_COLUMNS)];
                    std::string const what = test::describeRoi(desc) + " roi " + std::to_string(k);
                    detail::RoiBox const box = detail::makeRoiBox(row, m.scale, 1);
                    if (box.valid)
                    {
                        detail::RoiAxisTable t{};
                        detail::roiBuildAxis(box.startH, box.height, desc.pyramid.levelsH, desc.pyramid.numLevels,
                            m.h, t);
                        checkAxis(t, desc.pyramid.levelsH, desc.pyramid.numLevels, box.startH, box.height, m.h,
                            what + " rows");
                        detail::roiBuildAxis(box.startW, box.width, desc.pyramid.levelsW, desc.pyramid.numLevels,
                            m.w, t);
                        checkAxis(t, desc.pyramid.levelsW, desc.pyramid.numLevels, box.startW, box.width, m.w,
                            what + " cols");
                    }
                    std::vector<float> const got = emulateSegments(desc, plane, row);
                    ASSERT_EQ(static_cast<int64_t>(got.size()), perRoi);
                    for (int64_t i = 0; i < perRoi; ++i)
                    {
                        float const e = expected[static_cast<size_t>(k * perRoi + i)];
                        float const a = got[static_cast<size_t>(i)];
                        bool const ok = (std::isnan(a) && std::isnan(e))
                            || (mode == PoolMode::kMAX ? a == e : std::fabs(a - e) <= 1e-5F * (1.0F + std::fabs(e)));
                        ASSERT_TRUE(ok) << what << " bin " << i << ": emulated " << a << ", reference " << e;
                    }
                    ++checked;
                }
            }
        }
    }
    EXPECT_GT(checked, 8000);
}

TEST(RoiSegments, PyramidLimits)
{
    RoiPyramid p{};
    ASSERT_TRUE(makeMaxRoiPool(7, 7, 1.0F, p).ok());
    EXPECT_TRUE(detail::roiSegmentsFit(p)); // 49 bins, 13 segments per axis
    ASSERT_TRUE(makeMaxRoiPool(8, 8, 1.0F, p).ok());
    EXPECT_TRUE(detail::roiSegmentsFit(p)); // 64 bins: the limit
    ASSERT_TRUE(makeMaxRoiPool(9, 7, 1.0F, p).ok());
    EXPECT_TRUE(detail::roiSegmentsFit(p)); // 63 bins
    ASSERT_TRUE(makeMaxRoiPool(17, 1, 1.0F, p).ok());
    EXPECT_FALSE(detail::roiSegmentsFit(p)); // 33 row segments
    ASSERT_TRUE(makeMaxRoiPool(9, 8, 1.0F, p).ok());
    EXPECT_FALSE(detail::roiSegmentsFit(p)); // 72 bins
}

// ---- launcher contract (no GPU needed: these return before any CUDA call) -----------------------------------------

TEST(RoiLauncher, RejectsInvalidInputWithoutLaunching)
{
    float dummy[8] = {};
    RoiDesc const desc = makeRoiDesc(squareLevels({1, 2}), PoolMode::kMAX, 1.0F, DataType::kFLOAT, DataType::kFLOAT,
        Layout::kNCHW, 1, 2, 3, 3, 1);
    EXPECT_EQ(roiForward(desc, nullptr, dummy, dummy, nullptr, 0, nullptr), cudaErrorInvalidValue);
    EXPECT_EQ(roiForward(desc, dummy, nullptr, dummy, nullptr, 0, nullptr), cudaErrorInvalidValue);
    EXPECT_EQ(roiForward(desc, dummy, dummy, nullptr, nullptr, 0, nullptr), cudaErrorInvalidValue);
    RoiDesc bad = desc;
    bad.pyramid.spatialScale = 0.0F;
    EXPECT_EQ(roiForward(bad, dummy, dummy, dummy, nullptr, 0, nullptr), cudaErrorInvalidValue);
    bad = desc;
    bad.dtype = DataType::kINT8;
    EXPECT_EQ(roiForward(bad, dummy, dummy, dummy, nullptr, 0, nullptr), cudaErrorInvalidValue);
    bad = desc;
    bad.roiDtype = DataType::kBF16;
    EXPECT_EQ(roiForward(bad, dummy, dummy, dummy, nullptr, 0, nullptr), cudaErrorInvalidValue);
    // pointers that are not a multiple of their element size
    alignas(16) unsigned char bytes[64] = {};
    EXPECT_EQ(roiForward(desc, bytes + 2, bytes + 16, bytes + 32, nullptr, 0, nullptr), cudaErrorMisalignedAddress);
    EXPECT_EQ(roiForward(desc, bytes, bytes + 18, bytes + 32, nullptr, 0, nullptr), cudaErrorMisalignedAddress);
    EXPECT_EQ(roiForward(desc, bytes, bytes + 16, bytes + 33, nullptr, 0, nullptr), cudaErrorMisalignedAddress);
}

TEST(RoiLauncher, AlgoChoiceAndWorkspace)
{
    float dummy[8] = {};
    RoiDesc desc = makeRoiDesc(squareLevels({1, 2, 3, 6}), PoolMode::kMAX, 0.0625F, DataType::kFLOAT,
        DataType::kFLOAT, Layout::kNCHW, 1, 256, 38, 63, 2000);
    size_t const ws = roiWorkspaceSize(desc);
    size_t const copy = size_t{256} * 38 * 63 * 4; // the NHWC copy of the features (a multiple of 256 already)
    size_t const table = size_t{2000} * (16 + 24 * 8); // slices: a 16-byte header + 24 windows per roi (idem)
    EXPECT_EQ(ws, table + copy); // the larger of segments' (copy) and slices' (table + copy) workspace
    EXPECT_TRUE(roiAlgoSupported(desc, RoiAlgo::kSEGMENTS, copy));
    EXPECT_FALSE(roiAlgoSupported(desc, RoiAlgo::kSEGMENTS, copy - 1));
    EXPECT_TRUE(roiAlgoSupported(desc, RoiAlgo::kPLANES, 0));
    EXPECT_TRUE(roiAlgoSupported(desc, RoiAlgo::kDIRECT, 0));
    EXPECT_TRUE(roiAlgoSupported(desc, RoiAlgo::kAUTO, 0));
    for (int32_t const unknown : {5, 9}) // 5: the rows kernel's value until it was removed (session 26)
    {
        EXPECT_FALSE(roiAlgoSupported(desc, static_cast<RoiAlgo>(unknown), ws)) << unknown;
        EXPECT_EQ(roiForward(desc, dummy, dummy, dummy, nullptr, ws, nullptr,
                      RoiLaunchOptions{static_cast<RoiAlgo>(unknown)}),
            cudaErrorInvalidValue)
            << unknown;
    }
    // forced segments without the workspace (and above, an unknown algo): rejected before any CUDA call
    EXPECT_EQ(roiForward(desc, dummy, dummy, dummy, nullptr, 0, nullptr, RoiLaunchOptions{RoiAlgo::kSEGMENTS}),
        cudaErrorInvalidValue);
    EXPECT_EQ(roiForward(desc, dummy, dummy, dummy, nullptr, ws, nullptr, RoiLaunchOptions{RoiAlgo::kSEGMENTS}),
        cudaErrorInvalidValue); // a null workspace holds nothing
    // smaller shapes never need more (plugins size the workspace at the profile's largest shape)
    RoiDesc smaller = desc;
    smaller.h = 20, smaller.numRois = 3;
    EXPECT_LE(roiWorkspaceSize(smaller), ws);
    desc.layout = Layout::kNHWC; // no transpose; the slices kernel's roi table: a 16-byte header + 24 windows per roi
    EXPECT_EQ(roiWorkspaceSize(desc), size_t{2000} * (16 + 24 * 8));
    EXPECT_TRUE(roiAlgoSupported(desc, RoiAlgo::kSEGMENTS, 0));
    EXPECT_FALSE(roiAlgoSupported(desc, RoiAlgo::kPLANES, 0));
    RoiDesc big = desc;
    big.pyramid.levelsH[3] = big.pyramid.levelsW[3] = 13; // {1, 2, 3, 13}: beyond the segment tables
    EXPECT_FALSE(roiAlgoSupported(big, RoiAlgo::kSEGMENTS, 0));
    EXPECT_EQ(roiForward(big, dummy, dummy, dummy, nullptr, 0, nullptr, RoiLaunchOptions{RoiAlgo::kSEGMENTS}),
        cudaErrorInvalidValue);
}

// The slices kernel's limits, decided on the host (no GPU needed: without one the planner assumes the 48 KiB every
// device allows): a small map runs in both layouts with roiWorkspaceSize bytes of workspace (its roi table), not with
// fewer, nor with a workspace that is not 16-byte aligned; N = 0, more than 64 bins, or a map whose slice cannot fit
// in any device's shared memory are refused whatever the workspace, and a forced launch of a refused case returns
// cudaErrorInvalidValue before any CUDA call.
TEST(RoiLauncher, SlicesLimits)
{
    float dummy[8] = {};
    RoiDesc small = makeRoiDesc(squareLevels({1, 2, 3, 6}), PoolMode::kMAX, 1.0F, DataType::kHALF, DataType::kFLOAT,
        Layout::kNCHW, 2, 40, 5, 7, 10);
    for (Layout layout : {Layout::kNCHW, Layout::kNHWC})
    {
        small.layout = layout;
        size_t const ws = roiWorkspaceSize(small);
        // the roi table, 10 x (16 + 24 x 8) = 2080 -> 2304 bytes, then for NCHW the NHWC copy, 2 x 35 x 40 fp16 =
        // 5600 -> 5632 bytes (both rounded up to 256)
        EXPECT_EQ(ws, layout == Layout::kNCHW ? size_t{2304 + 5632} : size_t{2304}) << test::describeRoi(small);
        EXPECT_TRUE(roiAlgoSupported(small, RoiAlgo::kSLICES, ws)) << test::describeRoi(small);
        EXPECT_FALSE(roiAlgoSupported(small, RoiAlgo::kSLICES, ws - 1)) << test::describeRoi(small);
        EXPECT_FALSE(roiAlgoSupported(small, RoiAlgo::kSLICES, 0)) << test::describeRoi(small);
        EXPECT_EQ(roiForward(small, dummy, dummy, dummy, nullptr, 0, nullptr, RoiLaunchOptions{RoiAlgo::kSLICES}),
            cudaErrorInvalidValue);
        alignas(16) static unsigned char misaligned[16 + 16 * 1024];
        ASSERT_LE(ws, sizeof(misaligned) - 16);
        EXPECT_EQ(roiForward(small, dummy, dummy, dummy, misaligned + 4, ws, nullptr,
                      RoiLaunchOptions{RoiAlgo::kSLICES}),
            cudaErrorInvalidValue);
    }
    RoiDesc noImages = small;
    noImages.n = 0;
    RoiDesc manyBins = small;
    manyBins.pyramid.levelsH[3] = manyBins.pyramid.levelsW[3] = 8; // {1, 2, 3, 8}: 78 bins > 64
    RoiDesc hugeMap = small;
    hugeMap.h = 2000, hugeMap.w = 2000; // 256 MB per slice
    for (RoiDesc const& refused : {noImages, manyBins, hugeMap})
    {
        ASSERT_TRUE(validate(refused).ok()) << test::describeRoi(refused);
        EXPECT_FALSE(roiAlgoSupported(refused, RoiAlgo::kSLICES, std::numeric_limits<size_t>::max())) << test::describeRoi(refused);
        EXPECT_TRUE(roiAlgoSupported(refused, RoiAlgo::kAUTO, 0)) << test::describeRoi(refused);
        EXPECT_EQ(roiForward(refused, dummy, dummy, dummy, nullptr, 0, nullptr, RoiLaunchOptions{RoiAlgo::kSLICES}),
            cudaErrorInvalidValue)
            << test::describeRoi(refused);
    }
}

TEST(RoiLauncher, NoRoisLaunchesNothing)
{
    RoiDesc const desc = makeRoiDesc(squareLevels({1, 2, 4}), PoolMode::kAVG, 0.0625F, DataType::kHALF,
        DataType::kHALF, Layout::kNCHW, 2, 8, 13, 13, 0);
    EXPECT_EQ(roiWorkspaceSize(desc), 0u);
    EXPECT_EQ(roiForward(desc, nullptr, nullptr, nullptr, nullptr, 0, nullptr), cudaSuccess);
}

} // namespace
} // namespace spp
