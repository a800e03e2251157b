"""``SpatialPyramidPooling`` and ``RoiSpatialPyramidPooling``: the nn.Modules."""

from typing import Sequence

import torch
from torch import nn

from . import _contract as C
from . import _tracing
from .functional import spatial_pyramid_pool, spatial_pyramid_pool_standard_ops
from .roi_functional import roi_spatial_pyramid_pool


class SpatialPyramidPooling(nn.Module):
    """Spatial Pyramid Pooling: x [N, C, H, W] -> [N, C * sum(L*L)] for any H, W (docs/spp.md).

    Args:
        levels: pyramid levels L (each an L x L grid of bins); 1 to 16 entries in [1, 256]; order kept,
            duplicates allowed.
        pool_mode: "max" or "avg".
        bin_rule: "adaptive" (bins of F.adaptive_{max,avg}_pool2d) or "caffe" (the original SPP-net windows).
        export_mode: how ONNX export represents this module: "plugin" (default; one
            ``trt.plugins::SpatialPyramidPooling`` node for the TensorRT plugin, dynamic H and W) or "onnx"
            (standard Pad/MaxPool/AveragePool/Flatten/Concat; needs a static input size and uniform bins).

    The output layout is level-major, then channel, then bins row-major, exactly
    ``torch.cat([pool_L(x).flatten(1) for L in levels], 1)``. The forward pass is plain PyTorch (autograd, any
    device); only while an ONNX exporter traces the module does it switch to the exportable formulation.
    """

    def __init__(
        self,
        levels: Sequence[int] = (1, 2, 4),
        pool_mode: str = "max",
        bin_rule: str = "adaptive",
        export_mode: str = "plugin",
    ):
        super().__init__()
        self.levels, self.pool_mode, self.bin_rule = C.validate_config(levels, pool_mode, bin_rule)
        self.export_mode = C.validate_export_mode(export_mode)

    @property
    def bins_per_channel(self) -> int:
        """sum(L * L)."""
        return C.bins_per_channel(self.levels)

    def output_features(self, channels: int) -> int:
        """C * sum(L * L): the output's second dimension for an input with ``channels`` channels."""
        return C.output_features(self.levels, channels)

    def extra_repr(self) -> str:
        text = f"levels={list(self.levels)}, pool_mode='{self.pool_mode}', bin_rule='{self.bin_rule}'"
        if self.export_mode != "plugin":
            text += f", export_mode='{self.export_mode}'"
        return text

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        target = _tracing.current_target()
        if target is _tracing.EAGER:
            return spatial_pyramid_pool(x, self.levels, self.pool_mode, self.bin_rule)
        if self.export_mode == "onnx":
            return spatial_pyramid_pool_standard_ops(x, self.levels, self.pool_mode, self.bin_rule)
        if target == _tracing.TORCHSCRIPT:
            from . import _torchscript

            return _torchscript.apply(x, self.levels, self.pool_mode, self.bin_rule)
        from . import _dynamo

        return _dynamo.call_custom_op(x, self.levels, self.pool_mode, self.bin_rule)


class RoiSpatialPyramidPooling(nn.Module):
    """ROI spatial pyramid pooling (SPP-net's detector; Fast R-CNN RoIPool for one level), docs/roi.md:
    features [N, C, H, W] and rois [K, 5] -> [K, C * sum(L*L)].

    Args:
        levels: pyramid levels L (an L x L grid of bins over each roi); 1 to 16 entries in [1, 256]; order kept,
            duplicates allowed.
        pool_mode: "max" or "avg".
        spatial_scale: image -> feature coordinates (e.g. 1/16 for a stride-16 map); its fp32 value must be
            finite and > 0.

    ``rois`` rows are (batch_index, x1, y1, x2, y2) in image coordinates. The output is level-major, then channel,
    then bins row-major, exactly ``torch.cat([torchvision.ops.roi_pool(features, rois, (L, L),
    spatial_scale).flatten(1) for L in levels], 1)``; rows with a batch index outside [0, N) after truncation or a
    non-finite value are all zeros. The forward pass is plain PyTorch (autograd to ``features``, any device);
    while an ONNX exporter traces the module it becomes one ``trt.plugins::RoiSpatialPyramidPooling`` node.
    """

    def __init__(self, levels: Sequence[int] = (1, 2, 4), pool_mode: str = "max", spatial_scale: float = 1.0):
        super().__init__()
        self.levels, self.pool_mode, self.spatial_scale = C.validate_roi_config(levels, pool_mode, spatial_scale)

    @property
    def bins_per_channel(self) -> int:
        """sum(L * L)."""
        return C.bins_per_channel(self.levels)

    def output_features(self, channels: int) -> int:
        """C * sum(L * L): the output's second dimension for features with ``channels`` channels."""
        return C.output_features(self.levels, channels)

    def extra_repr(self) -> str:
        return f"levels={list(self.levels)}, pool_mode='{self.pool_mode}', spatial_scale={self.spatial_scale!r}"

    def forward(self, features: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        target = _tracing.current_target()
        if target is _tracing.EAGER:
            return roi_spatial_pyramid_pool(features, rois, self.levels, self.pool_mode, self.spatial_scale)
        if target == _tracing.TORCHSCRIPT:
            from . import _torchscript

            return _torchscript.apply_roi(features, rois, self.levels, self.pool_mode, self.spatial_scale)
        from . import _dynamo

        return _dynamo.call_roi_custom_op(features, rois, self.levels, self.pool_mode, self.spatial_scale)
