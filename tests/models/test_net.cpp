// Model tests of the Ethernet models: a cable with its transmit serializers, and the learning
// store-and-forward switch. Times are exact: 10 Gb/s is 0.8 ns a byte on the wire.
//
// SystemC elaborates once per process: each TEST builds its own bench and runs sc_start once;
// run them one per process (ctest does; by hand use --gtest_filter).
#include <gtest/gtest.h>

#include "tests/support/model_bench.h"

#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include <systemc>
#include <sysc/kernel/sc_spawn.h>

#include "models/net/eth.h"
#include "models/net/eth_switch.h"

using namespace sc_core;
using namespace iovsim::models::net;

using iovsim::testing::ns;
using iovsim::testing::master;
using iovsim::testing::strict_reports;

namespace {


struct recorder : eth_endpoint {
    std::vector<std::pair<frame_ptr, sc_time>> got;
    void frame_arrived(const frame_ptr& f) override { got.emplace_back(f, sc_time_stamp()); }
};

frame_ptr make_frame(uint8_t dst, uint8_t src, size_t len, bool fcs_ok = true)
{
    auto f = std::make_shared<eth_frame>();
    f->bytes.assign(len, 0);
    f->bytes[0] = 0x02;
    f->bytes[5] = dst;
    f->bytes[6] = 0x02;
    f->bytes[11] = src;
    f->bytes[12] = 0x88;
    f->bytes[13] = 0xB5;
    f->fcs_ok = fcs_ok;
    return f;
}
frame_ptr broadcast_frame(uint8_t src)
{
    auto f = std::make_shared<eth_frame>(*make_frame(0, src, 60));
    for (int i = 0; i < 6; ++i)
        f->bytes[i] = 0xFF;
    return f;
}

void run(std::function<void()> body)
{
    sc_spawn(std::move(body), "test_driver");
    sc_start();
}

TEST(net_link, serialization_and_propagation_exact)
{
    strict_reports();
    eth_link cable("cable", ns(50));
    recorder a, b;
    cable.connect(a, b);
    eth_tx_port tx_a(10.0, &cable, 0);
    eth_tx_port tx_b(10.0, &cable, 1);
    std::vector<sc_time> tapped;
    cable.set_tap([&](const frame_ptr&, const sc_time& t) { tapped.push_back(t); });
    run([&] {
        // 100 bytes: 8 preamble + 100 + 4 FCS + 12 gap = 124 bytes, 99.2 ns; the last bit leaves
        // before the gap, at 89.6 ns.
        EXPECT_EQ(tx_a.serialization(100), ns(99.2));
        EXPECT_EQ(tx_a.send(make_frame(2, 1, 100)), ns(99.2));
        // Queued behind the first: starts when the first one's gap ends.
        EXPECT_EQ(tx_a.send(make_frame(2, 1, 100)), ns(198.4));
        // Runts are padded on the wire: a 20-byte frame takes as long as a 60-byte one.
        EXPECT_EQ(tx_b.serialization(20), tx_b.serialization(60));
        tx_b.send(make_frame(1, 2, 20));
        wait(ns(1000));
        ASSERT_EQ(b.got.size(), 2u);
        EXPECT_EQ(b.got[0].second, ns(89.6 + 50));
        EXPECT_EQ(b.got[1].second, ns(99.2 + 89.6 + 50));
        ASSERT_EQ(a.got.size(), 1u);   // each side hears only the other
        EXPECT_EQ(a.got[0].second, ns((8 + 60 + 4) * 0.8 + 50));
        EXPECT_EQ(a.got[0].first->bytes.size(), 20u);   // padding is not in the bytes
        ASSERT_EQ(tapped.size(), 3u);
        EXPECT_EQ(tapped[0], ns(89.6));
        EXPECT_EQ(tx_a.frames(), 2u);
    });
}

TEST(net_link, unconnected_link_refuses_frames)
{
    strict_reports();
    eth_link cable("cable", ns(5));
    EXPECT_THROW(cable.carry(0, make_frame(1, 2, 60), SC_ZERO_TIME), std::logic_error);
}

struct switch_bench {
    static constexpr unsigned hosts = 3;
    eth_switch sw;
    std::vector<std::unique_ptr<eth_link>> cables;
    std::vector<std::unique_ptr<recorder>> host;
    std::vector<std::unique_ptr<eth_tx_port>> tx;

    explicit switch_bench(const switch_params& p) : sw("sw", p)
    {
        strict_reports();
        for (unsigned i = 0; i < hosts; ++i) {
            cables.push_back(std::make_unique<eth_link>(sc_gen_unique_name("cable"), ns(10)));
            host.push_back(std::make_unique<recorder>());
            cables[i]->connect(*host[i], sw.port(i));
            tx.push_back(std::make_unique<eth_tx_port>(10.0, cables[i].get(), 0));
            sw.attach(i, *cables[i], 1);
        }
    }
    static switch_params params(uint64_t buffer = 1 << 20)
    {
        switch_params p;
        p.ports = hosts;
        p.port_gbps = 10.0;
        p.forwarding_latency = ns(1000);
        p.port_buffer_bytes = buffer;
        return p;
    }
};

TEST(net_switch, floods_unknown_then_forwards_learned_with_exact_latency)
{
    switch_bench b(switch_bench::params());
    run([&] {
        // Host 0 to host 1, not yet learned: flooded to 1 and 2.
        b.tx[0]->send(make_frame(1, 0, 100));
        wait(ns(5000));
        ASSERT_EQ(b.host[1]->got.size(), 1u);
        ASSERT_EQ(b.host[2]->got.size(), 1u);
        EXPECT_TRUE(b.host[0]->got.empty());
        // Received whole at 89.6 + 10, forwarded 1 us later, serialized again, 10 ns of cable.
        EXPECT_EQ(b.host[1]->got[0].second, ns(89.6 + 10 + 1000 + 89.6 + 10));
        EXPECT_EQ(b.sw.flooded(), 1u);
        // Host 1 answers host 0, whose address the switch learned: only host 0 gets it.
        b.tx[1]->send(make_frame(0, 1, 100));
        wait(ns(5000));
        EXPECT_EQ(b.host[0]->got.size(), 1u);
        EXPECT_EQ(b.host[2]->got.size(), 1u);
        EXPECT_EQ(b.sw.flooded(), 1u);
        // Broadcast always floods.
        b.tx[2]->send(broadcast_frame(2));
        wait(ns(5000));
        EXPECT_EQ(b.host[0]->got.size(), 2u);
        EXPECT_EQ(b.host[1]->got.size(), 2u);
        EXPECT_EQ(b.host[2]->got.size(), 1u);
        EXPECT_EQ(b.sw.flooded(), 2u);
        // A frame to a host on the port it came from is not sent back.
        b.tx[0]->send(make_frame(0, 0, 100));
        wait(ns(5000));
        EXPECT_EQ(b.host[0]->got.size(), 2u);
    });
}

TEST(net_switch, bad_fcs_dropped_and_output_buffer_overflow_counted)
{
    // Room for about two 1000-byte frames queued at an output port.
    switch_bench b(switch_bench::params(2500));
    run([&] {
        b.tx[0]->send(make_frame(1, 0, 100, false));
        wait(ns(5000));
        EXPECT_EQ(b.sw.dropped(), 1u);
        EXPECT_TRUE(b.host[1]->got.empty());
        // Teach the switch where host 1 is.
        b.tx[1]->send(make_frame(0, 1, 60));
        wait(ns(5000));
        const uint64_t forwarded = b.sw.forwarded();
        // Hosts 0 and 2 each send 4 frames to host 1 at once: twice its port's rate.
        for (int i = 0; i < 4; ++i) {
            b.tx[0]->send(make_frame(1, 0, 1000));
            b.tx[2]->send(make_frame(1, 2, 1000));
        }
        wait(ns(50000));
        const uint64_t sent = b.sw.forwarded() - forwarded;
        EXPECT_GT(b.sw.dropped(), 1u);
        EXPECT_EQ(sent + b.sw.dropped() - 1, 8u);
        EXPECT_EQ(b.host[1]->got.size(), sent);
        // What got through left back to back at line rate.
        for (size_t i = 1; i < b.host[1]->got.size(); ++i)
            EXPECT_GE(b.host[1]->got[i].second - b.host[1]->got[i - 1].second, ns(wire_bytes(1000) * 0.8));
    });
}

} // namespace

// Faults on a cable: each frame lost, carried twice or held back with the given probabilities from
// the seeded stream; the counts add up, the held-back frames arrive behind later ones, and the same
// seed gives the same faults.
TEST(net_link, impairment_drops_duplicates_and_reorders_reproducibly)
{
    strict_reports();
    constexpr unsigned n = 2000;
    struct tagged : eth_endpoint {
        std::vector<std::pair<unsigned, sc_time>> got;   // (frame number, arrival)
        void frame_arrived(const frame_ptr& f) override { got.emplace_back(f->bytes[20] | f->bytes[21] << 8, sc_time_stamp()); }
    };
    eth_link cable("cable", ns(50)), again("again", ns(50));
    recorder a, a2;
    tagged b, b2;
    cable.connect(a, b);
    again.connect(a2, b2);
    link_impairment imp;
    imp.loss = 0.05;
    imp.duplicate = 0.03;
    imp.reorder = 0.04;
    imp.reorder_delay = ns(500);
    imp.seed = 42;
    cable.set_impairment(imp);
    again.set_impairment(imp);
    eth_tx_port tx(10.0, &cable, 0), tx2(10.0, &again, 0);
    run([&] {
        for (unsigned i = 0; i < n; ++i) {
            auto f = std::make_shared<eth_frame>(*make_frame(2, 1, 100));
            f->bytes[20] = static_cast<uint8_t>(i);
            f->bytes[21] = static_cast<uint8_t>(i >> 8);
            tx.send(f);
            tx2.send(f);
        }
        wait(ns(1'000'000));
    });
    const link_impairment_stats& st = cable.impairment_stats();
    EXPECT_EQ(b.got.size(), n - st.dropped + st.duplicated);
    // Near the probabilities (n = 2000: a few standard deviations).
    EXPECT_NEAR(static_cast<double>(st.dropped), 0.05 * n, 35);
    EXPECT_NEAR(static_cast<double>(st.duplicated), 0.03 * n * 0.95, 30);
    EXPECT_NEAR(static_cast<double>(st.reordered), 0.04 * n * 0.95, 30);
    unsigned behind = 0;   // arrivals with a lower number than one before them
    for (size_t i = 1; i < b.got.size(); ++i) {
        EXPECT_GE(b.got[i].second, b.got[i - 1].second);   // handed over in order of arrival
        behind += b.got[i].first < b.got[i - 1].first;
    }
    EXPECT_GT(behind, 0u);
    EXPECT_EQ(b.got, b2.got);   // same seed, same faults
    EXPECT_EQ(again.impairment_stats().dropped, st.dropped);
}
