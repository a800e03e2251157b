// Loads a plugin library the way IPluginRegistry::loadLibrary does: dlopen, then the entry points
// setLoggerFinder (handed a finder whose logger records every message) and getCreators / getPluginCreators.
#pragma once

#include <NvInferRuntime.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace spp
{
namespace harness
{

#if NV_TENSORRT_MAJOR >= 10
using CreatorInterface = nvinfer1::IPluginCreatorInterface;
constexpr char const* kCREATORS_SYMBOL = "getCreators";
#else
using CreatorInterface = nvinfer1::IPluginCreator;
constexpr char const* kCREATORS_SYMBOL = "getPluginCreators";
#endif

//! Records what the plugins log; tests look for words in the messages.
class CapturingLogger final : public nvinfer1::ILogger
{
public:
    void log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept override;

    std::vector<std::pair<Severity, std::string>> messages() const;
    void clear();
    //! All messages at `severity` or worse, joined with newlines.
    std::string text(Severity worst = Severity::kWARNING) const;
    //! Whether some message at kERROR or worse contains every one of `words`.
    bool errorContains(std::vector<std::string> const& words) const;
    size_t errorCount() const;
    //! Also print messages to stdout (default: errors and warnings only).
    void setEcho(bool echo) noexcept
    {
        mEcho = echo;
    }

private:
    mutable std::mutex mMutex;
    std::vector<std::pair<Severity, std::string>> mMessages;
    bool mEcho{true};
};

class LoggerFinder final : public nvinfer1::ILoggerFinder
{
public:
    explicit LoggerFinder(nvinfer1::ILogger* logger)
        : mLogger(logger)
    {
    }
    ~LoggerFinder() override = default;
    nvinfer1::ILogger* findLogger() override
    {
        return mLogger;
    }

private:
    nvinfer1::ILogger* mLogger;
};

class PluginLibrary
{
public:
    //! Loads `path` (RTLD_NOW | RTLD_LOCAL, as TensorRT does). Check ok() / error().
    PluginLibrary(std::string const& path, nvinfer1::ILoggerFinder* finder);
    ~PluginLibrary();
    PluginLibrary(PluginLibrary const&) = delete;
    PluginLibrary& operator=(PluginLibrary const&) = delete;

    bool ok() const noexcept
    {
        return mHandle != nullptr && mCreators != nullptr;
    }
    std::string const& error() const noexcept
    {
        return mError;
    }
    std::vector<CreatorInterface*> creators() const;
    //! The creator with this name and version (namespace ""), or nullptr.
    CreatorInterface* findCreator(char const* name, char const* version) const;
    //! A symbol of the library (nullptr if absent), for tests of what the library exports.
    void* symbol(char const* name) const noexcept;

private:
    using CreatorsFunction = CreatorInterface* const* (*) (int32_t&);
    void* mHandle{nullptr};
    CreatorsFunction mCreators{nullptr};
    std::string mError;
};

//! The library under test: $SPP_TRT_PLUGIN_LIBRARY if set, else the path the build compiled in.
std::string pluginLibraryPath();

} // namespace harness
} // namespace spp
