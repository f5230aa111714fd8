#pragma once
// write() then fsync(), over and over (Arrakis Fig. 2): per column, one file system on the
// Linux-like path (VFS, file system, journal, block layer, the controller's driver with interrupts)
// or the Arrakis persistent log on a VSA through a VSIC, on the storage host with the configured
// device (a RAM disk for the figure, the RAID controller beside it). Rows: "write" (the write()
// call, or the log append's call) and "fsync" (fsync(), or waiting for the append to be durable),
// in simulated time per iteration.
#include <string>
#include <vector>

#include "sim/config.h"
#include "sim/experiment.h"
#include "sim/report.h"

namespace iovsim::sim {

// Declares workload.fsync.* and os.linux.fs.* (one call in sim/params.cpp).
void declare_fsync_overhead(cfg::schema& s);

// One column, simulated in this process. Throws std::runtime_error when it does not complete.
column_result run_fsync_column(const cfg::config& experiment, const std::string& column);

// Fig. 2's bars are read off a plot: each within 15%.
tolerance fsync_tolerance();

breakdown_report fsync_breakdown_of(const cfg::config& experiment, const std::vector<column_output>& results);

experiment_kind fsync_overhead_kind();

} // namespace iovsim::sim
