"""ONNX export through both exporters: the plugin node (structure, attribute types, shapes) and the standard-ops
mode (checked numerically with onnxruntime)."""

import inspect
import io

import numpy as np
import onnx
import pytest
import torch
from onnx import AttributeProto, TensorProto

import spp_trt
from spp_trt import SpatialPyramidPooling, export_onnx
from spp_trt.onnx_utils import node_attributes, shape_of, spp_nodes

from helpers import dynamo_or_skip, onnxruntime_or_skip

EXPORTERS = ["torchscript", pytest.param("dynamo", marks=pytest.mark.dynamo)]


def _use(exporter):
    if exporter == "dynamo":
        dynamo_or_skip()
        return True
    return False


class TwoSpp(torch.nn.Module):
    """Two SPP modules with different settings on two branches, then a classifier."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.spp_a = SpatialPyramidPooling((1, 2, 4), "max", "adaptive")
        self.spp_b = SpatialPyramidPooling((3, 1), "avg", "caffe")
        self.fc = torch.nn.Linear(4 * 21 + 4 * 10, 5)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        return self.fc(torch.cat([self.spp_a(y), self.spp_b(y)], 1))


def _export(model, x, exporter, **kw):
    return export_onnx(model, x, dynamo=_use(exporter), **kw)


def _dims(value_info):
    out = []
    for d in value_info.type.tensor_type.shape.dim:
        out.append(d.dim_value if d.HasField("dim_value") else (d.dim_param if d.HasField("dim_param") else None))
    return out


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_one_plugin_node_per_module_with_plugin_attributes(exporter, tmp_path):
    torch.manual_seed(0)
    model = TwoSpp()
    x = torch.randn(2, 3, 20, 28)
    path = tmp_path / "two_spp.onnx"
    proto = _export(model, x, exporter, path=path)
    assert path.is_file()
    onnx.checker.check_model(onnx.load(str(path)))

    nodes = spp_nodes(proto)
    assert len(nodes) == 2, [n.op_type for n in proto.graph.node]
    assert [n.domain for n in nodes] == ["trt.plugins", "trt.plugins"]
    assert {(o.domain, o.version) for o in proto.opset_import if o.domain == "trt.plugins"} == {("trt.plugins", 1)}
    # no ONNX function may shadow the op: TensorRT would import a local function instead of the plugin
    assert all(f.name != "SpatialPyramidPooling" for f in proto.functions)

    expected = [
        {"levels": [1, 2, 4], "pool_mode": "max", "bin_rule": "adaptive"},
        {"levels": [3, 1], "pool_mode": "avg", "bin_rule": "caffe"},
    ]
    for node, want in zip(sorted(nodes, key=lambda n: len(node_attributes(n)["levels"]), reverse=True), expected):
        attrs = {a.name: a for a in node.attribute}
        assert set(attrs) == {"levels", "pool_mode", "bin_rule", "plugin_version", "plugin_namespace"}
        # exactly the ONNX types the TensorRT parser turns into plugin fields: INTS -> kINT32[], STRING -> kCHAR
        assert attrs["levels"].type == AttributeProto.INTS
        for name in ("pool_mode", "bin_rule", "plugin_version", "plugin_namespace"):
            assert attrs[name].type == AttributeProto.STRING, name
        values = node_attributes(node)
        assert values["levels"] == want["levels"]
        assert values["pool_mode"] == want["pool_mode"]
        assert values["bin_rule"] == want["bin_rule"]
        assert values["plugin_version"] == "1"
        assert values["plugin_namespace"] == ""
        assert len(node.input) == 1 and len(node.output) == 1


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_output_annotation_and_dynamic_axes(exporter):
    torch.manual_seed(0)
    model = TwoSpp()
    proto = _export(model, torch.randn(2, 3, 20, 28), exporter)
    assert _dims(proto.graph.input[0]) == ["N", 3, "H", "W"]
    assert proto.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT

    inferred = onnx.shape_inference.infer_shapes(proto)  # must not drop or break the custom op's annotation
    conv_out = [n for n in inferred.graph.node if n.op_type == "Relu"][0].output[0]
    for node in spp_nodes(inferred):
        levels = node_attributes(node)["levels"]
        dims = shape_of(inferred, node.output[0])
        assert dims is not None, "the SPP output has no type annotation"
        assert dims == ["N", 4 * sum(L * L for L in levels)], dims
        assert node.input[0] == conv_out
    vi = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for node in spp_nodes(inferred):
        assert vi[node.output[0]].type.tensor_type.elem_type == TensorProto.FLOAT
    # shapes flow through the plugin into the classifier
    assert _dims(inferred.graph.output[0]) == ["N", 5]


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_spp_as_graph_output_and_static_sizes(exporter):
    model = SpatialPyramidPooling((2, 5), "max", "caffe")
    x = torch.randn(3, 6, 11, 9)
    proto = _export(model, x, exporter, dynamic_hw=False, dynamic_batch=False)
    assert _dims(proto.graph.input[0]) == [3, 6, 11, 9]
    assert _dims(proto.graph.output[0]) == [3, 6 * (4 + 25)]
    assert [n.op_type for n in proto.graph.node] == ["SpatialPyramidPooling"]

    proto = _export(model, x, exporter)
    assert _dims(proto.graph.input[0]) == ["N", 6, "H", "W"]
    assert _dims(proto.graph.output[0]) == ["N", 6 * 29]


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_half_precision_keeps_the_element_type(exporter):
    if exporter == "torchscript" and not hasattr(torch.Tensor, "half"):
        pytest.skip("no half tensors")
    model = SpatialPyramidPooling((1, 2), "avg", "adaptive")
    x = torch.randn(2, 3, 8, 6, dtype=torch.float16)
    try:
        proto = _export(model, x, exporter)
    except RuntimeError as exc:
        if "not implemented for 'Half'" in str(exc):
            pytest.skip(f"torch {torch.__version__} cannot run half pooling on CPU while tracing: {exc}")
        raise
    node = spp_nodes(proto)[0]
    vi = {v.name: v for v in list(proto.graph.value_info) + list(proto.graph.output)}
    assert vi[node.output[0]].type.tensor_type.elem_type == TensorProto.FLOAT16


def test_plain_torch_onnx_export_torchscript_works_too():
    """Users may call torch.onnx.export directly: the module emits the plugin node during TorchScript export."""
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 1), SpatialPyramidPooling((1, 3), "max", "caffe"))
    buffer = io.BytesIO()
    kwargs = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(model, (torch.randn(2, 3, 9, 10),), buffer, input_names=["input"], output_names=["output"],
                      opset_version=17, custom_opsets={"trt.plugins": 1},
                      dynamic_axes={"input": {0: "N", 2: "H", 3: "W"}, "output": {0: "N"}}, **kwargs)
    proto = onnx.load_from_string(buffer.getvalue())
    nodes = spp_nodes(proto)
    assert len(nodes) == 1 and nodes[0].domain == "trt.plugins"
    assert node_attributes(nodes[0])["levels"] == [1, 3]
    annotated = spp_trt.onnx_utils.annotate_spp_outputs(proto)
    assert shape_of(annotated, "output") == ["N", 20]


def test_eager_forward_is_unchanged_outside_export():
    m = SpatialPyramidPooling((1, 2), "max", "caffe")
    x = torch.randn(2, 3, 7, 7)
    before = m(x)
    export_onnx(m, x, dynamo=False)
    torch.testing.assert_close(m(x), before, rtol=0, atol=0)
    assert m.export_mode == "plugin"
    export_onnx(m, x, dynamo=False, export_mode="onnx")
    assert m.export_mode == "plugin", "the export_mode override must be undone"


def test_export_keeps_training_flag():
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 1), torch.nn.BatchNorm2d(3), SpatialPyramidPooling())
    m.train()
    export_onnx(m, torch.randn(2, 3, 8, 8), dynamo=False)
    assert m.training


# ----------------------------------------------------------------------------------------------------------------
# export_mode="onnx": standard ops only


def _standard_ops_cases():
    return [
        ((8, 12), (1, 2, 4), "max", "adaptive"),
        ((8, 12), (1, 2, 4), "avg", "adaptive"),
        ((5, 9), (1, 2), "avg", "adaptive"),  # overlapping but uniform: kernel 3 stride 2 along H
        ((7, 10), (1, 2, 3), "max", "caffe"),  # caffe with padding: Pad + MaxPool
        ((7, 10), (1, 2, 3), "avg", "caffe"),  # Pad(0) + AveragePool: divisor k*k
        ((13, 13), (1, 2, 4), "max", "caffe"),
    ]


@pytest.mark.onnxruntime
@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize("hw, levels, pool_mode, rule", _standard_ops_cases())
def test_standard_ops_mode_matches_module_in_onnxruntime(exporter, hw, levels, pool_mode, rule):
    ort = onnxruntime_or_skip()
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1),
                                SpatialPyramidPooling(levels, pool_mode, rule, export_mode="onnx"))
    x = torch.randn(2, 3, *hw)
    proto = _export(model, x, exporter)
    ops = {n.op_type for n in proto.graph.node}
    assert "SpatialPyramidPooling" not in ops
    assert all(n.domain in ("", "ai.onnx") for n in proto.graph.node)
    assert ops & {"MaxPool", "AveragePool"}, ops
    assert not ops & {"GlobalMaxPool", "Loop", "If"}, ops
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    for batch in (2, 5):  # the batch stays dynamic
        xb = torch.randn(batch, 3, *hw)
        (got,) = session.run(None, {session.get_inputs()[0].name: xb.numpy()})
        with torch.no_grad():
            want = model(xb).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_standard_ops_mode_via_export_option(exporter):
    model = SpatialPyramidPooling((1, 2, 4), "max", "adaptive")
    proto = _export(model, torch.randn(2, 3, 8, 16), exporter, export_mode="onnx")
    assert not spp_nodes(proto)
    assert sum(n.op_type == "MaxPool" for n in proto.graph.node) == 3


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_standard_ops_mode_rejects_non_uniform_bins_and_dynamic_sizes(exporter):
    model = SpatialPyramidPooling((1, 2, 4), "max", "adaptive", export_mode="onnx")
    with pytest.raises(ValueError) as info:
        _export(model, torch.randn(2, 3, 7, 8), exporter)
    text = str(info.value)
    assert "adaptive bins of level 4 over size 7 are not uniform" in text
    assert "export_mode='plugin'" in text
    with pytest.raises(ValueError, match="needs a static input size"):
        _export(model, torch.randn(2, 3, 8, 8), exporter, dynamic_hw=True)
    caffe = SpatialPyramidPooling((1, 4), "avg", "caffe", export_mode="onnx")
    with pytest.raises(ValueError, match="has empty bins"):
        _export(caffe, torch.randn(2, 3, 5, 8), exporter)


def test_bad_export_arguments():
    m = SpatialPyramidPooling()
    with pytest.raises(ValueError, match="export_mode 'x' is not supported"):
        export_onnx(m, torch.randn(2, 3, 8, 8), dynamo=False, export_mode="x")
    with pytest.raises(ValueError, match="4-D"):
        export_onnx(m, torch.randn(3, 8, 8), dynamo=False)
    ok, why = spp_trt.dynamo_available()
    if not ok:
        with pytest.raises(RuntimeError, match="not available"):
            export_onnx(m, torch.randn(2, 3, 8, 8), dynamo=True)


@pytest.mark.dynamo
def test_plain_torch_onnx_export_dynamo_with_the_translation_table():
    """Users may call torch.onnx.export(dynamo=True) directly with spp_trt.custom_translation_table()."""
    dynamo_or_skip()
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 1), SpatialPyramidPooling((1, 3), "avg", "caffe")).eval()
    program = torch.onnx.export(model, (torch.randn(2, 3, 9, 10),), dynamo=True,
                                input_names=["input"], output_names=["output"],
                                dynamic_shapes=({0: "N", 2: "H", 3: "W"},),
                                custom_translation_table=spp_trt.custom_translation_table())
    proto = program.model_proto
    nodes = spp_nodes(proto)
    assert len(nodes) == 1 and nodes[0].domain == "trt.plugins"
    assert node_attributes(nodes[0]) == {"levels": [1, 3], "pool_mode": "avg", "bin_rule": "caffe",
                                         "plugin_version": "1", "plugin_namespace": ""}
    assert shape_of(proto, "output") == ["N", 20]
