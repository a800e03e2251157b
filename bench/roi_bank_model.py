#!/usr/bin/env python3
"""Shared-memory bank model of the fp32 max *slices* ROI kernel (src/cuda/roi_slices.cuh) on roi-bench's case.

No GPU needed. It counts the shared-memory wavefronts of two parts of one (roi, 16-channel slice), the way the
hardware splits requests (32 banks of 4 bytes; a 16-byte-per-lane access is served 8 lanes at a time):
  1. the output gather: 32 lanes read one 4-byte word each per load, 4 loads per 16-byte output vector, with the
     staging layout of sliceBinChunk (bin-major, 64 bytes a bin) and levels {1, 2, 3, 6};
  2. the row scan's map loads (SPP_ROI_ROWS): lane quad j reads 16 bytes of each 64-byte pixel of column bin j;
     the two quads of an 8-lane phase conflict when their pixels have the same parity. Counted for roi-bench's
     proposals (same generator and RoIPool window rule), rows in order and with SPP_ROI_ROWS_ROTATE.
Nsight Compute (session 22, H100, the default) measured 56 gather wavefronts per (roi, slice) for 28 loads; part 1
must reproduce that number.

    python3 bench/roi_bank_model.py
"""
import math
import random

LEVELS = [1, 2, 3, 6]
CHANNELS = 16  # one slice: 16 fp32 channels, 64 bytes a pixel or a staged bin
H, W, SCALE = 38, 63, 1.0 / 16.0


def bin_chunk(bin_bytes, q):
    """Byte offset of 16-byte chunk q of the bin at bin_bytes (sliceBinChunk)."""
    return (bin_bytes ^ ((bin_bytes >> 2) & 64)) + 16 * (q ^ ((bin_bytes >> 9) & 3))


def wavefronts_words(addresses):
    """4-byte loads of one warp: the most distinct words any one bank must serve."""
    banks = {}
    for a in addresses:
        banks.setdefault(a % 32, set()).add(a)
    return max(len(words) for words in banks.values())


def gather_model():
    offsets, first = [], 0
    for level in LEVELS:
        offsets.append(first)
        first += level * level
    vectors = []  # per 16-byte output vector: its 4 (bin, channel), in output order [channel][bin] per level
    for level, offset in zip(LEVELS, offsets):
        bins = level * level
        for j in range(CHANNELS * bins // 4):
            vectors.append([(offset + (4 * j + e) % bins, (4 * j + e) // bins) for e in range(4)])
    total = loads = 0
    for start in range(0, len(vectors), 32):  # lane i of an iteration takes vector start + i
        lanes = vectors[start:start + 32]
        for e in range(4):
            words = [bin_chunk(b * 64, c >> 2) // 4 + (c & 3) for b, c in (lane[e] for lane in lanes)]
            total += wavefronts_words(words)
            loads += 1
    return total, loads


def c_round(v):
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def windows(start, end, bins, limit):
    """RoIPool's windows along one axis (torchvision roi_pool), clipped to [0, limit]."""
    size = max(end - start + 1, 1) / bins
    return [(min(max(math.floor(p * size) + start, 0), limit), min(max(math.ceil((p + 1) * size) + start, 0), limit))
            for p in range(bins)]


def row_scan_wavefronts(rows, cols, rotate):
    fine = len(cols)
    widest = max(b - a for a, b in cols)
    # SPP_ROI_ROWS_ROTATE: the odd quad of a phase starts one row later when its window starts on its partner's parity
    late = [q % 2 == 1 and ((cols[q][0] ^ cols[q - 1][0]) & 1) == 0 for q in range(fine)]
    total = 0
    for first, end in rows:
        n = end - first
        for step in range(n):
            for x in range(widest):
                for phase in range(4):
                    pixels = []
                    for q in (2 * phase, 2 * phase + 1):
                        if q < fine and x < cols[q][1] - cols[q][0]:
                            y = (first + 1 + step if step < n - 1 else first) if rotate and late[q] else first + step
                            pixels.append(y * W + cols[q][0] + x)
                    if pixels:
                        total += 2 if len(pixels) == 2 and pixels[0] % 2 == pixels[1] % 2 else 1
    return total


def row_scan_model(k=2000, seed=7):
    rng = random.Random(seed)
    fine = max(LEVELS)
    sums = [0, 0]
    rois = 0
    for _ in range(k):  # bench/roi_bench.cu proposals(): x1, y1 uniform, sides uniform in [16, 400] px, clipped
        x1, y1 = rng.uniform(0, 1008), rng.uniform(0, 600)
        x2, y2 = min(x1 + rng.uniform(16, 400), 1007), min(y1 + rng.uniform(16, 400), 599)
        cols = windows(c_round(x1 * SCALE), c_round(x2 * SCALE), fine, W)
        rows = windows(c_round(y1 * SCALE), c_round(y2 * SCALE), fine, H)
        if any(b <= a for a, b in cols + rows) or max(b - a for a, b in cols) > 6:
            continue  # the row scan runs only for rois without empty bins and windows of at most 6 columns
        rois += 1
        for i, rotate in enumerate((False, True)):
            sums[i] += row_scan_wavefronts(rows, cols, rotate)
    return rois, sums[0] / rois, sums[1] / rois


def main():
    total, loads = gather_model()
    print(f"output gather, levels {LEVELS}: {total} wavefronts for {loads} 4-byte loads per (roi, slice)")
    rois, in_order, rotated = row_scan_model()
    print(f"row scan map loads, {rois} roi-bench rois: {in_order:.1f} wavefronts per (roi, slice) in row order, "
          f"{rotated:.1f} with SPP_ROI_ROWS_ROTATE (W = {W})")


if __name__ == "__main__":
    main()
