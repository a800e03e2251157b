#!/usr/bin/env python3
"""Lane-level CPU model of the rows ROI kernel (src/cuda/roi_slice_rows.cuh), for its index arithmetic.

No GPU needed. It mirrors planSliceRows (which levels are derived from the finest one F, their row and column groups,
the `owners` encoding, staging and output offsets) and one warp's work per (roi, channel slice): lane quad j scans
column bin j of F (lane t of the quad: 16 bytes of each pixel, channels 4kt .. 4kt + 4k - 1 with k channels per
32-bit word: 1 for fp32, 2 for fp16/bf16, whose slices hold 32 channels), the derived levels fold F's row results
in-lane and their column groups with shfl_down semantics (a lane past 31 reads its own value), results are staged in
output order and copied out per level. Rois whose windows do not nest scan every level. Each output is compared with a
plain max over the roi's windows (the RoIPool rule in fp32, empty window -> 0), for several pyramids, map sizes and
random rois, roi-bench's proposals among them. It checks the model of the indexing, not the CUDA code: only a GPU
run of the tests does that (tests/test_roi_cuda.cpp).

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
                     bins_before=bins, row_group=0, col_group=0, owners=0, source=source[l])
        if finest >= 0 and l != finest:
            fh, fw = levels[finest]
            level["row_group"], level["col_group"] = fh // lh, fw // lw
            for j in range(0, fw, level["col_group"]):
                level["owners"] |= (1 << j) | (j // level["col_group"]) << (8 + 3 * j)
        plan.append(level)
        r, c, bins = r + lh, c + lw, bins + lh * lw
    return dict(levels=plan, finest=finest, total_bins=bins, per_word=per_word)


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
    kc = plan["per_word"]
    stage = [None] * (16 * kc * plan["total_bins"])

    def stage_bin(level, b, lane, values):
        bins = level["lh"] * level["lw"]
        t = lane % 4  # word e of the lane's 16 bytes, its channel h: channel 4 * kc * t + kc * e + h
        for i in range(4 * kc):
            stage[level["stage_offset"] + (4 * kc * t + i) * bins + b] = values[i]

    def scan(level, keep):
        acc = [[None] * 32 for _ in range(level["lh"])]
        for lane in range(32):
            j, t = lane // 4, lane % 4
            owner = j < level["lw"]
            cw = windows[level["col_window"] + (j if owner else 0)]
            cols = cw[1] - cw[0] if owner and cw[1] > cw[0] else 0
            for i in range(level["lh"]):
                rw = windows[level["row_window"] + i]
                a = [LOWEST] * (4 * kc)
                for y in range(rw[0], rw[1]):
                    for x in range(cw[0], cw[0] + cols):
                        a = [max(a[i], pixel(y, x, 4 * kc * t + i)) for i in range(4 * kc)]
                if keep:
                    acc[i][lane] = a
                elif owner:
                    stage_bin(level, i * level["lw"] + j, lane, a if rw[1] > rw[0] and cols > 0 else [0.0] * (4 * kc))
        return acc

    if derive:
        fine = plan["levels"][plan["finest"]]
        acc = scan(fine, True)
        for i in range(fine["lh"]):
            for lane in range(32):
                if lane // 4 < fine["lw"]:
                    stage_bin(fine, i * fine["lw"] + lane // 4, lane, acc[i][lane])
        for level in plan["levels"]:
            if level["row_group"] == 0:
                continue
            run = [[LOWEST] * (4 * kc) for _ in range(32)]
            left, bin_row = level["row_group"], 0
            for m in range(fine["lh"]):
                run = [[max(run[lane][i], acc[m][lane][i]) for i in range(4 * kc)] for lane in range(32)]
                left -= 1
                if left == 0:
                    for lane in range(32):
                        j = lane // 4
                        v = run[lane]
                        for d in range(1, level["col_group"]):
                            other = run[lane + 4 * d] if lane + 4 * d < 32 else run[lane]  # shfl_down
                            v = [max(v[i], other[i]) for i in range(4 * kc)]
                        if (level["owners"] >> j) & 1:
                            column = (level["owners"] >> (8 + 3 * j)) & 7
                            stage_bin(level, bin_row * level["lw"] + column, lane, v)
                    run = [[LOWEST] * (4 * kc) for _ in range(32)]
                    left, bin_row = level["row_group"], bin_row + 1
    else:
        for level in plan["levels"]:
            scan(level, False)
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
