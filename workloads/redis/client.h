#pragma once
// The Redis load generator of a client host (redis-benchmark's role; the paper: 1,600 connections
// from 16 client processes): N TCP connections over the host's native TCP layer (os/net/tcp.h)
// on its dataplane, each with one request outstanding (closed loop). A request is a GET or a SET,
// by a seeded mix, of a key drawn uniformly; a SET writes the key's next version (keyspace.h),
// and a GET's reply is checked byte for byte: a value of another key, a corrupted one, or (when no
// SET of the key was in flight) not the version last acknowledged counts as a mismatch.
//
// Connections are opened a window at a time (a burst of 1,600 SYNs would overflow the server's
// accept backlog); the load starts when all are open, each then carrying a request (the first
// requests a little apart, so the client's transmit ring is not overrun). Replies are counted from the first; the first `warmup` are not measured, the
// next `requests` are (latency: from handing the request to TCP to the reply's last byte, at the
// client), and `tail` more keep the load steady while the measured ones finish. Then requests
// still outstanding get drain time to answer before they are given up (as the echo client does);
// the run also ends, giving them up, when nothing has come back for drain time. Handshakes get
// longer (connect_timeout): a server slower to accept than the client connects drops SYNs once its
// backlog is full, and TCP sends them again only after a second.
//
// The client is lean: its own work is one small primitive per request (the TCP layer charges its
// segments), so a single client core drives the server; busy_fraction() says whether it did.
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "os/dataplane/dataplane.h"
#include "os/net/tcp.h"

namespace iovsim::workloads::redis {

struct client_params {
    wire::ipv4_addr server;
    uint16_t server_port = 6379;
    unsigned connections = 1600;
    unsigned connect_window = 64;      // handshakes in progress at once
    uint32_t keys = 65536;
    uint32_t value_bytes = 1024;
    double get_fraction = 1.0;
    bool preloaded = true;             // the server's store holds version 0 of every key
    uint64_t warmup = 1000;            // replies not measured at the start
    uint64_t requests = 10000;         // measured replies
    uint64_t tail = 0;                 // replies after the measured ones, load unchanged
    double drain_us = 100'000;         // silence after which outstanding requests are given up
    double connect_timeout_us = 4e6;   // silence while connecting after which handshakes are given up
    double start_gap_ns = 1000;        // between the connections' first requests
    uint64_t seed = 1;
};

struct client_stats {
    uint64_t connected = 0, connect_failures = 0, connection_errors = 0;
    uint64_t sent = 0, received = 0, gets = 0, sets = 0;
    uint64_t hits = 0, misses = 0;     // GET replies with a value / null
    uint64_t mismatches = 0;           // a GET's value that is not what the key may hold
    uint64_t error_replies = 0, bad_replies = 0;   // -ERR replies; malformed or unexpected replies
    uint64_t given_up = 0;
};

class client {
public:
    // Sets the TCP layer's readiness callback (the client owns the layer's connections).
    client(os::dataplane::dataplane& dp, os::net::tcp_layer& tcp, const client_params& params,
           std::function<void()> on_done = {});

    // The client task's body; returns when the measured (and tail) replies are in and the rest
    // drained or given up.
    void run();

    const client_stats& stats() const { return m_stats; }
    // Latencies of the measured replies, ns, in reply order.
    const std::vector<double>& latencies_ns() const { return m_latencies; }
    // Measured replies per simulated second over the measured span (thousands per second).
    double measured_ktps() const;
    // The share of the load phase (from load_started() to the end) the client core was not
    // waiting for frames.
    double busy_fraction() const;
    bool finished() const { return m_finished; }
    // When the last connection was open and the load started.
    sc_core::sc_time load_started() const { return m_connected_at; }

private:
    enum class conn_state : uint8_t { idle, connecting, ready, failed };
    struct conn {
        os::net::tcp_id id = 0;
        conn_state state = conn_state::idle;
        bool queued = false;          // in the ready list
        bool outstanding = false;
        bool is_get = false;
        uint32_t key = 0;
        uint32_t expect_version = 0;  // a GET: the version it must see, when exact; a SET: its version
        uint32_t issued_at_send = 0;  // a GET: the key's versions issued when it was sent
        bool exact = false;
        bool present_at_send = false;
        sc_core::sc_time sent_at;
        std::string out;              // bytes TCP has not taken yet
        size_t out_pos = 0;
        std::string in;               // reply bytes not yet parsed
    };
    struct key_state {
        uint32_t issued = 0;          // versions issued so far (0: only the preloaded one)
        uint32_t acked = 0;           // version of the last SET acknowledged
        uint16_t sets_in_flight = 0;
        bool present = false;         // a value exists (preloaded or a SET acknowledged)
        bool uncertain = false;       // concurrent SETs: which one the server kept is unknown
    };

    void on_ready(os::net::tcp_id id);
    void service(conn& c);
    void open_more();
    void start_if_connected();
    void start_some();
    bool may_send() const;
    void send_request(conn& c);
    void flush(conn& c);
    void read_replies(conn& c);
    void complete(conn& c);
    // The connection is given up (RST); a failed handshake makes room for the next one.
    void fail(conn& c, bool at_connect, bool reopen = true);

    os::dataplane::dataplane& m_dp;
    os::net::tcp_layer& m_tcp;
    client_params m_params;
    std::function<void()> m_on_done;
    std::mt19937_64 m_rng;
    std::vector<conn> m_conns;
    std::unordered_map<os::net::tcp_id, uint32_t> m_by_id;
    std::vector<uint32_t> m_ready;           // connections with readiness to look at
    std::vector<key_state> m_keys;
    unsigned m_opened = 0, m_connecting = 0;
    uint64_t m_outstanding = 0;
    std::string m_value;
    std::vector<uint8_t> m_rx;
    std::vector<double> m_latencies;
    client_stats m_stats;
    sc_core::sc_time m_start, m_end, m_measure_start, m_measure_end, m_last_progress;
    sc_core::sc_time m_connected_at, m_next_start;
    std::vector<uint32_t> m_to_start;        // connections whose first request is still to go
    size_t m_start_pos = 0;
    double m_wait_ns = 0;
    bool m_started = false, m_finished = false;
};

} // namespace iovsim::workloads::redis
