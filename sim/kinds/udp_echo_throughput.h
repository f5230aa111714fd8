#pragma once
// UDP echo throughput: per point, one echo server on one core on one software path (a series:
// linux, arrakis_p, arrakis_n, or driver, the echo inside the VF driver), loaded by a client host
// with many requests outstanding, and the application's own work per request swept
// (workload.echo.processing_us). Throughput is counted at the client over a steady-state window
// after a warm-up, with the counters that say what limits it (core, link, drops, PCIe).
#include "sim/config.h"
#include "sim/experiment.h"

namespace iovsim::sim {

// workload.echo.processing_us and experiment.throughput.*.
void declare_udp_echo_throughput(cfg::schema& s);

experiment_kind udp_echo_throughput_kind();

} // namespace iovsim::sim
