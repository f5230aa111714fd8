// The experiment kinds, listed once (see experiment_kind in sim/experiment.h).
#include "sim/experiment.h"
#include "sim/kinds/udp_echo_breakdown.h"

namespace iovsim::sim {

const std::vector<experiment_kind>& experiment_kinds()
{
    static const std::vector<experiment_kind> kinds = {
        udp_echo_breakdown_kind(),
    };
    return kinds;
}

} // namespace iovsim::sim
