// Arrakis Fig. 2 at a smaller count (configs/experiments/fsync_overhead.yaml, 10,000 iterations
// there): write() and fsync() on the four file systems over the RAM disk, each bar within 15% of
// the figure; the RAID columns pay the controller's write time on every fsync; the persistent log's
// append is durable in one device write. And the crash trials of the persistent log on the device
// (configs/experiments/log_crash.yaml, 2,000 per column there): no failure.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "sim/experiment.h"
#include "sim/kinds/fsync_overhead.h"
#include "sim/report.h"

namespace fs = std::filesystem;
using namespace iovsim;

namespace {

nlohmann::json run(const std::string& experiment, const std::vector<std::string>& sets)
{
    const fs::path src = sim::source_dir();
    const cfg::config c = sim::load_run_config((src / "configs" / "experiments" / experiment).string(), sets, std::nullopt);
    sim::run_options opt;
    opt.out_dir = (fs::temp_directory_path() / ("iovsim_" + experiment + "_" + std::to_string(::getpid()))).string();
    opt.jobs = 2;
    const nlohmann::json summary = sim::run_experiment(c, opt);
    fs::remove_all(opt.out_dir);
    return summary;
}

double mean(const nlohmann::json& s, const std::string& col, const std::string& row)
{
    return s.at("columns").at(col).at("rows").at(row).at("mean").get<double>();
}

} // namespace

TEST(fig2, ramdisk_bars_within_fifteen_percent)
{
    const nlohmann::json s = run("fsync_overhead.yaml", {"workload.fsync.iterations=400"});
    const sim::reference_table ref =
        sim::load_reference((fs::path(sim::source_dir()) / "results/reference/arrakis_fig2.json").string());
    unsigned bars = 0;
    for (const auto& [col, rows] : ref.rows)
        for (const auto& [row, cell] : rows) {
            const double ours = mean(s, col, row);
            EXPECT_NEAR(ours, cell.mean, 0.15 * cell.mean) << col << "/" << row;
            ++bars;
        }
    EXPECT_EQ(bars, 16u);
    // On the RAID controller every fsync waits for the device's writes into its cache (25 us each
    // end to end): ext2 at least two of them, the journaled file systems three.
    EXPECT_GT(mean(s, "raid_ext2_64", "fsync"), 2 * 24.0);
    EXPECT_GT(mean(s, "raid_ext3_64", "fsync"), 3 * 24.0);
    EXPECT_GT(mean(s, "raid_ext4_1k", "fsync"), 3 * 24.0);
    // The persistent log: one write, so about one device write on the RAID controller, and far
    // below any file system on either device.
    EXPECT_GT(mean(s, "arrakis_raid_1k", "fsync"), 24.0);
    EXPECT_LT(mean(s, "arrakis_raid_1k", "fsync"), 30.0);
    EXPECT_LT(mean(s, "arrakis_ramdisk_64", "fsync") + mean(s, "arrakis_ramdisk_64", "write"),
              mean(s, "ext2_64", "fsync"));
    EXPECT_LT(mean(s, "arrakis_ramdisk_1k", "write"), 1.0);
}

TEST(log_crash, power_loss_trials_recover_every_acknowledged_append)
{
    const nlohmann::json s = run("log_crash.yaml", {"workload.crash.trials=150"});
    uint64_t torn = 0;
    for (const auto& [col, r] : s.at("columns").items()) {
        EXPECT_EQ(r.at("trials").get<uint64_t>(), 150u) << col;
        EXPECT_EQ(r.at("failures").get<uint64_t>(), 0u) << col << ": " << r.at("failures_seen").dump();
        EXPECT_GT(r.at("acknowledged").get<uint64_t>(), 1000u) << col;   // the trials checked real appends
        torn += r.at("torn_writes").get<uint64_t>();
    }
    EXPECT_GT(torn, 50u);   // power was lost in the middle of writes
    // Entries built in place: power losses and restarts found some open, and none came back.
    const auto& in_place = s.at("columns").at("raid_hardware_in_place");
    EXPECT_GT(in_place.at("built_in_place").get<uint64_t>(), 500u);
    EXPECT_GT(in_place.at("open_at_power_loss").get<uint64_t>(), 10u);
}
