#!/usr/bin/env python3
"""Lane-level CPU model of the rows ROI kernel (src/cuda/roi_slice_rows.cuh), for its index arithmetic.

No GPU needed. It mirrors planSliceRows (which levels are derived from the finest one F, their row and column groups,
staging and output offets), sliceRowsTile (K) and one warp's work per (roi, channel slice): lane = (word w, half),
w = lane % 16 a 32-bit word of every pixel (k channels: 1 for fp32, 2 for fp16/bf16, whose slices hold 32 channels),
half = lane // 16 reads cells first + half + 2m of each column window, clamped to the window's last cell, for m below
the widest window's pairs (at least one read); the halves are joined by xor-16 shuffle semantics; derived levels are
maxima over groups of F's K x K register tile (2x2, 3x3 where 3 | K, 4x4 where 4 | K, the 1x1 level over the whole
tile, anything else row by row); results are staged in output order, two bins per store (half 0 the first, half 1
the second) and copied out per level. Rois whose windows do not nest scan every level a row bin at a time. Each output
is compared with a plain max over the roi's windows (the RoIPool rule in fp32, empty window -> 0), for several
pyramids, map sizes and random rois, roi-bench's proposals among them. It checks the model of the indexing, not the
CUDA code: only a GPU run of the tests does that (tests/test_roi_cuda.cpp).

    python3 bench/roi_rows_model.py
"""
import math
import random
import struct

LOWEST = float("-inf")


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def corner(value, scale):
    r = f32(f32(value) * f32(scale))
    return int(math.floor(r + 0.5)) if r >= 0 else -int(math.floor(-r + 0.5))  # roundf: half away from zero


def bin_window(start, extent, i, bins, size):
    size_f = f32(f32(extent) / f32(bins))
    s = int(math.floor(f32(f32(i) * size_f))) + start
    e = int(math.ceil(f32(f32(i + 1) * size_f))) + start
    return min(max(s, 0), size), min(max(e, 0), size)


def plan_rows(levels, per_word=1):
    """planSliceRows for square or rectangular `levels` [(lh, lw)], max mode; None when not eligible. per_word: channels
    in a 32-bit word (1: fp32, 2: fp16/bf16), so a slice holds 16 * per_word channels."""
    n = len(levels)
    sum_lh = sum(lh for lh, _ in levels)
    if sum_lh + sum(lw for _, lw in levels) > 32 or any(lw > 8 for _, lw in levels):
        return None
    # planSliceTasks' sources: by bins (most first), each level from the divisible earlier level with fewest bins
    order = sorted(range(n), key=lambda l: -levels[l][0] * levels[l][1])
    source = [-1] * n
    for i, a in enumerate(order):
        for s in order[:i]:
            if levels[s][0] % levels[a][0] == 0 and levels[s][1] % levels[a][1] == 0 and (
                    source[a] < 0 or levels[s][0] * levels[s][1] < levels[source[a]][0] * levels[source[a]][1]):
                source[a] = s
    phase0 = [l for l in range(n) if source[l] < 0]
    derives = any(s >= 0 for s in source)
    if derives and (len(phase0) != 1 or levels[phase0[0]][0] > 8):
        return None
    finest = phase0[0] if derives else -1
    plan, r, c, bins = [], 0, 0, 0
    for l, (lh, lw) in enumerate(levels):
        level = dict(lh=lh, lw=lw, row_window=r, col_window=sum_lh + c, stage_offset=16 * per_word * bins,
                     bins_before=bins, row_group=0, col_group=0, source=source[l])
        if finest >= 0 and l != finest:
            fh, fw = levels[finest]
            level["row_group"], level["col_group"] = fh // lh, fw // lw
        plan.append(level)
        r, c, bins = r + lh, c + lw, bins + lh * lw
    tile = 8 if any(lw > 6 or (l == finest and lh > 6) for l, (lh, lw) in enumerate(levels)) else 6  # sliceRowsTile
    return dict(levels=plan, finest=finest, total_bins=bins, per_word=per_word, tile=tile)


def table_row(plan, levels, box, h, w):
    """The prep kernel's windows (rows of all levels, then columns) and its nesting vote."""
    start_h, start_w, height, width = box
    rows = [bin_window(start_h, height, i, lh, h) for lh, _ in levels for i in range(lh)]
    cols = [bin_window(start_w, width, i, lw, w) for _, lw in levels for i in range(lw)]
    windows = rows + cols
    derive = plan["finest"] >= 0
    for l, level in enumerate(plan["levels"]):
        s = level["source"]
        if s < 0:
            continue
        src = plan["levels"][s]
        for axis, count, first, src_first in ((0, level["lh"], level["row_window"], src["row_window"]),
                                              (1, level["lw"], level["col_window"], src["col_window"])):
            ratio = (src["lh"] if axis == 0 else src["lw"]) // count
            for i in range(count):
                a, b = windows[src_first + i * ratio], windows[src_first + i * ratio + ratio - 1]
                if windows[first + i] != (a[0], b[1]):
                    derive = False
    for l, level in enumerate(plan["levels"]):
        if any(m["source"] == l for m in plan["levels"]):  # a source: no empty window
            for i in range(level["lh"]):
                rw = windows[level["row_window"] + i]
                derive = derive and rw[1] > rw[0]
            for j in range(level["lw"]):
                cw = windows[level["col_window"] + j]
                derive = derive and cw[1] > cw[0]
    return windows, derive


def warp(plan, windows, derive, pixel):
    """One warp's staging buffer for one (roi, slice); pixel(y, x, c) is channel c of the staged map."""
    kc, k = plan["per_word"], plan["tile"]
    stage = [None] * (16 * kc * plan["total_bins"])
    low = (LOWEST,) * kc

    def wmax(a, b):
        return tuple(max(u, v) for u, v in zip(a, b))

    def stage_pair(level, b, v0, v1, both):  # v0, v1: the 32 lanes' words of bins b and b + 1
        bins = level["lh"] * level["lw"]
        for lane in range(32):
            word, half = lane % 16, lane // 16
            if half == 0 or both:
                value = v0[lane] if half == 0 else v1[lane]
                for h in range(kc):
                    stage[level["stage_offset"] + kc * word * bins + h * bins + b + half] = value[h]

    def columns(level):
        first, last, empty, pairs = [0] * k, [0] * k, [False] * k, 0
        for j in range(k):
            cw = windows[level["col_window"] + (j if j < level["lw"] else 0)]
            some = j < level["lw"] and cw[1] > cw[0]
            first[j], last[j] = (cw[0], cw[1] - 1) if some else (0, 0)
            empty[j] = not some
            pairs = max(pairs, (cw[1] - cw[0] + 1) // 2 if some else 0)
        return first, last, empty, pairs

    def scan_rows(cols, lw, rw, a):  # a[lane][j]
        first, last, _, pairs = cols
        for lane in range(32):
            word, half = lane % 16, lane // 16
            for y in range(rw[0], rw[1]):
                for j in range(min(lw, k)):
                    for m in range(max(pairs, 1)):
                        x = min(first[j] + half + 2 * m, last[j])
                        a[lane][j] = wmax(a[lane][j], tuple(pixel(y, x, kc * word + h) for h in range(kc)))

    def halves(a):
        return [[wmax(a[lane][j], a[lane ^ 16][j]) for j in range(k)] for lane in range(32)]

    if derive:
        fine = plan["levels"][plan["finest"]]
        cols = columns(fine)
        acc = [[[low] * k for _ in range(32)] for _ in range(k)]  # acc[i][lane][j]
        for i in range(min(fine["lh"], k)):
            scan_rows(cols, fine["lw"], windows[fine["row_window"] + i], acc[i])
        acc = [halves(acc[i]) for i in range(k)]
        at = lambda i, j: [acc[i][lane][j] for lane in range(32)]
        for i in range(k):
            for j in range(0, k, 2):
                if i < fine["lh"] and j < fine["lw"]:
                    stage_pair(fine, i * fine["lw"] + j, at(i, j), at(i, min(j + 1, k - 1)), j + 1 < fine["lw"])
        for level in plan["levels"]:
            rg, cg = level["row_group"], level["col_group"]
            if rg == 0:
                continue
            # the kernel's dispatch, in its order: 2x2, 3x3 (3 | K), 4x4 (4 | K), the 1x1 level over the whole tile
            unrolled = (rg, cg) == (2, 2) or ((rg, cg) == (3, 3) and k % 3 == 0) or ((rg, cg) == (4, 4) and k % 4 == 0)
            if not unrolled and rg == fine["lh"] and cg == fine["lw"] and level["lh"] == 1 and level["lw"] == 1:
                unrolled, rg, cg = True, k, k
            if unrolled:
                for p in range(k // rg):
                    v = []
                    for q in range(k // cg):
                        cell = [acc[p * rg][lane][q * cg] for lane in range(32)]
                        for a in range(rg):
                            for c in range(cg):
                                if a + c > 0:
                                    cell = [wmax(cell[lane], acc[p * rg + a][lane][q * cg + c]) for lane in range(32)]
                        v.append(cell)
                    v.append(v[0])
                    for q in range(0, k // cg, 2):
                        if p < level["lh"] and q < level["lw"]:
                            stage_pair(level, p * level["lw"] + q, v[q], v[q + 1], q + 1 < level["lw"])
            else:  # row by row: a row bin closes every rg rows of F, a column bin every cg columns
                run = [[low] * k for _ in range(32)]
                left, bin_row = rg, 0
                for i in range(min(fine["lh"], k)):
                    run = [[wmax(run[lane][j], acc[i][lane][j]) for j in range(k)] for lane in range(32)]
                    left -= 1
                    if left == 0:
                        v, cols_left, bin_col = [low] * 32, cg, 0
                        for j in range(k):
                            if j < fine["lw"]:
                                v = [wmax(v[lane], run[lane][j]) for lane in range(32)]
                                cols_left -= 1
                                if cols_left == 0:
                                    stage_pair(level, bin_row * level["lw"] + bin_col, v, v, False)
                                    v, cols_left, bin_col = [low] * 32, cg, bin_col + 1
                        run = [[low] * k for _ in range(32)]
                        left, bin_row = rg, bin_row + 1
    else:
        for level in plan["levels"]:
            cols = columns(level)
            for i in range(level["lh"]):
                rw = windows[level["row_window"] + i]
                a = [[low] * k for _ in range(32)]
                scan_rows(cols, level["lw"], rw, a)
                both = halves(a)
                a = [[(0.0,) * kc if rw[1] <= rw[0] or cols[2][j] else both[lane][j] for j in range(k)]
                     for lane in range(32)]
                for j in range(0, k, 2):
                    if j < level["lw"]:
                        stage_pair(level, i * level["lw"] + j, [a[lane][j] for lane in range(32)],
                                   [a[lane][min(j + 1, k - 1)] for lane in range(32)], j + 1 < level["lw"])
    return stage


def check(levels, h, w, c, rois, rng, scale, per_word=1):
    plan = plan_rows(levels, per_word)
    if plan is None:
        return 0, 0, 0
    features = [[[rng.gauss(0.0, 2.0) for _ in range(w)] for _ in range(h)] for _ in range(c)]
    total = plan["total_bins"]
    bad = derived = 0
    for x1, y1, x2, y2 in rois:
        start_w, start_h = corner(x1, scale), corner(y1, scale)
        box = (start_h, start_w, max(corner(y2, scale) - start_h + 1, 1), max(corner(x2, scale) - start_w + 1, 1))
        windows, derive = table_row(plan, levels, box, h, w)
        derived += derive
        out = [None] * (c * total)
        slice_channels = 16 * per_word
        for c0 in range(0, c, slice_channels):
            valid = min(slice_channels, c - c0)
            stage = warp(plan, windows, derive,
                         lambda y, x, ch: features[c0 + ch][y][x] if c0 + ch < c else 0.0)
            for level in plan["levels"]:
                bins = level["lh"] * level["lw"]
                for idx in range(valid * bins):
                    out[c * level["bins_before"] + c0 * bins + idx] = stage[level["stage_offset"] + idx]
        first = 0
        for lh, lw in levels:
            for ch in range(c):
                for by in range(lh):
                    for bx in range(lw):
                        rw = bin_window(box[0], box[2], by, lh, h)
                        cw = bin_window(box[1], box[3], bx, lw, w)
                        cells = [features[ch][y][x] for y in range(*rw) for x in range(*cw)]
                        want = max(cells) if cells else 0.0
                        bad += out[first + (ch * lh + by) * lw + bx] != want
            first += c * lh * lw
    return len(rois), derived, bad


def main():
    rng = random.Random(23)
    cases = [
        ("{1,2,3,6}, roi-bench proposals", [(1, 1), (2, 2), (3, 3), (6, 6)], 38, 63, 16, "bench"),
        ("{1,2,3,6}, C = 37 (partial slice)", [(1, 1), (2, 2), (3, 3), (6, 6)], 13, 17, 37, "random"),
        ("{1,2,4}", [(1, 1), (2, 2), (4, 4)], 24, 24, 16, "random"),
        ("{1,7} (57-row rois do not nest)", [(1, 1), (7, 7)], 60, 20, 16, "tall"),
        ("{1x1, 2x3, 4x6}", [(1, 1), (2, 3), (4, 6)], 11, 19, 16, "random"),
        ("MaxRoiPool 7x7 (nothing derived)", [(7, 7)], 38, 63, 16, "bench"),
        ("{1,2,3,6}, fp16/bf16 packing, C = 37 (32 + 5)", [(1, 1), (2, 2), (3, 3), (6, 6)], 38, 63, 37, "bench2"),
        ("{1x1, 2x3, 4x6}, fp16/bf16 packing, C = 64", [(1, 1), (2, 3), (4, 6)], 11, 19, 64, "random2"),
        ("{1,7}, fp16/bf16 packing", [(1, 1), (7, 7)], 60, 20, 32, "tall2"),
        ("{4x8, 2x4, 1x2} (K = 8, 2x2 groups)", [(4, 8), (2, 4), (1, 2)], 20, 30, 16, "random"),
        ("{6, 2x3, 3x2} (row-by-row derivation)", [(6, 6), (2, 3), (3, 2)], 38, 63, 16, "bench"),
        ("{5,4,3,2} (not eligible)", [(5, 5), (4, 4), (3, 3), (2, 2)], 13, 17, 16, "random"),
    ]
    failed = False
    for name, levels, h, w, c, kind in cases:
        per_word = 2 if kind.endswith("2") else 1  # channels per 32-bit word: 2 for fp16/bf16
        kind = kind.rstrip("2")
        rois = []
        for _ in range(60):
            if kind == "bench":  # roi-bench's generator: a 600 x 1008 image at stride 16
                x1, y1 = rng.uniform(0, 1008), rng.uniform(0, 600)
                rois.append((x1, y1, min(x1 + rng.uniform(16, 400), 1007), min(y1 + rng.uniform(16, 400), 599)))
            elif kind == "tall":
                rois.append((0, rng.choice([0, 1, 2]), 19, rng.choice([56, 57, 58, 59])))
            else:  # partly outside the map too: clipped and empty windows, the direct schedule
                x1, y1 = rng.uniform(-4, w + 2), rng.uniform(-4, h + 2)
                rois.append((x1, y1, x1 + rng.uniform(0, w), y1 + rng.uniform(0, h)))
        count, derived, bad = check(levels, h, w, c, rois, rng, 1.0 / 16.0 if kind == "bench" else 1.0, per_word)
        if count == 0:
            print(f"{name}: not planned for the rows kernel")
            continue
        print(f"{name}: {count} rois ({derived} derived, {count - derived} read level by level), "
              f"{bad} mismatches")
        failed = failed or bad > 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
