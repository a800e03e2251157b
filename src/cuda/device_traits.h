// Device helpers shared by the CUDA kernels (spp_kernels.cu, roi_kernels.cu): per-type
// load/store (fp32, fp16, bf16, int8), the max that keeps NaN, and the reduction step of a pool mode.
// Only CUDA translation units include this header.
#pragma once

#include "spp/spp.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace spp
{
namespace device
{

//! Per-type behaviour: what accumulates, how a value is loaded (widened) and stored (rounded to nearest even).
template <typename T>
struct Traits
{
    using Acc = float;   //!< row-buffer / window accumulator
    using Total = float; //!< whole-window accumulator
    static __device__ __forceinline__ float load(T v)
    {
        return static_cast<float>(v);
    }
    static __device__ __forceinline__ T store(float v)
    {
        return static_cast<T>(v);
    }
    static __device__ __forceinline__ float lowest()
    {
        return -__int_as_float(0x7f800000); // -inf
    }
};

template <>
struct Traits<__half>
{
    using Acc = float;
    using Total = float;
    static __device__ __forceinline__ float load(__half v)
    {
        return __half2float(v);
    }
    static __device__ __forceinline__ __half store(float v)
    {
        return __float2half_rn(v);
    }
    static __device__ __forceinline__ float lowest()
    {
        return -__int_as_float(0x7f800000);
    }
};

template <>
struct Traits<__nv_bfloat16>
{
    using Acc = float;
    using Total = float;
    static __device__ __forceinline__ float load(__nv_bfloat16 v)
    {
        return __bfloat162float(v);
    }
    static __device__ __forceinline__ __nv_bfloat16 store(float v)
    {
        return __float2bfloat16_rn(v);
    }
    static __device__ __forceinline__ float lowest()
    {
        return -__int_as_float(0x7f800000);
    }
};

template <>
struct Traits<int8_t>
{
    using Acc = int32_t;   //!< a row of int8 sums exactly in int32 (rows are bounded by shared memory)
    using Total = int64_t; //!< whole windows may be huge
    static __device__ __forceinline__ int32_t load(int8_t v)
    {
        return v;
    }
    static __device__ __forceinline__ int32_t lowest()
    {
        return -128;
    }
};

//! Max keeping NaN: a NaN operand wins, and once the running value is NaN nothing replaces it with a number;
//! -inf stays -inf.
__device__ __forceinline__ float maxNaN(float a, float v)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    float r;
    asm("max.NaN.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(v)); // one instruction; NaN in, NaN out
    return r;
#else
    return (v > a || v != v) ? v : a;
#endif
}
__device__ __forceinline__ int32_t maxNaN(int32_t a, int32_t v)
{
    return v > a ? v : a;
}
__device__ __forceinline__ int64_t maxNaN(int64_t a, int64_t v)
{
    return v > a ? v : a;
}

//! One reduction step of the mode: max keeping NaN, or a sum.
template <typename Acc, PoolMode kMode>
__device__ __forceinline__ void combine(Acc& acc, Acc v)
{
    if constexpr (kMode == PoolMode::kMAX)
    {
        acc = maxNaN(acc, v);
    }
    else
    {
        acc += v;
    }
}

//! The start value of a reduction: the type's lowest value for max, 0 for avg.
template <typename T, PoolMode kMode>
__device__ __forceinline__ typename Traits<T>::Acc identity()
{
    if constexpr (kMode == PoolMode::kMAX)
    {
        return Traits<T>::lowest();
    }
    else
    {
        return 0;
    }
}

} // namespace device
} // namespace spp
