// A gtest fixture for the conformance drivers: the plugin library is loaded once per test suite, with a logger that
// records every message behind the ILoggerFinder handed to the library's setLoggerFinder.
#pragma once

#include "harness/pluginLibrary.h"

#include <gtest/gtest.h>

namespace spp
{
namespace harness
{

class PluginLibraryTest : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        sLogger = new CapturingLogger();
        sFinder = new LoggerFinder(sLogger);
        sLibrary = new PluginLibrary(pluginLibraryPath(), sFinder);
    }

    static void TearDownTestSuite()
    {
        delete sLibrary;
        delete sFinder;
        delete sLogger;
        sLibrary = nullptr;
        sFinder = nullptr;
        sLogger = nullptr;
    }

    inline static CapturingLogger* sLogger = nullptr;
    inline static LoggerFinder* sFinder = nullptr;
    inline static PluginLibrary* sLibrary = nullptr;
};

} // namespace harness
} // namespace spp
