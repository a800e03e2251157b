// x / d by a multiplication, for divisors the host knows (shared by the SPP kernels and their host-side plans).
#pragma once

#include "core/bins.h" // SPP_HD

#include <cstdint>

namespace spp
{
namespace detail
{

//! x / d as (x * m) >> 40 with m = ceil(2^40 / d): exact for x * d < 2^40 (m * d exceeds 2^40 by e < d, and x * e
//! must stay below 2^40), and x * m fits 64 bits for x < 2^24. The grid kernel divides x < P * F^2 <= 2048 by F, L or
//! L^2 <= 256; the tasks kernel x < 32 * 2^16 by H * W or L^2 < 2^16.
struct Magic
{
    uint64_t m;

    static Magic of(int64_t d)
    {
        return Magic{((uint64_t{1} << 40) + static_cast<uint64_t>(d) - 1) / static_cast<uint64_t>(d)};
    }

    SPP_HD int32_t div(int32_t x) const
    {
        return static_cast<int32_t>((static_cast<uint64_t>(static_cast<uint32_t>(x)) * m) >> 40);
    }
};

} // namespace detail
} // namespace spp
