// spp-trt public API: ROI spatial pyramid pooling (SPP-net detection) and its one-level case, Fast R-CNN RoIPool
// (ONNX MaxRoiPool). Descriptors, shape math, validation and the CPU reference; the CUDA launcher is in
// spp/roi_cuda.h.
//
// No TensorRT, CUDA or Torch types here. See docs/roi.md for the exact semantics (window rule, invalid rois, avg).
#pragma once

#include "spp/spp.h"

#include <cstddef>
#include <cstdint>

namespace spp
{

//! TensorRT plugin / ONNX node names of the two ROI operations; both version "1", namespace "".
constexpr char const* kROI_SPP_PLUGIN_NAME = "RoiSpatialPyramidPooling";
constexpr char const* kMAX_ROI_POOL_PLUGIN_NAME = "MaxRoiPool";
constexpr char const* kROI_PLUGIN_VERSION = "1";
constexpr char const* kROI_PLUGIN_NAMESPACE = "";

//! Columns of one roi row: (batch_index, x1, y1, x2, y2).
constexpr int32_t kROI_COLUMNS = 5;

//! Scaled roi corners are clamped to +-kROI_COORD_LIMIT feature cells before they are used (far beyond any real map),
//! so that window arithmetic stays exact in int64 for any finite input. See docs/roi.md.
constexpr int64_t kROI_COORD_LIMIT = int64_t{1} << 40;

//! The shape-independent attributes: levels (Lh x Lw grids, square for RoiSpatialPyramidPooling), mode, scale.
struct RoiPyramid
{
    int32_t numLevels{0};
    int32_t levelsH[kMAX_LEVELS]{};
    int32_t levelsW[kMAX_LEVELS]{};
    PoolMode mode{PoolMode::kMAX};
    float spatialScale{1.0F}; //!< image -> feature coordinates
};

//! One ROI pooling call.
struct RoiDesc
{
    RoiPyramid pyramid{};
    DataType dtype{DataType::kFLOAT};    //!< features and output: kFLOAT, kHALF or kBF16
    DataType roiDtype{DataType::kFLOAT}; //!< rois: kFLOAT, or the same type as the features
    Layout layout{Layout::kNCHW};
    int64_t n{0};
    int64_t c{0};
    int64_t h{0};
    int64_t w{0};
    //! kNHWC pixel stride in elements (>= c); 0 means c. Ignored for kNCHW.
    int64_t channelStride{0};
    int64_t numRois{0}; //!< K, the number of roi rows (>= 0)
};

//! RoiSpatialPyramidPooling attributes: square levels from `config` (validated by the core's rules and wording; its
//! bin_rule is ignored) and `spatialScale`. On error `pyramid` is left unchanged.
Status makeRoiPyramid(PyramidConfig const& config, float spatialScale, RoiPyramid& pyramid) noexcept;

//! MaxRoiPool attributes: one pooledH x pooledW level, always max. On error `pyramid` is left unchanged.
Status makeMaxRoiPool(int32_t pooledH, int32_t pooledW, float spatialScale, RoiPyramid& pyramid) noexcept;

//! Checks spatial_scale (finite, > 0), 1..16 levels each side in [1, 256], and the mode.
Status validate(RoiPyramid const& pyramid) noexcept;
//! Checks the pyramid, types (features fp32/fp16/bf16; rois fp32 or the feature type), layout, dims (N, K >= 0;
//! C, H, W >= 1; channelStride), and that sizes fit (C * sum(Lh*Lw) <= 2^31 - 1, element counts in int64).
Status validate(RoiDesc const& desc) noexcept;

//! sum over levels of Lh * Lw; 0 when the pyramid is invalid.
int64_t roiBinsPerChannel(RoiPyramid const& pyramid) noexcept;
//! C * sum(Lh * Lw), the output's second dimension; -1 when invalid or it overflows.
int64_t roiOutputFeatures(RoiPyramid const& pyramid, int64_t channels) noexcept;
//! Elements of the output [K, C * sum(Lh*Lw)]; -1 when invalid.
int64_t roiOutputElements(RoiDesc const& desc) noexcept;
//! Elements the features occupy (N*C*H*W, or N*H*W*channelStride for kNHWC); -1 when invalid.
int64_t roiFeatureElements(RoiDesc const& desc) noexcept;

//! CPU reference (plain loops, double accumulation for avg). features laid out as desc.layout says; rois [K, 5] of
//! desc.roiDtype; output [K, C * sum(Lh*Lw)]. Element types: float, or uint16_t bit patterns for kHALF / kBF16.
//! Returns the validation message for a bad descriptor or null pointers; never throws.
Status roiReferenceCpu(RoiDesc const& desc, void const* features, void const* rois, void* output) noexcept;

} // namespace spp
