#pragma once
// TCP (RFC 9293) for one host's protocol stack: a kernel's (the Linux-like path) or a library OS's
// (an Arrakis application, a load generator). It registers with the stack's IP layer for protocol
// 6 and keeps the connections of the host: their TCBs (SND.*, RCV.*), the state machine of
// tcp_state.h, send and receive buffers, and timers (retransmission with the RFC 6298 estimator
// of tcp_rto.h, delayed ACK, TIME-WAIT). It is event-driven and never blocks: segments come in
// through the stack, user calls come from the socket layer of the path that hosts it, and the
// host's timer facility asks next_timer_ns() when to call run_timers(). Readiness changes are
// reported through the notify callback, so a socket layer can wake its epoll waiters.
//
// Costs: each segment's protocol processing is charged to the running core through tcp_costs; the
// copies between user buffers and the socket buffers are the caller's to charge (it knows whether
// they cross a kernel boundary).
#include <cstdint>
#include <functional>
#include <memory>

#include "os/net/pkt.h"
#include "os/net/socket_api.h"
#include "os/net/stack.h"
#include "os/net/tcp_rto.h"
#include "os/net/tcp_state.h"

namespace iovsim::cfg {
class schema;
class config;
}

namespace iovsim::os::net {

struct tcp_params {
    uint16_t mss = 1460;                     // MSS option offered: a 1500-byte MTU less IPv4 and TCP headers
    uint32_t rcv_buf = 256 * 1024;           // receive buffer per connection: the advertised window's ceiling
    uint32_t snd_buf = 256 * 1024;           // send buffer per connection
    uint8_t wscale = 7;                      // window scale shift offered (RFC 7323 section 2)
    uint32_t initial_cwnd_segments = 10;     // RFC 6928
    unsigned dupack_threshold = 3;           // fast retransmit (RFC 5681 section 3.2)
    uint64_t delayed_ack_ns = 40'000'000;    // Linux TCP_DELACK_MIN (and TCP_ATO_MIN)
    // Linux's delayed-ACK engine (icsk_ack): the ACK timeout follows the peer's inter-arrival time,
    // quick ACKs follow the first data and gaps longer than the RTO, and a connection that replies
    // within the timeout (ping-pong) delays its ACKs to ride on the reply. Off: every ACK not owed
    // at once waits delayed_ack_ns (the user-level stack's simpler rule).
    bool adaptive_ack = false;
    uint64_t time_wait_ns = 60'000'000'000;  // 2 MSL: Linux TCP_TIMEWAIT_LEN
    unsigned max_retransmits = 15;           // then the connection is aborted (Linux tcp_retries2)
    bool nodelay = true;                     // TCP_NODELAY (Redis sets it): no Nagle
    rto_params rto{200'000'000, 120'000'000'000, 1'000'000'000, 1'000'000};   // Linux: RTO min 200 ms
};

// Readiness, as epoll reports it (the ep:: bits of stream_api.h).
namespace tcp_ready {
inline constexpr uint32_t in = 0x001;     // data queued, end of stream, or (listener) a connection to accept
inline constexpr uint32_t out = 0x004;    // established and room in the send buffer
inline constexpr uint32_t err = 0x008;    // reset or refused
inline constexpr uint32_t hup = 0x010;    // both directions are closed
inline constexpr uint32_t rdhup = 0x2000; // the peer closed its direction
} // namespace tcp_ready

struct tcp_costs {
    category in = category::net_stack_in;
    category out = category::net_stack_out;
    const primitive* rx_segment = nullptr;   // tcp_v4_rcv and the state's processing of one segment
    const primitive* tx_segment = nullptr;   // building and sending one segment
    const primitive* timer = nullptr;        // one timer expiry's handling
    const primitive* ack = nullptr;          // a segment without data: ACK processing only (rx_segment when null)
    // The stack computes and verifies the checksum itself (no NIC offload): every segment's bytes
    // are summed, and a received segment's DMA'd bytes are touched there rather than by the copy
    // that later takes them out.
    bool software_checksum = false;
    bool dma_in_llc = false;   // where the driver's device put received frames: the LLC (DCA) or DRAM
    // Lines of one connection's state its send side (a send, the ACK of what it sent) and its
    // receive side (a data segment's input, a recv) touch: among many connections they are found
    // in the LLC or not (cpu_core::touch_resident).
    double state_tx_lines = 0;
    double state_rx_lines = 0;
};

// A connection or a listener; 0 is no connection.
using tcp_id = uint32_t;

struct tcp_stats {
    uint64_t segments_in = 0, segments_out = 0, bytes_in = 0, bytes_out = 0;
    uint64_t retransmits = 0, fast_retransmits = 0, rto_expiries = 0, delayed_acks = 0, dup_acks = 0;
    uint64_t out_of_order = 0, duplicates = 0, bad_segments = 0, resets_in = 0, resets_out = 0;
    uint64_t no_listener = 0, accept_overflow = 0, connections_opened = 0, connections_closed = 0;
};

class tcp_layer {
public:
    using notify_fn = std::function<void(tcp_id, uint32_t ready)>;

    // Registers with `stack` for protocol 6. `seed` chooses initial sequence numbers.
    tcp_layer(net_stack& stack, const tcp_params& params, const tcp_costs& costs, uint64_t seed);
    ~tcp_layer();

    // Declares os.tcp.* and reads them.
    static void declare(cfg::schema& s);
    static tcp_params params_of(const cfg::config& c);

    // Passive open on `port` with a queue of `backlog` completed connections; 0 if the port is taken.
    tcp_id listen(uint16_t port, unsigned backlog);
    // A completed connection from the listener's queue, or 0.
    tcp_id accept(tcp_id listener, sock_addr* peer = nullptr);
    // Active open from `sport` (0: an ephemeral port); ready() turns `out` once established.
    tcp_id connect(wire::ipv4_addr dst, uint16_t dport, uint16_t sport = 0);

    // Takes up to `len` bytes into the send buffer and sends what the windows allow; returns the
    // count (0 when the buffer is full or the connection cannot send).
    size_t send(tcp_id c, const uint8_t* data, size_t len);
    // Copies up to `len` in-order bytes out of the receive buffer; 0 when none is queued.
    size_t recv(tcp_id c, uint8_t* buf, size_t len);
    // Zero-copy receive (Arrakis/N): hands over the buffer of the next in-order bytes (p.bytes(),
    // p.len; p.request the request that brought them). The caller gives it back with release().
    bool recv_buffer(tcp_id c, pkt& p);
    void release(pkt& p);
    // Bytes queued in order for recv.
    size_t readable_bytes(tcp_id c) const;
    // The request of the last bytes recv() returned on `c` (no_request before any), so a socket
    // layer can adopt it (cpu_core::set_request) for the work the data leads to.
    request_id last_request(tcp_id c) const;

    // close(): FIN after the queued data; the id stays valid for ready()/state() until the user
    // drops it (the connection itself lives on through FIN-WAIT and TIME-WAIT).
    void close(tcp_id c);
    // abort(): RST, the connection is gone.
    void abort(tcp_id c);

    uint32_t ready(tcp_id c) const;
    tcp_state state(tcp_id c) const;
    sock_addr peer(tcp_id c) const;
    void set_notify(notify_fn fn) { m_notify = std::move(fn); }

    // The earliest armed timer, in ns of simulated time (UINT64_MAX: none); runs those due at `now_ns`.
    uint64_t next_timer_ns() const;
    void run_timers(uint64_t now_ns);
    // Where "now" comes from: by default the local time of the core running the stack's code.
    // Tests of the protocol logic alone (no simulated cores running) give their own clock.
    void set_clock(std::function<uint64_t()> now_ns);
    // Connections and listeners alive (TCBs, plus records the user has not closed yet).
    size_t connections() const;

    const tcp_stats& stats() const { return m_stats; }
    net_stack& stack() { return m_stack; }

private:
    struct impl;
    net_stack& m_stack;
    std::unique_ptr<impl> m_impl;
    notify_fn m_notify;
    tcp_stats m_stats;
};

} // namespace iovsim::os::net
