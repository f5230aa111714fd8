// The temporal-decoupling quantum is a simulation knob, not part of the modelled system: the
// breakdown must not move with it beyond Table 1's tolerance (DESIGN.md, "Timing"). Each quantum's
// run is judged against the default quantum's run as if that were the paper: rows within ±10% or
// ±0.05 µs, totals within ±5%, by the same arithmetic as the regression against the paper
// (sim::check_against), over every row of every column.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "sim/experiment.h"
#include "sim/kinds/udp_echo_breakdown.h"
#include "sim/report.h"

namespace fs = std::filesystem;
using namespace iovsim;

namespace {

constexpr uint64_t requests = 200;
constexpr size_t row_count = 8;   // Table 1's seven rows and the application's own

sim::breakdown_report run_with_quantum(double quantum_ns)
{
    const fs::path exp = fs::path(sim::source_dir()) / "configs" / "experiments" / "udp_echo_breakdown.yaml";
    const cfg::config c = sim::load_run_config(exp.string(),
                                               {"experiment.requests=" + std::to_string(requests), "experiment.warmup=50",
                                                "experiment.pcap=false", "experiment.quantum_ns=" + std::to_string(quantum_ns)},
                                               std::nullopt);
    EXPECT_EQ(c.get_real("experiment.quantum_ns"), quantum_ns);
    sim::run_options opt;
    opt.out_dir = (fs::temp_directory_path() /
                   ("iovsim_quantum_" + std::to_string(static_cast<long>(quantum_ns)) + "_" + std::to_string(::getpid())))
                      .string();
    opt.jobs = 2;
    sim::breakdown_report r = sim::breakdown_of(c, sim::run_columns(c, opt));
    fs::remove_all(opt.out_dir);
    return r;
}

// The default-quantum run as a reference table: every row of every column, zeros included, so a
// row that appears under another quantum is judged too.
sim::reference_table as_reference(const sim::breakdown_report& r)
{
    sim::reference_table t;
    t.source = "iovsim, default quantum";
    for (const auto& col : r.columns) {
        for (const auto& [row, s] : col.rows_ns)
            t.rows[col.key][row].mean = s.mean() / 1000.0;
        t.totals[col.key].mean = col.total_ns.mean() / 1000.0;
    }
    return t;
}

void expect_same_within_tolerance(double quantum_ns)
{
    const sim::breakdown_report base = run_with_quantum(1000);
    const sim::breakdown_report other = run_with_quantum(quantum_ns);
    ASSERT_EQ(base.columns.size(), 4u);
    ASSERT_EQ(other.columns.size(), 4u);
    for (size_t i = 0; i < other.columns.size(); ++i) {
        EXPECT_EQ(other.columns[i].key, base.columns[i].key);
        EXPECT_EQ(other.columns[i].total_ns.count(), requests) << other.columns[i].key;
        EXPECT_EQ(other.columns[i].rows_ns.size(), row_count) << other.columns[i].key;
    }

    const auto cells = sim::check_against(other, as_reference(base), sim::tolerance{});
    EXPECT_EQ(cells.size(), 4 * (row_count + 1));   // every row and the total of every column
    for (const auto& c : cells)
        EXPECT_TRUE(c.ok) << "quantum " << quantum_ns << " ns, " << c.column << "/" << c.row << ": " << c.ours_us
                          << " us, default quantum " << c.ref_us << " us (" << c.rel_err * 100 << "%)";

    // Rows a path structurally never spends stay exact zeros whatever the quantum.
    for (size_t i = 0; i < other.columns.size(); ++i) {
        for (const auto& [row, s] : base.columns[i].rows_ns) {
            if (s.max() == 0.0) {
                EXPECT_EQ(other.columns[i].rows_ns.at(row).max(), 0.0) << other.columns[i].key << "/" << row;
            }
        }
    }
}

} // namespace

TEST(quantum, q100ns_matches_default) { expect_same_within_tolerance(100); }

// A quantum of several microseconds, beyond one request's service time on the Linux path (3.4 µs).
// Larger quanta are outside what temporal decoupling can hide here: at 10 µs linux_running's
// scheduler row moves from 0.17 to 0.26 µs (the total by 1%), because with several requests in
// flight a core that runs a quantum ahead sees the NIC's interrupts in bursts; cores do catch up
// before they decide to sleep (cpu_core::block), which keeps the rest in place.
TEST(quantum, q5us_matches_default) { expect_same_within_tolerance(5000); }
