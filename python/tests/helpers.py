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
