// The entry points TensorRT looks up in a plugin library (IPluginRegistry::loadLibrary, trtexec --dynamicPlugins,
// Python's load_library): setLoggerFinder, and getCreators (TensorRT >= 10) or getPluginCreators (TensorRT 8.6).
// They are the only symbols the library exports (exports.map).
#include "common/creatorList.h"
#include "common/logger.h"

#define SPP_EXPORT extern "C" __attribute__((visibility("default")))

SPP_EXPORT void setLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept
{
    spp::plugin::setLoggerFinder(finder);
}

#if SPP_TRT_PLUGIN_V3
SPP_EXPORT nvinfer1::IPluginCreatorInterface* const* getCreators(int32_t& nbCreators) noexcept
{
    return spp::plugin::pluginCreators(nbCreators);
}
#else
SPP_EXPORT nvinfer1::IPluginCreator* const* getPluginCreators(int32_t& nbCreators) noexcept
{
    return spp::plugin::pluginCreators(nbCreators);
}
#endif
