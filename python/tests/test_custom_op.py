"""The torch.library custom op behind the dynamo exporter (torch >= 2.4), and torch.export capturing it."""

import pytest
import torch

from spp_trt import SpatialPyramidPooling, spatial_pyramid_pool
from spp_trt import _dynamo, _tracing

pytestmark = pytest.mark.dynamo


def _op_or_skip():
    ok, why = _dynamo.custom_op_support()
    if not ok:
        pytest.skip(f"custom op path not available: {why}")
    _dynamo.get_custom_op()
    return torch.ops.spp_trt.spatial_pyramid_pool


@pytest.mark.parametrize("pool_mode", ["max", "avg"])
@pytest.mark.parametrize("rule", ["adaptive", "caffe"])
def test_custom_op_equals_reference_with_gradient(pool_mode, rule):
    op = _op_or_skip()
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, 3, 5, 9, generator=g, dtype=torch.float64)
    levels = [1, 2, 4]
    xa = x.clone().requires_grad_(True)
    xb = x.clone().requires_grad_(True)
    ya = op(xa, levels, pool_mode, rule)
    yb = spatial_pyramid_pool(xb, levels, pool_mode, rule)
    torch.testing.assert_close(ya, yb, rtol=0, atol=0)
    w = torch.randn(ya.shape, generator=g, dtype=torch.float64)
    (ya * w).sum().backward()
    (yb * w).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-12, atol=1e-12)
    assert xa.grad.abs().sum() > 0
    assert torch.autograd.gradcheck(lambda t: op(t, levels, pool_mode, rule), (x[:1, :2].clone().requires_grad_(),))


def test_custom_op_registrations_pass_opcheck():
    op = _op_or_skip()
    opcheck = getattr(torch.library, "opcheck", None)
    if opcheck is None:
        pytest.skip(f"torch {torch.__version__} has no torch.library.opcheck")
    x = torch.randn(2, 3, 7, 6, requires_grad=True)
    opcheck(op.default, (x, [1, 2, 3], "max", "caffe"),
            test_utils=("test_schema", "test_autograd_registration", "test_faketensor"))


def test_module_forward_uses_the_custom_op_only_while_exporting():
    _op_or_skip()
    m = SpatialPyramidPooling((1, 2), "avg", "caffe")
    x = torch.randn(2, 3, 6, 5)
    with _tracing.forced_target(_tracing.DYNAMO):
        y_op = m(x)
    torch.testing.assert_close(y_op, m(x), rtol=0, atol=0)


def test_torch_export_keeps_one_opaque_node_with_dynamic_shapes():
    _op_or_skip()
    if not hasattr(torch, "export") or not hasattr(torch.export, "Dim"):
        pytest.skip(f"torch {torch.__version__} has no torch.export.Dim")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
            self.spp = SpatialPyramidPooling((1, 2, 4), "max", "caffe")

        def forward(self, x):
            return self.spp(self.conv(x))

    net = Net().eval()
    x = torch.randn(2, 3, 17, 23)
    dims = {0: torch.export.Dim("N", min=2, max=64), 2: torch.export.Dim("H", min=2, max=512),
            3: torch.export.Dim("W", min=2, max=512)}
    with _tracing.forced_target(_tracing.DYNAMO):
        ep = torch.export.export(net, (x,), dynamic_shapes=({**dims},))
    targets = [n.target for n in ep.graph.nodes if n.op == "call_function"]
    spp_calls = [t for t in targets if "spatial_pyramid_pool" in str(t)]
    assert spp_calls == [torch.ops.spp_trt.spatial_pyramid_pool.default], targets
    out_node = [n for n in ep.graph.nodes if n.op == "call_function" and "spatial_pyramid_pool" in str(n.target)][0]
    shape = out_node.meta["val"].shape
    assert not isinstance(shape[0], int), "batch must stay symbolic"
    assert int(shape[1]) == 4 * 21
    # the exported program runs at other sizes and matches eager
    for hw in [(9, 31), (40, 12)]:
        xi = torch.randn(3, 3, *hw)
        torch.testing.assert_close(ep.module()(xi), net(xi), rtol=1e-6, atol=1e-6)


def test_torch_export_without_forced_target_uses_is_exporting():
    _op_or_skip()
    if not hasattr(torch.compiler, "is_exporting"):
        pytest.skip(f"torch {torch.__version__} has no torch.compiler.is_exporting")
    m = SpatialPyramidPooling((1, 3), "max", "adaptive")
    ep = torch.export.export(m, (torch.randn(2, 2, 8, 9),))
    targets = [str(n.target) for n in ep.graph.nodes if n.op == "call_function"]
    assert any("spp_trt.spatial_pyramid_pool" in t for t in targets), targets
