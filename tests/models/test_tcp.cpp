// TCP between two hosts' stacks over an in-memory wire (tests/support/tcp_pair.h): handshake,
// bulk data both ways, teardown through TIME-WAIT; the same over a wire that drops, duplicates and
// reorders; refusal, simultaneous close, a closed window, and the abort after too many timeouts.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "os/net/tcp_options.h"
#include "tests/support/tcp_pair.h"

using namespace iovsim;
using namespace iovsim::os::net;
using iovsim::testing::tcp_pair;

namespace {

using iovsim::testing::pattern;

// One direction's application: writes `data` as the send buffer takes it, and the peer reads
// everything that arrives.
struct stream {
    tcp_layer* tx;
    tcp_id txc;
    tcp_layer* rx;
    tcp_id rxc;
    std::vector<uint8_t> data;
    size_t sent = 0;
    std::vector<uint8_t> got = {};
    bool reading = true;

    stream(tcp_layer* t, tcp_id tc, tcp_layer* r, tcp_id rc, std::vector<uint8_t> d)
        : tx(t), txc(tc), rx(r), rxc(rc), data(std::move(d))
    {
    }

    void pump()
    {
        while (sent < data.size()) {
            const size_t n = tx->send(txc, data.data() + sent, data.size() - sent);
            if (n == 0)
                break;
            sent += n;
        }
        if (!reading)
            return;
        uint8_t buf[4096];
        for (;;) {
            const size_t n = rx->recv(rxc, buf, sizeof buf);
            if (n == 0)
                break;
            got.insert(got.end(), buf, buf + n);
        }
    }
    bool done() const { return got.size() == data.size(); }
};

struct connected {
    tcp_pair& net;
    tcp_id listener = 0, client = 0, server = 0;

    explicit connected(tcp_pair& n) : net(n)
    {
        listener = net.tcp(1).listen(5000, 16);
        client = net.tcp(0).connect(net.ip(1), 5000);
        EXPECT_NE(client, 0u);
        EXPECT_TRUE(net.run_until([&] {
            if (!server)
                server = net.tcp(1).accept(listener);
            return server != 0 && net.tcp(0).state(client) == tcp_state::established;
        }, 1'000'000'000));
    }
};

// Both directions at once, then the client closes first and the server after it.
void transfer_and_close(tcp_pair& net, size_t bytes, uint64_t limit_ns)
{
    connected k(net);
    ASSERT_NE(k.server, 0u);
    stream up{&net.tcp(0), k.client, &net.tcp(1), k.server, pattern(bytes, 1)};
    stream down{&net.tcp(1), k.server, &net.tcp(0), k.client, pattern(bytes, 2)};
    ASSERT_TRUE(net.run_until([&] {
        up.pump();
        down.pump();
        return up.done() && down.done();
    }, limit_ns));
    EXPECT_TRUE(up.got == up.data);
    EXPECT_TRUE(down.got == down.data);

    net.tcp(0).close(k.client);
    ASSERT_TRUE(net.run_until([&] { return net.tcp(1).state(k.server) == tcp_state::close_wait; }, net.now + 10'000'000'000));
    EXPECT_TRUE(net.tcp(1).ready(k.server) & tcp_ready::rdhup);
    uint8_t b;
    EXPECT_EQ(net.tcp(1).recv(k.server, &b, 1), 0u);   // end of stream
    net.tcp(1).close(k.server);
    ASSERT_TRUE(net.run_until([&] { return net.tcp(0).state(k.client) == tcp_state::time_wait; }, net.now + 10'000'000'000));
    // The server's record went with its TCB (LAST-ACK acknowledged); the client's after 2 MSL.
    ASSERT_TRUE(net.run_until([&] { return net.tcp(1).connections() == 1; }, net.now + 10'000'000'000));   // the listener
    const uint64_t tw_start = net.now;
    ASSERT_TRUE(net.run_until([&] { return net.tcp(0).connections() == 0; }, net.now + 120'000'000'000));
    EXPECT_GE(net.now - tw_start, 60'000'000'000u - 10'000'000'000u);
    EXPECT_EQ(net.tcp(0).state(k.client), tcp_state::closed);
}

} // namespace

TEST(tcp, handshake_negotiates_mss_and_window_scale)
{
    tcp_params a, b;
    b.mss = 1000;
    b.wscale = 0;   // offers the option with shift 0
    tcp_pair net(a, b);
    connected k(net);
    ASSERT_NE(k.server, 0u);
    EXPECT_EQ(net.tcp(1).state(k.server), tcp_state::established);
    EXPECT_EQ(net.tcp(0).peer(k.client).port, 5000);
    EXPECT_EQ(net.tcp(1).peer(k.server).ip, net.ip(0));
    // The client sends at most the server's MSS: 1000-byte segments.
    size_t max_payload = 0;
    net.tap = [&](const std::vector<uint8_t>& f, uint64_t) {
        const size_t ihl = (f[14] & 0xF) * 4;
        const size_t tcp_off = 14 + ihl;
        const size_t total = (size_t(f[16]) << 8 | f[17]);
        const size_t thl = (f[tcp_off + 12] >> 4) * 4;
        max_payload = std::max(max_payload, total - ihl - thl);
    };
    stream up{&net.tcp(0), k.client, &net.tcp(1), k.server, pattern(100'000, 3)};
    ASSERT_TRUE(net.run_until([&] { up.pump(); return up.done(); }, 2'000'000'000));
    EXPECT_EQ(max_payload, 1000u);
    EXPECT_TRUE(up.got == up.data);
}

TEST(tcp, bulk_both_ways_then_close_through_time_wait)
{
    tcp_pair net{tcp_params{}};
    transfer_and_close(net, 1 << 20, 5'000'000'000);
    for (unsigned i = 0; i < 2; ++i) {
        const tcp_stats& st = net.tcp(i).stats();
        EXPECT_EQ(st.retransmits, 0u) << i;
        EXPECT_EQ(st.fast_retransmits, 0u) << i;
        EXPECT_EQ(st.rto_expiries, 0u) << i;
        EXPECT_EQ(st.out_of_order, 0u) << i;
        EXPECT_EQ(st.bytes_in, 1u << 20) << i;
        EXPECT_EQ(st.connections_opened, 1u) << i;
        EXPECT_EQ(st.connections_closed, 1u) << i;
    }
    EXPECT_EQ(net.s[0].pool->available(), 8192u);   // every buffer came back
    EXPECT_EQ(net.s[1].pool->available(), 8192u);
}

TEST(tcp, stream_survives_loss_duplication_and_reordering)
{
    tcp_pair net{tcp_params{}};
    net.loss = 0.02;
    net.dup = 0.01;
    net.reorder = 0.02;
    transfer_and_close(net, 1 << 20, 120'000'000'000);
    uint64_t rexmit = 0, fast = 0, ooo = 0, dups = 0;
    for (unsigned i = 0; i < 2; ++i) {
        const tcp_stats& st = net.tcp(i).stats();
        rexmit += st.retransmits;
        fast += st.fast_retransmits;
        ooo += st.out_of_order;
        dups += st.duplicates;
    }
    EXPECT_GT(net.dropped, 0u);
    EXPECT_GT(net.duplicated, 0u);
    EXPECT_GT(net.reordered, 0u);
    EXPECT_GT(rexmit, 0u);
    EXPECT_GT(fast, 0u);
    EXPECT_GT(ooo, 0u);
    EXPECT_GT(dups, 0u);
    EXPECT_EQ(net.s[0].pool->available(), 8192u);
    EXPECT_EQ(net.s[1].pool->available(), 8192u);
}

TEST(tcp, connect_to_a_closed_port_is_refused)
{
    tcp_pair net{tcp_params{}};
    const tcp_id c = net.tcp(0).connect(net.ip(1), 9);
    ASSERT_TRUE(net.run_until([&] { return net.tcp(0).ready(c) & tcp_ready::err; }, 1'000'000'000));
    EXPECT_EQ(net.tcp(0).ready(c) & (tcp_ready::err | tcp_ready::hup), tcp_ready::err | tcp_ready::hup);
    EXPECT_EQ(net.tcp(0).state(c), tcp_state::closed);
    EXPECT_EQ(net.tcp(1).stats().no_listener, 1u);
    EXPECT_EQ(net.tcp(1).stats().resets_out, 1u);
    EXPECT_EQ(net.tcp(0).stats().resets_in, 1u);
    net.tcp(0).close(c);
    EXPECT_EQ(net.tcp(0).connections(), 0u);
}

TEST(tcp, simultaneous_close_goes_through_closing_to_time_wait)
{
    tcp_pair net{tcp_params{}};
    connected k(net);
    ASSERT_NE(k.server, 0u);
    net.tcp(0).close(k.client);
    net.tcp(1).close(k.server);
    EXPECT_EQ(net.tcp(0).state(k.client), tcp_state::fin_wait_1);
    EXPECT_EQ(net.tcp(1).state(k.server), tcp_state::fin_wait_1);
    bool saw_closing = false;
    ASSERT_TRUE(net.run_until([&] {
        saw_closing = saw_closing || net.tcp(0).state(k.client) == tcp_state::closing;
        return net.tcp(0).state(k.client) == tcp_state::time_wait && net.tcp(1).state(k.server) == tcp_state::time_wait;
    }, 1'000'000'000));
    EXPECT_TRUE(saw_closing);
    ASSERT_TRUE(net.run_until([&] { return net.tcp(0).connections() == 0 && net.tcp(1).connections() == 1; },
                              net.now + 61'000'000'000));
}

TEST(tcp, closed_window_is_probed_and_reopened)
{
    tcp_params small;
    small.rcv_buf = 16 * 1024;
    tcp_pair net(tcp_params{}, small);
    connected k(net);
    ASSERT_NE(k.server, 0u);
    stream up{&net.tcp(0), k.client, &net.tcp(1), k.server, pattern(200'000, 4)};
    up.reading = false;
    // The receiver does not read: the window closes and the sender probes it.
    net.run_until([&] { up.pump(); return false; }, net.now + 3'000'000'000);
    // The buffer, and a little more: a kept offer is rounded up to whole scale units (never pulled
    // back), which lets the right edge creep by less than a unit per ACK.
    EXPECT_GE(net.tcp(1).readable_bytes(k.server), 16u * 1024);
    EXPECT_LE(net.tcp(1).readable_bytes(k.server), 17u * 1024);
    EXPECT_EQ(net.tcp(0).stats().retransmits, 0u);
    const uint64_t segs = net.tcp(0).stats().segments_out;
    EXPECT_GT(segs, 12u);   // data, then probes
    up.reading = true;
    ASSERT_TRUE(net.run_until([&] { up.pump(); return up.done(); }, net.now + 10'000'000'000));
    EXPECT_TRUE(up.got == up.data);
}

TEST(tcp, too_many_timeouts_abort_the_connection)
{
    tcp_params p;
    p.max_retransmits = 3;
    tcp_pair net(p, p);
    connected k(net);
    ASSERT_NE(k.server, 0u);
    net.loss = 1.0;   // the cable is cut
    const uint8_t d[100] = {};
    ASSERT_EQ(net.tcp(0).send(k.client, d, sizeof d), sizeof d);
    ASSERT_TRUE(net.run_until([&] { return net.tcp(0).ready(k.client) & tcp_ready::err; }, net.now + 60'000'000'000));
    EXPECT_EQ(net.tcp(0).stats().rto_expiries, 4u);
    EXPECT_EQ(net.tcp(0).state(k.client), tcp_state::closed);
}

TEST(tcp, many_connections_exchange_requests_and_close)
{
    tcp_pair net{tcp_params{}};
    const tcp_id listener = net.tcp(1).listen(6379, 512);
    constexpr unsigned n = 300;
    std::vector<tcp_id> clients, servers;
    for (unsigned i = 0; i < n; ++i)
        clients.push_back(net.tcp(0).connect(net.ip(1), 6379));
    ASSERT_TRUE(net.run_until([&] {
        for (tcp_id s; (s = net.tcp(1).accept(listener)) != 0;)
            servers.push_back(s);
        return servers.size() == n;
    }, 1'000'000'000));
    // Each client asks 100 bytes; the server answers each request with 1,000.
    const uint8_t ask[100] = {1};
    const std::vector<uint8_t> answer = pattern(1000, 9);
    for (tcp_id c : clients)
        ASSERT_EQ(net.tcp(0).send(c, ask, sizeof ask), sizeof ask);
    std::vector<size_t> got(n, 0);
    size_t answered = 0;
    ASSERT_TRUE(net.run_until([&] {
        uint8_t buf[2048];
        for (tcp_id s : servers)
            if (net.tcp(1).recv(s, buf, sizeof buf) == sizeof ask)
                answered += net.tcp(1).send(s, answer.data(), answer.size()) == answer.size();
        for (unsigned i = 0; i < n; ++i)
            got[i] += net.tcp(0).recv(clients[i], buf, sizeof buf);
        return std::all_of(got.begin(), got.end(), [](size_t g) { return g == 1000; });
    }, net.now + 1'000'000'000));
    EXPECT_EQ(answered, n);
    for (tcp_id c : clients)
        net.tcp(0).close(c);
    ASSERT_TRUE(net.run_until([&] {
        for (tcp_id s : servers)
            if (net.tcp(1).state(s) == tcp_state::close_wait)
                net.tcp(1).close(s);
        return net.tcp(1).connections() == 1 && net.tcp(0).connections() == 0;
    }, net.now + 70'000'000'000));
    EXPECT_EQ(net.tcp(0).stats().retransmits + net.tcp(1).stats().retransmits, 0u);
    EXPECT_EQ(net.s[0].pool->available(), 8192u);
    EXPECT_EQ(net.s[1].pool->available(), 8192u);
}

TEST(tcp, orphaned_fin_wait_2_is_given_up)
{
    tcp_pair net{tcp_params{}};
    connected k(net);
    ASSERT_NE(k.server, 0u);
    net.tcp(0).close(k.client);
    ASSERT_TRUE(net.run_until([&] { return net.tcp(0).state(k.client) == tcp_state::fin_wait_2; }, net.now + 1'000'000'000));
    // The server never closes its side.
    const uint64_t t0 = net.now;
    ASSERT_TRUE(net.run_until([&] { return net.tcp(0).connections() == 0; }, net.now + 120'000'000'000));
    EXPECT_GE(net.now - t0, tcp_params{}.time_wait_ns);
    EXPECT_EQ(net.tcp(1).state(k.server), tcp_state::close_wait);
}

TEST(tcp, malformed_segments_are_dropped_and_counted)
{
    tcp_pair net{tcp_params{}};
    connected k(net);
    ASSERT_NE(k.server, 0u);
    std::vector<uint8_t> seg;
    net.tap = [&](const std::vector<uint8_t>& f, uint64_t) {
        if (seg.empty() && f.size() > 54 + 50)
            seg = f;
    };
    const std::vector<uint8_t> data = pattern(100, 5);
    ASSERT_EQ(net.tcp(0).send(k.client, data.data(), data.size()), data.size());
    ASSERT_FALSE(seg.empty());
    auto inject = [&](std::vector<uint8_t> f) {
        os::net::pkt b;
        ASSERT_TRUE(net.s[1].pool->alloc(b));
        b.off = 0;
        std::memcpy(b.data, f.data(), f.size());
        b.len = static_cast<uint32_t>(f.size());
        net.s[1].stack->input(b);
    };
    std::vector<uint8_t> bad_sum = seg;
    bad_sum[14 + 20 + 20 + 7] ^= 0xFF;   // a payload byte: the checksum no longer matches
    inject(bad_sum);
    std::vector<uint8_t> bad_off = seg;
    bad_off[14 + 20 + 12] = 0x40;         // data offset 4 words: below the minimum
    inject(bad_off);
    const tcp_stats& st = net.tcp(1).stats();
    EXPECT_EQ(st.bad_segments, 2u);
    const auto& errs = net.s[1].stack->stats().errors;
    EXPECT_EQ(errs[static_cast<size_t>(wire::parse_error::bad_tcp_checksum)], 1u);
    EXPECT_EQ(errs[static_cast<size_t>(wire::parse_error::bad_tcp_offset)], 1u);
    EXPECT_EQ(net.tcp(1).readable_bytes(k.server), 0u);
    EXPECT_EQ(net.s[1].pool->available(), 8192u);   // both buffers released
    // The good copy still arrives.
    stream up{&net.tcp(0), k.client, &net.tcp(1), k.server, data};
    up.sent = data.size();
    ASSERT_TRUE(net.run_until([&] { up.pump(); return up.done(); }, net.now + 1'000'000'000));
    EXPECT_TRUE(up.got == data);
}

namespace {

// A segment from a peer that is not our TCP (hand-built, as another stack might send it), as
// host `to` of `net` receives it from the other host's addresses.
void inject_segment(tcp_pair& net, unsigned to, const wire::tcp_header& h, const std::vector<uint8_t>& payload)
{
    const unsigned from = 1 - to;
    os::net::pkt b;
    ASSERT_TRUE(net.s[to].pool->alloc(b));
    b.off = 0;
    uint8_t* f = b.data;
    const size_t tcp_len = h.header_length() + payload.size();
    std::memcpy(f + 34 + h.header_length(), payload.data(), payload.size());
    ASSERT_NE(wire::build_tcp(f + 34, 2048 - 34, h, payload.size(), net.s[from].ip, net.s[to].ip), 0u);
    wire::ipv4_header ip;
    ip.total_length = static_cast<uint16_t>(20 + tcp_len);
    ip.protocol = wire::ip_proto::tcp;
    ip.src = net.s[from].ip;
    ip.dst = net.s[to].ip;
    ASSERT_NE(wire::build_ipv4(f + 14, 2048 - 14, ip), 0u);
    wire::eth_header e;
    e.dst = net.s[to].mac;
    e.src = net.s[from].mac;
    wire::build_eth(f, 2048, e);
    b.len = static_cast<uint32_t>(34 + tcp_len);
    net.s[to].stack->input(b);
}

// A segment from port 1234 to port 80 with an 8 KiB window and no options.
wire::tcp_header peer_segment(uint8_t flags, uint32_t seq, uint32_t ack)
{
    return wire::tcp_header{1234, 80, seq, ack, flags, 8192};   // sport, dport, seq, ack, flags, window
}

struct seen_segment {
    wire::tcp_header h;
    size_t payload = 0;
};

} // namespace

// RFC 7323 section 2.2: scaling only when both SYNs carry the option; RFC 9293 section 3.7.1: a
// peer that sends no MSS gets 536-byte segments.
TEST(tcp, peer_without_options_gets_no_scaling_and_the_default_mss)
{
    tcp_pair net{tcp_params{}};
    const tcp_id listener = net.tcp(1).listen(80, 4);
    std::vector<seen_segment> out;   // what host 1 sends
    net.tap = [&](const std::vector<uint8_t>& f, uint64_t) {
        if (f.size() < 54 || f[29] != 2)   // from 10.0.0.2 only
            return;
        const size_t total = (size_t(f[16]) << 8) | f[17];
        auto t = wire::parse_tcp(f.data() + 34, total - 20, net.s[1].ip, net.s[0].ip);
        ASSERT_TRUE(t.ok());
        out.push_back({t.header(), t.payload_length()});
    };
    wire::tcp_header syn = peer_segment(wire::tcp_flag::syn, 1000, 0);
    inject_segment(net, 1, syn, {});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].h.flags, wire::tcp_flag::syn | wire::tcp_flag::ack);
    const tcp_syn_options o = parse_syn_options(out[0].h);
    EXPECT_EQ(o.mss, 1460);
    EXPECT_EQ(o.wscale, -1);   // not offered back
    EXPECT_EQ(out[0].h.window, 65535);
    const uint32_t iss = out[0].h.seq;

    const wire::tcp_header ack = peer_segment(wire::tcp_flag::ack, 1001, iss + 1);
    inject_segment(net, 1, ack, pattern(1000, 6));
    const tcp_id c = net.tcp(1).accept(listener);
    ASSERT_NE(c, 0u);
    EXPECT_EQ(net.tcp(1).readable_bytes(c), 1000u);
    // The server's answer: segments of at most 536 bytes, windows in plain bytes.
    const std::vector<uint8_t> answer = pattern(2000, 7);
    ASSERT_EQ(net.tcp(1).send(c, answer.data(), answer.size()), answer.size());
    size_t data_segments = 0, bytes = 0;
    for (size_t i = 1; i < out.size(); ++i) {
        EXPECT_LE(out[i].payload, 536u);
        EXPECT_EQ(out[i].h.ack, 2001u);
        EXPECT_EQ(out[i].h.window, 65535 - 1000);   // unscaled: 64535 bytes, not 64535 << 7
        data_segments += out[i].payload > 0;
        bytes += out[i].payload;
    }
    EXPECT_EQ(bytes, 2000u);
    EXPECT_EQ(data_segments, 4u);
}

// RFC 1122 section 4.2.3.2: every second full-sized segment is acknowledged at once; a lone
// segment waits for the delayed-ACK timer (40 ms) unless data going back carries the ACK.
TEST(tcp, acks_every_second_segment_else_after_the_delay)
{
    tcp_pair net{tcp_params{}};
    connected k(net);
    ASSERT_NE(k.server, 0u);
    const uint64_t acks_before = net.tcp(1).stats().segments_out;
    stream up{&net.tcp(0), k.client, &net.tcp(1), k.server, pattern(100 * 1460, 8)};
    ASSERT_TRUE(net.run_until([&] { up.pump(); return up.done() && net.tcp(0).stats().segments_out > 0 && net.wire.empty(); },
                              net.now + 1'000'000'000));
    // 100 full segments: 50 ACKs (and maybe a window update from the reads).
    const uint64_t acks = net.tcp(1).stats().segments_out - acks_before;
    EXPECT_GE(acks, 50u);
    EXPECT_LE(acks, 55u);
    net.run_until([&] { return false; }, net.now + 100'000'000);   // any ACK still delayed goes
    const uint64_t delayed = net.tcp(1).stats().delayed_acks;
    EXPECT_LE(delayed, 1u);

    // One small segment: no ACK until 40 ms later.
    const uint8_t one[10] = {};
    ASSERT_EQ(net.tcp(0).send(k.client, one, sizeof one), sizeof one);
    const uint64_t sent_at = net.now;
    const uint64_t out_before = net.tcp(1).stats().segments_out;
    ASSERT_TRUE(net.run_until([&] { return net.tcp(1).stats().segments_out > out_before; }, net.now + 1'000'000'000));
    EXPECT_EQ(net.tcp(1).stats().delayed_acks, delayed + 1);
    EXPECT_GE(net.now - sent_at, tcp_params{}.delayed_ack_ns);
    EXPECT_LT(net.now - sent_at, tcp_params{}.delayed_ack_ns + 100'000);

    // A small segment answered at once: the answer carries the ACK, no timer.
    uint8_t buf[64];
    ASSERT_EQ(net.tcp(1).recv(k.server, buf, sizeof buf), sizeof one);
    ASSERT_EQ(net.tcp(0).send(k.client, one, sizeof one), sizeof one);
    ASSERT_TRUE(net.run_until([&] { return net.tcp(1).readable_bytes(k.server) >= 10; }, net.now + 1'000'000'000));
    ASSERT_EQ(net.tcp(1).recv(k.server, buf, sizeof buf), sizeof one);
    ASSERT_EQ(net.tcp(1).send(k.server, one, sizeof one), sizeof one);
    net.run_until([&] { return false; }, net.now + 100'000'000);
    EXPECT_EQ(net.tcp(1).stats().delayed_acks, delayed + 1);
}

// A duplicate SYN is answered with an ACK; an in-window SYN in SYN-RECEIVED returns the embryonic
// connection to LISTEN (RFC 9293 section 3.10.7.4): it is gone, the listener remains and serves again.
TEST(tcp, syn_in_syn_received_drops_the_embryonic_connection)
{
    tcp_pair net{tcp_params{}};
    const tcp_id listener = net.tcp(1).listen(80, 1);
    std::vector<uint8_t> flags;
    net.tap = [&](const std::vector<uint8_t>& f, uint64_t) {
        if (f.size() >= 54 && f[29] == 2)
            flags.push_back(f[14 + 20 + 13]);
    };
    wire::tcp_header syn = peer_segment(wire::tcp_flag::syn, 5000, 0);
    inject_segment(net, 1, syn, {});
    ASSERT_EQ(net.tcp(1).connections(), 2u);
    inject_segment(net, 1, syn, {});   // the same SYN again: below RCV.NXT, an ACK answers it
    ASSERT_EQ(flags.size(), 2u);
    EXPECT_EQ(flags[0], wire::tcp_flag::syn | wire::tcp_flag::ack);
    EXPECT_EQ(flags[1], wire::tcp_flag::ack);
    EXPECT_EQ(net.tcp(1).connections(), 2u);
    syn.seq = 5001;                    // in the window
    inject_segment(net, 1, syn, {});
    EXPECT_EQ(net.tcp(1).connections(), 1u);
    EXPECT_EQ(net.tcp(1).accept(listener), 0u);
    // The backlog slot is free again: a real connection completes.
    const tcp_id c = net.tcp(0).connect(net.ip(1), 80);
    tcp_id s = 0;
    ASSERT_TRUE(net.run_until([&] { return (s = net.tcp(1).accept(listener)) != 0; }, net.now + 1'000'000'000));
    EXPECT_EQ(net.tcp(0).state(c), tcp_state::established);
}

// Accounting: a segment that reaches no user (handshake, pure ACK) folds into the core's carry; a
// read that returns the bytes of several segments carries all their work in the last one's request.
TEST(tcp, requests_of_segments_read_together_are_merged)
{
    static const os::primitive rx{220, 0, 0};   // 100 ns at 2.2 GHz
    tcp_costs tc;
    tc.rx_segment = &rx;
    tc.ack = &rx;
    tcp_pair net(tcp_params{}, tcp_params{}, tc);
    connected k(net);
    ASSERT_NE(k.server, 0u);
    const os::accounting& acct = net.s[1].acct;
    const uint64_t folded = acct.folded();
    EXPECT_EQ(folded, 2u);   // the SYN and the handshake's ACK
    const std::vector<uint8_t> data = pattern(3000, 10);   // three segments: 1460, 1460, 80
    ASSERT_EQ(net.tcp(0).send(k.client, data.data(), data.size()), data.size());
    ASSERT_TRUE(net.run_until([&] { return net.tcp(1).readable_bytes(k.server) == data.size(); }, net.now + 1'000'000'000));
    std::vector<uint8_t> buf(4096);
    ASSERT_EQ(net.tcp(1).recv(k.server, buf.data(), buf.size()), data.size());
    const os::request_id last = net.tcp(1).last_request(k.server);
    ASSERT_NE(last, os::no_request);
    const auto in = static_cast<unsigned>(os::category::net_stack_in);
    // Three data segments, plus the SYN and the handshake's ACK carried into the first of them.
    EXPECT_NEAR(acct.of(last)[in], 500.0, 1e-6);
    EXPECT_EQ(acct.folded(), folded + 2);
    double others = 0;
    for (os::request_id r = 1; r <= acct.requests(); ++r)
        others += r == last ? 0 : acct.of(r)[in];
    EXPECT_NEAR(others, 0.0, 1e-6);
}

// Many fault patterns (loss up to 20%, duplication, reordering; small and large buffers and MSS):
// every stream arrives intact, both ends close, no buffer leaks. Seeds 33, 97 and 102 once ended
// in two ends trading ACKs forever (a pure ACK at a pulled-back SND.NXT; a window shrunk by its
// rounding).
TEST(tcp, fault_patterns_never_stall_the_stream)
{
    std::vector<unsigned> seeds = {33, 97, 102, 174};
    for (unsigned s = 1; s <= 40; ++s)
        seeds.push_back(s * 37);
    for (unsigned seed : seeds) {
        tcp_params p;
        p.rcv_buf = seed % 3 == 0 ? 8192 : 262144;
        if (seed % 2 == 0)
            p.mss = 536;
        tcp_pair net(p, p);
        net.rng.seed(seed);
        net.loss = 0.02 * (seed % 11);
        net.dup = 0.01 * (seed % 5);
        net.reorder = 0.01 * (seed % 4);
        net.tx_cost_ns = seed % 3 == 1 ? 1000 : 0;   // a third with segments and timers arriving inside calls
        const tcp_id l = net.tcp(1).listen(80, 4);
        const tcp_id c = net.tcp(0).connect(net.ip(1), 80);
        tcp_id sv = 0;
        ASSERT_TRUE(net.run_until([&] { return (sv = sv ? sv : net.tcp(1).accept(l)) != 0; }, 100'000'000'000)) << seed;
        stream up{&net.tcp(0), c, &net.tcp(1), sv, pattern(60'000, seed)};
        stream down{&net.tcp(1), sv, &net.tcp(0), c, pattern(40'000, seed + 1)};
        ASSERT_TRUE(net.run_until([&] {
            up.pump();
            down.pump();
            return up.done() && down.done();
        }, 2'000'000'000'000)) << seed;
        EXPECT_TRUE(up.got == up.data) << seed;
        EXPECT_TRUE(down.got == down.data) << seed;
        net.tcp(0).close(c);
        EXPECT_TRUE(net.run_until([&] {
            if (net.tcp(1).ready(sv) & tcp_ready::rdhup)
                net.tcp(1).close(sv);
            return net.tcp(0).connections() == 0 && net.tcp(1).connections() == 1;
        }, net.now + 1'000'000'000'000)) << seed;
        EXPECT_EQ(net.s[0].pool->available(), 8192u) << seed;
        EXPECT_EQ(net.s[1].pool->available(), 8192u) << seed;
    }
}

// Segments that arrive while the sender's own code runs (a core takes interrupts at its charge
// boundaries, so ACKs come in inside send()) wait until that code is done with the connection,
// as Linux's socket backlog does: taken at once they would find SND.NXT not yet advanced past the
// segment being sent, and the sender would send data again that was never lost.
TEST(tcp, acks_arriving_inside_a_send_call_send_nothing_twice)
{
    tcp_pair net{tcp_params{}};
    net.tx_cost_ns = 1000;   // each segment sent takes 1 us of the sender's core: ACKs come in meanwhile
    connected k(net);
    ASSERT_NE(k.server, 0u);
    const std::vector<uint8_t> data = pattern(1 << 20, 5);
    std::vector<uint8_t> got;
    size_t sent = 0;
    ASSERT_TRUE(net.run_until([&] {
        while (sent < data.size()) {
            const size_t n = net.tcp(1).send(k.server, data.data() + sent, std::min<size_t>(16384, data.size() - sent));
            if (n == 0)
                break;
            sent += n;
        }
        uint8_t buf[4096];
        for (size_t n; (n = net.tcp(0).recv(k.client, buf, sizeof buf)) > 0;)
            got.insert(got.end(), buf, buf + n);
        return got.size() == data.size();
    }, net.now + 1'000'000'000));
    EXPECT_TRUE(got == data);
    EXPECT_GT(net.nested_inputs, 0u);   // the pattern happened
    EXPECT_EQ(net.tcp(1).stats().retransmits, 0u);
    EXPECT_EQ(net.tcp(1).stats().rto_expiries, 0u);
    EXPECT_EQ(net.tcp(0).stats().duplicates, 0u);
    EXPECT_EQ(net.tcp(1).stats().segments_out, net.tcp(0).stats().segments_in);
}

// The same with a wire that drops, duplicates and reorders: recovery (fast retransmit, timeouts,
// out-of-order queueing) runs with segments and timers waiting for the code that holds the
// connection, and the stream still arrives whole in both directions.
TEST(tcp, stream_survives_faults_with_acks_arriving_inside_calls)
{
    tcp_pair net{tcp_params{}};
    net.tx_cost_ns = 1000;
    net.loss = 0.02;
    net.dup = 0.01;
    net.reorder = 0.02;
    transfer_and_close(net, 256 << 10, 120'000'000'000);
    EXPECT_GT(net.nested_inputs, 0u);
    EXPECT_GT(net.dropped, 0u);
    EXPECT_GT(net.tcp(0).stats().retransmits + net.tcp(1).stats().retransmits, 0u);
    EXPECT_EQ(net.s[0].pool->available(), 8192u);
    EXPECT_EQ(net.s[1].pool->available(), 8192u);
}

// A stack without checksum offload (the Arrakis library's, lwIP-like) sums every segment it sends
// and receives; a received segment's bytes past the headers' line are touched there, from DRAM,
// rather than by the copy that later takes them out.
TEST(tcp, software_checksum_sums_each_segment_and_touches_the_received_payload)
{
    tcp_costs tc;
    tc.software_checksum = true;
    tcp_pair net{tcp_params{}, tcp_params{}, tc};
    connected k(net);
    ASSERT_NE(k.server, 0u);
    net.costs.freq_ghz = 1.0;   // cycles read as ns; every primitive of the pair costs nothing
    net.costs.csum_byte_cycles = 0.25;
    net.costs.dram_stream_line_ns = 20;
    const std::vector<uint8_t> data = pattern(1000, 3);
    os::cpu_core& tx = *net.s[0].core;
    os::cpu_core& rx = *net.s[1].core;
    const sc_core::sc_time tx0 = tx.local_time();
    ASSERT_EQ(net.tcp(0).send(k.client, data.data(), data.size()), data.size());
    EXPECT_EQ(tx.local_time() - tx0, sc_core::sc_time(0.25 * (20 + 1000), sc_core::SC_NS));   // header + data summed
    const sc_core::sc_time rx0 = rx.local_time();
    const uint64_t rx_out0 = net.tcp(1).stats().segments_out;
    ASSERT_TRUE(net.step());   // the segment arrives
    ASSERT_EQ(net.tcp(1).stats().bytes_in, 1000u);
    // The frame sits at the buffer's start, the segment 34 bytes in: 17 lines, the first the
    // driver's. Any ACK sent at once is a 20-byte header summed.
    const double acks = static_cast<double>(net.tcp(1).stats().segments_out - rx_out0);
    EXPECT_EQ(rx.local_time() - rx0, sc_core::sc_time(16 * 20 + 0.25 * 1020 + 0.25 * 20 * acks, sc_core::SC_NS));
}

// Linux's delayed-ACK engine (tcp_params::adaptive_ack, the Linux-like kernel's): quick ACKs for
// the first data; a reply within the ACK timeout makes the connection interactive, whose ACKs wait
// to ride on replies; a delayed ACK that has to fire ends that; data after a gap longer than the
// RTO is acknowledged at once again.
TEST(tcp, linux_ack_engine_quick_acks_ping_pong_and_gaps)
{
    tcp_params server;
    server.adaptive_ack = true;
    tcp_pair net{tcp_params{}, server};
    connected k(net);
    ASSERT_NE(k.server, 0u);
    const uint8_t req[10] = {};
    uint8_t buf[64];
    // Sends a request and returns how long the server took to send its next segment.
    auto request_then_first_reply_segment = [&](bool answer) {
        const uint64_t out_before = net.tcp(1).stats().segments_out;
        EXPECT_EQ(net.tcp(0).send(k.client, req, sizeof req), sizeof req);
        const uint64_t sent_at = net.now;
        EXPECT_TRUE(net.run_until([&] { return net.tcp(1).readable_bytes(k.server) >= sizeof req; }, net.now + 1'000'000'000));
        EXPECT_EQ(net.tcp(1).recv(k.server, buf, sizeof buf), static_cast<long>(sizeof req));
        if (answer) {
            EXPECT_EQ(net.tcp(1).send(k.server, req, sizeof req), sizeof req);
        }
        EXPECT_TRUE(net.run_until([&] { return net.tcp(1).stats().segments_out > out_before; }, net.now + 1'000'000'000));
        return net.now - sent_at;
    };
    const uint64_t delack = server.delayed_ack_ns;
    // The first request: a quick ACK, before the server has read it.
    EXPECT_LT(request_then_first_reply_segment(false), 100'000u);
    EXPECT_EQ(net.tcp(1).stats().delayed_acks, 0u);
    // Answered at once: the answer carries the ACK, and the connection turns interactive.
    EXPECT_LT(request_then_first_reply_segment(true), 100'000u);
    const uint64_t replies_before = net.tcp(1).stats().segments_out;
    EXPECT_LT(request_then_first_reply_segment(true), 100'000u);
    EXPECT_EQ(net.tcp(1).stats().segments_out, replies_before + 1);   // one segment: reply and ACK
    EXPECT_EQ(net.tcp(1).stats().delayed_acks, 0u);
    // Interactive and unanswered: the ACK waits for the timer, which ends interactive mode.
    const uint64_t waited = request_then_first_reply_segment(false);
    EXPECT_GE(waited, delack);
    EXPECT_LT(waited, delack + 1'000'000);
    EXPECT_EQ(net.tcp(1).stats().delayed_acks, 1u);
    // After a pause longer than the RTO (200 ms at least), data is acknowledged at once.
    net.run_until([&] { return false; }, net.now + 300'000'000);
    EXPECT_LT(request_then_first_reply_segment(false), 100'000u);
    EXPECT_EQ(net.tcp(1).stats().delayed_acks, 1u);
}
