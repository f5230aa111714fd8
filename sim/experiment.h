#pragma once
// Running an experiment: load and check the config, run each column as its own simulation (a
// child process per column: SystemC elaborates once per process; columns run in parallel), merge the
// measurements, and write summary.json, table.md, effective-config.yaml and wire.pcap.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/config.h"
#include "sim/report.h"

namespace iovsim::sim {

// The config of a run: the file, then `--set` overrides, then `--seed`. Throws cfg::config_error.
cfg::config load_run_config(const std::string& path, const std::vector<std::string>& sets,
                            std::optional<uint64_t> seed);

// The config a column runs with: the experiment's, with the column's own overrides
// (columns.<name>.set) applied. Throws cfg::config_error naming that key.
cfg::config column_config(const cfg::config& c, const std::string& column);

// One column, simulated in this process. `pcap_path` empty: no capture. Throws std::runtime_error
// when the simulation does not complete.
column_result run_column(const cfg::config& c, const std::string& column, const std::string& pcap_path);

struct run_options {
    std::string out_dir;
    unsigned jobs = 2;
    bool progress = false;      // a progress line on stderr
};

// All columns (child processes), outputs written to out_dir. Returns the report.
breakdown_report run_experiment(const cfg::config& c, const run_options& opt);

// Where reference data and configs live: IOVSIM_SOURCE_DIR from the environment, else the build's.
std::string source_dir();

// Per-column seed derived from the experiment's (DESIGN.md rule 6: named streams from one root).
uint64_t derive_seed(uint64_t root, const std::string& stream);

} // namespace iovsim::sim
