// One row of the slices kernel's row-bin path (SPP_ROI_ROW_BINS, roi_slices.cuh) as host/device code: which cells of
// a map row each bin of a row of bins takes, reading every cell once. The kernel runs it for each row of a lane
// group's row window; tests/test_roi_core.cpp runs it on the host over the windows the RoIPool rule makes
// (core/roi_bins.h) and checks that every bin receives exactly the cells of its column window, each once.
#pragma once

#include "core/bins.h" // SPP_HD

#include <cstdint>

#if defined(__CUDA_ARCH__)
#define SPP_ROW_UNROLL _Pragma("unroll")
#else
#define SPP_ROW_UNROLL
#endif

namespace spp
{
namespace roi
{

//! Walks one map row for a row of `lw` (<= kMaxW) bins whose column windows are `windows[j]` = start | end << 16
//! (end <= start: empty): calls add(j, v) with v = load(x) for every cell x of window j. Cells are loaded left to
//! right; where window j starts on the last cell of the non-empty window before it (a fractional bin edge of the
//! RoIPool rule), that cell's value is passed again instead of loaded again. The loop over j is unrolled on the
//! device, so an add that indexes per-bin accumulators by j keeps them in registers.
template <int32_t kMaxW, typename Load, typename Add>
SPP_HD void sliceRowWalk(uint32_t const (&windows)[kMaxW], int32_t lw, Load&& load, Add&& add)
{
    decltype(load(0)) last{}; // the cell at prevEnd - 1, once a window was read
    int32_t prevEnd = -1;
    SPP_ROW_UNROLL
    for (int32_t j = 0; j < kMaxW; ++j)
    {
        if (j < lw)
        {
            int32_t const start = static_cast<int32_t>(windows[j] & 0xffffU);
            int32_t const end = static_cast<int32_t>(windows[j] >> 16);
            int32_t x = start;
            if (x == prevEnd - 1 && end > x)
            {
                add(j, last);
                ++x;
            }
            for (; x < end; ++x)
            {
                last = load(x);
                add(j, last);
            }
            prevEnd = end > start ? end : prevEnd; // an empty window read nothing
        }
    }
}

} // namespace roi
} // namespace spp

#undef SPP_ROW_UNROLL
