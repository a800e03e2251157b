// What kernel planning needs to know about the current device, looked up once per device and cached (the SPP and
// ROI launchers are on the critical path of calls that take a few microseconds on the GPU). Host-only; CUDA
// translation units of spp_cuda include it.
#pragma once

#include <cstdint>

namespace spp
{
namespace device
{

struct DeviceLimits
{
    int32_t sms;       //!< multiprocessors
    int64_t smemOptin; //!< most dynamic shared memory one block may opt in to
};

//! The current device's ordinal, or -1 when none is usable.
int32_t currentDevice();

//! SM count and shared-memory opt-in limit of the current device; without a usable device, 1 SM and the 48 KiB every
//! device allows (so feasibility queries still work on machines without a GPU).
DeviceLimits deviceLimits();

} // namespace device
} // namespace spp
