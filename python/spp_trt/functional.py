"""Spatial Pyramid Pooling in plain PyTorch (autograd, any device), following docs/spp.md.

``spatial_pyramid_pool`` is the reference the module, the custom op and the exported graphs are checked against.
``spatial_pyramid_pool_standard_ops`` is the export_mode="onnx" formulation (per level: Pad + MaxPool/AvgPool with
exact windows); it needs a static input size and uniform bins.
"""

from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F

from . import _contract as C


def _check_input(x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor [N, C, H, W], got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(f"expected a 4-D input [N, C, H, W], got shape {tuple(x.shape)}")


def _empty_mask(size: int, level: int, device) -> torch.Tensor:
    """Boolean [level] mask of the caffe bins whose clipped window is empty along one axis."""
    wins = C.caffe_windows(size, level)
    return torch.tensor([s >= e for s, e in wins], dtype=torch.bool, device=device)


def _caffe_level(x: torch.Tensor, level: int, pool_mode: str) -> torch.Tensor:
    """One caffe level: pad (-inf for max, 0 for avg) to L*k, pool with kernel = stride = k, zero empty bins."""
    h, w = int(x.shape[-2]), int(x.shape[-1])
    kh, ph, ph_end = C.caffe_geometry(h, level)
    kw, pw, pw_end = C.caffe_geometry(w, level)
    pads = (pw, pw_end, ph, ph_end)
    xp = x
    if any(pads):
        xp = F.pad(x, pads, mode="constant", value=float("-inf") if pool_mode == "max" else 0.0)
    if pool_mode == "max":
        y = F.max_pool2d(xp, (kh, kw), (kh, kw))
    else:
        # The padded input is exactly L*k wide, so every window is full: the divisor is always kh*kw.
        y = F.avg_pool2d(xp, (kh, kw), (kh, kw), count_include_pad=True)
    if ph >= kh or pw >= kw:
        # A window is empty after clipping exactly when the padding is at least one kernel wide (pad >= k; the
        # end padding is never larger than the begin padding). That happens for size < L but also e.g. for
        # size 5, L 4 (k 2, pad 2) or size 13, L 6 (k 3, pad 3). The contract says: such a bin outputs 0.
        empty = _empty_mask(h, level, x.device)[:, None] | _empty_mask(w, level, x.device)[None, :]
        y = torch.where(empty, torch.zeros((), dtype=y.dtype, device=y.device), y)
    return y


def pool_level(x: torch.Tensor, level: int, pool_mode: str, bin_rule: str) -> torch.Tensor:
    """[N, C, L, L] bins of one pyramid level."""
    if bin_rule == "adaptive":
        if pool_mode == "max":
            return F.adaptive_max_pool2d(x, level)
        return F.adaptive_avg_pool2d(x, level)
    return _caffe_level(x, level, pool_mode)


def spatial_pyramid_pool(
    x: torch.Tensor, levels: Sequence[int] = (1, 2, 4), pool_mode: str = "max", bin_rule: str = "adaptive"
) -> torch.Tensor:
    """SPP of x [N, C, H, W] -> [N, C * sum(L*L)], level-major, then channel, then bins row-major."""
    levels, pool_mode, bin_rule = C.validate_config(levels, pool_mode, bin_rule)
    _check_input(x)
    return torch.cat([pool_level(x, L, pool_mode, bin_rule).flatten(1) for L in levels], 1)


def standard_ops_plans(
    height: int, width: int, levels: Sequence[int], pool_mode: str, bin_rule: str
) -> List[Tuple[int, C.PoolPlan, C.PoolPlan]]:
    """Per level (L, plan_h, plan_w) for export_mode="onnx", or ValueError saying why it is not expressible."""
    plans = []
    for L in levels:
        ph, why_h = C.uniform_plan(height, L, bin_rule)
        pw, why_w = C.uniform_plan(width, L, bin_rule)
        if ph is None or pw is None:
            why = why_h or why_w
            axis = "H" if ph is None else "W"
            raise ValueError(
                f"export_mode='onnx' cannot express SpatialPyramidPooling(levels={list(levels)}, "
                f"pool_mode='{pool_mode}', bin_rule='{bin_rule}') for an input of H={height}, W={width}: "
                f"along {axis}, {why}. Standard MaxPool/AveragePool need every bin of a level to be the same "
                f"window shifted by a constant stride. Use export_mode='plugin' (the default: one "
                f"{C.PLUGIN_NAME} node run by the TensorRT plugin), or choose sizes/levels with uniform bins."
            )
        plans.append((L, ph, pw))
    return plans


def spatial_pyramid_pool_standard_ops(
    x: torch.Tensor, levels: Sequence[int] = (1, 2, 4), pool_mode: str = "max", bin_rule: str = "adaptive"
) -> torch.Tensor:
    """The same result as ``spatial_pyramid_pool`` built only from pad / max_pool2d / avg_pool2d / flatten / cat
    with fixed kernels, so both ONNX exporters emit standard ops (Pad, MaxPool, AveragePool, Flatten or Reshape,
    Concat). The input H and W must be static; raises ValueError when a level has non-uniform bins."""
    levels, pool_mode, bin_rule = C.validate_config(levels, pool_mode, bin_rule)
    _check_input(x)
    h, w = x.shape[-2], x.shape[-1]
    sym_int = getattr(torch, "SymInt", None)
    if sym_int is not None and (isinstance(h, sym_int) or isinstance(w, sym_int)):
        raise ValueError(
            "export_mode='onnx' needs a static input size: MaxPool/AveragePool kernels and strides are fixed "
            f"attributes, but H, W = ({h}, {w}) are dynamic. Export with dynamic_hw=False, or use "
            "export_mode='plugin' for dynamic H and W."
        )
    h, w = int(h), int(w)  # TorchScript tracing hands out 0-d tensors: the sizes become constants of the graph
    outs = []
    for _, ph, pw in standard_ops_plans(h, w, levels, pool_mode, bin_rule):
        pads = (pw.pad_begin, pw.pad_end, ph.pad_begin, ph.pad_end)
        xp = x
        if any(pads):
            xp = F.pad(x, pads, mode="constant", value=float("-inf") if pool_mode == "max" else 0.0)
        kernel, stride = (ph.kernel, pw.kernel), (ph.stride, pw.stride)
        if pool_mode == "max":
            y = F.max_pool2d(xp, kernel, stride)
        else:
            y = F.avg_pool2d(xp, kernel, stride, count_include_pad=True)
        outs.append(y.flatten(1))
    return torch.cat(outs, 1)


__all__ = ["spatial_pyramid_pool", "spatial_pyramid_pool_standard_ops", "standard_ops_plans", "pool_level"]
