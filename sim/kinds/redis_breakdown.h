#pragma once
// Where a Redis request's time goes on the server (Arrakis Table 2): per column, the Redis-like
// server on one core on one path (linux: kernel sockets, epoll, write+fsync of the AOF on ext4;
// arrakis_p: Arrakis/P's sockets and epoll over the VNIC, the AOF appended to the persistent log on
// the VSA), loaded by the Redis load generator with a GET-only (read columns) or SET-only (write
// columns) mix. Rows are what the server was doing, timed by its core's clock around each call
// (epoll, recv, parse, lookup, log_marshal, write, fsync, prepare, send, other), so they include
// blocking and the interrupts taken meanwhile.
#include <string>
#include <vector>

#include "sim/config.h"
#include "sim/experiment.h"
#include "sim/redis_testbed.h"
#include "sim/report.h"

namespace iovsim::sim {

// The redis testbed's setup of a column of a Redis experiment (path, counts, seed).
redis_setup redis_column_setup(const cfg::config& column_cfg, const std::string& column);
void check_redis_column(const cfg::config& column_cfg, const std::string& column);

// One column, simulated in this process (the testbed's counters into `counters` when given).
// Throws std::runtime_error when it does not complete.
column_result run_redis_breakdown_column(const cfg::config& experiment, const std::string& column,
                                         nlohmann::json* counters = nullptr);

breakdown_report redis_breakdown_of(const cfg::config& experiment, const std::vector<column_output>& results);

experiment_kind redis_breakdown_kind();

} // namespace iovsim::sim
