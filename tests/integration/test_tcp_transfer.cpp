// TCP between two simulated hosts, each an application on its own dataplane (NIC, IOMMU, PCIe,
// the user-level stack with TCP), joined by one 10G cable: a megabyte each way at once, checked
// byte for byte, then both sides closed through TIME-WAIT. The same over a cable that loses,
// duplicates and reorders frames. And a capture of a clean transfer read by tshark (skipped when
// tshark is absent): no malformed frame, no expert warning or error.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "models/net/eth.h"
#include "os/dataplane/dataplane.h"
#include "os/net/tcp.h"
#include "sim/fast_time.h"
#include "sim/params.h"
#include "sim/pcap.h"
#include "sim/testbed.h"
#include "tests/support/tcp_pair.h"
#include "tests/support/test_files.h"

namespace fs = std::filesystem;
using namespace iovsim;
using namespace iovsim::os::net;

namespace {

using iovsim::testing::pattern;

struct frame_record {
    uint64_t ns, seq;
    std::vector<uint8_t> bytes;
};

struct peer_result {
    std::vector<uint8_t> got;
    tcp_stats stats;
    uint64_t established_ns = 0, done_ns = 0, closed_ns = 0, time_wait_ns = 0, end_ns = 0;
    tcp_state state_after_close = tcp_state::established;
    size_t connections_left = 99;
    bool refused_ok = false;
};

// Two hosts on one cable; host 0 connects to host 1's port 5000 and both send `bytes` at once.
// Several runs share one simulation (SystemC elaborates once per process), each on its own cable.
struct tcp_run {
    cfg::config c;
    os::cost_model costs;
    std::unique_ptr<sim::host> h[2];
    std::unique_ptr<models::net::eth_link> cable;
    std::vector<frame_record> frames;
    peer_result r[2];
    size_t bytes;

    unsigned net;
    bool capturing;
    bool listening = false;

    tcp_run(unsigned net_id, const std::vector<std::string>& overrides, size_t n, bool capture)
        : c(sim::parameters()), bytes(n), net(net_id), capturing(capture)
    {
        for (const auto& o : overrides)
            c.apply_override(o);
        costs = os::cost_model::from(c);
        for (unsigned i = 0; i < 2; ++i)
            h[i] = std::make_unique<sim::host>("tcp" + std::to_string(net) + (i == 0 ? "a" : "b"), c, costs, 64ULL << 20, 0, true);
        const std::string name = "tcp_cable" + std::to_string(net);
        cable = std::make_unique<models::net::eth_link>(name.c_str(), sc_core::sc_time(c.get_real("platform.link.propagation_ns"), sc_core::SC_NS));
        cable->connect(*h[0]->nic, *h[1]->nic);
        h[0]->nic->attach(*cable, 0);
        h[1]->nic->attach(*cable, 1);
        cable->set_impairment(sim::link_impairment_of(c, name));
        if (capture)
            cable->set_tap([this](const models::net::frame_ptr& f, const sc_core::sc_time& t) {
                frames.push_back({static_cast<uint64_t>(sim::time_to_ns(t)), frames.size(), f->bytes});
            });
        for (unsigned i = 0; i < 2; ++i)
            h[i]->core->spawn("app", [this, i] { app(i); });
    }
    wire::ipv4_addr ip(unsigned i) const { return wire::ipv4_addr::from_octets(10, 0, static_cast<uint8_t>(net), static_cast<uint8_t>(i + 1)); }

    void app(unsigned i)
    {
        os::cpu_core& core = *h[i]->core;
        auto dp = sim::start_client_dataplane(*h[i], wire::mac_addr{{2, 0, 0, 0, static_cast<uint8_t>(net), static_cast<uint8_t>(i + 1)}}, ip(i));
        tcp_layer& tcp = dp->enable_tcp(tcp_layer::params_of(c), 100 + i);
        auto now = [&] { return static_cast<uint64_t>(sim::time_to_ns(core.local_time())); };
        peer_result& me = r[i];
        // Host 0 first tries a port nobody listens on: refused (not in the capture: tshark rightly
        // flags a reset).
        if (i == 0 && !capturing) {
            const tcp_id bad = tcp.connect(ip(1), 9);
            for (;;) {
                dp->poll();
                if (tcp.ready(bad) & tcp_ready::err)
                    break;
                if (!dp->rx_ready())
                    dp->wait_rx();
            }
            me.refused_ok = tcp.state(bad) == tcp_state::closed && (tcp.ready(bad) & tcp_ready::hup);
            tcp.close(bad);
        }
        tcp_id conn = 0, listener = 0;
        if (i == 0) {
            while (!listening) {   // the server's application starts its stack in parallel
                dp->poll();
                dp->wait_rx_until(core.local_time() + sc_core::sc_time(10, sc_core::SC_US));
            }
            conn = tcp.connect(ip(1), 5000);
        } else {
            listener = tcp.listen(5000, 4);
            listening = true;
        }
        const std::vector<uint8_t> data = pattern(bytes, i + 1);
        size_t sent = 0;
        bool closed = false, peer_closed = false;
        std::vector<uint8_t> buf(16384);
        for (;;) {
            dp->poll();
            bool progress = false;
            if (!conn && listener) {
                conn = tcp.accept(listener);
                progress = conn != 0;
            }
            if (conn && (tcp.ready(conn) & tcp_ready::out) && me.established_ns == 0)
                me.established_ns = now();
            if (conn && me.established_ns) {
                while (sent < data.size()) {
                    const size_t k = tcp.send(conn, data.data() + sent, data.size() - sent);
                    if (k == 0)
                        break;
                    sent += k;
                    progress = true;
                }
                for (size_t k; (k = tcp.recv(conn, buf.data(), buf.size())) > 0;) {
                    me.got.insert(me.got.end(), buf.begin(), buf.begin() + static_cast<long>(k));
                    progress = true;
                }
                if (me.got.size() == bytes && sent == bytes && me.done_ns == 0)
                    me.done_ns = now();
                peer_closed = tcp.ready(conn) & tcp_ready::rdhup;
                // The client closes once all arrived; the server once the client has.
                if (!closed && me.done_ns && (i == 0 || peer_closed)) {
                    tcp.close(conn);
                    closed = true;
                    me.closed_ns = now();
                }
            }
            if (closed && me.time_wait_ns == 0 && tcp.state(conn) == tcp_state::time_wait)
                me.time_wait_ns = now();
            if (closed && tcp.connections() == (i == 0 ? 0u : 1u))
                break;   // the server's listener remains
            if (conn && (tcp.ready(conn) & tcp_ready::err))
                break;
            if (!progress && !dp->rx_ready())
                dp->wait_rx();
        }
        me.end_ns = now();
        me.state_after_close = tcp.state(conn);
        me.connections_left = tcp.connections();
        me.stats = tcp.stats();
        if (listener)
            tcp.close(listener);
        // Stay on, answering, until the peer is done too (its last ACKs may need ours).
        while (r[1 - i].done_ns == 0 || r[1 - i].connections_left == 99) {
            dp->poll();
            if (!dp->rx_ready())
                dp->wait_rx_until(core.local_time() + sc_core::sc_time(100, sc_core::SC_MS));
        }
    }

    double gbps(unsigned i) const
    {
        const peer_result& me = r[i];
        return me.done_ns > me.established_ns ? static_cast<double>(bytes) * 8 / static_cast<double>(me.done_ns - me.established_ns) : 0;
    }
    void check_delivery()
    {
        for (unsigned i = 0; i < 2; ++i) {
            EXPECT_TRUE(r[i].got == pattern(bytes, 2 - i)) << "host " << i << " got " << r[i].got.size() << " bytes";
            EXPECT_EQ(r[i].state_after_close, tcp_state::closed) << i;
            EXPECT_EQ(r[i].stats.connections_opened, 1u) << i;
        }
        EXPECT_EQ(r[0].refused_ok, !capturing);
        if (capturing)
            EXPECT_EQ(r[1].stats.no_listener, 0u);
        else
            EXPECT_GE(r[1].stats.no_listener, 1u);   // more when a SYN or the RST was lost
        EXPECT_EQ(r[0].connections_left, 0u);   // after TIME-WAIT
        EXPECT_EQ(r[1].connections_left, 1u);   // the listener
        // The client closed first: it waited out TIME-WAIT (2 MSL) after the server's FIN; the
        // server went from LAST-ACK straight to CLOSED.
        const uint64_t tw = tcp_layer::params_of(c).time_wait_ns;
        EXPECT_NE(r[0].time_wait_ns, 0u);
        EXPECT_EQ(r[1].time_wait_ns, 0u);
        EXPECT_GE(r[0].end_ns - r[0].time_wait_ns + 1'000'000, tw);
        EXPECT_LE(r[0].end_ns - r[0].time_wait_ns, tw + 1'000'000'000);
    }
};

constexpr size_t megabyte = 1 << 20;

bool have_tshark() { return iovsim::testing::have_program("tshark"); }
using iovsim::testing::output_of;

// The runs, simulated together once.
struct runs {
    tcp_run clean{1, {}, megabyte, false};
    tcp_run lossy{2, {"platform.link.loss=0.02", "platform.link.duplicate=0.01", "platform.link.reorder=0.02"}, megabyte, false};
    tcp_run captured{3, {}, 256 * 1024, true};
    runs() { sc_core::sc_start(sc_core::sc_time(600, sc_core::SC_SEC)); }
};

runs& all()
{
    static runs r;
    return r;
}

} // namespace

TEST(tcp_transfer, megabyte_each_way_then_close)
{
    tcp_run& run = all().clean;
    run.check_delivery();
    for (unsigned i = 0; i < 2; ++i) {
        EXPECT_EQ(run.r[i].stats.retransmits, 0u) << i;
        EXPECT_EQ(run.r[i].stats.rto_expiries, 0u) << i;
        EXPECT_EQ(run.r[i].stats.out_of_order, 0u) << i;
        EXPECT_EQ(run.r[i].stats.bytes_in, megabyte) << i;
        // Both directions at once over full-duplex 10G: well above half the line rate each.
        EXPECT_GT(run.gbps(i), 5.0) << i;
        std::printf("host %u: %.2f Gb/s, %llu segments out, %llu delayed ACKs\n", i, run.gbps(i),
                    static_cast<unsigned long long>(run.r[i].stats.segments_out),
                    static_cast<unsigned long long>(run.r[i].stats.delayed_acks));
    }
}

TEST(tcp_transfer, stream_intact_over_a_lossy_duplicating_reordering_cable)
{
    tcp_run& run = all().lossy;
    run.check_delivery();
    const auto& imp = run.cable->impairment_stats();
    EXPECT_GT(imp.dropped, 0u);
    EXPECT_GT(imp.duplicated, 0u);
    EXPECT_GT(imp.reordered, 0u);
    uint64_t rexmit = 0, fast = 0, ooo = 0;
    for (unsigned i = 0; i < 2; ++i) {
        rexmit += run.r[i].stats.retransmits;
        fast += run.r[i].stats.fast_retransmits;
        ooo += run.r[i].stats.out_of_order;
        std::printf("host %u: %.3f Gb/s, %llu retransmits (%llu fast, %llu timeouts), %llu out of order, %llu duplicates\n", i,
                    run.gbps(i), static_cast<unsigned long long>(run.r[i].stats.retransmits),
                    static_cast<unsigned long long>(run.r[i].stats.fast_retransmits),
                    static_cast<unsigned long long>(run.r[i].stats.rto_expiries),
                    static_cast<unsigned long long>(run.r[i].stats.out_of_order),
                    static_cast<unsigned long long>(run.r[i].stats.duplicates));
    }
    EXPECT_GT(rexmit, 0u);
    EXPECT_GT(fast, 0u);
    EXPECT_GT(ooo, 0u);
}

TEST(tcp_transfer, capture_passes_tshark_expert_analysis)
{
    if (!have_tshark())
        GTEST_SKIP() << "tshark is not on PATH";
    tcp_run& run = all().captured;
    run.check_delivery();
    std::sort(run.frames.begin(), run.frames.end(),
              [](const frame_record& a, const frame_record& b) { return a.ns != b.ns ? a.ns < b.ns : a.seq < b.seq; });
    const fs::path pcap = fs::temp_directory_path() / ("iovsim_tcp_" + std::to_string(::getpid()) + ".pcap");
    {
        sim::pcap_writer w(pcap.string());
        for (const auto& f : run.frames)
            w.write(f.ns, f.bytes.data(), f.bytes.size());
    }
    const std::string base = "tshark -n -r '" + pcap.string() + "' -d tcp.port==5000,data -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE ";
    const std::string problems = output_of(base + "-Y '_ws.malformed || _ws.expert.severity >= warning'");
    EXPECT_TRUE(problems.empty()) << "tshark flags:\n" << problems;
    // Nor a note of its TCP analysis: no retransmission, no lost or out-of-order segment, no
    // duplicate ACK (data going back carries the ACK; no pure one repeats it).
    const std::string notes = output_of(base + "-Y 'tcp.analysis.retransmission || tcp.analysis.lost_segment || "
                                               "tcp.analysis.out_of_order || tcp.analysis.duplicate_ack || tcp.analysis.zero_window'");
    EXPECT_TRUE(notes.empty()) << "tshark notes:\n" << notes;
    // The handshake with its options, data both ways, and the FINs are all there.
    const std::string syn = output_of(base + "-Y 'tcp.flags.syn == 1 && tcp.options.mss_val == 1460 && tcp.options.wscale.shift == 7' -T fields -e tcp.flags");
    EXPECT_NE(syn.find("0x0002"), std::string::npos) << syn;
    EXPECT_NE(syn.find("0x0012"), std::string::npos) << syn;
    const std::string fins = output_of(base + "-Y 'tcp.flags.fin == 1 && tcp.srcport != 9 && tcp.dstport != 9' -T fields -e tcp.srcport");
    EXPECT_EQ(std::count(fins.begin(), fins.end(), '\n'), 2) << fins;
    const std::string expert = output_of(base + "-q -z expert,error");
    EXPECT_EQ(expert.find("Errors ("), std::string::npos) << expert;
    if (!std::getenv("IOVSIM_KEEP_PCAP"))
        fs::remove(pcap);
}
