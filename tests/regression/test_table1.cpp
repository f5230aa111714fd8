// Arrakis Table 1 (UDP echo breakdown) within its tolerance: every cell within ±10% of the paper or
// ±0.05 us, whichever is larger; totals within ±5%. The reference is read only here, to compare.
#include <filesystem>

#include <gtest/gtest.h>

#include "sim/experiment.h"
#include "sim/kinds/udp_echo_breakdown.h"
#include "sim/report.h"

namespace fs = std::filesystem;
using namespace iovsim;

TEST(table1, udp_echo_breakdown_within_tolerance)
{
    const fs::path src = sim::source_dir();
    const cfg::config c = sim::load_run_config((src / "configs/experiments/udp_echo_breakdown.yaml").string(),
                                               {"experiment.pcap=false"}, std::nullopt);
    sim::run_options opt;
    opt.out_dir = (fs::path(::testing::TempDir()) / ("iovsim_table1_" + std::to_string(::getpid()))).string();
    opt.jobs = 2;
    const sim::breakdown_report report = sim::breakdown_of(c, sim::run_columns(c, opt));
    const sim::reference_table ref = sim::load_reference((src / "results/reference/arrakis_table1.json").string());
    const auto cells = sim::check_against(report, ref, sim::tolerance{});

    // The paper fills 20 row cells (7 + 7 + 4 + 2) and 4 totals; the 'app' row we measure in
    // every column is judged against 0 with the absolute tolerance.
    unsigned paper_cells = 0;
    for (const auto& c : cells) {
        if (c.ref_us > 0)
            ++paper_cells;
        EXPECT_TRUE(c.ok) << c.column << "/" << c.row << ": ours " << c.ours_us << " us, paper " << c.ref_us
                          << " us (" << c.rel_err * 100 << "%)";
    }
    EXPECT_EQ(paper_cells, 24u);   // 20 row cells + 4 totals
    ASSERT_EQ(report.columns.size(), 4u);
    for (const auto& col : report.columns)
        EXPECT_EQ(col.total_ns.count(), 1000u) << col.key;
    fs::remove_all(opt.out_dir);
}
