#!/usr/bin/env python3
"""Shared-memory reads of the slices kernel's finest level, modelled on the CPU (no GPU, no torch): for roi-bench's
proposals (the same distribution as bench/roi_bench.cu and bench/torchvision_roi_bench.py: 38x63 map, scale 1/16),
how many map cells one roi reads per channel for the F x F bins ({1,2,3,6}: F = 6)

  - distinct: the cells of the clipped window (each read once: the floor of any scheme),
  - by bin: every bin's cells (what the task rounds and the bin-by-bin row scan read: bins share edge rows/columns),
  - rows once: each row once, each column bin's cells of it (SPP_ROI_ROWS_ONCE, for the rois it flags),

and checks the SPP_ROI_ROWS_ONCE row walk (src/cuda/roi_slices.cuh, runRowsPhase) in emulation: on random windows
(any size, start and clipping) that pass the prep kernel's rowsOnce test, every row bin must get exactly its rows.
A model for planning, not a test of the kernel: the kernel is checked on the GPU against the CPU reference.

Usage: roi_window_cells.py [--k K] [--windows N]
"""
import argparse
import math
import random


def round_half_away(v):
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def window(start, extent, i, bins, size):
    """Bin i of `bins` over [start, start + extent), clipped to [0, size] (RoIPool, docs/roi.md "Window rule")."""
    step = extent / bins
    lo = min(max(math.floor(i * step) + start, 0), size)
    hi = min(max(math.ceil((i + 1) * step) + start, 0), size)
    return lo, hi


def axis(a, b, bins, size, scale=1.0 / 16):
    start, end = round_half_away(a * scale), round_half_away(b * scale)
    return [window(start, max(end - start + 1, 1), i, bins, size) for i in range(bins)]


def rows_once(rows):
    """The prep kernel's test: each next row window starts on the last row of this one or right after it, ends later."""
    return all(b[0] >= a[1] - 1 and b[0] <= a[1] and b[1] > a[1] for a, b in zip(rows, rows[1:]))


def walk(rows):
    """The kernel's row walk: the rows each bin gets, and how many row reads it makes."""
    y, acc, got, reads = rows[0][0], set(), [], 0
    for i, (_, end) in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < len(rows) else (end, end)
        shared = nxt[0] < end
        while y < (end - 1 if shared else end):
            acc.add(y)
            y, reads = y + 1, reads + 1
        carry = {y} if shared else set()
        if shared:
            y, reads = y + 1, reads + 1
        got.append(acc | carry)
        acc = set(carry)
    return got, reads


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=2000)
    parser.add_argument("--windows", type=int, default=200000)
    args = parser.parse_args()
    h, w, f = 38, 63, 6
    rng = random.Random(7)
    distinct = by_bin = once = flagged = 0
    for _ in range(args.k):
        x1, y1 = rng.uniform(0, 1008), rng.uniform(0, 600)
        x2, y2 = min(x1 + rng.uniform(16, 400), 1007.0), min(y1 + rng.uniform(16, 400), 599.0)
        rows, cols = axis(y1, y2, f, h), axis(x1, x2, f, w)
        if any(hi <= lo for lo, hi in rows + cols):
            continue  # an empty bin: the direct schedule, no row scan
        height = rows[-1][1] - rows[0][0]
        columns = sum(hi - lo for lo, hi in cols)
        distinct += height * (cols[-1][1] - cols[0][0])
        by_bin += sum(hi - lo for lo, hi in rows) * columns
        if rows_once(rows):
            flagged += 1
            once += walk(rows)[1] * columns
        else:
            once += sum(hi - lo for lo, hi in rows) * columns
    k = args.k
    print(f"roi-bench proposals, {f}x{f} bins, cells read per roi and channel: distinct {distinct / k:.1f}, "
          f"by bin {by_bin / k:.1f}, rows once {once / k:.1f} ({flagged} of {k} rois flagged)")

    checked = 0
    for _ in range(args.windows):
        size, bins = rng.randint(1, 60), rng.randint(2, 8)
        start, extent = rng.randint(-10, size + 2), rng.randint(1, 70)
        rows = [window(start, extent, i, bins, size) for i in range(bins)]
        if any(hi <= lo for lo, hi in rows) or not rows_once(rows):
            continue
        got, reads = walk(rows)
        assert reads == rows[-1][1] - rows[0][0], (size, bins, start, extent)
        for i, (lo, hi) in enumerate(rows):
            assert got[i] == set(range(lo, hi)), (size, bins, start, extent, i)
        checked += 1
    print(f"row walk: {checked} flagged random windows, every bin got exactly its rows, each row read once")


if __name__ == "__main__":
    main()
