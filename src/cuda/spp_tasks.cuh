// The tasks kernel (Algo::kTASKS): small NCHW maps, a group of G whole planes per CTA in shared memory, pooled by a
// host-planned program of rectangle reductions (spp_tasks_plan.h says what a plan holds and how it is made). Included
// by spp_kernels.cu only (it uses that file's Geometry, finishBin and sampleOf).
//
// Why: on small maps (13x13, 38x63) a call is a few microseconds and latency-bound; what costs is per-CTA
// bookkeeping, barriers and long serial reductions, not bytes. So everything that depends only on the shape is
// planned once on the host (a kernel parameter), and the CTA does one load round trip, a few short barrier-separated
// phases and one store:
//  1. Load: the group's planes are one contiguous run of NCHW input; it is read with 16-byte loads (scalar head and
//     tail). Where the plan says contiguous (H * W odd, or one plane per CTA) the run goes to shared memory as it is,
//     element e at word misalignment + e: each 16-byte load becomes 16-byte stores of the converted values (for 2-
//     and 1-byte types those stores conflict 2- and 4-way: lanes are kV words apart), and lanes on consecutive planes
//     read pixels H * W words apart, distinct banks. Otherwise it is written slot-major, tile[slot * laneStride +
//     plane] (laneStride = G + 1, odd, so lanes on consecutive planes and threads on consecutive pixels both hit
//     distinct banks), at a division and four scalar stores per vector. Row partials and bins are always
//     slot-major. While the first loads are in flight the CTA copies the task table to shared memory and, for avg,
//     makes the bins' divisors. fp32 kernels built for sm_90 (SPP_TASKS_BULK) load contiguous pixels with one bulk
//     copy by thread 0 instead (its values need no conversion), issued before the setup above, so that the setup
//     and the scalar head and tail overlap it.
//  2. The program (spp_tasks_program.h, host/device code the plan tests also run): thread t runs plane t % G of the
//     tasks of task group t / G of each segment, so the G lanes of a task group run the same task on consecutive
//     planes; a segment's tasks are dealt to the groups in one sequence over the program (SPP_TASKS_DEAL); 2x2 and
//     3x3 segments run fully unrolled; barriers where the plan says. (Knob SPP_TASKS_PAIRS: groups of G / 2 lanes,
//     each lane on two planes G / 2 apart.)
//  3. Store: each level's bins of the group are one contiguous output run (when the group's planes lie in one
//     sample); where every group's runs are whole aligned 16-byte vectors (the plan's storeVector), a thread stores
//     vectors, all levels in one pass; avg divides by the per-bin divisors.
#pragma once

// (spp_kernels.cu includes spp_tasks_plan.h and spp_tasks_program.h at file scope, before its namespaces.)

#ifndef SPP_TASKS_BATCH
#define SPP_TASKS_BATCH 4 // tuning knob (scripts/device_tune.sh)
#endif
//! 16-byte loads a thread keeps in flight while loading.
constexpr int32_t kTASKS_BATCH = SPP_TASKS_BATCH;

// Avg divisors of every bin (what finishBin divides the window sum by); 1 for an empty window, whose sum is 0.
__device__ __forceinline__ void fillTaskDivisors(Geometry const& g, int32_t* divisors)
{
    for (int32_t b = static_cast<int32_t>(threadIdx.x); b < g.sumL2; b += kTHREADS)
    {
        int32_t bin = b;
        int32_t const n = g.levels[levelOfBin(g, bin)];
        detail::Window const wh = detail::binWindow(g.rule, bin / n, g.h, n);
        detail::Window const ww = detail::binWindow(g.rule, bin % n, g.w, n);
        int64_t const d = detail::avgDivisor(g.rule, wh, g.h, n) * detail::avgDivisor(g.rule, ww, g.w, n);
        divisors[b] = d > 0 ? static_cast<int32_t>(d) : 1;
    }
}

#ifndef SPP_TASKS_FIXED
//! Tuning knob (scripts/device_tune.sh): 1 = segments whose tasks all have one rectangle of 2x2 or 3x3 (the plan's
//! shapes[]) run it fully unrolled, without the per-task width switch and row loop (in max mode every segment of
//! 13x13 {1,2,3,6} and the derived ones of 38x63). H100, session 11: 13x13 7.5 -> 6.9 us fp32 (graph), 6.6 -> 6.3
//! fp16.
#define SPP_TASKS_FIXED 1
#endif
#ifndef SPP_TASKS_VSTORE
//! Tuning knob (scripts/device_tune.sh): 1 = where the plan's storeVector allows (every group whole planes of one
//! sample, every level's run whole 16-byte vectors: 13x13 {1,2,3,6}, C = 256), the store writes 16-byte vectors, the
//! vectors of all levels in one pass, instead of one element per thread and a pass per level (0; that store was
//! about a third of 13x13's warp instructions: per level ~22 instructions of setup, then ~18 per element). H100,
//! session 11: 13x13 7.5 -> 6.7 us fp32 (graph), 6.6 -> 6.3 fp16.
#define SPP_TASKS_VSTORE 1
#endif
// (SPP_TASKS_PAIRS, in spp_tasks_plan.h: two planes per thread, sharing a task's decoding, width switch and loop
// control. Tuning knob, scripts/device_tune.sh.)
#ifndef SPP_TASKS_DEAL
//! Tuning knob (scripts/device_tune.sh): 1 = a segment's task 0 runs on the task group after the one that ran the
//! previous segment's last task (the tasks before it modulo the kernel's task groups): the program's tasks dealt to
//! the task groups in one sequence. On 13x13 {1,2,3,6} (G = 16, 16 groups) phase 1 has two segments, 4 and 9
//! tasks, which with 0 both start at group 0, so groups 0-3 run two tasks there while groups 9-15 idle; dealt, no
//! group runs more than one. H100, session 11: 13x13 fp32 7.5 -> 7.0 us (graph), fp16 unchanged; with VSTORE and
//! FIXED 13x13 6.4 us fp32, 6.1 fp16.
#define SPP_TASKS_DEAL 1
#endif

#ifndef SPP_TASKS_BULK
//! Tuning knob (scripts/device_tune.sh): 1 = in fp32 kernels built for sm_90 or later, where the plan lays the pixels
//! out contiguous, one thread loads a group's aligned 16-byte body with one bulk copy (bulk_copy.cuh), issued right
//! after the barrier's initialization, and the scalar head and tail (and, for a CTA's first group, its setup: task
//! table, divisors) overlap it; 0 = every thread loads 16-byte vectors (kTASKS_BATCH in flight) and stores them to
//! shared memory. H100, session 12: 13x13 fp32 6.44 -> 6.16 us per call from a graph, 38x63 fp32 5.61 -> 5.53 us.
#define SPP_TASKS_BULK 1
#endif

// Tuning knob (scripts/device_tune.sh): SPP_TASKS_MIN_BLOCKS, CTAs per SM the compiler must fit by registers. Unset,
// the bounds name no minimum, which ptxas (CUDA 13) compiles to 48-64 registers: 4 CTAs per SM, all 512 CTAs of 13x13
// {1,2,3,6} in one wave. (An explicit minimum of 1 took 72-95 registers, 3 CTAs per SM: 13x13 fp32 7.9 -> 11.0 us.)
#ifdef SPP_TASKS_MIN_BLOCKS
#define SPP_TASKS_BOUNDS __launch_bounds__(kTHREADS, SPP_TASKS_MIN_BLOCKS)
#else
#define SPP_TASKS_BOUNDS __launch_bounds__(kTHREADS)
#endif

template <typename T, PoolMode kMode>
__global__ void SPP_TASKS_BOUNDS
    sppTasksKernel(Geometry g, tasks::TasksPlan plan, T const* __restrict__ input, T* __restrict__ output)
{
    using Acc = typename Traits<T>::Acc;
    static_assert(sizeof(Acc) == tasks::kSLOT_BYTES, "the plans size shared memory for 4-byte slots");
    constexpr int32_t kV = kVECTOR_ELEMENTS<T>;
    extern __shared__ int4 smemRaw[];
    int32_t const pixels = static_cast<int32_t>(g.h * g.w);
    int32_t const laneStride = plan.laneStride;
    auto* const tile = reinterpret_cast<Acc*>(smemRaw);
    auto* const taskTable = reinterpret_cast<uint32_t*>(reinterpret_cast<char*>(smemRaw) + plan.offTasks);
    auto* const divisors = reinterpret_cast<int32_t*>(reinterpret_cast<char*>(smemRaw) + plan.offDivisors);
    int32_t const tid = static_cast<int32_t>(threadIdx.x);
    // The program's lanes: a task group of G lanes on consecutive planes (G a power of 2), or with SPP_TASKS_PAIRS
    // and G >= 2 one of G / 2 lanes, each on its plane and the one G / 2 further.
    bool const pairs = (SPP_TASKS_PAIRS == 1 || (SPP_TASKS_PAIRS == 2 && sizeof(T) == 2)) && plan.planes > 1;
    tasks::TaskLane const lane = tasks::TaskLane::of(tid, kTHREADS, plan.planes, plan.planeShift, pairs);
    static_assert(SPP_TASKS_DEAL == 0 || (kTHREADS & (kTHREADS - 1)) == 0,
        "SPP_TASKS_DEAL masks by the task groups, which needs a power-of-2 CTA size");
    // (32-bit plane and element offsets: the planner refuses N * C * H * W >= 2^31)
    auto const totalPlanes = static_cast<int32_t>(g.n * g.c);
    auto const numGroups = static_cast<int32_t>(plan.numGroups);
    Acc const identity = device::identity<T, kMode>();

    // SPP_TASKS_BULK: the bulk copy's barrier (phase parity alternates per bulk-copied group)
    constexpr bool kBulk = SPP_TASKS_BULK != 0 && bulk::kBULK_COPY && std::is_same_v<T, float>;
#if SPP_TASKS_BULK
    __shared__ uint64_t bulkBarrierWord;
    uint64_t* const bulkBarrier = &bulkBarrierWord;
#else
    uint64_t* const bulkBarrier = nullptr;
#endif
    uint32_t bulkParity = 0;
    if (kBulk && plan.contiguous != 0 && tid == 0)
    {
        bulk::initBarrier(bulkBarrier); // visible to the other threads at the first group's barrier below
    }

    // the task table and the avg divisors, made while the first group's loads are in flight
    auto const fillTables = [&]() {
        for (int32_t i = tid; i < plan.numTasks; i += kTHREADS)
        {
            taskTable[i] = plan.tasks[i];
        }
        if constexpr (kMode == PoolMode::kAVG)
        {
            fillTaskDivisors(g, divisors);
        }
    };
    for (auto group = static_cast<int32_t>(blockIdx.x); group < numGroups; group += static_cast<int32_t>(gridDim.x))
    {
        int32_t const firstPlane = group * plan.planes;
        int32_t const numPlanes = min(totalPlanes - firstPlane, plan.planes);
        int32_t const count = numPlanes * pixels;
        T const* const src = input + firstPlane * pixels;
        bool const firstGroup = group == static_cast<int32_t>(blockIdx.x);
        if (!firstGroup)
        {
            __syncthreads(); // the previous group is done with the tile
        }
        // 1. Load the run [0, count) of elements: a scalar head up to 16-byte alignment, 16-byte vectors, a scalar
        // tail. Element e goes to slot e % pixels of plane e / pixels.
        int32_t const misalign = static_cast<int32_t>(reinterpret_cast<uintptr_t>(src) % 16 / sizeof(T));
        int32_t const head = min(misalign == 0 ? 0 : kV - misalign, count);
        int32_t const vectors = (count - head) / kV;
        int32_t const tail = head + vectors * kV;
        auto const* const body = reinterpret_cast<int4 const*>(src + head);
        // contiguous pixels: element e at word pixelBase + e, so vector v's words start at a multiple of kV
        int32_t const pixelBase = plan.contiguous != 0 ? misalign : 0;
        // SPP_TASKS_BULK: the body [head, tail) by one bulk copy to words [pixelBase + head, ...), 16-byte aligned
        // (pixelBase + head is 0 or kV)
        bool const bulkLoad = kBulk && plan.contiguous != 0 && vectors > 0;
        if (bulkLoad)
        {
            if (tid == 0)
            {
                if (!firstGroup)
                {
                    // after the barrier above: the last group's reads of the tile and its scalar head / tail writes
                    // (which may lie inside this body) are done
                    bulk::fenceBeforeCopy();
                }
                bulk::copyToShared(tile + pixelBase + head, body, static_cast<uint32_t>(vectors) * 16u, bulkBarrier);
            }
            if (firstGroup)
            {
                __syncthreads(); // the barrier's initialization visible before anyone waits on it
                fillTables();
            }
        }
        for (int32_t base = 0; base < (bulkLoad ? 0 : vectors); base += kTASKS_BATCH * kTHREADS)
        {
            int4 batch[kTASKS_BATCH];
#pragma unroll
            for (int32_t k = 0; k < kTASKS_BATCH; ++k)
            {
                if (base + k * kTHREADS + tid < vectors)
                {
                    batch[k] = __ldg(body + base + k * kTHREADS + tid);
                }
            }
            if (firstGroup && base == 0)
            {
                fillTables();
            }
#pragma unroll
            for (int32_t k = 0; k < kTASKS_BATCH; ++k)
            {
                int32_t const v = base + k * kTHREADS + tid;
                if (v < vectors && plan.contiguous != 0)
                {
                    T values[kV];
                    memcpy(values, &batch[k], 16);
                    Acc converted[kV];
#pragma unroll
                    for (int32_t j = 0; j < kV; ++j)
                    {
                        converted[j] = Traits<T>::load(values[j]);
                    }
                    auto* const dst = reinterpret_cast<int4*>(tile + pixelBase + head + v * kV);
#pragma unroll
                    for (int32_t q = 0; q < kV / 4; ++q)
                    {
                        int4 words;
                        memcpy(&words, &converted[4 * q], 16);
                        dst[q] = words;
                    }
                }
                else if (v < vectors)
                {
                    T values[kV];
                    memcpy(values, &batch[k], 16);
                    int32_t const e = head + v * kV;
                    int32_t p = plan.planes == 1 ? 0 : plan.perPlane.div(e);
                    int32_t pixel = e - p * pixels;
                    if (pixel + kV <= pixels) // the vector lies in one plane
                    {
                        Acc* const dst = tile + pixel * laneStride + p;
#pragma unroll
                        for (int32_t j = 0; j < kV; ++j)
                        {
                            dst[j * laneStride] = Traits<T>::load(values[j]);
                        }
                    }
                    else
                    {
#pragma unroll
                        for (int32_t j = 0; j < kV; ++j)
                        {
                            tile[pixel * laneStride + p] = Traits<T>::load(values[j]);
                            bool const wrap = ++pixel == pixels;
                            pixel = wrap ? 0 : pixel;
                            p += wrap ? 1 : 0;
                        }
                    }
                }
            }
        }
        if (firstGroup && vectors == 0)
        {
            fillTables();
        }
        int32_t const e = tid < head ? tid : tail + tid - head;
        if (tid < head + (count - tail))
        {
            int32_t const p = plan.contiguous != 0 ? 0 : plan.perPlane.div(e);
            tile[plan.contiguous != 0 ? pixelBase + e : (e - p * pixels) * laneStride + p] = Traits<T>::load(src[e]);
        }
        if (bulkLoad)
        {
            bulk::waitBarrier(bulkBarrier, bulkParity);
            bulkParity ^= 1u;
        }
        __syncthreads();

        // 2. The program (tasks::runThreadSegment; lanes past the planes of a last, partial group sit it out).
        int32_t const pixelWord = lane.pixelWord(pixelBase, plan.pixPlane);
        int32_t const derivedWord = lane.derivedWord(plan.derivedBase, pixels, laneStride);
        int32_t dealt = 0; // tasks of the segments before
        for (int32_t s = 0; s < plan.numSegments; ++s)
        {
            tasks::TaskSegment const seg = plan.segments[s];
            // lead: the task group that runs the segment's task 0 (taskGroups is a power of 2, and depends on the
            // kernel's type with SPP_TASKS_PAIRS 2, so the kernel deals, not the plan); then this thread's first task
            int32_t const lead = dealt & (lane.taskGroups - 1);
            dealt += seg.count;
            int32_t const firstTask = lane.firstTask(lead, SPP_TASKS_DEAL != 0);
            tasks::runThreadSegment<Acc, kMode, SPP_TASKS_FIXED != 0>(seg, SPP_TASKS_FIXED ? plan.shapes[s] : 0,
                firstTask, lane, pairs, numPlanes, taskTable, tile, pixelWord, derivedWord, plan.pixSlot,
                plan.pixPlane, laneStride, identity);
            if (seg.sync != 0)
            {
                __syncthreads();
            }
        }

        // 3. Store, per level one contiguous run of the output when the group's planes lie in one sample (offsets in a
        // sample are 32-bit: the planner refuses C * sum(L^2) >= 2^31).
        int64_t const n0 = plan.fastSample != 0 ? plan.perChannel.div(firstPlane) : sampleOf(g, firstPlane);
        auto const c0 = static_cast<int32_t>(firstPlane - n0 * g.c);
        bool const oneSample = c0 + numPlanes <= g.c;
        T* const sampleOut = output + n0 * g.features;
        auto const binValue = [&](tasks::StoreLevel const& lv, int32_t p, int32_t bin) {
            return finishBin<T, kMode>(
                tile[lv.binWord + bin * laneStride + p], kMode == PoolMode::kAVG ? divisors[lv.prefix + bin] : 1);
        };
        bool const vectorStore = SPP_TASKS_VSTORE != 0 && plan.storeVector >= kV
            && (reinterpret_cast<uintptr_t>(output) & 15) == 0;
        if (vectorStore)
        {
            // Every group is G whole planes of one sample and every level's run is whole, aligned 16-byte vectors
            // (the plan's storeVector): the vectors of all levels in one pass (on 13x13 {1,2,3,6} a thread stores at
            // most one), each walking its elements' words from its first one.
            int32_t const vectors = plan.planes * g.sumL2 / kV;
            for (int32_t v = tid; v < vectors; v += kTHREADS)
            {
                tasks::StoreVector const at = tasks::StoreVector::of(plan.store, g.numLevels, plan.planes, v * kV);
                tasks::StoreLevel const lv = plan.store[at.level];
                tasks::StoreWalk walk = tasks::StoreWalk::at(lv, laneStride, at.element);
                T values[kV];
#pragma unroll
                for (int32_t j = 0; j < kV; ++j)
                {
                    values[j] = finishBin<T, kMode>(
                        tile[walk.word], kMode == PoolMode::kAVG ? divisors[lv.prefix + walk.bin] : 1);
                    walk.next(lv, laneStride);
                }
                int4 vector;
                memcpy(&vector, values, 16);
                *reinterpret_cast<int4*>(sampleOut + lv.sampleElement(c0, at.element)) = vector;
            }
        }
        else if (oneSample) // (kept apart from the general loop: almost every group takes it)
        {
            for (int32_t l = 0; l < g.numLevels; ++l)
            {
                tasks::StoreLevel const lv = plan.store[l];
                int32_t const run = numPlanes * lv.bins;
                T* const out = sampleOut + (lv.out + c0 * lv.bins); // (32-bit offsets in the sample)
#pragma unroll 1
                for (int32_t i = tid; i < run; i += kTHREADS)
                {
                    int32_t const p = lv.perBins.div(i);
                    out[i] = binValue(lv, p, i - p * lv.bins);
                }
            }
        }
        else
        {
            for (int32_t l = 0; l < g.numLevels; ++l)
            {
                tasks::StoreLevel const lv = plan.store[l];
                for (int32_t i = tid; i < numPlanes * lv.bins; i += kTHREADS)
                {
                    int32_t const p = lv.perBins.div(i);
                    int32_t const bin = i - p * lv.bins;
                    int64_t const plane = firstPlane + p;
                    int64_t const n = sampleOf(g, plane);
                    output[n * g.features + g.c * lv.prefix + (plane - n * g.c) * lv.bins + bin] = binValue(lv, p, bin);
                }
            }
        }
    }
}
