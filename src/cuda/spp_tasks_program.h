// The program phase of the tasks kernel (Algo::kTASKS, spp_tasks.cuh), as host/device code: what one thread of a CTA
// does in one segment of a plan's program (spp_tasks_plan.h). The kernel runs it between its barriers; the plan
// tests (tests/test_tasks_plan.cpp) run the same code for every thread of an emulated CTA on the host, with every
// combination of the SPP_TASKS_FIXED / PAIRS / DEAL knobs, against the CPU reference.
#pragma once

#include "core/bins.h" // SPP_HD
#include "spp_tasks_plan.h"

#if defined(__CUDACC__)
#include "device_traits.h"
#endif

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__CUDA_ARCH__)
#define SPP_UNROLL _Pragma("unroll")
#define SPP_UNROLL_NOT _Pragma("unroll 1")
#else
#define SPP_UNROLL
#define SPP_UNROLL_NOT
#endif

namespace spp
{
namespace tasks
{

//! acc = max(acc, v) keeping NaN, or acc += v. On the GPU device::combine (max: one max.NaN instruction); the host
//! copy does what that instruction does: a NaN operand gives the canonical NaN, and -0 < +0.
template <typename Acc, PoolMode kMode>
SPP_HD void combineSlot(Acc& acc, Acc v)
{
#if defined(__CUDA_ARCH__)
    device::combine<Acc, kMode>(acc, v);
#else
    if constexpr (kMode == PoolMode::kAVG)
    {
        acc += v;
    }
    else if constexpr (std::is_floating_point<Acc>::value)
    {
        if (acc != acc || v != v)
        {
            uint32_t const canonical = 0x7fffffffU;
            std::memcpy(&acc, &canonical, sizeof(acc));
        }
        else if (v > acc || (v == acc && std::signbit(acc) && !std::signbit(v)))
        {
            acc = v;
        }
    }
    else
    {
        acc = v > acc ? v : acc;
    }
#endif
}

// A task's result on one or (kDual) two planes.
template <typename Acc>
struct AccPair
{
    Acc a; //!< this lane's plane
    Acc b; //!< the plane `other` words further (kDual only)
};

// Reduces the rows x kCols rectangle at `at` (and, kDual, at `at + other`) into acc, row by row and within a row
// left to right (the CPU reference's order, so avg sums match it). With colStep a compile-time 1 the loads take
// immediate offsets.
template <typename Acc, PoolMode kMode, int32_t kCols, bool kDual>
SPP_HD void reduceRows(
    Acc const* at, int32_t rows, int32_t rowStep, int32_t colStep, int32_t other, AccPair<Acc>& acc)
{
SPP_UNROLL_NOT
    for (int32_t r = 0; r < rows; ++r, at += rowStep)
    {
SPP_UNROLL
        for (int32_t c = 0; c < kCols; ++c)
        {
            combineSlot<Acc, kMode>(acc.a, at[c * colStep]);
            if constexpr (kDual)
            {
                combineSlot<Acc, kMode>(acc.b, at[other + c * colStep]);
            }
        }
    }
}

// Reduces a rows x cols rectangle of slots (rowStep words between rows, colStep between columns), in reduceRows'
// order. Rectangles up to four wide take an unrolled row of exactly their width (the lanes of a task group share
// the task, so the switch is uniform in them; a warp's task groups diverge only where their widths differ); wider
// ones go in steps of four columns with the last step predicated. (H200, session 10: one predicated four-column
// step per row for widths up to four took 13x13 {1,2,3,6} from 8.2 to 7.7 us per call from a CUDA graph against
// steps of four plus up to three predicated columns; this switch, measured together with unit-step segments and the
// leaner store, 7.7 -> 6.9 us; four accumulators measured slower: 10.8 vs 10.0 us.)
template <typename Acc, PoolMode kMode, bool kDual>
SPP_HD AccPair<Acc> reduceRect(Acc const* at, int32_t rows, int32_t cols, int32_t rowStep,
    int32_t colStep, int32_t other, Acc identity)
{
    AccPair<Acc> acc{identity, identity};
    switch (cols)
    {
    case 1: reduceRows<Acc, kMode, 1, kDual>(at, rows, rowStep, colStep, other, acc); return acc;
    case 2: reduceRows<Acc, kMode, 2, kDual>(at, rows, rowStep, colStep, other, acc); return acc;
    case 3: reduceRows<Acc, kMode, 3, kDual>(at, rows, rowStep, colStep, other, acc); return acc;
    case 4: reduceRows<Acc, kMode, 4, kDual>(at, rows, rowStep, colStep, other, acc); return acc;
    default: break;
    }
    int32_t const o1 = colStep;
    int32_t const o2 = 2 * colStep;
    int32_t const o3 = 3 * colStep;
    for (int32_t r = 0; r < rows; ++r, at += rowStep)
    {
        Acc const* p = at;
SPP_UNROLL_NOT
        for (int32_t c = 0; c < cols; c += 4, p += 4 * colStep)
        {
            Acc const v0 = p[0];
            Acc const v1 = c + 1 < cols ? p[o1] : identity;
            Acc const v2 = c + 2 < cols ? p[o2] : identity;
            Acc const v3 = c + 3 < cols ? p[o3] : identity;
            combineSlot<Acc, kMode>(acc.a, v0);
            combineSlot<Acc, kMode>(acc.a, v1);
            combineSlot<Acc, kMode>(acc.a, v2);
            combineSlot<Acc, kMode>(acc.a, v3);
            if constexpr (kDual)
            {
                Acc const w0 = p[other];
                Acc const w1 = c + 1 < cols ? p[other + o1] : identity;
                Acc const w2 = c + 2 < cols ? p[other + o2] : identity;
                Acc const w3 = c + 3 < cols ? p[other + o3] : identity;
                combineSlot<Acc, kMode>(acc.b, w0);
                combineSlot<Acc, kMode>(acc.b, w1);
                combineSlot<Acc, kMode>(acc.b, w2);
                combineSlot<Acc, kMode>(acc.b, w3);
            }
        }
    }
    return acc;
}

// Reduces a kRows x kCols rectangle, fully unrolled, in reduceRows' order; max starts from the first slot instead
// of the identity (the same value, NaN included), avg from 0 + the first slot (so that a window of -0.0 sums to
// +0.0 as in the other paths and the CPU reference).
template <typename Acc, PoolMode kMode, int32_t kRows, int32_t kCols, bool kDual>
SPP_HD AccPair<Acc> reduceFixed(Acc const* at, int32_t rowStep, int32_t colStep, int32_t other)
{
    AccPair<Acc> acc{at[0], kDual ? at[other] : at[0]};
    if constexpr (kMode == PoolMode::kAVG)
    {
        acc.a = Acc(0) + acc.a;
        acc.b = Acc(0) + acc.b;
    }
SPP_UNROLL
    for (int32_t r = 0; r < kRows; ++r)
    {
SPP_UNROLL
        for (int32_t c = r == 0 ? 1 : 0; c < kCols; ++c)
        {
            combineSlot<Acc, kMode>(acc.a, at[r * rowStep + c * colStep]);
            if constexpr (kDual)
            {
                combineSlot<Acc, kMode>(acc.b, at[other + r * rowStep + c * colStep]);
            }
        }
    }
    return acc;
}

// Where a thread's tasks of a segment are and where their results go: tasks firstTask, firstTask + taskGroups, ...;
// slot s of the source at base + s * step, the result of task k at dst + k * laneStride; with two planes (kDual) the
// second plane's source lies `other` words further and its result `dstOther` words further, stored where `second`.
template <typename Acc>
struct SegmentRun
{
    Acc const* base;
    int32_t step;
    Acc* dst;
    int32_t laneStride;
    int32_t firstTask;
    int32_t taskGroups;
    int32_t other;
    int32_t dstOther;
    bool second;
};

template <typename Acc, bool kDual>
SPP_HD void storeTask(SegmentRun<Acc> const& run, int32_t k, AccPair<Acc> const& acc)
{
    run.dst[k * run.laneStride] = acc.a;
    if (kDual && run.second)
    {
        run.dst[k * run.laneStride + run.dstOther] = acc.b;
    }
}

// The task loop of a segment whose tasks are all kRows x kCols (none empty): only their first slots differ.
template <typename Acc, PoolMode kMode, int32_t kRows, int32_t kCols, bool kDual>
SPP_HD void runFixed(
    TaskSegment const& seg, uint32_t const* taskTable, SegmentRun<Acc> const& run, int32_t colStep)
{
    int32_t const rowStep = seg.stride * colStep;
    for (int32_t k = run.firstTask; k < seg.count; k += run.taskGroups)
    {
        Acc const* const at = run.base + static_cast<int32_t>(taskTable[seg.first + k] & 0xffff) * colStep;
        storeTask<Acc, kDual>(run, k, reduceFixed<Acc, kMode, kRows, kCols, kDual>(at, rowStep, colStep, run.other));
    }
}

// Runs this thread's tasks of one segment (SegmentRun says which and where). kUnitStep says the source step is 1
// (contiguous pixels, or G == 1), which lets the compiler address a rectangle's columns by immediate offsets.
template <typename Acc, PoolMode kMode, bool kUnitStep, bool kDual, bool kFixed>
SPP_HD void runSegment(TaskSegment const& seg, int32_t shape, uint32_t const* taskTable,
    SegmentRun<Acc> const& run, Acc identity)
{
    int32_t const colStep = kUnitStep ? 1 : run.step;
    if (kFixed && shape == (3 | 3 << 8))
    {
        runFixed<Acc, kMode, 3, 3, kDual>(seg, taskTable, run, colStep);
        return;
    }
    if (kFixed && shape == (2 | 2 << 8))
    {
        runFixed<Acc, kMode, 2, 2, kDual>(seg, taskTable, run, colStep);
        return;
    }
    int32_t const rowStep = seg.stride * colStep;
    for (int32_t k = run.firstTask; k < seg.count; k += run.taskGroups)
    {
        uint32_t const task = taskTable[seg.first + k];
        int32_t const rows = static_cast<int32_t>(task >> 16 & 0xff);
        int32_t const cols = static_cast<int32_t>(task >> 24);
        AccPair<Acc> acc = reduceRect<Acc, kMode, kDual>(run.base + static_cast<int32_t>(task & 0xffff) * colStep,
            rows, cols, rowStep, colStep, run.other, identity);
        bool const empty = rows == 0 || cols == 0;
        acc.a = empty ? Acc(0) : acc.a;
        acc.b = empty ? Acc(0) : acc.b;
        storeTask<Acc, kDual>(run, k, acc);
    }
}

//! Which lanes of a CTA run which tasks: a task group of G lanes on consecutive planes (G a power of 2), or, with
//! pairs (SPP_TASKS_PAIRS and G >= 2), one of G / 2 lanes, each on its plane and the one G / 2 further.
struct TaskLane
{
    int32_t groupLanes; //!< lanes of a task group
    int32_t lanePlane;  //!< this lane's (first) plane of the group
    int32_t taskGroup;  //!< this thread's task group
    int32_t taskGroups; //!< task groups of the CTA

    SPP_HD static TaskLane of(int32_t tid, int32_t threads, int32_t planes, int32_t planeShift, bool pairs)
    {
        int32_t const pairShift = pairs ? 1 : 0;
        int32_t const groupLanes = planes >> pairShift;
        return TaskLane{groupLanes, tid & (groupLanes - 1), tid >> (planeShift - pairShift),
            threads >> (planeShift - pairShift)};
    }

    //! This thread's first task of a segment whose task 0 runs on group `lead` (SPP_TASKS_DEAL; taskGroups is a power
    //! of 2), or on group 0.
    SPP_HD int32_t firstTask(int32_t lead, bool deal) const
    {
        return deal ? (taskGroup - lead) & (taskGroups - 1) : taskGroup;
    }

    //! Words where this lane's plane starts: its pixels (the group's run at word pixelBase when the plan's pixels are
    //! contiguous) and its other slots (slot-major after the pixels).
    SPP_HD int32_t pixelWord(int32_t pixelBase, int32_t pixPlane) const
    {
        return pixelBase + lanePlane * pixPlane;
    }
    SPP_HD int32_t derivedWord(int32_t derivedBase, int32_t pixels, int32_t laneStride) const
    {
        return derivedBase - pixels * laneStride + lanePlane;
    }
};

//! One thread's part of segment `seg` (the kernel's barriers around it): its tasks, from `firstTask` on (taskGroup,
//! or with dealing (taskGroup - lead) mod taskGroups), on its plane(s). A task's slot src lies at word base + src *
//! step: pixels as the plan lays them out (pixSlot, pixPlane; this lane's plane from pixelWord), other slots slot-major
//! (from derivedWord). Lanes past the planes of a last, partial group sit it out.
template <typename Acc, PoolMode kMode, bool kFixed>
SPP_HD void runThreadSegment(TaskSegment const& seg, int32_t shape, int32_t firstTask, TaskLane const& lane,
    bool pairs, int32_t numPlanes, uint32_t const* taskTable, Acc* tile, int32_t pixelWord, int32_t derivedWord,
    int32_t pixSlot, int32_t pixPlane, int32_t laneStride, Acc identity)
{
    int32_t const step = seg.fromPixels != 0 ? pixSlot : laneStride;
    // (slot-major slots are one word apart between planes; pixels pixPlane words)
    SegmentRun<Acc> const run{tile + (seg.fromPixels != 0 ? pixelWord : derivedWord), step,
        tile + (derivedWord + seg.dst * laneStride), laneStride, firstTask, lane.taskGroups,
        lane.groupLanes * (seg.fromPixels != 0 ? pixPlane : 1), lane.groupLanes,
        lane.lanePlane + lane.groupLanes < numPlanes};
    if (lane.lanePlane < numPlanes)
    {
        if (pairs)
        {
            if (step == 1)
            {
                runSegment<Acc, kMode, true, true, kFixed>(seg, shape, taskTable, run, identity);
            }
            else
            {
                runSegment<Acc, kMode, false, true, kFixed>(seg, shape, taskTable, run, identity);
            }
        }
        else if (step == 1)
        {
            runSegment<Acc, kMode, true, false, kFixed>(seg, shape, taskTable, run, identity);
        }
        else
        {
            runSegment<Acc, kMode, false, false, kFixed>(seg, shape, taskTable, run, identity);
        }
    }
}

} // namespace tasks
} // namespace spp

#undef SPP_UNROLL
#undef SPP_UNROLL_NOT
