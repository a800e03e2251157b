"""TorchScript ONNX export (torch.onnx.export(dynamo=False), torch >= 1.13): an autograd.Function whose
``symbolic`` emits one ``trt.plugins::SpatialPyramidPooling`` node."""

import warnings

import torch

from . import _contract as C
from .functional import spatial_pyramid_pool

class SpatialPyramidPoolingFunction(torch.autograd.Function):
    """forward: the plain PyTorch reference; backward: its gradient; symbolic: the plugin node."""

    @staticmethod
    def forward(ctx, x, levels, pool_mode, bin_rule):
        ctx.save_for_backward(x)
        ctx.spp_args = (tuple(levels), pool_mode, bin_rule)
        return spatial_pyramid_pool(x, levels, pool_mode, bin_rule)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            xd = x.detach().requires_grad_(True)
            y = spatial_pyramid_pool(xd, *ctx.spp_args)
        (gx,) = torch.autograd.grad(y, xd, grad)
        return gx, None, None, None

    @staticmethod
    def symbolic(g, x, levels, pool_mode, bin_rule):
        levels, pool_mode, bin_rule = C.validate_config(levels, pool_mode, bin_rule)
        with warnings.catch_warnings():
            # torch 1.13 warns that g.op on a torch._C.Graph is deprecated, and that a custom op has no shape
            # inference; export_onnx writes the output annotation itself (spp_trt.onnx_utils).
            warnings.simplefilter("ignore")
            y = g.op(
                f"{C.ONNX_DOMAIN}::{C.PLUGIN_NAME}",
                x,
                levels_i=[int(v) for v in levels],
                pool_mode_s=pool_mode,
                bin_rule_s=bin_rule,
                plugin_version_s=C.PLUGIN_VERSION,
                plugin_namespace_s=C.PLUGIN_NAMESPACE,
            )
        try:
            sizes = x.type().varyingSizes()
            if sizes is not None and len(sizes) == 4:
                channels = sizes[1]
                y.setType(
                    x.type().with_sizes(
                        [sizes[0], None if channels is None else channels * C.bins_per_channel(levels)]
                    )
                )
        except Exception:  # the annotation is best effort here; export_onnx fixes it afterwards
            pass
        return y


def apply(x, levels, pool_mode, bin_rule):
    return SpatialPyramidPoolingFunction.apply(x, tuple(levels), pool_mode, bin_rule)
