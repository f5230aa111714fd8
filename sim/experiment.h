#pragma once
// Running an experiment: load and check the config, run each point (a column, at one value of each
// swept parameter: sim/sweep.h) as its own simulation (a child process per point: SystemC elaborates
// once per process; points run in parallel), and hand the points' results to the experiment's kind,
// which writes summary.json and table.md.
//
// Output directory: summary.json, table.md (the kind's), effective-config.yaml (the experiment's),
// points.csv (a line per point), and points/<id>/ per point: effective-config.yaml (what that point
// ran with; `iovsim run` on it reproduces the point), result.json (the point's raw result with the
// hashes of its config and of the binary), error.txt when it failed, and any files of its own.
// A point whose result.json matches its config and the running binary is not simulated again
// (resume after an interruption, or extend a sweep); --force redoes it.
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
    std::string out_dir;     // the run's output directory
    std::string point_dir;   // this point's own directory (points/<id>), for its files such as captures
    // The swept parameters and their values at this point (empty without a sweep); the config the
    // kind gets has them applied already.
    std::vector<std::pair<std::string, std::string>> swept;
};

// One point's result, as its simulation returned it.
struct column_output {
    std::string column;
    nlohmann::json result;
    std::string point_id;    // the point's directory name under points/ (the column without a sweep)
    std::vector<std::pair<std::string, std::string>> swept;   // as column_context::swept
    std::string point_dir;
};

// A point whose simulation did not complete.
struct point_failure {
    std::string point_id;
    std::string config_path;   // its effective config, to re-run it alone
    std::string error;
};

struct experiment_kind {
    std::string name;
    // Software paths a column may name in columns.<name>.path.
    std::vector<std::string> paths;
    // Checks that span parameters, on one column's own config (the experiment's with the column's
    // overrides). Throws cfg::config_error naming the key at fault. May be empty.
    std::function<void(const cfg::config& column_cfg, const std::string& column)> check;
    // Simulates one point of a column in this process. The config is the point's (sweep values
    // applied, see point_config); the column's overrides are the kind's to apply, with
    // column_config. Throws std::runtime_error when it cannot complete.
    std::function<nlohmann::json(const cfg::config& experiment, const std::string& column, const column_context& ctx)> run;
    // Writes summary.json and table.md (and any merged files) into out_dir from the points' results,
    // in the experiment's column order, then the sweep's (only points that completed); returns the
    // summary.
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
    bool force = false;         // simulate every point, even those with a matching result
};

struct run_outcome {
    std::vector<column_output> results;     // completed points, in point order
    std::vector<point_failure> failures;
    size_t reused = 0;                      // points whose earlier result was taken as it was
};

// Runs every point in a child process of its own, at most opt.jobs at once, and writes each point's
// directory. A failing point does not stop the others.
run_outcome run_points(const cfg::config& c, const run_options& opt);

// run_points, for callers that need every point: throws std::runtime_error listing the failures.
std::vector<column_output> run_columns(const cfg::config& c, const run_options& opt);

// All points, then effective-config.yaml, points.csv and the kind's report (of the points that
// completed) in out_dir. Returns the summary; throws std::runtime_error listing failed points, with
// their configs and errors, after writing everything else. `reused`, when given, gets the number of
// points taken from an earlier run.
nlohmann::json run_experiment(const cfg::config& c, const run_options& opt, size_t* reused = nullptr);

// FNV-1a 64-bit of the running executable's file, in hex: a result is reused only from this binary.
const std::string& binary_hash();

// The platform file (configs/platforms/arrakis_e5_2430.yaml) alone, with `--set`-style overrides:
// the machine without an experiment, for tests and tools. Throws cfg::config_error.
cfg::config load_platform(const std::vector<std::string>& sets);

// Where reference data and configs live: IOVSIM_SOURCE_DIR from the environment, else the build's.
std::string source_dir();

// Per-column seed derived from the experiment's (DESIGN.md rule 6: named streams from one root).
uint64_t derive_seed(uint64_t root, const std::string& stream);

} // namespace iovsim::sim
