#pragma once
// UDP echo throughput: per point, one echo server on one core on one software path (a series:
// linux, arrakis_p, arrakis_n, or driver, the echo inside the VF driver), loaded by a client host
// with many requests outstanding, and the application's own work per request swept
// (workload.echo.processing_us). Throughput is counted at the client over a steady-state window
// after a warm-up, with the counters that say what limits it (core, link, drops, PCIe).
#include "models/nic/e10k.h"
#include "os/core/accounting.h"
#include "sim/config.h"
#include "sim/experiment.h"

namespace iovsim::sim {

// workload.echo.processing_us and experiment.throughput.*.
void declare_udp_echo_throughput(cfg::schema& s);

experiment_kind udp_echo_throughput_kind();

// Shared with the other throughput kinds: a core's work in its accounting (every request's and the
// unattributed work's charges of request-work categories: not idle, not polling an empty ring),
// and the receive drops an e10k counted.
double accounted_busy_ns(const os::accounting& acct);
// The same charges by category (idle and polling included).
os::accounting::row accounted_ns_by_category(const os::accounting& acct);
uint64_t nic_drop_count(const nic::e10k_stats& s);

} // namespace iovsim::sim
