#include "sim/kinds/perf_isolation.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "sim/params.h"
#include "sim/report.h"
#include "sim/tenant_testbed.h"

namespace iovsim::sim {

namespace fs = std::filesystem;

namespace {

// Ethernet (14), IPv4 (20) and UDP (8) headers around a response's payload; on the wire, the FCS
// (4), the preamble and start delimiter (8) and the inter-frame gap (12) besides.
constexpr double l2_overhead = 42, wire_overhead = 42 + 24;

nlohmann::json write_report(const cfg::config& c, const std::vector<column_output>& results, const std::string& out_dir)
{
    series_report report;
    report.experiment = c.get_string("experiment.name");
    report.seed = static_cast<uint64_t>(c.get_int("experiment.seed"));
    report.x_key = "server";
    report.y_key = "ktps";
    nlohmann::json totals = nlohmann::json::object(), details = nlohmann::json::object();
    for (const column_output& r : results) {
        std::vector<series_point> points;
        double total = 0;
        const auto& servers = r.result.at("servers");
        for (size_t i = 0; i < servers.size(); ++i) {
            const double ktps = servers[i].at("ktps").get<double>();
            points.push_back({static_cast<double>(i), ktps, std::nullopt});
            total += ktps;
        }
        report.series.emplace_back(r.column, points);
        totals[r.column] = std::round(total * 1e4) / 1e4;
        details[r.column] = r.result;
    }
    nlohmann::json summary = to_summary_json(report, c.to_json());
    summary["total_ktps"] = totals;
    summary["columns"] = details;
    const fs::path out(out_dir);
    {
        std::ofstream f(out / "summary.json");
        f << summary.dump(2) << "\n";
    }
    std::string md = to_markdown(report);
    md += "\nTotal (ktps):";
    for (const column_output& r : results)
        md += fmt::format(" {} {:.2f};", r.column, totals[r.column].get<double>());
    md += "\n\nLimited server's send rate (Mb/s, L2 frames without FCS / on the wire):";
    for (const column_output& r : results) {
        const unsigned lim = r.result.at("limited").get<unsigned>();
        const auto& s = r.result.at("servers").at(lim);
        md += fmt::format(" {} {:.2f} / {:.2f};", r.column, s.at("l2_mbps").get<double>(), s.at("wire_mbps").get<double>());
    }
    md += "\n";
    {
        std::ofstream f(out / "table.md");
        f << md;
    }
    return summary;
}

} // namespace

nlohmann::json run_isolation_column(const cfg::config& experiment, const std::string& column)
{
    const cfg::config c = column_config(experiment, column);
    tenant_setup s;
    s.path = parse_path(c.get_string("columns." + column + ".path"));
    s.servers = static_cast<unsigned>(c.get_int("workload.memcached.servers"));
    s.outstanding = static_cast<unsigned>(c.get_int("columns." + column + ".outstanding"));
    s.rate_kpps = c.get_real("columns." + column + ".rate_kpps");
    s.limit_bps = c.get_real("os.isolation.limit_mbps") * 1e6;
    s.limited = static_cast<unsigned>(c.get_int("os.isolation.limited_server"));
    s.seed = derive_seed(static_cast<uint64_t>(c.get_int("experiment.seed")), "perf_isolation/" + column);
    tenant_testbed tb(c, s);
    if (!tb.run())
        throw std::runtime_error(fmt::format("column {}: the clients did not finish within {} ms of simulated time", column,
                                             c.get_real("experiment.max_sim_ms")));
    const double measure_s = c.get_real("workload.memcached.measure_us") * 1e-6;
    nlohmann::json servers = nlohmann::json::array();
    for (unsigned i = 0; i < s.servers; ++i) {
        const auto& st = tb.client(i).stats();
        const double frames = static_cast<double>(st.window_transactions);
        const double payload = static_cast<double>(st.window_response_bytes);
        servers.push_back({{"ktps", tb.client(i).ktps()},
                           {"transactions", st.window_transactions},
                           {"response_bytes", st.window_response_bytes},
                           {"l2_mbps", (payload + frames * l2_overhead) * 8 / measure_s / 1e6},
                           {"wire_mbps", (payload + frames * wire_overhead) * 8 / measure_s / 1e6},
                           {"lost", st.lost},
                           {"bad", st.bad}});
    }
    return {{"servers", servers}, {"limited", s.limited}, {"limit_mbps", s.limit_bps / 1e6}, {"path", to_string(s.path)}};
}

experiment_kind perf_isolation_kind()
{
    experiment_kind k;
    k.name = "perf_isolation";
    k.paths = {"linux", "arrakis_p"};
    k.check = [](const cfg::config& c, const std::string& column) {
        tenant_testbed::check(c, parse_path(c.get_string("columns." + column + ".path")),
                              static_cast<unsigned>(c.get_int("workload.memcached.servers")));
    };
    k.run = [](const cfg::config& c, const std::string& column, const column_context&) {
        return run_isolation_column(c, column);
    };
    k.report = write_report;
    return k;
}

} // namespace iovsim::sim
