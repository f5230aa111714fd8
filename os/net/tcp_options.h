#pragma once
// TCP header options a connection negotiates on its SYN (RFC 9293 section 3.2: MSS; RFC 7323
// section 2: window scale), and the receive window a receiver advertises (RFC 9293 section
// 3.8.6.2.2, receiver-side silly window avoidance; RFC 7323 section 2.3, scaling). Pure logic.
#include <cstdint>

#include "sim/wire/wire.h"

namespace iovsim::os::net {

struct tcp_syn_options {
    uint16_t mss = 0;       // 0: not present (RFC 9293 section 3.7.1: assume 536)
    int wscale = -1;        // shift count offered; -1: not present
};

// The largest shift RFC 7323 section 2.3 allows; a larger one received is used as 14.
inline constexpr int tcp_max_wscale = 14;
// The MSS a sender assumes when the peer sent none (RFC 9293 section 3.7.1).
inline constexpr uint16_t tcp_default_mss = 536;

// Writes MSS (and, when wscale >= 0, NOP + window scale) into h's options: 4 or 8 bytes.
void put_syn_options(wire::tcp_header& h, const tcp_syn_options& o);
// Reads the options of a received segment. Unknown options are skipped by their length; a
// malformed list (a length below 2 or running past the end) ends the parse with what was read.
// A window scale above 14 is taken as 14 (RFC 7323 section 2.3).
tcp_syn_options parse_syn_options(const wire::tcp_header& h);

// The receive window to advertise, in bytes (before scaling), given the buffer space free now,
// the window currently offered (RCV.ADV - RCV.NXT, which must not shrink: RFC 9293 section
// 3.8.6.2.1 discourages it), the buffer size and the MSS. The offer grows only by at least
// min(buffer / 2, MSS) at a time (section 3.8.6.2.2: "silly window" avoidance), and is rounded up
// to what the scale can express, as Linux's tcp_select_window does.
struct tcp_window_choice {
    uint32_t window;        // bytes offered from RCV.NXT
    uint16_t field;         // what goes into the header's window field (window >> wscale)
};
tcp_window_choice choose_rcv_window(uint32_t free_space, uint32_t offered, uint32_t buffer, uint32_t mss,
                                    unsigned wscale);

} // namespace iovsim::os::net
