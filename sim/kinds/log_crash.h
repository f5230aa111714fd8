#pragma once
// Crash consistency of the Arrakis persistent log on the simulated device: per trial, a fresh
// storage host, a formatted log on a VSA through a VSIC, a stream of appends (several in flight)
// and truncations, and a power loss at a seeded random simulated time (storage_ctrl::power_fail_at:
// writes in service land torn). After it, recovery runs on what the device kept, and the judge
// (sim/log_crash.h) checks that the log opens, every acknowledged append is there and intact, and
// no torn or garbage entry is returned. Each trial is a process of its own (SystemC elaborates once
// per process); a column runs workload.crash.trials of them.
#include <string>

#include <nlohmann/json.hpp>

#include "sim/config.h"
#include "sim/experiment.h"

namespace iovsim::sim {

void declare_log_crash(cfg::schema& s);

// One trial, simulated in this process: {"ok", "why", "acknowledged", "entries", "appends",
// "torn_writes", "lost_completions", "crash_us"}.
nlohmann::json run_crash_trial(const cfg::config& column_cfg, const std::string& column, uint64_t trial);

// workload.crash.trials trials of a column, each in a child process, `jobs` at a time. The
// column's totals: {"trials", "failures", "acknowledged", "entries", "torn_writes", "failures_seen": [...]}.
nlohmann::json run_crash_trials(const cfg::config& experiment, const std::string& column, unsigned jobs);

experiment_kind log_crash_kind();

} // namespace iovsim::sim
