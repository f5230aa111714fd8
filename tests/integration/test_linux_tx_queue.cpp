// The Linux-like driver's transmit queue when the core produces segments faster than the wire takes
// them (a 1 Gb/s line): the ring (32 descriptors here) fills, the driver stops the queue and the
// default qdisc holds what follows until transmit completions (an interrupt mapped only while the
// queue is stopped) free enough descriptors (ixgbe's stop/wake). Nothing is dropped, so TCP
// retransmits nothing and the stream arrives whole.
// On a 10 Gb/s line the client's ACKs come back while the server is still inside send() (its core
// takes the receive interrupts at charge boundaries): they must wait for the send to be done with
// the connection, else the server sends again data that was never lost. The same bulk transfer
// from Arrakis/P's library over its VNIC.
#include <cstdio>

#include <gtest/gtest.h>

#include "sim/experiment.h"
#include "tests/support/stream_hosts.h"

using namespace iovsim;
using namespace sc_core;
namespace net = os::net;

namespace {

constexpr uint16_t port = 7000;
constexpr size_t stream_bytes = 1 << 20;

uint8_t pattern(size_t i) { return static_cast<uint8_t>(i * 131 + (i >> 9)); }

struct outcome {
    bool done = false;
    size_t received = 0, bad = 0;
    double finished_us = 0;
    net::tcp_stats server, client;
};

// The server sends stream_bytes over one connection in 16 KiB send() calls; the client's native
// TCP reads and checks them.
outcome bulk_transfer(iovsim::testing::stream_hosts& h, sim::server_path path)
{
    outcome o;
    size_t sent = 0;
    h.spawn_server(path, [&](net::stream_api& api) {
        const int lfd = api.tcp_socket();
        api.tcp_bind(lfd, port);
        api.listen(lfd, 4);
        const int ep = api.epoll_create();
        api.epoll_ctl(ep, net::epoll_op::add, lfd, net::ep::in, 0);
        net::epoll_event ev[4];
        int fd = -EAGAIN;
        while (fd < 0) {
            api.epoll_wait(ep, ev, 4, -1);
            fd = api.accept(lfd, nullptr);
        }
        api.epoll_ctl(ep, net::epoll_op::add, fd, net::ep::out, 1);
        uint8_t chunk[16384];
        while (sent < stream_bytes) {
            const size_t n = std::min(sizeof chunk, stream_bytes - sent);
            for (size_t i = 0; i < n; ++i)
                chunk[i] = pattern(sent + i);
            const long r = api.send(fd, chunk, n);
            if (r > 0)
                sent += static_cast<size_t>(r);
            else if (r == -EAGAIN)
                api.epoll_wait(ep, ev, 4, -1);
            else
                break;
        }
        api.close(fd);
        for (;;)   // the kernel keeps serving interrupts in the server's context
            api.epoll_wait(ep, ev, 4, -1);
    });
    h.spawn_client([&](os::dataplane::dataplane& dp, net::tcp_layer& t) {
        const net::tcp_id conn = t.connect(h.server_ip, port);
        uint8_t buf[4096];
        while (o.received < stream_bytes) {
            const size_t n = t.recv(conn, buf, sizeof buf);
            for (size_t i = 0; i < n; ++i)
                o.bad += buf[i] != pattern(o.received + i);
            o.received += n;
            if (n == 0 && dp.poll() == 0)
                dp.wait_rx();
        }
        o.done = true;
        o.finished_us = sim::time_to_ns(h.client.core->local_time()) / 1e3;
        sc_stop();
    });
    sc_report_handler::set_actions("/OSCI/SystemC", SC_INFO, SC_DO_NOTHING);
    sc_start(sc_time(1, SC_SEC));
    o.server = path == sim::server_path::linux_kernel ? h.linux_k->tcp()->stats() : h.server_dp->tcp()->stats();
    o.client = h.client_dp->tcp()->stats();
    std::printf("%s: %zu bytes by %.1f us; server %llu segments out, %llu retransmits; client %llu duplicates\n",
                path == sim::server_path::linux_kernel ? "linux" : "arrakis_p", o.received, o.finished_us,
                static_cast<unsigned long long>(o.server.segments_out), static_cast<unsigned long long>(o.server.retransmits),
                static_cast<unsigned long long>(o.client.duplicates));
    return o;
}

cfg::config config_of(std::initializer_list<std::string> overrides)
{
    return sim::load_run_config(sim::source_dir() + "/configs/experiments/udp_echo_breakdown.yaml", overrides, std::nullopt);
}

} // namespace

TEST(linux_tx_queue, burst_beyond_the_ring_waits_in_the_qdisc)
{
    iovsim::testing::stream_hosts h(config_of({"experiment.pcap=false", "os.linux.tx_ring=32", "platform.nic.line_gbps=1"}));
    const outcome o = bulk_transfer(h, sim::server_path::linux_kernel);
    ASSERT_TRUE(o.done);
    EXPECT_EQ(o.received, stream_bytes);
    EXPECT_EQ(o.bad, 0u);
    const auto& ls = h.linux_k->stats();
    EXPECT_GT(ls.tx_queue_stops, 0u);
    EXPECT_GT(ls.tx_requeued, 0u);
    EXPECT_EQ(ls.tx_ring_full, 0u);
    EXPECT_EQ(ls.qdisc_drops, 0u);
    EXPECT_EQ(o.server.retransmits, 0u);
}

TEST(linux_tx_queue, acks_inside_send_calls_send_nothing_twice_at_10_gbps)
{
    iovsim::testing::stream_hosts h(config_of({"experiment.pcap=false", "os.linux.tx_ring=512"}));
    const outcome o = bulk_transfer(h, sim::server_path::linux_kernel);
    ASSERT_TRUE(o.done);
    EXPECT_EQ(o.received, stream_bytes);
    EXPECT_EQ(o.bad, 0u);
    EXPECT_EQ(h.linux_k->stats().tx_ring_full, 0u);
    EXPECT_EQ(h.linux_k->stats().qdisc_drops, 0u);
    EXPECT_EQ(o.server.retransmits, 0u);
    EXPECT_EQ(o.server.rto_expiries, 0u);
    EXPECT_EQ(o.client.duplicates, 0u);
    EXPECT_EQ(o.client.out_of_order, 0u);
}

TEST(linux_tx_queue, arrakis_p_bulk_transfer_sends_nothing_twice)
{
    iovsim::testing::stream_hosts h(config_of({"experiment.pcap=false"}));
    const outcome o = bulk_transfer(h, sim::server_path::arrakis_p);
    ASSERT_TRUE(o.done);
    EXPECT_EQ(o.received, stream_bytes);
    EXPECT_EQ(o.bad, 0u);
    EXPECT_EQ(o.server.retransmits, 0u);
    EXPECT_EQ(o.client.duplicates, 0u);
}
