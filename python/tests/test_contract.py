"""Constructor validation (exact contract messages), shape helpers, and the bin geometry."""

import re

import pytest
import torch

import spp_trt
from spp_trt import SpatialPyramidPooling
from spp_trt import _contract as C

from helpers import bin_windows


def test_identity_matches_the_cpp_header():
    # include/spp/spp.h: kSPP_PLUGIN_NAME, kSPP_PLUGIN_VERSION, kSPP_PLUGIN_NAMESPACE, kMAX_LEVELS, kMAX_LEVEL
    assert spp_trt.PLUGIN_NAME == "SpatialPyramidPooling"
    assert spp_trt.PLUGIN_VERSION == "1"
    assert spp_trt.PLUGIN_NAMESPACE == ""
    assert spp_trt.MAX_LEVELS == 16
    assert spp_trt.MAX_LEVEL == 256
    assert spp_trt.ONNX_DOMAIN == "trt.plugins"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(levels=[]), "levels must not be empty; give 1 to 16 pyramid levels, e.g. [1, 2, 4]"),
        (dict(levels=()), "levels must not be empty; give 1 to 16 pyramid levels, e.g. [1, 2, 4]"),
        (dict(levels=[1] * 17), "levels has 17 entries; at most 16 pyramid levels are allowed"),
        (dict(levels=list(range(1, 21))), "levels has 20 entries; at most 16 pyramid levels are allowed"),
        (dict(levels=[1, 0, 4]), "levels[1] = 0 is out of range; each level must be in [1, 256]"),
        (dict(levels=[2, 4, -3]), "levels[2] = -3 is out of range; each level must be in [1, 256]"),
        (dict(levels=[257]), "levels[0] = 257 is out of range; each level must be in [1, 256]"),
        (dict(pool_mode="sum"), "pool_mode 'sum' is not supported; allowed: 'max', 'avg'"),
        (dict(pool_mode="MAX"), "pool_mode 'MAX' is not supported; allowed: 'max', 'avg'"),
        (dict(bin_rule="ceil"), "bin_rule 'ceil' is not supported; allowed: 'adaptive', 'caffe'"),
        (dict(bin_rule=""), "bin_rule '' is not supported; allowed: 'adaptive', 'caffe'"),
    ],
)
def test_bad_arguments_raise_value_error_with_the_contract_message(kwargs, message):
    with pytest.raises(ValueError) as info:
        SpatialPyramidPooling(**kwargs)
    assert str(info.value) == message


def test_bad_arguments_functional_and_order_of_checks():
    x = torch.randn(1, 2, 4, 4)
    with pytest.raises(ValueError, match=re.escape("pool_mode 'min' is not supported; allowed: 'max', 'avg'")):
        spp_trt.spatial_pyramid_pool(x, (1, 2), "min", "adaptive")
    # levels are checked first, then pool_mode, then bin_rule
    with pytest.raises(ValueError, match=r"^levels\[0\] = 300 is out of range"):
        SpatialPyramidPooling(levels=[300], pool_mode="bad", bin_rule="bad")
    with pytest.raises(ValueError, match=r"^pool_mode 'bad'"):
        SpatialPyramidPooling(levels=[1], pool_mode="bad", bin_rule="bad")


def test_non_integer_levels_are_type_errors():
    with pytest.raises(TypeError):
        SpatialPyramidPooling(levels=[1, 2.5])
    with pytest.raises(TypeError):
        SpatialPyramidPooling(levels=4)
    with pytest.raises(TypeError):
        SpatialPyramidPooling(levels=[True])
    with pytest.raises(ValueError, match="export_mode 'trt' is not supported; allowed: 'plugin', 'onnx'"):
        SpatialPyramidPooling(export_mode="trt")


def test_valid_configurations_are_kept_as_given():
    m = SpatialPyramidPooling(levels=[4, 1, 4, 256], pool_mode="avg", bin_rule="caffe")
    assert m.levels == (4, 1, 4, 256)  # order and duplicates kept
    assert (m.pool_mode, m.bin_rule, m.export_mode) == ("avg", "caffe", "plugin")
    m16 = SpatialPyramidPooling(levels=list(range(1, 17)))
    assert len(m16.levels) == 16
    assert "levels=[4, 1, 4, 256]" in repr(m)


def test_output_features():
    m = SpatialPyramidPooling((1, 2, 4))
    assert m.output_features(8) == 8 * 21
    assert m.bins_per_channel == 21
    assert SpatialPyramidPooling((3, 3, 6)).output_features(5) == 5 * (9 + 9 + 36)
    assert spp_trt.output_features((1, 2, 4), 256) == 256 * 21
    with pytest.raises(ValueError):
        m.output_features(0)
    for shape in [(2, 8, 13, 17), (1, 8, 1, 1), (3, 8, 64, 5)]:
        assert m(torch.randn(*shape)).shape == (shape[0], m.output_features(8))


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13, 16, 31])
@pytest.mark.parametrize("level", [1, 2, 3, 4, 6, 7, 16])
@pytest.mark.parametrize("rule", ["adaptive", "caffe"])
def test_windows_match_the_contract_text(size, level, rule):
    assert C.windows(size, level, rule) == bin_windows(size, level, rule)
    wins = C.windows(size, level, rule)
    if rule == "adaptive":
        assert all(e > s for s, e in wins), "adaptive bins are never empty"
    else:
        k, pad, pad_end = C.caffe_geometry(size, level)
        assert pad + size + pad_end == k * level and pad_end >= 0
        # A bin is empty exactly when the padding is at least one kernel wide. Note: this is not only size < level
        # (e.g. size 5, level 4: k = 2, pad = 2 -> bin 0 is [-2, 0)).
        assert any(e <= s for s, e in wins) == (pad >= k)
        if size < level:
            assert pad >= k


def test_uniform_plan():
    # adaptive: 8 / 4 -> kernel 2 stride 2; 5 / 2 -> windows [0,3), [2,5): kernel 3 stride 2; 7 / 4 -> not uniform
    p, _ = C.uniform_plan(8, 4, "adaptive")
    assert (p.kernel, p.stride, p.pad_begin, p.pad_end) == (2, 2, 0, 0)
    p, _ = C.uniform_plan(5, 2, "adaptive")
    assert (p.kernel, p.stride) == (3, 2)
    p, why = C.uniform_plan(7, 4, "adaptive")
    assert p is None and "not uniform" in why
    # caffe: 13 / 4 -> k 4, pad 2 left, 1 right
    p, _ = C.uniform_plan(13, 4, "caffe")
    assert (p.kernel, p.stride, p.pad_begin, p.pad_end) == (4, 4, 2, 1)
    p, why = C.uniform_plan(2, 4, "caffe")
    assert p is None and "empty bins" in why
