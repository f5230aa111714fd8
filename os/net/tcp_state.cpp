#include "os/net/tcp_state.h"

namespace iovsim::os::net {

using namespace tcp_action;

std::string_view to_string(tcp_state s)
{
    switch (s) {
    case tcp_state::closed: return "CLOSED";
    case tcp_state::listen: return "LISTEN";
    case tcp_state::syn_sent: return "SYN-SENT";
    case tcp_state::syn_received: return "SYN-RECEIVED";
    case tcp_state::established: return "ESTABLISHED";
    case tcp_state::fin_wait_1: return "FIN-WAIT-1";
    case tcp_state::fin_wait_2: return "FIN-WAIT-2";
    case tcp_state::close_wait: return "CLOSE-WAIT";
    case tcp_state::closing: return "CLOSING";
    case tcp_state::last_ack: return "LAST-ACK";
    case tcp_state::time_wait: return "TIME-WAIT";
    }
    return "?";
}

namespace {

tcp_transition reject(tcp_transition r, std::string_view reason, uint32_t actions = 0)
{
    r.accepted = false;
    r.to = r.from;
    r.actions |= actions;
    r.reason = reason;
    return r;
}

} // namespace

tcp_transition tcp_state_machine::go(tcp_transition r, tcp_state next, uint32_t actions)
{
    state_ = next;
    if (next == tcp_state::closed) {
        passive_ = false;
    }
    r.accepted = true;
    r.to = next;
    r.actions |= actions;
    return r;
}

// RFC 9293 section 3.10.1 (OPEN), 3.10.4 (CLOSE), 3.10.5 (ABORT).
tcp_transition tcp_state_machine::on_user(tcp_user_call call)
{
    tcp_transition r;
    r.from = state_;
    switch (call) {
    case tcp_user_call::passive_open:
        if (state_ != tcp_state::closed) {
            return reject(r, "OPEN: connection already exists");
        }
        passive_ = true;
        return go(r, tcp_state::listen, 0);
    case tcp_user_call::active_open:
        if (state_ != tcp_state::closed && state_ != tcp_state::listen) {
            return reject(r, "OPEN: connection already exists");
        }
        passive_ = false; // LISTEN turned active: a RST in SYN-RECEIVED now means refused
        return go(r, tcp_state::syn_sent, send_syn);
    case tcp_user_call::close:
        switch (state_) {
        case tcp_state::closed: return reject(r, "CLOSE: connection does not exist");
        case tcp_state::listen:
        case tcp_state::syn_sent: return go(r, tcp_state::closed, delete_tcb);
        case tcp_state::syn_received:
        case tcp_state::established: return go(r, tcp_state::fin_wait_1, send_fin);
        case tcp_state::close_wait: return go(r, tcp_state::last_ack, send_fin);
        default: return reject(r, "CLOSE: connection closing");
        }
    case tcp_user_call::abort:
        switch (state_) {
        case tcp_state::closed: return reject(r, "ABORT: connection does not exist");
        case tcp_state::listen:
        case tcp_state::syn_sent:
        case tcp_state::closing:
        case tcp_state::last_ack:
        case tcp_state::time_wait: return go(r, tcp_state::closed, delete_tcb);
        default: return go(r, tcp_state::closed, send_rst | delete_tcb);
        }
    }
    return reject(r, "unknown user call");
}

// RFC 9293 section 3.10.8.
tcp_transition tcp_state_machine::on_timeout(tcp_timeout t)
{
    tcp_transition r;
    r.from = state_;
    if (t == tcp_timeout::time_wait_2msl) {
        if (state_ != tcp_state::time_wait) {
            return reject(r, "2MSL timeout outside TIME-WAIT");
        }
        return go(r, tcp_state::closed, delete_tcb);
    }
    if (state_ == tcp_state::closed) {
        return reject(r, "user timeout: connection does not exist");
    }
    return go(r, tcp_state::closed, notify_timed_out | delete_tcb);
}

// RFC 9293 section 3.10.7.
tcp_transition tcp_state_machine::on_segment(const tcp_segment_in& seg)
{
    tcp_transition r;
    r.from = state_;
    switch (state_) {
    case tcp_state::closed: // 3.10.7.1
        if (seg.rst) {
            return reject(r, "CLOSED: RST discarded");
        }
        return reject(r, "CLOSED: no connection", send_rst);
    case tcp_state::listen: // 3.10.7.2
        if (seg.rst) {
            return reject(r, "LISTEN: RST ignored");
        }
        if (seg.ack) {
            return reject(r, "LISTEN: ACK for no connection", send_rst);
        }
        if (seg.syn) {
            // Other controls or text on the SYN are the caller's to queue until ESTABLISHED.
            passive_ = true;
            return go(r, tcp_state::syn_received, send_syn_ack);
        }
        return reject(r, "LISTEN: neither SYN, ACK nor RST");
    case tcp_state::syn_sent: // 3.10.7.3
        if (seg.ack && !seg.ack_acceptable) {
            if (seg.rst) {
                return reject(r, "SYN-SENT: RST with an unacceptable ACK dropped");
            }
            return reject(r, "SYN-SENT: unacceptable ACK", send_rst);
        }
        if (seg.rst) {
            if (!seg.ack) {
                return reject(r, "SYN-SENT: RST without ACK dropped");
            }
            // The RFC's words are "connection reset"; every stack reports the answer to its SYN
            // as refused (ECONNREFUSED), which is what it means.
            return go(r, tcp_state::closed, notify_refused | delete_tcb);
        }
        if (!seg.syn) {
            return reject(r, "SYN-SENT: neither SYN nor RST");
        }
        if (!seg.ack) {
            // Simultaneous open; a FIN on this SYN waits, as other controls do, for ESTABLISHED.
            return go(r, tcp_state::syn_received, send_syn_ack);
        }
        r = go(r, tcp_state::established, send_ack | notify_established);
        if (seg.fin) { // the sixth step onwards, for a FIN on the SYN-ACK
            r = go(r, tcp_state::close_wait, notify_remote_close);
        }
        return r;
    default: return synchronized_segment(seg, r);
    }
}

// SYN-RECEIVED and the synchronized states: RFC 9293 section 3.10.7.4, steps one to eight
// (the URG and text steps do not change the state).
tcp_transition tcp_state_machine::synchronized_segment(const tcp_segment_in& seg, tcp_transition r)
{
    // First: the sequence number.
    if (!seg.seq_acceptable) {
        if (seg.rst) {
            return reject(r, "unacceptable sequence number: RST dropped");
        }
        return reject(r, "unacceptable sequence number", send_ack);
    }
    // Second: RST. In window but not at RCV.NXT it may be blind (RFC 5961 section 3.2): the
    // challenge ACK makes a genuine peer answer with a RST at the exact sequence number.
    if (seg.rst && !seg.seq_exact) {
        return reject(r, "RST in window but not at RCV.NXT: challenge ACK (RFC 5961 section 3.2)", send_ack);
    }
    if (seg.rst) {
        switch (state_) {
        case tcp_state::syn_received:
            if (passive_) {
                return go(r, tcp_state::listen, 0);
            }
            return go(r, tcp_state::closed, notify_refused | delete_tcb);
        case tcp_state::established:
        case tcp_state::fin_wait_1:
        case tcp_state::fin_wait_2:
        case tcp_state::close_wait: return go(r, tcp_state::closed, notify_reset | delete_tcb);
        default: return go(r, tcp_state::closed, delete_tcb);
        }
    }
    // Fourth (there is no third, security, here): SYN.
    // Simultaneous open (Figure 7) brings the peer's SYN,ACK to SYN-RECEIVED: its SYN repeats the
    // one already taken and its ACK covers ours, so it completes the handshake (as Linux lets it
    // pass its challenge-ACK check) instead of drawing a challenge ACK.
    const bool simultaneous_syn_ack =
        state_ == tcp_state::syn_received && !passive_ && seg.ack && seg.ack_acceptable;
    if (seg.syn && !simultaneous_syn_ack) {
        if (state_ == tcp_state::syn_received && passive_) {
            return go(r, tcp_state::listen, 0);
        }
        return reject(r, "SYN in a synchronized state: challenge ACK (RFC 5961 section 4)", send_ack);
    }
    // Fifth: ACK.
    if (!seg.ack) {
        return reject(r, "segment without ACK dropped");
    }
    if (state_ == tcp_state::syn_received) {
        if (!seg.ack_acceptable) {
            return reject(r, "SYN-RECEIVED: unacceptable ACK", send_rst);
        }
        r = go(r, tcp_state::established, notify_established);
    } else if (!seg.ack_acceptable) {
        return reject(r, "ACK of data not yet sent", send_ack);
    }
    switch (state_) {
    case tcp_state::fin_wait_1:
        if (seg.fin_acked) {
            r = go(r, tcp_state::fin_wait_2, 0);
        }
        break;
    case tcp_state::closing:
        if (!seg.fin_acked) {
            return reject(r, "CLOSING: our FIN not yet acknowledged, segment ignored");
        }
        r = go(r, tcp_state::time_wait, start_2msl);
        break;
    case tcp_state::last_ack:
        if (seg.fin_acked) {
            return go(r, tcp_state::closed, delete_tcb);
        }
        break;
    default: break;
    }
    // Eighth: FIN.
    if (seg.fin) {
        switch (state_) {
        case tcp_state::established: r = go(r, tcp_state::close_wait, send_ack | notify_remote_close); break;
        case tcp_state::fin_wait_1: r = go(r, tcp_state::closing, send_ack | notify_remote_close); break;
        case tcp_state::fin_wait_2:
            r = go(r, tcp_state::time_wait, send_ack | start_2msl | notify_remote_close);
            break;
        case tcp_state::time_wait: r = go(r, tcp_state::time_wait, send_ack | start_2msl); break;
        default: r = go(r, state_, 0); break; // CLOSE-WAIT, CLOSING, LAST-ACK: remain
        }
        return r;
    }
    return go(r, state_, 0);
}

} // namespace iovsim::os::net
