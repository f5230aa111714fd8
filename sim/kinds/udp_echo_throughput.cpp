#include "sim/kinds/udp_echo_throughput.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "os/core/category.h"
#include "sim/kinds/udp_echo_breakdown.h"
#include "sim/params.h"
#include "sim/report.h"
#include "sim/testbed.h"

namespace iovsim::sim {

namespace fs = std::filesystem;
using sc_core::sc_time;

void declare_udp_echo_throughput(cfg::schema& s)
{
    s.add_real("workload.echo.processing_us", 0, 0, 1e6, "us",
               "the application's own work per request beyond the echo (charged as app); swept by udp_echo_throughput");
    s.add_real("experiment.throughput.warmup_us", 2000, 0, 1e9, "us",
               "throughput experiments: simulated time before the window (ARP, rings and queues reach steady state)");
    s.add_real("experiment.throughput.window_us", 10000, 1, 1e9, "us", "throughput experiments: the measurement window");
    s.add_int("experiment.throughput.slices", 5, 1, 1000, "",
              "the window is cut in this many equal slices; sigma is the spread of their throughputs");
}

namespace {

// What the counters say at one moment.
struct counters {
    uint64_t replies = 0;              // at the client
    uint64_t served = 0;               // requests the server opened
    double server_busy_ns = 0, client_busy_ns = 0;   // work, not idle or polling an empty ring
    uint64_t rx_frames = 0, rx_bytes = 0, tx_frames = 0, tx_bytes = 0;   // the server NIC's MAC
    uint64_t nic_drops = 0;            // packet buffer overflow, no descriptor, queue drops (both hosts)
    uint64_t switch_drops = 0;
    uint64_t dataplane_drops = 0;      // no buffer to refill, transmit ring full (both dataplanes)
    uint64_t tlps_up = 0, tlps_down = 0;   // the server's PCIe link
    double pcie_up_ns = 0, pcie_down_ns = 0;   // time each direction of it was sending
};

} // namespace

os::accounting::row accounted_ns_by_category(const os::accounting& acct)
{
    os::accounting::row sum{};
    auto add = [&sum](const os::accounting::row& r) {
        for (unsigned k = 0; k < os::category_count; ++k)
            sum[k] += r[k];
    };
    for (os::request_id id = 1; id <= acct.requests(); ++id)
        add(acct.of(id));
    add(acct.unattributed());
    return sum;
}

double accounted_busy_ns(const os::accounting& acct)
{
    const os::accounting::row r = accounted_ns_by_category(acct);
    double ns = 0;
    for (unsigned k = 0; k < os::category_count; ++k)
        if (os::is_request_work(static_cast<os::category>(k)))
            ns += r[k];
    return ns;
}

uint64_t nic_drop_count(const nic::e10k_stats& s)
{
    return s.rx_buffer_overflow + s.rx_no_descriptor + s.rx_queue_disabled + s.rx_buffer_too_small;
}

namespace {

uint64_t dataplane_drops(const os::dataplane::dataplane* dp)
{
    return dp ? dp->stats().rx_no_buffer + dp->stats().tx_ring_full : 0;
}

counters take(testbed& tb)
{
    counters k;
    k.replies = tb.client().received();
    k.served = tb.server_accounting().requests();
    k.server_busy_ns = accounted_busy_ns(tb.server_accounting());
    k.client_busy_ns = accounted_busy_ns(*tb.client_host().acct);
    const nic::e10k_stats& s = tb.server().nic->stats();
    k.rx_frames = s.rx_frames;
    k.rx_bytes = s.rx_bytes;
    k.tx_frames = s.tx_frames;
    k.tx_bytes = s.tx_bytes;
    k.nic_drops = nic_drop_count(s) + nic_drop_count(tb.client_host().nic->stats());
    k.switch_drops = tb.network_switch().dropped();
    k.dataplane_drops = dataplane_drops(tb.server_dataplane()) + dataplane_drops(tb.client_dataplane());
    k.tlps_up = tb.server().link->tlps_up();
    k.tlps_down = tb.server().link->tlps_down();
    k.pcie_up_ns = tb.server().link->busy_up().to_seconds() * 1e9;
    k.pcie_down_ns = tb.server().link->busy_down().to_seconds() * 1e9;
    return k;
}

double round4(double v) { return std::round(v * 1e4) / 1e4 + 0.0; }

// Share of the line rate that `frames` frames of `bytes` in all took on the wire during `ns`.
double link_share(uint64_t frames, uint64_t bytes, double gbps, double ns)
{
    if (frames == 0)
        return 0;
    const double per_frame = static_cast<double>(models::net::wire_bytes(static_cast<size_t>(bytes / frames)));
    return static_cast<double>(frames) * per_frame * 8.0 / gbps / ns;
}

nlohmann::json run_point(const cfg::config& experiment, const std::string& column, const column_context& ctx)
{
    const cfg::config c = column_config(experiment, column);
    column_setup setup =
        echo_column_setup(c, column, c.get_bool("experiment.pcap") ? (fs::path(ctx.point_dir) / "wire.pcap").string() : "");
    setup.endless = true;
    testbed tb(c, setup);

    const double warmup_us = c.get_real("experiment.throughput.warmup_us");
    const double window_us = c.get_real("experiment.throughput.window_us");
    const auto slices = static_cast<unsigned>(c.get_int("experiment.throughput.slices"));
    sc_core::sc_start(sc_time(warmup_us, sc_core::SC_US));
    const counters start = take(tb);
    std::vector<double> slice_ktps;
    counters prev = start;
    for (unsigned i = 1; i <= slices; ++i) {
        // Slice ends on whole picoseconds from the window's start, so the slices add up to it exactly.
        const sc_time end = sc_time(warmup_us, sc_core::SC_US) + sc_time(window_us * i / slices, sc_core::SC_US);
        sc_core::sc_start(end - sc_core::sc_time_stamp());
        const counters now = take(tb);
        slice_ktps.push_back(static_cast<double>(now.replies - prev.replies) / (window_us / slices) * 1000.0);
        prev = now;
    }
    const counters& end = prev;
    tb.finish_capture();
    if (end.replies == start.replies)
        throw std::runtime_error(fmt::format("column {}: no reply in the {} us window ({} sent, {} received in all)", column,
                                             window_us, tb.client().sent(), tb.client().received()));
    const double window_ns = window_us * 1000.0;
    const double ktps = static_cast<double>(end.replies - start.replies) / window_us * 1000.0;
    double mean = 0, var = 0;
    for (double v : slice_ktps)
        mean += v / static_cast<double>(slice_ktps.size());
    for (double v : slice_ktps)
        var += (v - mean) * (v - mean) / static_cast<double>(slice_ktps.size());
    const double gbps = c.get_real("platform.nic.line_gbps");
    const double served = static_cast<double>(end.served - start.served);

    nlohmann::json r;
    r["series"] = column;
    r["x"] = c.get_real("workload.echo.processing_us");
    r["ktps"] = round4(ktps);
    r["sigma"] = round4(std::sqrt(var));
    r["server_ktps"] = round4(served / window_us * 1000.0);
    r["server_core_util"] = round4((end.server_busy_ns - start.server_busy_ns) / window_ns);
    r["client_core_util"] = round4((end.client_busy_ns - start.client_busy_ns) / window_ns);
    r["server_link_rx_util"] = round4(link_share(end.rx_frames - start.rx_frames, end.rx_bytes - start.rx_bytes, gbps, window_ns));
    r["server_link_tx_util"] = round4(link_share(end.tx_frames - start.tx_frames, end.tx_bytes - start.tx_bytes, gbps, window_ns));
    r["nic_drops"] = end.nic_drops - start.nic_drops;
    r["switch_drops"] = end.switch_drops - start.switch_drops;
    r["dataplane_drops"] = end.dataplane_drops - start.dataplane_drops;
    r["pcie_up_util"] = round4((end.pcie_up_ns - start.pcie_up_ns) / window_ns);
    r["pcie_down_util"] = round4((end.pcie_down_ns - start.pcie_down_ns) / window_ns);
    r["pcie_tlps_up_per_request"] = round4(served > 0 ? static_cast<double>(end.tlps_up - start.tlps_up) / served : 0);
    r["pcie_tlps_down_per_request"] = round4(served > 0 ? static_cast<double>(end.tlps_down - start.tlps_down) / served : 0);
    r["window_us"] = window_us;
    r["replies"] = end.replies - start.replies;
    return r;
}

// What the counters say limits a point: a resource busy at least 95% of the window, and drops.
std::string limit_of(const nlohmann::json& r)
{
    std::vector<std::string> what;
    if (r.at("server_core_util").get<double>() >= 0.95)
        what.push_back("server core");
    if (std::max(r.at("server_link_rx_util").get<double>(), r.at("server_link_tx_util").get<double>()) >= 0.95)
        what.push_back("link");
    if (r.at("client_core_util").get<double>() >= 0.95)
        what.push_back("client core");
    if (std::max(r.at("pcie_up_util").get<double>(), r.at("pcie_down_util").get<double>()) >= 0.95)
        what.push_back("PCIe");
    const uint64_t drops = r.at("nic_drops").get<uint64_t>() + r.at("switch_drops").get<uint64_t>() + r.at("dataplane_drops").get<uint64_t>();
    if (drops > 0)
        what.push_back(fmt::format("{} drops", drops));
    if (what.empty())
        return "none at 95% (load: requests outstanding)";
    std::string s;
    for (const auto& w : what)
        s += (s.empty() ? "" : ", ") + w;
    return s;
}

nlohmann::json write_report(const cfg::config& c, const std::vector<column_output>& results, const std::string& out_dir)
{
    series_report report;
    report.experiment = c.get_string("experiment.name");
    report.seed = static_cast<uint64_t>(c.get_int("experiment.seed"));
    report.x_key = "processing_us";
    report.y_key = "ktps";
    std::map<std::string, std::vector<const nlohmann::json*>> by_series;
    for (const std::string& col : c.get_string_list("experiment.columns"))
        report.series.emplace_back(col, std::vector<series_point>{});
    for (const column_output& r : results)
        by_series[r.column].push_back(&r.result);
    nlohmann::json counters = nlohmann::json::object();
    std::vector<std::vector<std::string>> limits = {{"series", "processing_us", "ktps", "server core", "client core",
                                                     "link rx", "link tx", "PCIe up", "PCIe down", "TLPs up/down per request", "limit"}};
    for (auto& [name, points] : report.series) {
        auto& list = by_series[name];
        std::stable_sort(list.begin(), list.end(),
                         [](const nlohmann::json* a, const nlohmann::json* b) { return a->at("x").get<double>() < b->at("x").get<double>(); });
        for (const nlohmann::json* r : list) {
            points.push_back({r->at("x").get<double>(), r->at("ktps").get<double>(), r->at("sigma").get<double>()});
            nlohmann::json k = *r;
            k.erase("series");
            counters[name].push_back(k);
            auto pct = [r](const char* key) { return fmt::format("{:.1f}%", r->at(key).get<double>() * 100); };
            limits.push_back({name, fmt::format("{:g}", r->at("x").get<double>()), fmt::format("{:.2f}", r->at("ktps").get<double>()),
                              pct("server_core_util"), pct("client_core_util"), pct("server_link_rx_util"), pct("server_link_tx_util"),
                              pct("pcie_up_util"), pct("pcie_down_util"),
                              fmt::format("{:.2f} / {:.2f}", r->at("pcie_tlps_up_per_request").get<double>(),
                                          r->at("pcie_tlps_down_per_request").get<double>()),
                              limit_of(*r)});
        }
    }
    nlohmann::json summary = to_summary_json(report, c.to_json());
    summary["counters"] = counters;
    const fs::path out(out_dir);
    {
        std::ofstream f(out / "summary.json");
        f << summary.dump(2) << "\n";
    }
    {
        std::ofstream f(out / "series.csv");
        f << to_csv(report);
    }
    {
        std::ofstream f(out / "table.md");
        f << to_markdown(report) << "\nWhat limits each point (shares of the measurement window; link: the server's cable, "
                                    "each direction):\n\n"
          << render_table(limits);
    }
    return summary;
}

} // namespace

experiment_kind udp_echo_throughput_kind()
{
    experiment_kind k;
    k.name = "udp_echo_throughput";
    k.paths = {"linux", "arrakis_p", "arrakis_n", "driver"};
    k.check = [](const cfg::config& c, const std::string& column) {
        check_echo_platform(c, column, c.get_string("columns." + column + ".path"));
    };
    k.run = run_point;
    k.report = write_report;
    return k;
}

} // namespace iovsim::sim
