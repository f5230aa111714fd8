#include "sim/kinds/redis_throughput.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "sim/kinds/redis_breakdown.h"
#include "sim/kinds/udp_echo_throughput.h"
#include "sim/redis_testbed.h"
#include "sim/report.h"

namespace iovsim::sim {

namespace fs = std::filesystem;
using sc_core::sc_time;

namespace {

struct counters {
    uint64_t replies = 0;                 // at the clients
    double server_busy_ns = 0;            // the server core's work, not idle or polling
    os::accounting::row server_ns{};      // the server core's time by category
    double client_busy_ns = 0;            // the busiest client core's
    uint64_t aof_syncs = 0, aof_bytes = 0;
    uint64_t device_writes = 0, device_flushes = 0;
    uint64_t nic_drops = 0;
};

counters take(redis_testbed& tb)
{
    counters k;
    for (unsigned i = 0; i < tb.clients(); ++i) {
        k.replies += tb.client(i).stats().received;
        k.client_busy_ns = std::max(k.client_busy_ns, accounted_busy_ns(*tb.client_host(i).acct));
        k.nic_drops += nic_drop_count(tb.client_host(i).nic->stats());
    }
    k.server_busy_ns = accounted_busy_ns(tb.server_accounting());
    k.server_ns = accounted_ns_by_category(tb.server_accounting());
    k.aof_syncs = tb.app().stats().aof_syncs;
    k.aof_bytes = tb.app().stats().aof_bytes;
    k.device_writes = tb.server().storage->stats().writes;
    k.device_flushes = tb.server().storage->stats().flushes;
    k.nic_drops += nic_drop_count(tb.server().nic->stats());
    return k;
}

double round4(double v) { return std::round(v * 1e4) / 1e4 + 0.0; }

nlohmann::json run_point(const cfg::config& experiment, const std::string& column, const column_context&)
{
    const cfg::config c = column_config(experiment, column);
    redis_setup setup = redis_column_setup(c, column);
    // The clients do not finish within the window, which ends the run (the load generator keeps a
    // latency per measured reply: this many fit any window here).
    setup.warmup = 0;
    setup.requests = 2'000'000;
    setup.tail = 0;
    setup.keep_records = false;
    redis_testbed tb(c, setup);
    double r_connect_us = 0;

    const double warmup_us = c.get_real("experiment.throughput.warmup_us");
    const double window_us = c.get_real("experiment.throughput.window_us");
    const auto slices = static_cast<unsigned>(c.get_int("experiment.throughput.slices"));
    sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    // First every connection opens (the load starts once all are), then the warm-up.
    const auto connections = static_cast<uint64_t>(c.get_int("workload.redis.connections"));
    const sc_time limit(c.get_real("experiment.max_sim_ms"), sc_core::SC_MS);
    auto opened = [&tb] { return tb.connections_settled(); };
    while (opened() < connections && sc_core::sc_time_stamp() < limit)
        sc_core::sc_start(sc_time(1, sc_core::SC_MS));
    if (opened() < connections)
        throw std::runtime_error(fmt::format("column {}: {} of {} connections open after {} ms", column, opened(), connections,
                                             c.get_real("experiment.max_sim_ms")));
    const sc_time window_start = sc_core::sc_time_stamp() + sc_time(warmup_us, sc_core::SC_US);
    r_connect_us = sc_core::sc_time_stamp().to_seconds() * 1e6;
    sc_core::sc_start(window_start - sc_core::sc_time_stamp());
    const counters start = take(tb);
    std::vector<double> slice_ktps;
    counters prev = start;
    for (unsigned i = 1; i <= slices; ++i) {
        const sc_time end = window_start + sc_time(window_us * i / slices, sc_core::SC_US);
        sc_core::sc_start(end - sc_core::sc_time_stamp());
        const counters now = take(tb);
        slice_ktps.push_back(static_cast<double>(now.replies - prev.replies) / (window_us / slices) * 1000.0);
        prev = now;
    }
    const counters& end = prev;
    const uint64_t replies = end.replies - start.replies;
    if (replies == 0)
        throw std::runtime_error(fmt::format("column {}: no reply in the {} us window ({} replies in all)", column, window_us,
                                             end.replies));
    double mean = 0, var = 0;
    for (double v : slice_ktps)
        mean += v / static_cast<double>(slice_ktps.size());
    for (double v : slice_ktps)
        var += (v - mean) * (v - mean) / static_cast<double>(slice_ktps.size());
    const double window_ns = window_us * 1000.0;
    const double syncs = static_cast<double>(end.aof_syncs - start.aof_syncs);
    nlohmann::json r;
    r["column"] = column;
    r["get_fraction"] = c.get_real("workload.redis.get_fraction");
    r["ktps"] = round4(static_cast<double>(replies) / window_us * 1000.0);
    r["sigma"] = round4(std::sqrt(var));
    nlohmann::json slices_json = nlohmann::json::array();
    for (double v : slice_ktps)
        slices_json.push_back(round4(v));
    r["slice_ktps"] = slices_json;
    r["replies"] = replies;
    r["server_core_util"] = round4((end.server_busy_ns - start.server_busy_ns) / window_ns);
    r["client_core_util"] = round4((end.client_busy_ns - start.client_busy_ns) / window_ns);
    r["aof_syncs_per_request"] = round4(syncs / static_cast<double>(replies));
    r["device_writes_per_request"] = round4(static_cast<double>(end.device_writes - start.device_writes) / static_cast<double>(replies));
    r["device_flushes_per_request"] = round4(static_cast<double>(end.device_flushes - start.device_flushes) / static_cast<double>(replies));
    r["nic_drops"] = end.nic_drops - start.nic_drops;
    // Where the server core's time went, per reply: its work by category (idle: asleep waiting,
    // for the device among others).
    nlohmann::json per = nlohmann::json::object();
    for (unsigned i = 0; i < os::category_count; ++i) {
        const double ns = end.server_ns[i] - start.server_ns[i];
        if (ns > 0)
            per[os::to_string(static_cast<os::category>(i))] = round4(ns / static_cast<double>(replies) / 1000.0);
    }
    r["server_us_per_request"] = per;
    r["window_us"] = window_us;
    r["connections_open_at_us"] = round4(r_connect_us);
    return r;
}

// What the counters say limits a point.
std::string limit_of(const nlohmann::json& r)
{
    std::vector<std::string> what;
    if (r.at("server_core_util").get<double>() >= 0.95)
        what.push_back("server core");
    if (r.at("client_core_util").get<double>() >= 0.95)
        what.push_back("client core");
    if (r.at("aof_syncs_per_request").get<double>() > 0 && r.at("server_core_util").get<double>() < 0.95)
        what.push_back("waiting for the device (one sync at a time)");
    if (r.at("nic_drops").get<uint64_t>() > 0)
        what.push_back(fmt::format("{} NIC drops", r.at("nic_drops").get<uint64_t>()));
    if (what.empty())
        return "none at 95% (load: one request outstanding per connection)";
    std::string s;
    for (const auto& w : what)
        s += (s.empty() ? "" : ", ") + w;
    return s;
}

const char* row_of(const nlohmann::json& r)
{
    const double g = r.at("get_fraction").get<double>();
    return g >= 1.0 ? "get" : g <= 0.0 ? "set" : "mix";
}

nlohmann::json write_report(const cfg::config& c, const std::vector<column_output>& results, const std::string& out_dir)
{
    const std::vector<std::string> columns = c.get_string_list("experiment.columns");
    const std::vector<std::string> rows = {"get", "set", "mix"};
    std::map<std::string, std::map<std::string, const nlohmann::json*>> cell;
    for (const column_output& o : results)
        cell[o.column][row_of(o.result)] = &o.result;
    nlohmann::json summary;
    summary["experiment"] = c.get_string("experiment.name");
    summary["seed"] = c.get_int("experiment.seed");
    summary["units"] = "ktps";
    summary["config"] = c.to_json();
    nlohmann::json cols = nlohmann::json::object();
    std::vector<std::vector<std::string>> table = {{"row"}};
    std::vector<std::vector<std::string>> limits = {{"column", "row", "ktps", "server core", "client core",
                                                     "AOF syncs/request", "device writes/request", "limit"}};
    for (const std::string& col : columns)
        table[0].push_back(col);
    for (const std::string& row : rows) {
        std::vector<std::string> line = {row};
        bool any = false;
        for (const std::string& col : columns) {
            const auto it = cell[col].find(row);
            if (it == cell[col].end()) {
                line.push_back("–");
                continue;
            }
            any = true;
            const nlohmann::json& r = *it->second;
            cols[col]["rows"][row] = {{"mean", r.at("ktps")}, {"sigma", r.at("sigma")}};
            nlohmann::json k = r;
            k.erase("column");
            cols[col]["counters"][row] = k;
            line.push_back(fmt::format("{:.2f} (σ {:.2f})", r.at("ktps").get<double>(), r.at("sigma").get<double>()));
            auto pct = [&r](const char* key) { return fmt::format("{:.1f}%", r.at(key).get<double>() * 100); };
            limits.push_back({col, row, fmt::format("{:.2f}", r.at("ktps").get<double>()), pct("server_core_util"),
                              pct("client_core_util"), fmt::format("{:.2f}", r.at("aof_syncs_per_request").get<double>()),
                              fmt::format("{:.2f}", r.at("device_writes_per_request").get<double>()), limit_of(r)});
        }
        if (any)
            table.push_back(line);
    }
    summary["columns"] = cols;
    const fs::path out(out_dir);
    std::ofstream(out / "summary.json") << summary.dump(2) << "\n";
    std::ofstream(out / "table.md") << "Throughput (thousands of requests per second; σ over the window's slices):\n\n"
                                    << render_table(table)
                                    << "\nWhat limits each point (shares of the measurement window):\n\n"
                                    << render_table(limits);
    return summary;
}

} // namespace

experiment_kind redis_throughput_kind()
{
    experiment_kind k;
    k.name = "redis_throughput";
    k.paths = {"linux", "arrakis_p"};
    k.check = check_redis_column;
    k.run = run_point;
    k.report = write_report;
    return k;
}

} // namespace iovsim::sim
