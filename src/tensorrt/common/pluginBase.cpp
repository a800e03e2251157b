#include "common/pluginBase.h"

#include "common/logger.h"

#include <memory>
#include <utility>

#if !SPP_TRT_PLUGIN_V3 && defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

namespace spp
{
namespace plugin
{

namespace
{
char const* layerOrEmpty(char const* name) noexcept
{
    return name == nullptr ? "" : name;
}

#if !SPP_TRT_PLUGIN_V3
//! Owns a plugin until it is handed to TensorRT (IPluginV2 is released with destroy()).
struct DestroyPluginV2
{
    void operator()(nvinfer1::IPluginV2* plugin) const noexcept
    {
        plugin->destroy();
    }
};
using PluginV2Ptr = std::unique_ptr<nvinfer1::IPluginV2, DestroyPluginV2>;
#endif
} // namespace

#if SPP_TRT_PLUGIN_V3

PluginV3Base::PluginV3Base(std::string layerName, char const* version, char const* pluginNamespace)
    : mLayerName(std::move(layerName))
    , mVersion(version)
    , mNamespace(pluginNamespace)
{
}

nvinfer1::IPluginCapability* PluginV3Base::getCapabilityInterface(nvinfer1::PluginCapabilityType type) noexcept
{
    switch (type)
    {
    case nvinfer1::PluginCapabilityType::kCORE: return static_cast<nvinfer1::IPluginV3OneCore*>(this);
    case nvinfer1::PluginCapabilityType::kBUILD: return static_cast<nvinfer1::IPluginV3OneBuild*>(this);
    case nvinfer1::PluginCapabilityType::kRUNTIME: return static_cast<nvinfer1::IPluginV3OneRuntime*>(this);
    }
    return nullptr;
}

char const* PluginV3Base::getPluginVersion() const noexcept
{
    return mVersion;
}

char const* PluginV3Base::getPluginNamespace() const noexcept
{
    return mNamespace;
}

int32_t PluginV3Base::getNbOutputs() const noexcept
{
    return 1;
}

nvinfer1::IPluginV3* PluginV3Base::attachToContext(nvinfer1::IPluginResourceContext* /*context*/) noexcept
{
    return clone();
}

nvinfer1::PluginFieldCollection const* PluginV3Base::getFieldsToSerialize() noexcept
{
    return guarded<nvinfer1::PluginFieldCollection const*>(getPluginName(), "getFieldsToSerialize", nullptr, [&] {
        writeFields(mSerialFields);
        return mSerialFields.collection();
    });
}

PluginCreatorV3Base::PluginCreatorV3Base(char const* version, char const* pluginNamespace)
    : mVersion(version)
    , mNamespace(pluginNamespace)
{
}

char const* PluginCreatorV3Base::getPluginVersion() const noexcept
{
    return mVersion;
}

char const* PluginCreatorV3Base::getPluginNamespace() const noexcept
{
    return mNamespace;
}

nvinfer1::IPluginV3* PluginCreatorV3Base::createPlugin(
    char const* name, nvinfer1::PluginFieldCollection const* fc, nvinfer1::TensorRTPhase phase) noexcept
{
    return guarded<nvinfer1::IPluginV3*>(getPluginName(), "createPlugin", nullptr, [&]() -> nvinfer1::IPluginV3* {
        Status status;
        std::unique_ptr<nvinfer1::IPluginV3> plugin(parse(layerOrEmpty(name), fc, status));
        if (!status.ok() || plugin == nullptr)
        {
            SPP_LOG_ERROR("%s (%s phase)", status.ok() ? "no plugin made" : status.message(),
                phase == nvinfer1::TensorRTPhase::kBUILD ? "build" : "runtime");
            return nullptr;
        }
        return plugin.release();
    });
}

#else // TensorRT 8.6

PluginV2Base::PluginV2Base(std::string layerName, char const* version, char const* pluginNamespace)
    : mLayerName(std::move(layerName))
    , mVersion(version)
    , mNamespace(pluginNamespace)
{
}

char const* PluginV2Base::getPluginVersion() const noexcept
{
    return mVersion;
}

int32_t PluginV2Base::getNbOutputs() const noexcept
{
    return 1;
}

int32_t PluginV2Base::initialize() noexcept
{
    return 0;
}

void PluginV2Base::terminate() noexcept {}

size_t PluginV2Base::getSerializationSize() const noexcept
{
    return guarded<size_t>(getPluginType(), "getSerializationSize", 0, [&] {
        FieldWriter writer;
        writeFields(writer);
        return serializedFieldsSize(*writer.collection());
    });
}

void PluginV2Base::serialize(void* buffer) const noexcept
{
    guarded<int32_t>(getPluginType(), "serialize", 0, [&] {
        FieldWriter writer;
        writeFields(writer);
        serializeFields(*writer.collection(), buffer);
        return 0;
    });
}

void PluginV2Base::destroy() noexcept
{
    delete this;
}

void PluginV2Base::setPluginNamespace(char const* pluginNamespace) noexcept
{
    guarded<int32_t>(getPluginType(), "setPluginNamespace", 0, [&] {
        mNamespace = pluginNamespace == nullptr ? "" : pluginNamespace;
        return 0;
    });
}

char const* PluginV2Base::getPluginNamespace() const noexcept
{
    return mNamespace.c_str();
}

PluginCreatorV2Base::PluginCreatorV2Base(char const* version, char const* pluginNamespace)
    : mVersion(version)
    , mNamespace(pluginNamespace)
{
}

char const* PluginCreatorV2Base::getPluginVersion() const noexcept
{
    return mVersion;
}

nvinfer1::IPluginV2* PluginCreatorV2Base::createPlugin(
    char const* name, nvinfer1::PluginFieldCollection const* fc) noexcept
{
    return guarded<nvinfer1::IPluginV2*>(getPluginName(), "createPlugin", nullptr, [&]() -> nvinfer1::IPluginV2* {
        Status status;
        PluginV2Ptr plugin(parse(layerOrEmpty(name), fc, status));
        if (!status.ok() || plugin == nullptr)
        {
            SPP_LOG_ERROR("%s", status.ok() ? "no plugin made" : status.message());
            return nullptr;
        }
        plugin->setPluginNamespace(mNamespace.c_str());
        return plugin.release();
    });
}

nvinfer1::IPluginV2* PluginCreatorV2Base::deserializePlugin(
    char const* name, void const* serialData, size_t serialLength) noexcept
{
    return guarded<nvinfer1::IPluginV2*>(getPluginName(), "deserializePlugin", nullptr, [&]() -> nvinfer1::IPluginV2* {
        char const* const layerName = layerOrEmpty(name);
        OwnedFields fields;
        Status status = fields.deserialize(serialData, serialLength);
        PluginV2Ptr plugin(status.ok() ? parse(layerName, fields.collection(), status) : nullptr);
        if (!status.ok() || plugin == nullptr)
        {
            SPP_LOG_ERROR("%s '%s': cannot deserialize: %s", getPluginName(), layerName,
                status.ok() ? "no plugin made" : status.message());
            return nullptr;
        }
        plugin->setPluginNamespace(mNamespace.c_str());
        return plugin.release();
    });
}

void PluginCreatorV2Base::setPluginNamespace(char const* pluginNamespace) noexcept
{
    guarded<int32_t>(getPluginName(), "setPluginNamespace", 0, [&] {
        mNamespace = pluginNamespace == nullptr ? "" : pluginNamespace;
        return 0;
    });
}

char const* PluginCreatorV2Base::getPluginNamespace() const noexcept
{
    return mNamespace.c_str();
}

#endif

} // namespace plugin
} // namespace spp
