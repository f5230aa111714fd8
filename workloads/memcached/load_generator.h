#pragma once
// The memcached load generator of a client host: GETs and SETs (by default 90% / 10%) over a small
// key space (128 keys of 64 B, 1 KB values), closed loop with N requests outstanding or open loop
// at a Poisson rate, from a seeded stream. It first stores every key once (so GETs hit), then
// runs the mix: a warm-up period, then a measured window of simulated time in which it counts the
// transactions completed, the response bytes, and the latencies. A request not answered within
// the timeout is given up (counted lost), as memcached's UDP clients do, so a closed loop survives
// drops (a lost preload SET is sent again: the server may not be up yet). Every response is checked: its opaque must be one in flight and a GET's value must be the
// key's (the key index is written into each value).
#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <unordered_map>
#include <vector>

#include "os/dataplane/native_udp.h"

namespace iovsim::workloads::mc {

struct load_params {
    wire::ipv4_addr server;
    uint16_t server_port = 11211;
    uint16_t port = 41000;
    unsigned keys = 128;
    unsigned key_bytes = 64;
    unsigned value_bytes = 1024;
    double get_fraction = 0.9;
    unsigned outstanding = 16;      // closed loop: requests in flight
    double rate_kpps = 0;           // > 0: open loop at this mean rate instead
    double timeout_us = 1000;       // a request unanswered this long is lost
    double warmup_us = 200;         // after the keys are stored, before measuring
    double measure_us = 2000;       // the measured window
    uint64_t seed = 1;
};

struct load_stats {
    uint64_t sent = 0, received = 0, lost = 0, bad = 0;
    uint64_t gets = 0, sets = 0, hits = 0, misses = 0;
    // In the measured window:
    uint64_t window_transactions = 0;
    uint64_t window_response_bytes = 0;   // UDP payload bytes of the responses
};

class load_generator {
public:
    load_generator(os::dataplane::dataplane& dp, os::dataplane::native_udp& udp, const load_params& params,
                   std::function<void()> on_done);

    // The client task's body; returns at the end of the measured window.
    void run();

    const load_stats& stats() const { return m_stats; }
    const std::vector<double>& latencies_ns() const { return m_latencies; }
    // Transactions per second in the measured window (thousands).
    double ktps() const { return static_cast<double>(m_stats.window_transactions) / m_params.measure_us * 1000.0; }
    bool finished() const { return m_finished; }
    // When the measured window began (after the keys were stored and the warm-up ran).
    sc_core::sc_time window_start() const { return m_window_start; }

private:
    struct pending {
        sc_core::sc_time sent;
        uint32_t key;
        bool get;
        bool preload;
    };
    void send_one(bool preload);
    void on_response(os::net::pkt& p);
    void expire(const sc_core::sc_time& now);
    bool in_window(const sc_core::sc_time& t) const { return m_measuring && t >= m_window_start && t < m_window_end; }

    os::dataplane::dataplane& m_dp;
    os::dataplane::native_udp& m_udp;
    load_params m_params;
    std::function<void()> m_on_done;
    std::mt19937_64 m_rng;
    std::vector<uint8_t> m_value;   // the value template (the key index goes in front)
    std::unordered_map<uint32_t, pending> m_in_flight;   // by opaque
    std::deque<std::pair<sc_core::sc_time, uint32_t>> m_deadlines;   // (deadline, opaque) in send order
    uint32_t m_next_opaque = 1;
    std::deque<uint32_t> m_preload;   // keys still to store before the mix starts
    uint32_t m_stored = 0;            // keys stored
    bool m_measuring = false, m_finished = false;
    sc_core::sc_time m_window_start, m_window_end;
    load_stats m_stats;
    std::vector<double> m_latencies;
};

} // namespace iovsim::workloads::mc
