"""The module against PyTorch's adaptive pooling and against the slow loop implementation of the contract."""

import itertools
import math
import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from spp_trt import SpatialPyramidPooling, spatial_pyramid_pool, spatial_pyramid_pool_standard_ops

from helpers import cuda_or_skip, slow_spp

LEVEL_SETS = [(1,), (1, 2, 4), (2, 3, 6), (4, 1, 4), (1, 2, 3, 4, 5, 7)]
SIZES = [(1, 1), (1, 5), (2, 3), (3, 3), (5, 7), (7, 4), (8, 8), (13, 13), (13, 17), (6, 16)]


def _rand(*shape, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=g, dtype=dtype)
    # avoid exact zeros and ties
    return x + torch.sign(x) * 1e-3


@pytest.mark.parametrize("levels", LEVEL_SETS)
@pytest.mark.parametrize("pool_mode", ["max", "avg"])
@pytest.mark.parametrize("hw", SIZES)
def test_adaptive_equals_torch_adaptive_pooling(levels, pool_mode, hw):
    x = _rand(2, 3, *hw, seed=zlib.crc32(repr((levels, pool_mode, hw)).encode()) % 1000, dtype=torch.float32)
    pool = F.adaptive_max_pool2d if pool_mode == "max" else F.adaptive_avg_pool2d
    expected = torch.cat([pool(x, L).flatten(1) for L in levels], 1)
    out = SpatialPyramidPooling(levels, pool_mode, "adaptive")(x)
    assert out.shape == (2, 3 * sum(L * L for L in levels))
    assert out.dtype == x.dtype
    torch.testing.assert_close(out, expected, rtol=0, atol=0)


@pytest.mark.parametrize("levels", LEVEL_SETS)
@pytest.mark.parametrize("pool_mode", ["max", "avg"])
@pytest.mark.parametrize("rule", ["adaptive", "caffe"])
@pytest.mark.parametrize("hw", SIZES)
def test_matches_slow_loop_reference_float64(levels, pool_mode, rule, hw):
    x = _rand(2, 3, *hw, seed=7 + len(levels))
    out = SpatialPyramidPooling(levels, pool_mode, rule)(x)
    ref = torch.from_numpy(slow_spp(x, levels, pool_mode, rule))
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)


def test_caffe_known_values():
    # 1 x 1 x 3 x 3, level 2, caffe: k = 2, pad = (4 - 3 + 1) // 2 = 1 -> windows [-1, 1) -> [0, 1) and [1, 3)
    x = torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    mx = SpatialPyramidPooling([2], "max", "caffe")(x)
    assert mx.tolist() == [[1.0, 3.0, 7.0, 9.0]]
    av = SpatialPyramidPooling([2], "avg", "caffe")(x)
    # divisor is always k*k = 4 (padding counted)
    assert av.tolist() == [[1.0 / 4, (2 + 3) / 4, (4 + 7) / 4, (5 + 6 + 8 + 9) / 4]]
    # adaptive on the same input: windows [0, 2) and [1, 3), averaged over their own size
    ad = SpatialPyramidPooling([2], "avg", "adaptive")(x)
    assert ad.tolist() == [[(1 + 2 + 4 + 5) / 4, (2 + 3 + 5 + 6) / 4, (4 + 5 + 7 + 8) / 4, (5 + 6 + 8 + 9) / 4]]


def test_caffe_empty_bins_output_zero_for_max_and_avg():
    # H = W = 1 < L = 4: k = 1, pad = (4 - 1 + 1) // 2 = 2 -> only bin 2 (window [0, 1)) is non-empty per axis
    x = torch.full((1, 2, 1, 1), -5.0)
    for mode in ("max", "avg"):
        out = SpatialPyramidPooling([4], mode, "caffe")(x).reshape(1, 2, 4, 4)
        expected = torch.zeros(1, 2, 4, 4)
        expected[:, :, 2, 2] = -5.0
        torch.testing.assert_close(out, expected, rtol=0, atol=0)
    assert torch.isfinite(SpatialPyramidPooling([1, 3, 7], "max", "caffe")(torch.randn(2, 3, 2, 5))).all()


@pytest.mark.parametrize("pool_mode", ["max", "avg"])
def test_caffe_empty_bins_also_happen_when_size_is_at_least_the_level(pool_mode):
    # H = 5, L = 4: k = 2, pad = (8 - 5 + 1) // 2 = 2 -> row windows [-2, 0) (empty), [0, 2), [2, 4), [4, 6) -> [4, 5)
    x = -1.0 - torch.rand(1, 1, 5, 8, generator=torch.Generator().manual_seed(0))
    out = SpatialPyramidPooling([4], pool_mode, "caffe")(x).reshape(4, 4)
    assert (out[0] == 0).all(), "the empty first row of bins must be 0, not -inf / -FLT_MAX"
    assert (out[1:] < 0).all()
    # 13 x 13 with L = 6 (a classic SPP-net size): k = 3, pad = 3 -> bin 0 is empty along both axes
    y = SpatialPyramidPooling([6], pool_mode, "caffe")(-1.0 - torch.rand(1, 1, 13, 13)).reshape(6, 6)
    assert (y[0] == 0).all() and (y[:, 0] == 0).all() and (y[1:, 1:] < 0).all()


@pytest.mark.parametrize("rule", ["adaptive", "caffe"])
@pytest.mark.parametrize("pool_mode", ["max", "avg"])
def test_nan_propagates_and_stays_local(rule, pool_mode):
    x = _rand(1, 2, 9, 11, seed=3)
    x[0, 1, 4, 6] = float("nan")
    levels = (1, 2, 4)
    out = SpatialPyramidPooling(levels, pool_mode, rule)(x)
    ref = torch.from_numpy(slow_spp(x, levels, pool_mode, rule))
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert torch.isnan(out).any() and not torch.isnan(out).all()
    # channel 0 never sees the NaN
    c0 = torch.cat([o.reshape(1, 2, -1)[:, 0] for o in torch.split(out, [2 * L * L for L in levels], 1)], 1)
    assert not torch.isnan(c0).any()


@pytest.mark.parametrize("rule", ["adaptive", "caffe"])
def test_max_minus_inf_stays_minus_inf(rule):
    x = torch.full((1, 1, 4, 4), float("-inf"))
    x[0, 0, 0, 0] = 1.0
    out = SpatialPyramidPooling([1, 2], "max", rule)(x)
    assert out[0, 0].item() == 1.0
    assert torch.isinf(out[0, 2:]).all() and (out[0, 2:] < 0).all()


@pytest.mark.parametrize("pool_mode", ["max", "avg"])
@pytest.mark.parametrize("rule", ["adaptive", "caffe"])
@pytest.mark.parametrize("hw, levels", [((5, 6), (1, 2, 3)), ((2, 3), (1, 4)), ((7, 4), (2, 5))])
def test_gradcheck_float64(pool_mode, rule, hw, levels):
    x = _rand(1, 2, *hw, seed=11).requires_grad_(True)
    m = SpatialPyramidPooling(levels, pool_mode, rule)
    assert torch.autograd.gradcheck(m, (x,), eps=1e-6, atol=1e-6)
    m(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_gradient_flows_through_a_network():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), SpatialPyramidPooling((1, 2, 4), "max", "caffe"),
                              torch.nn.Linear(4 * 21, 3))
    for hw in [(9, 9), (16, 23)]:
        net.zero_grad()
        net(torch.randn(2, 3, *hw)).square().sum().backward()
        assert net[0].weight.grad.abs().sum() > 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_is_kept(dtype):
    out = SpatialPyramidPooling((1, 2), "avg", "caffe")(torch.randn(2, 3, 5, 5, dtype=dtype))
    assert out.dtype == dtype


def test_bad_inputs():
    m = SpatialPyramidPooling()
    with pytest.raises(ValueError, match="4-D"):
        m(torch.randn(3, 8, 8))
    with pytest.raises(TypeError):
        spatial_pyramid_pool([[1.0]], (1,), "max", "adaptive")


@pytest.mark.parametrize(
    "hw, levels, rule",
    [((8, 12), (1, 2, 4), "adaptive"), ((5, 9), (1, 2), "adaptive"), ((7, 10), (1, 2, 3), "caffe"),
     ((13, 13), (1, 2, 4), "caffe"), ((6, 6), (1, 2, 3, 6), "caffe")],
)
@pytest.mark.parametrize("pool_mode", ["max", "avg"])
def test_standard_ops_formulation_equals_reference(hw, levels, rule, pool_mode):
    x = _rand(2, 3, *hw, seed=5)
    a = spatial_pyramid_pool(x, levels, pool_mode, rule)
    b = spatial_pyramid_pool_standard_ops(x, levels, pool_mode, rule)
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "hw, levels, rule, fragment",
    [((7, 8), (1, 2, 4), "adaptive", "along H, adaptive bins of level 4 over size 7 are not uniform"),
     ((8, 6), (4,), "adaptive", "along W, adaptive bins of level 4 over size 6 are not uniform"),
     ((2, 8), (1, 4), "caffe", "along H, caffe level 4 over size 2 has empty bins")],
)
def test_standard_ops_formulation_rejects_non_uniform_bins(hw, levels, rule, fragment):
    with pytest.raises(ValueError) as info:
        spatial_pyramid_pool_standard_ops(torch.randn(1, 1, *hw), levels, "max", rule)
    assert fragment in str(info.value)
    assert "export_mode='plugin'" in str(info.value)


@pytest.mark.cuda
@pytest.mark.parametrize("pool_mode, rule", list(itertools.product(["max", "avg"], ["adaptive", "caffe"])))
def test_cuda_equals_cpu(pool_mode, rule):
    cuda_or_skip()
    torch.manual_seed(1)
    m = SpatialPyramidPooling((1, 2, 3, 4, 6), pool_mode, rule)
    for hw in [(1, 1), (3, 5), (13, 17), (32, 48), (64, 7)]:
        x = torch.randn(3, 5, *hw)
        xc = x.cuda().requires_grad_(True)
        y_cpu = m(x)
        y_gpu = m(xc)
        assert y_gpu.is_cuda
        torch.testing.assert_close(y_gpu.cpu(), y_cpu, rtol=1e-6, atol=1e-6)
        g = torch.randn_like(y_cpu)
        y_gpu.backward(g.cuda())
        xr = x.clone().requires_grad_(True)
        m(xr).backward(g)
        torch.testing.assert_close(xc.grad.cpu(), xr.grad, rtol=1e-5, atol=1e-5)


def test_slow_reference_is_not_trivial():
    # guard against a helper that would agree with anything: it must differ between rules and modes here
    x = _rand(1, 1, 5, 7, seed=2)
    a = slow_spp(x, (2, 3), "max", "adaptive")
    b = slow_spp(x, (2, 3), "max", "caffe")
    c = slow_spp(x, (2, 3), "avg", "caffe")
    assert not np.allclose(a, b) and not np.allclose(b, c)
    assert math.isclose(slow_spp(x, (1,), "avg", "adaptive")[0, 0], float(x.mean()), rel_tol=1e-12)
