// The grid kernel's butterfly epilogue (spp_kernels.cu, sppGridKernel; docs/spp.md "grid"): which shapes take it,
// its lane mapping, and a lane's reduce-scatter step. Plain C++ with host/device functions, so that
// tests/test_grid_butterfly.cpp can run the same steps for 32 emulated lanes on machines without a GPU.
//
// A warp loads a group of P planes with its lanes on (row lane, 16-byte chunk) positions, lane = row lane * chunks +
// chunk, and files per lane one partial per (plane p, cell row): v = p * F + cell row. The lanes of one cell column
// differ in the bits of the chunk within the cell and in those of the row lane; where there are exactly 8 of them
// (kBF_VALUES) and a lane files at most 8 partials, 3 reduce-scatter steps over those lane bits (each step: keep half
// of the values, receive the partner's copy of that half, combine) leave each lane one whole cell,
// v = sum over steps j of (lane & masks[j] ? kBF_VALUES >> (j + 1) : 0), of its cell column (lane >> colShift) & (F -
// 1). A bin of span S = 2^t then combines the cells whose rows differ in v's low t bits (the lane bits of the last t
// steps) and whose columns differ in the lane's low t cell-column bits: binLanes(t).
#pragma once

#include "core/bins.h" // SPP_HD

#include <cstdint>

namespace spp
{
namespace grid
{

//! Partials a lane holds, lanes per cell, and reduce-scatter steps (log2) of the butterfly epilogue.
constexpr int32_t kBF_VALUES = 8;
constexpr int32_t kBF_STEPS = 3;
static_assert(kBF_VALUES == 1 << kBF_STEPS, "each step halves the values a lane holds");

constexpr bool isPow2(int64_t x)
{
    return x > 0 && (x & (x - 1)) == 0;
}

constexpr int32_t log2Of(int64_t x) // x a power of 2
{
    int32_t k = 0;
    while ((int64_t{1} << k) < x)
    {
        ++k;
    }
    return k;
}

struct Butterfly
{
    uint32_t masks[kBF_STEPS]; //!< lane xor mask of each step
    int32_t colShift;          //!< log2(chunks per cell): the cell column is (lane >> colShift) & (F - 1)
    int32_t fineShift;         //!< log2(F)

    //! Plane (of the group) of the cell v a lane holds after the steps.
    SPP_HD int32_t planeOf(int32_t cell) const
    {
        return cell >> fineShift;
    }

    //! Bin (within its plane's L x L, L = F >> spanShift) of the cell v held by `lane`: cell row v & (F - 1), cell
    //! column (lane >> colShift) & (F - 1).
    SPP_HD int32_t binOf(int32_t cell, uint32_t lane, int32_t spanShift) const
    {
        int32_t const last = (1 << fineShift) - 1;
        int32_t const row = cell & last;
        int32_t const col = static_cast<int32_t>(lane >> colShift) & last;
        return (row >> spanShift) * ((last + 1) >> spanShift) + (col >> spanShift);
    }

    //! Lane bits a bin of span 2^spanShift cells combines over.
    uint32_t binLanes(int32_t spanShift) const
    {
        uint32_t lanes = ((1U << spanShift) - 1) << colShift;
        for (int32_t k = 0; k < spanShift; ++k)
        {
            lanes |= masks[kBF_STEPS - 1 - k];
        }
        return lanes;
    }
};

//! Whether the butterfly applies to a grid plan (F, 16-byte chunks per row, row lanes, chunks per cell, planes per
//! group) and, if so, its lane mapping: F, chunks, row lanes and chunks per cell powers of 2, exactly kBF_VALUES
//! lanes per cell and at most kBF_VALUES partials per lane (P * F). (Float totals only: the kernel keeps int8's
//! 64-bit sums in its shared-memory epilogue.)
inline bool planButterfly(int32_t fine, int32_t chunks, int32_t rowLanes, int32_t cellChunks, int32_t planes,
    Butterfly& bf)
{
    if (!isPow2(fine) || !isPow2(chunks) || !isPow2(rowLanes) || !isPow2(cellChunks)
        || static_cast<int64_t>(planes) * fine > kBF_VALUES || rowLanes * cellChunks != kBF_VALUES)
    {
        return false;
    }
    bf.colShift = log2Of(cellChunks);
    bf.fineShift = log2Of(fine);
    int32_t step = 0;
    for (int32_t b = 0; b < bf.colShift; ++b)
    {
        bf.masks[step++] = 1U << b; // the chunk within the cell
    }
    for (int32_t b = 0; b < log2Of(rowLanes); ++b)
    {
        bf.masks[step++] = 1U << (log2Of(chunks) + b); // the row lane
    }
    return true;
}

//! Reduce-scatter step j of a lane: of held[0, 2h) (h = kBF_VALUES >> (j + 1)) it keeps the half its bit of
//! masks[j] selects (the upper one when set) in held[0, h), combined with the partner's copy of that half, which
//! exchange(value sent, mask, x) returns for each x < h (the partner sends the other half: a shuffle on the GPU);
//! `cell` gains h when the bit is set.
template <typename Total, typename Combine, typename Exchange>
SPP_HD void butterflyStep(Total (&held)[kBF_VALUES], int32_t j, uint32_t lane, Butterfly const& bf, int32_t& cell,
    Combine const& combine, Exchange const& exchange)
{
    int32_t const h = kBF_VALUES >> (j + 1);
    uint32_t const mask = bf.masks[j];
    bool const up = (lane & mask) != 0;
    cell += up ? h : 0;
    for (int32_t x = 0; x < h; ++x)
    {
        Total const send = up ? held[x] : held[x + h];
        Total const keep = up ? held[x + h] : held[x];
        held[x] = combine(keep, exchange(send, mask, x));
    }
}

} // namespace grid
} // namespace spp
