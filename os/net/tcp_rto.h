#pragma once
// The retransmission timer's estimator (RFC 6298): smoothed RTT and RTT variance from samples,
// RTO = SRTT + max(G, K * RTTVAR) bounded by a minimum and a maximum, Karn's rule, and exponential
// backoff. Pure logic over integer nanoseconds; the caller owns the timer itself (RFC 6298
// section 5: start, restart and stop it) and asks this class for its length.
#include <cstdint>

namespace iovsim::os::net {

struct rto_params {
    // RFC 6298 section 2.4 says 1 s; Linux uses 200 ms (TCP_RTO_MIN), which is what a
    // data-centre comparison with a Linux-like kernel needs.
    uint64_t min_rto_ns = 1'000'000'000;
    uint64_t max_rto_ns = 60'000'000'000;     // section 2.5: a maximum of at least 60 s
    uint64_t initial_rto_ns = 1'000'000'000;  // section 2.1
    uint64_t clock_granularity_ns = 1'000'000; // G, the granularity of the clock taking samples
};

// Karn's rule (RFC 6298 section 3): an ACK of a segment that was retransmitted cannot tell which
// transmission it answers, so it gives no sample. The caller says which kind it acknowledges.
enum class tcp_transmission { original, retransmitted };

class rto_estimator {
public:
    explicit rto_estimator(const rto_params& params = {});

    // An ACK covering a segment sent at sent_at_ns arrived at now_ns. Takes an RTT sample unless
    // the segment was retransmitted (Karn) or now_ns is before sent_at_ns; returns whether it took
    // one. A sample recomputes the RTO from SRTT and RTTVAR, which also ends any backoff.
    bool on_ack(uint64_t sent_at_ns, tcp_transmission kind, uint64_t now_ns);

    // One measured round trip (section 2.2 for the first, 2.3 for the others).
    void add_sample(uint64_t rtt_ns);

    // The retransmission timer expired (section 5.5): double the RTO, up to the maximum.
    void back_off();

    // The three-way handshake completed. If the SYN (or SYN,ACK) timed out and no sample was
    // taken (Karn), data starts with an RTO of 3 s (section 5.7; Linux's TCP_TIMEOUT_FALLBACK),
    // not with the backed-off value nor the initial one.
    void on_handshake_done(bool syn_timed_out);

    uint64_t rto_ns() const { return rto_ns_; }
    uint64_t srtt_ns() const { return srtt_ns_; }
    uint64_t rttvar_ns() const { return rttvar_ns_; }
    bool has_sample() const { return has_sample_; }
    unsigned backoffs() const { return backoffs_; }
    const rto_params& params() const { return params_; }

private:
    uint64_t clamp(uint64_t rto) const;

    rto_params params_;
    uint64_t srtt_ns_ = 0;
    uint64_t rttvar_ns_ = 0;
    uint64_t rto_ns_ = 0;
    bool has_sample_ = false;
    unsigned backoffs_ = 0;
};

} // namespace iovsim::os::net
