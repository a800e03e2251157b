#include "common/creatorList.h"

#if SPP_TRT_PLUGIN_V3
#include "roi/roiPluginV3.h"
#include "spp/sppPluginV3.h"
#else
#include "roi/roiPluginV2.h"
#include "spp/sppPluginV2.h"
#endif

namespace spp
{
namespace plugin
{

#if SPP_TRT_PLUGIN_V3
using SppCreator = SppPluginCreatorV3;
using RoiCreator = RoiPluginCreatorV3;
#else
using SppCreator = SppPluginCreatorV2;
using RoiCreator = RoiPluginCreatorV2;
#endif

CreatorInterface* const* pluginCreators(int32_t& count) noexcept
{
    // Function-local statics: built on first use, so no static-initialization order issues across files.
    static SppCreator sSppCreator;
    static RoiCreator sRoiSppCreator{RoiOp::kROI_SPP};
    static RoiCreator sMaxRoiPoolCreator{RoiOp::kMAX_ROI_POOL};
    static CreatorInterface* const sCreators[] = {&sSppCreator, &sRoiSppCreator, &sMaxRoiPoolCreator};
    count = static_cast<int32_t>(sizeof(sCreators) / sizeof(sCreators[0]));
    return sCreators;
}

} // namespace plugin
} // namespace spp
