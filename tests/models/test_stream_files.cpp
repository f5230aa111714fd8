// The socket layer's descriptor table over a real TCP (os/net/stream_files.h): each call's errno,
// descriptor numbering, the epoll callbacks a readiness change runs, and what close does to the
// connection (a FIN, or a RST with unread data). Two stacks on an in-memory wire, no core running.
#include <gtest/gtest.h>

#include "os/net/stream_files.h"
#include "tests/support/tcp_pair.h"

using namespace iovsim;
using namespace iovsim::os::net;

namespace {

constexpr uint16_t port = 6379;

struct bench {
    iovsim::testing::tcp_pair w{tcp_params{}};
    stream_files files;   // on side 1, the server
    std::vector<std::pair<int, bool>> callbacks;
    bench()
    {
        files.attach(w.tcp(1));
        files.set_callback([this](int epfd, bool queued) { callbacks.emplace_back(epfd, queued); });
    }
    // A listener on `port` and one connection from side 0, accepted: (listener fd, connection fd, peer's id).
    std::tuple<int, int, tcp_id> connected()
    {
        const int l = files.socket();
        EXPECT_EQ(files.bind(l, port), 0);
        EXPECT_EQ(files.listen(l, 8), 0);
        const tcp_id peer = w.tcp(0).connect(w.ip(1), port);
        w.run_until([&] { return w.tcp(0).state(peer) == tcp_state::established && (files.poll(l) & ep::in); }, 10'000'000);
        sock_addr from;
        const int c = files.accept(l, &from);
        EXPECT_GE(c, 0);
        EXPECT_TRUE(from.ip == w.ip(0));
        return {l, c, peer};
    }
};

} // namespace

TEST(stream_files, no_tcp_no_stream_socket)
{
    stream_files f;
    EXPECT_EQ(f.socket(), -EAFNOSUPPORT);
    EXPECT_EQ(f.reserve(), 0);   // other kinds of descriptor still get numbers
}

TEST(stream_files, errno_of_each_misuse)
{
    bench b;
    stream_files& f = b.files;
    EXPECT_EQ(f.bind(7, port), -EBADF);
    const int s = f.socket();
    const int t = f.socket();
    EXPECT_EQ(f.listen(s, 4), -EINVAL) << "not bound";
    EXPECT_EQ(f.bind(s, port), 0);
    EXPECT_EQ(f.bind(s, port + 1), -EINVAL) << "bound already";
    EXPECT_EQ(f.bind(t, port), -EADDRINUSE);
    EXPECT_EQ(f.accept(s, nullptr), -EINVAL) << "not listening";
    EXPECT_EQ(f.recv(s, nullptr, 0), -ENOTCONN);
    EXPECT_EQ(f.send(s, nullptr, 0), -ENOTCONN);
    EXPECT_EQ(f.listen(s, 4), 0);
    EXPECT_EQ(f.accept(s, nullptr), -EAGAIN);
    EXPECT_EQ(f.connect(s, sock_addr{b.w.ip(0), 80}), -EINVAL) << "a listener does not connect";
    const int ep = f.epoll_create();
    const int udp = f.reserve();
    EXPECT_EQ(f.epoll_ctl(ep, epoll_op::add, udp, ep::in, 0), -EPERM);
    EXPECT_EQ(f.epoll_ctl(ep, epoll_op::add, ep, ep::in, 0), -EINVAL);
    EXPECT_EQ(f.epoll_ctl(s, epoll_op::add, t, ep::in, 0), -EINVAL) << "not an epoll descriptor";
    EXPECT_EQ(f.epoll_ctl(ep, epoll_op::add, 99, ep::in, 0), -EBADF);
    EXPECT_EQ(f.epoll_ctl(ep, epoll_op::mod, s, ep::in, 0), -ENOENT);
    epoll_event ev[1];
    const auto none = [](int) {};
    EXPECT_EQ(f.harvest(s, ev, 1, none), -EINVAL);
    EXPECT_EQ(f.harvest(ep, ev, 0, none), -EINVAL);
    EXPECT_EQ(f.close(99), -EBADF);
}

TEST(stream_files, lowest_free_descriptor_is_reused)
{
    bench b;
    const int a = b.files.socket(), c = b.files.socket(), d = b.files.epoll_create();
    EXPECT_EQ(a, 0);
    EXPECT_EQ(c, 1);
    EXPECT_EQ(d, 2);
    EXPECT_EQ(b.files.close(c), 0);
    EXPECT_EQ(b.files.socket(), 1);
    EXPECT_EQ(b.files.open_files(), 3u);
}

TEST(stream_files, connect_reports_in_progress_then_writable)
{
    bench b;
    const tcp_id l = b.w.tcp(0).listen(80, 4);
    ASSERT_NE(l, 0u);
    const int s = b.files.socket();
    EXPECT_EQ(b.files.connect(s, sock_addr{b.w.ip(0), 80}), -EINPROGRESS);
    EXPECT_EQ(b.files.connect(s, sock_addr{b.w.ip(0), 80}), -EISCONN);
    EXPECT_EQ(b.files.send(s, reinterpret_cast<const uint8_t*>("x"), 1), -EAGAIN) << "not established yet";
    b.w.run_until([&] { return (b.files.poll(s) & ep::out) != 0; }, 10'000'000);
    EXPECT_NE(b.files.poll(s) & ep::out, 0u);
    EXPECT_EQ(b.files.send(s, reinterpret_cast<const uint8_t*>("x"), 1), 1);
}

TEST(stream_files, refused_connect_reports_error_and_hangup)
{
    bench b;
    const int s = b.files.socket();
    EXPECT_EQ(b.files.connect(s, sock_addr{b.w.ip(0), 81}), -EINPROGRESS);   // nobody listens there
    b.w.run_until([&] { return (b.files.poll(s) & ep::err) != 0; }, 10'000'000);
    EXPECT_EQ(b.files.poll(s) & (ep::err | ep::hup), ep::err | ep::hup);
    uint8_t buf[4];
    EXPECT_EQ(b.files.recv(s, buf, sizeof buf), -ECONNRESET);
}

TEST(stream_files, readiness_change_runs_the_watching_epolls_callback)
{
    bench b;
    auto [l, c, peer] = b.connected();
    const int ep1 = b.files.epoll_create(), ep2 = b.files.epoll_create();
    ASSERT_EQ(b.files.epoll_ctl(ep1, epoll_op::add, c, ep::in, 1), 0);
    ASSERT_EQ(b.files.epoll_ctl(ep2, epoll_op::add, c, ep::out, 2), 0);   // writable already: queued at once
    EXPECT_TRUE(b.files.epoll(ep2)->queued(c));
    b.callbacks.clear();
    b.w.tcp(0).send(peer, reinterpret_cast<const uint8_t*>("hello"), 5);
    b.w.run_until([&] { return (b.files.poll(c) & ep::in) != 0; }, 10'000'000);
    // ep1 asked for input: its callback ran and queued the socket; ep2's was already queued.
    ASSERT_FALSE(b.callbacks.empty());
    EXPECT_EQ(b.callbacks.front(), std::make_pair(ep1, true));
    EXPECT_TRUE(b.files.epoll(ep1)->queued(c));
    uint8_t buf[16];
    EXPECT_EQ(b.files.recv(c, buf, sizeof buf), 5);
    EXPECT_EQ(b.files.recv(c, buf, sizeof buf), -EAGAIN);
    // Closing the socket takes it off both instances.
    EXPECT_EQ(b.files.close(c), 0);
    EXPECT_FALSE(b.files.epoll(ep1)->registered(c));
    EXPECT_FALSE(b.files.epoll(ep2)->registered(c));
    (void)l;
}

TEST(stream_files, close_sends_fin_or_with_unread_data_a_reset)
{
    bench b;
    auto [l, c, peer] = b.connected();
    EXPECT_EQ(b.files.close(c), 0);
    b.w.run_until([&] { return (b.w.tcp(0).ready(peer) & tcp_ready::rdhup) != 0; }, 10'000'000);
    uint8_t buf[8];
    EXPECT_EQ(b.w.tcp(0).recv(peer, buf, sizeof buf), 0u);
    EXPECT_EQ(b.w.tcp(0).ready(peer) & tcp_ready::err, 0u) << "an orderly close";

    // A second connection with data the server never reads: closing it resets the peer.
    const tcp_id peer2 = b.w.tcp(0).connect(b.w.ip(1), port);
    b.w.run_until([&] { return (b.files.poll(l) & ep::in) != 0; }, 10'000'000);
    const int c2 = b.files.accept(l, nullptr);
    ASSERT_GE(c2, 0);
    b.w.tcp(0).send(peer2, reinterpret_cast<const uint8_t*>("unread"), 6);
    b.w.run_until([&] { return (b.files.poll(c2) & ep::in) != 0; }, 10'000'000);
    const uint64_t resets = b.w.tcp(1).stats().resets_out;
    EXPECT_EQ(b.files.close(c2), 0);
    EXPECT_EQ(b.w.tcp(1).stats().resets_out, resets + 1);
    b.w.run_until([&] { return (b.w.tcp(0).ready(peer2) & tcp_ready::err) != 0; }, 10'000'000);
    EXPECT_NE(b.w.tcp(0).ready(peer2) & tcp_ready::err, 0u);
}

TEST(stream_files, peer_reset_is_econnreset_then_the_socket_reports_error)
{
    bench b;
    auto [l, c, peer] = b.connected();
    const int ep = b.files.epoll_create();
    b.files.epoll_ctl(ep, epoll_op::add, c, ep::in, 7);
    b.w.tcp(0).abort(peer);
    b.w.run_until([&] { return (b.files.poll(c) & ep::err) != 0; }, 10'000'000);
    epoll_event ev[2];
    unsigned polled = 0;
    ASSERT_EQ(b.files.harvest(ep, ev, 2, [&](int) { ++polled; }), 1);
    EXPECT_EQ(polled, 1u);
    EXPECT_NE(ev[0].events & ep::err, 0u);
    uint8_t buf[4];
    EXPECT_EQ(b.files.recv(c, buf, sizeof buf), -ECONNRESET);
    EXPECT_EQ(b.files.send(c, buf, sizeof buf), -ECONNRESET);
    (void)l;
}

TEST(stream_files, full_send_buffer_is_eagain_until_the_peer_reads_then_writable_is_reported)
{
    bench b;
    auto [l, c, peer] = b.connected();
    const int ep = b.files.epoll_create();
    const std::vector<uint8_t> chunk(64 * 1024, 'x');
    // The peer reads nothing: the server's send buffer and the peer's window fill.
    uint64_t sent = 0;
    long r = 0;
    for (int i = 0; i < 200 && (r = b.files.send(c, chunk.data(), chunk.size())) > 0; ++i) {
        sent += static_cast<uint64_t>(r);
        b.w.run_until([] { return false; }, b.w.now + 200'000);
    }
    ASSERT_EQ(r, -EAGAIN);
    EXPECT_EQ(b.files.poll(c) & ep::out, 0u);
    ASSERT_EQ(b.files.epoll_ctl(ep, epoll_op::add, c, ep::out, 5), 0);
    EXPECT_FALSE(b.files.epoll(ep)->has_queued());
    b.callbacks.clear();
    // The peer drains: the window opens, the send buffer empties, EPOLLOUT comes back.
    std::vector<uint8_t> buf(64 * 1024);
    uint64_t got = 0;
    b.w.run_until([&] {
        for (size_t n; (n = b.w.tcp(0).recv(peer, buf.data(), buf.size())) > 0;)
            got += n;
        return (b.files.poll(c) & ep::out) != 0;
    }, b.w.now + 1'000'000'000);
    EXPECT_NE(b.files.poll(c) & ep::out, 0u);
    EXPECT_FALSE(b.callbacks.empty());
    EXPECT_TRUE(b.files.epoll(ep)->queued(c));
    EXPECT_GT(got, 0u);
    EXPECT_GT(sent, chunk.size());
    (void)l;
}
