#pragma once
// Performance isolation between tenants (the Arrakis paper's control-plane claim): per column, N
// memcached-like servers on one host, each on its own core (Linux-like: sharing the kernel and the
// PF; Arrakis/P: each on a VNIC of its own), each loaded by its own client; optionally one server's
// transmissions limited (os.isolation.limit_mbps). Per server, the transactions per second it
// completed in the measured window; in summary.json, series of ktps against the server's index.
#include <string>

#include <nlohmann/json.hpp>

#include "sim/config.h"
#include "sim/experiment.h"

namespace iovsim::sim {

// One column, simulated in this process: per server {"ktps", "transactions", "response_bytes",
// "frames", "l2_mbps", "wire_mbps", "lost", "bad"}, and "limited", "limit_mbps". Throws
// std::runtime_error when the simulation does not complete.
nlohmann::json run_isolation_column(const cfg::config& experiment, const std::string& column);

experiment_kind perf_isolation_kind();

} // namespace iovsim::sim
