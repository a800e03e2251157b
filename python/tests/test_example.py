"""examples/sppnet: the SPP-Net runs on any size, and the committed tiny sample files agree with the module."""

import importlib.util
import os

import pytest
import torch

from spp_trt.onnx_utils import node_attributes, spp_nodes

from helpers import dynamo_or_skip, repo_path

EXAMPLE = repo_path("examples", "sppnet", "sppnet.py")


@pytest.fixture(scope="module")
def sppnet():
    if not os.path.isfile(EXAMPLE):
        pytest.fail(f"missing {EXAMPLE}")
    spec = importlib.util.spec_from_file_location("sppnet_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sppnet_runs_on_images_of_different_sizes(sppnet):
    torch.manual_seed(0)
    net = sppnet.SPPNet(channels=(4, 8), num_classes=3).eval()
    with torch.no_grad():
        for hw in [(3, 3), (32, 48), (57, 19), (128, 96)]:
            assert net(torch.randn(2, 3, *hw)).shape == (2, 3)


def test_committed_samples_match_the_module(sppnet):
    data = repo_path("samples", "data")
    for name in ("sppnet_tiny.onnx", "sppnet_tiny_io.txt"):
        assert os.path.isfile(os.path.join(data, name)), f"samples/data/{name} is missing; run write-samples"
    assert os.path.getsize(os.path.join(data, "sppnet_tiny.onnx")) < 16 * 1024, "keep the sample tiny"
    sppnet.check_samples(data)


def test_committed_io_file_is_consistent(sppnet):
    stored = sppnet.read_io_file(repo_path("samples", "data", "sppnet_tiny_io.txt"))
    assert list(stored["input"].shape) == [1, 3, 32, 48]
    assert list(stored["spp_input"].shape) == [1, 8, 15, 23]
    assert list(stored["spp_output"].shape) == [1, 168]
    assert list(stored["output"].shape) == [1, 4]
    assert stored["output"].abs().sum() > 0 and stored["spp_output"].abs().sum() > 0


@pytest.mark.parametrize("exporter", ["torchscript", pytest.param("dynamo", marks=pytest.mark.dynamo)])
def test_write_samples_round_trip(sppnet, tmp_path, exporter):
    dynamo = exporter == "dynamo"
    if dynamo:
        dynamo_or_skip()
    onnx_path, io_path = sppnet.write_samples(str(tmp_path), dynamo=dynamo)
    sppnet.check_samples(str(tmp_path))
    import onnx

    proto = onnx.load(onnx_path)
    (node,) = spp_nodes(proto)
    assert node_attributes(node)["levels"] == [1, 2, 4]


def test_check_samples_detects_a_wrong_output(sppnet, tmp_path):
    sppnet.write_samples(str(tmp_path))
    io_path = tmp_path / "sppnet_tiny_io.txt"
    lines = io_path.read_text().splitlines()
    values = lines[-1].split()
    values[0] = repr(float(values[0]) + 1e-2)
    lines[-1] = " ".join(values)
    io_path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AssertionError, match="output"):
        sppnet.check_samples(str(tmp_path))
