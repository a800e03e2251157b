// Segment tables of the roi-major ("segments") ROI kernel, shared by the kernel and the host tests that emulate it.
//
// Along one axis, the windows of all levels of one roi (core/roi_bins.h, clipped) have endpoints; the distinct
// endpoints, sorted, cut the axis into segments, and every window is a run of whole segments. A roi's bin is then the
// reduction of the (row segment x column segment) blocks it covers: each feature cell is read once per roi, max stays
// exact (it is idempotent, and blocks never straddle a window edge) and avg sums disjoint blocks.
//
// Window j of an axis is bin (j - offset of its level) of its level; slot 2j holds its start, 2j + 1 its end.
// Distinct endpoints <= 1 + sum(2L - 1) (every level's first window starts at the roi start), so a pyramid with
// sum(2L - 1) <= kROI_SEG_MAX_SEGMENTS on both axes never has more segments than the kernel's register array.
// The kernel computes the per-slot functions below one slot per thread; roiBuildAxis runs them in order on the host.
#pragma once

#include "core/roi_bins.h"

#include <cstdint>

namespace spp
{
namespace detail
{

constexpr int32_t kROI_SEG_MAX_SEGMENTS = 32; //!< per axis: the kernel keeps one register per column segment
constexpr int32_t kROI_SEG_MAX_WINDOWS = 24;  //!< per axis: sum of L (implied by the segment bound, checked anyway)
constexpr int32_t kROI_SEG_MAX_SLOTS = 2 * kROI_SEG_MAX_WINDOWS;
constexpr int32_t kROI_SEG_MAX_BINS = 64;     //!< sum of Lh * Lw: the shared-memory bin accumulators

//! The most segments any roi can produce along an axis with these levels: sum(2L - 1).
SPP_HD int32_t roiSegmentBound(int32_t const* levels, int32_t numLevels)
{
    int32_t bound = 0;
    for (int32_t l = 0; l < numLevels; ++l)
    {
        bound += 2 * levels[l] - 1;
    }
    return bound;
}

SPP_HD int32_t roiAxisWindows(int32_t const* levels, int32_t numLevels)
{
    int32_t windows = 0;
    for (int32_t l = 0; l < numLevels; ++l)
    {
        windows += levels[l];
    }
    return windows;
}

//! Whether the segments kernel's fixed-size tables hold this pyramid (for every roi and map size).
SPP_HD bool roiSegmentsFit(RoiPyramid const& p)
{
    if (p.numLevels < 1 || p.numLevels > kMAX_LEVELS)
    {
        return false;
    }
    int32_t bins = 0;
    for (int32_t l = 0; l < p.numLevels; ++l)
    {
        bins += p.levelsH[l] * p.levelsW[l];
    }
    return bins <= kROI_SEG_MAX_BINS && roiSegmentBound(p.levelsH, p.numLevels) <= kROI_SEG_MAX_SEGMENTS
        && roiSegmentBound(p.levelsW, p.numLevels) <= kROI_SEG_MAX_SEGMENTS
        && roiAxisWindows(p.levelsH, p.numLevels) <= kROI_SEG_MAX_WINDOWS
        && roiAxisWindows(p.levelsW, p.numLevels) <= kROI_SEG_MAX_WINDOWS;
}

//! Endpoint `slot` of an axis: the start (even slot) or end (odd slot) of window slot / 2, clipped to [0, size].
//! The map side is < 2^31 when the kernel runs, so the value fits int32.
SPP_HD int32_t roiAxisEndpoint(
    int64_t start, int64_t extent, int32_t const* levels, int32_t numLevels, int64_t size, int32_t slot)
{
    int32_t j = slot / 2;
    for (int32_t l = 0; l < numLevels; ++l)
    {
        if (j < levels[l])
        {
            Window const w = roiBinWindow(start, extent, j, levels[l], size);
            return static_cast<int32_t>(slot % 2 == 0 ? w.start : w.end);
        }
        j -= levels[l];
    }
    return 0; // not reached for slot < 2 * roiAxisWindows
}

//! 1 when endpoints[i] is the first occurrence of its value.
SPP_HD int32_t roiEndpointIsFirst(int32_t const* endpoints, int32_t i)
{
    for (int32_t k = 0; k < i; ++k)
    {
        if (endpoints[k] == endpoints[i])
        {
            return 0;
        }
    }
    return 1;
}

//! The number of distinct endpoint values below endpoints[i]: the index of the segment that starts there (and of the
//! segment boundary it is).
SPP_HD int32_t roiEndpointRank(int32_t const* endpoints, int32_t const* isFirst, int32_t count, int32_t i)
{
    int32_t rank = 0;
    for (int32_t k = 0; k < count; ++k)
    {
        rank += (isFirst[k] != 0 && endpoints[k] < endpoints[i]) ? 1 : 0;
    }
    return rank;
}

//! The tables of one axis as the kernel holds them in shared memory.
struct RoiAxisTable
{
    int32_t slots;                                     //!< 2 * sum(L)
    int32_t numSegments;                               //!< distinct endpoints - 1 (>= 0)
    int32_t endpoints[kROI_SEG_MAX_SLOTS];             //!< slot -> coordinate
    int32_t isFirst[kROI_SEG_MAX_SLOTS];
    int32_t ranks[kROI_SEG_MAX_SLOTS];                 //!< slot -> segment boundary index
    int32_t segmentStart[kROI_SEG_MAX_SEGMENTS + 1];   //!< boundary index -> coordinate, increasing
};

//! Host-side (and test) construction, in the kernel's three phases. Window j covers segments
//! [ranks[2j], ranks[2j + 1]), i.e. cells [segmentStart[ranks[2j]], segmentStart[ranks[2j + 1]]).
SPP_HD void roiBuildAxis(
    int64_t start, int64_t extent, int32_t const* levels, int32_t numLevels, int64_t size, RoiAxisTable& t)
{
    t.slots = 2 * roiAxisWindows(levels, numLevels);
    for (int32_t i = 0; i < t.slots; ++i)
    {
        t.endpoints[i] = roiAxisEndpoint(start, extent, levels, numLevels, size, i);
    }
    int32_t distinct = 0;
    for (int32_t i = 0; i < t.slots; ++i)
    {
        t.isFirst[i] = roiEndpointIsFirst(t.endpoints, i);
        distinct += t.isFirst[i];
    }
    for (int32_t i = 0; i < t.slots; ++i)
    {
        t.ranks[i] = roiEndpointRank(t.endpoints, t.isFirst, t.slots, i);
        t.segmentStart[t.ranks[i]] = t.endpoints[i];
    }
    t.numSegments = distinct - 1;
}

} // namespace detail
} // namespace spp
