// The tasks kernel (Algo::kTASKS): small NCHW maps, a group of G whole planes per CTA in shared memory, pooled by a
// host-planned program of rectangle reductions. Included by spp_kernels.cu only (it uses that file's Geometry,
// Magic, finishBin, sampleOf and launch helpers).
//
// Why: on small maps (13x13, 38x63) a call is a few microseconds and latency-bound; what costs is per-CTA
// bookkeeping, barriers and long serial reductions, not bytes. So everything that depends only on the shape is
// planned once on the host (TasksPlan, a kernel parameter), and the CTA does one load round trip, a few short
// barrier-separated phases and one store:
//  1. Load: the group's planes are one contiguous run of NCHW input; it is read with 16-byte loads (scalar head and
//     tail) and written to shared memory transposed, slot-major: tile[slot * laneStride + plane] (laneStride = G + 1,
//     odd, so lanes on consecutive planes and threads on consecutive pixels both hit distinct banks). Slots
//     [0, H * W) are the pixels; later slots hold partial results and the bins.
//  2. Segments of tasks: a task reduces a rows x cols rectangle of slots (row stride fixed per segment) and writes one
//     slot; task k of a segment writes slot dst + k. Thread t runs plane t % G of tasks t / G, t / G + 256 / G, ...,
//     so the G lanes of a task group run the same task on consecutive planes. A barrier follows a segment where the
//     next phase reads its results. The phases:
//       - phase 0, direct levels: one task per bin reading its window from the pixels; when a CTA has fewer such bins
//         than task groups (large planes, few per CTA), each bin is split into its rows (tasks 1 x width into
//         partial slots), and a combine segment (1 x height over consecutive partials) makes the bins;
//       - phase p > 0, derived levels: a level whose every window (rows and columns alike) is exactly the union of
//         consecutive non-empty windows of a finer level is made from that level's bins, e.g. {1,2,3,6} on 13x13 or
//         38x63: 3 and 2 from 6 (4 and 9 reads per bin instead of 25 and 49), then 1 from 2. Max only, or avg when
//         those windows are also disjoint (sums then add exactly, up to fp32 rounding order).
//     An empty (caffe) window's task has rows or cols 0 and writes 0, the bin's value in both modes.
//  3. Store: each level's bins of the group are one contiguous output run (when the group's planes lie in one
//     sample); avg divides by the per-bin divisors made while the loads were in flight.
#pragma once

//! Most tasks / segments one program holds (the plan is a kernel parameter, kept under the 4 KiB that every CUDA
//! toolchain of the supported TensorRT versions accepts).
constexpr int32_t kTASKS_MAX_TASKS = 640;
constexpr int32_t kTASKS_MAX_SEGMENTS = 48;
//! Slots per plane are 16-bit task operands.
constexpr int32_t kTASKS_MAX_SLOTS = 65535;
//! Rows, columns and the per-row stride of a task are 8-bit.
constexpr int32_t kTASKS_MAX_SIDE = 255;
//! 16-byte loads a thread keeps in flight while loading.
constexpr int32_t kTASKS_BATCH = 4;
//! Shared memory per CTA the tasks kernel may use (no opt-in; several CTAs per SM).
constexpr int64_t kTASKS_SMEM_BYTES = 46 * 1024;
//! Most input elements for kAUTO to take the tasks kernel. It is latency-lean but pays more instructions per element
//! than the streaming kernels. On the H200 it took 10.0 / 7.1 us where the planes / columns kernels took 13.0 / 10.0
//! (1.4 M and 0.6 M elements), but 68-85 us where the grid kernel took 14-41 (17 M to 34 M elements): about 1.8 (fp32)
//! to 4.3 (fp16) us more per million elements than at the small end, against the grid kernel's 0.8 to 1.1. The ~3 us
//! it saves on small calls then lasts to about 1 M (fp16) to 4 M (fp32) elements; 2 M is a heuristic between the two
//! (sizes in between were not measured).
constexpr int64_t kTASKS_AUTO_MAX_ELEMENTS = int64_t{1} << 21;
// Fewest CTAs per SM the choice of G aims for (a tuning knob: more, smaller CTAs overlap each other's load latency).
#ifndef SPP_TASKS_MIN_CTAS_PER_SM
#define SPP_TASKS_MIN_CTAS_PER_SM 3
#endif

struct TaskSegment
{
    uint16_t first;  //!< index of its first task
    uint16_t count;  //!< tasks
    uint16_t dst;    //!< slot of its first task's result
    uint16_t stride; //!< slots between the rows of its tasks' rectangles
    int32_t sync;    //!< 1: a barrier follows (the next phase reads its results)
};

//! One task: bits 0-15 the first slot of the rectangle, 16-23 rows, 24-31 columns.
constexpr uint32_t makeTask(int32_t src, int32_t rows, int32_t cols)
{
    return static_cast<uint32_t>(src) | static_cast<uint32_t>(rows) << 16 | static_cast<uint32_t>(cols) << 24;
}

struct TasksPlan
{
    int64_t numGroups;
    int32_t planes;     //!< G: planes per CTA (a power of two, at most 32)
    int32_t planeShift; //!< log2(G)
    int32_t laneStride; //!< words between a slot's planes: G + 1 (1 when G == 1)
    int32_t binBase;    //!< slot of level 0's bin 0; each level's bins follow in output order
    int32_t numTasks;
    int32_t numSegments;
    Magic perPlane;     //!< / (H * W)
    Magic perLevel[kMAX_LEVELS]; //!< / L^2
    int32_t offTasks;    //!< shared memory: the tile, then the task table, then the avg divisors
    int32_t offDivisors;
    size_t smemBytes;
    TaskSegment segments[kTASKS_MAX_SEGMENTS];
    uint32_t tasks[kTASKS_MAX_TASKS];
};
static_assert(sizeof(TasksPlan) + sizeof(Geometry) + 2 * sizeof(void*) <= 4096,
    "the tasks kernel's parameters must stay under 4 KiB");

namespace tasks
{

//! Most windows per axis (sum of L) a program can have: every bin needs a task, so sum(L^2) <= kTASKS_MAX_TASKS,
//! and with at most 16 levels sum(L) <= sqrt(16 * 640) < 128.
constexpr int32_t kMAX_WINDOWS = 128;

//! Windows of all levels along one axis, level after level.
struct AxisWindows
{
    int32_t start[kMAX_WINDOWS];
    int32_t end[kMAX_WINDOWS];
};

//! How each window of a derived level is made from its source's windows (along one axis).
struct Sources
{
    int32_t first[kMAX_WINDOWS];
    int32_t count[kMAX_WINDOWS];
};

//! Host-side state of one plan (a few KiB, on the caller's stack).
struct Planner
{
    AxisWindows rows;
    AxisWindows cols;
    Sources rowSources;          //!< indexed like the windows of the derived level
    Sources colSources;
    int32_t offset[kMAX_LEVELS]; //!< first window of each level (sum of L' over earlier levels)
    int32_t prefix[kMAX_LEVELS]; //!< first bin of each level (sum of L'^2 over earlier levels)
    int32_t source[kMAX_LEVELS]; //!< the level a level is derived from; -1: read from the pixels
    int32_t phase[kMAX_LEVELS];
};

// Whether each non-empty one of the n windows `coarse` is the union of consecutive non-empty windows among the m
// windows `fine` (disjoint ones if `disjoint`). Writes, per coarse window, the first source window and their number
// (0 for an empty window: its bin is 0) and adds the number to `reads`.
bool nests(int32_t const* fineStart, int32_t const* fineEnd, int32_t m, int32_t const* start, int32_t const* end,
    int32_t n, bool disjoint, int32_t* first, int32_t* count, int64_t& reads)
{
    int32_t i = 0;
    for (int32_t k = 0; k < n; ++k)
    {
        first[k] = 0;
        count[k] = 0;
        if (end[k] <= start[k])
        {
            continue;
        }
        while (i < m && (fineStart[i] < start[k] || fineEnd[i] <= fineStart[i]))
        {
            ++i; // starts never decrease along an axis: the match is at or after i
        }
        if (i == m || fineStart[i] != start[k])
        {
            return false;
        }
        int32_t last = i;
        while (fineEnd[last] < end[k])
        {
            int32_t const next = last + 1;
            if (next == m || fineEnd[next] <= fineStart[next] || fineStart[next] > fineEnd[last]
                || (disjoint && fineStart[next] != fineEnd[last]))
            {
                return false;
            }
            last = next;
        }
        if (fineEnd[last] != end[k] || last - i + 1 > kTASKS_MAX_SIDE)
        {
            return false;
        }
        first[k] = i;
        count[k] = last - i + 1;
        reads += count[k];
    }
    return true;
}

// Builds the program for G = `planes` planes per CTA into `plan`. False when it does not fit the plan's tables,
// 16-bit slots or the shared memory.
template <typename T>
bool buildProgram(Geometry const& g, Planner const& pl, int32_t planes, TasksPlan& plan)
{
    using Acc = typename Traits<T>::Acc;
    int32_t const w = static_cast<int32_t>(g.w);
    int32_t const pixels = static_cast<int32_t>(g.h * g.w);
    auto const height = [&](int32_t l, int32_t by) {
        int32_t const i = pl.offset[l] + by;
        return pl.rows.end[i] > pl.rows.start[i] ? pl.rows.end[i] - pl.rows.start[i] : 0;
    };
    // Direct bins are split into their rows only when the CTA would otherwise leave task groups idle.
    int32_t directBins = 0;
    int32_t directRows = 0;
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        for (int32_t by = 0; pl.source[l] < 0 && by < g.levels[l]; ++by)
        {
            directBins += g.levels[l];
            directRows += g.levels[l] * height(l, by);
        }
    }
    bool const split = directBins < kTHREADS / planes && g.h > 1;
    int64_t const slots = static_cast<int64_t>(pixels) + (split ? directRows : 0) + g.sumL2;
    if (slots > kTASKS_MAX_SLOTS)
    {
        return false;
    }
    plan.binBase = pixels + (split ? directRows : 0);
    plan.numTasks = 0;
    plan.numSegments = 0;
    bool fits = true;
    auto const add = [&](uint32_t task) {
        fits = fits && plan.numTasks < kTASKS_MAX_TASKS;
        if (fits)
        {
            plan.tasks[plan.numTasks++] = task;
        }
    };
    auto const begin = [&](int32_t dst, int32_t stride) {
        fits = fits && plan.numSegments < kTASKS_MAX_SEGMENTS;
        if (fits)
        {
            plan.segments[plan.numSegments++] = TaskSegment{static_cast<uint16_t>(plan.numTasks), 0,
                static_cast<uint16_t>(dst), static_cast<uint16_t>(stride), 0};
        }
    };
    auto const end = [&]() {
        if (fits)
        {
            TaskSegment& s = plan.segments[plan.numSegments - 1];
            s.count = static_cast<uint16_t>(plan.numTasks - s.first);
        }
    };
    auto const sync = [&]() {
        if (fits && plan.numSegments > 0)
        {
            plan.segments[plan.numSegments - 1].sync = 1;
        }
    };
    uint32_t const zero = makeTask(0, 0, 0); // an empty window: the bin is 0
    // Phase 0: direct levels, a task per bin or per row of a bin (into consecutive partial slots).
    int32_t partial = pixels;
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        if (pl.source[l] >= 0)
        {
            continue;
        }
        begin(split ? partial : plan.binBase + pl.prefix[l], w);
        for (int32_t by = 0; by < g.levels[l]; ++by)
        {
            int32_t const y0 = pl.rows.start[pl.offset[l] + by];
            for (int32_t bx = 0; bx < g.levels[l]; ++bx)
            {
                int32_t const x0 = pl.cols.start[pl.offset[l] + bx];
                int32_t const width = pl.cols.end[pl.offset[l] + bx] - x0;
                bool const empty = height(l, by) == 0 || width <= 0;
                if (!split)
                {
                    add(empty ? zero : makeTask(y0 * w + x0, height(l, by), width));
                }
                for (int32_t y = 0; split && y < height(l, by); ++y)
                {
                    add(empty ? zero : makeTask((y0 + y) * w + x0, 1, width));
                }
            }
        }
        end();
        partial += split ? plan.segments[plan.numSegments - 1].count : 0;
    }
    sync();
    if (split)
    {
        partial = pixels;
        for (int32_t l = 0; l < g.numLevels; ++l)
        {
            if (pl.source[l] >= 0)
            {
                continue;
            }
            begin(plan.binBase + pl.prefix[l], 1);
            for (int32_t by = 0; by < g.levels[l]; ++by)
            {
                for (int32_t bx = 0; bx < g.levels[l]; ++bx)
                {
                    int32_t const i = pl.offset[l] + bx;
                    bool const empty = height(l, by) == 0 || pl.cols.end[i] <= pl.cols.start[i];
                    add(empty ? zero : makeTask(partial, 1, height(l, by)));
                    partial += height(l, by);
                }
            }
            end();
        }
        sync();
    }
    // Phases 1, 2, ...: derived levels from their sources' bins.
    for (int32_t phase = 1; phase <= kMAX_LEVELS; ++phase)
    {
        bool any = false;
        for (int32_t l = 0; l < g.numLevels; ++l)
        {
            if (pl.phase[l] != phase)
            {
                continue;
            }
            any = true;
            int32_t const s = pl.source[l];
            int32_t const fine = g.levels[s];
            begin(plan.binBase + pl.prefix[l], fine);
            for (int32_t by = 0; by < g.levels[l]; ++by)
            {
                int32_t const r = pl.offset[l] + by;
                for (int32_t bx = 0; bx < g.levels[l]; ++bx)
                {
                    int32_t const c = pl.offset[l] + bx;
                    int32_t const rows = pl.rowSources.count[r];
                    int32_t const cols = pl.colSources.count[c];
                    int32_t const firstBin = (pl.rowSources.first[r] - pl.offset[s]) * fine
                        + (pl.colSources.first[c] - pl.offset[s]);
                    add(rows == 0 || cols == 0 ? zero
                                               : makeTask(plan.binBase + pl.prefix[s] + firstBin, rows, cols));
                }
            }
            end();
        }
        if (!any)
        {
            break;
        }
        sync();
    }
    int32_t const laneStride = planes == 1 ? 1 : planes + 1;
    int64_t const tileBytes = align16(slots * laneStride * static_cast<int64_t>(sizeof(Acc)));
    int64_t const taskBytes = align16(static_cast<int64_t>(plan.numTasks) * 4);
    int64_t const smem = tileBytes + taskBytes + align16(static_cast<int64_t>(g.sumL2) * 4);
    if (!fits || smem > kTASKS_SMEM_BYTES)
    {
        return false;
    }
    plan.planes = planes;
    plan.planeShift = 0;
    while ((1 << plan.planeShift) < planes)
    {
        ++plan.planeShift;
    }
    plan.laneStride = laneStride;
    plan.numGroups = (g.n * g.c + planes - 1) / planes;
    plan.perPlane = Magic::of(pixels);
    plan.offTasks = static_cast<int32_t>(tileBytes);
    plan.offDivisors = static_cast<int32_t>(tileBytes + taskBytes);
    plan.smemBytes = static_cast<size_t>(smem);
    return true;
}

} // namespace tasks

template <typename T>
bool planTasks(Geometry const& g, PoolMode mode, DeviceLimits const& device, TasksPlan& plan)
{
    if (g.layout != Layout::kNCHW || g.h > kTASKS_MAX_SIDE || g.w > kTASKS_MAX_SIDE || g.sumL2 > kTASKS_MAX_TASKS
        || g.sumL > tasks::kMAX_WINDOWS)
    {
        return false;
    }
    int64_t const planes = g.n * g.c;
    if (planes == 0)
    {
        return true; // nothing to launch (sppForward returns before planning); any plan is valid
    }
    tasks::Planner pl;
    int32_t offset = 0;
    int32_t prefix = 0;
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        int32_t const n = g.levels[l];
        for (int32_t i = 0; i < n; ++i)
        {
            detail::Window const r = detail::binWindow(g.rule, i, g.h, n);
            detail::Window const c = detail::binWindow(g.rule, i, g.w, n);
            pl.rows.start[offset + i] = static_cast<int32_t>(r.start);
            pl.rows.end[offset + i] = static_cast<int32_t>(r.end);
            pl.cols.start[offset + i] = static_cast<int32_t>(c.start);
            pl.cols.end[offset + i] = static_cast<int32_t>(c.end);
        }
        pl.offset[l] = offset;
        pl.prefix[l] = prefix;
        offset += n;
        prefix += n * n;
        plan.perLevel[l] = Magic::of(n * n);
    }
    // Derivation, finest level first: each level takes the finer, already planned level that needs the fewest reads.
    bool planned[kMAX_LEVELS] = {};
    for (int32_t done = 0; done < g.numLevels; ++done)
    {
        int32_t l = -1;
        for (int32_t k = 0; k < g.numLevels; ++k)
        {
            l = !planned[k] && (l < 0 || g.levels[k] > g.levels[l]) ? k : l;
        }
        planned[l] = true;
        pl.source[l] = -1;
        pl.phase[l] = 0;
        int32_t const n = g.levels[l];
        int32_t const o = pl.offset[l];
        int64_t bestReads = -1;
        for (int32_t s = 0; s < g.numLevels; ++s)
        {
            if (!planned[s] || g.levels[s] <= n)
            {
                continue;
            }
            int32_t const so = pl.offset[s];
            tasks::Sources rowsFrom;
            tasks::Sources colsFrom;
            int64_t rowReads = 0;
            int64_t colReads = 0;
            bool const disjoint = mode == PoolMode::kAVG;
            if (tasks::nests(pl.rows.start + so, pl.rows.end + so, g.levels[s], pl.rows.start + o, pl.rows.end + o, n,
                    disjoint, rowsFrom.first, rowsFrom.count, rowReads)
                && tasks::nests(pl.cols.start + so, pl.cols.end + so, g.levels[s], pl.cols.start + o,
                    pl.cols.end + o, n, disjoint, colsFrom.first, colsFrom.count, colReads)
                && (bestReads < 0 || rowReads * colReads < bestReads))
            {
                bestReads = rowReads * colReads;
                pl.source[l] = s;
                pl.phase[l] = pl.phase[s] + 1;
                for (int32_t i = 0; i < n; ++i)
                {
                    pl.rowSources.first[o + i] = so + rowsFrom.first[i];
                    pl.rowSources.count[o + i] = rowsFrom.count[i];
                    pl.colSources.first[o + i] = so + colsFrom.first[i];
                    pl.colSources.count[o + i] = colsFrom.count[i];
                }
            }
        }
    }
    // G: the largest power of two up to 32 that still gives every SM SPP_TASKS_MIN_CTAS_PER_SM CTAs, or smaller where
    // the shared memory asks for it.
    int64_t const wanted = static_cast<int64_t>(device.sms) * SPP_TASKS_MIN_CTAS_PER_SM;
    int32_t p = 32;
    while (p > 1 && (planes + p - 1) / p < wanted)
    {
        p /= 2;
    }
    for (; p >= 1; p /= 2)
    {
        if (tasks::buildProgram<T>(g, pl, p, plan))
        {
            return true;
        }
    }
    return false;
}

// The plans of the last few shapes (a TensorRT engine or a serving loop calls the same shapes again and again, and
// planning costs about a microsecond of host time per call where the GPU takes a few). Keyed by everything a plan
// depends on, the layout included; lock-protected; on a failing mutex the plan is simply rebuilt.
struct TasksPlanKey
{
    int64_t n, c, h, w;
    int32_t levels[kMAX_LEVELS];
    int32_t numLevels;
    int32_t rule;
    int32_t layout;
    int32_t mode;
    int32_t elementBytes;
    int32_t sms;
    int32_t pad[2]; //!< no implicit padding: keys compare with memcmp

    static TasksPlanKey of(Geometry const& g, PoolMode mode, int32_t elementBytes, int32_t sms)
    {
        TasksPlanKey key;
        std::memset(&key, 0, sizeof(key));
        key.n = g.n;
        key.c = g.c;
        key.h = g.h;
        key.w = g.w;
        std::copy(g.levels, g.levels + g.numLevels, key.levels);
        key.numLevels = g.numLevels;
        key.rule = static_cast<int32_t>(g.rule);
        key.layout = static_cast<int32_t>(g.layout);
        key.mode = static_cast<int32_t>(mode);
        key.elementBytes = elementBytes;
        key.sms = sms;
        return key;
    }
    bool operator==(TasksPlanKey const& o) const
    {
        return std::memcmp(this, &o, sizeof(TasksPlanKey)) == 0;
    }
};

static_assert(sizeof(TasksPlanKey) == 4 * 8 + (kMAX_LEVELS + 8) * 4, "TasksPlanKey must have no padding");

class TasksPlanCache
{
public:
    bool find(TasksPlanKey const& key, TasksPlan& plan) noexcept
    {
        try
        {
            std::lock_guard<std::mutex> lock(mMutex);
            for (int32_t i = 0; i < mSize; ++i)
            {
                if (mKeys[i] == key)
                {
                    plan = mPlans[i];
                    return true;
                }
            }
        }
        catch (...)
        {
        }
        return false;
    }
    void insert(TasksPlanKey const& key, TasksPlan const& plan) noexcept
    {
        try
        {
            std::lock_guard<std::mutex> lock(mMutex);
            int32_t const slot = mSize < kCAPACITY ? mSize++ : mNext;
            mNext = (slot + 1) % kCAPACITY;
            mKeys[slot] = key;
            mPlans[slot] = plan;
        }
        catch (...)
        {
        }
    }

private:
    static constexpr int32_t kCAPACITY = 8;
    std::mutex mMutex;
    TasksPlanKey mKeys[kCAPACITY]{};
    TasksPlan mPlans[kCAPACITY]{};
    int32_t mSize{0};
    int32_t mNext{0};
};

TasksPlanCache gTasksPlanCache;

//! planTasks through the cache.
template <typename T>
bool planTasksCached(Geometry const& g, PoolMode mode, DeviceLimits const& device, TasksPlan& plan)
{
    if (g.layout != Layout::kNCHW)
    {
        return false; // before the cache: a channels-last call must never meet the plan of an NCHW call of its dims
    }
    TasksPlanKey const key = TasksPlanKey::of(g, mode, static_cast<int32_t>(sizeof(T)), device.sms);
    if (gTasksPlanCache.find(key, plan))
    {
        return true;
    }
    if (!planTasks<T>(g, mode, device, plan))
    {
        return false;
    }
    gTasksPlanCache.insert(key, plan);
    return true;
}

// Avg divisors of every bin (what finishBin divides the window sum by); 1 for an empty window, whose sum is 0.
__device__ __forceinline__ void fillTaskDivisors(Geometry const& g, int32_t* divisors)
{
    for (int32_t b = static_cast<int32_t>(threadIdx.x); b < g.sumL2; b += kTHREADS)
    {
        int32_t l = 0;
        int32_t bin = b;
        while (bin >= g.levels[l] * g.levels[l])
        {
            bin -= g.levels[l] * g.levels[l];
            ++l;
        }
        int32_t const n = g.levels[l];
        detail::Window const wh = detail::binWindow(g.rule, bin / n, g.h, n);
        detail::Window const ww = detail::binWindow(g.rule, bin % n, g.w, n);
        int64_t const d = detail::avgDivisor(g.rule, wh, g.h, n) * detail::avgDivisor(g.rule, ww, g.w, n);
        divisors[b] = d > 0 ? static_cast<int32_t>(d) : 1;
    }
}

// Reduces a rows x cols rectangle of slots (row step in words). A plain loop: four independent accumulators over
// four predicated columns per step measured slower on the H200 (13x13 10.8 vs 10.0 us, 38x63 7.4 vs 7.1 us).
template <typename Acc, PoolMode kMode>
__device__ __forceinline__ Acc reduceRect(Acc const* at, int32_t rows, int32_t cols, int32_t rowStep,
    int32_t laneStride, Acc identity)
{
    Acc acc = identity;
    for (int32_t r = 0; r < rows; ++r, at += rowStep)
    {
#pragma unroll 4
        for (int32_t c = 0; c < cols; ++c)
        {
            combine<Acc, kMode>(acc, at[c * laneStride]);
        }
    }
    return acc;
}

template <typename T, PoolMode kMode>
__global__ void __launch_bounds__(kTHREADS) sppTasksKernel(Geometry g, TasksPlan plan, T const* __restrict__ input,
    T* __restrict__ output)
{
    using Acc = typename Traits<T>::Acc;
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
                if (v < vectors)
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
            int32_t const p = plan.perPlane.div(e);
            tile[(e - p * pixels) * laneStride + p] = Traits<T>::load(src[e]);
        }
        __syncthreads();

        // 2. The program (lanes past the planes of a last, partial group sit it out).
        for (int32_t s = 0; s < plan.numSegments; ++s)
        {
            TaskSegment const seg = plan.segments[s];
            int32_t const rowStep = seg.stride * laneStride;
            for (int32_t k = taskGroup; k < seg.count && lanePlane < numPlanes; k += taskGroups)
            {
                uint32_t const task = taskTable[seg.first + k];
                int32_t const rows = static_cast<int32_t>(task >> 16 & 0xff);
                int32_t const cols = static_cast<int32_t>(task >> 24);
                Acc const acc = reduceRect<Acc, kMode>(tile + static_cast<int32_t>(task & 0xffff) * laneStride
                    + lanePlane, rows, cols, rowStep, laneStride, identity);
                tile[(seg.dst + k) * laneStride + lanePlane] = rows == 0 || cols == 0 ? Acc(0) : acc;
            }
            if (seg.sync != 0)
            {
                __syncthreads();
            }
        }

        // 3. Store, per level one contiguous run of the output when the group's planes lie in one sample.
        int64_t const n0 = sampleOf(g, firstPlane);
        int64_t const c0 = firstPlane - n0 * g.c;
        bool const oneSample = c0 + numPlanes <= g.c;
        T* out = output + n0 * g.features + c0 * g.levels[0] * g.levels[0]; // level 0's run
        int32_t prefix = 0;
        for (int32_t l = 0; l < g.numLevels; ++l)
        {
            int32_t const binCount = g.levels[l] * g.levels[l];
            int32_t const run = numPlanes * binCount;
            Acc const* const bins = tile + (plan.binBase + prefix) * laneStride;
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
            if (l + 1 < g.numLevels)
            {
                // from this level's run to the next level's: the rest of this level's block, the next one's head
                out += g.c * binCount + c0 * (g.levels[l + 1] * g.levels[l + 1] - binCount);
            }
        }
    }
}
