#pragma once
// Hot-path conversion of a duration in nanoseconds to sc_time without sc_time(double, unit)'s slow
// general path: a multiplication by the steps per nanosecond of the kernel's time resolution, fixed
// once elaboration has begun, and rounding to the nearest step (as sc_time(double, unit) does).
#include <systemc>

namespace iovsim::models {

inline sc_core::sc_time ns_to_time(double ns)
{
    static const double steps_per_ns = 1e-9 / sc_core::sc_get_time_resolution().to_seconds();
    return sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(ns * steps_per_ns + 0.5));
}

} // namespace iovsim::models
