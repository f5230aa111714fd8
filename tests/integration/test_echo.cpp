// UDP echo end to end on each server path: the whole simulator (hosts, NICs, IOMMUs, switch, both
// kernels and the dataplane) runs one column in this process, and the per-request breakdown is
// checked against what each path structurally does and does not do (Arrakis Table 1's empty cells
// are exact zeros here, not small numbers).
//
// SystemC elaborates once per process: every TEST that simulates in-process builds one testbed or
// runs one column. Run them one per process (ctest does; by hand use --gtest_filter).
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <systemc>

#include "os/core/cost_model.h"
#include "sim/experiment.h"
#include "sim/kinds/udp_echo_breakdown.h"
#include "sim/params.h"
#include "sim/testbed.h"

namespace fs = std::filesystem;
using namespace iovsim;

namespace {

constexpr uint64_t requests = 200;
constexpr uint64_t warmup = 50;

const std::vector<std::string> all_rows = {"net_stack_in", "net_stack_out", "scheduler", "copy_in",
                                           "copy_out",     "kernel_return", "syscall",   "app"};

std::string experiment_file()
{
    return (fs::path(sim::source_dir()) / "configs" / "experiments" / "udp_echo_breakdown.yaml").string();
}

cfg::config small_config()
{
    return sim::load_run_config(experiment_file(),
                                {"experiment.requests=" + std::to_string(requests), "experiment.warmup=" + std::to_string(warmup)},
                                std::nullopt);
}

// SystemC warnings and errors fail the test instead of scrolling by.
void strict_reports()
{
    sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_DISPLAY | sc_core::SC_THROW);
    sc_core::sc_report_handler::set_actions(sc_core::SC_ERROR, sc_core::SC_DISPLAY | sc_core::SC_THROW);
    sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
}

// What one path must and must not spend per request.
struct path_shape {
    std::vector<std::string> zero;      // exactly 0 ns in every request
    std::vector<std::string> present;   // > 0 ns in every request
};

path_shape shape_of(const std::string& column)
{
    if (column == "arrakis_n")   // zero copy, no kernel on the data path
        return {{"copy_in", "copy_out", "syscall", "kernel_return", "scheduler"}, {"net_stack_in", "net_stack_out", "app"}};
    if (column == "arrakis_p")   // POSIX copies, still no kernel
        return {{"syscall", "kernel_return", "scheduler"}, {"net_stack_in", "net_stack_out", "copy_in", "copy_out", "app"}};
    // Linux: recvfrom and sendto are system calls that copy; each delivery wakes the receiver.
    return {{}, {"net_stack_in", "net_stack_out", "scheduler", "syscall", "kernel_return", "copy_in", "copy_out", "app"}};
}

// The wire alone, one way: the frame is serialized twice (NIC to switch, switch to NIC: store and
// forward), crosses two cables and the switch. The UDP payload is a lower bound on the frame.
double one_way_wire_floor_ns(const cfg::config& c)
{
    const double payload_bits = 8.0 * static_cast<double>(c.get_int("workload.echo.payload_bytes"));
    const double serialize_ns = payload_bits / c.get_real("platform.nic.line_gbps");
    return 2 * serialize_ns + 2 * c.get_real("platform.link.propagation_ns") + c.get_real("platform.switch.latency_ns");
}

void check_column(const cfg::config& c, const sim::column_result& r, const std::string& column)
{
    const os::cost_model costs = os::cost_model::from(c);
    EXPECT_EQ(r.key, column);
    ASSERT_EQ(r.total_ns.count(), requests);
    ASSERT_EQ(r.end_to_end_ns.count(), requests);
    EXPECT_EQ(r.total_ns.rejected(), 0u);
    EXPECT_EQ(r.end_to_end_ns.rejected(), 0u);

    std::set<std::string> keys;
    for (const auto& [row, s] : r.rows_ns)
        keys.insert(row);
    EXPECT_EQ(keys, std::set<std::string>(all_rows.begin(), all_rows.end()));
    for (const auto& row : all_rows)
        ASSERT_EQ(r.rows_ns.at(row).count(), requests) << row;

    // The rows partition the request's server time.
    for (size_t i = 0; i < requests; ++i) {
        double sum = 0;
        for (const auto& row : all_rows)
            sum += r.rows_ns.at(row).samples()[i];
        EXPECT_NEAR(sum, r.total_ns.samples()[i], 1e-9 * r.total_ns.samples()[i]) << "request " << i;
    }

    const path_shape shape = shape_of(column);
    for (const auto& row : shape.zero) {
        const auto& s = r.rows_ns.at(row).samples();
        for (size_t i = 0; i < s.size(); ++i)
            ASSERT_EQ(s[i], 0.0) << column << ": " << row << " of request " << i;
    }
    for (const auto& row : shape.present) {
        const auto& s = r.rows_ns.at(row).samples();
        for (size_t i = 0; i < s.size(); ++i)
            ASSERT_GT(s[i], 0.0) << column << ": " << row << " of request " << i;
    }

    // Where the path copies the payload, each copy costs at least the copy primitive for those bytes.
    const double payload = static_cast<double>(c.get_int("workload.echo.payload_bytes"));
    const double copy_floor = costs.ns(costs.copy_call_cycles + costs.copy_byte_cycles * payload);
    for (const std::string row : {"copy_in", "copy_out"}) {
        if (std::find(shape.present.begin(), shape.present.end(), row) == shape.present.end())
            continue;
        EXPECT_GE(r.rows_ns.at(row).min(), copy_floor - 1e-9) << column << ": " << row;
    }

    // The echo application's own work is its primitive, warm, cold, or slowed after a return from
    // the kernel, and nothing else.
    const double app_warm = costs.ns(costs.app_echo.cycles);
    const double app_cold = app_warm + costs.app_echo.lines * costs.cold_line_ns;
    const double app_polluted = app_warm * (1 + costs.syscall_pollution);
    EXPECT_GE(r.rows_ns.at("app").min(), app_warm - 1e-9);
    EXPECT_LE(r.rows_ns.at("app").max(), std::max(app_cold, app_polluted) + 1e-9);

    // The client's latency holds the server's work and two trips over the wire.
    const double wire_floor = 2 * one_way_wire_floor_ns(c);
    for (size_t i = 0; i < requests; ++i) {
        const double e2e = r.end_to_end_ns.samples()[i];
        ASSERT_GT(e2e, r.total_ns.mean()) << "request " << i;
        ASSERT_GT(e2e, wire_floor) << "request " << i;
    }
    EXPECT_GT(r.end_to_end_ns.mean(), r.total_ns.mean() + wire_floor);
}

sim::column_result run_small(const std::string& column)
{
    strict_reports();
    const cfg::config c = small_config();
    return sim::run_column(c, column, "");
}

} // namespace

TEST(echo, linux_running_breakdown)
{
    const cfg::config c = small_config();
    const sim::column_result r = run_small("linux_running");
    check_column(c, r, "linux_running");
}

TEST(echo, linux_idle_breakdown)
{
    const cfg::config c = small_config();
    const sim::column_result r = run_small("linux_idle");
    check_column(c, r, "linux_idle");

    // One request in flight: every request finds the core halted, so it pays at least the C-state
    // exit, the tick restart, the wake-up of the sleeping receiver and the switch back to it, each
    // at its warm cost (a cold cache only adds).
    const os::cost_model k = os::cost_model::from(c);
    const double wake_from_idle = k.idle_exit_ns + k.ns(k.l_nohz_exit.cycles + k.l_wake_sleeping.cycles +
                                                        k.l_schedule.cycles + k.l_context_switch.cycles);
    EXPECT_GE(r.rows_ns.at("scheduler").min(), wake_from_idle - 1e-9);
}

TEST(echo, arrakis_p_breakdown)
{
    const cfg::config c = small_config();
    const sim::column_result r = run_small("arrakis_p");
    check_column(c, r, "arrakis_p");
}

TEST(echo, arrakis_n_breakdown)
{
    const cfg::config c = small_config();
    const sim::column_result r = run_small("arrakis_n");
    check_column(c, r, "arrakis_n");
}

// Both Linux columns need their own simulation: the child-process runner gives each its own.
TEST(echo, idle_core_costs_more_scheduling_than_running_receiver)
{
    cfg::config c = small_config();
    c.apply_override("experiment.columns=[linux_running, linux_idle]");
    c.apply_override("experiment.pcap=false");
    const fs::path out = fs::temp_directory_path() / ("iovsim_echo_" + std::to_string(::getpid()));
    sim::run_options opt;
    opt.out_dir = out.string();
    opt.jobs = 1;
    const sim::breakdown_report rep = sim::breakdown_of(c, sim::run_columns(c, opt));
    fs::remove_all(out);
    ASSERT_EQ(rep.columns.size(), 2u);
    const sim::column_result& running = rep.columns[0];
    const sim::column_result& idle = rep.columns[1];
    ASSERT_EQ(running.key, "linux_running");
    ASSERT_EQ(idle.key, "linux_idle");
    check_column(c, running, "linux_running");
    check_column(c, idle, "linux_idle");

    // The running receiver is mostly woken on the fast path and seldom finds the core halted; the
    // idle one wakes a halted core every time, so the C-state exit alone separates them.
    const os::cost_model k = os::cost_model::from(c);
    EXPECT_LT(running.rows_ns.at("scheduler").mean(), k.idle_exit_ns);
    EXPECT_GT(idle.rows_ns.at("scheduler").mean(), running.rows_ns.at("scheduler").mean() + k.idle_exit_ns);
    EXPECT_GT(idle.total_ns.mean(), running.total_ns.mean());
}

// ---- Whole-testbed counters after a run ---------------------------------------------------------

namespace {

void check_testbed(const std::string& column)
{
    const cfg::config c = small_config();
    strict_reports();
    sim::column_setup setup;
    setup.column = column;
    setup.path = sim::parse_path(c.get_string("columns." + column + ".path"));
    setup.outstanding = static_cast<unsigned>(c.get_int("columns." + column + ".outstanding"));
    setup.seed = sim::derive_seed(static_cast<uint64_t>(c.get_int("experiment.seed")), "client/" + column);
    sim::testbed tb(c, setup);
    ASSERT_TRUE(tb.run()) << column << " did not finish";

    // The client: every measured reply came back, intact. It stops at the last measured reply, so
    // with n requests in flight it has sent at most n - 1 beyond the measured ones (none with one).
    const auto& client = tb.client();
    const uint64_t needed = warmup + requests;
    EXPECT_EQ(client.latencies_ns().size(), requests);
    EXPECT_GE(client.received(), needed);
    EXPECT_LE(client.received(), client.sent());
    EXPECT_LT(client.sent() - client.received(), setup.outstanding);
    EXPECT_LE(client.sent(), needed + setup.outstanding - 1);
    EXPECT_EQ(client.bad_replies(), 0u);

    // The server's NIC lost nothing and saw nothing malformed.
    const nic::e10k_stats& s = tb.server().nic->stats();
    EXPECT_EQ(s.rx_buffer_overflow, 0u);
    EXPECT_EQ(s.rx_no_descriptor, 0u);
    EXPECT_EQ(s.rx_queue_disabled, 0u);
    EXPECT_EQ(s.rx_mac_disabled, 0u);
    EXPECT_EQ(s.rx_buffer_too_small, 0u);
    EXPECT_EQ(s.rx_crc_errors, 0u);
    EXPECT_EQ(s.rx_undersize, 0u);
    EXPECT_EQ(s.rx_oversize, 0u);
    EXPECT_EQ(s.tx_malformed_descriptors, 0u);
    EXPECT_EQ(s.tx_bad_frames, 0u);
    EXPECT_EQ(s.dma_errors, 0u);
    EXPECT_EQ(s.mmio_errors, 0u);
    // Frame for frame: the client's one ARP request and its echo requests went out, and the
    // server's ARP reply and echo replies came back. The run stops at the last measured reply, so
    // requests and replies still on the wire then are the only difference, and with one request in
    // flight there are none: the switch dropped nothing.
    const nic::e10k_stats& cs = tb.client_host().nic->stats();
    EXPECT_EQ(cs.tx_frames, client.sent() + 1);
    EXPECT_EQ(cs.rx_frames, client.received() + 1);
    EXPECT_LE(s.rx_frames, cs.tx_frames);
    EXPECT_GE(s.tx_frames, cs.rx_frames);
    EXPECT_GE(s.rx_frames, s.tx_frames);   // the server answers only what it received
    if (setup.outstanding == 1) {
        EXPECT_EQ(s.rx_frames, cs.tx_frames);
        EXPECT_EQ(s.tx_frames, cs.rx_frames);
    }
    EXPECT_EQ(cs.rx_buffer_overflow, 0u);
    EXPECT_EQ(cs.rx_no_descriptor, 0u);
    EXPECT_EQ(cs.dma_errors, 0u);

    // The server accounted at least one request per echo request it served.
    EXPECT_GE(tb.server_accounting().requests(), needed);

    const iommu::translator_stats& m = tb.server().mmu->stats();
    EXPECT_EQ(m.faults, 0u);
    EXPECT_EQ(m.faults_dropped, 0u);
    if (setup.path == sim::server_path::linux_kernel) {
        // The Linux-like kernel, like the paper's baseline, leaves DMA remapping off.
        EXPECT_EQ(m.lookups, 0u);
    } else {
        // The VF's DMAs are remapped: each frame in either direction is at least one translated DMA.
        EXPECT_GE(m.lookups, s.rx_frames + s.tx_frames);
        EXPECT_EQ(m.iotlb_hits + m.iotlb_misses, m.lookups);
        EXPECT_GT(m.iotlb_hits, m.iotlb_misses);   // a small working set: the IOTLB holds it
    }
}

} // namespace

TEST(echo_testbed, linux_running_counters) { check_testbed("linux_running"); }
TEST(echo_testbed, linux_idle_counters) { check_testbed("linux_idle"); }
TEST(echo_testbed, arrakis_p_counters) { check_testbed("arrakis_p"); }
TEST(echo_testbed, arrakis_n_counters) { check_testbed("arrakis_n"); }

// A window far larger than the stack's queue for unresolved neighbours (64): the client's first
// request resolves the server's address alone, so nothing is lost to ARP and none is given up.
TEST(echo, wide_window_starts_with_one_request_and_loses_none)
{
    cfg::config c = small_config();
    c.apply_override("columns.arrakis_n.outstanding=256");
    strict_reports();
    sim::column_setup setup;
    setup.column = "arrakis_n";
    setup.path = sim::server_path::arrakis_n;
    setup.outstanding = 256;
    setup.seed = 1;
    sim::testbed tb(c, setup);
    ASSERT_TRUE(tb.run());
    EXPECT_EQ(tb.client().given_up(), 0u);
    EXPECT_EQ(tb.client().latencies_ns().size(), requests);
    EXPECT_GE(tb.client().received(), warmup + requests);
}
