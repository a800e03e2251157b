// What every plugin and creator of the library does the same way, once per TensorRT interface:
//   TensorRT 8.6  PluginV2Base (IPluginV2DynamicExt) and PluginCreatorV2Base (IPluginCreator);
//   TensorRT 10+  PluginV3Base (IPluginV3 + OneCore / OneBuild / OneRuntime) and PluginCreatorV3Base.
// A plugin has one output, nothing to initialize, serializes exactly the fields its creator parses, and reports its
// version and namespace; a creator turns fields (from ONNX, C++, Python or an engine) into a plugin or logs why not.
// The derived classes (spp/, roi/) keep what differs: names, fields, shapes, formats, configure and enqueue.
#pragma once

#include "common/fieldIO.h"
#include "common/trtVersion.h"

#include <string>

#if !SPP_TRT_PLUGIN_V3 && defined(__GNUC__)
// TensorRT 8.6 marks IPluginV2 / IPluginV2Ext deprecated, yet IPluginV2DynamicExt is the interface it loads.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

namespace spp
{
namespace plugin
{

#if SPP_TRT_PLUGIN_V3

class PluginV3Base : public nvinfer1::IPluginV3,
                     public nvinfer1::IPluginV3OneCore,
                     public nvinfer1::IPluginV3OneBuild,
                     public nvinfer1::IPluginV3OneRuntime
{
public:
    PluginV3Base& operator=(PluginV3Base const&) = delete;
    ~PluginV3Base() override = default;

    // IPluginV3
    nvinfer1::IPluginCapability* getCapabilityInterface(nvinfer1::PluginCapabilityType type) noexcept override;

    // IPluginV3OneCore (getPluginName is the derived plugin's)
    char const* getPluginVersion() const noexcept override;
    char const* getPluginNamespace() const noexcept override;

    // IPluginV3OneBuild
    int32_t getNbOutputs() const noexcept override;

    // IPluginV3OneRuntime
    //! No per-context resources: each execution context gets its own copy (its own shape cache).
    nvinfer1::IPluginV3* attachToContext(nvinfer1::IPluginResourceContext* context) noexcept override;
    nvinfer1::PluginFieldCollection const* getFieldsToSerialize() noexcept override;

protected:
    PluginV3Base(std::string layerName, char const* version, char const* pluginNamespace);
    PluginV3Base(PluginV3Base const&) = default;

    //! Replaces the content of `writer` with the plugin's fields: the ones its creator parses. May throw (callers
    //! catch).
    virtual void writeFields(FieldWriter& writer) const = 0;

    std::string mLayerName;

private:
    char const* mVersion;   //!< static strings (the library's constants)
    char const* mNamespace;
    FieldWriter mSerialFields; //!< Owns what getFieldsToSerialize returns.
};

class PluginCreatorV3Base : public nvinfer1::IPluginCreatorV3One
{
public:
    ~PluginCreatorV3Base() override = default;

    char const* getPluginVersion() const noexcept override;
    char const* getPluginNamespace() const noexcept override;
    //! Same fields in both phases (kRUNTIME gets what getFieldsToSerialize returned). nullptr after logging on error.
    nvinfer1::IPluginV3* createPlugin(
        char const* name, nvinfer1::PluginFieldCollection const* fc, nvinfer1::TensorRTPhase phase) noexcept override;

protected:
    PluginCreatorV3Base(char const* version, char const* pluginNamespace);

    //! A new plugin for layer `layerName` from `fc`, or nullptr with the reason in `status` (a plugin returned with
    //! an error status is released, a null one with an ok status is an error). May throw.
    virtual nvinfer1::IPluginV3* parse(
        char const* layerName, nvinfer1::PluginFieldCollection const* fc, Status& status) const = 0;

private:
    char const* mVersion;
    char const* mNamespace;
};

#else // TensorRT 8.6

class PluginV2Base : public nvinfer1::IPluginV2DynamicExt
{
public:
    PluginV2Base& operator=(PluginV2Base const&) = delete;
    ~PluginV2Base() override = default;

    // IPluginV2 (getPluginType is the derived plugin's)
    char const* getPluginVersion() const noexcept override;
    int32_t getNbOutputs() const noexcept override;
    int32_t initialize() noexcept override;
    void terminate() noexcept override;
    //! The plugin's fields as bytes (serializeFields), the same fields its creator parses.
    size_t getSerializationSize() const noexcept override;
    void serialize(void* buffer) const noexcept override;
    void destroy() noexcept override;
    void setPluginNamespace(char const* pluginNamespace) noexcept override;
    char const* getPluginNamespace() const noexcept override;

protected:
    PluginV2Base(std::string layerName, char const* version, char const* pluginNamespace);
    PluginV2Base(PluginV2Base const&) = default;

    //! Replaces the content of `writer` with the plugin's fields: the ones its creator parses. May throw (callers
    //! catch).
    virtual void writeFields(FieldWriter& writer) const = 0;

    std::string mLayerName;

private:
    char const* mVersion; //!< a static string (the library's constant)
    std::string mNamespace;
};

class PluginCreatorV2Base : public nvinfer1::IPluginCreator
{
public:
    ~PluginCreatorV2Base() override = default;

    char const* getPluginVersion() const noexcept override;
    //! nullptr after logging when the fields are invalid.
    nvinfer1::IPluginV2* createPlugin(char const* name, nvinfer1::PluginFieldCollection const* fc) noexcept override;
    //! The bytes serialize() wrote; nullptr after logging ("cannot deserialize") when they are not.
    nvinfer1::IPluginV2* deserializePlugin(char const* name, void const* serialData, size_t serialLength) noexcept
        override;
    void setPluginNamespace(char const* pluginNamespace) noexcept override;
    char const* getPluginNamespace() const noexcept override;

protected:
    PluginCreatorV2Base(char const* version, char const* pluginNamespace);

    //! A new plugin for layer `layerName` from `fc`, or nullptr with the reason in `status` (a plugin returned with
    //! an error status is released, a null one with an ok status is an error). May throw.
    virtual nvinfer1::IPluginV2* parse(
        char const* layerName, nvinfer1::PluginFieldCollection const* fc, Status& status) const = 0;

private:
    char const* mVersion;
    std::string mNamespace;
};

#endif

} // namespace plugin
} // namespace spp

#if !SPP_TRT_PLUGIN_V3 && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
