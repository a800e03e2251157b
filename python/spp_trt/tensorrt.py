"""Small TensorRT helpers: load the spp-trt plugin library, parse an exported ONNX file, build an engine with a
dynamic (min / opt / max) profile, and run it on torch CUDA tensors.

TensorRT is imported lazily: ``import spp_trt.tensorrt`` works without it; each call raises ImportError with
what is missing. Written against the TensorRT 10 Python API (8.6 works for loading and building).

    from spp_trt import tensorrt as sppt
    sppt.load_plugin_library("build/src/tensorrt/libspp_trt_plugin.so")
    engine = sppt.build_engine("sppnet.onnx", min_hw=(16, 16), opt_hw=(224, 224), max_hw=(512, 512),
                               batch=(1, 8, 32))
    outputs = sppt.run_engine(engine, {"input": images.cuda()})
"""

import os
from typing import Dict, Optional, Sequence, Tuple, Union

from . import _contract as C

PathLike = Union[str, "os.PathLike[str]"]


def _import_tensorrt():
    try:
        import tensorrt as trt
    except ImportError as exc:
        raise ImportError(
            "spp_trt.tensorrt needs the TensorRT Python package ('import tensorrt' failed: "
            f"{exc}). Install TensorRT >= 8.6 (e.g. the 'tensorrt' wheel matching your CUDA)."
        ) from exc
    return trt


def is_available() -> Tuple[bool, str]:
    """(True, version) when TensorRT can be imported, else (False, why)."""
    try:
        trt = _import_tensorrt()
    except ImportError as exc:
        return False, str(exc)
    return True, getattr(trt, "__version__", "?")


def _major(trt) -> int:
    try:
        return int(str(trt.__version__).split(".")[0])
    except (AttributeError, ValueError):
        return 0


_default_logger = None


def default_logger():
    """A process-wide trt.Logger (WARNING)."""
    global _default_logger
    trt = _import_tensorrt()
    if _default_logger is None:
        _default_logger = trt.Logger(trt.Logger.WARNING)
    return _default_logger


def load_plugin_library(path: PathLike):
    """Loads the plugin shared library into TensorRT's plugin registry (``IPluginRegistry.load_library``) and
    checks that the SpatialPyramidPooling creator is now registered. Returns the library handle."""
    trt = _import_tensorrt()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"TensorRT plugin library not found: {path}")
    registry = trt.get_plugin_registry()
    handle = registry.load_library(path)
    if handle is None:
        raise RuntimeError(f"TensorRT could not load the plugin library {path}")
    if find_plugin_creator() is None:
        raise RuntimeError(
            f"{path} was loaded but no plugin creator {C.PLUGIN_NAME!r} version {C.PLUGIN_VERSION!r} "
            f"namespace {C.PLUGIN_NAMESPACE!r} is registered"
        )
    return handle


def find_plugin_creator():
    """The registered SpatialPyramidPooling creator, or None."""
    trt = _import_tensorrt()
    registry = trt.get_plugin_registry()
    for getter in ("get_creator", "get_plugin_creator"):  # TensorRT 10 / 8.x
        fn = getattr(registry, getter, None)
        if fn is None:
            continue
        try:
            creator = fn(C.PLUGIN_NAME, C.PLUGIN_VERSION, C.PLUGIN_NAMESPACE)
        except Exception:
            creator = None
        if creator is not None:
            return creator
    return None


def parse_onnx(onnx_file: PathLike, logger=None):
    """Parses an ONNX file into a new network. Returns (builder, network, parser); raises RuntimeError with the
    parser's errors. The SpatialPyramidPooling node is imported through the parser's plugin fallback, so the
    plugin library must be loaded first."""
    trt = _import_tensorrt()
    logger = logger or default_logger()
    builder = trt.Builder(logger)
    flags = 0
    if _major(trt) < 10:
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    onnx_file = os.fspath(onnx_file)
    if not parser.parse_from_file(onnx_file):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise RuntimeError(f"TensorRT could not parse {onnx_file}:\n" + "\n".join(errors))
    return builder, network, parser


def _profile_shapes(shape: Sequence[int], batch, min_hw, opt_hw, max_hw, image: bool):
    dims = list(shape)
    lo, mid, hi = list(dims), list(dims), list(dims)
    if dims and dims[0] < 0:
        lo[0], mid[0], hi[0] = batch
    if image and len(dims) == 4:
        lo[2:], mid[2:], hi[2:] = list(min_hw), list(opt_hw), list(max_hw)
    for name, s in (("min", lo), ("opt", mid), ("max", hi)):
        if any(d < 0 for d in s):
            raise ValueError(f"input of shape {dims}: the {name} profile shape {s} still has dynamic dims")
    return tuple(lo), tuple(mid), tuple(hi)


def build_engine(
    onnx_file: PathLike,
    plugin_library: Optional[PathLike] = None,
    *,
    min_hw: Tuple[int, int],
    opt_hw: Tuple[int, int],
    max_hw: Tuple[int, int],
    batch: Tuple[int, int, int] = (1, 1, 1),
    input_name: Optional[str] = None,
    fp16: bool = False,
    workspace_bytes: Optional[int] = None,
    logger=None,
) -> bytes:
    """Builds a serialized engine with one optimization profile.

    The image input (``input_name``, default: the first network input) gets N in ``batch`` (min, opt, max) and
    H, W from ``min_hw`` / ``opt_hw`` / ``max_hw``; other inputs only get the batch range on a dynamic dim 0.
    """
    trt = _import_tensorrt()
    if plugin_library is not None:
        load_plugin_library(plugin_library)
    builder, network, _parser = parse_onnx(onnx_file, logger)
    config = builder.create_builder_config()
    if workspace_bytes is not None:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_bytes))
    if fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    names = [network.get_input(i).name for i in range(network.num_inputs)]
    image_name = input_name or (names[0] if names else None)
    if image_name not in names:
        raise ValueError(f"input {image_name!r} is not a network input; inputs: {names}")
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        lo, mid, hi = _profile_shapes(tuple(tensor.shape), batch, min_hw, opt_hw, max_hw, tensor.name == image_name)
        profile.set_shape(tensor.name, lo, mid, hi)
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f"TensorRT failed to build an engine from {os.fspath(onnx_file)}")
    return bytes(serialized)


def deserialize_engine(engine_bytes: bytes, logger=None):
    trt = _import_tensorrt()
    runtime = trt.Runtime(logger or default_logger())
    engine = runtime.deserialize_cuda_engine(engine_bytes)
    if engine is None:
        raise RuntimeError("TensorRT could not deserialize the engine")
    return engine


def run_engine(engine, inputs: Dict[str, "object"], context=None) -> Dict[str, "object"]:
    """Runs an engine (ICudaEngine or serialized bytes) on CUDA torch tensors; returns {output name: tensor}.
    TensorRT >= 10 (tensor-address API)."""
    import torch

    trt = _import_tensorrt()
    if isinstance(engine, (bytes, bytearray)):
        engine = deserialize_engine(bytes(engine))
    context = context or engine.create_execution_context()
    dtypes = {trt.float32: torch.float32, trt.float16: torch.float16, trt.int32: torch.int32, trt.int8: torch.int8}
    if hasattr(trt, "bfloat16"):
        dtypes[trt.bfloat16] = torch.bfloat16
    if hasattr(trt, "int64"):
        dtypes[trt.int64] = torch.int64
    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    keep = []
    for name in names:
        if engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT:
            if name not in inputs:
                raise KeyError(f"missing input {name!r}")
            t = inputs[name]
            want = dtypes[engine.get_tensor_dtype(name)]
            t = t.to(device="cuda", dtype=want).contiguous()
            keep.append(t)
            context.set_input_shape(name, tuple(t.shape))
            context.set_tensor_address(name, t.data_ptr())
    outputs = {}
    for name in names:
        if engine.get_tensor_mode(name) == trt.TensorIOMode.OUTPUT:
            shape = tuple(context.get_tensor_shape(name))
            out = torch.empty(shape, dtype=dtypes[engine.get_tensor_dtype(name)], device="cuda")
            context.set_tensor_address(name, out.data_ptr())
            outputs[name] = out
    stream = torch.cuda.current_stream()
    if not context.execute_async_v3(stream.cuda_stream):
        raise RuntimeError("TensorRT execute_async_v3 failed")
    stream.synchronize()
    return outputs
