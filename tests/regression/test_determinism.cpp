// DESIGN.md rule 6: same binary, config and seed give byte-identical outputs. Each run is a fresh
// iovsim process (the binary this build made, or IOVSIM_BIN), so nothing that varies between processes (addresses
// under ASLR, pointer-keyed ordering, the environment) can leak into the results unnoticed.
#include <gtest/gtest.h>

#include "tests/support/test_files.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/experiment.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using iovsim::testing::iovsim_binary;
using iovsim::testing::read_file;

class determinism : public iovsim::testing::binary_test {
protected:
    determinism() : binary_test("iovsim_det") {}

    // One `iovsim run` of the breakdown experiment into m_dir/out; the exit code.
    int run(const std::string& out, const std::string& args)
    {
        const fs::path exp = fs::path(iovsim::sim::source_dir()) / "configs" / "experiments" / "udp_echo_breakdown.yaml";
        const std::string cmd = "SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 '" + m_bin + "' run '" + exp.string() + "' --quiet --out '" +
                                (m_dir / out).string() + "' --set experiment.requests=200 --set experiment.warmup=50 " +
                                args + " 2>'" + (m_dir / (out + ".err")).string() + "'";
        const int status = std::system(cmd.c_str());
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::string err(const std::string& out) { return read_file(m_dir / (out + ".err")); }
    json summary(const std::string& out) { return json::parse(read_file(m_dir / out / "summary.json")); }

    // A summary of all four columns, each with the measured requests.
    static void expect_valid(const json& s, uint64_t seed)
    {
        EXPECT_EQ(s.at("seed"), seed);
        EXPECT_EQ(s.at("config").at("experiment").at("seed"), seed);
        ASSERT_EQ(s.at("columns").size(), 4u);
        for (const auto& [key, col] : s.at("columns").items()) {
            EXPECT_EQ(col.at("requests"), 200) << key;
            EXPECT_GT(col.at("total").at("mean").get<double>(), 0.0) << key;
            EXPECT_FALSE(col.contains("invalid_samples")) << key;
        }
    }

};

} // namespace

// Twice with the same seed, once one column at a time and once two at a time: every output file is
// the same to the byte, the capture included.
TEST_F(determinism, same_seed_gives_identical_outputs)
{
    ASSERT_EQ(run("a", "--seed 1 --jobs 1"), 0) << err("a");
    ASSERT_EQ(run("b", "--seed 1 --jobs 2"), 0) << err("b");
    expect_valid(summary("a"), 1);
    for (const char* f : {"summary.json", "table.md", "effective-config.yaml", "wire.pcap"}) {
        const std::string a = read_file(m_dir / "a" / f);
        ASSERT_FALSE(a.empty()) << f;
        EXPECT_TRUE(a == read_file(m_dir / "b" / f)) << f << " differs between two runs with the same seed";
    }
}

// In this experiment no random stream is drawn from: every client is closed-loop with no think time
// (columns.*.think_us = 0) and the server side has no randomness. So another seed must give a valid
// summary identical to the first in everything but the seed itself.
TEST_F(determinism, another_seed_changes_only_the_seed_here)
{
    ASSERT_EQ(run("s1", "--seed 1"), 0) << err("s1");
    ASSERT_EQ(run("s2", "--seed 987654321"), 0) << err("s2");
    json a = summary("s1");
    json b = summary("s2");
    expect_valid(a, 1);
    expect_valid(b, 987654321);
    for (const auto& [key, col] : a.at("config").at("columns").items())
        ASSERT_EQ(col.at("think_us"), 0) << key << ": this test's premise is a config without think time";
    b["seed"] = a["seed"];
    b["config"]["experiment"]["seed"] = a["config"]["experiment"]["seed"];
    EXPECT_EQ(a, b);
}

// With think time the clients draw their pauses from the seeded stream "client/<column>": the same
// seed repeats the run to the byte, and another seed moves the request arrivals. Where requests
// overlap (linux_running, 4 in flight) that changes how they queue, hence the breakdown and the
// latencies; with one in flight (arrakis_n) each request is served alike whenever it comes, so
// only the capture's timestamps move.
TEST_F(determinism, think_time_follows_the_seed)
{
    const std::string think = "--set columns.linux_running.think_us=3 --set columns.arrakis_n.think_us=3 "
                              "--set 'experiment.columns=[linux_running, arrakis_n]' --set experiment.max_sim_ms=100";
    ASSERT_EQ(run("t1", "--seed 1 " + think), 0) << err("t1");
    ASSERT_EQ(run("t1b", "--seed 1 " + think), 0) << err("t1b");
    ASSERT_EQ(run("t2", "--seed 2 " + think), 0) << err("t2");
    for (const char* f : {"summary.json", "wire.pcap"})
        EXPECT_TRUE(read_file(m_dir / "t1" / f) == read_file(m_dir / "t1b" / f)) << f;
    EXPECT_FALSE(read_file(m_dir / "t1" / "wire.pcap") == read_file(m_dir / "t2" / "wire.pcap"));
    const json a = summary("t1");
    const json b = summary("t2");
    EXPECT_EQ(a.at("seed"), 1);
    EXPECT_EQ(b.at("seed"), 2);
    for (const json* s : {&a, &b})
        for (const char* col : {"linux_running", "arrakis_n"})
            EXPECT_EQ(s->at("columns").at(col).at("requests"), 200) << col;
    EXPECT_NE(a["columns"]["linux_running"]["total"], b["columns"]["linux_running"]["total"]);
    EXPECT_NE(a["columns"]["linux_running"]["end_to_end"], b["columns"]["linux_running"]["end_to_end"]);
    EXPECT_EQ(a["columns"]["arrakis_n"], b["columns"]["arrakis_n"]);
}

// A sweep of the throughput experiment, in fresh processes at -j 1 and -j 3: every file of the
// output, each point's result and config included, is the same to the byte. Each point's seed
// comes from the root seed and the point alone, so parallelism and order cannot reach it.
TEST_F(determinism, sweep_outputs_are_identical_across_processes_and_jobs)
{
    const fs::path exp = fs::path(iovsim::sim::source_dir()) / "configs" / "experiments" / "udp_echo_throughput.yaml";
    const std::string args = "run '" + exp.string() + "' --quiet --set experiment.throughput.warmup_us=300 "
                             "--set experiment.throughput.window_us=1000 --set columns.linux.think_us=2 "
                             "--set 'experiment.sweep.params={workload.echo.processing_us: [0, 2, 4]}'";
    ASSERT_EQ(iovsim(args + " --out a -j 1").code, 0);
    ASSERT_EQ(iovsim(args + " --out b -j 3").code, 0);
    size_t compared = 0;
    for (const auto& e : fs::recursive_directory_iterator(m_dir / "a")) {
        if (!e.is_regular_file())
            continue;
        const fs::path rel = fs::relative(e.path(), m_dir / "a");
        ASSERT_TRUE(fs::exists(m_dir / "b" / rel)) << rel;
        EXPECT_TRUE(read_file(e.path()) == read_file(m_dir / "b" / rel)) << rel << " differs";
        ++compared;
    }
    // summary, table, series.csv, points.csv, effective config; 12 points of result and config.
    EXPECT_EQ(compared, 5u + 12u * 2u);
}
