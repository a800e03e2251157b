"""Dynamo (torch.export based) ONNX export: torch.library custom ops and their onnxscript translations.

torch.export keeps ``torch.ops.spp_trt.spatial_pyramid_pool`` and ``torch.ops.spp_trt.roi_spatial_pyramid_pool``
as opaque nodes (shapes from the fake kernels); the ONNX exporter then calls the translations given in
``custom_translation_table``, each emitting exactly one ``trt.plugins::SpatialPyramidPooling`` /
``trt.plugins::RoiSpatialPyramidPooling`` node with the plugin's attributes.

Needs torch >= 2.6 (torch.library.custom_op and torch.onnx.export(custom_translation_table=...)), onnxscript, and
onnx >= 1.16 (onnx.defs.register_schema, so that onnxscript can build the custom-domain node).
"""

import inspect
import typing
from typing import Callable, Dict, Tuple

import torch

from . import _contract as C
from .functional import spatial_pyramid_pool
from .roi_functional import roi_spatial_pyramid_pool

CUSTOM_OP_NAME = "spp_trt::spatial_pyramid_pool"
ROI_CUSTOM_OP_NAME = "spp_trt::roi_spatial_pyramid_pool"

_custom_op = None
_roi_custom_op = None


def custom_op_support() -> Tuple[bool, str]:
    """(True, "") when torch.library.custom_op exists, else (False, why)."""
    library = getattr(torch, "library", None)
    if library is None or not hasattr(library, "custom_op"):
        return False, f"torch {torch.__version__} has no torch.library.custom_op (needs torch >= 2.4)"
    return True, ""


def dynamo_export_support() -> Tuple[bool, str]:
    """(True, "") when torch.onnx.export(dynamo=True, custom_translation_table=...) can be used here."""
    ok, why = custom_op_support()
    if not ok:
        return ok, why
    try:
        params = inspect.signature(torch.onnx.export).parameters
    except (TypeError, ValueError):  # pragma: no cover
        params = {}
    if "custom_translation_table" not in params or "dynamo" not in params:
        return False, (
            f"torch {torch.__version__}: torch.onnx.export has no dynamo=/custom_translation_table= "
            "(needs torch >= 2.6)"
        )
    try:
        import onnxscript  # noqa: F401
    except Exception as exc:  # ImportError or a broken install
        return False, f"onnxscript is not importable ({exc.__class__.__name__}: {exc}); the dynamo exporter needs it"
    import onnx
    import onnx.defs

    if not hasattr(onnx.defs, "register_schema"):
        return False, f"onnx {onnx.__version__} has no onnx.defs.register_schema (needs onnx >= 1.16)"
    return True, ""


def get_custom_op():
    """The ``spp_trt::spatial_pyramid_pool(Tensor x, int[] levels, str pool_mode, str bin_rule) -> Tensor`` op.

    Defined on first use. Real kernel: the plain PyTorch reference; fake kernel: [N, C * sum(L^2)];
    autograd: the reference's gradient.
    """
    global _custom_op
    if _custom_op is not None:
        return _custom_op
    ok, why = custom_op_support()
    if not ok:
        raise RuntimeError(why)

    @torch.library.custom_op(CUSTOM_OP_NAME, mutates_args=())
    def spatial_pyramid_pool_op(
        x: torch.Tensor, levels: typing.List[int], pool_mode: str, bin_rule: str
    ) -> torch.Tensor:
        return spatial_pyramid_pool(x, levels, pool_mode, bin_rule)

    @spatial_pyramid_pool_op.register_fake
    def _(x, levels, pool_mode, bin_rule):
        C.validate_config(levels, pool_mode, bin_rule)
        torch._check(x.dim() == 4, lambda: f"expected a 4-D input [N, C, H, W], got {x.dim()}-D")
        return x.new_empty((x.shape[0], x.shape[1] * C.bins_per_channel(levels)))

    def setup_context(ctx, inputs, output):
        x, levels, pool_mode, bin_rule = inputs
        ctx.save_for_backward(x)
        ctx.spp_args = (list(levels), pool_mode, bin_rule)

    def backward(ctx, grad):
        # Runs in the autograd engine (above the dispatcher's autograd keys), so the reference can be
        # differentiated directly. The op is only used while exporting, where no backward is traced.
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            xd = x.detach().requires_grad_(True)
            y = spatial_pyramid_pool(xd, *ctx.spp_args)
        (gx,) = torch.autograd.grad(y, xd, grad)
        return gx, None, None, None

    spatial_pyramid_pool_op.register_autograd(backward, setup_context=setup_context)
    _custom_op = spatial_pyramid_pool_op
    return _custom_op


def call_custom_op(x: torch.Tensor, levels, pool_mode: str, bin_rule: str) -> torch.Tensor:
    get_custom_op()
    return torch.ops.spp_trt.spatial_pyramid_pool(x, [int(v) for v in levels], pool_mode, bin_rule)


def get_roi_custom_op():
    """The ``spp_trt::roi_spatial_pyramid_pool(Tensor features, Tensor rois, int[] levels, str pool_mode,
    float spatial_scale) -> Tensor`` op.

    Defined on first use. Real kernel: the plain PyTorch ROI pooling; fake kernel: [K, C * sum(L^2)]; autograd:
    the reference's gradient to ``features`` (none to ``rois``).
    """
    global _roi_custom_op
    if _roi_custom_op is not None:
        return _roi_custom_op
    ok, why = custom_op_support()
    if not ok:
        raise RuntimeError(why)

    @torch.library.custom_op(ROI_CUSTOM_OP_NAME, mutates_args=())
    def roi_spatial_pyramid_pool_op(
        features: torch.Tensor, rois: torch.Tensor, levels: typing.List[int], pool_mode: str, spatial_scale: float
    ) -> torch.Tensor:
        return roi_spatial_pyramid_pool(features, rois, levels, pool_mode, spatial_scale)

    @roi_spatial_pyramid_pool_op.register_fake
    def _(features, rois, levels, pool_mode, spatial_scale):
        C.validate_roi_config(levels, pool_mode, spatial_scale)
        torch._check(features.dim() == 4, lambda: f"expected 4-D features [N, C, H, W], got {features.dim()}-D")
        torch._check(rois.dim() == 2, lambda: f"expected rois [K, 5], got {rois.dim()}-D")
        return features.new_empty((rois.shape[0], features.shape[1] * C.bins_per_channel(levels)))

    def setup_context(ctx, inputs, output):
        features, rois, levels, pool_mode, spatial_scale = inputs
        ctx.save_for_backward(features, rois)
        ctx.roi_args = (list(levels), pool_mode, spatial_scale)

    def backward(ctx, grad):
        features, rois = ctx.saved_tensors
        with torch.enable_grad():
            fd = features.detach().requires_grad_(True)
            y = roi_spatial_pyramid_pool(fd, rois.detach(), *ctx.roi_args)
        (gf,) = torch.autograd.grad(y, fd, grad)
        return gf, None, None, None, None

    roi_spatial_pyramid_pool_op.register_autograd(backward, setup_context=setup_context)
    _roi_custom_op = roi_spatial_pyramid_pool_op
    return _roi_custom_op


def call_roi_custom_op(features: torch.Tensor, rois: torch.Tensor, levels, pool_mode: str,
                       spatial_scale: float) -> torch.Tensor:
    get_roi_custom_op()
    return torch.ops.spp_trt.roi_spatial_pyramid_pool(features, rois, [int(v) for v in levels], pool_mode,
                                                      float(spatial_scale))


# ----------------------------------------------------------------------------------------------------------------
# ONNX side


_FLOAT_TYPES = ["tensor(float)", "tensor(float16)", "tensor(bfloat16)"]


def _register_schema(name: str, domain: str, doc: str, inputs, outputs, type_constraints, attributes) -> None:
    """Registers ``<domain>::<name>`` version ``C.ONNX_DOMAIN_VERSION`` once per process. ``inputs`` / ``outputs``:
    (name, type string, description); ``attributes``: (name, ``OpSchema.AttrType`` member name, description,
    required), before the ``plugin_version`` / ``plugin_namespace`` pair every plugin node carries."""
    import onnx.defs
    from onnx.defs import OpSchema

    if not hasattr(onnx.defs, "register_schema"):
        raise RuntimeError("onnx.defs.register_schema is missing (needs onnx >= 1.16) for the dynamo exporter path")
    if onnx.defs.has(name, C.ONNX_DOMAIN_VERSION, domain):
        return
    attributes = list(attributes) + [
        ("plugin_version", "STRING", "TensorRT plugin version: '1'", False),
        ("plugin_namespace", "STRING", "TensorRT plugin namespace: ''", False),
    ]
    schema = OpSchema(
        name,
        domain,
        C.ONNX_DOMAIN_VERSION,
        doc,
        inputs=[OpSchema.FormalParameter(n, t, text) for n, t, text in inputs],
        outputs=[OpSchema.FormalParameter(n, t, text) for n, t, text in outputs],
        type_constraints=type_constraints,
        attributes=[OpSchema.Attribute(n, getattr(OpSchema.AttrType, kind), text, required=required)
                    for n, kind, text, required in attributes],
    )
    onnx.defs.register_schema(schema)


_LEVELS_ATTRIBUTE = ("levels", "INTS", "pyramid levels (1 to 16, each in [1, 256])", True)
_POOL_MODE_ATTRIBUTE = ("pool_mode", "STRING", "'max' (default) or 'avg'", False)


def register_onnx_schema(domain: str = C.ONNX_DOMAIN) -> None:
    """Registers an ONNX OpSchema for ``<domain>::SpatialPyramidPooling`` version 1 (once per process).

    onnxscript builds nodes from schemas, so the dynamo translation needs it. It also lets onnx.checker verify the
    node (attribute types) in this process. It has no shape-inference function: the exporter writes the output
    annotation itself.
    """
    _register_schema(
        C.PLUGIN_NAME,
        domain,
        "Spatial Pyramid Pooling run by the spp-trt TensorRT plugin (see docs/spp.md). "
        "X [N, C, H, W] -> Y [N, C * sum(L*L)], same element type.",
        inputs=[("X", "T", "input [N, C, H, W]")],
        outputs=[("Y", "T", "output [N, C * sum(L*L)]")],
        type_constraints=[("T", _FLOAT_TYPES, "element types the plugin supports")],
        attributes=[_LEVELS_ATTRIBUTE, _POOL_MODE_ATTRIBUTE,
                    ("bin_rule", "STRING", "'adaptive' (default) or 'caffe'", False)],
    )


def make_translation(domain: str = C.ONNX_DOMAIN) -> Callable:
    """The onnxscript translation of the custom op: one ``<domain>::SpatialPyramidPooling`` node."""
    register_onnx_schema(domain)
    from onnxscript import values as onnxscript_values

    opset = onnxscript_values.Opset(domain, C.ONNX_DOMAIN_VERSION)

    def spatial_pyramid_pool_to_onnx(
        x, levels: typing.Sequence[int], pool_mode: str = "max", bin_rule: str = "adaptive"
    ):
        levels_t, pool_mode_s, bin_rule_s = C.validate_config(levels, pool_mode, bin_rule)
        op = getattr(opset, C.PLUGIN_NAME)
        return op(
            x,
            levels=[int(v) for v in levels_t],
            pool_mode=pool_mode_s,
            bin_rule=bin_rule_s,
            plugin_version=C.PLUGIN_VERSION,
            plugin_namespace=C.PLUGIN_NAMESPACE,
        )

    return spatial_pyramid_pool_to_onnx


def register_roi_onnx_schema(domain: str = C.ONNX_DOMAIN) -> None:
    """Registers an ONNX OpSchema for ``<domain>::RoiSpatialPyramidPooling`` version 1 (once per process); see
    :func:`register_onnx_schema`."""
    _register_schema(
        C.ROI_PLUGIN_NAME,
        domain,
        "ROI spatial pyramid pooling run by the spp-trt TensorRT plugin (see docs/roi.md). "
        "X [N, C, H, W], ROIS [K, 5] rows (batch_index, x1, y1, x2, y2) -> Y [K, C * sum(L*L)], X's element type.",
        inputs=[("X", "T", "features [N, C, H, W]"),
                ("ROIS", "T1", "rois [K, 5]: (batch_index, x1, y1, x2, y2), image coordinates")],
        outputs=[("Y", "T", "output [K, C * sum(L*L)]")],
        type_constraints=[("T", _FLOAT_TYPES, "feature types the plugin supports"),
                          ("T1", _FLOAT_TYPES, "roi types: float, or the features' type")],
        attributes=[_LEVELS_ATTRIBUTE, _POOL_MODE_ATTRIBUTE,
                    ("spatial_scale", "FLOAT", "image -> feature scale (default 1.0)", False)],
    )


def make_roi_translation(domain: str = C.ONNX_DOMAIN) -> Callable:
    """The onnxscript translation of the ROI custom op: one ``<domain>::RoiSpatialPyramidPooling`` node."""
    register_roi_onnx_schema(domain)
    from onnxscript import values as onnxscript_values

    opset = onnxscript_values.Opset(domain, C.ONNX_DOMAIN_VERSION)

    def roi_spatial_pyramid_pool_to_onnx(
        features, rois, levels: typing.Sequence[int], pool_mode: str = "max", spatial_scale: float = 1.0
    ):
        levels_t, pool_mode_s, scale = C.validate_roi_config(levels, pool_mode, spatial_scale)
        op = getattr(opset, C.ROI_PLUGIN_NAME)
        return op(
            features,
            rois,
            levels=[int(v) for v in levels_t],
            pool_mode=pool_mode_s,
            spatial_scale=float(scale),
            plugin_version=C.PLUGIN_VERSION,
            plugin_namespace=C.PLUGIN_NAMESPACE,
        )

    return roi_spatial_pyramid_pool_to_onnx


def custom_translation_table(domain: str = C.ONNX_DOMAIN) -> Dict:
    """``{torch.ops.spp_trt.spatial_pyramid_pool.default: translation,
    torch.ops.spp_trt.roi_spatial_pyramid_pool.default: translation}`` for torch.onnx.export(dynamo=True)."""
    get_custom_op()
    get_roi_custom_op()
    return {
        torch.ops.spp_trt.spatial_pyramid_pool.default: make_translation(domain),
        torch.ops.spp_trt.roi_spatial_pyramid_pool.default: make_roi_translation(domain),
    }
