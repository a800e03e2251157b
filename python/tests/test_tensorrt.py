"""spp_trt.tensorrt: imports without TensorRT; with TensorRT and the plugin library, builds and runs the tiny
SPP-Net and compares it with the committed reference numbers.

The end-to-end test needs: the ``tensorrt`` Python package, a CUDA device, and the plugin library given by
SPP_TRT_PLUGIN_LIB (e.g. build/src/tensorrt/libspp_trt_plugin.so). Each missing piece skips with the reason.
"""

import os

import pytest
import torch

from helpers import repo_path

pytestmark = pytest.mark.tensorrt


def test_module_imports_without_tensorrt_and_says_what_is_missing():
    from spp_trt import tensorrt as sppt

    ok, info = sppt.is_available()
    if ok:
        pytest.skip(f"TensorRT {info} is installed; the missing-TensorRT path cannot be checked here")
    assert "TensorRT" in info
    with pytest.raises(ImportError, match="TensorRT"):
        sppt.load_plugin_library("/nonexistent/libspp.so")
    with pytest.raises(ImportError, match="TensorRT"):
        sppt.build_engine("x.onnx", min_hw=(3, 3), opt_hw=(32, 32), max_hw=(64, 64))


def test_profile_shapes_helper():
    from spp_trt.tensorrt import _profile_shapes

    lo, mid, hi = _profile_shapes((-1, 3, -1, -1), (1, 4, 8), (16, 16), (224, 224), (512, 640), image=True)
    assert (lo, mid, hi) == ((1, 3, 16, 16), (4, 3, 224, 224), (8, 3, 512, 640))
    with pytest.raises(ValueError, match="dynamic"):
        _profile_shapes((-1, -1), (1, 1, 1), (1, 1), (1, 1), (1, 1), image=False)


def test_tiny_sppnet_in_tensorrt_matches_reference():
    from spp_trt import tensorrt as sppt

    ok, info = sppt.is_available()
    if not ok:
        pytest.skip(f"TensorRT is not installed here: {info}")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    lib = os.environ.get("SPP_TRT_PLUGIN_LIB", "")
    if not lib or not os.path.isfile(lib):
        pytest.skip(f"set SPP_TRT_PLUGIN_LIB to the built plugin library (got {lib!r})")
    import importlib.util

    spec = importlib.util.spec_from_file_location("sppnet_example", repo_path("examples", "sppnet", "sppnet.py"))
    sppnet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sppnet)
    stored = sppnet.read_io_file(repo_path("samples", "data", "sppnet_tiny_io.txt"))
    sppt.load_plugin_library(lib)
    engine = sppt.build_engine(repo_path("samples", "data", "sppnet_tiny.onnx"), min_hw=(3, 3), opt_hw=(32, 48),
                               max_hw=(128, 128), batch=(1, 2, 4))
    out = sppt.run_engine(engine, {"input": stored["input"].cuda()})["output"].cpu()
    # TensorRT may use TF32 for the convolutions: allow for it
    torch.testing.assert_close(out, stored["output"], rtol=1e-2, atol=2e-3)
