// The iovsim command line as a user meets it: help, list, configuration errors (exit code 2 with
// file, line, key and reason, before any simulation), and a small run's output directory. Runs the
// iovsim binary this build made (or IOVSIM_BIN) in a temporary directory of its own.
#include <gtest/gtest.h>

#include "tests/support/test_files.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/experiment.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using iovsim::testing::iovsim_binary;
using iovsim::testing::read_file;

const std::vector<std::string> columns = {"linux_running", "linux_idle", "arrakis_p", "arrakis_n"};
const std::vector<std::string> rows = {"net_stack_in", "net_stack_out", "scheduler", "copy_in",
                                       "copy_out",     "kernel_return", "syscall",   "app"};

void write_file(const fs::path& p, const std::string& text)
{
    std::ofstream out(p, std::ios::binary);
    out << text;
}

using result = iovsim::testing::command_result;

// A scratch directory per test, removed afterwards; commands run with it as working directory.
class cli : public iovsim::testing::binary_test {
protected:
    cli() : binary_test("iovsim_cli") {}

    static std::string experiment_file()
    {
        return (fs::path(iovsim::sim::source_dir()) / "configs" / "experiments" / "udp_echo_breakdown.yaml").string();
    }

    // A config file in the scratch directory: the experiment, then `body`.
    fs::path config(const std::string& name, const std::string& body)
    {
        const fs::path p = m_dir / name;
        write_file(p, "include: " + experiment_file() + "\n" + body);
        return p;
    }

    // A config error: exit code 2, nothing simulated, nothing written, stderr names the place.
    void expect_config_error(const result& r, const std::vector<std::string>& mentions, const std::string& out_dir)
    {
        EXPECT_EQ(r.code, 2) << r.err;
        for (const auto& m : mentions)
            EXPECT_NE(r.err.find(m), std::string::npos) << "stderr lacks '" << m << "':\n" << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line per error:\n" << r.err;
        EXPECT_FALSE(fs::exists(m_dir / out_dir / "summary.json"));
        EXPECT_TRUE(r.out.empty()) << r.out;
    }

    static const char* small() { return "--set experiment.requests=100 --set experiment.warmup=50"; }

};

} // namespace

TEST_F(cli, help_names_commands_and_every_run_option)
{
    const result top = iovsim("--help");
    EXPECT_EQ(top.code, 0) << top.err;
    for (const char* word : {"run", "list", "plot"})
        EXPECT_NE(top.out.find(word), std::string::npos) << word << " missing from:\n" << top.out;

    const result run = iovsim("run --help");
    EXPECT_EQ(run.code, 0) << run.err;
    for (const char* opt : {"--out", "--seed", "--set", "--jobs", "--quiet", "config"})
        EXPECT_NE(run.out.find(opt), std::string::npos) << opt << " missing from:\n" << run.out;
}

TEST_F(cli, usage_errors_exit_2)
{
    EXPECT_EQ(iovsim("").code, 2);                    // a subcommand is required
    EXPECT_EQ(iovsim("frobnicate").code, 2);
    EXPECT_EQ(iovsim("run").code, 2);                 // the config is required
    EXPECT_EQ(iovsim("run " + experiment_file() + " --seed abc").code, 2);
    EXPECT_EQ(iovsim("run " + experiment_file() + " --jobs 0").code, 2);
    EXPECT_EQ(iovsim("run " + experiment_file() + " --no-such-option").code, 2);
    EXPECT_FALSE(fs::exists(m_dir / "out"));
}

TEST_F(cli, list_shows_the_breakdown_experiment)
{
    const result r = iovsim("list");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("udp_echo_breakdown"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Arrakis Table 1"), std::string::npos) << r.out;   // its description
    EXPECT_EQ(r.out.find("invalid"), std::string::npos) << r.out;
}

TEST_F(cli, unknown_key_names_file_line_and_key)
{
    const fs::path f = config("unknown.yaml", "experiment:\n  requests: 10\n  bogus_key: 3\n");
    expect_config_error(iovsim("run " + f.string() + " --out out"), {"unknown.yaml:4", "experiment.bogus_key", "unknown key"}, "out");
}

TEST_F(cli, unknown_key_in_an_included_file_names_that_file)
{
    write_file(m_dir / "inner.yaml", "include: " + experiment_file() + "\nworkload:\n  echo:\n    payload: 64\n");
    write_file(m_dir / "outer.yaml", "include: inner.yaml\nexperiment:\n  requests: 10\n");
    expect_config_error(iovsim("run outer.yaml --out out"), {"inner.yaml:4", "workload.echo.payload", "unknown key"}, "out");
}

TEST_F(cli, wrong_type_names_file_line_and_key)
{
    const fs::path f = config("type.yaml", "experiment:\n  requests: lots\n");
    expect_config_error(iovsim("run " + f.string() + " --out out"), {"type.yaml:3", "experiment.requests", "integer", "lots"}, "out");
    const fs::path b = config("bool.yaml", "experiment:\n  pcap: 7\n");
    expect_config_error(iovsim("run " + b.string() + " --out out"), {"bool.yaml:3", "experiment.pcap"}, "out");
}

TEST_F(cli, out_of_range_names_file_line_and_key)
{
    const fs::path f = config("range.yaml", "experiment:\n  requests: 0\n");
    expect_config_error(iovsim("run " + f.string() + " --out out"), {"range.yaml:3", "experiment.requests", "outside"}, "out");
    const fs::path g = config("range2.yaml", "\nplatform:\n  nic:\n    num_vfs: 65\n");
    expect_config_error(iovsim("run " + g.string() + " --out out"), {"range2.yaml:5", "platform.nic.num_vfs", "outside"}, "out");
}

TEST_F(cli, bad_set_overrides_exit_2)
{
    const std::string f = experiment_file();
    expect_config_error(iovsim("run " + f + " --out out --set nosuch.key=1"), {"--set", "nosuch.key", "unknown key"}, "out");
    expect_config_error(iovsim("run " + f + " --out out --set experiment.requests=abc"), {"--set", "experiment.requests", "abc"}, "out");
    expect_config_error(iovsim("run " + f + " --out out --set experiment.requests=-5"), {"experiment.requests", "outside"}, "out");
    expect_config_error(iovsim("run " + f + " --out out --set experiment.requests"), {"experiment.requests"}, "out");
    expect_config_error(iovsim("run " + f + " --out out --set 'experiment.columns=[linux_running,warp_drive]'"),
                        {"experiment.columns", "warp_drive"}, "out");
}

// Values each valid alone that the hardware or the drivers cannot take are refused before the
// simulation too: rings of the 82599's geometry, enough buffers, parseable addresses.
TEST_F(cli, inconsistent_values_exit_2)
{
    const std::string f = experiment_file();
    expect_config_error(iovsim("run " + f + " --out out --set os.dataplane.rx_ring=12"),
                        {"os.dataplane.rx_ring", "multiple of 8"}, "out");
    expect_config_error(iovsim("run " + f + " --out out --set os.linux.buffers=64"), {"os.linux.buffers", "need 1024"},
                        "out");
    expect_config_error(iovsim("run " + f + " --out out --set platform.server.ip=10.0.0.256"),
                        {"platform.server.ip", "IPv4"}, "out");
    expect_config_error(iovsim("run " + f + " --out out --set platform.client.mac=01:00:5e:00:00:01"),
                        {"platform.client.mac", "unicast"}, "out");
    expect_config_error(iovsim("run " + f + " --out out --set platform.nic.num_vfs=0"), {"platform.nic.num_vfs", "VF"}, "out");
}

// A column of one's own, with its own overrides, beside the paper's: Linux without DCA.
TEST_F(cli, a_column_of_ones_own_with_overrides)
{
    const fs::path cfg = config("nodca.yaml",
                                "experiment:\n  columns: [linux_running, linux_nodca]\n"
                                "columns:\n  linux_nodca:\n    path: linux\n    outstanding: 8\n"
                                "    set: [os.linux.dca=false]\n");
    const result r = iovsim("run " + cfg.string() + " --out out --quiet " + std::string(small()));
    ASSERT_EQ(r.code, 0) << r.err;
    const auto s = nlohmann::json::parse(read_file(m_dir / "out" / "summary.json"));
    const double with_dca = s.at("columns").at("linux_running").at("rows").at("copy_out").at("mean");
    const double without = s.at("columns").at("linux_nodca").at("rows").at("copy_out").at("mean");
    // Without DCA the 16 payload lines come from DRAM (20 ns) rather than the LLC (12 ns).
    EXPECT_NEAR(without - with_dca, 16 * (0.020 - 0.012), 0.002);
    EXPECT_EQ(s.at("config").at("columns").at("linux_nodca").at("set").at(0), "os.linux.dca=false");
    // An override that is not a platform, OS or workload parameter, or a bad value, is refused.
    const fs::path bad = config("bad.yaml", "experiment:\n  columns: [c]\ncolumns:\n  c:\n    path: linux\n"
                                            "    set: [os.linux.rx_ring=12]\n");
    expect_config_error(iovsim("run " + bad.string() + " --out out2"), {"columns.c.set", "multiple of 8"}, "out2");
}

TEST_F(cli, missing_config_file_exits_2)
{
    expect_config_error(iovsim("run no_such_file.yaml --out out"), {"no_such_file.yaml"}, "out");
}

TEST_F(cli, run_writes_summary_table_config_and_capture)
{
    const result r = iovsim("run " + experiment_file() + " --out out --jobs 2 " + small());
    ASSERT_EQ(r.code, 0) << r.err;
    const fs::path out = m_dir / "out";
    for (const char* f : {"summary.json", "table.md", "effective-config.yaml", "wire.pcap"})
        ASSERT_TRUE(fs::exists(out / f)) << f;
    EXPECT_NE(r.out.find("results in out/"), std::string::npos) << r.out;   // not quiet: table and where it went

    const json s = json::parse(read_file(out / "summary.json"));
    EXPECT_EQ(s.at("experiment"), "udp_echo_breakdown");
    EXPECT_EQ(s.at("seed"), 1);
    EXPECT_EQ(s.at("units"), "us");
    EXPECT_EQ(s.at("config").at("experiment").at("requests"), 100);
    ASSERT_EQ(s.at("columns").size(), columns.size());
    for (const auto& col : columns) {
        SCOPED_TRACE(col);
        const json& c = s.at("columns").at(col);
        EXPECT_EQ(c.at("requests"), 100);
        EXPECT_FALSE(c.contains("invalid_samples"));
        const json& total = c.at("total");
        const double total_mean = total.at("mean").get<double>();
        EXPECT_GT(total_mean, 0.0);
        EXPECT_GE(total.at("sigma").get<double>(), 0.0);
        // Chebyshev: at most 1% of samples lie 10 sigma above the mean, so p99 cannot.
        EXPECT_LE(total.at("p99").get<double>(), total_mean + 10 * total.at("sigma").get<double>() + 0.001);
        EXPECT_GT(c.at("end_to_end").at("mean").get<double>(), total_mean);
        ASSERT_EQ(c.at("rows").size(), rows.size());
        double sum = 0, pct = 0;
        for (const auto& row : rows) {
            const json& cell = c.at("rows").at(row);
            for (const char* k : {"mean", "sigma", "pct"})
                ASSERT_TRUE(cell.at(k).is_number()) << row << "." << k;
            sum += cell.at("mean").get<double>();
            pct += cell.at("pct").get<double>();
        }
        // Each value is rounded to 4 decimals: eight rows are within 8 half-units of the total.
        EXPECT_NEAR(sum, total_mean, 8 * 0.00005 + 1e-12);
        EXPECT_NEAR(pct, 100.0, 0.01);
    }
    // Arrakis/N copies nothing and enters no kernel: exact zeros, not small numbers.
    for (const char* row : {"copy_in", "copy_out", "syscall", "kernel_return", "scheduler"})
        EXPECT_EQ(s["columns"]["arrakis_n"]["rows"][row]["mean"].get<double>(), 0.0) << row;

    const std::string table = read_file(out / "table.md");
    for (const auto& col : columns)
        EXPECT_NE(table.find(col + " (n=100)"), std::string::npos) << col;
    for (const auto& row : rows)
        EXPECT_NE(table.find("| " + row), std::string::npos) << row;

    const std::string eff = read_file(out / "effective-config.yaml");
    EXPECT_NE(eff.find("requests: 100"), std::string::npos);
    EXPECT_NE(eff.find("warmup: 50"), std::string::npos);
    EXPECT_EQ(eff.find("include:"), std::string::npos);   // self-contained

    // A pcap file with nanosecond timestamps (magic a1b23c4d, little-endian) and Ethernet frames.
    const std::string pcap = read_file(out / "wire.pcap");
    ASSERT_GT(pcap.size(), 24u);
    EXPECT_EQ(pcap.substr(0, 4), std::string("\x4d\x3c\xb2\xa1", 4));
    EXPECT_EQ(static_cast<unsigned char>(pcap[20]), 1u);   // LINKTYPE_ETHERNET
}

TEST_F(cli, effective_config_reproduces_the_run)
{
    const result first = iovsim("run " + experiment_file() + " --out a --quiet --seed 3 " + small());
    ASSERT_EQ(first.code, 0) << first.err;
    EXPECT_TRUE(first.out.empty()) << "--quiet printed:\n" << first.out;
    EXPECT_TRUE(first.err.empty()) << "--quiet printed:\n" << first.err;

    const result again = iovsim("run a/effective-config.yaml --out b --quiet");
    ASSERT_EQ(again.code, 0) << again.err;
    const std::string summary = read_file(m_dir / "a" / "summary.json");
    EXPECT_EQ(json::parse(summary).at("seed"), 3);
    EXPECT_EQ(summary, read_file(m_dir / "b" / "summary.json"));
    EXPECT_EQ(read_file(m_dir / "a" / "effective-config.yaml"), read_file(m_dir / "b" / "effective-config.yaml"));
    EXPECT_EQ(read_file(m_dir / "a" / "table.md"), read_file(m_dir / "b" / "table.md"));
}

// The Redis benchmark: its figures line, every request served; a bad path or key is a usage or
// config error (exit 2).
TEST_F(cli, bench_redis_prints_its_figures)
{
    const result r = iovsim("bench redis --path arrakis_p --requests 200 --set workload.redis.connections=64");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("connections=64"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("served=264"), std::string::npos) << r.out;   // a round of 64, then 200 measured
    EXPECT_NE(r.out.find("requests_per_s="), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("peak_rss_mb="), std::string::npos) << r.out;
    EXPECT_EQ(iovsim("bench redis --path windows").code, 2);
    EXPECT_EQ(iovsim("bench redis --set workload.redis.no_such_key=1").code, 2);
}
