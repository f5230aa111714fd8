// The experiment kinds, listed once (see experiment_kind in sim/experiment.h).
#include "sim/experiment.h"
#include "sim/kinds/fsync_overhead.h"
#include "sim/kinds/log_crash.h"
#include "sim/kinds/perf_isolation.h"
#include "sim/kinds/redis_breakdown.h"
#include "sim/kinds/redis_throughput.h"
#include "sim/kinds/udp_echo_breakdown.h"
#include "sim/kinds/udp_echo_throughput.h"
#include "sim/kinds/vsic_overhead.h"

namespace iovsim::sim {

const std::vector<experiment_kind>& experiment_kinds()
{
    static const std::vector<experiment_kind> kinds = {
        udp_echo_breakdown_kind(),
        udp_echo_throughput_kind(),
        vsic_overhead_kind(),
        perf_isolation_kind(),
        fsync_overhead_kind(),
        log_crash_kind(),
        redis_breakdown_kind(),
        redis_throughput_kind(),
    };
    return kinds;
}

} // namespace iovsim::sim
