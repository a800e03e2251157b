"""ONNX export of RoiSpatialPyramidPooling through both exporters (one trt.plugins::RoiSpatialPyramidPooling node per
module, attribute names and ONNX types as the plugin reads them, output annotation [K, C*sum(L^2)]), models holding
both SPP modules, the custom op behind the dynamo exporter, and torchvision's own MaxRoiPool export."""

import inspect
import io
import math
import warnings

import numpy as np
import onnx
import pytest
import torch
from onnx import AttributeProto, TensorProto

import spp_trt
from spp_trt import RoiSpatialPyramidPooling, SpatialPyramidPooling, export_onnx, roi_spatial_pyramid_pool
from spp_trt import _dynamo, _tracing
from spp_trt.onnx_utils import node_attributes, roi_nodes, shape_of, spp_nodes

from helpers import dynamo_or_skip, torchvision_or_skip

EXPORTERS = ["torchscript", pytest.param("dynamo", marks=pytest.mark.dynamo)]

ROI_ATTRIBUTE_TYPES = {
    "levels": AttributeProto.INTS,
    "pool_mode": AttributeProto.STRING,
    "spatial_scale": AttributeProto.FLOAT,
    "plugin_version": AttributeProto.STRING,
    "plugin_namespace": AttributeProto.STRING,
}


def _use(exporter):
    if exporter == "dynamo":
        dynamo_or_skip()
        return True
    return False


def _dims(value_info):
    out = []
    for d in value_info.type.tensor_type.shape.dim:
        out.append(d.dim_value if d.HasField("dim_value") else (d.dim_param if d.HasField("dim_param") else None))
    return out


def _rois(k, n, seed, extent=60.0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(k, 4, generator=g) * extent
    batch = torch.randint(0, n, (k, 1), generator=g).float()
    return torch.cat([batch, torch.minimum(xy[:, :2], xy[:, 2:]), torch.maximum(xy[:, :2], xy[:, 2:])], 1)


class Detector(torch.nn.Module):
    """Backbone -> two ROI SPP heads (different settings) -> classifier, plus an image-SPP branch."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.roi_a = RoiSpatialPyramidPooling((1, 2, 3), "max", 0.25)
        self.roi_b = RoiSpatialPyramidPooling((2,), "avg", 0.1)
        self.spp = SpatialPyramidPooling((1, 2), "avg", "caffe")
        self.fc = torch.nn.Linear(4 * 14 + 4 * 4, 5)

    def forward(self, x, rois):
        y = torch.relu(self.conv(x))
        scores = self.fc(torch.cat([self.roi_a(y, rois), self.roi_b(y, rois)], 1))
        return scores, self.spp(y)


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_one_node_per_module_with_the_plugin_attributes(exporter, tmp_path):
    torch.manual_seed(0)
    model = Detector()
    x = torch.randn(2, 3, 20, 28)
    rois = _rois(7, 2, seed=1, extent=100.0)
    path = tmp_path / "detector.onnx"
    proto = export_onnx(model, (x, rois), path, dynamo=_use(exporter), output_names=["scores", "image_spp"])
    onnx.checker.check_model(onnx.load(str(path)))

    nodes = roi_nodes(proto)
    assert len(nodes) == 2, [n.op_type for n in proto.graph.node]
    assert len(spp_nodes(proto)) == 1
    assert [n.domain for n in nodes] == ["trt.plugins", "trt.plugins"]
    assert {(o.domain, o.version) for o in proto.opset_import if o.domain == "trt.plugins"} == {("trt.plugins", 1)}
    assert all(f.name not in ("RoiSpatialPyramidPooling", "SpatialPyramidPooling") for f in proto.functions)
    # nothing of the eager formulation (torchvision RoiPool, index_copy, gathers) is left in the graph
    assert not [n for n in proto.graph.node if n.op_type in ("MaxRoiPool", "ScatterND", "GatherND", "NonZero")]

    expected = [
        {"levels": [1, 2, 3], "pool_mode": "max", "spatial_scale": 0.25},
        {"levels": [2], "pool_mode": "avg", "spatial_scale": float(np.float32(0.1))},
    ]
    graph_inputs = [i.name for i in proto.graph.input]
    assert graph_inputs[:2] == ["input", "rois"]
    for node, want in zip(sorted(nodes, key=lambda n: -len(node_attributes(n)["levels"])), expected):
        attrs = {a.name: a for a in node.attribute}
        # exactly the fields of the plugin (levels INT32[], pool_mode CHAR, spatial_scale FLOAT32) plus the
        # parser's plugin_version / plugin_namespace, with the ONNX types the parser converts to those
        assert {name: a.type for name, a in attrs.items()} == ROI_ATTRIBUTE_TYPES
        values = node_attributes(node)
        assert values == {**want, "plugin_version": "1", "plugin_namespace": ""}
        assert len(node.input) == 2 and len(node.output) == 1
        assert node.input[1] == "rois"


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_output_annotation_has_dynamic_k(exporter):
    torch.manual_seed(0)
    model = Detector()
    proto = export_onnx(model, (torch.randn(2, 3, 20, 28), _rois(5, 2, seed=2)), dynamo=_use(exporter),
                        output_names=["scores", "image_spp"])
    assert _dims(proto.graph.input[0]) == ["N", 3, "H", "W"]
    assert _dims(proto.graph.input[1]) == ["K", 5]
    inferred = onnx.shape_inference.infer_shapes(proto)
    vi = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for node in roi_nodes(inferred):
        levels = node_attributes(node)["levels"]
        assert shape_of(inferred, node.output[0]) == ["K", 4 * sum(L * L for L in levels)]
        assert vi[node.output[0]].type.tensor_type.elem_type == TensorProto.FLOAT
    # shapes flow through the plugin into the classifier: [K, 5], not [N, 5]
    assert _dims(inferred.graph.output[0]) == ["K", 5]
    assert _dims(inferred.graph.output[1]) == ["N", 4 * 5]


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_roi_module_alone_as_graph_output(exporter):
    model = RoiSpatialPyramidPooling((1, 2, 4), "avg", 1 / 16)
    x = torch.randn(2, 6, 11, 9)
    rois = _rois(4, 2, seed=3, extent=150.0)
    proto = export_onnx(model, (x, rois), dynamo=_use(exporter))
    assert [n.op_type for n in proto.graph.node] == ["RoiSpatialPyramidPooling"]
    assert _dims(proto.graph.output[0]) == ["K", 6 * 21]
    assert node_attributes(proto.graph.node[0])["spatial_scale"] == 0.0625

    proto = export_onnx(model, (x, rois), dynamo=_use(exporter), dynamic_rois=False, dynamic_batch=False,
                        dynamic_hw=False)
    assert _dims(proto.graph.input[0]) == [2, 6, 11, 9]
    assert _dims(proto.graph.input[1]) == [4, 5]
    assert _dims(proto.graph.output[0]) == [4, 6 * 21]


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_half_features_keep_the_element_type(exporter):
    model = RoiSpatialPyramidPooling((1, 2), "max", 0.5)
    x = torch.randn(2, 3, 8, 6).half()
    rois = _rois(3, 2, seed=4, extent=14.0).half()
    proto = export_onnx(model, (x, rois), dynamo=_use(exporter))
    node = roi_nodes(proto)[0]
    vi = {v.name: v for v in list(proto.graph.value_info) + list(proto.graph.output)}
    assert vi[node.output[0]].type.tensor_type.elem_type == TensorProto.FLOAT16


def test_roi_inputs_are_found_or_given():
    class Two(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.roi = RoiSpatialPyramidPooling((1,), "max", 1.0)

        def forward(self, x, extra, rois, more_rois):
            return self.roi(x, rois) + extra.sum(), self.roi(x, more_rois)

    x = torch.randn(2, 2, 6, 6)
    proto = export_onnx(Two(), (x, torch.randn(3, 4), _rois(3, 2, 5, 6.0), _rois(4, 2, 6, 6.0)), dynamo=False,
                        output_names=["a", "b"])
    assert [i.name for i in proto.graph.input] == ["input", "input_1", "rois", "rois_1"]
    assert _dims(proto.graph.input[2]) == ["K", 5] and _dims(proto.graph.input[3]) == ["K1", 5]
    assert _dims(proto.graph.input[1]) == [3, 4]
    assert shape_of(proto, "b") == ["K1", 2]
    proto = export_onnx(Two(), (x, torch.randn(3, 4), _rois(3, 2, 5, 6.0), _rois(4, 2, 6, 6.0)), dynamo=False,
                        roi_inputs=[3], input_names=["x", "e", "r", "r2"], output_names=["a", "b"])
    assert _dims(proto.graph.input[3]) == ["K", 5] and _dims(proto.graph.input[2]) == [3, 5]
    with pytest.raises(ValueError, match="roi_inputs entry 0"):
        export_onnx(Two(), (x, torch.randn(3, 4), _rois(3, 2, 5), _rois(4, 2, 6)), dynamo=False, roi_inputs=[0])


def test_plain_torch_onnx_export_torchscript_works_too():
    model = RoiSpatialPyramidPooling((2, 3), "max", 0.5)
    buffer = io.BytesIO()
    kwargs = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randn(2, 3, 9, 10), _rois(3, 2, 7, 18.0)), buffer,
                          input_names=["features", "rois"], output_names=["output"], opset_version=17,
                          custom_opsets={"trt.plugins": 1},
                          dynamic_axes={"features": {0: "N", 2: "H", 3: "W"}, "rois": {0: "K"}, "output": {0: "K"}},
                          **kwargs)
    proto = onnx.load_from_string(buffer.getvalue())
    nodes = roi_nodes(proto)
    assert len(nodes) == 1 and nodes[0].domain == "trt.plugins" and len(proto.graph.node) == 1
    assert node_attributes(nodes[0])["levels"] == [2, 3]
    annotated = spp_trt.onnx_utils.annotate_spp_outputs(proto)
    assert shape_of(annotated, "output") == ["K", 39]
    onnx.checker.check_model(annotated)


def test_eager_forward_is_unchanged_outside_export():
    m = RoiSpatialPyramidPooling((1, 2), "avg", 0.5)
    x = torch.randn(2, 3, 7, 7)
    rois = _rois(4, 2, seed=8, extent=14.0)
    before = m(x, rois)
    export_onnx(m, (x, rois), dynamo=False)
    torch.testing.assert_close(m(x, rois), before, rtol=0, atol=0)
    with _tracing.forced_target(_tracing.TORCHSCRIPT):
        # outside a real trace the autograd.Function just runs the reference (and has its gradient)
        xg = x.clone().requires_grad_(True)
        y = m(xg, rois)
    torch.testing.assert_close(y, before, rtol=0, atol=0)
    y.sum().backward()
    xr = x.clone().requires_grad_(True)
    m(xr, rois).sum().backward()
    torch.testing.assert_close(xg.grad, xr.grad, rtol=0, atol=0)


# ----------------------------------------------------------------------------------------------------------------
# the custom op behind the dynamo exporter


def _roi_op_or_skip():
    ok, why = _dynamo.custom_op_support()
    if not ok:
        pytest.skip(f"custom op path not available: {why}")
    _dynamo.get_roi_custom_op()
    return torch.ops.spp_trt.roi_spatial_pyramid_pool


@pytest.mark.dynamo
@pytest.mark.parametrize("pool_mode", ["max", "avg"])
def test_roi_custom_op_equals_reference_with_gradient(pool_mode):
    op = _roi_op_or_skip()
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, 3, 5, 9, generator=g, dtype=torch.float64)
    rois = _rois(6, 2, seed=9, extent=18.0)
    rois[2, 0] = 5.0  # invalid row
    levels = [1, 2, 3]
    xa = x.clone().requires_grad_(True)
    xb = x.clone().requires_grad_(True)
    ya = op(xa, rois, levels, pool_mode, 0.5)
    yb = roi_spatial_pyramid_pool(xb, rois, levels, pool_mode, 0.5)
    torch.testing.assert_close(ya, yb, rtol=0, atol=0)
    w = torch.randn(ya.shape, generator=g, dtype=torch.float64)
    (ya * w).sum().backward()
    (yb * w).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-12, atol=1e-12)
    assert xa.grad.abs().sum() > 0
    assert torch.autograd.gradcheck(lambda t: op(t, rois, levels, pool_mode, 0.5), (x[:, :2].clone().requires_grad_(),))


@pytest.mark.dynamo
def test_roi_custom_op_registrations_pass_opcheck():
    op = _roi_op_or_skip()
    opcheck = getattr(torch.library, "opcheck", None)
    if opcheck is None:
        pytest.skip(f"torch {torch.__version__} has no torch.library.opcheck")
    x = torch.randn(2, 3, 7, 6, requires_grad=True)
    opcheck(op.default, (x, _rois(5, 2, seed=3, extent=12.0), [1, 2, 3], "avg", 0.5),
            test_utils=("test_schema", "test_autograd_registration", "test_faketensor"))


@pytest.mark.dynamo
def test_torch_export_keeps_one_opaque_node_with_dynamic_k():
    _roi_op_or_skip()
    if not hasattr(torch, "export") or not hasattr(torch.export, "Dim"):
        pytest.skip(f"torch {torch.__version__} has no torch.export.Dim")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
            self.roi = RoiSpatialPyramidPooling((1, 2, 4), "max", 0.5)

        def forward(self, x, rois):
            return self.roi(self.conv(x), rois)

    net = Net().eval()
    x = torch.randn(2, 3, 17, 23)
    rois = _rois(6, 2, seed=12, extent=40.0)
    dims = ({0: torch.export.Dim("N", min=2, max=64), 2: torch.export.Dim("H", min=2, max=512),
             3: torch.export.Dim("W", min=2, max=512)}, {0: torch.export.Dim("K", min=2, max=4096)})
    ep = torch.export.export(net, (x, rois), dynamic_shapes=dims)  # torch.compiler.is_exporting() selects the op
    calls = [n for n in ep.graph.nodes if n.op == "call_function" and "spatial_pyramid_pool" in str(n.target)]
    assert [n.target for n in calls] == [torch.ops.spp_trt.roi_spatial_pyramid_pool.default]
    shape = calls[0].meta["val"].shape
    assert not isinstance(shape[0], int), "K must stay symbolic"
    assert int(shape[1]) == 4 * 21
    for k, hw in [(3, (9, 31)), (11, (40, 12))]:
        xi = torch.randn(3, 3, *hw)
        ri = _rois(k, 3, seed=k, extent=60.0)
        torch.testing.assert_close(ep.module()(xi, ri), net(xi, ri), rtol=0, atol=0)


@pytest.mark.dynamo
def test_plain_torch_onnx_export_dynamo_with_the_translation_table():
    dynamo_or_skip()
    model = RoiSpatialPyramidPooling((1, 3), "avg", 0.125).eval()
    program = torch.onnx.export(model, (torch.randn(2, 3, 9, 10), _rois(4, 2, seed=13, extent=70.0)), dynamo=True,
                                input_names=["features", "rois"], output_names=["output"],
                                dynamic_shapes=({0: "N", 2: "H", 3: "W"}, {0: "K"}),
                                custom_translation_table=spp_trt.custom_translation_table())
    proto = program.model_proto
    nodes = roi_nodes(proto)
    assert len(nodes) == 1 and nodes[0].domain == "trt.plugins"
    assert node_attributes(nodes[0]) == {"levels": [1, 3], "pool_mode": "avg", "spatial_scale": 0.125,
                                         "plugin_version": "1", "plugin_namespace": ""}
    assert shape_of(proto, "output") == ["K", 30]


def test_custom_translation_table_covers_both_ops():
    dynamo_or_skip()
    table = spp_trt.custom_translation_table()
    assert set(table) == {torch.ops.spp_trt.spatial_pyramid_pool.default,
                          torch.ops.spp_trt.roi_spatial_pyramid_pool.default}


# ----------------------------------------------------------------------------------------------------------------
# torchvision's own RoIPool export: MaxRoiPool with exactly the fields of the MaxRoiPool plugin


def _torchscript_exporter_or_skip():
    params = inspect.signature(torch.onnx.export).parameters
    if "dynamo" in params:
        return {"dynamo": False}
    return {}


@pytest.mark.parametrize("pooled, scale", [((7, 7), 1 / 16), ((3, 5), 0.25), ((1, 1), 1.0)])
def test_torchvision_roi_pool_exports_max_roi_pool_with_the_plugin_fields(pooled, scale):
    torchvision_or_skip()
    import torchvision

    kwargs = _torchscript_exporter_or_skip()
    model = torchvision.ops.RoIPool(pooled, scale).eval()
    x = torch.randn(2, 4, 16, 16)
    rois = _rois(3, 2, seed=14, extent=15.0 / scale)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x, rois), buffer, input_names=["features", "rois"], output_names=["output"],
                          opset_version=17, dynamic_axes={"rois": {0: "K"}, "output": {0: "K"}}, **kwargs)
    proto = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(proto)
    nodes = [n for n in proto.graph.node if n.op_type == spp_trt.MAX_ROI_POOL_NAME]
    assert len(nodes) == 1, [n.op_type for n in proto.graph.node]
    node = nodes[0]
    assert node.domain == ""  # the standard ONNX op; TensorRT has no importer for it and falls back to the plugin
    assert list(node.input) == ["features", "rois"]
    # exactly what the MaxRoiPool plugin reads: pooled_shape INT32[2], spatial_scale FLOAT32
    assert {a.name: a.type for a in node.attribute} == {"pooled_shape": AttributeProto.INTS,
                                                        "spatial_scale": AttributeProto.FLOAT}
    values = node_attributes(node)
    assert values["pooled_shape"] == list(pooled) and len(values["pooled_shape"]) == 2
    assert values["spatial_scale"] == float(np.float32(scale))
    # the rois feed the op unchanged: the plugin sees (batch_index, x1, y1, x2, y2) rows as torchvision does
    assert math.isclose(values["spatial_scale"], scale, rel_tol=1e-7)
