#pragma once
// Hot-path conversion of a duration in nanoseconds to sc_time, without a call into the SystemC
// library: one time-resolution step scaled by the inline sc_time::operator*, which rounds to the
// nearest step as sc_time(double, unit) does. The resolution is fixed once elaboration begins.
#include <systemc>

namespace iovsim::sim {

inline sc_core::sc_time ns_to_time(double ns)
{
    static const double steps_per_ns = 1e-9 / sc_core::sc_get_time_resolution().to_seconds();
    static const sc_core::sc_time step = sc_core::sc_time::from_value(1);
    return step * (ns * steps_per_ns);
}

// A duration in nanoseconds, from its count of resolution steps (exact for whole picoseconds, where
// to_seconds() * 1e9 is not).
inline double time_to_ns(const sc_core::sc_time& t)
{
    static const double ns_per_step = sc_core::sc_get_time_resolution().to_seconds() * 1e9;
    return static_cast<double>(t.value()) * ns_per_step;
}

} // namespace iovsim::sim
