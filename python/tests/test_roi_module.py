"""RoiSpatialPyramidPooling in eager PyTorch against docs/roi.md: an independent float64 loop implementation of the
rule (helpers.slow_roi_spp), torchvision.ops.roi_pool where torchvision is installed, gradients, validation messages,
and CUDA == CPU."""

import math
import random

import numpy as np
import pytest
import torch

import spp_trt
from spp_trt import RoiSpatialPyramidPooling, roi_spatial_pyramid_pool
from spp_trt.roi_functional import torchvision_roi_pool

from helpers import cuda_or_skip, round_half_even, slow_roi_spp, torchvision_or_skip

SCALE_MSG = ("spatial_scale = {} is invalid; it must be a finite number > 0 (image -> feature coordinates, e.g. "
             "0.0625 for a stride-16 feature map)")


def edge_rois(n, h, w, scale, count, seed):
    """[count, 5] fp32 rois in image coordinates (multiples of 0.25) with every edge case of docs/roi.md mixed in:
    inside, over the border, outside the map, degenerate (x2 < x1), whole map, corners exactly on .5 after
    scaling (where half away from zero and half to even differ), batch index out of range / fractional, NaN, inf,
    huge coordinates (clamped to +-2^40 cells) and an fp32 product that overflows."""
    rng = random.Random(seed)
    ih, iw = h / scale, w / scale
    rows = []
    for i in range(count):
        b = float(rng.randrange(n))
        x1, y1 = rng.uniform(-2, iw), rng.uniform(-2, ih)
        x2, y2 = x1 + rng.uniform(0, iw * 0.7), y1 + rng.uniform(0, ih * 0.7)
        kind = i % 16
        if kind == 1:
            x1, y2 = -rng.uniform(0, iw / 2), ih * 1.5  # over the border
        elif kind == 2:
            x1, x2 = x1 + 2 * iw, x2 + 2 * iw  # right of the map
        elif kind == 3:
            y1, y2 = -3 * ih, -2 * ih  # above the map
        elif kind == 4:
            x1, x2 = x2, x1  # degenerate: becomes 1 cell wide
        elif kind == 5:
            x1, y1, x2, y2 = 0.0, 0.0, iw, ih  # whole map
        elif kind in (6, 7):
            # every corner exactly on .5 after scaling (x1 possibly negative)
            def half(m):
                return (m + 0.5) / scale

            x1 = -half(rng.randrange(2)) if kind == 6 else half(rng.randrange(w))
            y1 = half(rng.randrange(max(h // 2, 1)))
            x2 = half(rng.randrange(w))
            y2 = half(rng.randrange(h))
        elif kind == 8:
            b = float(n)  # batch index == N: invalid
        elif kind == 9:
            b = -1.0  # invalid
        elif kind == 10:
            b = rng.choice([-0.75, n - 0.25])  # truncates into [0, N): valid
        elif kind == 11:
            x2 = math.nan
        elif kind == 12:
            y1 = -math.inf
        elif kind == 13:
            b = math.nan
        elif kind == 14:
            x1, x2 = -1e30, 1e30  # huge, finite: clamped to +-2^40 cells
        elif kind == 15:
            y2 = 3e38  # finite, but y2 * scale may overflow fp32 when scale > 1
        rows.append([b] + [round(v * 4) / 4 if math.isfinite(v) and abs(v) < 1e6 else v for v in (x1, y1, x2, y2)])
    return torch.tensor(rows, dtype=torch.float32)


def _features(shape, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * 3 + 0.5).to(dtype)


def _valid(rois, n):
    ok = torch.isfinite(rois).all(1) & (rois[:, 0] > -1) & (rois[:, 0] < n)
    return ok if n > 0 else torch.zeros_like(ok)


def _truncated_batch(rois):
    """docs/roi.md step 1 (batch index truncated toward zero), done before torchvision sees the rois: recent
    torchvision rejects an index in (-1, 0) instead of truncating it to 0."""
    return torch.cat([torch.trunc(rois[:, :1]), rois[:, 1:]], 1)


BACKENDS = ["auto", "pure"]


def _run(x, rois, levels, mode, scale, backend):
    return roi_spatial_pyramid_pool(x, rois, levels, mode, scale, use_torchvision=None if backend == "auto" else False)


CASES = [
    # (N, C, H, W, levels, scale)
    (2, 3, 9, 11, (1, 2, 3), 0.5),
    (1, 4, 13, 17, (1, 2, 4, 6), 0.25),
    (3, 2, 5, 7, (7,), 1.0),
    (2, 2, 6, 4, (2, 1, 5), 2.0),
    (1, 3, 38, 21, (1, 2, 3, 6), 1 / 16),
    (2, 2, 8, 8, (3,), 1 / 3),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}x{c[1]}x{c[2]}x{c[3]}-L{c[4]}-s{c[5]:.3g}" for c in CASES])
def test_module_matches_the_documented_rule(case, mode, backend):
    n, c, h, w, levels, scale = case
    x = _features((n, c, h, w), seed=h * 31 + w)
    rois = edge_rois(n, h, w, scale, 48, seed=h + w)
    m = RoiSpatialPyramidPooling(levels, mode, scale)
    y = m(x, rois) if backend == "auto" else _run(x, rois, levels, mode, scale, backend)
    assert y.shape == (rois.shape[0], m.output_features(c)) and y.dtype == torch.float32
    expected = torch.from_numpy(slow_roi_spp(x, rois, levels, mode, scale))
    if mode == "max":
        torch.testing.assert_close(y.double(), expected, rtol=0, atol=0)
    else:
        torch.testing.assert_close(y.double(), expected, rtol=2e-6, atol=1e-6)
    valid = _valid(rois, n)
    assert bool((y[~valid] == 0).all()) and int((~valid).sum()) >= 6
    assert bool((y[valid] != 0).any())


def test_the_rule_tests_can_fail():
    """The rois above land on .5 corners where half away from zero (the rule) and half to even (torch.round) pick
    different windows, so a half-to-even implementation would be caught; and a one-ulp change is caught too."""
    n, c, h, w, levels, scale = CASES[0]
    x = _features((n, c, h, w), seed=h * 31 + w)
    rois = edge_rois(n, h, w, scale, 48, seed=h + w)
    y = RoiSpatialPyramidPooling(levels, "max", scale)(x, rois).double().numpy()
    wrong = slow_roi_spp(x, rois, levels, "max", scale, rounding=round_half_even)
    assert not np.array_equal(y, wrong)
    ya = RoiSpatialPyramidPooling(levels, "avg", scale)(x, rois).double().numpy()
    wrong = slow_roi_spp(x, rois, levels, "avg", scale, rounding=round_half_even)
    assert not np.allclose(ya, wrong, rtol=2e-6, atol=1e-6)
    nudged = y.copy()
    nudged[0, 0] = np.nextafter(np.float32(nudged[0, 0]), np.float32(np.inf))
    assert not np.array_equal(nudged, slow_roi_spp(x, rois, levels, "max", scale))


@pytest.mark.parametrize("scale", [0.5, 0.25, 1.0, 1 / 16, 1 / 3])
def test_max_equals_torchvision_roi_pool_per_level(scale):
    roi_pool = torchvision_or_skip()
    n, c, h, w = 2, 3, 19, 23
    levels = (1, 2, 3, 6, 7)
    x = _features((n, c, h, w), seed=7)
    rois = edge_rois(n, h, w, scale, 96, seed=11)
    valid = _valid(rois, n)
    ok_rois = _truncated_batch(rois[valid])
    expected = torch.cat([roi_pool(x, ok_rois, (L, L), scale).flatten(1) for L in levels], 1)
    for backend in BACKENDS:
        y = _run(x, rois, levels, "max", scale, backend)
        # rows whose corners torchvision cannot hold in C int (|x * s| >= 2^29) are undefined there; the rest match
        small = ((ok_rois[:, 1:] * scale).abs() < 2 ** 29).all(1)
        torch.testing.assert_close(y[valid][small], expected[small], rtol=0, atol=0)
        assert bool((y[~valid] == 0).all())


def test_torchvision_is_used_for_max_when_it_is_installed():
    if torchvision_roi_pool() is None:
        pytest.skip(f"torchvision is not importable: {spp_trt.roi_functional.torchvision_missing_reason()}")
    x = _features((1, 2, 6, 6), seed=1).requires_grad_(True)
    rois = torch.tensor([[0.0, 0, 0, 5, 5]])

    def autograd_nodes(y):
        names, stack = [], [y.grad_fn]
        while stack:
            fn = stack.pop()
            if fn is not None:
                names.append(type(fn).__name__)
                stack.extend(f for f, _ in fn.next_functions)
        return names

    # the pure-torch max reduces with amax; the torchvision path has no amax (its node's name varies by version)
    auto = autograd_nodes(RoiSpatialPyramidPooling((2,), "max", 1.0)(x, rois))
    pure = autograd_nodes(roi_spatial_pyramid_pool(x, rois, (2,), "max", 1.0, use_torchvision=False))
    assert any(n.startswith("Amax") for n in pure), pure
    assert not any(n.startswith("Amax") for n in auto), auto


def test_use_torchvision_true_without_torchvision_raises():
    if torchvision_roi_pool() is not None:
        pytest.skip("torchvision is installed here; the error only exists without it")
    with pytest.raises(RuntimeError, match="use_torchvision=True but torchvision is not usable"):
        roi_spatial_pyramid_pool(torch.ones(1, 1, 2, 2), torch.zeros(1, 5), (1,), "max", 1.0, use_torchvision=True)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_other_feature_types(dtype, mode):
    n, c, h, w, levels, scale = CASES[1]
    x = _features((n, c, h, w), seed=3, dtype=dtype)
    rois = edge_rois(n, h, w, scale, 40, seed=5).to(dtype if dtype != torch.float64 else torch.float32)
    y = RoiSpatialPyramidPooling(levels, mode, scale)(x, rois)
    assert y.dtype == dtype
    # the geometry is fp32 for every type (rois converted exactly); pooled over the features' own values
    expected = torch.from_numpy(slow_roi_spp(x, rois.float(), levels, mode, scale))
    if mode == "max" or dtype == torch.float64:
        torch.testing.assert_close(y.double(), expected.to(dtype).double(), rtol=0 if mode == "max" else 1e-12,
                                   atol=0 if mode == "max" else 1e-12)
    else:
        # the float64 mean rounded once to the type
        torch.testing.assert_close(y, expected.to(dtype), rtol=0, atol=0)


def test_non_finite_features_in_the_pure_path():
    """docs/roi.md step 6: max keeps NaN and -inf; avg is NaN / +-inf exactly where the bin's sum is. Bins without a
    non-finite cell are unaffected (the summed-area tables leave those cells out)."""
    x = _features((1, 2, 7, 9), seed=9)
    x[0, 0, 2, 3] = math.nan
    x[0, 1, 5, 1] = math.inf
    x[0, 1, 5, 7] = -math.inf
    x[0, 0, 6, 0:3] = -math.inf
    rois = torch.tensor([[0, 0, 0, 8, 6], [0, 2, 1, 4, 3], [0, 0, 5, 8, 6], [0, 0, 6, 2, 6], [0, 5, 0, 8, 3]],
                        dtype=torch.float32)
    levels = (1, 2, 3)
    for mode in ("max", "avg"):
        y = _run(x, rois, levels, mode, 1.0, "pure").double().numpy()
        expected = slow_roi_spp(x, rois, levels, mode, 1.0)
        np.testing.assert_allclose(y, expected, rtol=2e-6, atol=1e-6, equal_nan=True)
        assert np.isnan(y).any() and np.isfinite(y).any()
    y = _run(x, rois, (1,), "max", 1.0, "pure")
    assert float(y[3, 0]) == -math.inf  # a bin of -inf cells stays -inf


def test_empty_and_out_of_range_batches():
    m = RoiSpatialPyramidPooling((1, 2), "avg", 0.5)
    x = _features((2, 3, 5, 6), seed=2)
    y = m(x, torch.zeros(0, 5))
    assert y.shape == (0, 15)
    rois = torch.tensor([[-0.5, 0, 0, 4, 4], [0, 1, 1, 3, 3]])
    for mode in ("max", "avg"):
        for backend in BACKENDS:
            # N = 0: every roi is out of range (even -0.5, which truncates to 0 but 0 is not in [0, 0))
            y0 = _run(x[:0], rois, (1, 2), mode, 0.5, backend)
            assert y0.shape == (2, 15) and bool((y0 == 0).all())
            # H = 0: every bin is empty
            yh = _run(x[:, :, :0], rois, (1, 2), mode, 0.5, backend)
            assert yh.shape == (2, 15) and bool((yh == 0).all())


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_gradcheck_float64_pure_path(mode):
    n, c, h, w, levels, scale = 2, 2, 5, 6, (1, 2, 3), 0.5
    x = _features((n, c, h, w), seed=21, dtype=torch.float64).requires_grad_(True)
    rois = edge_rois(n, h, w, scale, 16, seed=4)
    m = RoiSpatialPyramidPooling(levels, mode, scale)
    assert torch.autograd.gradcheck(lambda t: m(t, rois), (x,))
    y = m(x, rois)
    y.sum().backward()
    assert x.grad.abs().sum() > 0


def test_avg_gradient_is_the_mean_weights():
    """Each bin passes 1/count to every cell of its clipped window; invalid rows pass nothing."""
    x = torch.zeros(1, 1, 4, 5, dtype=torch.float64, requires_grad=True)
    rois = torch.tensor([[0, 1, 1, 3, 2], [1, 0, 0, 4, 3], [0, math.nan, 0, 1, 1]])
    y = RoiSpatialPyramidPooling((1,), "avg", 1.0)(x, rois)
    y.sum().backward()
    expected = torch.zeros(1, 1, 4, 5, dtype=torch.float64)
    expected[0, 0, 1:3, 1:4] = 1 / 6
    torch.testing.assert_close(x.grad, expected)


def test_max_gradient_matches_torchvision():
    roi_pool = torchvision_or_skip()
    n, c, h, w, levels, scale = 2, 3, 11, 13, (1, 2, 4), 0.5
    x = _features((n, c, h, w), seed=31)
    rois = edge_rois(n, h, w, scale, 40, seed=8)
    valid = _valid(rois, n)
    small = ((rois[:, 1:] * scale).abs() < 2 ** 29).all(1) & valid
    rois = _truncated_batch(rois)
    xa = x.clone().requires_grad_(True)
    xb = x.clone().requires_grad_(True)
    xc = x.clone().requires_grad_(True)
    ya = RoiSpatialPyramidPooling(levels, "max", scale)(xa, rois[small])
    yb = torch.cat([roi_pool(xb, rois[small], (L, L), scale).flatten(1) for L in levels], 1)
    yc = _run(xc, rois[small], levels, "max", scale, "pure")
    g = torch.randn(ya.shape, generator=torch.Generator().manual_seed(1))
    (ya * g).sum().backward()
    (yb * g).sum().backward()
    (yc * g).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=0, atol=0)
    # the pure path (amax) routes the same gradient as long as each bin's max is unique (random features)
    torch.testing.assert_close(xc.grad, xb.grad, rtol=1e-6, atol=1e-6)
    assert xa.grad.abs().sum() > 0


def test_rois_get_no_gradient_and_invalid_rows_pass_none():
    x = _features((1, 2, 6, 6), seed=4).requires_grad_(True)
    rois = torch.tensor([[0.0, 0, 0, 5, 5], [3, 0, 0, 5, 5]], requires_grad=True)
    for mode in ("max", "avg"):
        y = RoiSpatialPyramidPooling((1, 2), mode, 1.0)(x, rois)
        (gx,) = torch.autograd.grad(y[1].sum(), x, allow_unused=True, retain_graph=True)
        assert gx is None or bool((gx == 0).all())
        (gx,) = torch.autograd.grad(y[0].sum(), x)
        assert gx.abs().sum() > 0


# ----------------------------------------------------------------------------------------------------------------
# construction


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(levels=[]), "levels must not be empty; give 1 to 16 pyramid levels, e.g. [1, 2, 4]"),
        (dict(levels=[1, 0]), "levels[1] = 0 is out of range; each level must be in [1, 256]"),
        (dict(levels=[257]), "levels[0] = 257 is out of range; each level must be in [1, 256]"),
        (dict(levels=[1] * 17), "levels has 17 entries; at most 16 pyramid levels are allowed"),
        (dict(pool_mode="sum"), "pool_mode 'sum' is not supported; allowed: 'max', 'avg'"),
        (dict(pool_mode="MAX"), "pool_mode 'MAX' is not supported; allowed: 'max', 'avg'"),
        (dict(spatial_scale=0.0), SCALE_MSG.format("0")),
        (dict(spatial_scale=-0.0625), SCALE_MSG.format("-0.0625")),
        (dict(spatial_scale=math.nan), SCALE_MSG.format("nan")),
        (dict(spatial_scale=math.inf), SCALE_MSG.format("inf")),
        (dict(spatial_scale=-math.inf), SCALE_MSG.format("-inf")),
        (dict(spatial_scale=1e-50), SCALE_MSG.format("0")),  # 0 in fp32, which the plugin reads
        (dict(spatial_scale=1e39), SCALE_MSG.format("inf")),  # beyond fp32
        (dict(levels=[0], pool_mode="sum", spatial_scale=0), "levels[0] = 0 is out of range; each level must be "
                                                             "in [1, 256]"),  # levels first, as the core
        (dict(pool_mode="sum", spatial_scale=0), "pool_mode 'sum' is not supported; allowed: 'max', 'avg'"),
    ],
)
def test_bad_arguments_raise_the_core_messages(kwargs, message):
    with pytest.raises(ValueError) as info:
        RoiSpatialPyramidPooling(**kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("kwargs", [dict(levels=[1.5]), dict(levels="12"), dict(spatial_scale="1"),
                                    dict(spatial_scale=True), dict(spatial_scale=None)])
def test_bad_argument_types_raise_type_error(kwargs):
    with pytest.raises(TypeError):
        RoiSpatialPyramidPooling(**kwargs)


def test_bad_inputs():
    m = RoiSpatialPyramidPooling((1, 2))
    with pytest.raises(ValueError, match=r"expected 4-D features \[N, C, H, W\]"):
        m(torch.ones(2, 3, 4), torch.zeros(1, 5))
    with pytest.raises(ValueError, match=r"expected rois \[K, 5\]"):
        m(torch.ones(1, 2, 3, 4), torch.zeros(1, 4))
    with pytest.raises(TypeError, match="floating-point"):
        m(torch.ones(1, 2, 3, 4, dtype=torch.int32), torch.zeros(1, 5))


def test_module_attributes_and_repr():
    m = RoiSpatialPyramidPooling([1, 2, 4], "avg", 1 / 16)
    assert m.levels == (1, 2, 4) and m.pool_mode == "avg" and m.spatial_scale == 0.0625
    assert m.bins_per_channel == 21 and m.output_features(256) == 5376
    assert repr(m) == "RoiSpatialPyramidPooling(levels=[1, 2, 4], pool_mode='avg', spatial_scale=0.0625)"
    assert RoiSpatialPyramidPooling().levels == (1, 2, 4)
    assert spp_trt.ROI_PLUGIN_NAME == "RoiSpatialPyramidPooling" and spp_trt.MAX_ROI_POOL_NAME == "MaxRoiPool"


# ----------------------------------------------------------------------------------------------------------------
# devices


@pytest.mark.cuda
@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_cuda_matches_cpu(mode, backend):
    cuda_or_skip()
    n, c, h, w, levels, scale = CASES[4]
    x = _features((n, c, h, w), seed=17)
    rois = edge_rois(n, h, w, scale, 64, seed=23)
    y_cpu = _run(x, rois, levels, mode, scale, backend)
    xg = x.cuda().requires_grad_(True)
    y_gpu = _run(xg, rois.cuda(), levels, mode, scale, backend)
    assert y_gpu.device.type == "cuda"
    if mode == "max":
        torch.testing.assert_close(y_gpu.cpu(), y_cpu, rtol=0, atol=0)
    else:
        torch.testing.assert_close(y_gpu.cpu(), y_cpu, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(y_gpu.double().cpu(), torch.from_numpy(slow_roi_spp(x, rois, levels, mode, scale)),
                               rtol=0 if mode == "max" else 2e-6, atol=0 if mode == "max" else 1e-6)
    y_gpu.sum().backward()
    xc = x.clone().requires_grad_(True)
    _run(xc, rois, levels, mode, scale, backend).sum().backward()
    torch.testing.assert_close(xg.grad.cpu(), xc.grad, rtol=1e-5, atol=1e-5)
    # rois on the CPU with CUDA features work too (moved to the features' device)
    torch.testing.assert_close(_run(x.cuda(), rois, levels, mode, scale, backend).cpu(), y_cpu, rtol=1e-6,
                               atol=1e-6)
