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
//     makes the bins' divisors.
//  2. The program: thread t runs plane t % G of tasks t / G, t / G + 256 / G, ... of each segment, so the G lanes of
//     a task group run the same task on consecutive planes; barriers where the plan says.
//  3. Store: each level's bins of the group are one contiguous output run (when the group's planes lie in one
//     sample); avg divides by the per-bin divisors.
#pragma once

// (spp_kernels.cu includes spp_tasks_plan.h at file scope, before its namespaces.)

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

// Reduces a rows x cols rectangle of slots (rowStep words between rows, colStep between columns), row by row and
// within a row left to right (the CPU reference's order, so avg sums match it).
// Rectangles up to four wide are one step of four predicated columns per row; wider ones go in steps of four with the
// last step predicated. (On the H200, session 10, this took 13x13 {1,2,3,6} from 8.23 / 8.05 to 7.69 / 7.46 us per
// call from a CUDA graph, fp32 / fp16, against steps of four plus up to three predicated columns, whose SASS
// re-derived the tail's predicates and column step in every row; four accumulators measured slower: 10.8 vs 10.0 us.)
template <typename Acc, PoolMode kMode>
__device__ __forceinline__ Acc reduceRect(Acc const* at, int32_t rows, int32_t cols, int32_t rowStep,
    int32_t colStep, Acc identity)
{
    Acc acc = identity;
    int32_t const o1 = colStep;
    int32_t const o2 = 2 * colStep;
    int32_t const o3 = 3 * colStep;
    if (cols <= 4)
    {
        bool const c0 = cols > 0;
        bool const c1 = cols > 1;
        bool const c2 = cols > 2;
        bool const c3 = cols > 3;
        for (int32_t r = 0; r < rows; ++r, at += rowStep)
        {
            Acc const v0 = c0 ? at[0] : identity;
            Acc const v1 = c1 ? at[o1] : identity;
            Acc const v2 = c2 ? at[o2] : identity;
            Acc const v3 = c3 ? at[o3] : identity;
            combine<Acc, kMode>(acc, v0);
            combine<Acc, kMode>(acc, v1);
            combine<Acc, kMode>(acc, v2);
            combine<Acc, kMode>(acc, v3);
        }
        return acc;
    }
    for (int32_t r = 0; r < rows; ++r, at += rowStep)
    {
        Acc const* p = at;
#pragma unroll 1
        for (int32_t c = 0; c < cols; c += 4, p += 4 * colStep)
        {
            Acc const v0 = p[0];
            Acc const v1 = c + 1 < cols ? p[o1] : identity;
            Acc const v2 = c + 2 < cols ? p[o2] : identity;
            Acc const v3 = c + 3 < cols ? p[o3] : identity;
            combine<Acc, kMode>(acc, v0);
            combine<Acc, kMode>(acc, v1);
            combine<Acc, kMode>(acc, v2);
            combine<Acc, kMode>(acc, v3);
        }
    }
    return acc;
}

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
    int32_t const lanePlane = tid & (plan.planes - 1); // this thread's plane in its task group (G is a power of 2)
    int32_t const taskGroup = tid >> plan.planeShift;
    int32_t const taskGroups = kTHREADS >> plan.planeShift;
    int64_t const totalPlanes = g.n * g.c;
    Acc const identity = device::identity<T, kMode>();

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
    for (int64_t group = blockIdx.x; group < plan.numGroups; group += gridDim.x)
    {
        int64_t const firstPlane = group * plan.planes;
        int32_t const numPlanes = static_cast<int32_t>(
            totalPlanes - firstPlane < plan.planes ? totalPlanes - firstPlane : plan.planes);
        int32_t const count = numPlanes * pixels;
        T const* const src = input + firstPlane * pixels;
        bool const firstGroup = group == blockIdx.x;
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
        for (int32_t base = 0; base < vectors; base += kTASKS_BATCH * kTHREADS)
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
        __syncthreads();

        // 2. The program (lanes past the planes of a last, partial group sit it out).
        // A task's slot src lies at word base + src * step: pixels as the plan lays them out, other slots slot-major.
        int32_t const pixelWord = pixelBase + lanePlane * plan.pixPlane;
        int32_t const derivedWord = plan.derivedBase - pixels * laneStride + lanePlane;
        for (int32_t s = 0; s < plan.numSegments; ++s)
        {
            tasks::TaskSegment const seg = plan.segments[s];
            int32_t const step = seg.fromPixels != 0 ? plan.pixSlot : laneStride;
            int32_t const base = seg.fromPixels != 0 ? pixelWord : derivedWord;
            int32_t const rowStep = seg.stride * step;
            Acc* const dst = tile + (derivedWord + seg.dst * laneStride);
            for (int32_t k = taskGroup; k < seg.count && lanePlane < numPlanes; k += taskGroups)
            {
                uint32_t const task = taskTable[seg.first + k];
                int32_t const rows = static_cast<int32_t>(task >> 16 & 0xff);
                int32_t const cols = static_cast<int32_t>(task >> 24);
                Acc const acc = reduceRect<Acc, kMode>(
                    tile + (base + static_cast<int32_t>(task & 0xffff) * step), rows, cols, rowStep, step, identity);
                dst[k * laneStride] = rows == 0 || cols == 0 ? Acc(0) : acc;
            }
            if (seg.sync != 0)
            {
                __syncthreads();
            }
        }

        // 3. Store, per level one contiguous run of the output when the group's planes lie in one sample (offsets in a
        // sample are 32-bit: the planner refuses C * sum(L^2) >= 2^31).
        int64_t const n0 = plan.fastSample != 0 ? plan.perChannel.div(static_cast<int32_t>(firstPlane))
                                                : sampleOf(g, firstPlane);
        auto const c0 = static_cast<int32_t>(firstPlane - n0 * g.c);
        bool const oneSample = c0 + numPlanes <= g.c;
        T* const sampleOut = output + n0 * g.features;
        int32_t prefix = 0;
        for (int32_t l = 0; l < g.numLevels; ++l)
        {
            int32_t const binCount = g.levels[l] * g.levels[l];
            int32_t const run = numPlanes * binCount;
            Acc const* const bins = tile + plan.binWords + prefix * laneStride;
            T* const out = sampleOut + (plan.levelOut[l] + c0 * binCount);
            for (int32_t i = tid; i < run; i += kTHREADS)
            {
                int32_t const p = plan.perLevel[l].div(i);
                int32_t const bin = i - p * binCount;
                T const value = finishBin<T, kMode>(bins[bin * laneStride + p],
                    kMode == PoolMode::kAVG ? divisors[prefix + bin] : 1);
                if (oneSample)
                {
                    out[i] = value;
                }
                else
                {
                    int64_t const plane = firstPlane + p;
                    int64_t const n = sampleOf(g, plane);
                    output[n * g.features + g.c * prefix + (plane - n * g.c) * binCount + bin] = value;
                }
            }
            prefix += binCount;
        }
    }
}
