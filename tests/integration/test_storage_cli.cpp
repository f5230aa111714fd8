// The storage experiments from the command line: the VSIC overhead run writes its table and
// summary (with the virtualization cost per write), and bad storage settings stop the run before
// any simulation with file, line, key and reason (exit 2).
#include <gtest/gtest.h>

#include "tests/support/test_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/experiment.h"

namespace fs = std::filesystem;

namespace {

class storage_cli : public iovsim::testing::binary_test {
protected:
    storage_cli() : binary_test("iovsim_storage_cli") {}

    static std::string experiment_file()
    {
        return (fs::path(iovsim::sim::source_dir()) / "configs" / "experiments" / "vsic_overhead.yaml").string();
    }
    fs::path config(const std::string& name, const std::string& body)
    {
        const fs::path p = m_dir / name;
        std::ofstream(p) << "include: " << experiment_file() << "\n" << body;
        return p;
    }
    void expect_config_error(const iovsim::testing::command_result& r, const std::vector<std::string>& mentions)
    {
        EXPECT_EQ(r.code, 2) << r.err;
        for (const auto& m : mentions)
            EXPECT_NE(r.err.find(m), std::string::npos) << "stderr lacks '" << m << "':\n" << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_FALSE(fs::exists(m_dir / "out" / "summary.json"));
    }
};

TEST_F(storage_cli, vsic_overhead_writes_table_and_cost)
{
    const auto r = iovsim("run " + experiment_file() + " --out out --set experiment.requests=200 --set experiment.warmup=10");
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string table = iovsim::testing::read_file(m_dir / "out" / "table.md");
    EXPECT_NE(table.find("Virtualization cost per write"), std::string::npos) << table;
    EXPECT_NE(table.find("| emulated |"), std::string::npos) << table;
    const auto s = nlohmann::json::parse(iovsim::testing::read_file(m_dir / "out" / "summary.json"));
    EXPECT_EQ(s.at("experiment"), "vsic_overhead");
    for (const char* col : {"direct", "emulated", "hardware"}) {
        EXPECT_EQ(s.at("columns").at(col).at("requests"), 200) << col;
        for (const char* row : {"app_driver", "vsic_core", "device"})
            EXPECT_TRUE(s.at("columns").at(col).at("rows").contains(row)) << col << " " << row;
    }
    for (const char* col : {"emulated", "hardware"})
        for (const char* part : {"per_write", "vsic_core", "app_driver", "rest"})
            EXPECT_TRUE(s.at("virtualization_cost").at(col).contains(part)) << col << " " << part;
}

// With a timeline, the controller's fetch and service lanes appear beside the cores' work.
TEST_F(storage_cli, timeline_shows_the_controller)
{
    const auto r = iovsim("run " + experiment_file() +
                          " --out out --set experiment.requests=10 --set experiment.warmup=1 --set experiment.trace.timeline=true"
                          " --set 'experiment.columns=[emulated]'");
    ASSERT_EQ(r.code, 0) << r.err;
    const auto t = nlohmann::json::parse(iovsim::testing::read_file(m_dir / "out" / "points" / "emulated" / "timeline.json"));
    std::map<std::pair<int, int>, std::string> lanes;
    for (const auto& e : t.at("traceEvents"))
        if (e.at("ph") == "M" && e.contains("tid"))
            lanes[{e.at("pid").get<int>(), e.at("tid").get<int>()}] = e.at("args").at("name").get<std::string>();
    std::map<std::string, unsigned> slices;
    for (const auto& e : t.at("traceEvents"))
        if (e.at("ph") == "X")
            ++slices[lanes[{e.at("pid").get<int>(), e.at("tid").get<int>()}] + "/" + e.at("name").get<std::string>()];
    EXPECT_EQ(slices["ctrl fetch/fetch, check, data in"], 11u);
    unsigned in_service = 0;
    for (const auto& [k, n] : slices)
        if (k.find("write into the cache") != std::string::npos)
            in_service += n;
    EXPECT_EQ(in_service, 11u);
    EXPECT_GT(slices["host_core1/vsic"], 0u);
}

TEST_F(storage_cli, bad_storage_settings_exit_2)
{
    expect_config_error(iovsim("run " + config("bytes.yaml", "workload:\n  blk_write:\n    bytes: 1000\n").string() + " --out out"),
                        {"bytes.yaml:4", "workload.blk_write.bytes", "512-byte"});
    expect_config_error(iovsim("run " + config("device.yaml", "platform:\n  storage:\n    device: floppy\n").string() + " --out out"),
                        {"device.yaml:4", "platform.storage.device", "floppy"});
    expect_config_error(iovsim("run " + config("vsics.yaml", "platform:\n  storage:\n    num_vsics: 65\n").string() + " --out out"),
                        {"vsics.yaml:4", "platform.storage.num_vsics", "outside"});
    expect_config_error(iovsim("run " + experiment_file() + " --out out --set columns.direct.path=warp"),
                        {"columns.direct.path", "warp"});
}

} // namespace
