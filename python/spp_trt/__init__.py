"""spp_trt: Spatial Pyramid Pooling for PyTorch, exported to ONNX for the spp-trt TensorRT plugin.

    >>> import torch, spp_trt
    >>> spp = spp_trt.SpatialPyramidPooling(levels=(1, 2, 4), pool_mode="max", bin_rule="adaptive")
    >>> spp(torch.randn(2, 8, 13, 17)).shape
    torch.Size([2, 168])
    >>> roi_spp = spp_trt.RoiSpatialPyramidPooling(levels=(1, 2), pool_mode="max", spatial_scale=1 / 16)
    >>> roi_spp(torch.randn(2, 8, 13, 17), torch.tensor([[0.0, 0, 0, 100, 80], [1, 32, 16, 250, 200]])).shape
    torch.Size([2, 40])

See docs/python.md, docs/spp.md and docs/roi.md (the operation contracts).
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
    MAX_ROI_POOL_NAME,
    ROI_PLUGIN_NAME,
    output_features,
)
from . import onnx_utils
from .export import dynamo_available, export_onnx
from .functional import spatial_pyramid_pool, spatial_pyramid_pool_standard_ops
from .module import RoiSpatialPyramidPooling, SpatialPyramidPooling
from .roi_functional import roi_spatial_pyramid_pool

__version__ = "0.1.0"


def custom_translation_table():
    """``{torch.ops.spp_trt.spatial_pyramid_pool.default: onnxscript translation,
    torch.ops.spp_trt.roi_spatial_pyramid_pool.default: onnxscript translation}`` for calling
    ``torch.onnx.export(..., dynamo=True, custom_translation_table=...)`` yourself (torch >= 2.6)."""
    from . import _dynamo

    return _dynamo.custom_translation_table()

__all__ = [
    "SpatialPyramidPooling",
    "RoiSpatialPyramidPooling",
    "spatial_pyramid_pool",
    "roi_spatial_pyramid_pool",
    "spatial_pyramid_pool_standard_ops",
    "export_onnx",
    "dynamo_available",
    "custom_translation_table",
    "onnx_utils",
    "output_features",
    "PLUGIN_NAME",
    "ROI_PLUGIN_NAME",
    "MAX_ROI_POOL_NAME",
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
