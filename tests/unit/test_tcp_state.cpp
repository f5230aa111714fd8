// The TCP connection state machine (RFC 9293 section 3.3.2 and the event processing of section
// 3.10): every transition of Figure 5, simultaneous open and close, RST in each state, and
// illegal events rejected with the state unchanged and a reason.
#include <gtest/gtest.h>

#include <vector>

#include "os/net/tcp_state.h"

using namespace iovsim::os::net;
using namespace iovsim::os::net::tcp_action;

namespace {

tcp_segment_in seg_syn() { tcp_segment_in s; s.syn = true; return s; }
tcp_segment_in seg_syn_ack() { tcp_segment_in s; s.syn = true; s.ack = true; return s; }
tcp_segment_in seg_ack(bool fin_acked = false) { tcp_segment_in s; s.ack = true; s.fin_acked = fin_acked; return s; }
tcp_segment_in seg_fin_ack(bool fin_acked = false) { tcp_segment_in s = seg_ack(fin_acked); s.fin = true; return s; }
tcp_segment_in seg_rst(bool ack = false) { tcp_segment_in s; s.rst = true; s.ack = ack; return s; }

const std::vector<tcp_state> all_states = {
    tcp_state::closed,     tcp_state::listen,     tcp_state::syn_sent, tcp_state::syn_received,
    tcp_state::established, tcp_state::fin_wait_1, tcp_state::fin_wait_2, tcp_state::close_wait,
    tcp_state::closing,    tcp_state::last_ack,   tcp_state::time_wait,
};

void expect_ok(const tcp_transition& t, tcp_state to, uint32_t actions)
{
    EXPECT_TRUE(t.accepted) << t.reason;
    EXPECT_EQ(t.to, to) << to_string(t.to) << " != " << to_string(to);
    EXPECT_EQ(t.actions, actions) << to_string(t.from) << " -> " << to_string(t.to);
    EXPECT_TRUE(t.reason.empty());
}

void expect_rejected(const tcp_state_machine& m, const tcp_transition& t, tcp_state s, uint32_t actions = 0)
{
    EXPECT_FALSE(t.accepted) << to_string(s);
    EXPECT_EQ(t.from, s);
    EXPECT_EQ(t.to, s);
    EXPECT_EQ(m.state(), s);
    EXPECT_EQ(t.actions, actions) << to_string(s) << ": " << t.reason;
    EXPECT_FALSE(t.reason.empty());
}

// Drives a fresh machine into state s along the usual path (passive for SYN-RECEIVED unless
// active is set, which reaches it by simultaneous open).
tcp_state_machine reach(tcp_state s, bool active = false)
{
    tcp_state_machine m;
    auto established = [&] {
        m.on_user(tcp_user_call::active_open);
        m.on_segment(seg_syn_ack());
    };
    switch (s) {
    case tcp_state::closed: break;
    case tcp_state::listen: m.on_user(tcp_user_call::passive_open); break;
    case tcp_state::syn_sent: m.on_user(tcp_user_call::active_open); break;
    case tcp_state::syn_received:
        m.on_user(active ? tcp_user_call::active_open : tcp_user_call::passive_open);
        m.on_segment(seg_syn());
        break;
    case tcp_state::established: established(); break;
    case tcp_state::fin_wait_1: established(); m.on_user(tcp_user_call::close); break;
    case tcp_state::fin_wait_2:
        established(); m.on_user(tcp_user_call::close); m.on_segment(seg_ack(true));
        break;
    case tcp_state::close_wait: established(); m.on_segment(seg_fin_ack()); break;
    case tcp_state::closing: established(); m.on_user(tcp_user_call::close); m.on_segment(seg_fin_ack()); break;
    case tcp_state::last_ack:
        established(); m.on_segment(seg_fin_ack()); m.on_user(tcp_user_call::close);
        break;
    case tcp_state::time_wait:
        established(); m.on_user(tcp_user_call::close); m.on_segment(seg_ack(true));
        m.on_segment(seg_fin_ack());
        break;
    }
    EXPECT_EQ(m.state(), s) << "could not reach " << to_string(s);
    return m;
}

} // namespace

TEST(TcpState, Names)
{
    EXPECT_EQ(to_string(tcp_state::syn_received), "SYN-RECEIVED");
    EXPECT_EQ(to_string(tcp_state::time_wait), "TIME-WAIT");
}

TEST(TcpState, EveryTransitionOfFigure5)
{
    {   // CLOSED -> LISTEN (passive OPEN), LISTEN -> CLOSED (CLOSE)
        tcp_state_machine m;
        expect_ok(m.on_user(tcp_user_call::passive_open), tcp_state::listen, 0);
        EXPECT_TRUE(m.passive());
        expect_ok(m.on_user(tcp_user_call::close), tcp_state::closed, delete_tcb);
    }
    {   // CLOSED -> SYN-SENT (active OPEN), SYN-SENT -> CLOSED (CLOSE)
        tcp_state_machine m;
        expect_ok(m.on_user(tcp_user_call::active_open), tcp_state::syn_sent, send_syn);
        expect_ok(m.on_user(tcp_user_call::close), tcp_state::closed, delete_tcb);
    }
    {   // LISTEN -> SYN-SENT (SEND / active OPEN on a listener)
        auto m = reach(tcp_state::listen);
        expect_ok(m.on_user(tcp_user_call::active_open), tcp_state::syn_sent, send_syn);
        EXPECT_FALSE(m.passive());
    }
    {   // LISTEN -> SYN-RECEIVED (rcv SYN, snd SYN,ACK) -> ESTABLISHED (rcv ACK of SYN)
        auto m = reach(tcp_state::listen);
        expect_ok(m.on_segment(seg_syn()), tcp_state::syn_received, send_syn_ack);
        expect_ok(m.on_segment(seg_ack()), tcp_state::established, notify_established);
    }
    {   // SYN-SENT -> ESTABLISHED (rcv SYN,ACK, snd ACK)
        auto m = reach(tcp_state::syn_sent);
        expect_ok(m.on_segment(seg_syn_ack()), tcp_state::established, send_ack | notify_established);
    }
    {   // SYN-SENT -> SYN-RECEIVED (rcv SYN, snd SYN,ACK)
        auto m = reach(tcp_state::syn_sent);
        expect_ok(m.on_segment(seg_syn()), tcp_state::syn_received, send_syn_ack);
        EXPECT_FALSE(m.passive());
    }
    {   // SYN-RECEIVED -> FIN-WAIT-1 (CLOSE, snd FIN)
        auto m = reach(tcp_state::syn_received);
        expect_ok(m.on_user(tcp_user_call::close), tcp_state::fin_wait_1, send_fin);
    }
    {   // ESTABLISHED -> FIN-WAIT-1 (CLOSE) -> FIN-WAIT-2 (rcv ACK of FIN) -> TIME-WAIT (rcv FIN)
        //   -> CLOSED (2MSL)
        auto m = reach(tcp_state::established);
        expect_ok(m.on_segment(seg_ack()), tcp_state::established, 0); // an ACK of data changes nothing
        expect_ok(m.on_user(tcp_user_call::close), tcp_state::fin_wait_1, send_fin);
        expect_ok(m.on_segment(seg_ack(false)), tcp_state::fin_wait_1, 0); // ACK below our FIN
        expect_ok(m.on_segment(seg_ack(true)), tcp_state::fin_wait_2, 0);
        expect_ok(m.on_segment(seg_ack()), tcp_state::fin_wait_2, 0);
        expect_ok(m.on_segment(seg_fin_ack(true)), tcp_state::time_wait, send_ack | start_2msl | notify_remote_close);
        // A retransmitted FIN in TIME-WAIT is acknowledged and restarts the timer.
        expect_ok(m.on_segment(seg_fin_ack(true)), tcp_state::time_wait, send_ack | start_2msl);
        expect_ok(m.on_timeout(tcp_timeout::time_wait_2msl), tcp_state::closed, delete_tcb);
    }
    {   // FIN-WAIT-1 -> TIME-WAIT directly (rcv FIN with the ACK of our FIN)
        auto m = reach(tcp_state::fin_wait_1);
        expect_ok(m.on_segment(seg_fin_ack(true)), tcp_state::time_wait, send_ack | start_2msl | notify_remote_close);
    }
    {   // FIN-WAIT-1 -> CLOSING (rcv FIN, snd ACK) -> TIME-WAIT (rcv ACK of FIN)
        auto m = reach(tcp_state::fin_wait_1);
        expect_ok(m.on_segment(seg_fin_ack(false)), tcp_state::closing, send_ack | notify_remote_close);
        expect_ok(m.on_segment(seg_ack(true)), tcp_state::time_wait, start_2msl);
    }
    {   // ESTABLISHED -> CLOSE-WAIT (rcv FIN, snd ACK) -> LAST-ACK (CLOSE, snd FIN) -> CLOSED
        auto m = reach(tcp_state::established);
        expect_ok(m.on_segment(seg_fin_ack()), tcp_state::close_wait, send_ack | notify_remote_close);
        expect_ok(m.on_segment(seg_ack()), tcp_state::close_wait, 0);
        expect_ok(m.on_user(tcp_user_call::close), tcp_state::last_ack, send_fin);
        expect_ok(m.on_segment(seg_ack(false)), tcp_state::last_ack, 0);
        expect_ok(m.on_segment(seg_ack(true)), tcp_state::closed, delete_tcb);
    }
    {   // SYN-RECEIVED -> ESTABLISHED -> CLOSE-WAIT on one segment (ACK of our SYN with a FIN)
        auto m = reach(tcp_state::syn_received);
        expect_ok(m.on_segment(seg_fin_ack()), tcp_state::close_wait,
                  notify_established | send_ack | notify_remote_close);
    }
    {   // SYN-SENT -> ESTABLISHED -> CLOSE-WAIT on a SYN,ACK carrying a FIN
        auto m = reach(tcp_state::syn_sent);
        tcp_segment_in s = seg_syn_ack();
        s.fin = true;
        expect_ok(m.on_segment(s), tcp_state::close_wait, send_ack | notify_established | notify_remote_close);
    }
}

TEST(TcpState, SimultaneousOpen)
{
    // RFC 9293 Figure 7: both ends send SYN, each receives the other's SYN, then its SYN,ACK.
    tcp_state_machine a, b;
    expect_ok(a.on_user(tcp_user_call::active_open), tcp_state::syn_sent, send_syn);
    expect_ok(b.on_user(tcp_user_call::active_open), tcp_state::syn_sent, send_syn);
    expect_ok(a.on_segment(seg_syn()), tcp_state::syn_received, send_syn_ack);
    expect_ok(b.on_segment(seg_syn()), tcp_state::syn_received, send_syn_ack);
    expect_ok(a.on_segment(seg_syn_ack()), tcp_state::established, notify_established);
    expect_ok(b.on_segment(seg_syn_ack()), tcp_state::established, notify_established);
    // A SYN,ACK whose ACK does not cover our SYN is a SYN in a synchronized state: the SYN check
    // comes before the ACK check, so it draws a challenge ACK (RFC 5961 section 4).
    auto c = reach(tcp_state::syn_received, true);
    tcp_segment_in bad = seg_syn_ack();
    bad.ack_acceptable = false;
    expect_rejected(c, c.on_segment(bad), tcp_state::syn_received, send_ack);
    // A bare ACK that does not cover our SYN gets a RST.
    tcp_segment_in bad_ack = seg_ack();
    bad_ack.ack_acceptable = false;
    expect_rejected(c, c.on_segment(bad_ack), tcp_state::syn_received, send_rst);
}

TEST(TcpState, SimultaneousClose)
{
    // RFC 9293 Figure 8: both ends CLOSE at once, each sees the other's FIN before the ACK of its own.
    auto a = reach(tcp_state::established);
    auto b = reach(tcp_state::established);
    expect_ok(a.on_user(tcp_user_call::close), tcp_state::fin_wait_1, send_fin);
    expect_ok(b.on_user(tcp_user_call::close), tcp_state::fin_wait_1, send_fin);
    expect_ok(a.on_segment(seg_fin_ack(false)), tcp_state::closing, send_ack | notify_remote_close);
    expect_ok(b.on_segment(seg_fin_ack(false)), tcp_state::closing, send_ack | notify_remote_close);
    expect_ok(a.on_segment(seg_ack(true)), tcp_state::time_wait, start_2msl);
    expect_ok(b.on_segment(seg_ack(true)), tcp_state::time_wait, start_2msl);
    expect_ok(a.on_timeout(tcp_timeout::time_wait_2msl), tcp_state::closed, delete_tcb);
    expect_ok(b.on_timeout(tcp_timeout::time_wait_2msl), tcp_state::closed, delete_tcb);
}

TEST(TcpState, RstInEachState)
{
    struct row {
        tcp_state from;
        bool active;
        bool rst_accepted;
        tcp_state to;
        uint32_t actions;
    };
    // RST with an in-window sequence number (and, in SYN-SENT, an acceptable ACK).
    const row rows[] = {
        {tcp_state::closed, false, false, tcp_state::closed, 0},          // discarded
        {tcp_state::listen, false, false, tcp_state::listen, 0},          // ignored
        {tcp_state::syn_sent, false, true, tcp_state::closed, notify_refused | delete_tcb},
        {tcp_state::syn_received, false, true, tcp_state::listen, 0},     // passive: back to LISTEN
        {tcp_state::syn_received, true, true, tcp_state::closed, notify_refused | delete_tcb},
        {tcp_state::established, false, true, tcp_state::closed, notify_reset | delete_tcb},
        {tcp_state::fin_wait_1, false, true, tcp_state::closed, notify_reset | delete_tcb},
        {tcp_state::fin_wait_2, false, true, tcp_state::closed, notify_reset | delete_tcb},
        {tcp_state::close_wait, false, true, tcp_state::closed, notify_reset | delete_tcb},
        {tcp_state::closing, false, true, tcp_state::closed, delete_tcb},
        {tcp_state::last_ack, false, true, tcp_state::closed, delete_tcb},
        {tcp_state::time_wait, false, true, tcp_state::closed, delete_tcb},
    };
    for (const row& x : rows) {
        SCOPED_TRACE(std::string(to_string(x.from)) + (x.active ? " (active)" : ""));
        auto m = reach(x.from, x.active);
        auto t = m.on_segment(seg_rst(x.from == tcp_state::syn_sent));
        if (x.rst_accepted) {
            expect_ok(t, x.to, x.actions);
            EXPECT_EQ(m.state(), x.to);
        } else {
            expect_rejected(m, t, x.from, x.actions);
        }
    }
    // In every synchronized state a RST outside the window is dropped silently (no ACK either,
    // which would feed a RST war); one in the window but not exactly at RCV.NXT draws a challenge
    // ACK and the connection stays (RFC 5961 section 3.2).
    for (tcp_state s : all_states) {
        if (s == tcp_state::closed || s == tcp_state::listen || s == tcp_state::syn_sent) {
            continue;
        }
        SCOPED_TRACE(std::string(to_string(s)));
        auto m = reach(s);
        tcp_segment_in outside = seg_rst();
        outside.seq_acceptable = false;
        expect_rejected(m, m.on_segment(outside), s);
        tcp_segment_in inexact = seg_rst();
        inexact.seq_exact = false;
        expect_rejected(m, m.on_segment(inexact), s, send_ack);
    }
    {   // SYN-SENT: a RST without an ACK, or with an unacceptable ACK, is dropped.
        auto m = reach(tcp_state::syn_sent);
        expect_rejected(m, m.on_segment(seg_rst(false)), tcp_state::syn_sent);
        tcp_segment_in r = seg_rst(true);
        r.ack_acceptable = false;
        expect_rejected(m, m.on_segment(r), tcp_state::syn_sent);
    }
}

TEST(TcpState, AbortAndUserTimeout)
{
    for (tcp_state s : all_states) {
        SCOPED_TRACE(std::string(to_string(s)));
        auto m = reach(s);
        auto t = m.on_user(tcp_user_call::abort);
        if (s == tcp_state::closed) {
            expect_rejected(m, t, s);
            continue;
        }
        // RFC 9293 section 3.10.5: a RST goes out only where the peer holds a synchronized
        // connection that we still own.
        const bool rst = s == tcp_state::syn_received || s == tcp_state::established ||
                         s == tcp_state::fin_wait_1 || s == tcp_state::fin_wait_2 || s == tcp_state::close_wait;
        expect_ok(t, tcp_state::closed, delete_tcb | (rst ? send_rst : 0));
        auto n = reach(s);
        expect_ok(n.on_timeout(tcp_timeout::user_timeout), tcp_state::closed, notify_timed_out | delete_tcb);
    }
    tcp_state_machine m;
    expect_rejected(m, m.on_timeout(tcp_timeout::user_timeout), tcp_state::closed);
}

TEST(TcpState, IllegalUserCallsAndTimeoutsRejected)
{
    for (tcp_state s : all_states) {
        SCOPED_TRACE(std::string(to_string(s)));
        if (s != tcp_state::closed) {
            auto m = reach(s);
            expect_rejected(m, m.on_user(tcp_user_call::passive_open), s);
        }
        if (s != tcp_state::closed && s != tcp_state::listen) {
            auto m = reach(s);
            expect_rejected(m, m.on_user(tcp_user_call::active_open), s);
        }
        if (s != tcp_state::time_wait) {
            auto m = reach(s);
            expect_rejected(m, m.on_timeout(tcp_timeout::time_wait_2msl), s);
        }
        const bool close_ok = s == tcp_state::listen || s == tcp_state::syn_sent || s == tcp_state::syn_received ||
                              s == tcp_state::established || s == tcp_state::close_wait;
        if (!close_ok) {
            auto m = reach(s);
            expect_rejected(m, m.on_user(tcp_user_call::close), s);
        }
    }
}

TEST(TcpState, BadSegmentsRejected)
{
    {   // CLOSED answers anything but a RST with a RST.
        tcp_state_machine m;
        expect_rejected(m, m.on_segment(seg_syn()), tcp_state::closed, send_rst);
        expect_rejected(m, m.on_segment(seg_ack()), tcp_state::closed, send_rst);
    }
    {   // LISTEN: an ACK gets a RST; a bare FIN is dropped.
        auto m = reach(tcp_state::listen);
        expect_rejected(m, m.on_segment(seg_ack()), tcp_state::listen, send_rst);
        expect_rejected(m, m.on_segment(seg_syn_ack()), tcp_state::listen, send_rst);
        tcp_segment_in fin;
        fin.fin = true;
        expect_rejected(m, m.on_segment(fin), tcp_state::listen);
    }
    {   // SYN-SENT: an unacceptable ACK gets a RST; a bare ACK or FIN is dropped.
        auto m = reach(tcp_state::syn_sent);
        tcp_segment_in s = seg_syn_ack();
        s.ack_acceptable = false;
        expect_rejected(m, m.on_segment(s), tcp_state::syn_sent, send_rst);
        expect_rejected(m, m.on_segment(seg_ack()), tcp_state::syn_sent);
        tcp_segment_in fin;
        fin.fin = true;
        expect_rejected(m, m.on_segment(fin), tcp_state::syn_sent);
    }
    {   // SYN-RECEIVED: an ACK that does not cover our SYN gets a RST.
        auto m = reach(tcp_state::syn_received);
        tcp_segment_in s = seg_ack();
        s.ack_acceptable = false;
        expect_rejected(m, m.on_segment(s), tcp_state::syn_received, send_rst);
        // A SYN there after a passive open returns to LISTEN (section 3.10.7.4, fourth step).
        expect_ok(m.on_segment(seg_syn()), tcp_state::listen, 0);
    }
    for (tcp_state s : all_states) {
        if (s == tcp_state::closed || s == tcp_state::listen || s == tcp_state::syn_sent) {
            continue;
        }
        SCOPED_TRACE(std::string(to_string(s)));
        auto m = reach(s);
        // Out of window: ACK and drop.
        tcp_segment_in old = seg_fin_ack(true);
        old.seq_acceptable = false;
        expect_rejected(m, m.on_segment(old), s, send_ack);
        // No ACK bit: drop.
        tcp_segment_in fin;
        fin.fin = true;
        expect_rejected(m, m.on_segment(fin), s);
        if (s != tcp_state::syn_received) {
            // A SYN in a synchronized state: challenge ACK.
            expect_rejected(m, m.on_segment(seg_syn_ack()), s, send_ack);
            // An ACK of data never sent: ACK and drop.
            tcp_segment_in future = seg_ack(true);
            future.ack_acceptable = false;
            expect_rejected(m, m.on_segment(future), s, send_ack);
        }
    }
    {   // CLOSING ignores a segment that does not acknowledge our FIN.
        auto m = reach(tcp_state::closing);
        expect_rejected(m, m.on_segment(seg_ack(false)), tcp_state::closing);
    }
}
