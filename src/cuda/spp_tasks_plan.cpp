// Host-side plans of the tasks kernel: see spp_tasks_plan.h for what a plan is.
#include "spp_tasks_plan.h"

#include "core/bins.h"

#include <algorithm>
#include <cstring>
#include <mutex>

namespace spp
{
namespace tasks
{
namespace
{

//! What a plan depends on, from the descriptor (the names of the kernels' Geometry).
struct Shape
{
    int64_t n, c, h, w;
    int32_t levels[kMAX_LEVELS];
    int32_t numLevels;
    int32_t sumL;  //!< windows per axis
    int32_t sumL2; //!< bins per plane
    BinRule rule;
    Layout layout;

    static Shape of(SppDesc const& desc)
    {
        Shape s{};
        s.n = desc.n;
        s.c = desc.c;
        s.h = desc.h;
        s.w = desc.w;
        s.numLevels = desc.pyramid.numLevels;
        for (int32_t l = 0; l < s.numLevels; ++l)
        {
            s.levels[l] = desc.pyramid.levels[l];
            s.sumL += s.levels[l];
            s.sumL2 += s.levels[l] * s.levels[l];
        }
        s.rule = desc.pyramid.rule;
        s.layout = desc.layout;
        return s;
    }
};

int64_t align16(int64_t bytes)
{
    return (bytes + 15) / 16 * 16;
}


//! Most windows per axis (sum of L) a program can have: every bin needs a task, so sum(L^2) <= kMAX_TASKS,
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
        if (fineEnd[last] != end[k] || last - i + 1 > kMAX_SIDE)
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
bool buildProgram(
    Shape const& g, Planner const& pl, int32_t threads, int32_t planes, bool allowSplit, TasksPlan& plan)
{
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
    bool const wantSplit = directBins < threads / planes && g.h > 1;
    bool const split = allowSplit && wantSplit;
    int64_t const slots = static_cast<int64_t>(pixels) + (split ? directRows : 0) + g.sumL2;
    if (slots > kMAX_SLOTS)
    {
        return false;
    }
    plan.binBase = pixels + (split ? directRows : 0);
    plan.numTasks = 0;
    plan.numSegments = 0;
    bool fits = true;
    auto const add = [&](uint32_t task) {
        fits = fits && plan.numTasks < kMAX_TASKS;
        if (fits)
        {
            plan.tasks[plan.numTasks++] = task;
        }
    };
    auto const begin = [&](int32_t dst, int32_t stride, bool fromPixels) {
        fits = fits && plan.numSegments < kMAX_SEGMENTS;
        if (fits)
        {
            plan.segments[plan.numSegments++] = TaskSegment{static_cast<uint16_t>(plan.numTasks), 0,
                static_cast<uint16_t>(dst), static_cast<uint16_t>(stride), 0, static_cast<uint16_t>(fromPixels)};
        }
    };
    auto const end = [&]() {
        if (fits)
        {
            TaskSegment& s = plan.segments[plan.numSegments - 1];
            s.count = static_cast<uint16_t>(plan.numTasks - s.first);
            // one rectangle for all its tasks (none empty): the kernel may run it fully unrolled
            uint32_t const shape = s.count > 0 ? plan.tasks[s.first] >> 16 : 0;
            bool same = (shape & 0xff) != 0 && (shape >> 8) != 0;
            for (int32_t t = s.first; same && t < plan.numTasks; ++t)
            {
                same = plan.tasks[t] >> 16 == shape;
            }
            plan.shapes[plan.numSegments - 1] = static_cast<uint16_t>(same ? shape : 0);
        }
    };
    auto const sync = [&]() {
        if (fits && plan.numSegments > 0)
        {
            plan.segments[plan.numSegments - 1].sync = 1;
        }
    };
    // an empty window: the bin is 0 (its src is a slot of the segment's kind, so that even the unused address lies in
    // the tile)
    uint32_t const zero = makeTask(0, 0, 0);
    uint32_t const zeroDerived = makeTask(pixels, 0, 0);
    // Phase 0: direct levels, a task per bin or per row of a bin (into consecutive partial slots).
    int32_t partial = pixels;
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        if (pl.source[l] >= 0)
        {
            continue;
        }
        begin(split ? partial : plan.binBase + pl.prefix[l], w, true);
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
            begin(plan.binBase + pl.prefix[l], 1, false);
            for (int32_t by = 0; by < g.levels[l]; ++by)
            {
                for (int32_t bx = 0; bx < g.levels[l]; ++bx)
                {
                    int32_t const i = pl.offset[l] + bx;
                    bool const empty = height(l, by) == 0 || pl.cols.end[i] <= pl.cols.start[i];
                    add(empty ? zeroDerived : makeTask(partial, 1, height(l, by)));
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
            begin(plan.binBase + pl.prefix[l], fine, false);
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
                    add(rows == 0 || cols == 0 ? zeroDerived
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
    // Shared memory: the pixels, then the other slots (partials, bins) slot-major, then the task table and the avg
    // divisors. The pixels lie either as the group's input run itself (contiguous: 16-byte copies, no division;
    // lanes on consecutive planes, pixels words apart, hit distinct banks when the plane size is odd or there is one
    // plane) or slot-major like the other slots.
    int32_t const laneStride = planes == 1 ? 1 : planes + 1;
    int64_t const derivedWords = (slots - pixels) * laneStride;
    int64_t const taskBytes = align16(static_cast<int64_t>(plan.numTasks) * 4);
    int64_t const tailBytes = taskBytes + align16(static_cast<int64_t>(g.sumL2) * 4);
    int64_t const contiguousBase = (kPIXEL_HEAD + static_cast<int64_t>(planes) * pixels + 3) / 4 * 4;
    bool const contiguous = kCONTIGUOUS && (planes == 1 || pixels % 2 == 1)
        && align16((contiguousBase + derivedWords) * kSLOT_BYTES) + tailBytes <= kSMEM_BYTES;
    int64_t const derivedBase = contiguous ? contiguousBase : static_cast<int64_t>(pixels) * laneStride;
    int64_t const tileBytes = align16((derivedBase + derivedWords) * kSLOT_BYTES);
    int64_t const smem = tileBytes + tailBytes;
    if (!fits || smem > kSMEM_BYTES)
    {
        return false;
    }
    plan.contiguous = contiguous ? 1 : 0;
    plan.pixSlot = contiguous ? 1 : laneStride;
    plan.pixPlane = contiguous ? pixels : 1;
    plan.derivedBase = static_cast<int32_t>(derivedBase);
    plan.binWords = static_cast<int32_t>(derivedBase + static_cast<int64_t>(plan.binBase - pixels) * laneStride);
    for (int32_t l = 0; l < g.numLevels; ++l)
    {
        plan.store[l].binWord = plan.binWords + plan.store[l].prefix * laneStride;
    }
    // whole bins where rows were wanted: few planes per CTA, each bin one long serial reduction (one 64x64 plane, avg
    // {1,2,3,6}: 4096 reads in one thread for level 1), where the columns kernel spreads a plane over a CTA
    plan.autoPick = wantSplit && !split ? 0 : 1;
    plan.planes = planes;
    plan.planeShift = 0;
    while ((1 << plan.planeShift) < planes)
    {
        ++plan.planeShift;
    }
    plan.laneStride = laneStride;
    plan.numGroups = (g.n * g.c + planes - 1) / planes;
    plan.perPlane = detail::Magic::of(pixels);
    // first plane -> sample by a multiplication where Magic is exact (first plane < 2^24, first plane * C < 2^40)
    int64_t const totalPlanes = g.n * g.c;
    plan.perChannel = detail::Magic::of(g.c);
    plan.fastSample = totalPlanes < (int64_t{1} << 24) && totalPlanes * g.c < (int64_t{1} << 40) ? 1 : 0;
    plan.offTasks = static_cast<int32_t>(tileBytes);
    plan.offDivisors = static_cast<int32_t>(tileBytes + taskBytes);
    plan.smemBytes = static_cast<size_t>(smem);
    // storeVector (knob SPP_TASKS_VSTORE): the largest vector in which every group's level runs are whole and aligned
    plan.storeVector = 0;
    for (int32_t v = 16; v >= 1 && plan.storeVector == 0; v /= 2)
    {
        bool whole = g.c % planes == 0;
        for (int32_t l = 0; l < g.numLevels; ++l)
        {
            whole = whole && planes * plan.store[l].bins % v == 0;
        }
        plan.storeVector = whole ? v : 0;
    }
    return true;
}

bool planShape(Shape const& g, PoolMode mode, int32_t threads, int32_t sms, TasksPlan& plan)
{
    if (g.layout != Layout::kNCHW || g.h > kMAX_SIDE || g.w > kMAX_SIDE || g.sumL2 > kMAX_TASKS
        || g.sumL > kMAX_WINDOWS || (g.h * g.w + g.sumL2) * kSLOT_BYTES > kSMEM_BYTES
        || g.c * g.sumL2 > INT32_MAX || g.n * g.c > INT32_MAX / (g.h * g.w))
    {
        // (one plane and its bins must fit the shared memory; the store's offsets in a sample and the kernel's
        // element offsets are 32-bit)
        return false;
    }
    int64_t const planes = g.n * g.c;
    if (planes == 0)
    {
        return true; // nothing to launch (sppForward returns before planning); any plan is valid
    }
    Planner pl;
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
        plan.store[l].perBins = detail::Magic::of(n * n);
        plan.store[l].bins = n * n;
        plan.store[l].out = static_cast<int32_t>(g.c * pl.prefix[l]);
        plan.store[l].prefix = pl.prefix[l];
    }
    // Derivation, finest level first: each level takes the finer, already planned level that needs the fewest reads,
    // derived or not. (Taking only directly read levels, one barrier fewer for {1,2,3,6}, measured slower on the H200
    // in session 10: 13x13 7.7 -> 8.2 us per call from a graph; more bins are read per derived bin.)
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
            Sources rowsFrom;
            Sources colsFrom;
            int64_t rowReads = 0;
            int64_t colReads = 0;
            bool const disjoint = mode == PoolMode::kAVG;
            if (nests(pl.rows.start + so, pl.rows.end + so, g.levels[s], pl.rows.start + o, pl.rows.end + o, n,
                    disjoint, rowsFrom.first, rowsFrom.count, rowReads)
                && nests(pl.cols.start + so, pl.cols.end + so, g.levels[s], pl.cols.start + o,
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
    // G: the largest power of two up to 32 that still gives every SM kCTAS_PER_SM CTAs, or smaller where
    // the shared memory asks for it.
    int64_t const wanted = static_cast<int64_t>(sms) * kCTAS_PER_SM;
    int32_t p = 32;
    while (p > 1 && (planes + p - 1) / p < wanted)
    {
        p /= 2;
    }
    for (; p >= 1; p /= 2)
    {
        // split rows where they fit the tables; a program too large split is tried whole (e.g. 64x64 avg {1,2,3,6}
        // on one plane: 1276 row tasks, or 50 whole bins)
        if (buildProgram(g, pl, threads, p, true, plan) || buildProgram(g, pl, threads, p, false, plan))
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
    int32_t threads;
    int32_t sms;
    int32_t pad[2]; //!< no implicit padding: keys compare with memcmp

    static TasksPlanKey of(Shape const& g, PoolMode mode, int32_t threads, int32_t sms)
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
        key.threads = threads;
        key.sms = sms;
        return key;
    }
    bool operator==(TasksPlanKey const& o) const
    {
        return std::memcmp(this, &o, sizeof(TasksPlanKey)) == 0;
    }
};

static_assert(sizeof(TasksPlanKey) == 4 * 8 + (kMAX_LEVELS + 8) * 4, "TasksPlanKey must have no padding");

// Shapes the kernel cannot take are remembered too (kAUTO asks for every small input, and a refused shape would
// otherwise be planned again, up to twelve programs, on every call).
class TasksPlanCache
{
public:
    enum class Lookup
    {
        kMISS,
        kPLAN,
        kREFUSED,
    };
    Lookup find(TasksPlanKey const& key, TasksPlan& plan) noexcept
    {
        try
        {
            std::lock_guard<std::mutex> lock(mMutex);
            for (int32_t i = 0; i < mSize; ++i)
            {
                if (mKeys[i] == key)
                {
                    if (!mFits[i])
                    {
                        return Lookup::kREFUSED;
                    }
                    plan = mPlans[i];
                    return Lookup::kPLAN;
                }
            }
        }
        catch (...)
        {
        }
        return Lookup::kMISS;
    }
    void insert(TasksPlanKey const& key, bool fits, TasksPlan const& plan) noexcept
    {
        try
        {
            std::lock_guard<std::mutex> lock(mMutex);
            int32_t const slot = mSize < kCAPACITY ? mSize++ : mNext;
            mNext = (slot + 1) % kCAPACITY;
            mKeys[slot] = key;
            mFits[slot] = fits;
            if (fits)
            {
                mPlans[slot] = plan;
            }
        }
        catch (...)
        {
        }
    }

private:
    static constexpr int32_t kCAPACITY = 8;
    std::mutex mMutex;
    TasksPlanKey mKeys[kCAPACITY]{};
    bool mFits[kCAPACITY]{};
    TasksPlan mPlans[kCAPACITY]{};
    int32_t mSize{0};
    int32_t mNext{0};
};

TasksPlanCache gTasksPlanCache;

} // namespace

bool planTasks(SppDesc const& desc, int32_t threads, int32_t sms, TasksPlan& plan) noexcept
{
    if (!validate(desc).ok() || threads < 32 || threads % 32 != 0 || sms < 1)
    {
        return false;
    }
    return planShape(Shape::of(desc), desc.pyramid.mode, threads, sms, plan);
}

bool planTasksCached(SppDesc const& desc, int32_t threads, int32_t sms, TasksPlan& plan) noexcept
{
    // (no second validate() on the launch path: the caller has validated; numLevels is checked so that a caller
    // that did not still cannot read past the level array)
    if (desc.layout != Layout::kNCHW || desc.pyramid.numLevels < 1 || desc.pyramid.numLevels > kMAX_LEVELS
        || threads < 32 || threads % 32 != 0 || sms < 1)
    {
        return false; // before the cache: a channels-last call must never meet the plan of an NCHW call of its dims
    }
    Shape const shape = Shape::of(desc);
    TasksPlanKey const key = TasksPlanKey::of(shape, desc.pyramid.mode, threads, sms);
    TasksPlanCache::Lookup const found = gTasksPlanCache.find(key, plan);
    if (found != TasksPlanCache::Lookup::kMISS)
    {
        return found == TasksPlanCache::Lookup::kPLAN;
    }
    bool const fits = planShape(shape, desc.pyramid.mode, threads, sms, plan);
    gTasksPlanCache.insert(key, fits, plan);
    return fits;
}

} // namespace tasks
} // namespace spp
