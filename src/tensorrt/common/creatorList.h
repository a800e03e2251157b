// The one list of every plugin creator in libspp_trt_plugin: the loadLibrary entry points and the self-registering
// variant both read it. A new plugin adds its creator in creatorList.cpp and nowhere else.
#pragma once

#include "common/trtVersion.h"

namespace spp
{
namespace plugin
{

//! The creators, alive for the life of the library. Never null; `count` receives the number.
CreatorInterface* const* pluginCreators(int32_t& count) noexcept;

} // namespace plugin
} // namespace spp
