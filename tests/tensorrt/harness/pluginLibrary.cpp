#include "harness/pluginLibrary.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>

namespace spp
{
namespace harness
{

namespace
{

char const* severityName(nvinfer1::ILogger::Severity severity)
{
    switch (severity)
    {
    case nvinfer1::ILogger::Severity::kINTERNAL_ERROR: return "INTERNAL_ERROR";
    case nvinfer1::ILogger::Severity::kERROR: return "ERROR";
    case nvinfer1::ILogger::Severity::kWARNING: return "WARNING";
    case nvinfer1::ILogger::Severity::kINFO: return "INFO";
    case nvinfer1::ILogger::Severity::kVERBOSE: return "VERBOSE";
    }
    return "?";
}

} // namespace

void CapturingLogger::log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept
{
    try
    {
        std::lock_guard<std::mutex> lock(mMutex);
        mMessages.emplace_back(severity, msg == nullptr ? "" : msg);
        if (mEcho && severity <= Severity::kWARNING)
        {
            std::printf("    [plugin %s] %s\n", severityName(severity), msg == nullptr ? "" : msg);
        }
    }
    catch (...)
    {
    }
}

std::vector<std::pair<nvinfer1::ILogger::Severity, std::string>> CapturingLogger::messages() const
{
    std::lock_guard<std::mutex> lock(mMutex);
    return mMessages;
}

void CapturingLogger::clear()
{
    std::lock_guard<std::mutex> lock(mMutex);
    mMessages.clear();
}

std::string CapturingLogger::text(Severity worst) const
{
    std::lock_guard<std::mutex> lock(mMutex);
    std::string all;
    for (auto const& [severity, message] : mMessages)
    {
        if (severity <= worst)
        {
            all += message;
            all += '\n';
        }
    }
    return all;
}

bool CapturingLogger::errorContains(std::vector<std::string> const& words) const
{
    std::lock_guard<std::mutex> lock(mMutex);
    for (auto const& [severity, message] : mMessages)
    {
        if (severity > Severity::kERROR)
        {
            continue;
        }
        bool all = true;
        for (auto const& word : words)
        {
            all = all && message.find(word) != std::string::npos;
        }
        if (all)
        {
            return true;
        }
    }
    return false;
}

size_t CapturingLogger::errorCount() const
{
    std::lock_guard<std::mutex> lock(mMutex);
    size_t count = 0;
    for (auto const& entry : mMessages)
    {
        count += entry.first <= Severity::kERROR ? 1 : 0;
    }
    return count;
}

PluginLibrary::PluginLibrary(std::string const& path, nvinfer1::ILoggerFinder* finder)
{
    mHandle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (mHandle == nullptr)
    {
        char const* const message = dlerror();
        mError = "dlopen(" + path + ") failed: " + (message == nullptr ? "" : message);
        return;
    }
    using SetLoggerFinder = void (*)(nvinfer1::ILoggerFinder*);
    auto const setFinder = reinterpret_cast<SetLoggerFinder>(dlsym(mHandle, "setLoggerFinder"));
    if (setFinder != nullptr)
    {
        setFinder(finder);
    }
    mCreators = reinterpret_cast<CreatorsFunction>(dlsym(mHandle, kCREATORS_SYMBOL));
    if (mCreators == nullptr)
    {
        mError = path + " does not export " + kCREATORS_SYMBOL;
    }
}

PluginLibrary::~PluginLibrary()
{
    if (mHandle != nullptr)
    {
        // Like TensorRT's deregisterLibrary: drop the logger finder first, it lives in the harness.
        using SetLoggerFinder = void (*)(nvinfer1::ILoggerFinder*);
        auto const setFinder = reinterpret_cast<SetLoggerFinder>(dlsym(mHandle, "setLoggerFinder"));
        if (setFinder != nullptr)
        {
            setFinder(nullptr);
        }
        dlclose(mHandle);
    }
}

std::vector<CreatorInterface*> PluginLibrary::creators() const
{
    std::vector<CreatorInterface*> list;
    if (mCreators == nullptr)
    {
        return list;
    }
    int32_t count = -1;
    CreatorInterface* const* const array = mCreators(count);
    for (int32_t i = 0; array != nullptr && i < count; ++i)
    {
        list.push_back(array[i]);
    }
    return list;
}

namespace
{

#if NV_TENSORRT_MAJOR >= 10
// TensorRT reads the creator's interface kind first, then casts; the harness does the same.
bool creatorMatches(CreatorInterface* creator, char const* name, char const* version)
{
    auto const info = creator->getInterfaceInfo();
    if (std::strcmp(info.kind, "PLUGIN CREATOR_V3ONE") != 0)
    {
        return false;
    }
    auto* const v3 = static_cast<nvinfer1::IPluginCreatorV3One*>(creator);
    return std::strcmp(v3->getPluginName(), name) == 0 && std::strcmp(v3->getPluginVersion(), version) == 0
        && std::strcmp(v3->getPluginNamespace(), "") == 0;
}
#else
bool creatorMatches(CreatorInterface* creator, char const* name, char const* version)
{
    return std::strcmp(creator->getPluginName(), name) == 0 && std::strcmp(creator->getPluginVersion(), version) == 0
        && std::strcmp(creator->getPluginNamespace(), "") == 0;
}
#endif

} // namespace

CreatorInterface* PluginLibrary::findCreator(char const* name, char const* version) const
{
    for (CreatorInterface* const creator : creators())
    {
        if (creator != nullptr && creatorMatches(creator, name, version))
        {
            return creator;
        }
    }
    return nullptr;
}

void* PluginLibrary::symbol(char const* name) const noexcept
{
    return mHandle == nullptr ? nullptr : dlsym(mHandle, name);
}

std::string pluginLibraryPath()
{
    char const* const env = std::getenv("SPP_TRT_PLUGIN_LIBRARY");
    if (env != nullptr && env[0] != '\0')
    {
        return env;
    }
#ifdef SPP_TRT_PLUGIN_LIBRARY_PATH
    return SPP_TRT_PLUGIN_LIBRARY_PATH;
#else
    return "libspp_trt_plugin.so";
#endif
}

} // namespace harness
} // namespace spp
