#include "common/logger.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>

namespace spp
{
namespace plugin
{
namespace
{

std::atomic<nvinfer1::ILoggerFinder*> gLoggerFinder{nullptr};

char const* severityName(Severity severity) noexcept
{
    switch (severity)
    {
    case Severity::kINTERNAL_ERROR: return "INTERNAL_ERROR";
    case Severity::kERROR: return "ERROR";
    case Severity::kWARNING: return "WARNING";
    case Severity::kINFO: return "INFO";
    case Severity::kVERBOSE: return "VERBOSE";
    }
    return "UNKNOWN";
}

} // namespace

void setLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept
{
    gLoggerFinder.store(finder);
}

void logMessage(Severity severity, char const* format, ...) noexcept
{
    constexpr int32_t kPREFIX = 9; // "spp-trt: "
    char text[1024] = "spp-trt: ";
    va_list args;
    va_start(args, format);
    std::vsnprintf(text + kPREFIX, sizeof(text) - kPREFIX, format, args);
    va_end(args);

    nvinfer1::ILogger* logger{nullptr};
    nvinfer1::ILoggerFinder* const finder = gLoggerFinder.load();
    if (finder != nullptr)
    {
        try
        {
            logger = finder->findLogger(); // not noexcept in TensorRT's declaration
        }
        catch (...)
        {
            logger = nullptr;
        }
    }
    if (logger != nullptr)
    {
        logger->log(severity, text);
        return;
    }
    if (severity <= Severity::kWARNING)
    {
        std::fprintf(stderr, "[%s] %s\n", severityName(severity), text);
    }
}

} // namespace plugin
} // namespace spp
