#include "common/tensorTypes.h"

namespace spp
{
namespace plugin
{

using nvinfer1::TensorFormat;

char const* toString(nvinfer1::DataType type) noexcept
{
    switch (type)
    {
    case nvinfer1::DataType::kFLOAT: return "kFLOAT";
    case nvinfer1::DataType::kHALF: return "kHALF";
    case nvinfer1::DataType::kINT8: return "kINT8";
    case nvinfer1::DataType::kINT32: return "kINT32";
    case nvinfer1::DataType::kBOOL: return "kBOOL";
    case nvinfer1::DataType::kUINT8: return "kUINT8";
    case nvinfer1::DataType::kFP8: return "kFP8";
#if NV_TENSORRT_MAJOR >= 9
    case nvinfer1::DataType::kBF16: return "kBF16";
    case nvinfer1::DataType::kINT64: return "kINT64";
#endif
    default: break;
    }
    return "an unsupported DataType";
}

char const* toString(TensorFormat format) noexcept
{
    switch (format)
    {
    case TensorFormat::kLINEAR: return "kLINEAR";
    case TensorFormat::kCHW2: return "kCHW2";
    case TensorFormat::kHWC8: return "kHWC8";
    case TensorFormat::kCHW4: return "kCHW4";
    case TensorFormat::kCHW16: return "kCHW16";
    case TensorFormat::kCHW32: return "kCHW32";
    case TensorFormat::kDHWC8: return "kDHWC8";
    case TensorFormat::kCDHW32: return "kCDHW32";
    case TensorFormat::kHWC: return "kHWC";
    case TensorFormat::kDLA_LINEAR: return "kDLA_LINEAR";
    case TensorFormat::kDLA_HWC4: return "kDLA_HWC4";
    case TensorFormat::kHWC16: return "kHWC16";
    case TensorFormat::kDHWC: return "kDHWC";
    default: break;
    }
    return "an unsupported TensorFormat";
}

bool toSppDataType(nvinfer1::DataType type, DataType& sppType) noexcept
{
    switch (type)
    {
    case nvinfer1::DataType::kFLOAT: sppType = DataType::kFLOAT; return true;
    case nvinfer1::DataType::kHALF: sppType = DataType::kHALF; return true;
#if SPP_TRT_HAS_BF16
    case nvinfer1::DataType::kBF16: sppType = DataType::kBF16; return true;
#endif
    case nvinfer1::DataType::kINT8: sppType = DataType::kINT8; return true;
    default: break;
    }
    return false;
}

bool toSppLayout(TensorFormat format, int64_t channels, Layout& layout, int64_t& channelStride) noexcept
{
    switch (format)
    {
    case TensorFormat::kLINEAR:
        layout = Layout::kNCHW;
        channelStride = 0;
        return true;
    case TensorFormat::kHWC:
        layout = Layout::kNHWC;
        channelStride = channels;
        return true;
    case TensorFormat::kHWC8:
        layout = Layout::kNHWC;
        channelStride = (channels + 7) / 8 * 8;
        return true;
    default: break;
    }
    return false;
}

} // namespace plugin
} // namespace spp
