#pragma once
// Every parameter of a run, declared once: the schema the config files are checked against, and
// the typed views the testbed reads. Keys, defaults, ranges and help are in params.cpp; the platform
// file configs/platforms/arrakis_e5_2430.yaml sets them with provenance.
#include <string>
#include <vector>

#include "sim/config.h"

namespace iovsim::sim {

// The schema of all parameters.
const cfg::schema& parameters();

// The software paths a column can run on the server. `driver`: the Arrakis dataplane's VF driver
// answers the echo itself (no stack, no socket): the ceiling of the hardware and the driver.
enum class server_path { linux_kernel, arrakis_p, arrakis_n, driver };
server_path parse_path(const std::string& s);
const char* to_string(server_path p);

} // namespace iovsim::sim
