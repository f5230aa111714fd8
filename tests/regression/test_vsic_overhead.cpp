// The VSIC overhead experiment at a smaller count (configs/experiments/vsic_overhead.yaml, 1,000
// writes): the direct path keeps the calibration (a 1 KB write into the RAID cache takes the
// paper's 25 us), every path's rows add up to its latency, the emulated VSIC costs what its core
// runs plus the hand-offs, the hardware VSIC exactly its VSIC core's cycles; and the run is
// reproducible.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "sim/experiment.h"
#include "sim/kinds/vsic_overhead.h"
#include "sim/report.h"

namespace fs = std::filesystem;
using namespace iovsim;

namespace {

constexpr uint64_t writes = 1000;

cfg::config experiment()
{
    const fs::path exp = fs::path(sim::source_dir()) / "configs" / "experiments" / "vsic_overhead.yaml";
    return sim::load_run_config(exp.string(), {"experiment.requests=" + std::to_string(writes), "experiment.warmup=20"},
                                std::nullopt);
}

nlohmann::json run(const cfg::config& c, const std::string& tag)
{
    sim::run_options opt;
    opt.out_dir = (fs::temp_directory_path() / ("iovsim_vsic_" + tag + "_" + std::to_string(::getpid()))).string();
    opt.jobs = 2;
    const nlohmann::json summary = sim::run_experiment(c, opt);
    fs::remove_all(opt.out_dir);
    return summary;
}

TEST(VsicOverhead, DirectEmulatedHardware)
{
    const cfg::config c = experiment();
    const nlohmann::json s = run(c, "a");
    const auto& cols = s.at("columns");
    for (const char* col : {"direct", "emulated", "emulated_copy", "hardware"}) {
        const auto& k = cols.at(col);
        EXPECT_EQ(k.at("requests").get<uint64_t>(), writes) << col;
        double rows = 0;
        for (const auto& [row, v] : k.at("rows").items())
            rows += v.at("mean").get<double>();
        EXPECT_NEAR(rows, k.at("total").at("mean").get<double>(), 0.001) << col;
    }
    // The calibration: 25 us per 1 KB write straight to the RAID controller (paper, section 5).
    EXPECT_NEAR(cols.at("direct").at("total").at("mean").get<double>(), 25.0, 0.1);
    EXPECT_EQ(cols.at("direct").at("rows").at("vsic_core").at("mean").get<double>(), 0.0);

    const auto& emu = s.at("virtualization_cost").at("emulated");
    EXPECT_GT(emu.at("vsic_core").get<double>(), 0.3);   // decode, checks, forward, complete, lines
    EXPECT_GT(emu.at("per_write").get<double>(), 0.3);
    EXPECT_NEAR(emu.at("per_write").get<double>(),
                emu.at("vsic_core").get<double>() + emu.at("app_driver").get<double>() + emu.at("rest").get<double>(), 1e-3);
    // Its doorbell is a store to memory, not an uncached write to the device: the application's
    // driver costs less than on the direct path.
    EXPECT_LT(emu.at("app_driver").get<double>(), 0.0);
    // Copying 1 KB through the VSIC core costs it the copy loop and the lines from the other core.
    const auto& copy = s.at("virtualization_cost").at("emulated_copy");
    EXPECT_GT(copy.at("vsic_core").get<double>(), emu.at("vsic_core").get<double>() + 0.06 + 0.24);
    EXPECT_NEAR(copy.at("rest").get<double>(), emu.at("rest").get<double>(), 0.01);
    // The hardware VSIC adds its core's 200 cycles at 1.2 GHz and nothing else.
    EXPECT_NEAR(s.at("virtualization_cost").at("hardware").at("per_write").get<double>(), 200 * 0.833 / 1000, 0.002);

    // Same binary, config and seed: the same numbers.
    const nlohmann::json again = run(c, "b");
    EXPECT_EQ(again.at("columns"), s.at("columns"));
    EXPECT_EQ(again.at("virtualization_cost"), s.at("virtualization_cost"));
}

// A faster device moves the latency, not the virtualization cost.
TEST(VsicOverhead, FastDeviceKeepsTheOverhead)
{
    cfg::config c = experiment();
    const nlohmann::json base = run(c, "raid");
    c.apply_override("platform.storage.device=fast");
    const nlohmann::json fast = run(c, "fast");
    EXPECT_NEAR(fast.at("columns").at("direct").at("total").at("mean").get<double>(), 15.0, 0.1);
    EXPECT_NEAR(fast.at("virtualization_cost").at("emulated").at("per_write").get<double>(),
                base.at("virtualization_cost").at("emulated").at("per_write").get<double>(), 0.05);
}

// Swept over the write size, each point's VSIC columns are judged against the direct column at the
// same size: the emulation's per-command cost stays, the copy grows with the bytes.
TEST(VsicOverhead, SweptWriteSizeComparesWithinEachPoint)
{
    cfg::config c = experiment();
    c.apply_override("experiment.requests=200");
    c.apply_override("experiment.sweep.params={workload.blk_write.bytes: [512, 8192]}");
    const nlohmann::json s = run(c, "sweep");
    const auto& v = s.at("virtualization_cost");
    ASSERT_EQ(v.size(), 6u) << v.dump();
    double emulated[2], copy[2];
    unsigned i = 0;
    for (const char* bytes : {"512", "8192"}) {
        emulated[i] = v.at(std::string("emulated,bytes=") + bytes).at("per_write").get<double>();
        copy[i] = v.at(std::string("emulated_copy,bytes=") + bytes).at("per_write").get<double>();
        EXPECT_GT(emulated[i], 0.0);
        ++i;
    }
    EXPECT_NEAR(emulated[0], emulated[1], 0.01);
    EXPECT_GT(copy[1], copy[0] + 1.0);
}

} // namespace
