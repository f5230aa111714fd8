#pragma once
// The cost of virtualizing storage (Arrakis section 5, VSIC emulation): an application writes 1 KB
// at a time and waits for each write's completion, on one of three paths:
//   direct    straight to a queue pair of the physical controller (no VSIC)
//   emulated  through an emulated VSIC: software on a dedicated core, as the paper's prototype
//   hardware  through a hardware VSIC (a device function of the controller)
// Per write: its latency (submission to completion, on the application's core), split into the
// application's driver work (`app_driver`), the work the VSIC core ran for it (`vsic_core`), and the
// rest (`device`: the controller, DMA, link, and the hand-offs between cores). The virtualization
// cost of a VSIC path is its mean latency less the direct path's, split into what the VSIC core
// ran and the rest.
#include <string>
#include <vector>

#include "sim/config.h"
#include "sim/experiment.h"
#include "sim/report.h"

namespace iovsim::sim {

// One column, simulated in this process. Throws std::runtime_error when it does not complete.
column_result run_vsic_overhead_column(const cfg::config& experiment, const std::string& column);

// The breakdown of the columns' results, in their order.
breakdown_report vsic_overhead_breakdown(const cfg::config& experiment, const std::vector<column_output>& results);

struct virtualization_cost {
    std::string column;
    double per_write_us = 0;    // mean latency less the direct path's
    double vsic_core_us = 0;    // what the VSIC core ran per write
    double app_driver_us = 0;   // the application's driver work, less the direct path's
    double rest_us = 0;         // the remainder: device side and the hand-offs between cores
};
// For every VSIC column (at every point of a sweep), against the direct column at the same point;
// none for a point without a direct column.
std::vector<virtualization_cost> virtualization_costs(const cfg::config& experiment, const std::vector<column_output>& results);

experiment_kind vsic_overhead_kind();
// The workload's parameters (workload.blk_write.*).
void declare_vsic_overhead(cfg::schema& s);

} // namespace iovsim::sim
