// TensorRT data types and formats: names for messages, and the mapping to spp::DataType / spp::Layout.
#pragma once

#include "common/trtVersion.h"
#include "spp/spp.h"

namespace spp
{
namespace plugin
{

char const* toString(nvinfer1::DataType type) noexcept;
char const* toString(nvinfer1::TensorFormat format) noexcept;

//! kFLOAT, kHALF, kBF16 (TensorRT >= 9) and kINT8 map to spp types; anything else returns false.
bool toSppDataType(nvinfer1::DataType type, DataType& sppType) noexcept;

//! How a TensorRT format lays out a 4-D tensor [N, C, H, W] in spp terms:
//!   kLINEAR -> kNCHW;  kHWC -> kNHWC with channelStride C;  kHWC8 -> kNHWC with channelStride roundUp(C, 8).
//! Other formats return false.
bool toSppLayout(nvinfer1::TensorFormat format, int64_t channels, Layout& layout, int64_t& channelStride) noexcept;

} // namespace plugin
} // namespace spp
