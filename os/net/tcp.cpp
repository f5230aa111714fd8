#include "os/net/tcp.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include "os/net/tcp_options.h"
#include "os/net/tcp_seq.h"
#include "sim/config.h"
#include "sim/fast_time.h"

namespace iovsim::os::net {

using namespace iovsim::wire;

namespace {

// A segment's payload starts here in its buffer: room for TCP with options (60 B), IPv4 (20 B) and
// Ethernet (14 B) in front.
constexpr uint32_t payload_off = 128;
constexpr uint16_t ephemeral_first = 32768, ephemeral_last = 60999;   // Linux ip_local_port_range
constexpr uint64_t oow_ack_interval_ns = 500'000'000;                 // Linux tcp_invalid_ratelimit

enum timer_kind : unsigned { t_rexmit = 0, t_delack = 1, t_timewait = 2, timer_kinds = 3 };

uint64_t tuple_key(ipv4_addr rip, uint16_t rport, uint16_t lport)
{
    return (static_cast<uint64_t>(rip.value) << 32) | (static_cast<uint64_t>(rport) << 16) | lport;
}

struct seq_less {
    bool operator()(tcp_seq a, tcp_seq b) const { return seq_lt(a, b); }
};

} // namespace

struct tcp_layer::impl {
    struct conn {
        tcp_id id = 0;
        tcp_state_machine sm;
        bool listener = false;
        bool user_closed = false;   // close() or abort() called: the record goes with the TCB
        bool tcb_alive = true;
        tcp_id parent = 0;          // a passive connection's listener, until accepted
        bool accepted = false;
        // listener
        std::deque<tcp_id> accept_q;
        unsigned backlog = 0;
        unsigned pending = 0;       // children in SYN-RECEIVED
        // addressing
        ipv4_addr rip;
        uint16_t rport = 0, lport = 0;
        llc_stamp tx_state, rx_state;   // the state's last touches (costs.state_*_lines)
        // send side (RFC 9293 section 3.3.1)
        tcp_seq iss = 0, snd_una = 0, snd_nxt = 0, snd_max = 0, snd_wl1 = 0, snd_wl2 = 0;
        uint32_t snd_wnd = 0, max_snd_wnd = 0;
        unsigned snd_wscale = 0;    // applied to windows received
        uint16_t snd_mss = tcp_default_mss;
        std::vector<uint8_t> sbuf;  // ring: byte i is sequence sbuf_seq + i; grows up to snd_buf as used
        size_t shead = 0, slen = 0;
        tcp_seq sbuf_seq = 0;
        bool fin_queued = false, fin_sent = false;
        tcp_seq fin_seq = 0;
        // congestion control (RFC 5681, RFC 6582)
        uint32_t cwnd = 0, ssthresh = 0xFFFFFFFFu;
        unsigned dupacks = 0;
        uint32_t limited = 0;       // limited transmit's allowance beyond cwnd (RFC 3042)
        bool in_recovery = false;
        tcp_seq recover = 0;
        // retransmission (RFC 6298)
        rto_estimator rto;
        bool rtt_active = false;
        tcp_seq rtt_seq = 0;
        uint64_t rtt_sent_ns = 0;
        unsigned retries = 0;       // consecutive expiries without progress
        bool syn_timed_out = false;
        bool persist = false;       // the retransmission timer runs as the persist timer
        // receive side
        tcp_seq irs = 0, rcv_nxt = 0, rcv_adv = 0;
        unsigned rcv_wscale = 0;    // applied to windows sent
        bool ws_ok = false;         // both SYNs carried the window scale option
        std::deque<pkt> rq;         // in-order data, in the buffers it arrived in
        size_t rq_bytes = 0;
        std::map<tcp_seq, pkt, seq_less> ooo;   // out-of-order segments by first sequence number
        size_t ooo_bytes = 0;
        bool rcv_fin = false;       // the peer's FIN was taken in order
        bool fin_pending = false;   // a FIN arrived beyond a gap
        tcp_seq fin_pending_seq = 0;
        uint32_t unacked_bytes = 0; // received since our last ACK (delayed ACK)
        bool dupack_due = false;    // an out-of-order segment arrived: a pure duplicate ACK is owed
        uint64_t last_oow_ack_ns = 0;   // when we last answered an unacceptable segment without data
        uint32_t rcv_mss = 0;       // the largest segment received: the peer's "full size" (Linux's rcv_mss)
        // Linux's icsk_ack (with adaptive_ack): the ACK timeout estimate (0 before any data), when
        // data last arrived, quick ACKs still to send, and interactive mode.
        uint64_t ato_ns = 0;
        uint64_t lrcvtime_ns = 0;
        uint32_t quick = 0;
        bool pingpong = false;
        request_id last_request = no_request;
        // what the user is told
        bool err = false;
        // timers: deadline per kind, 0 when not armed
        uint64_t deadline[timer_kinds] = {0, 0, 0};
        // This connection's code is running (a user call, a segment's or a timer's processing):
        // the core may take an interrupt at any charge inside it, or another core may run, and
        // what arrives meanwhile waits until it is done, as Linux's sock_owned_by_user sends
        // segments to the socket's backlog and defers timers until release_sock.
        unsigned owned = 0;
        struct parked {
            pkt seg;
            tcp_header h;
            uint32_t data_len = 0;
            ipv4_addr src;
        };
        std::deque<parked> parked_q;
        unsigned deferred_timers = 0;   // bit per timer_kind that expired while owned

        explicit conn(const rto_params& rp) : rto(rp) {}
        tcp_seq data_end() const { return sbuf_seq + static_cast<uint32_t>(slen); }
        uint32_t flight() const { return snd_max - snd_una; }
    };

    tcp_layer& self;
    net_stack& stack;
    tcp_params p;
    tcp_costs costs;
    uint64_t rng;
    std::function<uint64_t()> clock;
    std::unordered_map<tcp_id, std::unique_ptr<conn>> conns;
    std::unordered_map<uint64_t, tcp_id> demux;
    std::unordered_map<uint16_t, tcp_id> listeners;
    std::set<std::pair<uint64_t, uint64_t>> timers;   // (deadline, id * timer_kinds + kind)
    tcp_id next_id = 1;
    uint16_t next_port = ephemeral_first;

    impl(tcp_layer& s, net_stack& st, const tcp_params& prm, const tcp_costs& c, uint64_t seed)
        : self(s), stack(st), p(prm), costs(c), rng(seed ^ 0x7C9E3779B97F4A7Cull)
    {
    }

    uint64_t now() const
    {
        if (clock)
            return clock();
        return static_cast<uint64_t>(sim::time_to_ns(stack.core().local_time()));
    }
    void charge(category cat, const primitive* prim)
    {
        if (prim)
            stack.core().run(cat, *prim);
    }
    // The connection's send side (by a send, or in input by the ACK of what it sent) or its receive
    // side, touched: their LLC residency.
    void touch_tx(conn& c, category cat) { stack.core().touch_resident(cat, c.tx_state, costs.state_tx_lines); }
    void touch_rx(conn& c) { stack.core().touch_resident(costs.in, c.rx_state, costs.state_rx_lines); }
    void checksum(category cat, uint32_t bytes)
    {
        const cost_model& c = stack.core().costs();
        stack.core().charge_ns(cat, c.ns(c.csum_byte_cycles * bytes));
    }
    uint32_t next_random()
    {
        uint64_t z = (rng += 0x9E3779B97F4A7C15ull);   // splitmix64
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return static_cast<uint32_t>(z ^ (z >> 31));
    }
    conn* find(tcp_id id) const
    {
        auto it = conns.find(id);
        return it == conns.end() ? nullptr : it->second.get();
    }
    conn& make_conn()
    {
        auto c = std::make_unique<conn>(p.rto);
        c->id = next_id++;
        if (next_id == 0)
            next_id = 1;
        conn& r = *c;
        conns.emplace(r.id, std::move(c));
        return r;
    }

    // ---- timers -----------------------------------------------------------------------------
    void arm(conn& c, timer_kind k, uint64_t at)
    {
        disarm(c, k);
        c.deadline[k] = std::max<uint64_t>(at, 1);
        timers.emplace(c.deadline[k], static_cast<uint64_t>(c.id) * timer_kinds + k);
    }
    void disarm(conn& c, timer_kind k)
    {
        if (c.deadline[k] != 0)
            timers.erase({c.deadline[k], static_cast<uint64_t>(c.id) * timer_kinds + k});
        c.deadline[k] = 0;
    }
    void arm_rexmit(conn& c) { arm(c, t_rexmit, now() + c.rto.rto_ns()); }

    // ---- readiness --------------------------------------------------------------------------
    uint32_t ready_of(const conn& c) const
    {
        uint32_t r = 0;
        if (c.listener)
            return c.accept_q.empty() ? 0 : tcp_ready::in;
        const tcp_state s = c.sm.state();
        if (c.rq_bytes > 0 || c.rcv_fin || c.err)
            r |= tcp_ready::in;
        if ((s == tcp_state::established || s == tcp_state::close_wait) && !c.fin_queued && c.slen < p.snd_buf)
            r |= tcp_ready::out;
        if (c.err)
            r |= tcp_ready::err;
        if (c.rcv_fin)
            r |= tcp_ready::rdhup;
        if (!c.tcb_alive || (c.rcv_fin && c.fin_queued))
            r |= tcp_ready::hup;
        if (!c.tcb_alive && s == tcp_state::closed && !c.err && !c.rcv_fin)
            r |= tcp_ready::in;   // closed under the user: a read reports end of stream
        return r;
    }
    void notify(tcp_id id, uint32_t before, bool force = false)
    {
        conn* c = find(id);
        if (!c || !self.m_notify)
            return;
        const uint32_t after = ready_of(*c);
        if (force || after != before)
            self.m_notify(id, after);
    }

    // ---- output -----------------------------------------------------------------------------
    // Sends one segment: [seq, seq + len) of the send buffer (len may be 0), with `flags`.
    void output(conn& c, tcp_seq seq, uint32_t len, uint8_t flags)
    {
        charge(costs.out, costs.tx_segment);
        pkt b;
        if (!stack.alloc(b))
            return;   // no buffer: the segment is lost here and recovered as if lost on the wire
        tcp_header h;
        h.sport = c.lport;
        h.dport = c.rport;
        h.seq = seq;
        h.flags = flags;
        if (flags & tcp_flag::syn) {
            tcp_syn_options o;
            o.mss = p.mss;
            // Scale only when both offer it (RFC 7323 section 2.2): a SYN-ACK offers it only
            // in answer to a SYN that did.
            o.wscale = (flags & tcp_flag::ack) && !c.ws_ok ? -1 : p.wscale;
            put_syn_options(h, o);
        }
        if (flags & tcp_flag::ack) {
            h.ack = c.rcv_nxt;
            // A SYN's window is never scaled (RFC 7323 section 2.2).
            const unsigned ws = (flags & tcp_flag::syn) ? 0 : c.rcv_wscale;
            const tcp_window_choice w = choose_rcv_window(free_space(c), offered_window(c), p.rcv_buf, p.mss, ws);
            h.window = w.field;
            c.rcv_adv = c.rcv_nxt + w.window;
            c.unacked_bytes = 0;
            disarm(c, t_delack);
            if (p.adaptive_ack)
                event_ack_sent(c);
        } else {
            h.window = static_cast<uint16_t>(std::min<uint32_t>(p.rcv_buf, 0xFFFF));
        }
        if (len > 0 && seq + len == c.data_end())
            h.flags |= tcp_flag::psh;
        if (len > 0 && p.adaptive_ack)
            event_data_sent(c);
        b.off = payload_off - static_cast<uint32_t>(h.header_length());
        b.len = static_cast<uint32_t>(h.header_length()) + len;
        if (len > 0)
            copy_out(c, seq, b.data + payload_off, len);
        b.request = stack.core().request();
        if (build_tcp(b.bytes(), b.capacity - b.off, h, len, stack.ip(), c.rip) == 0) {
            stack.release(b);
            return;
        }
        if (costs.software_checksum)
            checksum(costs.out, b.len);
        ++self.m_stats.segments_out;
        self.m_stats.bytes_out += len;
        stack.ip_output(b, ip_proto::tcp, c.rip);
    }
    void copy_out(const conn& c, tcp_seq seq, uint8_t* to, uint32_t len) const
    {
        size_t at = (c.shead + (seq - c.sbuf_seq)) % c.sbuf.size();
        while (len > 0) {
            const size_t n = std::min<size_t>(len, c.sbuf.size() - at);
            std::memcpy(to, c.sbuf.data() + at, n);
            to += n;
            len -= static_cast<uint32_t>(n);
            at = 0;
        }
    }
    // A segment with no connection behind it: RST as RFC 9293 section 3.10.7.1 says.
    void send_reset_for(const tcp_header& in, uint32_t seg_len, ipv4_addr src)
    {
        conn tmp(p.rto);
        tmp.lport = in.dport;
        tmp.rport = in.sport;
        tmp.rip = src;
        ++self.m_stats.resets_out;
        if (in.flags & tcp_flag::ack) {
            output_rst(tmp, in.ack, false);
        } else {
            tmp.rcv_nxt = in.seq + seg_len;
            output_rst(tmp, 0, true);
        }
    }
    void output_rst(conn& c, tcp_seq seq, bool with_ack)
    {
        charge(costs.out, costs.tx_segment);
        pkt b;
        if (!stack.alloc(b))
            return;
        tcp_header h;
        h.sport = c.lport;
        h.dport = c.rport;
        h.seq = seq;
        h.flags = tcp_flag::rst;
        if (with_ack) {
            h.flags |= tcp_flag::ack;
            h.ack = c.rcv_nxt;
        }
        b.off = payload_off - tcp_min_header_len;
        b.len = tcp_min_header_len;
        b.request = stack.core().request();
        if (build_tcp(b.bytes(), b.capacity - b.off, h, 0, stack.ip(), c.rip) == 0) {
            stack.release(b);
            return;
        }
        if (costs.software_checksum)
            checksum(costs.out, b.len);
        ++self.m_stats.segments_out;
        stack.ip_output(b, ip_proto::tcp, c.rip);
    }
    // A segment without data goes at SND.MAX, not SND.NXT: after a timeout pulled SND.NXT back for
    // go-back-N, the peer may hold everything up to SND.MAX, and would find an ACK at the old
    // SND.NXT below its window and drop it, ACK field and all (both ends doing so loop forever).
    // Linux never pulls snd_nxt back, which amounts to the same.
    void send_ack(conn& c) { output(c, c.snd_max, 0, tcp_flag::ack); }

    // ---- Linux's delayed-ACK engine (adaptive_ack; net/ipv4/tcp_input.c, tcp_output.c, tcp_timer.c)
    static constexpr uint64_t delack_max_ns = 200'000'000;   // TCP_DELACK_MAX
    static constexpr uint64_t ato_ceiling_ns = 500'000'000;  // HZ / 2
    static constexpr uint32_t max_quickacks = 16;            // TCP_MAX_QUICKACKS
    // tcp_incr_quickack: enough quick ACKs to open the peer's window (half the window's segments).
    void incr_quickack(conn& c)
    {
        uint32_t n = free_space(c) / (2 * std::max<uint32_t>(c.rcv_mss, 1));
        if (n == 0)
            n = 2;
        c.quick = std::max(c.quick, std::min(n, max_quickacks));
    }
    // tcp_event_data_recv: the ACK timeout follows the inter-arrival time; the first data, and
    // data after a gap longer than the RTO, are acknowledged at once.
    void event_data_recv(conn& c)
    {
        const uint64_t t = now();
        const uint64_t ato_min = p.delayed_ack_ns;
        if (c.ato_ns == 0) {
            incr_quickack(c);
            c.ato_ns = ato_min;
        } else {
            const uint64_t m = t - c.lrcvtime_ns;
            if (m <= ato_min / 2)
                c.ato_ns = c.ato_ns / 2 + ato_min / 2;
            else if (m < c.ato_ns)
                c.ato_ns = std::min(c.ato_ns / 2 + m, c.rto.rto_ns());
            else if (m > c.rto.rto_ns())
                incr_quickack(c);
        }
        c.lrcvtime_ns = t;
    }
    // tcp_event_data_sent: a reply within the ACK timeout of the last data makes the connection
    // interactive; its ACKs then wait to ride on the replies.
    void event_data_sent(conn& c)
    {
        if (c.ato_ns != 0 && now() - c.lrcvtime_ns < c.ato_ns)
            c.pingpong = true;
    }
    // tcp_dec_quickack_mode, for the one segment carrying an ACK.
    void event_ack_sent(conn& c)
    {
        if (c.quick == 0)
            return;
        if (--c.quick == 0)
            c.ato_ns = p.delayed_ack_ns;
    }
    // tcp_send_delayed_ack's timeout: the estimate, bounded (when above the minimum) by 200 ms for
    // an interactive connection or 500 ms, and by the smoothed RTT if it is larger than the minimum.
    uint64_t delack_timeout(const conn& c) const
    {
        if (!p.adaptive_ack)
            return p.delayed_ack_ns;
        uint64_t ato = c.ato_ns != 0 ? c.ato_ns : p.delayed_ack_ns;
        if (ato > p.delayed_ack_ns) {
            uint64_t max_ato = c.pingpong ? delack_max_ns : ato_ceiling_ns;
            if (c.rto.has_sample())
                max_ato = std::min(max_ato, std::max(c.rto.srtt_ns(), p.delayed_ack_ns));
            ato = std::min(ato, max_ato);
        }
        return ato;
    }
    // tcp_delack_timer_handler: a delayed ACK that had to fire inflates the estimate, or ends
    // interactive mode.
    void delack_missed(conn& c)
    {
        if (!p.adaptive_ack)
            return;
        if (!c.pingpong) {
            c.ato_ns = std::min(std::max(c.ato_ns, p.delayed_ack_ns) * 2, c.rto.rto_ns());
        } else {
            c.pingpong = false;
            c.ato_ns = p.delayed_ack_ns;
        }
    }
    void send_syn(conn& c)
    {
        const bool passive = c.sm.state() == tcp_state::syn_received;
        output(c, c.iss, 0, passive ? (tcp_flag::syn | tcp_flag::ack) : tcp_flag::syn);
        c.snd_nxt = seq_max(c.snd_nxt, c.iss + 1);
        c.snd_max = seq_max(c.snd_max, c.snd_nxt);
    }

    // Room for `need` bytes in the ring, which starts small: a connection that sends little holds
    // little memory (1,600 idle connections must not hold 1,600 full buffers).
    void grow_send_buffer(conn& c, size_t need)
    {
        const size_t cap = std::min<size_t>(p.snd_buf, std::max<size_t>({need, 2 * c.sbuf.size(), 4096}));
        std::vector<uint8_t> bigger(cap);
        if (c.slen > 0)
            copy_out(c, c.sbuf_seq, bigger.data(), static_cast<uint32_t>(c.slen));
        c.sbuf = std::move(bigger);
        c.shead = 0;
    }
    // Sends what the windows allow (RFC 9293 section 3.8.6.2.1 sender side; RFC 5681 cwnd), and
    // the FIN after the last byte.
    void push(conn& c, bool force = false)
    {
        const tcp_state s = c.sm.state();
        const bool can_send = s == tcp_state::established || s == tcp_state::close_wait || s == tcp_state::fin_wait_1
                              || s == tcp_state::closing || s == tcp_state::last_ack;
        if (!can_send)
            return;
        for (;;) {
            if (seq_lt(c.snd_nxt, c.sbuf_seq))
                c.snd_nxt = c.sbuf_seq;
            const uint32_t unsent = seq_lt(c.snd_nxt, c.data_end()) ? c.data_end() - c.snd_nxt : 0;
            const bool fin_due = c.fin_queued && (!c.fin_sent || seq_leq(c.snd_nxt, c.fin_seq));
            if (unsent == 0 && !fin_due)
                break;
            const uint32_t wnd = std::min(c.snd_wnd, c.cwnd + c.limited);
            const uint32_t in_flight = c.snd_nxt - c.snd_una;
            const uint32_t usable = wnd > in_flight ? wnd - in_flight : 0;
            uint32_t n = std::min<uint32_t>({unsent, c.snd_mss, usable});
            if (unsent > 0) {
                // Sender silly window avoidance: a full segment, or all that is left, or half the
                // largest window the peer offered; Nagle is off (nodelay), else a small tail also
                // waits for the outstanding data's ACK.
                const bool full = n == c.snd_mss;
                const bool all = n == unsent && (p.nodelay || in_flight == 0);
                const bool half = n > 0 && n >= c.max_snd_wnd / 2;
                if (n == 0 || !(full || all || half || force)) {
                    // Nothing in flight to bring an ACK that opens the window: the persist timer
                    // (RFC 9293 section 3.8.6.1).
                    if (in_flight == 0 && c.deadline[t_rexmit] == 0)
                        start_persist(c);
                    break;
                }
                force = false;
            }
            const bool with_fin = c.fin_queued && c.snd_nxt + n == c.data_end();
            if (n == 0 && !with_fin)
                break;
            uint8_t flags = tcp_flag::ack;
            if (with_fin)
                flags |= tcp_flag::fin;
            const tcp_seq seq = c.snd_nxt;
            const bool retransmission = seq_lt(seq, c.snd_max);
            if (retransmission)
                ++self.m_stats.retransmits;
            output(c, seq, n, flags);
            c.snd_nxt = seq + n + (with_fin ? 1 : 0);
            if (with_fin) {
                c.fin_sent = true;
                c.fin_seq = seq + n;
            }
            if (seq_gt(c.snd_nxt, c.snd_max))
                c.snd_max = c.snd_nxt;
            if (!retransmission && !c.rtt_active && n > 0) {
                c.rtt_active = true;
                c.rtt_seq = seq + n;
                c.rtt_sent_ns = now();
            }
            if (c.deadline[t_rexmit] == 0 || c.persist) {
                c.persist = false;
                arm_rexmit(c);
            }
            if (with_fin)
                break;
        }
    }
    void start_persist(conn& c)
    {
        c.persist = true;
        arm_rexmit(c);
    }
    // Retransmits the first unacknowledged segment (fast retransmit, a NewReno partial ACK).
    void retransmit_first(conn& c)
    {
        const tcp_seq saved = c.snd_nxt;
        c.snd_nxt = c.snd_una;
        const uint32_t unsent = seq_lt(c.snd_una, c.data_end()) ? c.data_end() - c.snd_una : 0;
        const uint32_t n = std::min<uint32_t>(unsent, c.snd_mss);
        const bool with_fin = c.fin_sent && c.snd_una + n == c.fin_seq;
        if (n == 0 && !with_fin)
            return;
        ++self.m_stats.retransmits;
        output(c, c.snd_una, n, tcp_flag::ack | (with_fin ? tcp_flag::fin : 0));
        c.rtt_active = false;   // Karn: this range's ACK gives no sample
        c.snd_nxt = seq_max(saved, c.snd_una + n + (with_fin ? 1 : 0));
        arm_rexmit(c);
    }

    // ---- the TCB's end ----------------------------------------------------------------------
    void free_buffers(conn& c)
    {
        for (conn::parked& b : c.parked_q)
            stack.release(b.seg);
        c.parked_q.clear();
        for (pkt& b : c.rq)
            stack.release(b);
        c.rq.clear();
        for (auto& [s, b] : c.ooo)
            stack.release(b);
        c.ooo.clear();
        c.ooo_bytes = 0;
    }
    // The connection is gone (delete_tcb): no timers, no demux; the record stays for the user
    // until close() or abort() if they have not called one yet.
    void delete_tcb(conn& c)
    {
        if (!c.tcb_alive)
            return;
        c.tcb_alive = false;
        for (unsigned k = 0; k < timer_kinds; ++k)
            disarm(c, static_cast<timer_kind>(k));
        demux.erase(tuple_key(c.rip, c.rport, c.lport));
        c.slen = 0;
        ++self.m_stats.connections_closed;
        if (c.parent != 0 && !c.accepted) {
            // Never accepted: the listener forgets it; nobody else holds its id.
            if (conn* l = find(c.parent)) {
                auto it = std::find(l->accept_q.begin(), l->accept_q.end(), c.id);
                if (it != l->accept_q.end())
                    l->accept_q.erase(it);
                else if (l->pending > 0)
                    --l->pending;
            }
            c.user_closed = true;
        }
        if (c.user_closed)
            erase(c.id);
    }
    void erase(tcp_id id)
    {
        auto it = conns.find(id);
        if (it == conns.end())
            return;
        free_buffers(*it->second);
        conns.erase(it);
    }

    // ---- ownership (Linux's lock_sock/release_sock) -----------------------------------------
    struct hold {
        impl& m;
        tcp_id id;
        hold(impl& mm, conn& c) : m(mm), id(c.id) { ++c.owned; }
        ~hold() { m.release_conn(id); }
        hold(const hold&) = delete;
        hold& operator=(const hold&) = delete;
    };
    // Drops one hold on `id`; the last one first processes, still holding, what waited: segments
    // in arrival order, then timers that expired meanwhile.
    void release_conn(tcp_id id);
    void run_parked(conn* c, conn::parked& b);
    void fire_timer(conn& c, timer_kind k);

    // ---- input ------------------------------------------------------------------------------
    void input(pkt& seg, const ipv4_header& ip);
    void dispatch(pkt& seg, const tcp_header& h, uint32_t data_len, ipv4_addr src);
    void listen_input(conn& l, pkt& seg, const tcp_header& h, const tcp_syn_options& opt, ipv4_addr src,
                      uint32_t data_len);
    void conn_input(conn& c, pkt& seg, const tcp_header& h, uint32_t data_len, bool& kept);
    void process_ack(conn& c, const tcp_header& h, uint32_t data_len);
    void take_data(conn& c, pkt& seg, tcp_seq seq, uint32_t len, bool& kept, bool& ack_now);
    void take_options(conn& c, const tcp_syn_options& o)
    {
        c.snd_mss = std::min<uint16_t>(o.mss ? o.mss : tcp_default_mss, p.mss);
        c.ws_ok = o.wscale >= 0;
        c.snd_wscale = c.ws_ok ? static_cast<unsigned>(o.wscale) : 0;
        c.rcv_wscale = c.ws_ok ? p.wscale : 0;
    }
    void established(conn& c)
    {
        c.cwnd = p.initial_cwnd_segments * c.snd_mss;
        c.rto.on_handshake_done(c.syn_timed_out);
        c.retries = 0;
        ++self.m_stats.connections_opened;
    }
    void deliver_fin(conn& c);
    // After the user took data: offer the freed space if that at least doubles the window
    // (Linux tcp_cleanup_rbuf), so a sender stopped by a small window learns of it.
    void window_update(conn& c)
    {
        if (!c.tcb_alive || c.rcv_fin)
            return;
        const tcp_state s = c.sm.state();
        if (s != tcp_state::established && s != tcp_state::fin_wait_1 && s != tcp_state::fin_wait_2)
            return;
        const uint32_t offered = offered_window(c);
        const tcp_window_choice w = choose_rcv_window(free_space(c), offered, p.rcv_buf, p.mss, c.rcv_wscale);
        if (w.window > offered && w.window >= 2 * offered)
            send_ack(c);
    }
    static uint32_t offered_window(const conn& c) { return seq_gt(c.rcv_adv, c.rcv_nxt) ? c.rcv_adv - c.rcv_nxt : 0; }
    uint32_t free_space(const conn& c) const
    {
        const size_t used = c.rq_bytes + c.ooo_bytes;
        return used >= p.rcv_buf ? 0 : static_cast<uint32_t>(p.rcv_buf - used);
    }
    void on_rexmit_timer(conn& c);
    void abort_conn(conn& c, bool send_rst);
};

// ---- input --------------------------------------------------------------------------------------

void tcp_layer::impl::input(pkt& seg, const ipv4_header& ip)
{
    ++self.m_stats.segments_in;
    const auto parsed = parse_tcp(seg.bytes(), seg.len, ip.src, ip.dst, true);
    if (!parsed) {
        charge(costs.in, costs.rx_segment);
        ++self.m_stats.bad_segments;
        return stack.drop_malformed(seg, parsed.error());
    }
    const tcp_header& h = parsed.header();
    const uint32_t data_len = static_cast<uint32_t>(parsed.payload_length());
    charge(costs.in, data_len == 0 && costs.ack ? costs.ack : costs.rx_segment);
    if (costs.software_checksum) {
        // The frame's first line (the headers) was touched by the driver; the rest is touched here.
        cpu_core& core = stack.core();
        const unsigned lines = lines_of(seg.off % cache_line_bytes + seg.len);
        if (lines > 1)
            core.touch_dma_lines(costs.in, lines - 1, costs.dma_in_llc, true);
        checksum(costs.in, seg.len);
    }
    seg.off += static_cast<uint32_t>(parsed.payload_offset());
    seg.len = data_len;
    dispatch(seg, h, data_len, ip.src);
}

void tcp_layer::impl::dispatch(pkt& seg, const tcp_header& h, uint32_t data_len, ipv4_addr src)
{
    const request_id req = seg.request;
    bool kept = false;
    tcp_id held = 0;
    auto it = demux.find(tuple_key(src, h.sport, h.dport));
    if (it != demux.end()) {
        conn& c = *conns.at(it->second);
        if (c.owned > 0) {
            // Taken inside the connection's own code: processed now, this segment would find
            // that code's state half-updated (a segment being sent not yet counted in SND.NXT, so
            // the ACK's push sends it again). It waits for the holder.
            c.parked_q.push_back(conn::parked{seg, h, data_len, src});
            return;
        }
        held = c.id;
        ++c.owned;
        conn_input(c, seg, h, data_len, kept);
    } else {
        auto l = listeners.find(h.dport);
        if (l != listeners.end()) {
            listen_input(*conns.at(l->second), seg, h, parse_syn_options(h), src, data_len);
        } else if (!(h.flags & tcp_flag::rst)) {
            ++self.m_stats.no_listener;
            const uint32_t seg_len = data_len + ((h.flags & tcp_flag::syn) ? 1 : 0) + ((h.flags & tcp_flag::fin) ? 1 : 0);
            send_reset_for(h, seg_len, src);
        }
    }
    if (!kept) {
        stack.release(seg);
        // Nothing of this segment reaches a user (a pure ACK, a handshake or a control segment):
        // its work is no request's of its own and goes, as work before a packet is identified
        // does, to the next request on this core.
        stack.core().fold_request(req);
    }
    if (held != 0)
        release_conn(held);
}

void tcp_layer::impl::release_conn(tcp_id id)
{
    for (;;) {
        conn* c = find(id);
        if (!c)
            return;   // gone while held: its backlog went with it
        if (c->owned > 1 || (c->parked_q.empty() && c->deferred_timers == 0)) {
            --c->owned;
            return;
        }
        if (!c->parked_q.empty()) {
            conn::parked b = c->parked_q.front();
            c->parked_q.pop_front();
            if (!c->tcb_alive) {
                // The TCB went away meanwhile: what waited is demultiplexed anew, as if it
                // arrived now (a listener's, or answered with a reset).
                std::deque<conn::parked> rest;
                rest.swap(c->parked_q);
                rest.push_front(b);
                c->deferred_timers = 0;
                --c->owned;
                for (conn::parked& r : rest)
                    run_parked(nullptr, r);
                return;
            }
            run_parked(c, b);
            continue;
        }
        for (unsigned k = 0; k < timer_kinds; ++k) {
            if (c->deferred_timers & (1u << k)) {
                c->deferred_timers &= ~(1u << k);
                fire_timer(*c, static_cast<timer_kind>(k));
                break;   // `c` may be gone: look again
            }
        }
    }
}

// A parked segment, processed as its arrival would have been: its work is its own request's.
void tcp_layer::impl::run_parked(conn* c, conn::parked& b)
{
    cpu_core& core = stack.core();
    const request_id saved = core.request();
    core.set_request(b.seg.request);
    if (c == nullptr) {
        dispatch(b.seg, b.h, b.data_len, b.src);
    } else {
        const request_id req = b.seg.request;
        bool kept = false;
        conn_input(*c, b.seg, b.h, b.data_len, kept);
        if (!kept) {
            stack.release(b.seg);
            core.fold_request(req);
        }
    }
    core.set_request(saved);
}

void tcp_layer::impl::listen_input(conn& l, pkt& seg, const tcp_header& h, const tcp_syn_options& opt,
                                   ipv4_addr src, uint32_t data_len)
{
    (void)seg;
    if (h.flags & tcp_flag::rst)
        return;
    if (h.flags & tcp_flag::ack) {
        // RFC 9293 section 3.10.7.2: <SEQ=SEG.ACK><CTL=RST>
        send_reset_for(h, data_len, src);
        return;
    }
    if (!(h.flags & tcp_flag::syn))
        return;
    if (l.accept_q.size() + l.pending >= l.backlog) {
        ++self.m_stats.accept_overflow;   // dropped: the peer's SYN retransmission tries again
        return;
    }
    conn& c = make_conn();
    c.parent = l.id;
    c.rip = src;
    c.rport = h.sport;
    c.lport = h.dport;
    c.sm.on_user(tcp_user_call::passive_open);
    tcp_segment_in in;
    in.syn = true;
    c.sm.on_segment(in);
    take_options(c, opt);
    c.irs = h.seq;
    c.rcv_nxt = h.seq + 1;
    c.rcv_adv = c.rcv_nxt;
    c.iss = next_random();
    c.snd_una = c.snd_nxt = c.snd_max = c.iss;
    c.sbuf_seq = c.iss + 1;
    c.snd_wnd = h.window;   // never scaled on a SYN
    c.max_snd_wnd = c.snd_wnd;
    c.snd_wl1 = h.seq;
    c.snd_wl2 = c.iss;
    c.recover = c.iss;
    demux[tuple_key(c.rip, c.rport, c.lport)] = c.id;
    ++l.pending;
    hold g(*this, c);
    send_syn(c);
    arm_rexmit(c);
}

void tcp_layer::impl::conn_input(conn& c, pkt& seg, const tcp_header& h, uint32_t data_len, bool& kept)
{
    const uint32_t ready_before = ready_of(c);
    const tcp_id id = c.id;
    const tcp_id parent = c.parent;
    const tcp_state from = c.sm.state();
    const bool syn = h.flags & tcp_flag::syn, fin = h.flags & tcp_flag::fin, rst = h.flags & tcp_flag::rst,
               ack = h.flags & tcp_flag::ack;
    tcp_segment_in in;
    in.syn = syn;
    in.ack = ack;
    in.rst = rst;
    in.fin = fin;

    if (from == tcp_state::syn_sent) {
        in.ack_acceptable = ack_acks_new_data(h.ack, c.snd_una, c.snd_max);
        const tcp_transition r = c.sm.on_segment(in);
        if (r.has(tcp_action::send_rst)) {
            ++self.m_stats.resets_out;
            output_rst(c, h.ack, false);
        }
        if (r.has(tcp_action::notify_refused)) {
            ++self.m_stats.resets_in;
            c.err = true;
            delete_tcb(c);
            return notify(id, ready_before, true);
        }
        if (!r.accepted)
            return;
        const tcp_syn_options opt = parse_syn_options(h);
        take_options(c, opt);
        c.irs = h.seq;
        c.rcv_nxt = h.seq + 1;
        c.rcv_adv = c.rcv_nxt;
        c.snd_wnd = h.window;
        c.max_snd_wnd = c.snd_wnd;
        c.snd_wl1 = h.seq;
        c.snd_wl2 = h.ack;
        if (c.sm.state() == tcp_state::syn_received) {
            // Simultaneous open: our SYN again, now with the ACK of theirs.
            send_syn(c);
            return;
        }
        // The SYN-ACK: its ACK covers our SYN.
        if (c.rtt_active)
            c.rto.on_ack(c.rtt_sent_ns, tcp_transmission::original, now());
        c.rtt_active = false;
        c.snd_una = h.ack;
        disarm(c, t_rexmit);
        established(c);
        if (fin) {
            c.rcv_nxt += 1;
            c.rcv_fin = true;
        }
        send_ack(c);
        push(c);
        return notify(id, ready_before, true);
    }

    // TIME-WAIT ignores resets (RFC 1337 section 3, fix F1): a RST answering a stray duplicate of
    // our last ACK must not cut 2 MSL short ("TIME-WAIT assassination").
    if (from == tcp_state::time_wait && rst)
        return;

    // Synchronized states and SYN-RECEIVED (RFC 9293 section 3.10.7.4).
    const uint32_t seg_len = data_len + (syn ? 1 : 0) + (fin ? 1 : 0);
    const uint32_t rcv_wnd = offered_window(c);
    in.seq_acceptable = segment_acceptable(h.seq, seg_len, c.rcv_nxt, rcv_wnd);
    in.seq_exact = h.seq == c.rcv_nxt;
    if (from == tcp_state::syn_received)
        in.ack_acceptable = ack_acks_new_data(h.ack, c.snd_una, c.snd_max);
    else
        in.ack_acceptable = seq_leq(h.ack, c.snd_max);
    in.fin_acked = c.fin_sent && seq_gt(h.ack, c.fin_seq);
    // The FIN counts (step eight) only when it is next in sequence once this segment's data is in.
    const tcp_seq data_start = h.seq + (syn ? 1 : 0);
    const bool data_in_order = seq_leq(data_start, c.rcv_nxt) && seq_geq(data_start + data_len, c.rcv_nxt)
                               && seq_leq(data_start + data_len, c.rcv_nxt + rcv_wnd);
    in.fin = fin && data_in_order && !c.rcv_fin;
    if (fin && !in.fin && in.seq_acceptable && !c.rcv_fin && seq_gt(data_start, c.rcv_nxt)) {
        c.fin_pending = true;
        c.fin_pending_seq = data_start + data_len;
    }
    if (!in.seq_acceptable && !rst && data_len > 0)
        ++self.m_stats.duplicates;
    const tcp_transition r = c.sm.on_segment(in);
    if (rst && r.accepted) {
        ++self.m_stats.resets_in;
        if (r.has(tcp_action::notify_reset) || r.has(tcp_action::notify_refused))
            c.err = true;
        if (c.sm.state() == tcp_state::listen || r.has(tcp_action::delete_tcb)) {
            if (c.sm.state() == tcp_state::listen)
                c.user_closed = c.user_closed || !c.accepted;
            delete_tcb(c);
        }
        if (find(id))
            notify(id, ready_before, true);
        return;
    }
    if (r.has(tcp_action::send_rst)) {
        ++self.m_stats.resets_out;
        output_rst(c, h.ack, false);
    }
    if (!r.accepted) {
        if (r.has(tcp_action::send_ack)) {
            // An unacceptable segment without data is answered at most every 500 ms (Linux's
            // tcp_oow_rate_limited, tcp_invalid_ratelimit): two ends that disagree about the
            // window would otherwise trade ACKs forever.
            const bool control_only = data_len == 0 && !syn && !fin;
            const uint64_t t = now();
            if (!control_only || c.last_oow_ack_ns == 0 || t - c.last_oow_ack_ns >= oow_ack_interval_ns) {
                if (control_only)
                    c.last_oow_ack_ns = t;
                send_ack(c);
            }
        }
        return;
    }
    if (c.sm.state() == tcp_state::listen) {
        // A passive SYN-RECEIVED taking a new in-window SYN returns to LISTEN (RFC 9293 section
        // 3.10.7.4, fourth step): for us the embryonic connection is gone; the listener remains.
        c.user_closed = true;
        delete_tcb(c);
        return;
    }
    if (r.has(tcp_action::delete_tcb)) {   // LAST-ACK: our FIN acknowledged
        delete_tcb(c);
        if (find(id))
            notify(id, ready_before);
        return;
    }
    if (from == tcp_state::syn_received && c.sm.state() != tcp_state::syn_received) {
        disarm(c, t_rexmit);
        if (c.rtt_active)
            c.rto.on_ack(c.rtt_sent_ns, tcp_transmission::original, now());
        c.rtt_active = false;
        c.snd_una = h.ack;
        c.snd_wnd = static_cast<uint32_t>(h.window) << c.snd_wscale;
        c.max_snd_wnd = std::max(c.max_snd_wnd, c.snd_wnd);
        c.snd_wl1 = h.seq;
        c.snd_wl2 = h.ack;
        established(c);
        if (parent != 0) {
            if (conn* l = find(parent)) {
                if (l->pending > 0)
                    --l->pending;
                const uint32_t lb = ready_of(*l);
                l->accept_q.push_back(id);
                notify(parent, lb, true);
            }
        }
    }
    bool ack_now = false;
    if (ack)
        process_ack(c, h, data_len);
    if (!find(id))
        return;
    const bool can_receive = from == tcp_state::established || from == tcp_state::syn_received
                             || from == tcp_state::fin_wait_1 || from == tcp_state::fin_wait_2;
    if (data_len > 0 && can_receive)
        take_data(c, seg, data_start, data_len, kept, ack_now);
    else if (data_len > 0)
        ack_now = true;
    if (in.fin) {
        c.rcv_nxt += 1;
        c.rcv_fin = true;
        c.fin_pending = false;
        ack_now = true;
    } else if (c.fin_pending && !c.rcv_fin && c.rcv_nxt == c.fin_pending_seq) {
        deliver_fin(c);   // the gap before an earlier FIN was filled
        ack_now = true;
    }
    if (r.has(tcp_action::start_2msl) || c.sm.state() == tcp_state::time_wait) {
        disarm(c, t_rexmit);
        arm(c, t_timewait, now() + p.time_wait_ns);
    } else if (c.sm.state() == tcp_state::fin_wait_2 && c.user_closed && c.deadline[t_timewait] == 0) {
        // Closed by the user and waiting for a FIN that may never come: given up after as long as
        // TIME-WAIT lasts (Linux's tcp_fin_timeout for an orphaned socket, 60 s).
        arm(c, t_timewait, now() + p.time_wait_ns);
    }
    if (r.has(tcp_action::send_ack))
        ack_now = true;
    const uint64_t out_before = self.m_stats.segments_out;
    push(c);   // new room in the windows, or data waiting for the handshake
    // Data sent just now carried the ACK (as Linux's tcp_data_snd_check before tcp_ack_snd_check):
    // no separate one with the same number after it; except the duplicate ACK an out-of-order
    // segment owes, which counts for the sender's fast retransmit only without data (RFC 5681
    // section 2), and which Linux's SACK blocks would carry instead.
    const bool dupack = c.dupack_due;
    c.dupack_due = false;
    if (ack_now && (self.m_stats.segments_out == out_before || dupack)) {
        send_ack(c);
    } else if (c.unacked_bytes > 0 && c.deadline[t_delack] == 0) {
        arm(c, t_delack, now() + delack_timeout(c));
    }
    notify(id, ready_before, kept);
}

void tcp_layer::impl::deliver_fin(conn& c)
{
    tcp_segment_in in;
    in.ack = true;
    in.fin = true;
    in.fin_acked = c.fin_sent && seq_gt(c.snd_una, c.fin_seq);
    const tcp_transition r = c.sm.on_segment(in);
    c.rcv_nxt += 1;
    c.rcv_fin = true;
    c.fin_pending = false;
    if (r.has(tcp_action::start_2msl)) {
        disarm(c, t_rexmit);
        arm(c, t_timewait, now() + p.time_wait_ns);
    }
}

void tcp_layer::impl::process_ack(conn& c, const tcp_header& h, uint32_t data_len)
{
    const uint32_t wnd = static_cast<uint32_t>(h.window) << c.snd_wscale;
    const bool syn_or_fin = h.flags & (tcp_flag::syn | tcp_flag::fin);
    if (seq_gt(h.ack, c.snd_una) && seq_leq(h.ack, c.snd_max)) {
        const uint32_t acked = h.ack - c.snd_una;
        touch_tx(c, costs.in);
        if (seq_gt(h.ack, c.sbuf_seq) && c.slen > 0) {
            const uint32_t gone = std::min<uint32_t>(h.ack - c.sbuf_seq, static_cast<uint32_t>(c.slen));
            c.shead = (c.shead + gone) % c.sbuf.size();
            c.slen -= gone;
            c.sbuf_seq += gone;
        }
        if (c.rtt_active && seq_geq(h.ack, c.rtt_seq)) {
            c.rto.on_ack(c.rtt_sent_ns, tcp_transmission::original, now());
            c.rtt_active = false;
        }
        if (c.in_recovery) {
            if (seq_geq(h.ack, c.recover)) {
                // Full acknowledgement (RFC 6582 section 3.2 step 3).
                c.in_recovery = false;
                c.cwnd = std::min(c.ssthresh, std::max(c.flight() - acked, static_cast<uint32_t>(c.snd_mss)) + c.snd_mss);
            } else {
                // Partial: retransmit the next hole, deflate by what was acknowledged.
                c.snd_una = h.ack;
                retransmit_first(c);
                c.cwnd = c.cwnd > acked ? c.cwnd - acked + c.snd_mss : c.snd_mss;
            }
        } else if (c.cwnd < c.ssthresh) {
            c.cwnd += std::min<uint32_t>(acked, c.snd_mss);   // slow start (RFC 5681 section 3.1)
        } else {
            c.cwnd += std::max<uint32_t>(1, c.snd_mss * c.snd_mss / c.cwnd);   // congestion avoidance
        }
        c.dupacks = 0;
        c.limited = 0;
        c.retries = 0;
        c.snd_una = h.ack;
        if (seq_lt(c.snd_nxt, c.snd_una))
            c.snd_nxt = c.snd_una;
        if (c.snd_una == c.snd_max)
            disarm(c, t_rexmit);
        else if (!c.in_recovery || seq_geq(h.ack, c.recover))
            arm_rexmit(c);   // RFC 6298 section 5.3
        c.persist = false;
    } else if (h.ack == c.snd_una && data_len == 0 && !syn_or_fin && wnd == c.snd_wnd && c.snd_max != c.snd_una) {
        // A duplicate ACK (RFC 5681 section 2).
        ++self.m_stats.dup_acks;
        ++c.dupacks;
        // NewReno (RFC 6582 section 3.2 step 2): not for duplicates of an ACK below `recover`,
        // which answer the retransmissions after a timeout.
        if (c.dupacks == p.dupack_threshold && !c.in_recovery && seq_geq(h.ack, c.recover)) {
            ++self.m_stats.fast_retransmits;
            c.ssthresh = std::max<uint32_t>(c.flight() / 2, 2u * c.snd_mss);
            c.recover = c.snd_max;
            c.in_recovery = true;
            c.limited = 0;
            retransmit_first(c);
            c.cwnd = c.ssthresh + p.dupack_threshold * c.snd_mss;
        } else if (c.in_recovery) {
            c.cwnd += c.snd_mss;   // each further duplicate: a segment left the network
        } else if (c.dupacks < p.dupack_threshold) {
            // Limited transmit (RFC 3042): each of the first duplicates lets one new segment out,
            // so a small window still draws the duplicates fast retransmit needs.
            c.limited = c.dupacks * c.snd_mss;
        }
    }
    // The send window (RFC 9293 section 3.10.7.4, fifth step).
    if (seq_lt(c.snd_wl1, h.seq) || (c.snd_wl1 == h.seq && seq_leq(c.snd_wl2, h.ack))) {
        c.snd_wnd = wnd;
        c.max_snd_wnd = std::max(c.max_snd_wnd, wnd);
        c.snd_wl1 = h.seq;
        c.snd_wl2 = h.ack;
    }
}

void tcp_layer::impl::take_data(conn& c, pkt& seg, tcp_seq seq, uint32_t len, bool& kept, bool& ack_now)
{
    const uint32_t rcv_wnd = offered_window(c);
    // Trim what was already received and what lies beyond the window.
    if (seq_lt(seq, c.rcv_nxt)) {
        const uint32_t skip = c.rcv_nxt - seq;
        if (skip >= len) {
            ++self.m_stats.duplicates;
            ack_now = true;
            return;
        }
        seg.off += skip;
        seg.len -= skip;
        seq = c.rcv_nxt;
        len -= skip;
    }
    const tcp_seq right = c.rcv_nxt + rcv_wnd;
    if (!seq_lt(seq, right)) {
        ack_now = true;
        return;
    }
    if (seq_gt(seq + len, right)) {
        len = right - seq;
        seg.len = len;
    }
    if (seq != c.rcv_nxt) {
        // Out of order: held, and an immediate duplicate ACK tells the sender (RFC 5681 section 4.2).
        ack_now = true;
        c.dupack_due = true;
        auto at = c.ooo.find(seq);
        if (at != c.ooo.end()) {
            if (at->second.len >= len) {
                ++self.m_stats.duplicates;
                return;
            }
            c.ooo_bytes -= at->second.len;
            stack.release(at->second);
            c.ooo.erase(at);
        }
        ++self.m_stats.out_of_order;
        c.ooo.emplace(seq, seg);
        c.ooo_bytes += len;
        kept = true;
        return;
    }
    // Starts at 536 (as Linux's tcp_initialize_rcv_mss), so small requests do not count as full.
    c.rcv_mss = std::min<uint32_t>(std::max<uint32_t>({c.rcv_mss, len, tcp_default_mss}), p.mss);
    touch_rx(c);
    if (p.adaptive_ack)
        event_data_recv(c);
    const bool filled_gap = !c.ooo.empty();
    c.rq.push_back(seg);
    c.rq_bytes += len;
    c.rcv_nxt += len;
    c.unacked_bytes += len;
    self.m_stats.bytes_in += len;
    kept = true;
    // Segments held beyond the gap follow now, trimmed of any overlap.
    while (!c.ooo.empty()) {
        auto it = c.ooo.begin();
        const tcp_seq s = it->first;
        if (seq_gt(s, c.rcv_nxt))
            break;
        pkt b = it->second;
        c.ooo.erase(it);
        c.ooo_bytes -= b.len;
        const uint32_t skip = c.rcv_nxt - s;
        if (skip >= b.len) {
            ++self.m_stats.duplicates;
            stack.release(b);
            continue;
        }
        b.off += skip;
        b.len -= skip;
        c.rq.push_back(b);
        c.rq_bytes += b.len;
        c.rcv_nxt += b.len;
        self.m_stats.bytes_in += b.len;
    }
    if (filled_gap)
        ack_now = true;   // RFC 5681 section 4.2: at once when a gap fills
    // Every second full-sized segment is acknowledged at once (RFC 1122 section 4.2.3.2); full
    // size is the largest the peer has sent, at most the MSS we offered.
    if (c.unacked_bytes >= 2u * std::max<uint32_t>(c.rcv_mss, 1))
        ack_now = true;
    if (p.adaptive_ack && c.quick > 0 && !c.pingpong)   // tcp_in_quickack_mode
        ack_now = true;
}

// ---- timers -------------------------------------------------------------------------------------

void tcp_layer::impl::abort_conn(conn& c, bool rst)
{
    if (rst) {
        ++self.m_stats.resets_out;
        output_rst(c, c.snd_max, false);
    }
    c.err = true;
    delete_tcb(c);
}

void tcp_layer::impl::on_rexmit_timer(conn& c)
{
    const tcp_state s = c.sm.state();
    if (c.persist) {
        c.persist = false;
        if (c.snd_wnd > 0) {
            push(c, true);   // a window too small to be worth it is used after all (sender SWS override)
            if (c.deadline[t_rexmit] == 0)
                start_persist(c);
            return;
        }
        // Zero-window probe: a segment below the window draws an ACK carrying the current one
        // (as Linux's tcp_xmit_probe_skb); backs off like the retransmission timer.
        output(c, c.snd_una - 1, 0, tcp_flag::ack);
        c.rto.back_off();
        start_persist(c);
        return;
    }
    if (c.snd_una == c.snd_max && s != tcp_state::syn_sent && s != tcp_state::syn_received)
        return;
    ++self.m_stats.rto_expiries;
    if (++c.retries > p.max_retransmits) {
        const uint32_t before = ready_of(c);
        const tcp_id id = c.id;
        c.sm.on_timeout(tcp_timeout::user_timeout);
        abort_conn(c, true);
        notify(id, before, true);
        return;
    }
    c.rto.back_off();
    c.rtt_active = false;
    if (s == tcp_state::syn_sent || s == tcp_state::syn_received) {
        c.syn_timed_out = true;
        ++self.m_stats.retransmits;
        send_syn(c);
        arm_rexmit(c);
        return;
    }
    // RFC 5681 section 3.1, equation 4, and the loss window.
    c.ssthresh = std::max<uint32_t>(c.flight() / 2, 2u * c.snd_mss);
    c.cwnd = c.snd_mss;
    c.in_recovery = false;
    c.recover = c.snd_max;
    c.dupacks = 0;
    c.limited = 0;
    c.snd_nxt = c.snd_una;
    disarm(c, t_rexmit);
    push(c);
    if (c.deadline[t_rexmit] == 0)
        arm_rexmit(c);
}

// ---- tcp_layer ----------------------------------------------------------------------------------

tcp_layer::tcp_layer(net_stack& stack, const tcp_params& params, const tcp_costs& costs, uint64_t seed)
    : m_stack(stack), m_impl(std::make_unique<impl>(*this, stack, params, costs, seed))
{
    stack.register_protocol(ip_proto::tcp, [this](pkt& p, const ipv4_header& ip) { m_impl->input(p, ip); });
}

tcp_layer::~tcp_layer()
{
    m_stack.unregister_protocol(ip_proto::tcp);   // later segments count as an unknown protocol
    for (auto& [id, c] : m_impl->conns)
        m_impl->free_buffers(*c);
}

tcp_id tcp_layer::listen(uint16_t port, unsigned backlog)
{
    if (port == 0 || m_impl->listeners.count(port))
        return 0;
    auto& c = m_impl->make_conn();
    c.listener = true;
    c.lport = port;
    c.backlog = std::max(1u, backlog);
    c.sm.on_user(tcp_user_call::passive_open);
    m_impl->listeners[port] = c.id;
    return c.id;
}

tcp_id tcp_layer::accept(tcp_id listener, sock_addr* peer)
{
    auto* l = m_impl->find(listener);
    if (!l || !l->listener || l->accept_q.empty())
        return 0;
    const tcp_id id = l->accept_q.front();
    l->accept_q.pop_front();
    auto* c = m_impl->find(id);
    if (!c)
        return 0;
    c->accepted = true;
    c->parent = 0;
    if (peer)
        *peer = sock_addr{c->rip, c->rport};
    return id;
}

tcp_id tcp_layer::connect(ipv4_addr dst, uint16_t dport, uint16_t sport)
{
    impl& m = *m_impl;
    if (sport == 0) {
        for (unsigned tries = 0; tries <= ephemeral_last - ephemeral_first; ++tries) {
            const uint16_t cand = m.next_port;
            m.next_port = m.next_port == ephemeral_last ? ephemeral_first : m.next_port + 1;
            if (!m.demux.count(tuple_key(dst, dport, cand)) && !m.listeners.count(cand)) {
                sport = cand;
                break;
            }
        }
        if (sport == 0)
            return 0;
    } else if (m.demux.count(tuple_key(dst, dport, sport))) {
        return 0;
    }
    auto& c = m.make_conn();
    impl::hold g(m, c);
    c.rip = dst;
    c.rport = dport;
    c.lport = sport;
    c.iss = m.next_random();
    c.snd_una = c.snd_nxt = c.snd_max = c.iss;
    c.sbuf_seq = c.iss + 1;
    c.recover = c.iss;
    c.sm.on_user(tcp_user_call::active_open);
    m.demux[tuple_key(dst, dport, sport)] = c.id;
    c.rtt_active = true;
    c.rtt_sent_ns = m.now();
    m.send_syn(c);
    m.arm_rexmit(c);
    return c.id;
}

size_t tcp_layer::send(tcp_id id, const uint8_t* data, size_t len)
{
    auto* c = m_impl->find(id);
    if (!c || c->listener || !c->tcb_alive || c->fin_queued)
        return 0;
    const tcp_state s = c->sm.state();
    if (s != tcp_state::established && s != tcp_state::close_wait)
        return 0;
    impl::hold g(*m_impl, *c);
    m_impl->touch_tx(*c, m_impl->costs.out);
    const size_t n = std::min<size_t>(len, m_impl->p.snd_buf - c->slen);
    if (c->slen + n > c->sbuf.size())
        m_impl->grow_send_buffer(*c, c->slen + n);
    size_t at = (c->shead + c->slen) % c->sbuf.size();
    for (size_t done = 0; done < n;) {
        const size_t k = std::min(n - done, c->sbuf.size() - at);
        std::memcpy(c->sbuf.data() + at, data + done, k);
        done += k;
        at = 0;
    }
    c->slen += n;
    m_impl->push(*c);
    return n;
}

size_t tcp_layer::recv(tcp_id id, uint8_t* buf, size_t len)
{
    auto* c = m_impl->find(id);
    if (!c || c->listener)
        return 0;
    impl::hold g(*m_impl, *c);
    if (!c->rq.empty())
        m_impl->touch_rx(*c);
    size_t done = 0;
    const request_id handed_before = c->last_request;
    request_id prev = no_request;
    while (done < len && !c->rq.empty()) {
        pkt& b = c->rq.front();
        // Bytes of several segments returned at once are one user read: the socket layer adopts
        // the last segment's request, so the work of the earlier ones (not handed out before) joins
        // it rather than staying in a request nobody closes.
        if (prev != no_request && prev != b.request && prev != handed_before && b.request != no_request)
            m_stack.core().merge_request(prev, b.request);
        prev = b.request;
        const size_t n = std::min<size_t>(len - done, b.len);
        std::memcpy(buf + done, b.bytes(), n);
        done += n;
        c->last_request = b.request;
        b.off += static_cast<uint32_t>(n);
        b.len -= static_cast<uint32_t>(n);
        c->rq_bytes -= n;
        if (b.len == 0) {
            m_stack.release(b);
            c->rq.pop_front();
        }
    }
    if (done > 0)
        m_impl->window_update(*c);
    return done;
}

bool tcp_layer::recv_buffer(tcp_id id, pkt& p)
{
    auto* c = m_impl->find(id);
    if (!c || c->listener || c->rq.empty())
        return false;
    impl::hold g(*m_impl, *c);
    m_impl->touch_rx(*c);
    p = c->rq.front();
    c->rq.pop_front();
    c->rq_bytes -= p.len;
    c->last_request = p.request;
    m_impl->window_update(*c);
    return true;
}

void tcp_layer::release(pkt& p)
{
    m_stack.release(p);
}

size_t tcp_layer::readable_bytes(tcp_id id) const
{
    auto* c = m_impl->find(id);
    return c ? c->rq_bytes : 0;
}

request_id tcp_layer::last_request(tcp_id id) const
{
    auto* c = m_impl->find(id);
    return c ? c->last_request : no_request;
}

void tcp_layer::close(tcp_id id)
{
    impl& m = *m_impl;
    auto* c = m.find(id);
    if (!c || c->user_closed)
        return;
    c->user_closed = true;
    if (c->listener) {
        m.listeners.erase(c->lport);
        // Connections never accepted go with it (Linux inet_csk_listen_stop resets them).
        std::vector<tcp_id> children;
        for (auto& [cid, ch] : m.conns)
            if (ch->parent == id && !ch->accepted)
                children.push_back(cid);
        for (tcp_id cid : children)
            if (auto* ch = m.find(cid))
                m.abort_conn(*ch, true);
        m.erase(id);
        return;
    }
    if (!c->tcb_alive)
        return m.erase(id);
    impl::hold g(m, *c);
    const uint32_t before = m.ready_of(*c);
    const tcp_transition r = c->sm.on_user(tcp_user_call::close);
    if (r.has(tcp_action::delete_tcb))
        return m.delete_tcb(*c);
    if (r.has(tcp_action::send_fin)) {
        c->fin_queued = true;
        m.push(*c);
    }
    m.notify(id, before);
}

void tcp_layer::abort(tcp_id id)
{
    impl& m = *m_impl;
    auto* c = m.find(id);
    if (!c)
        return;
    if (c->listener)
        return close(id);
    c->user_closed = true;
    if (!c->tcb_alive)
        return m.erase(id);
    impl::hold g(m, *c);
    const tcp_transition r = c->sm.on_user(tcp_user_call::abort);
    if (r.has(tcp_action::send_rst)) {
        ++m_stats.resets_out;
        m.output_rst(*c, c->snd_max, false);
    }
    m.delete_tcb(*c);
}

uint32_t tcp_layer::ready(tcp_id id) const
{
    auto* c = m_impl->find(id);
    return c ? m_impl->ready_of(*c) : (tcp_ready::err | tcp_ready::hup);
}

tcp_state tcp_layer::state(tcp_id id) const
{
    auto* c = m_impl->find(id);
    return c ? c->sm.state() : tcp_state::closed;
}

sock_addr tcp_layer::peer(tcp_id id) const
{
    auto* c = m_impl->find(id);
    return c ? sock_addr{c->rip, c->rport} : sock_addr{};
}

uint64_t tcp_layer::next_timer_ns() const
{
    return m_impl->timers.empty() ? UINT64_MAX : m_impl->timers.begin()->first;
}

void tcp_layer::run_timers(uint64_t now_ns)
{
    impl& m = *m_impl;
    while (!m.timers.empty() && m.timers.begin()->first <= now_ns) {
        const auto [at, key] = *m.timers.begin();
        m.timers.erase(m.timers.begin());
        const tcp_id id = static_cast<tcp_id>(key / timer_kinds);
        const auto kind = static_cast<timer_kind>(key % timer_kinds);
        auto* c = m.find(id);
        if (!c)
            continue;
        c->deadline[kind] = 0;
        if (c->owned > 0) {
            c->deferred_timers |= 1u << kind;   // run when the holder is done (tcp_release_cb)
            continue;
        }
        impl::hold g(m, *c);
        m.fire_timer(*c, kind);
    }
}

void tcp_layer::impl::fire_timer(conn& c, timer_kind kind)
{
    const tcp_id id = c.id;
    charge(costs.out, costs.timer);
    const uint32_t before = ready_of(c);
    switch (kind) {
    case t_rexmit: on_rexmit_timer(c); break;
    case t_delack:
        if (c.unacked_bytes > 0) {
            ++self.m_stats.delayed_acks;
            delack_missed(c);
            send_ack(c);
        }
        break;
    case t_timewait:   // TIME-WAIT's end, or an orphaned FIN-WAIT-2 given up
        if (c.sm.state() == tcp_state::time_wait)
            c.sm.on_timeout(tcp_timeout::time_wait_2msl);
        else
            c.sm.on_timeout(tcp_timeout::user_timeout);
        delete_tcb(c);
        break;
    default: break;
    }
    if (find(id))
        notify(id, before);
}

void tcp_layer::set_clock(std::function<uint64_t()> now_ns)
{
    m_impl->clock = std::move(now_ns);
}

size_t tcp_layer::connections() const
{
    return m_impl->conns.size();
}

// ---- parameters ---------------------------------------------------------------------------------

void tcp_layer::declare(cfg::schema& s)
{
    const tcp_params d;
    s.add_int("os.tcp.mss", d.mss, 88, 9000 - 40, "B", "MSS offered on SYNs: a 1500-byte MTU less IPv4 and TCP headers (RFC 9293 section 3.7.1)");
    s.add_int("os.tcp.rcv_buf", d.rcv_buf, 2048, 1 << 30, "B", "receive buffer per connection, the advertised window's ceiling (assumption: Linux tcp_rmem default ~128-256 KiB)");
    s.add_int("os.tcp.snd_buf", d.snd_buf, 2048, 1 << 30, "B", "send buffer per connection (assumption: as Linux tcp_wmem)");
    s.add_int("os.tcp.wscale", d.wscale, 0, 14, "", "window scale shift offered (RFC 7323 section 2; Linux picks 7 for its default buffers)");
    s.add_int("os.tcp.initial_cwnd", d.initial_cwnd_segments, 1, 1000, "segments", "initial congestion window (RFC 6928: 10)");
    s.add_int("os.tcp.dupack_threshold", d.dupack_threshold, 1, 100, "", "duplicate ACKs that trigger fast retransmit (RFC 5681 section 3.2)");
    s.add_real("os.tcp.delayed_ack_ms", d.delayed_ack_ns / 1e6, 0.001, 500, "ms", "delayed-ACK timeout (Linux TCP_DELACK_MIN 40 ms; RFC 1122 allows up to 500 ms)");
    s.add_bool("os.tcp.adaptive_ack", true,
               "the Linux-like kernel's TCP runs Linux 3.8's delayed-ACK engine (ACK timeout from the inter-arrival time, quick ACKs "
               "after the first data and after gaps longer than the RTO, ping-pong mode); the user-level stack never does (lwIP: a fixed delay)");
    s.add_real("os.tcp.time_wait_ms", d.time_wait_ns / 1e6, 0.001, 240'000, "ms", "TIME-WAIT, 2 MSL (Linux TCP_TIMEWAIT_LEN 60 s)");
    s.add_int("os.tcp.max_retransmits", d.max_retransmits, 1, 100, "", "consecutive timeouts before the connection is aborted (Linux tcp_retries2 = 15)");
    s.add_real("os.tcp.rto_min_ms", d.rto.min_rto_ns / 1e6, 0.001, 60'000, "ms", "minimum RTO (Linux TCP_RTO_MIN 200 ms; RFC 6298 says 1 s)");
    s.add_real("os.tcp.rto_initial_ms", d.rto.initial_rto_ns / 1e6, 0.001, 60'000, "ms", "RTO before the first RTT sample (RFC 6298 section 2.1: 1 s)");
    s.add_real("os.tcp.rto_max_ms", d.rto.max_rto_ns / 1e6, 1, 600'000, "ms", "largest backed-off RTO (Linux TCP_RTO_MAX 120 s; RFC 6298 section 2.5: at least 60 s)");
    s.add_bool("os.tcp.nodelay", d.nodelay, "TCP_NODELAY: no Nagle (Redis sets it)");
}

tcp_params tcp_layer::params_of(const cfg::config& c)
{
    tcp_params t;
    t.mss = static_cast<uint16_t>(c.get_int("os.tcp.mss"));
    t.rcv_buf = static_cast<uint32_t>(c.get_int("os.tcp.rcv_buf"));
    t.snd_buf = static_cast<uint32_t>(c.get_int("os.tcp.snd_buf"));
    t.wscale = static_cast<uint8_t>(c.get_int("os.tcp.wscale"));
    t.initial_cwnd_segments = static_cast<uint32_t>(c.get_int("os.tcp.initial_cwnd"));
    t.dupack_threshold = static_cast<unsigned>(c.get_int("os.tcp.dupack_threshold"));
    t.delayed_ack_ns = static_cast<uint64_t>(c.get_real("os.tcp.delayed_ack_ms") * 1e6);
    t.adaptive_ack = c.get_bool("os.tcp.adaptive_ack");
    t.time_wait_ns = static_cast<uint64_t>(c.get_real("os.tcp.time_wait_ms") * 1e6);
    t.max_retransmits = static_cast<unsigned>(c.get_int("os.tcp.max_retransmits"));
    t.rto.min_rto_ns = static_cast<uint64_t>(c.get_real("os.tcp.rto_min_ms") * 1e6);
    t.rto.initial_rto_ns = static_cast<uint64_t>(c.get_real("os.tcp.rto_initial_ms") * 1e6);
    t.rto.max_rto_ns = static_cast<uint64_t>(c.get_real("os.tcp.rto_max_ms") * 1e6);
    t.nodelay = c.get_bool("os.tcp.nodelay");
    auto fail = [&](const std::string& key, const std::string& reason) {
        const std::string origin = c.origin(key);
        return cfg::config_error(origin, 0, key, reason);
    };
    if (t.rto.min_rto_ns > t.rto.max_rto_ns)
        throw fail("os.tcp.rto_min_ms", "above os.tcp.rto_max_ms");
    if (t.rto.initial_rto_ns < t.rto.min_rto_ns || t.rto.initial_rto_ns > t.rto.max_rto_ns)
        throw fail("os.tcp.rto_initial_ms", "outside [os.tcp.rto_min_ms, os.tcp.rto_max_ms]");
    if (t.rcv_buf > (0xFFFFu << t.wscale))
        throw fail("os.tcp.rcv_buf", "larger than the window os.tcp.wscale can advertise (65535 << wscale)");
    return t;
}

} // namespace iovsim::os::net
