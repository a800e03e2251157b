// The self-registering variant (libspp_trt_plugin_autoreg.so): loading the library registers every creator with
// TensorRT's global registry, for `trtexec --staticPlugins` and Python's ctypes.CDLL. It calls getPluginRegistry(),
// so it links libnvinfer and is built only where libnvinfer is found. Do not also loadLibrary() this variant: the
// second registration of the same name and version fails.
#include "common/creatorList.h"
#include "common/logger.h"

namespace spp
{
namespace plugin
{
namespace
{

struct SelfRegistration
{
    SelfRegistration() noexcept
    {
        nvinfer1::IPluginRegistry* const registry = getPluginRegistry();
        if (registry == nullptr)
        {
            SPP_LOG_ERROR("getPluginRegistry() returned null; plugins not registered");
            return;
        }
        int32_t count = 0;
        CreatorInterface* const* const creators = pluginCreators(count);
        for (int32_t i = 0; i < count; ++i)
        {
            if (!registry->registerCreator(*creators[i], kSPP_PLUGIN_NAMESPACE))
            {
                SPP_LOG_WARNING("a plugin creator could not be registered (already registered?)");
            }
        }
    }
};

// The same effect as REGISTER_TENSORRT_PLUGIN for each creator of the list, without a second creator instance.
SelfRegistration const gSelfRegistration;

} // namespace
} // namespace plugin
} // namespace spp
