"""Helpers for ONNX models holding SpatialPyramidPooling / RoiSpatialPyramidPooling nodes (no torch needed)."""

from typing import Dict, List, Optional, Sequence

import onnx
from onnx import helper

from . import _contract as C


def spp_nodes(model: onnx.ModelProto) -> List[onnx.NodeProto]:
    """The SpatialPyramidPooling nodes of the main graph (any domain: TensorRT dispatches on op_type only)."""
    return [n for n in model.graph.node if n.op_type == C.PLUGIN_NAME]


def roi_nodes(model: onnx.ModelProto) -> List[onnx.NodeProto]:
    """The RoiSpatialPyramidPooling nodes of the main graph (any domain)."""
    return [n for n in model.graph.node if n.op_type == C.ROI_PLUGIN_NAME]


def node_attributes(node: onnx.NodeProto) -> Dict[str, object]:
    """{name: python value} of a node's attributes (strings decoded)."""
    out = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        elif isinstance(value, list):
            value = [v.decode("utf-8") if isinstance(v, bytes) else v for v in value]
        out[a.name] = value
    return out


def _value_types(graph: onnx.GraphProto) -> Dict[str, onnx.ValueInfoProto]:
    types = {}
    for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
        if vi.type.HasField("tensor_type"):
            types[vi.name] = vi
    for init in graph.initializer:
        if init.name not in types:
            types[init.name] = helper.make_tensor_value_info(init.name, init.data_type, list(init.dims))
    return types


def _downstream(graph: onnx.GraphProto, sources: Sequence[str]) -> set:
    """Names of all values computed (transitively) from ``sources``."""
    reached = set(sources)
    changed = True
    while changed:
        changed = False
        for n in graph.node:
            if any(i in reached for i in n.input):
                for o in n.output:
                    if o and o not in reached:
                        reached.add(o)
                        changed = True
    return reached


def _set_dims(vi: onnx.ValueInfoProto, elem_type: int, dims: Sequence[onnx.TensorShapeProto.Dimension]) -> None:
    tt = vi.type.tensor_type
    tt.elem_type = elem_type
    tt.ClearField("shape")
    for d in dims:
        tt.shape.dim.add().CopyFrom(d)


def annotate_spp_outputs(model: onnx.ModelProto, infer: bool = True) -> onnx.ModelProto:
    """Writes the output type of every SpatialPyramidPooling node: [N, C * sum(L^2)] with the input's element
    type, N being the input's dim 0 (same name or value), and of every RoiSpatialPyramidPooling node:
    [K, C * sum(L^2)] with the features' element type, K being the rois' dim 0 -- then re-runs ONNX shape inference
    so that values downstream of the plugins (e.g. a Gemm) get their shapes. Returns a new model; the input is not
    modified.

    The TorchScript exporter cannot infer shapes through a custom op and writes placeholder dims; the dynamo
    exporter writes the right ones already (then this is a no-op apart from the inference). Graph outputs computed
    from a RoiSpatialPyramidPooling output (but not that output itself) lose their exporter-written shape (which
    export_onnx's TorchScript path names "N") and get the inferred one.
    """
    m = onnx.ModelProto()
    m.CopyFrom(model)
    if infer:
        m = onnx.shape_inference.infer_shapes(m)
    graph = m.graph
    nodes = spp_nodes(m)
    rnodes = roi_nodes(m)
    if not nodes and not rnodes:
        return m
    types = _value_types(graph)
    outputs_by_name = {o.name: o for o in graph.output}
    spp_out_names = [n.output[0] for n in nodes + rnodes]

    # Forget the stale annotations downstream of the plugins (except graph outputs, which are merged below).
    stale = _downstream(graph, spp_out_names)
    kept = [vi for vi in graph.value_info if vi.name not in stale]
    del graph.value_info[:]
    graph.value_info.extend(kept)
    roi_out_names = {n.output[0] for n in rnodes}
    for name in _downstream(graph, sorted(roi_out_names)) - roi_out_names:
        out = outputs_by_name.get(name)
        if out is not None and out.type.HasField("tensor_type"):
            out.type.tensor_type.ClearField("shape")

    for n in nodes + rnodes:
        is_roi = n.op_type == C.ROI_PLUGIN_NAME
        levels = node_attributes(n).get("levels")
        src = types.get(n.input[0])
        if src is None or not levels or (is_roi and len(n.input) < 2):
            continue
        tt = src.type.tensor_type
        in_dims = list(tt.shape.dim) if tt.HasField("shape") else []
        if len(in_dims) != 4:
            continue
        d0 = onnx.TensorShapeProto.Dimension()
        if is_roi:
            rois = types.get(n.input[1])
            rt = rois.type.tensor_type if rois is not None else None
            roi_dims = list(rt.shape.dim) if rt is not None and rt.HasField("shape") else []
            if len(roi_dims) == 2:
                d0.CopyFrom(roi_dims[0])
        else:
            d0.CopyFrom(in_dims[0])
        d1 = onnx.TensorShapeProto.Dimension()
        if in_dims[1].HasField("dim_value"):
            d1.dim_value = in_dims[1].dim_value * C.bins_per_channel(levels)
        name = n.output[0]
        if name in outputs_by_name:
            out = outputs_by_name[name]
            existing = list(out.type.tensor_type.shape.dim)
            known = d0.HasField("dim_param") or d0.HasField("dim_value")
            if not known and existing and (existing[0].HasField("dim_param") or existing[0].HasField("dim_value")):
                d0 = existing[0]  # the input's batch dim is unknown: keep whatever the exporter wrote
            _set_dims(out, tt.elem_type, [d0, d1])
        else:
            vi = graph.value_info.add()
            vi.name = name
            _set_dims(vi, tt.elem_type, [d0, d1])
    if infer:
        m = onnx.shape_inference.infer_shapes(m)
    return m


def value_info_by_name(model: onnx.ModelProto) -> Dict[str, onnx.ValueInfoProto]:
    return _value_types(model.graph)


def shape_of(model: onnx.ModelProto, name: str) -> Optional[List[object]]:
    """[dim_value or dim_param or None, ...] of a value, or None when it has no annotation."""
    vi = _value_types(model.graph).get(name)
    if vi is None or not vi.type.tensor_type.HasField("shape"):
        return None
    dims = []
    for d in vi.type.tensor_type.shape.dim:
        if d.HasField("dim_value"):
            dims.append(d.dim_value)
        elif d.HasField("dim_param"):
            dims.append(d.dim_param)
        else:
            dims.append(None)
    return dims
