#include "sim/kinds/breakdown.h"

#include <filesystem>
#include <fstream>
#include <optional>

namespace iovsim::sim {

namespace fs = std::filesystem;

breakdown_report breakdown_of_columns(const cfg::config& experiment, const std::vector<column_output>& results,
                                      const std::vector<std::string>& row_order)
{
    breakdown_report report;
    report.experiment = experiment.get_string("experiment.name");
    report.seed = static_cast<uint64_t>(experiment.get_int("experiment.seed"));
    report.row_order = row_order;
    for (const column_output& r : results) {
        report.columns.push_back(column_from_json(r.result));
        if (!r.swept.empty())
            report.columns.back().key = r.point_id;   // a column per point of a sweep
    }
    return report;
}

nlohmann::json write_breakdown(const cfg::config& experiment, const breakdown_report& report, const std::string& out_dir,
                               const tolerance& tol)
{
    const fs::path out(out_dir);
    const nlohmann::json summary = to_summary_json(report, experiment.to_json());
    std::ofstream(out / "summary.json") << summary.dump(2) << "\n";
    std::optional<reference_table> ref;
    const std::string ref_path = experiment.get_string("experiment.reference");
    if (!ref_path.empty())
        ref = load_reference((fs::path(source_dir()) / ref_path).string());
    std::ofstream(out / "table.md") << to_markdown(report, ref ? &*ref : nullptr, tol);
    return summary;
}

} // namespace iovsim::sim
