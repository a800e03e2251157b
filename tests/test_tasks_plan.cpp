// The tasks kernel's host-side plans (src/cuda/spp_tasks_plan.h), checked without a GPU: every plan is run by a
// small interpreter here (double precision, one plane at a time) and compared with the CPU reference, and the
// interpreter also checks the plan's structure: tasks read only slots that an earlier, barrier-separated phase (or
// the load) wrote, stay inside the slots, and the last segment ends with a barrier before the store. The GPU tests
// (test_cuda.cpp) run the kernel itself.
#include "cuda/spp_tasks_plan.h"
#include "cuda/spp_tasks_program.h"

#include "core/bins.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace spp
{
namespace
{

using tasks::TasksPlan;
using test::makeDesc;
using test::pyramidOf;

constexpr int32_t kTHREADS = 256; // the launcher's CTA size


// Where the plan puts things in shared memory: the pixels (contiguous or slot-major), the other slots slot-major after
// them, then the task table and the divisors, all inside the kernel's budget and without overlap. "" or the problem.
std::string layoutProblem(SppDesc const& desc, TasksPlan const& plan)
{
    int64_t const pixels = desc.h * desc.w;
    int64_t const slots = plan.binBase + binsPerChannel(desc.pyramid);
    int64_t const g = plan.planes;
    if (plan.laneStride != (g == 1 ? 1 : g + 1))
    {
        return "lane stride " + std::to_string(plan.laneStride) + " for G = " + std::to_string(g);
    }
    if (plan.contiguous != 0)
    {
        if (!(g == 1 || pixels % 2 == 1) || plan.pixSlot != 1 || plan.pixPlane != pixels
            || plan.derivedBase < tasks::kPIXEL_HEAD + g * pixels || plan.derivedBase % 4 != 0)
        {
            return "contiguous pixels: G " + std::to_string(g) + ", pixel strides " + std::to_string(plan.pixSlot)
                + " / " + std::to_string(plan.pixPlane) + ", derived slots at word " + std::to_string(plan.derivedBase);
        }
    }
    else if (plan.pixSlot != plan.laneStride || plan.pixPlane != 1 || plan.derivedBase != pixels * plan.laneStride)
    {
        return "slot-major pixels: strides " + std::to_string(plan.pixSlot) + " / " + std::to_string(plan.pixPlane)
            + ", derived slots at word " + std::to_string(plan.derivedBase);
    }
    if (plan.binWords != plan.derivedBase + (plan.binBase - pixels) * plan.laneStride)
    {
        return "bins at word " + std::to_string(plan.binWords);
    }
    // the store's table: per level its bins, its output block, its bins' word and a divider by L^2 exact at every
    // plane boundary of the group
    int64_t prefix = 0;
    for (int32_t l = 0; l < desc.pyramid.numLevels; ++l)
    {
        tasks::StoreLevel const& lv = plan.store[l];
        int64_t const bins = static_cast<int64_t>(desc.pyramid.levels[l]) * desc.pyramid.levels[l];
        bool divides = true;
        for (int64_t p = 1; p <= g; ++p)
        {
            divides = divides && lv.perBins.div(static_cast<int32_t>(p * bins)) == p
                && lv.perBins.div(static_cast<int32_t>(p * bins - 1)) == p - 1;
        }
        if (lv.bins != bins || lv.prefix != prefix || lv.out != desc.c * prefix
            || lv.binWord != plan.binWords + prefix * plan.laneStride || !divides)
        {
            return "store table, level " + std::to_string(l) + ": " + std::to_string(lv.bins) + " bins from "
                + std::to_string(lv.prefix) + ", output at " + std::to_string(lv.out) + ", bins at word "
                + std::to_string(lv.binWord) + (divides ? "" : ", a wrong divider");
        }
        prefix += bins;
    }
    int64_t const tileEnd = (plan.derivedBase + (slots - pixels) * plan.laneStride) * tasks::kSLOT_BYTES;
    if (tileEnd > plan.offTasks || plan.offTasks % 16 != 0 || plan.offTasks + plan.numTasks * 4 > plan.offDivisors
        || plan.offDivisors + binsPerChannel(desc.pyramid) * 4 > static_cast<int64_t>(plan.smemBytes)
        || static_cast<int64_t>(plan.smemBytes) > tasks::kSMEM_BYTES)
    {
        return "shared memory: tile to byte " + std::to_string(tileEnd) + ", tasks at " + std::to_string(plan.offTasks)
            + ", divisors at " + std::to_string(plan.offDivisors) + ", " + std::to_string(plan.smemBytes) + " bytes";
    }
    return "";
}

// Whether the compiled kernels' lanes take one plane (false) or two (true): with SPP_TASKS_PAIRS 2 the fp32 and int8
// kernels one, the fp16 and bf16 kernels two.
std::vector<bool> kernelPairs()
{
    if (SPP_TASKS_PAIRS == 2)
    {
        return {false, true};
    }
    return {SPP_TASKS_PAIRS == 1};
}

// The kernel's task assignment with SPP_TASKS_DEAL (spp_tasks.cuh), for a kernel whose lanes take two planes each
// (`pairs`: SPP_TASKS_PAIRS 1, or 2 in the 2-byte kernels) or one: with its task groups (kTHREADS >> (log2 G - 1)
// with pairs and G >= 2, else kTHREADS >> log2 G), group t runs tasks k = (t - lead) mod groups, + groups, ... of each
// segment, lead as the kernel picks it: the count of the program's tasks before the segment modulo the kernel's
// groups (the kernel's own expression, spp_tasks.cuh). Every task must run
// exactly once, and in every barrier interval the busiest group must run no more than ceil(tasks of the interval /
// groups): the interval's tasks are dealt as one run. "" or the problem.
std::string dealingProblem(TasksPlan const& plan, bool pairs)
{
    int32_t const pairShift = pairs && plan.planes > 1 ? 1 : 0;
    int32_t const groups = kTHREADS >> (plan.planeShift - pairShift);
    tasks::TaskLane const lane0 = tasks::TaskLane::of(0, kTHREADS, plan.planes, plan.planeShift, pairShift != 0);
    if (lane0.taskGroups != groups)
    {
        return "tasks::TaskLane has " + std::to_string(lane0.taskGroups) + " task groups, the kernel "
            + std::to_string(groups);
    }
    std::vector<int32_t> load(static_cast<size_t>(groups), 0);
    int32_t intervalTasks = 0;
    int32_t dealt = 0;
    for (int32_t s = 0; s < plan.numSegments; ++s)
    {
        int32_t const count = plan.segments[s].count;
        int32_t const lead = dealt & (groups - 1);
        dealt += count;
        std::vector<int32_t> runs(static_cast<size_t>(count), 0);
        for (int32_t t = 0; t < groups; ++t)
        {
            for (int32_t k = (t - lead) & (groups - 1); k < count; k += groups)
            {
                ++runs[static_cast<size_t>(k)];
                ++load[static_cast<size_t>(t)];
            }
        }
        for (int32_t k = 0; k < count; ++k)
        {
            if (runs[static_cast<size_t>(k)] != 1)
            {
                return "segment " + std::to_string(s) + " (lead " + std::to_string(lead) + "): task "
                    + std::to_string(k) + " runs " + std::to_string(runs[static_cast<size_t>(k)]) + " times";
            }
        }
        intervalTasks += count;
        if (plan.segments[s].sync != 0) // the interval ends
        {
            int32_t const busiest = *std::max_element(load.begin(), load.end());
            if (busiest > (intervalTasks + groups - 1) / groups)
            {
                return "the interval ending at segment " + std::to_string(s) + " has " + std::to_string(intervalTasks)
                    + " tasks for " + std::to_string(groups) + " groups, one group runs " + std::to_string(busiest);
            }
            std::fill(load.begin(), load.end(), 0);
            intervalTasks = 0;
        }
    }
    return "";
}

// The vector store (knob SPP_TASKS_VSTORE) as the kernel runs it with vectors of `kV` elements, where the plan allows
// them: in every group, vector v of the group's store (levels' runs back to back) walks from its first element with
// tasks::StoreWalk; each element must be read from the word the scalar store reads for it and written to its own
// output element, every output element once, and every vector must start at a multiple of kV elements. "" or the
// problem.
std::string vectorStoreProblem(SppDesc const& desc, TasksPlan const& plan, int32_t kV)
{
    if (plan.storeVector < kV)
    {
        return "";
    }
    int32_t const g = plan.planes;
    int32_t const levels = desc.pyramid.numLevels;
    int64_t const features = outputFeatures(desc.pyramid, desc.c);
    std::vector<int32_t> writes(static_cast<size_t>(desc.n * features), 0);
    for (int64_t group = 0; group < plan.numGroups; ++group)
    {
        int64_t const first = group * g;
        int64_t const n0 = first / desc.c;
        int64_t const c0 = first - n0 * desc.c;
        if (c0 + g > desc.c || first + g > desc.n * desc.c)
        {
            return "storeVector " + std::to_string(plan.storeVector) + " but group " + std::to_string(group)
                + " is not G whole planes of one sample";
        }
        for (int32_t v = 0; v < g * binsPerChannel(desc.pyramid) / kV; ++v)
        {
            tasks::StoreVector const vector = tasks::StoreVector::of(plan.store, levels, g, v * kV);
            int32_t const level = vector.level;
            tasks::StoreLevel const& lv = plan.store[level];
            int32_t const e = vector.element;
            if (level < 0 || level >= levels || e < 0 || e >= g * lv.bins || g * lv.prefix + e != v * kV)
            {
                return "group " + std::to_string(group) + " vector " + std::to_string(v) + ": level "
                    + std::to_string(level) + ", element " + std::to_string(e);
            }
            int64_t const at = n0 * features + lv.sampleElement(static_cast<int32_t>(c0), e);
            if (at % kV != 0)
            {
                return "group " + std::to_string(group) + " vector " + std::to_string(v) + " starts at element "
                    + std::to_string(at);
            }
            tasks::StoreWalk walk = tasks::StoreWalk::at(lv, plan.laneStride, e);
            for (int32_t j = 0; j < kV; ++j, walk.next(lv, plan.laneStride))
            {
                int32_t const p = (e + j) / lv.bins;
                int32_t const bin = (e + j) % lv.bins;
                int64_t const element = n0 * features + desc.c * lv.prefix + (c0 + p) * lv.bins + bin;
                if (walk.word != lv.binWord + bin * plan.laneStride + p || at + j != element)
                {
                    return "group " + std::to_string(group) + " vector " + std::to_string(v) + " element "
                        + std::to_string(j) + ": word " + std::to_string(walk.word) + ", output "
                        + std::to_string(at + j) + " (plane " + std::to_string(p) + ", bin " + std::to_string(bin)
                        + " of level "
                        + std::to_string(level) + ")";
                }
                ++writes[static_cast<size_t>(element)];
            }
        }
    }
    for (size_t i = 0; i < writes.size(); ++i)
    {
        if (writes[i] != 1)
        {
            return "output element " + std::to_string(i) + " written " + std::to_string(writes[i]) + " times";
        }
    }
    return "";
}

std::vector<float> randomFloats(int64_t count, std::mt19937_64& rng)
{
    std::uniform_real_distribution<float> dist(-8.0F, 8.0F);
    std::vector<float> values(static_cast<size_t>(count));
    for (float& v : values)
    {
        v = dist(rng);
    }
    return values;
}

// The kernel's program phase run on the host: for every group of planes, the tile laid out as the kernel lays it
// out (pixels contiguous from word pixelBase - the input's misalignment, 0 to 15 elements - or slot-major, other slots
// slot-major), then, segment by segment, tasks::runThreadSegment - the code the kernel runs between its barriers - for
// each of the CTA's kTHREADS threads, with the knobs given here instead of the compiled ones (fixed rectangles, two
// planes per thread, dealt tasks); then every bin read from its word and finished as the kernel's store does (avg:
// divided by the window's divisor). fp32 accumulation like the kernel. Each barrier interval runs twice, threads in
// order and in reverse, and both must leave the same tile: a thread reading or overwriting another thread's words of
// the same interval (a race on the GPU) shows. "" or the problem.
template <PoolMode kMode, bool kFixed>
std::string emulateProgram(SppDesc const& desc, TasksPlan const& plan, std::vector<float> const& input, bool pairsKnob,
    bool deal, int32_t pixelBase, std::vector<float>& output)
{
    int32_t const g = plan.planes;
    int32_t const pixels = static_cast<int32_t>(desc.h * desc.w);
    int64_t const totalPlanes = desc.n * desc.c;
    int64_t const features = outputFeatures(desc.pyramid, desc.c);
    int32_t const laneStride = plan.laneStride;
    bool const pairs = pairsKnob && g > 1;
    int32_t const base = plan.contiguous != 0 ? pixelBase : 0;
    std::vector<float> tile(static_cast<size_t>(plan.offTasks / 4));
    std::vector<float> reversed;
    std::vector<int32_t> tasksBefore(static_cast<size_t>(plan.numSegments) + 1, 0); // (the kernel's dealing)
    for (int32_t s = 0; s < plan.numSegments; ++s)
    {
        tasksBefore[static_cast<size_t>(s) + 1] = tasksBefore[static_cast<size_t>(s)] + plan.segments[s].count;
    }
    for (int64_t group = 0; group < plan.numGroups; ++group)
    {
        auto const numPlanes = static_cast<int32_t>(std::min<int64_t>(g, totalPlanes - group * g));
        std::fill(tile.begin(), tile.end(), std::nanf("")); // a slot read before it is written shows
        for (int32_t p = 0; p < numPlanes; ++p)
        {
            for (int32_t e = 0; e < pixels; ++e)
            {
                float const v = input[static_cast<size_t>((group * g + p) * pixels + e)];
                tile[static_cast<size_t>(plan.contiguous != 0 ? base + p * pixels + e : e * laneStride + p)] = v;
            }
        }
        auto const runThread = [&](int32_t s, int32_t tid, std::vector<float>& words) {
            tasks::TaskLane const lane = tasks::TaskLane::of(tid, kTHREADS, g, plan.planeShift, pairs);
            int32_t const lead = tasksBefore[static_cast<size_t>(s)] & (lane.taskGroups - 1); // as the kernel's
            tasks::runThreadSegment<float, kMode, kFixed>(plan.segments[s], kFixed ? plan.shapes[s] : 0,
                lane.firstTask(lead, deal), lane, pairs, numPlanes, plan.tasks, words.data(),
                lane.pixelWord(base, plan.pixPlane), lane.derivedWord(plan.derivedBase, pixels, laneStride),
                plan.pixSlot, plan.pixPlane, laneStride,
                kMode == PoolMode::kMAX ? -std::numeric_limits<float>::infinity() : 0.0F);
        };
        for (int32_t first = 0; first < plan.numSegments;)
        {
            int32_t last = first; // the interval: segments first .. last, a barrier after last
            while (last + 1 < plan.numSegments && plan.segments[last].sync == 0)
            {
                ++last;
            }
            reversed = tile;
            for (int32_t s = first; s <= last; ++s)
            {
                for (int32_t tid = 0; tid < kTHREADS; ++tid)
                {
                    runThread(s, tid, tile);
                }
            }
            for (int32_t s = last; s >= first; --s)
            {
                for (int32_t tid = kTHREADS - 1; tid >= 0; --tid)
                {
                    runThread(s, tid, reversed);
                }
            }
            if (std::memcmp(tile.data(), reversed.data(), tile.size() * sizeof(float)) != 0)
            {
                return "group " + std::to_string(group) + ": segments " + std::to_string(first) + " to "
                    + std::to_string(last) + " leave different words when their threads run in reverse order";
            }
            first = last + 1;
        }
        for (int32_t p = 0; p < numPlanes; ++p)
        {
            int64_t const plane = group * g + p;
            int64_t const n = plane / desc.c;
            int64_t const c = plane - n * desc.c;
            for (int32_t l = 0; l < desc.pyramid.numLevels; ++l)
            {
                tasks::StoreLevel const& lv = plan.store[l];
                int32_t const side = desc.pyramid.levels[l];
                for (int32_t bin = 0; bin < lv.bins; ++bin)
                {
                    float value = tile[static_cast<size_t>(lv.binWord + bin * laneStride + p)];
                    if (kMode == PoolMode::kAVG)
                    {
                        int64_t const d = detail::avgDivisor(desc.pyramid.rule,
                                              detail::binWindow(desc.pyramid.rule, bin / side, desc.h, side), desc.h,
                                              side)
                            * detail::avgDivisor(desc.pyramid.rule,
                                detail::binWindow(desc.pyramid.rule, bin % side, desc.w, side), desc.w, side);
                        value = value / static_cast<float>(d > 0 ? d : 1);
                    }
                    output[static_cast<size_t>(n * features + desc.c * lv.prefix + c * lv.bins + bin)] = value;
                }
            }
        }
    }
    return "";
}

// emulateProgram for each combination of the fixed / pairs / deal knobs; "" or the first mismatch with `expected`
// (max bit-exact, NaN as NaN; avg within fp32 rounding).
std::string emulatedProblem(
    SppDesc const& desc, TasksPlan const& plan, std::vector<float> const& input, std::vector<float> const& expected)
{
    bool const max = desc.pyramid.mode == PoolMode::kMAX;
    for (int32_t knobs = 0; knobs < 8; ++knobs)
    {
        bool const fixed = (knobs & 1) != 0;
        bool const pairs = (knobs & 2) != 0;
        bool const deal = (knobs & 4) != 0;
        std::vector<float> got(expected.size(), 12345.0F);
        int32_t const pixelBase = knobs % 2 == 0 ? 0 : 7; // the input's misalignment in elements (contiguous pixels)
        auto const emulate = max
            ? (fixed ? emulateProgram<PoolMode::kMAX, true> : emulateProgram<PoolMode::kMAX, false>)
            : (fixed ? emulateProgram<PoolMode::kAVG, true> : emulateProgram<PoolMode::kAVG, false>);
        std::string const error = emulate(desc, plan, input, pairs, deal, pixelBase, got);
        if (!error.empty())
        {
            return error;
        }
        for (size_t i = 0; i < expected.size(); ++i)
        {
            bool const same = std::isnan(expected[i])
                ? std::isnan(got[i])
                : (got[i] == expected[i]
                    || (!max && std::fabs(got[i] - expected[i]) <= 1e-5F * (1.0F + std::fabs(expected[i]))));
            if (!same)
            {
                return std::string("knobs fixed ") + (fixed ? "1" : "0") + " pairs " + (pairs ? "1" : "0") + " deal "
                    + (deal ? "1" : "0") + ": output " + std::to_string(i) + " is " + std::to_string(got[i])
                    + ", expected " + std::to_string(expected[i]);
            }
        }
    }
    return "";
}

// Runs `plan` on every plane of `input` (fp32 NCHW) into `output` ([N, C * sum(L^2)]). Returns "" or what is wrong
// with the plan's structure.
std::string interpret(SppDesc const& desc, TasksPlan const& plan, std::vector<float> const& input,
    std::vector<float>& output)
{
    bool const max = desc.pyramid.mode == PoolMode::kMAX;
    int64_t const pixels = desc.h * desc.w;
    int64_t const slots = plan.binBase + binsPerChannel(desc.pyramid);
    if (plan.numSegments < 1 || plan.segments[plan.numSegments - 1].sync != 1)
    {
        return "the last segment has no barrier before the store";
    }
    std::string const layout = layoutProblem(desc, plan);
    if (!layout.empty())
    {
        return layout;
    }
    int64_t const features = outputFeatures(desc.pyramid, desc.c);
    for (int64_t plane = 0; plane < desc.n * desc.c; ++plane)
    {
        std::vector<double> value(static_cast<size_t>(slots), std::nan(""));
        // the barrier interval in which a slot was written: the load is interval 0, the program starts at 1
        std::vector<int32_t> written(static_cast<size_t>(slots), -1);
        for (int64_t i = 0; i < pixels; ++i)
        {
            value[static_cast<size_t>(i)] = input[static_cast<size_t>(plane * pixels + i)];
            written[static_cast<size_t>(i)] = 0;
        }
        int32_t interval = 1;
        for (int32_t s = 0; s < plan.numSegments; ++s)
        {
            tasks::TaskSegment const& seg = plan.segments[s];
            for (int32_t k = 0; k < seg.count; ++k)
            {
                uint32_t const task = plan.tasks[seg.first + k];
                if (plan.shapes[s] != 0 && (task >> 16) != plan.shapes[s])
                {
                    return "segment " + std::to_string(s) + " says every task is "
                        + std::to_string(plan.shapes[s] & 0xff) + " x " + std::to_string(plan.shapes[s] >> 8)
                        + ", task " + std::to_string(k) + " is not";
                }
                int32_t const src = static_cast<int32_t>(task & 0xffff);
                int32_t const rows = static_cast<int32_t>(task >> 16 & 0xff);
                int32_t const cols = static_cast<int32_t>(task >> 24);
                double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
                // the kernel finds a segment's slots in the pixels or in the other slots, by its fromPixels
                if ((src < pixels) != (seg.fromPixels != 0))
                {
                    return "segment " + std::to_string(s) + " task " + std::to_string(k) + " reads slot "
                        + std::to_string(src) + (seg.fromPixels != 0 ? ", not a pixel" : ", a pixel");
                }
                for (int32_t r = 0; r < rows; ++r)
                {
                    for (int32_t c = 0; c < cols; ++c)
                    {
                        int64_t const at = src + static_cast<int64_t>(r) * seg.stride + c;
                        if (at >= slots || written[static_cast<size_t>(at)] < 0
                            || written[static_cast<size_t>(at)] >= interval || (at < pixels) != (seg.fromPixels != 0))
                        {
                            return "segment " + std::to_string(s) + " task " + std::to_string(k) + " reads slot "
                                + std::to_string(at) + (at >= slots ? " past the slots" : " not written before");
                        }
                        double const v = value[static_cast<size_t>(at)];
                        // max keeps NaN once it meets one, like the kernels' max.NaN
                        bool const take = !std::isnan(acc) && (std::isnan(v) || v > acc);
                        acc = max ? (take ? v : acc) : acc + v;
                    }
                }
                int64_t const dst = seg.dst + k;
                if (dst >= slots || dst < pixels)
                {
                    return "segment " + std::to_string(s) + " writes slot " + std::to_string(dst);
                }
                value[static_cast<size_t>(dst)] = rows == 0 || cols == 0 ? 0.0 : acc;
                written[static_cast<size_t>(dst)] = interval;
            }
            interval += seg.sync;
        }
        int64_t const n = plane / desc.c;
        int64_t const c = plane % desc.c;
        int64_t prefix = 0;
        for (int32_t l = 0; l < desc.pyramid.numLevels; ++l)
        {
            int64_t const level = desc.pyramid.levels[l];
            for (int64_t bin = 0; bin < level * level; ++bin)
            {
                int64_t const slot = plan.binBase + prefix + bin;
                if (written[static_cast<size_t>(slot)] < 1)
                {
                    return "bin slot " + std::to_string(slot) + " is never written";
                }
                double v = value[static_cast<size_t>(slot)];
                if (!max)
                {
                    detail::Window const wh = detail::binWindow(desc.pyramid.rule, bin / level, desc.h, level);
                    detail::Window const ww = detail::binWindow(desc.pyramid.rule, bin % level, desc.w, level);
                    int64_t const divisor = detail::avgDivisor(desc.pyramid.rule, wh, desc.h, level)
                        * detail::avgDivisor(desc.pyramid.rule, ww, desc.w, level);
                    v /= static_cast<double>(divisor > 0 ? divisor : 1);
                }
                output[static_cast<size_t>(n * features + desc.c * prefix + c * level * level + bin)]
                    = static_cast<float>(v);
            }
            prefix += level * level;
        }
    }
    return "";
}

struct PlanCase
{
    int64_t n, c, h, w;
};

// Every combination of these that the tasks kernel takes, planned for an H200-sized (132 SMs) and a one-SM device
// (other choices of G and of row splitting), must compute the reference.
TEST(TasksPlan, ProgramsComputeTheReference)
{
    std::mt19937_64 rng(0x7a5c0u);
    std::uniform_real_distribution<float> dist(-8.0F, 8.0F);
    std::vector<PlanCase> const shapes = {{2, 3, 1, 1}, {1, 2, 1, 97}, {2, 3, 5, 7}, {2, 3, 13, 13}, {1, 2, 38, 63},
        {1, 1, 96, 96}, {1, 2, 255, 3}, {1, 2, 3, 255}, {3, 1, 6, 5}, {1, 3, 24, 24}, {2, 2, 12, 18}, {1, 2, 100, 1},
        {40, 37, 13, 13}, {2, 40, 16, 16}};
    std::vector<std::vector<int32_t>> const levelSets = {{1}, {1, 2, 4}, {1, 2, 3, 6}, {1, 2, 3, 4, 5, 6, 7, 8, 13},
        {6, 3, 2, 1}, {2, 2}, {4, 2}, {3, 6}, {1, 3, 9}, {25}};
    int32_t plans = 0;
    int32_t derived = 0;
    int32_t split = 0;
    int32_t slotMajor = 0; // G > 1 planes of even size: pixels slot-major
    int32_t vectorStores = 0; // plans whose store may use 16-byte fp32 vectors
    for (PlanCase const& s : shapes)
    {
        std::vector<float> input(static_cast<size_t>(s.n * s.c * s.h * s.w));
        for (float& v : input)
        {
            v = dist(rng);
        }
        input[rng() % input.size()] = -std::numeric_limits<float>::infinity();
        std::vector<float> withNan = input;
        withNan[rng() % withNan.size()] = std::nanf("");
        for (auto const& levels : levelSets)
        {
            for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
            {
                for (BinRule rule : {BinRule::kADAPTIVE, BinRule::kCAFFE})
                {
                    for (int32_t const sms : {132, 1})
                    {
                        SppDesc const desc = makeDesc(
                            pyramidOf(levels, mode, rule), DataType::kFLOAT, Layout::kNCHW, s.n, s.c, s.h, s.w);
                        ASSERT_TRUE(validate(desc).ok()) << test::describe(desc);
                        TasksPlan plan;
                        if (!tasks::planTasks(desc, kTHREADS, sms, plan))
                        {
                            continue; // too many tasks or too much shared memory for this kernel
                        }
                        slotMajor += plan.contiguous == 0 ? 1 : 0;
                        ++plans;
                        EXPECT_LE(plan.numTasks, tasks::kMAX_TASKS);
                        EXPECT_LE(static_cast<int64_t>(plan.smemBytes), tasks::kSMEM_BYTES);
                        EXPECT_EQ(plan.planes & (plan.planes - 1), 0) << "G must be a power of two";
                        EXPECT_EQ(1 << plan.planeShift, plan.planes);
                        bool derives = false;
                        for (int32_t k = 0; k < plan.numSegments; ++k)
                        {
                            derives = derives || (plan.segments[k].stride != s.w && plan.segments[k].stride != 1);
                        }
                        derived += derives ? 1 : 0;
                        split += plan.binBase > s.h * s.w ? 1 : 0;
                        std::vector<float> const& x = mode == PoolMode::kMAX ? withNan : input;
                        std::vector<float> expected(static_cast<size_t>(outputElements(desc)));
                        std::vector<float> got(expected.size(), 12345.0F);
                        ASSERT_TRUE(sppReferenceCpu(desc, x.data(), expected.data()).ok());
                        std::string const error = interpret(desc, plan, x, got);
                        ASSERT_EQ(error, "") << test::describe(desc) << " sms " << sms;
                        for (bool const pairs : kernelPairs())
                        {
                            ASSERT_EQ(dealingProblem(plan, pairs), "")
                                << test::describe(desc) << " sms " << sms << " pairs " << pairs;
                        }
                        ASSERT_EQ(emulatedProblem(desc, plan, x, expected), "")
                            << test::describe(desc) << " sms " << sms;
                        for (int32_t const kV : {4, 8, 16}) // fp32, fp16 / bf16, int8 elements per 16 bytes
                        {
                            ASSERT_EQ(vectorStoreProblem(desc, plan, kV), "")
                                << test::describe(desc) << " sms " << sms << " vectors of " << kV;
                        }
                        vectorStores += plan.storeVector >= 4 ? 1 : 0;
                        for (size_t i = 0; i < expected.size(); ++i)
                        {
                            bool const same = std::isnan(expected[i])
                                ? std::isnan(got[i])
                                : (got[i] == expected[i]
                                    || (mode == PoolMode::kAVG
                                        && std::fabs(got[i] - expected[i]) <= 1e-5F * (1.0F + std::fabs(expected[i]))));
                            ASSERT_TRUE(same) << test::describe(desc) << " sms " << sms << " output " << i
                                              << ": expected " << expected[i] << ", plan gives " << got[i];
                        }
                    }
                }
            }
        }
    }
    std::printf(
        "[ plans    ] %d plans interpreted (%d derive levels, %d split bins into rows)\n", plans, derived, split);
    EXPECT_GT(plans, 1000);
    EXPECT_GT(derived, 450); // max (and avg where windows are disjoint) derives coarse levels
    EXPECT_GT(split, 500);   // few large planes per CTA split bins into rows
    EXPECT_GT(vectorStores, 50) << vectorStores;
    if (tasks::kCONTIGUOUS)
    {
        EXPECT_GT(slotMajor, 30); // 16x16 planes, several per CTA
    }
}

TEST(TasksPlan, VectorStoreOfManyPlanesPerGroup)
{
    // ProgramsComputeTheReference's shapes have few planes, so most of their plans take one plane per CTA: here the
    // vector store's walk on shapes with G > 1 and several levels (dtype-independent plans; every SM count a GPU of
    // the benchmarks has)
    std::vector<PlanCase> const shapes
        = {{32, 256, 13, 13}, {16, 128, 6, 10}, {8, 512, 9, 9}, {4, 64, 5, 7}, {2, 96, 7, 7}, {64, 32, 3, 3}};
    std::vector<std::vector<int32_t>> const levelSets = {{1, 2, 3, 6}, {4, 2, 1}, {4, 4, 2}, {1}, {2, 3}, {5}};
    std::mt19937_64 rng(0x7a5c7u);
    int32_t walked = 0;
    int32_t widest = 0; // 16-element vectors over several levels with G > 1
    int32_t emulated = 0;
    for (PlanCase const& s : shapes)
    {
        for (auto const& levels : levelSets)
        {
            for (PoolMode mode : {PoolMode::kMAX, PoolMode::kAVG})
            {
                for (BinRule rule : {BinRule::kADAPTIVE, BinRule::kCAFFE})
                {
                    for (int32_t const sms : {132, 114, 78})
                    {
                        SppDesc const desc = makeDesc(
                            pyramidOf(levels, mode, rule), DataType::kFLOAT, Layout::kNCHW, s.n, s.c, s.h, s.w);
                        TasksPlan plan;
                        ASSERT_TRUE(tasks::planTasks(desc, kTHREADS, sms, plan)) << test::describe(desc);
                        for (int32_t const kV : {4, 8, 16})
                        {
                            ASSERT_EQ(vectorStoreProblem(desc, plan, kV), "")
                                << test::describe(desc) << " sms " << sms << " vectors of " << kV;
                        }
                        for (bool const pairs : kernelPairs())
                        {
                            ASSERT_EQ(dealingProblem(plan, pairs), "")
                                << test::describe(desc) << " sms " << sms << " pairs " << pairs;
                        }
                        if (inputElements(desc) <= 100000 && rule == BinRule::kADAPTIVE) // (the emulation is slow)
                        {
                            // the program with G > 1 (pairs of planes per thread happen only there)
                            std::vector<float> const x = randomFloats(inputElements(desc), rng);
                            std::vector<float> expected(static_cast<size_t>(outputElements(desc)));
                            ASSERT_TRUE(sppReferenceCpu(desc, x.data(), expected.data()).ok());
                            ASSERT_EQ(emulatedProblem(desc, plan, x, expected), "")
                                << test::describe(desc) << " sms " << sms;
                            ++emulated;
                        }
                        walked += plan.storeVector >= 4 && plan.planes > 1 ? 1 : 0;
                        widest += plan.storeVector == 16 && plan.planes > 1 && levels.size() > 1 ? 1 : 0;
                    }
                }
            }
        }
    }
    EXPECT_GT(walked, 150) << walked;
    EXPECT_GT(widest, 50) << widest;
    EXPECT_GT(emulated, 80) << emulated;
}

TEST(TasksPlan, ShapesOfTheBenchmark)
{
    // 13x13 {1,2,3,6}, 8192 planes: 16 planes per CTA; 6 direct, 3 and 2 from 6, 1 from 2 (max); all direct (avg,
    // the windows of 13 / 6 overlap)
    TasksPlan plan;
    SppDesc small = makeDesc(pyramidOf({1, 2, 3, 6}, PoolMode::kMAX, BinRule::kADAPTIVE), DataType::kFLOAT,
        Layout::kNCHW, 32, 256, 13, 13);
    ASSERT_TRUE(tasks::planTasks(small, kTHREADS, 132, plan));
    if (tasks::kCTAS_PER_SM == 3) // the default of the SPP_TASKS_CTAS_PER_SM knob
    {
        EXPECT_EQ(plan.planes, 16);
    }
    EXPECT_EQ(plan.autoPick, 1);
    EXPECT_EQ(plan.numTasks, 50);
    ASSERT_EQ(plan.numSegments, 4);
    EXPECT_EQ(plan.segments[0].stride, 13); // level 6 from the pixels
    EXPECT_EQ(plan.segments[0].count, 36);
    EXPECT_EQ(plan.segments[1].stride, 6);  // level 2 from level 6
    EXPECT_EQ(plan.segments[2].stride, 6);  // level 3 from level 6
    EXPECT_EQ(plan.segments[3].stride, 2);  // level 1 from level 2
    // every segment one rectangle (rows | cols << 8): 3x3 pixels, 3x3 and 2x2 level-6 bins, 2x2 level-2 bins
    EXPECT_EQ(plan.shapes[0], 3 | 3 << 8);
    EXPECT_EQ(plan.shapes[1], 3 | 3 << 8);
    EXPECT_EQ(plan.shapes[2], 2 | 2 << 8);
    EXPECT_EQ(plan.shapes[3], 2 | 2 << 8);
    // dealt (SPP_TASKS_DEAL): each segment starts where the previous one ended, modulo the kernel's task groups (16
    // for G = 16; 32 in a kernel that pairs planes): leads 0, 4, 8, then 1 or 17 (the kernel's expression, as the
    // emulation above uses it)
    for (bool const pairs : {false, true})
    {
        EXPECT_EQ(dealingProblem(plan, pairs), "") << "pairs " << pairs;
        if (plan.planes == 16)
        {
            int32_t const groups = tasks::TaskLane::of(0, kTHREADS, plan.planes, plan.planeShift, pairs).taskGroups;
            ASSERT_EQ(groups, pairs ? 32 : 16);
            int32_t const want[4] = {0, 4, 8, pairs ? 17 : 1};
            for (int32_t s = 0, dealt = 0; s < plan.numSegments; dealt += plan.segments[s].count, ++s)
            {
                EXPECT_EQ(dealt & (groups - 1), want[s]) << "segment " << s << ", pairs " << pairs;
            }
        }
    }
    EXPECT_EQ(plan.storeVector, 16); // G * L^2 = 16, 64, 144, 576; C = 256
    small.pyramid.mode = PoolMode::kAVG;
    ASSERT_TRUE(tasks::planTasks(small, kTHREADS, 132, plan));
    for (int32_t s = 0; s < plan.numSegments; ++s)
    {
        EXPECT_EQ(plan.segments[s].stride, 13) << "segment " << s;
    }
    // 38x63 {1,2,3,6}, 256 planes: one plane per CTA, level 6's bins split into their rows (6 x 42)
    SppDesc const large = makeDesc(pyramidOf({1, 2, 3, 6}, PoolMode::kMAX, BinRule::kADAPTIVE), DataType::kHALF,
        Layout::kNCHW, 1, 256, 38, 63);
    ASSERT_TRUE(tasks::planTasks(large, kTHREADS, 132, plan));
    EXPECT_EQ(plan.planes, 1);
    EXPECT_EQ(plan.segments[0].count, 252);
    EXPECT_EQ(plan.shapes[0], 1 | 11 << 8); // each a row of 11 pixels
    EXPECT_EQ(plan.storeVector, 1);         // one plane per group: level 1 is one element
    EXPECT_EQ(plan.binBase, 38 * 63 + 252);
    EXPECT_EQ(plan.autoPick, 1);
}

TEST(TasksPlan, Limits)
{
    auto const plans = [](std::vector<int32_t> const& levels, Layout layout, int64_t h, int64_t w) {
        TasksPlan plan;
        return tasks::planTasks(
            makeDesc(pyramidOf(levels, PoolMode::kMAX, BinRule::kADAPTIVE), DataType::kFLOAT, layout, 2, 8, h, w),
            kTHREADS, 132, plan);
    };
    EXPECT_TRUE(plans({1, 2, 3, 6}, Layout::kNCHW, 13, 13));
    EXPECT_FALSE(plans({1, 2, 3, 6}, Layout::kNHWC, 13, 13));
    EXPECT_TRUE(plans({1}, Layout::kNCHW, 255, 1));
    EXPECT_FALSE(plans({1}, Layout::kNCHW, 256, 1));
    EXPECT_FALSE(plans({1}, Layout::kNCHW, 1, 256));
    EXPECT_TRUE(plans({25}, Layout::kNCHW, 25, 25));   // 625 bins
    EXPECT_FALSE(plans({26}, Layout::kNCHW, 26, 26));  // 676 bins: more tasks than a plan holds
    EXPECT_FALSE(plans({1, 2, 4}, Layout::kNCHW, 200, 200)); // 160 KB per plane
    // the kernel's element offsets are 32-bit: the most whole 13x13 planes below 2^31 elements are taken (2^31 - 141
    // elements), one plane more is refused
    SppDesc big = makeDesc(pyramidOf({1, 2, 3, 6}, PoolMode::kMAX, BinRule::kADAPTIVE), DataType::kHALF, Layout::kNCHW,
        1, INT32_MAX / 169, 13, 13);
    TasksPlan bigPlan;
    EXPECT_TRUE(tasks::planTasks(big, kTHREADS, 132, bigPlan));
    big.c += 1;
    EXPECT_FALSE(tasks::planTasks(big, kTHREADS, 132, bigPlan));
    TasksPlan plan;
    SppDesc bad = makeDesc(pyramidOf({1, 2}, PoolMode::kMAX, BinRule::kADAPTIVE), DataType::kFLOAT, Layout::kNCHW, 1, 1,
        0, 4);
    EXPECT_FALSE(tasks::planTasks(bad, kTHREADS, 132, plan)); // an invalid descriptor
    bad.h = 4;
    EXPECT_FALSE(tasks::planTasks(bad, 100, 132, plan));      // threads not a multiple of 32
    EXPECT_FALSE(tasks::planTasks(bad, kTHREADS, 0, plan));
}

// A program that would be too large with its bins split into rows is made of whole bins instead (a review found
// such shapes refused: one 64x64 plane, avg {1,2,3,6}, needs 1276 row tasks, or 50 whole-bin tasks); a refused shape
// stays refused through the cache (which remembers it, so kAUTO does not plan it again on every call).
TEST(TasksPlan, LargeSplitProgramsRunWholeBinsAndRefusalsAreCached)
{
    for (int64_t side : {47, 64, 107})
    {
        for (PoolMode mode : {PoolMode::kAVG, PoolMode::kMAX})
        {
            SppDesc const desc = makeDesc(pyramidOf({1, 2, 3, 6}, mode, BinRule::kADAPTIVE), DataType::kFLOAT,
                Layout::kNCHW, 1, 1, side, side);
            TasksPlan plan;
            ASSERT_TRUE(tasks::planTasks(desc, kTHREADS, 132, plan)) << test::describe(desc);
            EXPECT_EQ(plan.planes, 1);
            bool const whole = plan.binBase == side * side; // no partial slots: the bins were not split
            EXPECT_EQ(plan.autoPick, whole ? 0 : 1) << "kAUTO leaves whole-bin programs of one plane per CTA";
            std::vector<float> input(static_cast<size_t>(side * side));
            std::mt19937_64 rng(static_cast<uint64_t>(side));
            std::uniform_real_distribution<float> dist(-8.0F, 8.0F);
            for (float& v : input)
            {
                v = dist(rng);
            }
            std::vector<float> expected(static_cast<size_t>(outputElements(desc)));
            std::vector<float> got(expected.size());
            ASSERT_TRUE(sppReferenceCpu(desc, input.data(), expected.data()).ok());
            ASSERT_EQ(interpret(desc, plan, input, got), "");
            for (size_t i = 0; i < expected.size(); ++i)
            {
                ASSERT_NEAR(got[i], expected[i], 1e-5F * (1.0F + std::fabs(expected[i]))) << i;
            }
        }
    }
    SppDesc const tooLarge = makeDesc(pyramidOf({1, 2, 4}, PoolMode::kMAX, BinRule::kADAPTIVE), DataType::kFLOAT,
        Layout::kNCHW, 1, 64, 120, 120); // 57.6 KB per plane
    TasksPlan plan;
    for (int32_t round = 0; round < 2; ++round) // a miss, then the remembered refusal
    {
        EXPECT_FALSE(tasks::planTasksCached(tooLarge, kTHREADS, 132, plan));
    }
}

// The cache of plans must never hand the plan of an NCHW call to a channels-last call of the same dims (a bug the
// H200 GPU tests caught: the tasks kernel then read NHWC data as planes).
TEST(TasksPlan, CacheKeysOnEverythingAPlanDependsOn)
{
    SppDesc desc = makeDesc(pyramidOf({1, 2, 3, 6}, PoolMode::kMAX, BinRule::kADAPTIVE), DataType::kFLOAT,
        Layout::kNCHW, 3, 41, 13, 13);
    TasksPlan direct;
    TasksPlan cached;
    ASSERT_TRUE(tasks::planTasks(desc, kTHREADS, 132, direct));
    for (int32_t round = 0; round < 2; ++round) // a miss, then a hit
    {
        ASSERT_TRUE(tasks::planTasksCached(desc, kTHREADS, 132, cached));
        EXPECT_EQ(cached.numTasks, direct.numTasks);
        EXPECT_EQ(cached.planes, direct.planes);
        EXPECT_EQ(std::vector<uint32_t>(cached.tasks, cached.tasks + cached.numTasks),
            std::vector<uint32_t>(direct.tasks, direct.tasks + direct.numTasks));
    }
    SppDesc nhwc = desc;
    nhwc.layout = Layout::kNHWC;
    EXPECT_FALSE(tasks::planTasksCached(nhwc, kTHREADS, 132, cached));
    // a different mode, SM count or thread count is a different plan
    SppDesc avg = desc;
    avg.pyramid.mode = PoolMode::kAVG;
    ASSERT_TRUE(tasks::planTasksCached(avg, kTHREADS, 132, cached));
    EXPECT_EQ(cached.segments[1].stride, 13); // nothing derived for avg here
    ASSERT_TRUE(tasks::planTasksCached(desc, kTHREADS, 1, cached));
    TasksPlan oneSm;
    ASSERT_TRUE(tasks::planTasks(desc, kTHREADS, 1, oneSm));
    EXPECT_EQ(cached.planes, oneSm.planes);
    EXPECT_NE(oneSm.planes, direct.planes);
}

} // namespace
} // namespace spp
