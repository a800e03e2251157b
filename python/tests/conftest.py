"""Shared test setup.

* Makes ``python/`` importable when the package is not installed (PYTHONPATH=python also works).
* No test needs the network: outbound connections are refused while tests run (loopback stays allowed), so a
  test that tried to download something fails loudly instead of depending on the network. Set
  SPP_TRT_ALLOW_NETWORK=1 to lift this (and to run tests marked ``network``; there are none today).
"""

import os
import socket
import sys

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
_PKG_ROOT = os.path.dirname(_HERE)
try:
    import spp_trt  # noqa: F401
except ImportError:
    sys.path.insert(0, _PKG_ROOT)

REPO_ROOT = os.path.dirname(_PKG_ROOT)

_ALLOW_NETWORK = os.environ.get("SPP_TRT_ALLOW_NETWORK", "") == "1"
_LOCAL_PREFIXES = ("127.", "::1", "localhost", "0.0.0.0")


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = str(address[0]) if address else ""
    return host.startswith(_LOCAL_PREFIXES) or host == ""


@pytest.fixture(autouse=True)
def _fixed_seed():
    """Every test starts from the same RNG state (tests that need several streams seed their own generators)."""
    import torch

    torch.manual_seed(0)
    yield


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    if _ALLOW_NETWORK:
        yield
        return
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self, address):
        if not _is_local(address):
            raise RuntimeError(f"test tried to reach the network ({address!r}); set SPP_TRT_ALLOW_NETWORK=1")
        return real_connect(self, address)

    def guarded_connect_ex(self, address):
        if not _is_local(address):
            raise RuntimeError(f"test tried to reach the network ({address!r}); set SPP_TRT_ALLOW_NETWORK=1")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    yield


def pytest_collection_modifyitems(config, items):
    if _ALLOW_NETWORK:
        return
    skip = pytest.mark.skip(reason="needs network access; set SPP_TRT_ALLOW_NETWORK=1 to run")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)
