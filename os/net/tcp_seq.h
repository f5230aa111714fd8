#pragma once
// TCP sequence-number arithmetic modulo 2^32 (RFC 9293 section 3.4, as RFC 793 section 3.3):
// sequence numbers wrap, so "a before b" means the signed 32-bit distance from b to a is negative.
// That is well defined while the two are less than 2^31 apart, which the window rules guarantee
// (RFC 7323 section 2.3 keeps the scaled window below 2^30). At exactly 2^31 apart the order is
// ambiguous and seq_lt holds both ways, as in Linux's before().
#include <cstdint>

namespace iovsim::os::net {

using tcp_seq = uint32_t;

constexpr int32_t seq_diff(tcp_seq a, tcp_seq b) { return static_cast<int32_t>(a - b); }

constexpr bool seq_lt(tcp_seq a, tcp_seq b) { return seq_diff(a, b) < 0; }
constexpr bool seq_leq(tcp_seq a, tcp_seq b) { return seq_diff(a, b) <= 0; }
constexpr bool seq_gt(tcp_seq a, tcp_seq b) { return seq_diff(a, b) > 0; }
constexpr bool seq_geq(tcp_seq a, tcp_seq b) { return seq_diff(a, b) >= 0; }

constexpr tcp_seq seq_max(tcp_seq a, tcp_seq b) { return seq_gt(a, b) ? a : b; }
constexpr tcp_seq seq_min(tcp_seq a, tcp_seq b) { return seq_lt(a, b) ? a : b; }

// lo <= x < hi, going forward from lo (the half-open window [lo, hi)). An empty window (lo == hi)
// holds nothing. Unlike a pair of seq_leq/seq_lt calls this stays right for windows up to 2^32 - 1.
constexpr bool seq_between(tcp_seq x, tcp_seq lo, tcp_seq hi) { return x - lo < hi - lo; }

// start <= x < start + size.
constexpr bool seq_in_window(tcp_seq x, tcp_seq start, uint32_t size) { return x - start < size; }

// The acceptability test for an arriving segment (RFC 9293 section 3.10.7.4, "first, check
// sequence number"): seg_len counts SYN and FIN. A zero-length segment is acceptable at RCV.NXT
// even into a zero window (so ACKs and RSTs get through); a segment with data into a zero window
// is not, whatever its sequence number. With data, the RFC accepts a segment whose first or last
// byte is in the window; this accepts any segment with a byte in the window, which adds the one
// spanning the whole window (the RFC's text lets a receiver trim to the window, and Linux's
// tcp_sequence() accepts it too).
constexpr bool segment_acceptable(tcp_seq seg_seq, uint32_t seg_len, tcp_seq rcv_nxt, uint32_t rcv_wnd)
{
    if (seg_len == 0) {
        return rcv_wnd == 0 ? seg_seq == rcv_nxt : seq_in_window(seg_seq, rcv_nxt, rcv_wnd);
    }
    if (rcv_wnd == 0) {
        return false;
    }
    return seq_in_window(seg_seq, rcv_nxt, rcv_wnd) || seq_in_window(rcv_nxt, seg_seq, seg_len);
}

// SND.UNA < SEG.ACK =< SND.NXT: the ACK covers something sent and not yet acknowledged
// (RFC 9293 section 3.10.7.3 for SYN-SENT and 3.10.7.4 for the synchronized states).
constexpr bool ack_acks_new_data(tcp_seq seg_ack, tcp_seq snd_una, tcp_seq snd_nxt)
{
    return seq_lt(snd_una, seg_ack) && seq_leq(seg_ack, snd_nxt);
}

} // namespace iovsim::os::net
