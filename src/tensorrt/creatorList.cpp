#include "common/creatorList.h"

#if SPP_TRT_PLUGIN_V3
#include "spp/sppPluginV3.h"
#else
#include "spp/sppPluginV2.h"
#endif

namespace spp
{
namespace plugin
{

#if SPP_TRT_PLUGIN_V3
using SppCreator = SppPluginCreatorV3;
#else
using SppCreator = SppPluginCreatorV2;
#endif

CreatorInterface* const* pluginCreators(int32_t& count) noexcept
{
    // Function-local statics: built on first use, so no static-initialization order issues across files.
    static SppCreator sSppCreator;
    static CreatorInterface* const sCreators[] = {&sSppCreator};
    count = static_cast<int32_t>(sizeof(sCreators) / sizeof(sCreators[0]));
    return sCreators;
}

} // namespace plugin
} // namespace spp
