#pragma once
// Running an experiment: load and check the config, run each column as its own simulation (a
// child process per column: SystemC elaborates once per process; columns run in parallel), and hand
// the columns' results to the experiment's kind, which writes summary.json and table.md.
//
// An experiment kind (experiment.kind) says what a column is: which software paths it may name,
// what the configuration must hold beyond each value's own range, how one column is simulated
// (in its child process, returning JSON), and how the columns' results become the report. The
// kinds are listed once, in sim/kinds.cpp.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/config.h"

namespace iovsim::sim {

// What a column's simulation may use besides its config.
struct column_context {
    std::string out_dir;   // the run's output directory (for per-column files such as captures)
};

// One column's result, as its simulation returned it.
struct column_output {
    std::string column;
    nlohmann::json result;
};

struct experiment_kind {
    std::string name;
    // Software paths a column may name in columns.<name>.path.
    std::vector<std::string> paths;
    // Checks that span parameters, on one column's own config (the experiment's with the column's
    // overrides). Throws cfg::config_error naming the key at fault. May be empty.
    std::function<void(const cfg::config& column_cfg, const std::string& column)> check;
    // Simulates one column in this process (the experiment's config; the column's overrides are
    // the kind's to apply, with column_config). Throws std::runtime_error when it cannot complete.
    std::function<nlohmann::json(const cfg::config& experiment, const std::string& column, const column_context& ctx)> run;
    // Writes summary.json and table.md (and any merged files) into out_dir from the columns' results,
    // in the experiment's column order; returns the summary.
    std::function<nlohmann::json(const cfg::config& experiment, const std::vector<column_output>& results,
                                 const std::string& out_dir)>
        report;
};

// All kinds, in the order `iovsim params` lists them; the first is the default.
const std::vector<experiment_kind>& experiment_kinds();
std::vector<std::string> experiment_kind_names();
// Throws std::invalid_argument for an unknown name (the schema's choice list stops it earlier).
const experiment_kind& find_kind(const std::string& name);

// Builds a config error at the file and line where `key` was set (its origin).
cfg::config_error error_at(const cfg::config& c, const std::string& key, const std::string& reason);

// The config of a run: the file, then `--set` overrides, then `--seed`. Throws cfg::config_error.
cfg::config load_run_config(const std::string& path, const std::vector<std::string>& sets,
                            std::optional<uint64_t> seed);

// The config a column runs with: the experiment's, with the column's own overrides
// (columns.<name>.set) applied. Throws cfg::config_error naming that key.
cfg::config column_config(const cfg::config& c, const std::string& column);

struct run_options {
    std::string out_dir;
    unsigned jobs = 2;
    bool progress = false;      // a progress line on stderr
};

// Runs every column in a child process of its own, at most opt.jobs at once. Returns the results in
// the experiment's column order; throws std::runtime_error listing every column that failed.
std::vector<column_output> run_columns(const cfg::config& c, const run_options& opt);

// All columns, then effective-config.yaml and the kind's report in out_dir. Returns the summary.
nlohmann::json run_experiment(const cfg::config& c, const run_options& opt);

// Where reference data and configs live: IOVSIM_SOURCE_DIR from the environment, else the build's.
std::string source_dir();

// Per-column seed derived from the experiment's (DESIGN.md rule 6: named streams from one root).
uint64_t derive_seed(uint64_t root, const std::string& stream);

} // namespace iovsim::sim
