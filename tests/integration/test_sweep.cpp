// A sweep end to end through the command line: every point a simulation of its own, a failing
// point reported with its config and error while the others' results are kept, a re-run that takes
// the finished points as they are (resume), --force, and byte-identical outputs at any -j.
#include <gtest/gtest.h>

#include "tests/support/test_files.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/experiment.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using iovsim::testing::read_file;

using result = iovsim::testing::command_result;

class sweep_cli : public iovsim::testing::binary_test {
protected:
    sweep_cli() : binary_test("iovsim_sweep") {}

    // The breakdown experiment on Arrakis/N alone, small, with `sweep` under experiment.sweep.params.
    fs::path config(const std::string& name, const std::string& sweep)
    {
        const fs::path exp = fs::path(iovsim::sim::source_dir()) / "configs" / "experiments" / "udp_echo_breakdown.yaml";
        const fs::path p = m_dir / name;
        std::ofstream(p) << "include: " << exp.string() << "\n"
                         << "experiment:\n  columns: [arrakis_n]\n  requests: 40\n  warmup: 10\n  tail: 4\n"
                         << "  sweep:\n    params:\n" << sweep;
        return p;
    }

    fs::file_time_type mtime(const std::string& rel) { return fs::last_write_time(m_dir / rel); }
};

// Two payloads, and a time limit one of whose values no run can meet: four points, two fail.
const char* failing_sweep = "      workload.echo.payload_bytes: [64, 512]\n      experiment.max_sim_ms: [0.005, 1000]\n";

} // namespace

TEST_F(sweep_cli, failing_points_are_reported_and_the_others_kept_then_resumed)
{
    const fs::path cfg = config("sweep.yaml", failing_sweep);
    const result first = iovsim("run " + cfg.string() + " --out out -j 2");
    EXPECT_EQ(first.code, 1) << first.err;
    // Each failure names its point, its config and its error.
    for (const char* id : {"arrakis_n,payload_bytes=64,max_sim_ms=0.005", "arrakis_n,payload_bytes=512,max_sim_ms=0.005"}) {
        EXPECT_NE(first.err.find(id), std::string::npos) << first.err;
        EXPECT_NE(first.err.find(std::string("out/points/") + id + "/effective-config.yaml"), std::string::npos) << first.err;
        EXPECT_TRUE(fs::exists(m_dir / "out" / "points" / id / "error.txt"));
        EXPECT_FALSE(fs::exists(m_dir / "out" / "points" / id / "result.json"));
    }
    EXPECT_NE(first.err.find("2 points failed"), std::string::npos) << first.err;
    EXPECT_NE(first.err.find("did not get its replies"), std::string::npos) << first.err;
    EXPECT_EQ(first.err.find("max_sim_ms=1000"), std::string::npos) << first.err;

    // The two that completed are in the summary and the table, a column per point.
    const json s = json::parse(read_file(m_dir / "out" / "summary.json"));
    ASSERT_EQ(s.at("columns").size(), 2u) << s.at("columns").dump();
    const std::string ok64 = "arrakis_n,payload_bytes=64,max_sim_ms=1000", ok512 = "arrakis_n,payload_bytes=512,max_sim_ms=1000";
    EXPECT_EQ(s.at("columns").at(ok64).at("requests"), 40);
    // A bigger payload costs more on the wire and in the DMA, not on the CPU of Arrakis/N.
    EXPECT_GT(s.at("columns").at(ok512).at("end_to_end").at("mean").get<double>(),
              s.at("columns").at(ok64).at("end_to_end").at("mean").get<double>());
    const json r = json::parse(read_file(m_dir / "out" / "points" / ok512 / "result.json"));
    EXPECT_EQ(r.at("column"), "arrakis_n");
    EXPECT_EQ(r.at("point").at("workload.echo.payload_bytes"), "512");
    EXPECT_GT(r.at("sim_us").get<double>(), 0.0);
    // The point's effective config reproduces it alone.
    const std::string eff = read_file(m_dir / "out" / "points" / ok512 / "effective-config.yaml");
    EXPECT_NE(eff.find("payload_bytes: 512"), std::string::npos);
    EXPECT_NE(eff.find("params: {}"), std::string::npos);
    EXPECT_NE(eff.find("seed: " + std::to_string(r.at("seed").get<uint64_t>())), std::string::npos);

    // points.csv: a line per point with its values and status.
    const std::string csv = read_file(m_dir / "out" / "points.csv");
    EXPECT_EQ(csv.substr(0, csv.find('\n')), "point,column,workload.echo.payload_bytes,experiment.max_sim_ms,seed,status,key");
    EXPECT_NE(csv.find("\"" + ok64 + "\",arrakis_n,64,1000,"), std::string::npos) << csv;
    EXPECT_NE(csv.find(",failed,"), std::string::npos) << csv;
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);

    // Again: the completed points are taken as they are, the failed ones tried again.
    const auto before = mtime("out/points/" + ok64 + "/result.json");
    const std::string summary_before = read_file(m_dir / "out" / "summary.json");
    const result again = iovsim("run " + cfg.string() + " --out out -j 2");
    EXPECT_EQ(again.code, 1);
    EXPECT_NE(again.out.find("2 points taken from an earlier run"), std::string::npos) << again.out;
    EXPECT_EQ(mtime("out/points/" + ok64 + "/result.json"), before);
    EXPECT_EQ(read_file(m_dir / "out" / "summary.json"), summary_before);

    // An interrupted run left one point without its result: only that one is simulated.
    fs::remove(m_dir / "out" / "points" / ok512 / "result.json");
    const fs::path fixed = config("fixed.yaml", "      workload.echo.payload_bytes: [64, 512]\n      experiment.max_sim_ms: [1000]\n");
    const result resumed = iovsim("run " + fixed.string() + " --out out -j 2");
    EXPECT_EQ(resumed.code, 0) << resumed.err;
    EXPECT_NE(resumed.out.find("1 point taken from an earlier run"), std::string::npos) << resumed.out;
    const auto columns = [this] { return json::parse(read_file(m_dir / "out" / "summary.json")).at("columns"); };
    EXPECT_EQ(columns(), json::parse(summary_before).at("columns"));
    const std::string summary_fixed = read_file(m_dir / "out" / "summary.json");

    // --force simulates everything again, to the same bytes.
    const result forced = iovsim("run " + fixed.string() + " --out out -j 1 --force");
    EXPECT_EQ(forced.code, 0) << forced.err;
    EXPECT_EQ(forced.out.find("taken from an earlier run"), std::string::npos) << forced.out;
    EXPECT_NE(mtime("out/points/" + ok64 + "/result.json"), before);
    EXPECT_EQ(read_file(m_dir / "out" / "summary.json"), summary_fixed);
}

// A point's result does not depend on the other points, on how many run at once, nor on the
// process that ran it: a sweep at -j 1 and at -j 3 writes the same bytes.
TEST_F(sweep_cli, outputs_are_identical_at_any_parallelism)
{
    const fs::path cfg = config("sweep.yaml", "      workload.echo.payload_bytes: {from: 64, to: 256, factor: 2}\n");
    ASSERT_EQ(iovsim("run " + cfg.string() + " --out a -j 1 --quiet").code, 0);
    ASSERT_EQ(iovsim("run " + cfg.string() + " --out b -j 3 --quiet").code, 0);
    std::vector<std::string> files = {"summary.json", "table.md", "points.csv", "effective-config.yaml", "wire.pcap"};
    for (const char* p : {"payload_bytes=64", "payload_bytes=128", "payload_bytes=256"})
        for (const char* f : {"result.json", "effective-config.yaml", "wire.pcap"})
            files.push_back(std::string("points/arrakis_n,") + p + "/" + f);
    for (const std::string& f : files) {
        ASSERT_TRUE(fs::exists(m_dir / "a" / f)) << f;
        EXPECT_EQ(read_file(m_dir / "a" / f), read_file(m_dir / "b" / f)) << f;
    }
}

TEST_F(sweep_cli, bad_sweep_values_exit_2_naming_file_line_and_value)
{
    const fs::path cfg = config("bad.yaml", "      workload.echo.payload_bytes: [64, 4096]\n");
    const result r = iovsim("run " + cfg.string() + " --out out");
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("bad.yaml:9: experiment.sweep.params.workload.echo.payload_bytes: value '4096'"), std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(m_dir / "out"));
    // A swept value the platform checks refuse names the sweep entry and the point.
    const fs::path ring = config("ring.yaml", "      os.dataplane.rx_ring: [512, 12]\n");
    const result q = iovsim("run " + ring.string() + " --out out");
    EXPECT_EQ(q.code, 2) << q.err;
    EXPECT_NE(q.err.find("ring.yaml:9: experiment.sweep.params.os.dataplane.rx_ring: at point arrakis_n,rx_ring=12"),
              std::string::npos)
        << q.err;
}
