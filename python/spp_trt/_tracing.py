"""Which graph the module's forward is being captured into: none (eager), the TorchScript ONNX exporter, or
torch.export (the dynamo ONNX exporter)."""

import contextlib
import threading
from typing import Iterator, Optional

import torch

EAGER = None
TORCHSCRIPT = "torchscript"
DYNAMO = "dynamo"

_state = threading.local()


@contextlib.contextmanager
def forced_target(target: Optional[str]) -> Iterator[None]:
    """Used by spp_trt.export_onnx: tells every SpatialPyramidPooling forward which exporter is running."""
    previous = getattr(_state, "target", None)
    _state.target = target
    try:
        yield
    finally:
        _state.target = previous


def _torch_exporting() -> bool:
    compiler = getattr(torch, "compiler", None)
    is_exporting = getattr(compiler, "is_exporting", None)
    if is_exporting is not None:
        try:
            return bool(is_exporting())
        except Exception:  # pragma: no cover - defensive: never break eager forward
            return False
    return False


def current_target() -> Optional[str]:
    """EAGER (None), TORCHSCRIPT or DYNAMO.

    Order: an explicit target from export_onnx; torch.export tracing (strict or non-strict, torch >= 2.6 sets
    torch.compiler.is_exporting()); the TorchScript ONNX exporter (torch.onnx.is_in_onnx_export() while tracing).
    """
    forced = getattr(_state, "target", None)
    if forced is not None:
        return forced
    if _torch_exporting():
        return DYNAMO
    if torch.onnx.is_in_onnx_export() and torch.jit.is_tracing():
        return TORCHSCRIPT
    return EAGER
