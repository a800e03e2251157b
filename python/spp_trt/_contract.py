"""The SPP contract (docs/spp.md) in Python: names, validation messages, shapes and bin windows.

Everything here is plain Python (no torch), so it is shared by the module, the exporters and the tests.
"""

import math
import numbers
import operator
import struct
from typing import List, Optional, Sequence, Tuple

#: Op / plugin identity, identical to spp::kSPP_PLUGIN_NAME / VERSION / NAMESPACE in include/spp/spp.h.
PLUGIN_NAME = "SpatialPyramidPooling"
PLUGIN_VERSION = "1"
PLUGIN_NAMESPACE = ""

#: ONNX domain of the exported node. TensorRT's ONNX parser dispatches on op_type only and ignores the domain.
ONNX_DOMAIN = "trt.plugins"
ONNX_DOMAIN_VERSION = 1

MAX_LEVELS = 16  #: most pyramid levels one operation may have (spp::kMAX_LEVELS)
MAX_LEVEL = 256  #: largest level L (spp::kMAX_LEVEL)

#: ROI pooling (docs/roi.md): op / plugin names, identical to spp::kROI_SPP_PLUGIN_NAME and the MaxRoiPool plugin.
ROI_PLUGIN_NAME = "RoiSpatialPyramidPooling"
MAX_ROI_POOL_NAME = "MaxRoiPool"
ROI_COLUMNS = 5  #: a roi row is (batch_index, x1, y1, x2, y2) (spp::kROI_COLUMNS)
ROI_COORD_LIMIT = 2 ** 40  #: scaled corners are clamped to +-2^40 feature cells (spp::kROI_COORD_LIMIT)

POOL_MODES = ("max", "avg")
BIN_RULES = ("adaptive", "caffe")
EXPORT_MODES = ("plugin", "onnx")


def _as_int(value, what: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{what} = {value!r} is not an integer")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{what} = {value!r} is not an integer") from None


def validate_levels(levels) -> Tuple[int, ...]:
    """Checks a level list against the contract and returns it as a tuple of ints (order and duplicates kept)."""
    if isinstance(levels, (str, bytes)) or not hasattr(levels, "__iter__"):
        raise TypeError(f"levels must be a sequence of ints such as [1, 2, 4], got {levels!r}")
    values = [_as_int(v, f"levels[{i}]") for i, v in enumerate(levels)]
    if not values:
        raise ValueError("levels must not be empty; give 1 to 16 pyramid levels, e.g. [1, 2, 4]")
    if len(values) > MAX_LEVELS:
        raise ValueError(f"levels has {len(values)} entries; at most 16 pyramid levels are allowed")
    for i, v in enumerate(values):
        if v <= 0 or v > MAX_LEVEL:
            raise ValueError(f"levels[{i}] = {v} is out of range; each level must be in [1, 256]")
    return tuple(values)


def validate_pool_mode(pool_mode) -> str:
    if not isinstance(pool_mode, str) or pool_mode not in POOL_MODES:
        raise ValueError(f"pool_mode '{pool_mode}' is not supported; allowed: 'max', 'avg'")
    return pool_mode


def validate_bin_rule(bin_rule) -> str:
    if not isinstance(bin_rule, str) or bin_rule not in BIN_RULES:
        raise ValueError(f"bin_rule '{bin_rule}' is not supported; allowed: 'adaptive', 'caffe'")
    return bin_rule


def validate_export_mode(export_mode) -> str:
    if not isinstance(export_mode, str) or export_mode not in EXPORT_MODES:
        raise ValueError(f"export_mode '{export_mode}' is not supported; allowed: 'plugin', 'onnx'")
    return export_mode


def validate_config(levels, pool_mode, bin_rule) -> Tuple[Tuple[int, ...], str, str]:
    """Validates in the contract's order: levels, then pool_mode, then bin_rule."""
    return validate_levels(levels), validate_pool_mode(pool_mode), validate_bin_rule(bin_rule)


def float32_value(value: float) -> float:
    """``value`` rounded to IEEE fp32 (what an ONNX FLOAT attribute and the plugin's kFLOAT32 field hold);
    finite values beyond the fp32 range become +-inf."""
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)


def validate_spatial_scale(spatial_scale) -> float:
    """The ROI spatial scale as a Python float. It must be a real number whose fp32 value (the plugin reads a
    kFLOAT32 field) is finite and > 0; the message is the core's (src/core/roi.cpp), which prints the fp32 value
    with %g."""
    if isinstance(spatial_scale, bool) or not isinstance(spatial_scale, numbers.Real):
        raise TypeError(f"spatial_scale = {spatial_scale!r} is not a real number")
    value = float(spatial_scale)
    as_f32 = float32_value(value)
    if not (math.isfinite(as_f32) and as_f32 > 0.0):
        raise ValueError(
            "spatial_scale = %g is invalid; it must be a finite number > 0 (image -> feature coordinates, e.g. "
            "0.0625 for a stride-16 feature map)" % as_f32
        )
    return value


def validate_roi_config(levels, pool_mode, spatial_scale) -> Tuple[Tuple[int, ...], str, float]:
    """Validates in the core's order (makeRoiPyramid): levels, then pool_mode, then spatial_scale."""
    return validate_levels(levels), validate_pool_mode(pool_mode), validate_spatial_scale(spatial_scale)


def bins_per_channel(levels: Sequence[int]) -> int:
    """sum(L * L) over the levels."""
    return sum(int(L) * int(L) for L in levels)


def output_features(levels: Sequence[int], channels: int) -> int:
    """C * sum(L * L): the second dimension of the output."""
    channels = _as_int(channels, "channels")
    if channels < 1:
        raise ValueError(f"channels = {channels} is out of range; it must be >= 1")
    return channels * bins_per_channel(levels)


# ----------------------------------------------------------------------------------------------------------------
# Bin windows along one axis (H or W). A window is a half-open interval [start, end) of input indices.


def adaptive_windows(size: int, level: int) -> List[Tuple[int, int]]:
    """Bin i = [floor(i*size/L), ceil((i+1)*size/L)) -- identical to F.adaptive_*_pool2d; never empty."""
    return [((i * size) // level, -((-(i + 1) * size) // level)) for i in range(level)]


def caffe_geometry(size: int, level: int) -> Tuple[int, int, int]:
    """(k, pad_begin, pad_end) of the Caffe SPPLayer rule: k = ceil(size/L), pad = (k*L - size + 1) // 2.

    Window i is [i*k - pad, i*k - pad + k) in input coordinates, i.e. the input padded by pad_begin on the left and
    pad_end = k*L - size - pad_begin on the right, pooled with kernel = stride = k.
    """
    k = -(-size // level)
    pad = (k * level - size + 1) // 2
    return k, pad, k * level - size - pad


def caffe_windows(size: int, level: int) -> List[Tuple[int, int]]:
    """Caffe windows clipped to [0, size); an empty window has start >= end."""
    k, pad, _ = caffe_geometry(size, level)
    out = []
    for i in range(level):
        start = i * k - pad
        out.append((max(start, 0), min(start + k, size)))
    return out


def windows(size: int, level: int, bin_rule: str) -> List[Tuple[int, int]]:
    if bin_rule == "adaptive":
        return adaptive_windows(size, level)
    if bin_rule == "caffe":
        return caffe_windows(size, level)
    validate_bin_rule(bin_rule)
    raise AssertionError("unreachable")


class PoolPlan:
    """One level along one axis expressed as a standard pooling: pad (begin, end), then kernel/stride.

    Produced by :func:`uniform_plan`; used by export_mode="onnx".
    """

    __slots__ = ("kernel", "stride", "pad_begin", "pad_end")

    def __init__(self, kernel: int, stride: int, pad_begin: int = 0, pad_end: int = 0):
        self.kernel = kernel
        self.stride = stride
        self.pad_begin = pad_begin
        self.pad_end = pad_end

    def __repr__(self) -> str:
        return f"PoolPlan(kernel={self.kernel}, stride={self.stride}, pads=({self.pad_begin}, {self.pad_end}))"


def uniform_plan(size: int, level: int, bin_rule: str) -> Tuple[Optional[PoolPlan], str]:
    """Whether one level along one axis is a single MaxPool/AveragePool with exact windows.

    Returns (plan, "") when it is, or (None, reason) when it is not.

    adaptive: every bin must have the same size k and bin i must start at i*s (no padding).
    caffe: always kernel = stride = k with pads (pad, k*L - size - pad); avg divides by k*k, which is exactly
    AveragePool with count_include_pad=1 over a zero-padded input. Not expressible when a window is empty
    (pad >= k: the window lies entirely in the padding and the contract defines the bin as 0).
    """
    if bin_rule == "adaptive":
        wins = adaptive_windows(size, level)
        sizes = [e - s for s, e in wins]
        k = sizes[0]
        stride = wins[1][0] - wins[0][0] if level > 1 else k
        if any(sz != k for sz in sizes) or any(s != i * stride for i, (s, _) in enumerate(wins)) or stride < 1:
            return None, (
                f"adaptive bins of level {level} over size {size} are not uniform "
                f"(windows {[list(w) for w in wins]})"
            )
        return PoolPlan(k, stride), ""
    if bin_rule == "caffe":
        k, pad, pad_end = caffe_geometry(size, level)
        wins = caffe_windows(size, level)
        empty = [i for i, (s, e) in enumerate(wins) if s >= e]
        if empty:
            return None, (
                f"caffe level {level} over size {size} has empty bins {empty} (pad {pad} >= kernel {k}); "
                "the contract outputs 0 there, which no standard pooling op produces"
            )
        return PoolPlan(k, k, pad, pad_end), ""
    validate_bin_rule(bin_rule)
    raise AssertionError("unreachable")


__all__ = [
    "PLUGIN_NAME",
    "PLUGIN_VERSION",
    "PLUGIN_NAMESPACE",
    "ONNX_DOMAIN",
    "ONNX_DOMAIN_VERSION",
    "MAX_LEVELS",
    "MAX_LEVEL",
    "POOL_MODES",
    "BIN_RULES",
    "EXPORT_MODES",
    "ROI_PLUGIN_NAME",
    "MAX_ROI_POOL_NAME",
    "ROI_COLUMNS",
    "ROI_COORD_LIMIT",
    "float32_value",
    "validate_spatial_scale",
    "validate_roi_config",
    "validate_levels",
    "validate_pool_mode",
    "validate_bin_rule",
    "validate_export_mode",
    "validate_config",
    "bins_per_channel",
    "output_features",
    "adaptive_windows",
    "caffe_geometry",
    "caffe_windows",
    "windows",
    "PoolPlan",
    "uniform_plan",
]
