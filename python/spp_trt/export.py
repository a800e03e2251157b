"""``export_onnx``: one call for both PyTorch ONNX exporters."""

import contextlib
import io
import os
import warnings
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from . import _contract as C
from . import _tracing
from .functional import standard_ops_plans
from .module import RoiSpatialPyramidPooling, SpatialPyramidPooling

#: Opset of the default ONNX domain used by the TorchScript exporter (torch 1.13 supports up to 17).
TORCHSCRIPT_OPSET = 17


def spp_modules(model: nn.Module) -> List[SpatialPyramidPooling]:
    return [m for m in model.modules() if isinstance(m, SpatialPyramidPooling)]


def roi_modules(model: nn.Module) -> List[RoiSpatialPyramidPooling]:
    return [m for m in model.modules() if isinstance(m, RoiSpatialPyramidPooling)]


def _roi_input_indices(model: nn.Module, args: Tuple[Any, ...], roi_inputs: Optional[Sequence[int]]) -> List[int]:
    """Indices of the example inputs that are roi tensors [K, 5]: ``roi_inputs`` when given, else (only for models
    containing RoiSpatialPyramidPooling) every input after the first that is a 2-D tensor with 5 columns."""
    if roi_inputs is not None:
        out = []
        for i in roi_inputs:
            i = C._as_int(i, "roi_inputs entry")
            if not 0 < i < len(args) or not isinstance(args[i], torch.Tensor) or args[i].dim() != 2:
                raise ValueError(
                    f"export_onnx: roi_inputs entry {i} is not a 2-D tensor input after the first "
                    f"({len(args)} inputs given)"
                )
            out.append(i)
        return out
    if not roi_modules(model):
        return []
    return [
        i for i, a in enumerate(args)
        if i > 0 and isinstance(a, torch.Tensor) and a.dim() == 2 and a.shape[1] == C.ROI_COLUMNS
    ]


def _roi_dim_names(indices: Sequence[int]) -> Dict[int, str]:
    """{input index: dim name}: "K" for the first roi input, then "K1", "K2", ..."""
    return {i: "K" if j == 0 else f"K{j}" for j, i in enumerate(indices)}


def _complete_input_names(input_names: List[str], count: int, roi_names: Dict[int, str]) -> List[str]:
    """Names for every example input when roi inputs need one (dynamic axes are given by name): the user's names,
    then "rois" (roi inputs; "rois_1", ... for more) or "input_<i>"."""
    if not roi_names or len(input_names) >= count:
        return input_names
    names = list(input_names)
    used = set(names)
    for i in range(len(names), count):
        if i in roi_names:
            base = "rois" if roi_names[i] == "K" else f"rois_{roi_names[i][1:]}"
        else:
            base = f"input_{i}"
        name, j = base, 1
        while name in used:
            name, j = f"{base}_{j}", j + 1
        names.append(name)
        used.add(name)
    return names


@contextlib.contextmanager
def _export_mode_override(model: nn.Module, export_mode: Optional[str]) -> Iterator[None]:
    if export_mode is None:
        yield
        return
    C.validate_export_mode(export_mode)
    modules = spp_modules(model)
    saved = [m.export_mode for m in modules]
    for m in modules:
        m.export_mode = export_mode
    try:
        yield
    finally:
        for m, mode in zip(modules, saved):
            m.export_mode = mode


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _check_standard_ops(model: nn.Module, args: Tuple[Any, ...]) -> None:
    """Runs the model once (eager, no grad) and raises ValueError for an export_mode='onnx' SPP module whose
    input size has non-uniform bins -- before any exporter starts, so the error is not wrapped."""
    modules = [m for m in spp_modules(model) if m.export_mode == "onnx"]
    if not modules:
        return

    def pre_hook(module, inputs):
        x = inputs[0]
        if isinstance(x, torch.Tensor) and x.dim() == 4:
            standard_ops_plans(int(x.shape[-2]), int(x.shape[-1]), module.levels, module.pool_mode, module.bin_rule)

    handles = [m.register_forward_pre_hook(pre_hook) for m in modules]
    try:
        with torch.no_grad():
            model(*args)
    finally:
        for h in handles:
            h.remove()


def dynamo_available() -> Tuple[bool, str]:
    """(True, "") when export_onnx(dynamo=True) can run here, else (False, why)."""
    from . import _dynamo

    return _dynamo.dynamo_export_support()


def export_onnx(
    model: nn.Module,
    args: Union[torch.Tensor, Tuple[Any, ...]],
    path: Optional[Union[str, os.PathLike]] = None,
    *,
    dynamic_hw: Optional[bool] = None,
    dynamic_batch: bool = True,
    dynamo: Optional[bool] = None,
    export_mode: Optional[str] = None,
    input_names: Sequence[str] = ("input",),
    output_names: Sequence[str] = ("output",),
    opset_version: Optional[int] = None,
    check: bool = True,
    roi_inputs: Optional[Sequence[int]] = None,
    dynamic_rois: bool = True,
    **export_kwargs: Any,
):
    """Exports ``model`` to ONNX with one ``trt.plugins::SpatialPyramidPooling`` node per SPP module call and one
    ``trt.plugins::RoiSpatialPyramidPooling`` node per ROI SPP module call.

    Args:
        model: any nn.Module containing :class:`SpatialPyramidPooling` and/or :class:`RoiSpatialPyramidPooling`
            modules. Exported in eval mode.
        args: example input (a tensor or a tuple). The first input is the image batch [N, C, H, W].
        path: where to write the .onnx file (None: only return the model).
        dynamic_hw: make H and W (dims 2, 3) of the first input dynamic. Default: True for export_mode "plugin",
            False for "onnx" (standard pooling ops need a static size; True there raises ValueError).
        dynamic_batch: make dim 0 of the first input and of every output dynamic ("N").
        dynamo: True: torch.export based exporter (torch >= 2.6, needs onnxscript); False: TorchScript exporter;
            None: dynamo when it is available here, else TorchScript.
        export_mode: override every SPP module's ``export_mode`` for this export ("plugin" or "onnx").
        input_names, output_names: ONNX graph input / output names.
        opset_version: default-domain opset (TorchScript default 17; dynamo: the exporter's default).
        check: run onnx.checker on the result.
        roi_inputs: indices of the inputs that are roi tensors [K, 5]. Default: for models containing
            RoiSpatialPyramidPooling, every input after the first that is a 2-D tensor with 5 columns.
        dynamic_rois: make dim 0 of the roi inputs dynamic ("K"; "K1", "K2", ... for further roi inputs).
        **export_kwargs: passed on to torch.onnx.export.

    Returns:
        the exported ``onnx.ModelProto``, with the SPP outputs annotated [N, C*sum(L^2)], the ROI SPP outputs
        [K, C*sum(L^2)], and shapes inferred.

    Dims are named "N", "H", "W" (first input) and "K" (roi inputs) in the graph. Roi inputs without a name in
    ``input_names`` are named "rois" ("rois_1", ...), other unnamed inputs "input_<i>". For the dynamo exporter use
    example sizes >= 2 for every dynamic dim (torch.export specializes dimensions of size 0 and 1).
    """
    import onnx

    from . import onnx_utils

    if isinstance(args, torch.Tensor):
        args = (args,)
    args = tuple(args)
    if not args or not isinstance(args[0], torch.Tensor) or args[0].dim() != 4:
        raise ValueError("export_onnx: the first input must be a 4-D tensor [N, C, H, W]")
    modes = {export_mode} if export_mode is not None else {m.export_mode for m in spp_modules(model)}
    if export_mode is not None:
        C.validate_export_mode(export_mode)
    if dynamic_hw is None:
        dynamic_hw = "onnx" not in modes
    if dynamic_hw and "onnx" in modes:
        raise ValueError(
            "export_mode='onnx' needs a static input size (dynamic_hw=False): MaxPool/AveragePool kernels and "
            "strides are fixed attributes. Use export_mode='plugin' for dynamic H and W."
        )
    if dynamo is None:
        dynamo = dynamo_available()[0]
    elif dynamo:
        ok, why = dynamo_available()
        if not ok:
            raise RuntimeError(f"export_onnx(dynamo=True) is not available: {why}")
    roi_dims = _roi_dim_names(_roi_input_indices(model, args, roi_inputs)) if dynamic_rois else {}
    input_names = _complete_input_names(list(input_names), len(args), roi_dims)
    output_names = list(output_names)
    first = input_names[0] if input_names else "input"

    with _eval_mode(model), _export_mode_override(model, export_mode):
        _check_standard_ops(model, args)
        if dynamo:
            proto = _export_dynamo(model, args, input_names, output_names, dynamic_hw, dynamic_batch,
                                   opset_version, export_kwargs, roi_dims)
        else:
            proto = _export_torchscript(model, args, input_names, output_names, first, dynamic_hw, dynamic_batch,
                                        opset_version, export_kwargs, roi_dims)

    proto = onnx_utils.annotate_spp_outputs(proto)
    if check:
        onnx.checker.check_model(proto)
    if path is not None:
        onnx.save(proto, os.fspath(path))
    return proto


def _export_torchscript(model, args, input_names, output_names, first, dynamic_hw, dynamic_batch, opset_version,
                        export_kwargs, roi_dims=None):
    import onnx

    dynamic_axes: Dict[str, Dict[int, str]] = {}
    axes = {}
    if dynamic_batch:
        axes[0] = "N"
    if dynamic_hw:
        axes.update({2: "H", 3: "W"})
    if axes:
        dynamic_axes[first] = axes
    for i, name in (roi_dims or {}).items():
        if i < len(input_names):
            dynamic_axes[input_names[i]] = {0: name}
    if dynamic_batch:
        for name in output_names:
            dynamic_axes[name] = {0: "N"}
    kwargs = dict(export_kwargs)
    if "dynamic_axes" in kwargs:
        dynamic_axes.update(kwargs.pop("dynamic_axes"))
    custom_opsets = dict(kwargs.pop("custom_opsets", {}) or {})
    custom_opsets.setdefault(C.ONNX_DOMAIN, C.ONNX_DOMAIN_VERSION)
    if "dynamo" in _export_parameters():
        kwargs["dynamo"] = False
    buffer = io.BytesIO()
    with _tracing.forced_target(_tracing.TORCHSCRIPT), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        # "The shape inference of trt.plugins::SpatialPyramidPooling type is missing" (and of
        # RoiSpatialPyramidPooling): annotate_spp_outputs below writes the output type.
        warnings.filterwarnings("ignore", message=".*shape inference of .*SpatialPyramidPooling.*")
        # Sizes read while tracing become constants; that is intended (the plugin node does not depend on them,
        # and export_mode="onnx" is static by definition).
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(
            model,
            args,
            buffer,
            input_names=input_names,
            output_names=output_names,
            opset_version=opset_version or TORCHSCRIPT_OPSET,
            dynamic_axes=dynamic_axes or None,
            custom_opsets=custom_opsets,
            **kwargs,
        )
    return onnx.load_from_string(buffer.getvalue())


def _export_dynamo(model, args, input_names, output_names, dynamic_hw, dynamic_batch, opset_version, export_kwargs,
                   roi_dims=None):
    from . import _dynamo

    table = dict(export_kwargs.pop("custom_translation_table", {}) or {})
    table.update(_dynamo.custom_translation_table())
    dims: Dict[int, str] = {}
    if dynamic_batch:
        dims[0] = "N"
    if dynamic_hw:
        dims.update({2: "H", 3: "W"})
    kwargs = dict(export_kwargs)
    roi_dims = roi_dims or {}
    if "dynamic_shapes" not in kwargs and (dims or roi_dims):
        kwargs["dynamic_shapes"] = tuple(
            [dims or None] + [({0: roi_dims[i]} if i in roi_dims else None) for i in range(1, len(args))]
        )
    if opset_version is not None:
        kwargs["opset_version"] = opset_version
    with _tracing.forced_target(_tracing.DYNAMO):
        program = torch.onnx.export(
            model,
            args,
            dynamo=True,
            input_names=input_names,
            output_names=output_names,
            custom_translation_table=table,
            **kwargs,
        )
    if program is None:  # pragma: no cover - only with f= given, which we do not pass
        raise RuntimeError("torch.onnx.export returned no ONNXProgram")
    return program.model_proto


def _export_parameters():
    import inspect

    try:
        return inspect.signature(torch.onnx.export).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return {}
