#pragma once
// The echo load generator of a client host: closed loop with N requests outstanding, or open loop
// at a given rate (exponential gaps from a seeded stream). Each request carries its sequence number
// and send time in its payload; the reply's arrival gives the end-to-end latency.
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "os/dataplane/native_udp.h"

namespace iovsim::workloads {

struct echo_client_params {
    wire::ipv4_addr server;
    uint16_t server_port = 7;
    uint16_t port = 40000;
    uint32_t payload_bytes = 1024;
    unsigned outstanding = 1;        // closed loop: requests in flight
    double rate_kpps = 0;            // > 0: open loop at this rate instead
    double think_us = 0;             // closed loop: mean exponential pause before each new request
    uint64_t warmup = 100;           // replies not measured at the start
    uint64_t requests = 1000;        // measured replies (endless: never done; latencies not kept)
    static constexpr uint64_t endless = uint64_t{1} << 62;
    uint64_t tail = 32;              // requests sent after the measured ones (keep the server steady)
    uint64_t seed = 1;
};

class echo_client {
public:
    echo_client(os::dataplane::dataplane& dp, os::dataplane::native_udp& udp, const echo_client_params& params,
                std::function<void()> on_done);

    // The client task's body; returns when all measured replies arrived (open loop: or when the
    // replies still missing are given up as lost).
    void run();
    uint64_t lost() const { return m_sent - m_received; }
    // Closed loop: requests whose reply had not come drain_time after the last progress.
    uint64_t given_up() const { return m_given_up; }

    const std::vector<double>& latencies_ns() const { return m_latencies; }
    uint64_t sent() const { return m_sent; }
    uint64_t received() const { return m_received; }
    uint64_t bad_replies() const { return m_bad; }

private:
    void send_one();
    void on_reply(os::net::pkt& p);

    os::dataplane::dataplane& m_dp;
    os::dataplane::native_udp& m_udp;
    echo_client_params m_params;
    std::function<void()> m_on_done;
    std::mt19937_64 m_rng;
    std::vector<double> m_latencies;
    std::vector<uint8_t> m_pattern;   // payload bytes after the sequence number and time stamp
    uint64_t m_sent = 0, m_received = 0, m_bad = 0, m_given_up = 0;
    unsigned m_in_flight = 0;
    sc_core::sc_time m_next_send;
};

} // namespace iovsim::workloads
