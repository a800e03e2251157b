// Which TensorRT interface this build implements, decided once from the headers' version.
//   TensorRT >= 10: IPluginV3 (OneCore / OneBuild / OneRuntime) + IPluginCreatorV3One, entry point getCreators.
//   TensorRT 8.6:   IPluginV2DynamicExt + IPluginCreator, entry point getPluginCreators.
#pragma once

#include <NvInferRuntime.h>
#include <NvInferVersion.h>

#if NV_TENSORRT_MAJOR >= 10
#define SPP_TRT_PLUGIN_V3 1
#else
#define SPP_TRT_PLUGIN_V3 0
#endif

#if NV_TENSORRT_MAJOR >= 9
#define SPP_TRT_HAS_BF16 1
#else
#define SPP_TRT_HAS_BF16 0
#endif

#if NV_TENSORRT_MAJOR < 8 || (NV_TENSORRT_MAJOR == 8 && NV_TENSORRT_MINOR < 6)
#error "spp-trt plugins need TensorRT 8.6 or newer headers"
#endif

namespace spp
{
namespace plugin
{

#if SPP_TRT_PLUGIN_V3
using CreatorInterface = nvinfer1::IPluginCreatorInterface;
#else
using CreatorInterface = nvinfer1::IPluginCreator;
#endif

//! The integer type IExprBuilder::constant takes (int32_t before TensorRT 10).
#if NV_TENSORRT_MAJOR >= 10
using DimConstant = int64_t;
#else
using DimConstant = int32_t;
#endif

} // namespace plugin
} // namespace spp
