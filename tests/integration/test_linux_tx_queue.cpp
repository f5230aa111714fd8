// The Linux-like driver's transmit queue when the core produces segments faster than the wire takes
// them (a 1 Gb/s line): the ring (32 descriptors here) fills, the driver stops the queue and the
// default qdisc holds what follows until transmit completions (an interrupt mapped only while the
// queue is stopped) free enough descriptors (ixgbe's stop/wake). Nothing is dropped, so TCP
// retransmits nothing and the stream arrives whole.
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

} // namespace

TEST(linux_tx_queue, burst_beyond_the_ring_waits_in_the_qdisc)
{
    const cfg::config c = sim::load_run_config(sim::source_dir() + "/configs/experiments/udp_echo_breakdown.yaml",
                                               {"experiment.pcap=false", "os.linux.tx_ring=32", "platform.nic.line_gbps=1"}, std::nullopt);
    iovsim::testing::stream_hosts h(c);
    size_t sent = 0, received = 0, bad = 0;
    bool done = false;
    h.spawn_server(sim::server_path::linux_kernel, [&](net::stream_api& api) {
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
        while (received < stream_bytes) {
            const size_t n = t.recv(conn, buf, sizeof buf);
            for (size_t i = 0; i < n; ++i)
                bad += buf[i] != pattern(received + i);
            received += n;
            if (n == 0 && dp.poll() == 0)
                dp.wait_rx();
        }
        done = true;
        sc_stop();
    });
    sc_report_handler::set_actions("/OSCI/SystemC", SC_INFO, SC_DO_NOTHING);
    sc_start(sc_time(1, SC_SEC));
    ASSERT_TRUE(done);
    EXPECT_EQ(received, stream_bytes);
    EXPECT_EQ(bad, 0u);
    const auto& ls = h.linux_k->stats();
    EXPECT_GT(ls.tx_queue_stops, 0u);
    EXPECT_GT(ls.tx_requeued, 0u);
    EXPECT_EQ(ls.tx_ring_full, 0u);
    EXPECT_EQ(ls.qdisc_drops, 0u);
    EXPECT_EQ(h.linux_k->tcp()->stats().retransmits, 0u);
}
