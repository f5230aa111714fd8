// Traces of a run: the per-request timeline (Chrome trace-event JSON) and the VCD of hardware
// signals, switched on per run, parsed here and checked for the events the paths must show. Off by
// default: no trace file is written.
#include <gtest/gtest.h>

#include "tests/support/test_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/experiment.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using iovsim::testing::read_file;

// A VCD as GTKWave reads it: the variables' full names, and each one's values over time.
struct vcd {
    std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> changes;   // name -> (time, value)
    uint64_t last(const std::string& name) const { return changes.at(name).back().second; }
};

vcd parse_vcd(const std::string& text)
{
    vcd v;
    std::map<std::string, std::string> names;   // id -> name
    std::vector<std::string> scope;
    std::istringstream in(text);
    std::string tok;
    uint64_t now = 0;
    bool timescale_ps = false;
    while (in >> tok) {
        if (tok == "$date" || tok == "$version" || tok == "$comment") {
            while (in >> tok && tok != "$end") {
            }
        } else if (tok == "$timescale") {
            std::string a, b;
            in >> a;
            if (a == "1" || a == "1ps") {
                if (a == "1")
                    in >> b;
                timescale_ps = a == "1ps" || b == "ps";
            }
        } else if (tok == "$scope") {
            std::string kind, name;
            in >> kind >> name;
            scope.push_back(name);
        } else if (tok == "$upscope") {
            scope.pop_back();
        } else if (tok == "$var") {
            std::string type, width, id, name;
            in >> type >> width >> id >> name;
            std::string full;
            for (size_t i = 1; i < scope.size(); ++i)   // below the top scope (SystemC)
                full += scope[i] + ".";
            names[id] = full + name;
        } else if (tok[0] == '#') {
            const uint64_t t = std::stoull(tok.substr(1));
            EXPECT_GE(t, now) << "time goes back";
            now = t;
        } else if (tok[0] == 'b') {
            std::string id;
            in >> id;
            EXPECT_TRUE(names.count(id)) << "value of an undeclared variable " << id;
            v.changes[names[id]].emplace_back(now, std::stoull(tok.substr(1), nullptr, 2));
        }
    }
    EXPECT_TRUE(timescale_ps) << "the VCD's unit is the kernel's (ps)";
    return v;
}

class trace_test : public iovsim::testing::binary_test {
protected:
    trace_test() : binary_test("iovsim_trace") {}

    void run(const std::string& extra)
    {
        const std::string exp = (fs::path(iovsim::sim::source_dir()) / "configs" / "experiments" / "udp_echo_breakdown.yaml").string();
        const auto r = iovsim("run " + exp + " --out out --quiet -j 2 --set experiment.requests=20 --set experiment.warmup=5 "
                                             "--set experiment.pcap=false --set 'experiment.columns=[arrakis_n, linux_idle]' " +
                              extra);
        ASSERT_EQ(r.code, 0) << r.err;
        EXPECT_TRUE(r.err.empty()) << r.err;   // no SystemC warnings about the trace file
    }
    fs::path point(const std::string& p) { return m_dir / "out" / "points" / p; }
};

} // namespace

TEST_F(trace_test, off_by_default)
{
    run("");
    for (const char* p : {"arrakis_n", "linux_idle"}) {
        EXPECT_FALSE(fs::exists(point(p) / "timeline.json"));
        EXPECT_FALSE(fs::exists(point(p) / "trace.vcd"));
    }
}

// Each core's work as slices on its host's lane, named by category and carrying the request; the
// Linux path's system calls and copies are there, Arrakis/N's are not.
TEST_F(trace_test, timeline_has_each_requests_stages_on_its_lanes)
{
    run("--set experiment.trace.timeline=true");
    for (const char* p : {"arrakis_n", "linux_idle"}) {
        SCOPED_TRACE(p);
        const json doc = json::parse(read_file(point(p) / "timeline.json"));
        EXPECT_EQ(doc.at("displayTimeUnit"), "ns");
        std::map<std::pair<int, int>, std::string> lanes;   // (pid, tid) -> "process/thread"
        std::map<int, std::string> processes;
        std::map<std::string, std::set<std::string>> stages_of_request;   // server request -> categories
        std::map<std::string, double> lane_end;
        std::map<std::string, size_t> nic_slices;   // lane -> frames
        size_t slices = 0;
        for (const json& e : doc.at("traceEvents")) {
            if (e.at("ph") == "M") {
                if (e.at("name") == "process_name")
                    processes[e.at("pid")] = e.at("args").at("name");
                else
                    lanes[{e.at("pid"), e.at("tid")}] = processes.at(e.at("pid")) + "/" + e.at("args").at("name").get<std::string>();
                continue;
            }
            ASSERT_EQ(e.at("ph"), "X");
            ++slices;
            const std::string lane = lanes.at({e.at("pid"), e.at("tid")});
            const double ts = e.at("ts"), dur = e.at("dur");
            EXPECT_GT(dur, 0.0);
            // A core does one thing at a time: its slices follow one another.
            EXPECT_GE(ts + 1e-6, lane_end[lane]) << lane << " at " << ts;
            lane_end[lane] = ts + dur;
            if (lane.find("/nic ") != std::string::npos) {
                ++nic_slices[lane];
                EXPECT_GE(e.at("args").at("bytes").get<int>(), 60) << lane;   // a whole frame, FCS aside
            }
            if (lane == "server/core0" && e.at("args").contains("request"))
                stages_of_request[e.at("args").at("request").dump()].insert(e.at("name"));
        }
        EXPECT_GT(slices, 100u);
        EXPECT_TRUE(lane_end.count("server/core0"));
        EXPECT_TRUE(lane_end.count("client/core0"));
        // Each frame's receive (parse and DMA) and transmit (serialization) on its NIC's lanes.
        for (const char* l : {"server/nic rx", "server/nic tx", "client/nic rx", "client/nic tx"})
            EXPECT_EQ(nic_slices[l], 26u) << l;
        // Every echo request served (the application ran for it); the client's ARP request is a
        // request of the server too, without application work.
        size_t echoes = 0;
        for (const auto& [req, stages] : stages_of_request) {
            EXPECT_TRUE(stages.count("net_stack_in")) << req;
            if (!stages.count("app"))
                continue;
            ++echoes;
            EXPECT_TRUE(stages.count("net_stack_out")) << req;
            EXPECT_EQ(stages.count("syscall") + stages.count("copy_in"), std::string(p) == "linux_idle" ? 2u : 0u) << req;
        }
        EXPECT_EQ(echoes, 25u);
    }
}

// The VCD's signals: MSI-X interrupts on the Linux path (one per frame, no throttling) and none on
// Arrakis/N (it polls); IOTLB hits for Arrakis's VF DMA; frame counters on both NICs.
TEST_F(trace_test, vcd_has_interrupts_iotlb_hits_and_frames)
{
    run("--set experiment.trace.vcd=true --set experiment.trace.vcd_period_ns=50");
    const vcd arrakis = parse_vcd(read_file(point("arrakis_n") / "trace.vcd"));
    const vcd linux_idle = parse_vcd(read_file(point("linux_idle") / "trace.vcd"));
    for (const vcd* v : {&arrakis, &linux_idle}) {
        // 25 requests and the client's ARP request; each answered.
        EXPECT_EQ(v->last("server.nic.rx_frames"), 26u);
        EXPECT_EQ(v->last("server.nic.tx_frames"), 26u);
        EXPECT_EQ(v->last("client.nic.rx_frames"), 26u);
        // Counters step through their values one sample at a time.
        EXPECT_GT(v->changes.at("server.nic.rx_frames").size(), 20u);
        EXPECT_EQ(v->last("server.nic.tx_rate_wait_ns"), 0u);   // no rate limit configured
    }
    for (const vcd* v : {&arrakis, &linux_idle}) {
        // The drivers keep their receive rings filled; frames pass through the packet buffers.
        EXPECT_GT(v->last("server.nic.rx_descriptors_posted"), 400u);
        EXPECT_EQ(v->last("server.nic.tx_descriptors_pending"), 0u);
        uint64_t most = 0;
        for (const auto& [t, val] : v->changes.at("server.nic.tx_buffer_bytes"))
            most = std::max(most, val);
        EXPECT_GE(most, 1024u);   // a 1 KB reply seen in the transmit buffer at some sample
        EXPECT_EQ(v->last("server.nic.tx_buffer_bytes"), 0u);
    }
    EXPECT_EQ(arrakis.last("server.core0.interrupts_taken"), 0u);
    EXPECT_GT(arrakis.last("server.iommu.iotlb_hits"), 26u);
    EXPECT_GT(arrakis.last("server.iommu.iotlb_misses"), 0u);
    EXPECT_EQ(linux_idle.last("server.core0.interrupts_taken"), 26u);
    EXPECT_GT(linux_idle.last("server.core0.context_switches"), 20u);
}

// Traces are outputs of the run like any other: the same run writes the same bytes.
TEST_F(trace_test, traces_are_deterministic)
{
    run("--set experiment.trace.vcd=true --set experiment.trace.timeline=true");
    fs::rename(m_dir / "out", m_dir / "first");
    run("--set experiment.trace.vcd=true --set experiment.trace.timeline=true --force");
    for (const char* f : {"arrakis_n/trace.vcd", "arrakis_n/timeline.json", "linux_idle/trace.vcd", "linux_idle/timeline.json"})
        EXPECT_TRUE(read_file(m_dir / "first" / "points" / f) == read_file(point(f))) << f;
    // The wall-clock date SystemC stamps is blanked.
    const std::string v = read_file(point("arrakis_n/trace.vcd"));
    const size_t from = v.find("$date\n"), to = v.find("\n$end");
    ASSERT_LT(from, to);
    EXPECT_EQ(v.substr(from + 6, to - from - 6).find_first_not_of(' '), std::string::npos) << v.substr(0, 80);
}
