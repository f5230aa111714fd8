// The RFC 6298 retransmission-timeout estimator: worked numbers from the RFC's formulas
// (alpha 1/8, beta 1/4, K 4), the clock granularity, the bounds, Karn's rule and backoff.
#include <gtest/gtest.h>

#include "os/net/tcp_rto.h"

using namespace iovsim::os::net;

namespace {
constexpr uint64_t ms = 1'000'000;
constexpr uint64_t s = 1'000'000'000;

rto_params linux_like()
{
    rto_params p;
    p.min_rto_ns = 200 * ms;
    p.clock_granularity_ns = 1 * ms;
    return p;
}
} // namespace

TEST(TcpRto, InitialIsOneSecond)
{
    rto_estimator e;
    EXPECT_EQ(e.rto_ns(), 1 * s); // RFC 6298 section 2.1
    EXPECT_FALSE(e.has_sample());
}

TEST(TcpRto, FirstAndSecondSample)
{
    rto_estimator e(linux_like());
    e.add_sample(100 * ms);
    // Section 2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4 RTTVAR) = 100 + 200.
    EXPECT_EQ(e.srtt_ns(), 100 * ms);
    EXPECT_EQ(e.rttvar_ns(), 50 * ms);
    EXPECT_EQ(e.rto_ns(), 300 * ms);
    e.add_sample(200 * ms);
    // Section 2.3: RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200
    // = 112.5; RTO = 112.5 + 4 * 62.5 = 362.5 ms.
    EXPECT_EQ(e.rttvar_ns(), 62'500'000u);
    EXPECT_EQ(e.srtt_ns(), 112'500'000u);
    EXPECT_EQ(e.rto_ns(), 362'500'000u);
    e.add_sample(112'500'000);
    // No error: RTTVAR = 3/4 * 62.5 = 46.875, SRTT unchanged, RTO = 112.5 + 187.5 = 300 ms.
    EXPECT_EQ(e.rttvar_ns(), 46'875'000u);
    EXPECT_EQ(e.srtt_ns(), 112'500'000u);
    EXPECT_EQ(e.rto_ns(), 300 * ms);
}

TEST(TcpRto, ClockGranularityFloorsTheVarianceTerm)
{
    rto_params p = linux_like();
    p.min_rto_ns = 0;
    p.clock_granularity_ns = 500 * ms;
    rto_estimator e(p);
    e.add_sample(100 * ms);  // 4 RTTVAR = 200 ms < G
    EXPECT_EQ(e.rto_ns(), 600 * ms);
    p.clock_granularity_ns = 100 * ms;
    rto_estimator f(p);
    f.add_sample(100 * ms);  // 4 RTTVAR = 200 ms > G
    EXPECT_EQ(f.rto_ns(), 300 * ms);
}

TEST(TcpRto, MinimumIsAParameter)
{
    rto_estimator rfc;  // minimum 1 s (section 2.4)
    rfc.add_sample(10 * ms);
    EXPECT_EQ(rfc.rto_ns(), 1 * s);
    rto_estimator lin(linux_like());  // minimum 200 ms
    lin.add_sample(10 * ms);          // 10 + 20 = 30 ms, raised to the minimum
    EXPECT_EQ(lin.rto_ns(), 200 * ms);
    EXPECT_EQ(lin.srtt_ns(), 10 * ms);  // the estimate itself is not clamped
}

TEST(TcpRto, MaximumSixtySeconds)
{
    rto_estimator e(linux_like());
    e.add_sample(30 * s);  // 30 + 60 = 90 s
    EXPECT_EQ(e.rto_ns(), 60 * s);
}

TEST(TcpRto, KarnIgnoresRetransmittedSegments)
{
    rto_estimator e(linux_like());
    EXPECT_FALSE(e.on_ack(0, tcp_transmission::retransmitted, 5 * s));
    EXPECT_FALSE(e.has_sample());
    EXPECT_EQ(e.rto_ns(), 1 * s);
    EXPECT_TRUE(e.on_ack(1 * s, tcp_transmission::original, 1 * s + 100 * ms));
    EXPECT_EQ(e.srtt_ns(), 100 * ms);
    EXPECT_EQ(e.rto_ns(), 300 * ms);
    EXPECT_FALSE(e.on_ack(2 * s, tcp_transmission::original, 1 * s));  // clock going back: no sample
    EXPECT_EQ(e.srtt_ns(), 100 * ms);
}

TEST(TcpRto, BackoffDoublesUpToMaximumAndASampleResetsIt)
{
    rto_estimator e;  // RFC defaults: 1 s initial
    const uint64_t expect[] = {2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 60 * s, 60 * s};
    for (uint64_t x : expect) {
        e.back_off();
        EXPECT_EQ(e.rto_ns(), x);
    }
    EXPECT_EQ(e.backoffs(), 7u);

    rto_estimator f(linux_like());
    f.add_sample(100 * ms);
    f.back_off();
    f.back_off();
    EXPECT_EQ(f.rto_ns(), 1200 * ms);
    // Karn: the ACK of the retransmission keeps the backed-off RTO (section 5 and Karn's
    // algorithm) until a segment sent once is acknowledged.
    EXPECT_FALSE(f.on_ack(0, tcp_transmission::retransmitted, 2 * s));
    EXPECT_EQ(f.rto_ns(), 1200 * ms);
    EXPECT_EQ(f.backoffs(), 2u);
    EXPECT_TRUE(f.on_ack(3 * s, tcp_transmission::original, 3 * s + 100 * ms));
    // RTTVAR = 3/4 * 50 = 37.5, SRTT = 100: RTO = 100 + 150 = 250 ms, backoff over.
    EXPECT_EQ(f.rto_ns(), 250 * ms);
    EXPECT_EQ(f.backoffs(), 0u);
}

TEST(TcpRto, ThreeSecondsAfterATimedOutSyn)
{
    rto_estimator e(linux_like());
    e.back_off();  // the SYN timed out once: 2 s
    EXPECT_FALSE(e.on_ack(0, tcp_transmission::retransmitted, 2500 * ms));  // its SYN,ACK: no sample
    e.on_handshake_done(true);
    EXPECT_EQ(e.rto_ns(), 3 * s);  // section 5.7
    EXPECT_EQ(e.backoffs(), 0u);

    rto_estimator quick(linux_like());  // handshake without a timeout: the sample rules
    EXPECT_TRUE(quick.on_ack(0, tcp_transmission::original, 100 * ms));
    quick.on_handshake_done(false);
    EXPECT_EQ(quick.rto_ns(), 300 * ms);
    rto_estimator sampled(linux_like());  // a sample was taken after all: it rules too
    sampled.add_sample(100 * ms);
    sampled.on_handshake_done(true);
    EXPECT_EQ(sampled.rto_ns(), 300 * ms);
}
