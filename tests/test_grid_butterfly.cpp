// The grid kernel's butterfly epilogue without a GPU: for every lane layout grid::planButterfly accepts, 32 emulated
// lanes run the kernel's reduce-scatter steps (grid::butterflyStep, the same code) in lockstep, with a shuffle that
// returns the partner's value from a snapshot taken before the step, then every pyramid level's bin combines the lanes
// of Butterfly::binLanes as the kernel's shuffles do. Each bin of every plane must be stored by exactly one lane and
// equal the max (and the sum) of the partials of its cells, computed directly.
#include "cuda/spp_grid_butterfly.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <random>
#include <tuple>
#include <vector>

namespace spp
{
namespace
{

using grid::Butterfly;
using grid::kBF_STEPS;
using grid::kBF_VALUES;

struct LaneLayout
{
    int32_t fine, chunks, rowLanes, cellChunks, planes;
};

struct Lanes // the values each of 32 lanes holds
{
    double v[32][kBF_VALUES];
};

// Runs the epilogue for one combine (max or sum) on partials[lane][v]; returns (level span shift, plane, bin) ->
// stored value, failing the test on a bin stored twice.
template <typename Combine>
std::map<std::tuple<int32_t, int32_t, int32_t>, double> emulate(
    LaneLayout const& k, Butterfly const& bf, Lanes held, Combine const& combine)
{
    std::array<int32_t, 32> cell{};
    for (int32_t j = 0; j < kBF_STEPS; ++j)
    {
        // every lane's step once to record what it sends for each x, then again receiving its partner's
        double sent[32][kBF_VALUES] = {};
        for (uint32_t lane = 0; lane < 32; ++lane)
        {
            double scratch[kBF_VALUES];
            std::copy(held.v[lane], held.v[lane] + kBF_VALUES, scratch);
            int32_t unused = 0;
            grid::butterflyStep(scratch, j, lane, bf, unused, combine, [&](double send, uint32_t, int32_t x) {
                sent[lane][x] = send;
                return send;
            });
        }
        for (uint32_t lane = 0; lane < 32; ++lane)
        {
            grid::butterflyStep(held.v[lane], j, lane, bf, cell[lane], combine,
                [&](double, uint32_t mask, int32_t x) { return sent[lane ^ mask][x]; });
        }
    }
    std::map<std::tuple<int32_t, int32_t, int32_t>, double> stored;
    int32_t const loading = k.rowLanes * k.chunks;
    for (int32_t spanShift = 0; (1 << spanShift) <= k.fine; ++spanShift)
    {
        uint32_t const binLanes = bf.binLanes(spanShift);
        std::array<double, 32> bin{};
        for (uint32_t lane = 0; lane < 32; ++lane)
        {
            bin[lane] = held.v[lane][0];
        }
        for (uint32_t rest = binLanes; rest != 0; rest &= rest - 1) // one shuffle per bit, all lanes at once
        {
            std::array<double, 32> const before = bin;
            for (uint32_t lane = 0; lane < 32; ++lane)
            {
                bin[lane] = combine(before[lane], before[lane ^ (rest & (0U - rest))]);
            }
        }
        for (int32_t lane = 0; lane < loading; ++lane)
        {
            int32_t const p = bf.planeOf(cell[lane]);
            if (p >= k.planes || (static_cast<uint32_t>(lane) & binLanes) != 0)
            {
                continue;
            }
            int32_t const b = bf.binOf(cell[lane], static_cast<uint32_t>(lane), spanShift);
            auto const key = std::make_tuple(spanShift, p, b);
            EXPECT_EQ(stored.count(key), 0U) << "bin stored twice";
            stored[key] = bin[lane];
        }
    }
    return stored;
}

TEST(GridButterfly, EveryAcceptedLayoutPoolsEveryBinOnce)
{
    std::mt19937_64 rng(0xb7f1u);
    std::uniform_int_distribution<int32_t> value(-1000, 1000);
    int32_t accepted = 0;
    for (int32_t fine = 1; fine <= 16; ++fine)
    {
        for (int32_t chunks = fine; chunks <= 32; chunks += fine)
        {
            for (int32_t rowLanes = 1; rowLanes * chunks <= 32; ++rowLanes)
            {
                for (int32_t planes = 1; planes <= 8; ++planes)
                {
                    LaneLayout const k{fine, chunks, rowLanes, chunks / fine, planes};
                    Butterfly bf{};
                    if (!grid::planButterfly(k.fine, k.chunks, k.rowLanes, k.cellChunks, k.planes, bf))
                    {
                        continue;
                    }
                    ++accepted;
                    // partials of the loading lanes (v = p * F + cell row); identity past the filed ones
                    int32_t const loading = rowLanes * chunks;
                    Lanes maxHeld{};
                    Lanes sumHeld{};
                    for (int32_t lane = 0; lane < 32; ++lane)
                    {
                        for (int32_t v = 0; v < kBF_VALUES; ++v)
                        {
                            bool const filed = lane < loading && v < planes * fine;
                            double const x = filed ? value(rng) : 0.0;
                            maxHeld.v[lane][v] = filed ? x : -1e300;
                            sumHeld.v[lane][v] = x;
                        }
                    }
                    auto const maxOf = [](double a, double b) { return std::max(a, b); };
                    auto const sumOf = [](double a, double b) { return a + b; };
                    auto const maxBins = emulate(k, bf, maxHeld, maxOf);
                    auto const sumBins = emulate(k, bf, sumHeld, sumOf);
                    int32_t expectedBins = 0;
                    for (int32_t spanShift = 0; (1 << spanShift) <= fine; ++spanShift)
                    {
                        int32_t const bins = fine >> spanShift;
                        expectedBins += planes * bins * bins;
                        for (int32_t p = 0; p < planes; ++p)
                        {
                            for (int32_t b = 0; b < bins * bins; ++b)
                            {
                                double best = -1e300;
                                double sum = 0;
                                for (int32_t lane = 0; lane < loading; ++lane)
                                {
                                    int32_t const col = (lane % chunks) / k.cellChunks;
                                    for (int32_t row = 0; row < fine; ++row)
                                    {
                                        if ((row >> spanShift) * bins + (col >> spanShift) == b)
                                        {
                                            best = std::max(best, maxHeld.v[lane][p * fine + row]);
                                            sum += sumHeld.v[lane][p * fine + row];
                                        }
                                    }
                                }
                                auto const key = std::make_tuple(spanShift, p, b);
                                ASSERT_EQ(maxBins.count(key), 1U) << "F " << fine << " chunks " << chunks;
                                EXPECT_EQ(maxBins.at(key), best) << "F " << fine << " chunks " << chunks;
                                EXPECT_EQ(sumBins.at(key), sum) << "F " << fine << " chunks " << chunks;
                            }
                        }
                    }
                    EXPECT_EQ(static_cast<int32_t>(maxBins.size()), expectedBins);
                }
            }
        }
    }
    EXPECT_GE(accepted, 8);
}

// The benchmark's layouts take the butterfly (16-byte chunks: 4 fp32 or 8 fp16 elements; planGrid's row lanes
// 32 / chunks, P = 2 on 132-SM GPUs); layouts whose cells span other than 8 lanes, or with too many partials or
// non-power-of-2 factors, do not.
TEST(GridButterfly, PlansTheBenchmarkLayoutsAndRefusesOthers)
{
    Butterfly bf{};
    EXPECT_TRUE(grid::planButterfly(4, 8, 4, 2, 2, bf));  // 32x32 fp32 {1,2,4}
    EXPECT_TRUE(grid::planButterfly(4, 4, 8, 1, 2, bf));  // 32x32 fp16
    EXPECT_TRUE(grid::planButterfly(4, 16, 2, 4, 2, bf)); // 64x64 fp32
    EXPECT_TRUE(grid::planButterfly(4, 8, 4, 2, 1, bf));  // P = 1
    EXPECT_FALSE(grid::planButterfly(4, 24, 1, 6, 1, bf)); // 96x96 fp32: 24 chunks
    EXPECT_FALSE(grid::planButterfly(4, 8, 4, 2, 3, bf));  // 12 partials
    EXPECT_FALSE(grid::planButterfly(8, 8, 4, 1, 1, bf));  // 4 lanes per cell
    EXPECT_FALSE(grid::planButterfly(2, 8, 4, 4, 1, bf));  // 16 lanes per cell
    EXPECT_FALSE(grid::planButterfly(6, 12, 2, 2, 1, bf)); // F = 6
}

} // namespace
} // namespace spp
