// Breakdown results: what an experiment measured per software path (column) and category (row),
// the paper's reference table beside it, the tolerance check, and the two writers of a run's
// output directory (summary.json, table.md). See DESIGN.md, "Results".
#pragma once

#include "sim/stats.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace iovsim::sim {

// One software path of an experiment, e.g. linux_running. Every sample set holds one sample per
// request served, in nanoseconds; a request that spent nothing in a row adds 0 to that row, so
// that row means are over the same requests as the total and sum to it.
struct column_result {
    std::string key;
    sample_set total_ns;      // server time charged to the request, all rows together
    sample_set end_to_end_ns; // latency seen by the client
    std::map<std::string, sample_set> rows_ns;
};

// A column's samples as a column's simulation hands them to the report (the child process's JSON),
// and back.
nlohmann::json column_to_json(const column_result& r);
column_result column_from_json(const nlohmann::json& j);

struct breakdown_report {
    std::string experiment;
    uint64_t seed = 0;
    std::vector<std::string> row_order; // table order; rows not listed follow in key order
    std::vector<column_result> columns;
};

struct reference_cell {
    double mean = 0.0;        // us
    std::optional<double> pct; // % of the column's total, as the paper prints it
};

// A paper's table, as results/reference/*.json holds it. Read only for printing beside our
// results and for tolerance checks (DESIGN.md, rule 5).
struct reference_table {
    std::string source;
    std::map<std::string /*column*/, std::map<std::string /*row*/, reference_cell>> rows;
    std::map<std::string, reference_cell> totals;
    std::map<std::string, double> total_sigma;
    // Rows whose own sigma the paper gives (a figure's error bar): column -> row -> us.
    std::map<std::string, std::map<std::string, double>> row_sigma;
    // The 99th percentile of the total, where the paper gives it (printed beside ours, not judged).
    std::map<std::string, double> total_p99;
    // Columns whose total sigma the paper gives only as an upper bound ("<0.01").
    std::set<std::string> sigma_upper_bound;
};

// Throws std::runtime_error, whose message starts with the path, when the file cannot be read,
// is not JSON, or does not follow the schema (unknown keys included, so typos do not pass).
reference_table load_reference(const std::string& json_path);

struct tolerance {
    double cell_rel = 0.10;   // a row passes within 10% of the paper's value ...
    double cell_abs_us = 0.05; // ... or within 0.05 us, for cells too small for 10% to be fair
    double total_rel = 0.05;  // a column's total passes within 5%
};

struct cell_check {
    std::string column, row; // row "total" for a column's total
    double ours_us = 0.0;
    double ref_us = 0.0;
    double rel_err = 0.0; // (ours - ref) / ref; +inf when ref is 0 and ours is not
    bool ok = false;
};

// One check per reference cell and total of every column both the report and the reference have,
// in the report's column order; rows in row_order first, then the rest in key order, total last.
// A reference row we did not measure counts as ours = 0. A row we measured (mean > 0.005 us) that
// the reference lacks is a cell with ref = 0, judged by the absolute tolerance alone.
// Columns only one side has are skipped (an experiment may run a subset of the paper's paths):
// a caller that needs coverage checks the number of cells it got.
std::vector<cell_check> check_against(const breakdown_report& report, const reference_table& ref,
                                      const tolerance& tol);

// summary.json for a breakdown experiment:
// {"experiment", "seed", "units": "us", "config",
//  "columns": {key: {"requests",
//                    "rows": {row: {"mean", "sigma", "pct", "p99"}},
//                    "total": {"mean", "sigma", "p99"}, "end_to_end": {"mean", "sigma", "p99"}}}}
// Values in us rounded to 4 decimals (byte-stable output); pct is of the column's total mean.
// A column whose sample sets rejected non-finite samples also carries "invalid_samples": count.
nlohmann::json to_summary_json(const breakdown_report& report, const nlohmann::json& effective_config);

// table.md: one aligned Markdown table, readable as plain text too. A line per row (row_order,
// other rows, total, end_to_end); per column "ours (pct%)", then, when ref is given, "paper" and
// "err" (signed relative error and a tolerance mark); "–" where there is no value. A footer counts
// the cells within tolerance.
std::string to_markdown(const breakdown_report& report, const reference_table* ref, const tolerance& tol);

// ---- Throughput experiments: y against x, one series per configuration --------------------------

struct series_point {
    double x = 0.0;
    double y = 0.0;
    std::optional<double> sigma;   // spread of y where the experiment measures one
};

struct series_report {
    std::string experiment;
    uint64_t seed = 0;
    std::string x_key;   // e.g. "processing_us"
    std::string y_key;   // e.g. "ktps"
    std::vector<std::pair<std::string, std::vector<series_point>>> series;   // in display order
};

// summary.json for a throughput experiment (DESIGN.md, "Results"):
// {"experiment", "seed", "x", "y", "config", "series": {name: [{"x", "y"[, "sigma"]}, ...]}}
// Values rounded to 4 decimals (byte-stable output).
nlohmann::json to_summary_json(const series_report& report, const nlohmann::json& effective_config);

// table.md: one line per x (in order of first appearance), one column per series; "–" where a
// series has no point at that x.
std::string to_markdown(const series_report& report);

// series.csv: "series,<x>,<y>,sigma", a line per point (values as in summary.json; sigma empty
// where not measured).
std::string to_csv(const series_report& report);

// An aligned Markdown table; the first row is the header.
std::string render_table(const std::vector<std::vector<std::string>>& cells);

} // namespace iovsim::sim
