#pragma once
// The UDP echo breakdown (Arrakis Table 1): per column, one echo server on one software path and a
// load generator; the server's time per request by category, and the client's end-to-end latency.
#include <string>
#include <vector>

#include "sim/config.h"
#include "sim/experiment.h"
#include "sim/report.h"

namespace iovsim::sim {

// One column, simulated in this process. `pcap_path` empty: no capture. Throws std::runtime_error
// when the simulation does not complete.
column_result run_column(const cfg::config& experiment, const std::string& column, const std::string& pcap_path);

// The breakdown of the columns' results, in their order.
breakdown_report breakdown_of(const cfg::config& experiment, const std::vector<column_output>& results);

experiment_kind udp_echo_breakdown_kind();

} // namespace iovsim::sim
