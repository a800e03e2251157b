"""TorchScript ONNX export (torch.onnx.export(dynamo=False), torch >= 1.13): autograd.Functions whose
``symbolic`` emits one ``trt.plugins::SpatialPyramidPooling`` / ``trt.plugins::RoiSpatialPyramidPooling`` node."""

import contextlib
import warnings

import torch

from . import _contract as C
from .functional import spatial_pyramid_pool
from .roi_functional import roi_spatial_pyramid_pool

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


@contextlib.contextmanager
def _tracer_paused():
    """Suspends the JIT tracer (torch._C._get_tracing_state / _set_tracing_state) inside the block."""
    state = torch._C._get_tracing_state()
    torch._C._set_tracing_state(None)
    try:
        yield
    finally:
        torch._C._set_tracing_state(state)


class RoiSpatialPyramidPoolingFunction(torch.autograd.Function):
    """forward: the plain PyTorch ROI pooling; backward: its gradient (features only); symbolic: the plugin node."""

    @staticmethod
    def forward(ctx, features, rois, levels, pool_mode, spatial_scale):
        ctx.save_for_backward(features, rois)
        ctx.roi_args = (tuple(levels), pool_mode, spatial_scale)
        if not torch.jit.is_tracing():
            return roi_spatial_pyramid_pool(features, rois, levels, pool_mode, spatial_scale)
        # While the TorchScript exporter traces this forward (into a PythonOp subgraph that the symbolic replaces),
        # the pooling runs untraced: traced, an op returning its input (``x.to(x.dtype)``) re-binds the caller's
        # tensor to the recording (later users of ``features`` read a stray Cast), and torch 1.13's peephole pass
        # fails on some of the recorded subgraphs ("Argument passed to at() was not in the map"). The tracer only
        # needs a traced output: a clone of the (constant) result.
        with _tracer_paused():
            result = roi_spatial_pyramid_pool(features, rois, levels, pool_mode, spatial_scale)
        return result.clone()

    @staticmethod
    def backward(ctx, grad):
        features, rois = ctx.saved_tensors
        with torch.enable_grad():
            fd = features.detach().requires_grad_(True)
            y = roi_spatial_pyramid_pool(fd, rois.detach(), *ctx.roi_args)
        (gf,) = torch.autograd.grad(y, fd, grad)
        return gf, None, None, None, None

    @staticmethod
    def symbolic(g, features, rois, levels, pool_mode, spatial_scale):
        levels, pool_mode, spatial_scale = C.validate_roi_config(levels, pool_mode, spatial_scale)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # see SpatialPyramidPoolingFunction.symbolic
            y = g.op(
                f"{C.ONNX_DOMAIN}::{C.ROI_PLUGIN_NAME}",
                features,
                rois,
                levels_i=[int(v) for v in levels],
                pool_mode_s=pool_mode,
                spatial_scale_f=float(spatial_scale),
                plugin_version_s=C.PLUGIN_VERSION,
                plugin_namespace_s=C.PLUGIN_NAMESPACE,
            )
        try:
            f_sizes = features.type().varyingSizes()
            r_sizes = rois.type().varyingSizes()
            if f_sizes is not None and r_sizes is not None and len(f_sizes) == 4 and len(r_sizes) == 2:
                channels = f_sizes[1]
                y.setType(
                    features.type().with_sizes(
                        [r_sizes[0], None if channels is None else channels * C.bins_per_channel(levels)]
                    )
                )
        except Exception:  # best effort; export_onnx writes the annotation afterwards
            pass
        return y


def apply_roi(features, rois, levels, pool_mode, spatial_scale):
    return RoiSpatialPyramidPoolingFunction.apply(features, rois, tuple(levels), pool_mode, float(spatial_scale))
