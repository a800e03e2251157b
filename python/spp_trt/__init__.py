"""spp_trt: Spatial Pyramid Pooling for PyTorch, exported to ONNX for the spp-trt TensorRT plugin.

    >>> import torch, spp_trt
    >>> spp = spp_trt.SpatialPyramidPooling(levels=(1, 2, 4), pool_mode="max", bin_rule="adaptive")
    >>> spp(torch.randn(2, 8, 13, 17)).shape
    torch.Size([2, 168])

See docs/python.md and docs/spp.md (the operation contract).
"""

from ._contract import (
    BIN_RULES,
    EXPORT_MODES,
    MAX_LEVEL,
    MAX_LEVELS,
    ONNX_DOMAIN,
    ONNX_DOMAIN_VERSION,
    PLUGIN_NAME,
    PLUGIN_NAMESPACE,
    PLUGIN_VERSION,
    POOL_MODES,
    output_features,
)
from . import onnx_utils
from .export import dynamo_available, export_onnx
from .functional import spatial_pyramid_pool, spatial_pyramid_pool_standard_ops
from .module import SpatialPyramidPooling

__version__ = "0.1.0"


def custom_translation_table():
    """``{torch.ops.spp_trt.spatial_pyramid_pool.default: onnxscript translation}`` for calling
    ``torch.onnx.export(..., dynamo=True, custom_translation_table=...)`` yourself (torch >= 2.6)."""
    from . import _dynamo

    return _dynamo.custom_translation_table()

__all__ = [
    "SpatialPyramidPooling",
    "spatial_pyramid_pool",
    "spatial_pyramid_pool_standard_ops",
    "export_onnx",
    "dynamo_available",
    "custom_translation_table",
    "onnx_utils",
    "output_features",
    "PLUGIN_NAME",
    "PLUGIN_VERSION",
    "PLUGIN_NAMESPACE",
    "ONNX_DOMAIN",
    "ONNX_DOMAIN_VERSION",
    "MAX_LEVELS",
    "MAX_LEVEL",
    "POOL_MODES",
    "BIN_RULES",
    "EXPORT_MODES",
    "__version__",
]
