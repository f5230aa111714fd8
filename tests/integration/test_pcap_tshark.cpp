// wire.pcap read by an independent dissector: tshark must find every frame well formed, with good
// IPv4 and UDP checksums and no expert warning, and the echo conversation exactly as the client ran
// it. Skipped when tshark is not installed.
#include <gtest/gtest.h>

#include "sim/params.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sim/experiment.h"
#include "tests/support/test_files.h"

namespace fs = std::filesystem;
using namespace iovsim;

namespace {

constexpr int64_t requests = 100;
constexpr int64_t warmup = 50;

bool have_tshark() { return iovsim::testing::have_program("tshark"); }
using iovsim::testing::output_of;

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> v;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            v.push_back(line);
    return v;
}

cfg::config small_config(const std::string& columns)
{
    const fs::path exp = fs::path(sim::source_dir()) / "configs" / "experiments" / "udp_echo_breakdown.yaml";
    return sim::load_run_config(exp.string(),
                                {"experiment.requests=" + std::to_string(requests), "experiment.warmup=" + std::to_string(warmup),
                                 "experiment.pcap=true", "experiment.columns=" + columns},
                                std::nullopt);
}

// Runs the breakdown experiment with the capture on; returns the output directory.
fs::path run_captured(const cfg::config& c, const std::string& tag)
{
    sim::run_options opt;
    opt.out_dir = (fs::temp_directory_path() / ("iovsim_pcap_" + tag + "_" + std::to_string(::getpid()))).string();
    fs::remove_all(opt.out_dir);
    opt.jobs = 2;
    sim::run_experiment(c, opt);
    return opt.out_dir;
}

std::string tshark(const fs::path& pcap, const std::string& args)
{
    return output_of("tshark -n -r '" + pcap.string() + "' -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE " + args);
}

// The capture of one column: clean, and the echo conversation frame for frame.
void check_column_capture(const std::string& column)
{
    if (!have_tshark())
        GTEST_SKIP() << "tshark is not on PATH";
    const cfg::config c = small_config("[" + column + "]");
    const int64_t outstanding = c.get_int("columns." + column + ".outstanding");
    const fs::path out = run_captured(c, column);
    const fs::path pcap = out / "wire.pcap";
    ASSERT_TRUE(fs::exists(pcap));

    const std::string problems = tshark(pcap, "-Y '_ws.malformed || _ws.expert.severity >= warning'");
    EXPECT_TRUE(problems.empty()) << "tshark flags:\n" << problems;

    // One line per frame: protocol fields, empty where a frame lacks the protocol.
    const std::string fields = tshark(pcap, "-T fields -E separator=, -e frame.protocols -e ip.src -e udp.srcport -e ip.dst "
                                            "-e udp.dstport -e udp.length -e ip.checksum.status -e udp.checksum.status "
                                            "-e arp.opcode -e frame.time_delta");
    std::map<std::string, int64_t> udp;   // "src:port>dst:port" -> frames
    int64_t arp_requests = 0, arp_replies = 0, frames = 0;
    for (const auto& line : lines_of(fields)) {
        ++frames;
        std::vector<std::string> f;
        std::istringstream in(line);
        for (std::string x; std::getline(in, x, ',');)
            f.push_back(x);
        f.resize(10);
        EXPECT_GE(std::stod(f[9]), 0.0) << "time runs backwards: " << line;
        if (f[0].find(":udp") != std::string::npos) {
            EXPECT_EQ(f[5], "1032") << line;   // 8-byte header + the 1024-byte echo payload
            EXPECT_EQ(f[6], "1") << "IPv4 checksum not good: " << line;
            EXPECT_EQ(f[7], "1") << "UDP checksum not good: " << line;
            ++udp[f[1] + ":" + f[2] + ">" + f[3] + ":" + f[4]];
        } else if (f[0].find(":arp") != std::string::npos) {
            (f[8] == "1" ? arp_requests : arp_replies)++;
        } else {
            ADD_FAILURE() << "neither UDP nor ARP: " << line;
        }
    }
    // The client resolves the server once; nothing else but the echo goes over the wire.
    EXPECT_EQ(arp_requests, 1);
    EXPECT_EQ(arp_replies, 1);
    ASSERT_EQ(udp.size(), 2u) << fields;
    // The Linux-like path serves on the kernel's address, Arrakis on the application VNIC's.
    const cfg::config defaults(sim::parameters());
    const std::string server =
        defaults.get_string(column.rfind("linux", 0) == 0 ? "platform.server.ip" : "platform.server.vnic_ip");
    const std::string client = defaults.get_string("platform.client.ip");
    const int64_t asked = udp[client + ":40000>" + server + ":7"];
    const int64_t answered = udp[server + ":7>" + client + ":40000"];
    EXPECT_EQ(frames, asked + answered + 2);
    EXPECT_GE(asked + answered, 2 * requests);
    // The client stops at its last measured reply: with n in flight, at most n - 1 more were asked.
    EXPECT_GE(answered, warmup + requests);
    EXPECT_GE(asked, answered);
    EXPECT_LT(asked - answered, outstanding);
    if (outstanding == 1) {
        EXPECT_EQ(asked, warmup + requests);
        EXPECT_EQ(answered, warmup + requests);
    }

    // The count the brief's one-liner gives, as a user would type it.
    const auto udp_lines = lines_of(tshark(pcap, "-Y udp"));
    EXPECT_EQ(static_cast<int64_t>(udp_lines.size()), asked + answered);
    if (!::testing::Test::HasFailure())
        fs::remove_all(out);
}

} // namespace

TEST(pcap_tshark, linux_running_capture) { check_column_capture("linux_running"); }
TEST(pcap_tshark, linux_idle_capture) { check_column_capture("linux_idle"); }
TEST(pcap_tshark, arrakis_p_capture) { check_column_capture("arrakis_p"); }
TEST(pcap_tshark, arrakis_n_capture) { check_column_capture("arrakis_n"); }

// The run's single wire.pcap: the columns' captures one after another, a millisecond apart. The
// Linux-like server and the Arrakis application have addresses of their own, so the columns read
// as one consistent network.
TEST(pcap_tshark, merged_capture_of_all_columns_is_clean)
{
    if (!have_tshark())
        GTEST_SKIP() << "tshark is not on PATH";
    const fs::path out = run_captured(small_config("[linux_running, linux_idle, arrakis_p, arrakis_n]"), "all");
    const fs::path pcap = out / "wire.pcap";
    const std::string problems = tshark(pcap, "-Y '_ws.malformed || _ws.expert.severity >= warning'");
    EXPECT_TRUE(problems.empty()) << "tshark flags:\n" << problems;
    EXPECT_GE(static_cast<int64_t>(lines_of(tshark(pcap, "-Y udp")).size()), 4 * 2 * (warmup + requests));
    EXPECT_EQ(lines_of(tshark(pcap, "-Y arp")).size(), 4 * 2u);
    EXPECT_TRUE(lines_of(tshark(pcap, "-Y 'frame.time_delta < 0'")).empty());
    if (!::testing::Test::HasFailure())
        fs::remove_all(out);
}
