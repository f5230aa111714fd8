#pragma once
// The TCP connection state machine (RFC 9293 section 3.3.2, Figure 5, with the event processing
// of section 3.10) as a transition function: user calls, arriving segments and timeouts in, the
// next state, the segments to send and what to tell the user out. Sequence numbers and data are
// the caller's business: it classifies each segment (flags, the acceptability tests of
// tcp_seq.h) before handing it here, so this class holds only the state and how it was reached.
#include <cstdint>
#include <string_view>

namespace iovsim::os::net {

enum class tcp_state {
    closed,
    listen,
    syn_sent,
    syn_received,
    established,
    fin_wait_1,
    fin_wait_2,
    close_wait,
    closing,
    last_ack,
    time_wait,
};

std::string_view to_string(tcp_state s);

// What the caller must do after a transition, a bit set.
namespace tcp_action {
inline constexpr uint32_t send_syn = 1u << 0;      // <SEQ=ISS><CTL=SYN>
inline constexpr uint32_t send_syn_ack = 1u << 1;  // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>
inline constexpr uint32_t send_ack = 1u << 2;      // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
inline constexpr uint32_t send_fin = 1u << 3;      // FIN (with ACK) after queued data
inline constexpr uint32_t send_rst = 1u << 4;      // RST as section 3.10.7 says for the case
inline constexpr uint32_t start_2msl = 1u << 5;    // start or restart the TIME-WAIT timer
inline constexpr uint32_t delete_tcb = 1u << 6;    // the connection is gone
inline constexpr uint32_t notify_reset = 1u << 7;  // tell the user "connection reset"
inline constexpr uint32_t notify_refused = 1u << 8; // tell the user "connection refused"
inline constexpr uint32_t notify_established = 1u << 9;
inline constexpr uint32_t notify_remote_close = 1u << 10; // the peer's FIN: no more data arrives
inline constexpr uint32_t notify_timed_out = 1u << 11;    // "connection aborted due to user timeout"
} // namespace tcp_action

enum class tcp_user_call { passive_open, active_open, close, abort };
enum class tcp_timeout { time_wait_2msl, user_timeout };

// An arriving segment as the state machine needs it. seq_acceptable is the section 3.10.7.4
// sequence test (segment_acceptable in tcp_seq.h); ack_acceptable is SND.UNA < SEG.ACK =< SND.NXT
// in SYN-SENT and SYN-RECEIVED, and SEG.ACK =< SND.NXT in the synchronized states (an old
// duplicate ACK is acceptable there: it is ignored, not answered); fin_acked says SEG.ACK covers
// our FIN; seq_exact says SEG.SEQ == RCV.NXT, which a RST needs to reset a synchronized connection
// (RFC 5961 section 3.2; an in-window RST elsewhere draws a challenge ACK). They are ignored where
// the RFC does not look at them.
struct tcp_segment_in {
    bool syn = false;
    bool ack = false;
    bool fin = false;
    bool rst = false;
    bool seq_acceptable = true;
    bool ack_acceptable = true;
    bool fin_acked = false;
    bool seq_exact = true;
};

struct tcp_transition {
    bool accepted = false; // false: the event was rejected or the segment dropped
    tcp_state from = tcp_state::closed;
    tcp_state to = tcp_state::closed;
    uint32_t actions = 0;    // tcp_action bits, possibly set on a rejection (an ACK or RST reply)
    std::string_view reason; // why, on a rejection; empty otherwise

    bool has(uint32_t action) const { return (actions & action) != 0; }
};

class tcp_state_machine {
public:
    tcp_state state() const { return state_; }
    // Whether SYN-RECEIVED was reached from LISTEN: a RST or SYN there returns to LISTEN.
    bool passive() const { return passive_; }

    tcp_transition on_user(tcp_user_call call);
    tcp_transition on_segment(const tcp_segment_in& seg);
    tcp_transition on_timeout(tcp_timeout t);

private:
    tcp_transition synchronized_segment(const tcp_segment_in& seg, tcp_transition r);
    tcp_transition go(tcp_transition r, tcp_state next, uint32_t actions);

    tcp_state state_ = tcp_state::closed;
    bool passive_ = false;
};

} // namespace iovsim::os::net
