#pragma once
// The UDP echo breakdown (Arrakis Table 1): per column, one echo server on one software path and a
// load generator; the server's time per request by category, and the client's end-to-end latency.
#include <string>
#include <vector>

#include "sim/config.h"
#include "sim/experiment.h"
#include "sim/report.h"
#include "sim/testbed.h"

namespace iovsim::sim {

// The testbed setup of a column from its own config (column_config): path, load, and the client's
// seed from the stream "client/<column>".
column_setup echo_column_setup(const cfg::config& c, const std::string& column, const std::string& pcap_path);

// One column, simulated in this process. `pcap_path` empty: no capture. Throws std::runtime_error
// when the simulation does not complete.
column_result run_column(const cfg::config& experiment, const std::string& column, const std::string& pcap_path);

// What the echo testbed's hardware and drivers need of a column's configuration, beyond each
// value's own range; `path` is the column's software path. Throws cfg::config_error.
void check_echo_platform(const cfg::config& c, const std::string& column, const std::string& path);

// The breakdown of the columns' results, in their order.
breakdown_report breakdown_of(const cfg::config& experiment, const std::vector<column_output>& results);

experiment_kind udp_echo_breakdown_kind();

} // namespace iovsim::sim
