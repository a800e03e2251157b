#!/usr/bin/env python3
"""A small SPP-Net: conv stack -> SpatialPyramidPooling -> fully connected, for images of any size.

    python3 examples/sppnet/sppnet.py demo [--onnx sppnet.onnx] [--dynamo]
        runs the net on several image sizes and exports it to ONNX with dynamic N, H, W
    python3 examples/sppnet/sppnet.py write-samples [--out-dir samples/data]
        (re)generates samples/data/sppnet_tiny.onnx and samples/data/sppnet_tiny_io.txt
    python3 examples/sppnet/sppnet.py check-samples [--out-dir samples/data]
        checks that the committed sample files agree with this module (weights read back from the ONNX file)

Run from the repository root with PYTHONPATH=python (or after `pip install ./python`).
"""

import argparse
import os
import sys
from typing import Dict, List, Sequence, Tuple

import torch
from torch import nn

try:
    import spp_trt
except ImportError:  # running from a checkout without PYTHONPATH=python
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
    import spp_trt

from spp_trt import SpatialPyramidPooling

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SAMPLES_DIR = os.path.join(REPO_ROOT, "samples", "data")
TINY_ONNX = "sppnet_tiny.onnx"
TINY_IO = "sppnet_tiny_io.txt"

#: The tiny sample: its configuration, seed and reference input size. Keep in sync with docs/python.md.
TINY_CONFIG = dict(channels=(4, 8), levels=(1, 2, 4), pool_mode="max", bin_rule="adaptive", num_classes=4)
TINY_SEED = 0
TINY_INPUT_SHAPE = (1, 3, 32, 48)


class SPPNet(nn.Module):
    """conv(3 -> c0, 3x3, pad 1) + ReLU, then for each further width c: conv(3x3, stride 2, no pad) + ReLU;
    SpatialPyramidPooling; Linear(c_last * sum(L^2) -> num_classes).

    Any H, W >= 3 (one stride-2 conv) works; the classifier input size does not depend on H, W.
    """

    def __init__(self, channels: Sequence[int] = (16, 32, 64), levels: Sequence[int] = (1, 2, 4),
                 pool_mode: str = "max", bin_rule: str = "adaptive", num_classes: int = 10):
        super().__init__()
        layers: List[nn.Module] = []
        c_in = 3
        for i, c in enumerate(channels):
            if i == 0:
                layers.append(nn.Conv2d(c_in, c, 3, stride=1, padding=1))
            else:
                layers.append(nn.Conv2d(c_in, c, 3, stride=2, padding=0))
            layers.append(nn.ReLU())
            c_in = c
        self.features = nn.Sequential(*layers)
        self.spp = SpatialPyramidPooling(levels, pool_mode, bin_rule)
        self.classifier = nn.Linear(self.spp.output_features(c_in), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.spp(self.features(x)))


def build_tiny(seed: int = TINY_SEED) -> SPPNet:
    torch.manual_seed(seed)
    return SPPNet(**TINY_CONFIG).eval()


def tiny_input(shape: Tuple[int, ...] = TINY_INPUT_SHAPE) -> torch.Tensor:
    """x[i] = ((i * 7919) % 4099 - 2049) / 1024 in row-major NCHW order: exact in float32, easy to regenerate in
    C++, no long runs of equal values."""
    n = 1
    for d in shape:
        n *= d
    i = torch.arange(n, dtype=torch.int64)
    return (((i * 7919) % 4099 - 2049).to(torch.float32) / 1024.0).reshape(shape)


# ----------------------------------------------------------------------------------------------------------------
# sample files


def _format_tensor(name: str, t: torch.Tensor, per_line: int = 8) -> List[str]:
    t = t.detach().to(torch.float32).contiguous()
    lines = [f"tensor {name} {t.dim()} " + " ".join(str(d) for d in t.shape)]
    flat = t.reshape(-1).tolist()
    for k in range(0, len(flat), per_line):
        lines.append(" ".join(f"{v:.9g}" for v in flat[k:k + per_line]))
    return lines


def reference_tensors(model: SPPNet, x: torch.Tensor) -> Dict[str, torch.Tensor]:
    with torch.no_grad():
        spp_in = model.features(x)
        spp_out = model.spp(spp_in)
        out = model.classifier(spp_out)
    return {"input": x, "spp_input": spp_in, "spp_output": spp_out, "output": out}


def write_io_file(path: str, tensors: Dict[str, torch.Tensor]) -> None:
    spp_in = tensors["spp_input"]
    header = [
        "# spp-trt sample data for samples/data/sppnet_tiny.onnx, written by examples/sppnet/sppnet.py write-samples.",
        "# Format: '#' lines are comments. Each tensor is a line 'tensor <name> <rank> <dims...>' followed by its",
        "# values in row-major order, whitespace separated (%.9g: float32 values round-trip exactly).",
        "# input:      the ONNX graph input 'input' [N, 3, H, W]; x[i] = ((i * 7919) % 4099 - 2049) / 1024.",
        f"# spp_input:  the SpatialPyramidPooling node's input [N, C, H', W'] = {list(spp_in.shape)}",
        "#             (after conv 3x3 pad 1 + ReLU, conv 3x3 stride 2 + ReLU).",
        "# spp_output: the SpatialPyramidPooling node's output [N, C * 21] (levels [1, 2, 4], max, adaptive).",
        "# output:     the ONNX graph output 'output' [N, 4].",
        "# Computed by the PyTorch module in float32 on the CPU. Expected agreement with TensorRT in fp32:",
        "# the plugin alone (spp_input -> spp_output): exact, max pooling selects input values;",
        "# the whole network (input -> output): within 1e-5 absolute with TF32 disabled (TensorRT enables TF32 for",
        "# fp32 convolutions by default on Ampere and newer GPUs; with it expect differences around 1e-3).",
    ]
    lines = list(header)
    for name in ("input", "spp_input", "spp_output", "output"):
        lines.extend(_format_tensor(name, tensors[name]))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def read_io_file(path: str) -> Dict[str, torch.Tensor]:
    tensors: Dict[str, torch.Tensor] = {}
    tokens: List[str] = []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            tokens.extend(line.split())
    k = 0
    while k < len(tokens):
        if tokens[k] != "tensor":
            raise ValueError(f"{path}: expected 'tensor' at token {k}, got {tokens[k]!r}")
        name, rank = tokens[k + 1], int(tokens[k + 2])
        dims = [int(v) for v in tokens[k + 3:k + 3 + rank]]
        k += 3 + rank
        count = 1
        for d in dims:
            count *= d
        values = [float(v) for v in tokens[k:k + count]]
        if len(values) != count:
            raise ValueError(f"{path}: tensor {name} needs {count} values, found {len(values)}")
        k += count
        tensors[name] = torch.tensor(values, dtype=torch.float32).reshape(dims)
    return tensors


def load_weights_from_onnx(model: SPPNet, onnx_path: str) -> None:
    """Copies the Conv / Gemm initializers of an exported SPP-Net back into ``model`` (in graph order)."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(onnx_path)
    inits = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in proto.graph.initializer}
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    conv_nodes = [n for n in proto.graph.node if n.op_type == "Conv"]
    gemm_nodes = [n for n in proto.graph.node if n.op_type in ("Gemm", "MatMul")]
    if len(conv_nodes) != len(convs) or len(gemm_nodes) != 1:
        raise ValueError(f"{onnx_path}: expected {len(convs)} Conv and 1 Gemm node")
    with torch.no_grad():
        for conv, node in zip(convs, conv_nodes):
            conv.weight.copy_(inits[node.input[1]])
            conv.bias.copy_(inits[node.input[2]])
        gemm = gemm_nodes[0]
        weight = inits[gemm.input[1]]
        trans_b = any(a.name == "transB" and a.i == 1 for a in gemm.attribute)
        model.classifier.weight.copy_(weight if trans_b else weight.t())
        model.classifier.bias.copy_(inits[gemm.input[2]])


def write_samples(out_dir: str = SAMPLES_DIR, dynamo: bool = False) -> Tuple[str, str]:
    os.makedirs(out_dir, exist_ok=True)
    model = build_tiny()
    onnx_path = os.path.join(out_dir, TINY_ONNX)
    io_path = os.path.join(out_dir, TINY_IO)
    example = torch.randn(2, 3, 32, 48, generator=torch.Generator().manual_seed(1))
    proto = spp_trt.export_onnx(model, example, None, dynamo=dynamo, input_names=("input",),
                                output_names=("output",))
    proto.doc_string = ("spp-trt tiny SPP-Net sample (examples/sppnet/sppnet.py): conv 3->4 3x3 pad 1, ReLU, "
                        "conv 4->8 3x3 stride 2, ReLU, SpatialPyramidPooling levels [1, 2, 4] max adaptive, "
                        "Gemm 168->4. Input 'input' [N, 3, H, W] float32 (H, W >= 3), output 'output' [N, 4].")
    proto.producer_name = "spp_trt"
    import onnx

    onnx.save(proto, onnx_path)
    write_io_file(io_path, reference_tensors(model, tiny_input()))
    return onnx_path, io_path


def check_samples(out_dir: str = SAMPLES_DIR, atol: float = 1e-5) -> None:
    """Raises AssertionError when the sample files disagree with the module."""
    import onnx

    from spp_trt.onnx_utils import node_attributes, shape_of, spp_nodes

    onnx_path = os.path.join(out_dir, TINY_ONNX)
    io_path = os.path.join(out_dir, TINY_IO)
    proto = onnx.load(onnx_path)
    onnx.checker.check_model(proto)
    nodes = spp_nodes(proto)
    assert len(nodes) == 1, "exactly one SpatialPyramidPooling node"
    assert node_attributes(nodes[0]) == {"levels": [1, 2, 4], "pool_mode": "max", "bin_rule": "adaptive",
                                         "plugin_version": "1", "plugin_namespace": ""}
    assert [i.name for i in proto.graph.input] == ["input"]
    assert [o.name for o in proto.graph.output] == ["output"]
    assert shape_of(proto, "input") == ["N", 3, "H", "W"]
    assert shape_of(proto, "output") == ["N", 4]
    assert shape_of(proto, nodes[0].output[0]) == ["N", 168]
    model = build_tiny()
    load_weights_from_onnx(model, onnx_path)
    stored = read_io_file(io_path)
    x = stored["input"]
    assert torch.equal(x, tiny_input()), "input must be the documented formula"
    now = reference_tensors(model, x)
    for name in ("spp_input", "spp_output", "output"):
        assert stored[name].shape == now[name].shape, name
        diff = (stored[name] - now[name]).abs().max().item()
        assert diff <= atol, f"{name}: max |stored - module| = {diff}"
    # max pooling picks input elements: the plugin-level pair must agree exactly
    with torch.no_grad():
        assert torch.equal(model.spp(stored["spp_input"]), stored["spp_output"])


# ----------------------------------------------------------------------------------------------------------------


def demo(onnx_path: str, dynamo: bool) -> None:
    torch.manual_seed(0)
    net = SPPNet().eval()
    with torch.no_grad():
        for hw in [(32, 32), (48, 64), (97, 61), (224, 224)]:
            y = net(torch.randn(2, 3, *hw))
            print(f"input 2x3x{hw[0]}x{hw[1]} -> output {tuple(y.shape)}")
    proto = spp_trt.export_onnx(net, torch.randn(2, 3, 64, 80), onnx_path, dynamo=dynamo)
    from spp_trt.onnx_utils import shape_of, spp_nodes

    print(f"wrote {onnx_path}: {len(proto.graph.node)} nodes, {len(spp_nodes(proto))} SpatialPyramidPooling, "
          f"input {shape_of(proto, 'input')}, output {shape_of(proto, 'output')}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="run on several sizes and export with dynamic H, W")
    p_demo.add_argument("--onnx", default="sppnet.onnx")
    p_demo.add_argument("--dynamo", action="store_true", help="use the torch.export based exporter")
    p_write = sub.add_parser("write-samples", help="regenerate samples/data/sppnet_tiny.{onnx,_io.txt}")
    p_write.add_argument("--out-dir", default=SAMPLES_DIR)
    p_write.add_argument("--dynamo", action="store_true")
    p_check = sub.add_parser("check-samples", help="check the sample files against the module")
    p_check.add_argument("--out-dir", default=SAMPLES_DIR)
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(args.onnx, args.dynamo)
    elif args.command == "write-samples":
        for path in write_samples(args.out_dir, args.dynamo):
            print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    else:
        check_samples(args.out_dir)
        print("samples OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
