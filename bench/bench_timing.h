// Timing shared by spp-bench and roi-bench: CUDA events around a batch of calls enqueued on the legacy default stream,
// plus the host time of the enqueue loop.
#pragma once

#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdint>

namespace bench
{

struct BatchTime
{
    float gpuMsPerCall;  //!< between the two events, divided by the number of calls
    float hostUsPerCall; //!< of the enqueue loop, divided by the number of calls
};

//! Records `start` on `stream`, calls enqueue(i) for i in [0, calls) (each returns a cudaError_t; it should enqueue on
//! the same stream), records `stop` and waits for it. Returns the first error, else cudaSuccess with `time` filled.
template <typename Enqueue>
cudaError_t timeBatch(cudaEvent_t start, cudaEvent_t stop, int32_t calls, Enqueue&& enqueue, BatchTime& time,
    cudaStream_t stream = nullptr)
{
    cudaError_t status = cudaEventRecord(start, stream);
    auto const hostStart = std::chrono::steady_clock::now();
    for (int32_t i = 0; i < calls && status == cudaSuccess; ++i)
    {
        status = enqueue(i);
    }
    double const hostUs
        = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - hostStart).count();
    if (status == cudaSuccess)
    {
        status = cudaEventRecord(stop, stream);
    }
    if (status == cudaSuccess)
    {
        status = cudaEventSynchronize(stop);
    }
    float ms = 0;
    if (status == cudaSuccess)
    {
        status = cudaEventElapsedTime(&ms, start, stop);
    }
    time = BatchTime{ms / static_cast<float>(calls), static_cast<float>(hostUs / calls)};
    return status;
}

} // namespace bench
