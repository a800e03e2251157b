// Host-side plans of the tasks kernel (Algo::kTASKS, spp_tasks.cuh): everything that depends only on the shape,
// built once per shape and passed to the kernel as one parameter. Plain C++ (no CUDA types), so the plans can be
// checked on machines without a GPU (tests/test_cuda.cpp, TasksPlan.*).
//
// A plan is a program over per-plane *slots* (the pixels, then row partials, then the bins of every level in output
// order): segments of tasks, each task reducing a rows x cols rectangle of slots (row stride fixed per segment) into
// slot dst + k of its segment, k its index there; a barrier follows a segment whose results the next phase reads.
//  - Phase 0, direct levels: one task per bin over its window of the pixels; when there are fewer such bins than task
//    groups in a CTA (large planes, few per CTA), one task per row of each bin into partial slots, then a combine
//    segment (1 x height over consecutive partials).
//  - Phases 1, 2, ...: derived levels. A level whose every window (rows and columns alike) is exactly the union of
//    consecutive non-empty windows of a finer level is made from that level's bins (the source needing the fewest
//    reads), e.g. {1,2,3,6} on 13x13 or 38x63: 3 and 2 from 6, then 1 from 2. Max only, or avg when those windows
//    are also disjoint (the sums then add exactly, up to fp32 rounding order).
//  - An empty (caffe) window's task has rows or cols 0 and writes 0: the bin's value in both modes.
#pragma once

#include "magic.h"
#include "spp/spp.h"

#include <cstddef>
#include <cstdint>

namespace spp
{
namespace tasks
{

//! Most tasks / segments one program holds (the plan is a kernel parameter, kept under the 4 KiB that every CUDA
//! toolchain of the supported TensorRT versions accepts).
constexpr int32_t kMAX_TASKS = 640;
constexpr int32_t kMAX_SEGMENTS = 48;
//! Slots per plane are 16-bit task operands.
constexpr int32_t kMAX_SLOTS = 65535;
//! Rows and columns of a task are 8-bit; H and W are bounded by them (a direct bin may span the map).
constexpr int32_t kMAX_SIDE = 255;
// Tuning knobs of the planner (scripts/device_tune.sh passes them to the C++ and CUDA compilers; the defaults are
// the measured choices, and tests read these constants to know which plans to expect).
#ifndef SPP_TASKS_CONTIGUOUS
#define SPP_TASKS_CONTIGUOUS 1 //!< 0: every group's pixels slot-major in shared memory
#endif
#ifndef SPP_TASKS_PAIRS
//! Tuning knob (also read by the kernel, spp_tasks.cuh): 1 = where G >= 2, a thread runs each of its tasks on two
//! planes (its lane's and the one G / 2 further), with twice the task groups. H100, session 11, with the other
//! tasks knobs on and SPP_TASKS_MIN_BLOCKS=4 (else ptxas spills): 13x13 fp16 6.1 -> 5.9 us but fp32 6.4 -> 6.7 us,
//! so not that. 2 (default) = only the kernels of 2-byte types (fp16, bf16) pair planes; the plans are the same for
//! every type, and each kernel deals the tasks to its own task groups (spp_tasks.cuh, SPP_TASKS_DEAL).
//! H100, session 12 (with SPP_TASKS_BULK): 13x13 fp16 6.05-6.29 -> 5.98-5.99 us per call from a graph, fp32 and
//! 38x63 within +-0.05 us.
#define SPP_TASKS_PAIRS 2
#endif
#ifndef SPP_TASKS_CTAS_PER_SM
// Fewest CTAs per SM the choice of G aims for: more, smaller CTAs overlap each other's load latency (on the H200,
// 13x13 {1,2,3,6} with 8192 planes took 10.2 us at G = 32, 9.6 at G = 16 and 12.7 at G = 8: 1, 3 and 6 here).
// H100, session 14: 4 made 13x13 slower (graph fp32 6.17 -> 7.61 us, fp16 5.99 -> 8.12), 38x63 unchanged.
#define SPP_TASKS_CTAS_PER_SM 3
#endif
constexpr bool kCONTIGUOUS = SPP_TASKS_CONTIGUOUS != 0;
constexpr int64_t kCTAS_PER_SM = SPP_TASKS_CTAS_PER_SM;

//! Bytes of one slot: every element type accumulates in 4 bytes (float, or int32 for int8).
constexpr int64_t kSLOT_BYTES = 4;
//! Words before a contiguous group's pixels: the group's input starts up to 15 elements (int8) past a 16-byte
//! boundary, and its element e lies at word misalignment + e, so that 16-byte loads become 16-byte stores.
constexpr int64_t kPIXEL_HEAD = 16;
static_assert(kPIXEL_HEAD >= 15, "the pixels' head must hold the largest misalignment: 15 int8 elements");
//! Shared memory per CTA the tasks kernel may use (no opt-in; several CTAs per SM).
constexpr int64_t kSMEM_BYTES = 46 * 1024;
//! Most input elements for kAUTO to take the tasks kernel. It is latency-lean but pays more instructions per element
//! than the streaming kernels. On the H200 it took 10.0 / 7.1 us where the planes / columns kernels took 13.0 / 10.0
//! (1.4 M and 0.6 M elements), but 68-85 us where the grid kernel took 14-41 (17 M to 34 M elements): about 1.8 (fp32)
//! to 4.3 (fp16) us more per million elements than at the small end, against the grid kernel's 0.8 to 1.1. The ~3 us
//! it saves on small calls then lasts to about 1 M (fp16) to 4 M (fp32) elements; 2 M is a heuristic between the two
//! (sizes in between were not measured).
constexpr int64_t kAUTO_MAX_ELEMENTS = int64_t{1} << 21;

struct TaskSegment
{
    uint16_t first;  //!< index of its first task
    uint16_t count;  //!< tasks
    uint16_t dst;    //!< slot of its first task's result
    uint16_t stride; //!< slots between the rows of its tasks' rectangles
    uint16_t sync;   //!< 1: a barrier follows (the next phase reads its results)
    uint16_t fromPixels; //!< 1: its tasks read pixels (phase 0), 0: partials or bins
};

//! One task: bits 0-15 the first slot of the rectangle, 16-23 rows, 24-31 columns.
constexpr uint32_t makeTask(int32_t src, int32_t rows, int32_t cols)
{
    return static_cast<uint32_t>(src) | static_cast<uint32_t>(rows) << 16 | static_cast<uint32_t>(cols) << 24;
}

//! What the store needs of one level (one table entry, so that the kernel finds them all from one index).
struct StoreLevel
{
    detail::Magic perBins; //!< / L^2
    int32_t bins;          //!< L^2
    int32_t out;           //!< C * (sum of L'^2 over earlier levels): the level's block in a sample
    int32_t binWord;       //!< shared-memory word of the level's bin 0, plane 0: binWords + prefix * laneStride
    int32_t prefix;        //!< sum of L'^2 over earlier levels: the level's first bin (and divisor)

    //! Offset in a sample's output of element `element` of the level's run of a group whose first channel is c0.
    SPP_HD int32_t sampleElement(int32_t c0, int32_t element) const
    {
        return out + c0 * bins + element;
    }
};

//! Element `first` of a group's store when the levels' runs (planes * L^2 elements each) follow one another: its
//! level and its element in that level's run (the vector store, knob SPP_TASKS_VSTORE, finds each vector's start so).
struct StoreVector
{
    int32_t level;
    int32_t element;

    SPP_HD static StoreVector of(StoreLevel const* store, int32_t numLevels, int32_t planes, int32_t first)
    {
        int32_t level = 0;
        for (int32_t l = 1; l < numLevels; ++l)
        {
            level = first >= planes * store[l].prefix ? l : level;
        }
        return StoreVector{level, first - planes * store[level].prefix};
    }
};

struct TasksPlan
{
    int64_t numGroups;
    int32_t planes;     //!< G: planes per CTA (a power of two, at most 32)
    int32_t planeShift; //!< log2(G)
    int32_t laneStride; //!< words between a slot's planes: G + 1 (1 when G == 1)
    int32_t binBase;    //!< slot of level 0's bin 0; each level's bins follow in output order
    int32_t numTasks;
    int32_t numSegments;
    int32_t autoPick;   //!< 1: kAUTO may take it (0: whole bins where few planes per CTA wanted rows split)
    detail::Magic perPlane;                //!< / (H * W)
    detail::Magic perChannel;              //!< / C, exact where fastSample
    int32_t fastSample;                    //!< 1: a plane's sample is perChannel.div(plane)
    int32_t contiguous;  //!< 1: pixel p, slot s at word misalignment + p * H * W + s; 0: at s * laneStride + p
    int32_t pixSlot;     //!< words between consecutive pixels of a plane (1 or laneStride)
    int32_t pixPlane;    //!< words between a pixel's planes (H * W or 1)
    int32_t derivedBase; //!< word of the first slot after the pixels (plane 0); such slot d, plane p, lies at
                         //!< derivedBase + (d - H * W) * laneStride + p
    int32_t binWords;    //!< word of level 0's bin 0 (plane 0)
    int32_t offTasks;    //!< shared memory: the tile, then the task table, then the avg divisors
    int32_t offDivisors;
    size_t smemBytes;
    StoreLevel store[kMAX_LEVELS];
    TaskSegment segments[kMAX_SEGMENTS];
    uint32_t tasks[kMAX_TASKS];
    //! Per segment: rows | cols << 8 when every task has that rectangle (rows and cols 1-255), else 0. (After the
    //! tables, so that the parameter offsets of the fields above stay those of the measured kernel.)
    uint16_t shapes[kMAX_SEGMENTS];
    //! Largest vector (1, 2, 4, 8 or 16 elements; 0: none) in which every group's store of every level is whole,
    //! aligned vectors (knob SPP_TASKS_VSTORE): every group is G whole planes of one sample (C % G == 0) and every
    //! G * L^2 is a multiple of it - then so are C * (sum of L'^2 before a level) and C * sum(L^2), multiples of
    //! sums of G * L^2. (Element counts only, so the plan is the same for every dtype; the kernel stores 16-byte
    //! vectors when this is at least its elements per 16 bytes and the output is 16-byte aligned.)
    int32_t storeVector;
};
static_assert(sizeof(TasksPlan) <= 3840,
    "the tasks kernel's parameters (plan, geometry, pointers) must stay under 4 KiB");

//! Walks a level's bins of a group in output order (plane-major: element e is bin e % L^2 of plane e / L^2) through
//! their shared-memory words (slot-major: bin b of plane p at binWord + b * laneStride + p): the vector store's
//! order (knob SPP_TASKS_VSTORE). Host and device, so that the tests walk exactly as the kernel does.
struct StoreWalk
{
    int32_t plane;
    int32_t bin;
    int32_t word;

    SPP_HD static StoreWalk at(StoreLevel const& level, int32_t laneStride, int32_t element)
    {
        int32_t const p = level.perBins.div(element);
        int32_t const b = element - p * level.bins;
        return StoreWalk{p, b, level.binWord + b * laneStride + p};
    }

    SPP_HD void next(StoreLevel const& level, int32_t laneStride)
    {
        ++bin;
        word += laneStride;
        if (bin == level.bins)
        {
            bin = 0;
            ++plane;
            word = level.binWord + plane;
        }
    }
};

//! Builds the plan of `desc` (its mode, rule, levels and dims; NCHW only) for CTAs of `threads` threads on a device of
//! `sms` SMs. False when the tasks kernel cannot take it (layout, H or W > 255, sum(L^2) > 640, C * sum(L^2) >= 2^31,
//! N * C * H * W >= 2^31, or a program that does not fit the plan's tables or the shared memory).
bool planTasks(SppDesc const& desc, int32_t threads, int32_t sms, TasksPlan& plan) noexcept;

//! planTasks through a small cache of the last plans (keyed by everything a plan depends on), for the launch path:
//! `desc` must already have passed validate().
bool planTasksCached(SppDesc const& desc, int32_t threads, int32_t sms, TasksPlan& plan) noexcept;

} // namespace tasks
} // namespace spp
