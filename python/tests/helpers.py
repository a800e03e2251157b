"""Test helpers: an independent, slow, float64 implementation of the SPP contract (docs/spp.md), written from
the rule's text with plain loops (it does not use spp_trt), and availability checks that give skip reasons."""

import math
import os

import numpy as np
import torch


def bin_windows(size, level, rule):
    """[(start, end)] per bin along one axis, straight from the contract text."""
    out = []
    for i in range(level):
        if rule == "adaptive":
            start = math.floor(i * size / level)
            end = math.ceil((i + 1) * size / level)
        else:  # caffe
            k = math.ceil(size / level)
            pad = (k * level - size + 1) // 2
            start = i * k - pad
            end = start + k
            start, end = max(start, 0), min(end, size)
        out.append((start, end))
    return out


def slow_spp(x, levels, pool_mode, rule):
    """x: array-like [N, C, H, W] -> float64 numpy [N, C * sum(L^2)]."""
    a = np.asarray(x.detach().cpu().double() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
    n, c, h, w = a.shape
    cols = []
    for level in levels:
        hw = bin_windows(h, level, rule)
        ww = bin_windows(w, level, rule)
        block = np.zeros((n, c, level, level), dtype=np.float64)
        for b in range(n):
            for ch in range(c):
                for i, (h0, h1) in enumerate(hw):
                    for j, (w0, w1) in enumerate(ww):
                        if h1 <= h0 or w1 <= w0:
                            block[b, ch, i, j] = 0.0  # empty window (caffe, size < level)
                            continue
                        vals = [a[b, ch, y, z] for y in range(h0, h1) for z in range(w0, w1)]
                        if pool_mode == "max":
                            block[b, ch, i, j] = math.nan if any(math.isnan(v) for v in vals) else max(vals)
                        else:
                            if rule == "caffe":
                                k_h = math.ceil(h / level)
                                k_w = math.ceil(w / level)
                                divisor = k_h * k_w  # full window area, padding counted
                            else:
                                divisor = (h1 - h0) * (w1 - w0)
                            block[b, ch, i, j] = sum(vals) / divisor
        cols.append(block.reshape(n, c * level * level))
    return np.concatenate(cols, axis=1)


def onnxruntime_or_skip():
    import pytest

    try:
        import onnxruntime
    except Exception as exc:  # ImportError, or a wheel that does not load with this numpy
        pytest.skip(f"onnxruntime is not importable here ({exc.__class__.__name__}: {exc}); "
                    "the numerical ONNX checks run where it is installed")
    return onnxruntime


def dynamo_or_skip():
    import pytest

    import spp_trt

    ok, why = spp_trt.dynamo_available()
    if not ok:
        pytest.skip(f"dynamo ONNX exporter not available: {why}")


def cuda_or_skip():
    import pytest

    if not torch.cuda.is_available():
        pytest.skip(f"no CUDA device (torch {torch.__version__}, torch.cuda.is_available() is False)")


def repo_path(*parts):
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(os.path.dirname(here)), *parts)


# ----------------------------------------------------------------------------------------------------------------
# ROI spatial pyramid pooling (docs/roi.md), written from the rule's text with plain loops: fp32 geometry through
# numpy float32 scalars, float64 pooling. Independent of spp_trt.

ROI_COORD_LIMIT = float(2 ** 40)


def round_half_away(v):
    """C roundf: half away from zero. ``v`` holds an fp32 value, so |v| + 0.5 is exact in double."""
    return math.copysign(math.floor(abs(v) + 0.5), v)


def round_half_even(v):
    """torch.round / Python round (half to even): WRONG for docs/roi.md; used to show the tests can fail."""
    return float(round(v))


def roi_corner(value, scale, rounding=round_half_away):
    with np.errstate(over="ignore"):
        product = float(np.float32(value) * np.float32(scale))  # one fp32 multiplication (may overflow to inf)
    product = min(max(product, -ROI_COORD_LIMIT), ROI_COORD_LIMIT)
    return int(rounding(product))


def roi_windows(start, extent, bins, size):
    """[(lo, hi)] per bin: [floor(i*b) + start, ceil((i+1)*b) + start) with b = float(extent)/float(bins) in fp32,
    clipped to [0, size]."""
    b = np.float32(extent) / np.float32(bins)
    out = []
    for i in range(bins):
        lo = int(math.floor(float(np.float32(i) * b))) + start
        hi = int(math.ceil(float(np.float32(i + 1) * b))) + start
        out.append((min(max(lo, 0), size), min(max(hi, 0), size)))
    return out


def slow_roi_spp(x, rois, levels, pool_mode, scale, rounding=round_half_away):
    """features [N, C, H, W], rois [K, 5] -> float64 numpy [K, C * sum(L^2)], docs/roi.md steps 1-6 and the
    invalid-roi rule. Max keeps NaN; avg is the float64 mean of the clipped bin; an empty bin is 0."""
    a = np.asarray(x.detach().cpu().double() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
    r = np.asarray(rois.detach().cpu().float() if isinstance(rois, torch.Tensor) else rois, dtype=np.float32)
    n, c, h, w = a.shape
    out = np.zeros((r.shape[0], c * sum(L * L for L in levels)), dtype=np.float64)
    for k in range(r.shape[0]):
        row = [float(v) for v in r[k]]
        if not all(math.isfinite(v) for v in row) or not (-1.0 < row[0] < n):
            continue  # invalid: all zeros
        b = int(row[0])  # truncation toward zero
        if not 0 <= b < n:
            continue
        sw, sh, ew, eh = [roi_corner(v, scale, rounding) for v in row[1:]]
        width, height = max(ew - sw + 1, 1), max(eh - sh + 1, 1)
        col = 0
        for L in levels:
            hwins = roi_windows(sh, height, L, h)
            wwins = roi_windows(sw, width, L, w)
            for ch in range(c):
                for i, (y0, y1) in enumerate(hwins):
                    for j, (x0, x1) in enumerate(wwins):
                        value = 0.0
                        if y1 > y0 and x1 > x0:
                            vals = [float(a[b, ch, yy, xx]) for yy in range(y0, y1) for xx in range(x0, x1)]
                            if pool_mode == "max":
                                value = math.nan if any(math.isnan(v) for v in vals) else max(vals)
                            else:
                                value = math.fsum(vals) / len(vals) if all(map(math.isfinite, vals)) else \
                                    sum(vals) / len(vals)
                        out[k, col + (ch * L + i) * L + j] = value
            col += c * L * L
    return out


def torchvision_or_skip():
    import pytest

    try:
        import torchvision  # noqa: F401
        from torchvision.ops import roi_pool
    except Exception as exc:
        pytest.skip(f"torchvision is not importable here ({exc.__class__.__name__}: {exc}); "
                    "the torchvision comparisons run where it is installed")
    return roi_pool
