#pragma once
// What the breakdown kinds share: their columns' results as one breakdown_report, and its
// summary.json and table.md beside the experiment's reference table.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/config.h"
#include "sim/experiment.h"
#include "sim/report.h"

namespace iovsim::sim {

// The columns' results (each a column_result as column_to_json wrote it), in their order; under a
// sweep each point is a column of its own, named by its point id.
breakdown_report breakdown_of_columns(const cfg::config& experiment, const std::vector<column_output>& results,
                                      const std::vector<std::string>& row_order);

// Writes summary.json and table.md into out_dir, the latter beside experiment.reference when one is
// set (judged by `tol`); returns the summary.
nlohmann::json write_breakdown(const cfg::config& experiment, const breakdown_report& report, const std::string& out_dir,
                               const tolerance& tol);

} // namespace iovsim::sim
