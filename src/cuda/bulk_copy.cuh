// Bulk copies from global to shared memory by the Hopper copy engine (sm_90: cp.async.bulk, completion counted on an
// mbarrier in shared memory), for kernels that want a contiguous run of input in shared memory without spending
// every thread's load instructions and registers on it: one thread arms the barrier with the byte count and issues
// the copy; the others do other work, then wait on the barrier's phase. Only for code compiled for sm_90 or later
// (kBULK_COPY); on older targets the calls are compiled out (the bodies would trap).
//
// Rules the callers keep (PTX ISA, cp.async.bulk): source and destination 16-byte aligned, size a multiple of 16;
// the barrier initialized, and that made visible to the CTA (fence + __syncthreads) before any thread waits on it;
// the buffer not accessed (by any thread) between issue and completion, and not re-filled before every thread is
// done reading or writing it (a CTA barrier after those accesses, then a proxy fence by the copying thread).
#pragma once

#include <cstdint>

namespace spp
{
namespace bulk
{

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
constexpr bool kBULK_COPY = true;
#else
constexpr bool kBULK_COPY = false;
#endif

__device__ __forceinline__ uint32_t sharedAddress(void const* p)
{
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

//! Makes `barrier` an mbarrier expecting one arrival per phase, visible to the async proxy.
__device__ __forceinline__ void initBarrier(uint64_t* barrier)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(sharedAddress(barrier)) : "memory");
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
#else
    (void) barrier;
    __trap();
#endif
}

//! Orders earlier shared-memory accesses (generic proxy) - this thread's, and other threads' ordered before it by a
//! barrier - before this thread's later bulk copies (async proxy).
__device__ __forceinline__ void fenceBeforeCopy()
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
#else
    __trap();
#endif
}

//! Arrives on `barrier` expecting `bytes` and copies them from `src` (global) to `dst` (shared); one thread.
__device__ __forceinline__ void copyToShared(void* dst, void const* src, uint32_t bytes, uint64_t* barrier)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    uint32_t const bar = sharedAddress(barrier);
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes) : "memory");
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(
                     sharedAddress(dst)),
        "l"(src), "r"(bytes), "r"(bar)
        : "memory");
#else
    (void) dst;
    (void) src;
    (void) bytes;
    (void) barrier;
    __trap();
#endif
}

//! Waits until the phase of `barrier` with parity `parity` (0 for its first use, then alternating) has completed.
__device__ __forceinline__ void waitBarrier(uint64_t* barrier, uint32_t parity)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    uint32_t const bar = sharedAddress(barrier);
    uint32_t done = 0;
    do
    {
        asm volatile(
            "{\n\t.reg .pred complete;\n\t"
            "mbarrier.try_wait.parity.shared::cta.b64 complete, [%1], %2;\n\t"
            "selp.u32 %0, 1, 0, complete;\n\t}"
            : "=r"(done)
            : "r"(bar), "r"(parity)
            : "memory");
    } while (done == 0);
#else
    (void) barrier;
    (void) parity;
    __trap();
#endif
}

} // namespace bulk
} // namespace spp
