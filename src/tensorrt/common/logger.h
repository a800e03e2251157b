// Logging for every plugin of the library, through the ILoggerFinder TensorRT hands to setLoggerFinder().
// Before TensorRT calls setLoggerFinder (or when it gives nullptr) warnings and errors go to stderr.
#pragma once

#include "common/trtVersion.h"

namespace spp
{
namespace plugin
{

using Severity = nvinfer1::ILogger::Severity;

//! Stores the finder (may be nullptr). Thread-safe.
void setLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept;

//! printf-style; messages are truncated to 1023 characters and prefixed with "spp-trt: ". Never throws.
void logMessage(Severity severity, char const* format, ...) noexcept
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#define SPP_LOG_ERROR(...) ::spp::plugin::logMessage(::spp::plugin::Severity::kERROR, __VA_ARGS__)
#define SPP_LOG_WARNING(...) ::spp::plugin::logMessage(::spp::plugin::Severity::kWARNING, __VA_ARGS__)
#define SPP_LOG_VERBOSE(...) ::spp::plugin::logMessage(::spp::plugin::Severity::kVERBOSE, __VA_ARGS__)

//! Runs `body` (a lambda returning R); an escaping exception is logged as coming from "type::method" (a plugin's
//! name and the TensorRT method) and `onError` returned. Every noexcept TensorRT method whose body may allocate goes
//! through this.
template <typename R, typename Body>
R guarded(char const* type, char const* method, R onError, Body&& body) noexcept;

} // namespace plugin
} // namespace spp

#include <exception>

namespace spp
{
namespace plugin
{

template <typename R, typename Body>
R guarded(char const* type, char const* method, R onError, Body&& body) noexcept
{
    try
    {
        return body();
    }
    catch (std::exception const& e)
    {
        SPP_LOG_ERROR("%s::%s: unexpected exception: %s", type, method, e.what());
    }
    catch (...)
    {
        SPP_LOG_ERROR("%s::%s: unexpected exception", type, method);
    }
    return onError;
}

} // namespace plugin
} // namespace spp
