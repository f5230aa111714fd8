#pragma once
// Redis GET and SET throughput (Arrakis section 5.2): per point, the Redis-like server on one core on
// one path (linux, arrakis_p; a column may change the device, e.g. the 15 us what-if), loaded by the
// Redis load generator with every connection keeping one request outstanding, GET-only or SET-only
// (workload.redis.get_fraction swept over 1 and 0). Throughput is counted at the clients over a
// steady-state window after a warm-up (experiment.throughput.*), with the counters that say what
// limits it. summary.json has the breakdown schema in units ktps: columns by path, rows get and set.
#include "sim/config.h"
#include "sim/experiment.h"

namespace iovsim::sim {

experiment_kind redis_throughput_kind();

} // namespace iovsim::sim
