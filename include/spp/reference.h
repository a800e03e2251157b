// spp-trt CPU reference: plain loops, double accumulation. Slow by design; it is the oracle the kernels are checked
// against, and the fallback of spp-demo on machines without a GPU.
#pragma once

#include "spp/spp.h"

namespace spp
{

//! Computes SPP of `input` (laid out as desc.layout says) into the flat output [N, C * sum(L^2)].
//! Element types: float for kFLOAT, uint16_t bit patterns for kHALF / kBF16, int8_t for kINT8.
//! Returns the validation message for a bad descriptor or null pointers; never throws.
Status sppReferenceCpu(SppDesc const& desc, void const* input, void* output) noexcept;

//! IEEE binary16 / bfloat16 <-> float on the host, round-to-nearest-even; NaN stays NaN.
uint16_t floatToHalfBits(float value) noexcept;
float halfBitsToFloat(uint16_t bits) noexcept;
uint16_t floatToBf16Bits(float value) noexcept;
float bf16BitsToFloat(uint16_t bits) noexcept;

} // namespace spp
