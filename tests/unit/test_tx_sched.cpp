// Transmit scheduling logic: the rate limiter's token bucket, the rate factor encoding, weighted
// round robin between pools, and the scheduler that combines them.
#include "models/nic/tx_sched.h"

#include <gtest/gtest.h>

#include <map>

#include "models/nic/e10k_regs.h"

namespace {

using namespace iovsim::nic;
namespace e10k = iovsim::e10k;

constexpr uint64_t q14 = 1u << token_bucket::frac_bits;

TEST(token_bucket, off_allows_everything)
{
    token_bucket b;
    EXPECT_FALSE(b.enabled());
    b.charge(1'000'000, 0);
    EXPECT_TRUE(b.may_send(0));
    EXPECT_EQ(b.eligible_ps(), 0u);
}

TEST(token_bucket, backlogged_sender_gets_exactly_the_rate_after_the_burst)
{
    token_bucket b;
    b.configure(8000 * q14, 3000);   // 8 ns a byte (1 Gb/s), 3000 bytes of burst
    uint64_t now = 0, sent = 0;
    unsigned frames = 0;
    // Greedy: send 1000-byte frames as soon as allowed.
    while (frames < 1003) {
        if (!b.may_send(now))
            now = b.eligible_ps();
        ASSERT_TRUE(b.may_send(now));
        b.charge(1000, now);
        sent += 1000;
        ++frames;
    }
    // The first 4 frames go at once (3000 bytes of credit, and a frame may start while the bucket
    // is not in debt); each later one 8 us after the one before: the last of 1003 at 999 x 8 us.
    EXPECT_EQ(now, 999ULL * 8'000'000ULL);
    EXPECT_EQ(sent, 1'003'000u);
}

TEST(token_bucket, idle_time_refills_only_up_to_the_depth)
{
    token_bucket b;
    b.configure(800 * q14, 2000);   // line-rate byte time x 1, 2000 bytes deep
    b.charge(1500, 0);
    EXPECT_TRUE(b.may_send(0));    // 500 bytes of credit left: a frame may start
    b.charge(1500, 0);             // overdraws: the next one waits
    EXPECT_FALSE(b.may_send(0));
    EXPECT_EQ(b.eligible_ps(), (3000u - 2000u) * 800u);
    // After a long idle period, the bucket is full but no fuller.
    const uint64_t later = 1'000'000'000;
    EXPECT_TRUE(b.may_send(later));
    b.charge(2000, later);
    EXPECT_TRUE(b.may_send(later));   // exactly empty: tat - tau == now
    b.charge(1, later);
    EXPECT_FALSE(b.may_send(later));
}

TEST(rate_factor, encoding_follows_rttbcnrc)
{
    // 10 Gb/s link, 100 Mb/s queue: RF = 100.0
    const uint32_t r = e10k::rttbcnrc_for(10e9, 100e6);
    EXPECT_EQ(r & e10k::RTTBCNRC_RS_ENA, e10k::RTTBCNRC_RS_ENA);
    EXPECT_EQ((r & e10k::RTTBCNRC_RF_INT_MASK) >> e10k::RTTBCNRC_RF_INT_SHIFT, 100u);
    EXPECT_EQ(r & e10k::RTTBCNRC_RF_DEC_MASK, 0u);
    EXPECT_EQ(rate_factor_q14(r), 100 * q14);
    // 3 Gb/s: RF = 3.333..., 14 fraction bits.
    const uint32_t r3 = e10k::rttbcnrc_for(10e9, 3e9);
    EXPECT_EQ((r3 & e10k::RTTBCNRC_RF_INT_MASK) >> e10k::RTTBCNRC_RF_INT_SHIFT, 3u);
    EXPECT_EQ(r3 & e10k::RTTBCNRC_RF_DEC_MASK, 5461u);   // 0.3333 * 16384, rounded
    // No limit at or above the line rate, nor for 0.
    EXPECT_EQ(e10k::rttbcnrc_for(10e9, 10e9), 0u);
    EXPECT_EQ(e10k::rttbcnrc_for(10e9, 0), 0u);
    // A factor below 1 is taken as 1.
    EXPECT_EQ(rate_factor_q14(e10k::RTTBCNRC_RS_ENA | 5), q14);
}

TEST(wrr_arbiter, byte_shares_follow_the_quanta)
{
    wrr_arbiter a(4, 2);
    a.set_quantum(0, 3000);
    a.set_quantum(1, 1000);
    a.set_quantum(2, 1000);
    uint64_t all[2] = {0x3F, 0};   // pools 0, 1, 2 have work on both queues
    std::map<unsigned, uint64_t> bytes;
    for (int i = 0; i < 5000; ++i) {
        const unsigned q = a.pick(all);
        ASSERT_LT(q, 6u);
        const uint64_t len = q % 2 ? 1538 : 84;   // the pools' queues send different sizes
        a.charge(q, len);
        bytes[q / 2] += len;
    }
    const double total = static_cast<double>(bytes[0] + bytes[1] + bytes[2]);
    EXPECT_NEAR(bytes[0] / total, 0.6, 0.01);
    EXPECT_NEAR(bytes[1] / total, 0.2, 0.01);
    EXPECT_NEAR(bytes[2] / total, 0.2, 0.01);
}

TEST(wrr_arbiter, queues_within_a_pool_alternate_and_idle_pools_keep_no_credit)
{
    wrr_arbiter a(2, 2);
    a.set_quantum(0, 100000);
    a.set_quantum(1, 100);
    uint64_t pool0[2] = {0x3, 0};
    EXPECT_EQ(a.pick(pool0), 0u);
    EXPECT_EQ(a.pick(pool0), 1u);
    EXPECT_EQ(a.pick(pool0), 0u);
    // Pool 1 alone now: pool 0's unused credit is dropped when its turn passes with no work.
    uint64_t pool1[2] = {0xC, 0};
    EXPECT_EQ(a.pick(pool1) / 2, 1u);
    EXPECT_EQ(a.deficit(0), 0);
    uint64_t none[2] = {0, 0};
    EXPECT_EQ(a.pick(none), tx_scheduler::num_queues);
}

TEST(tx_scheduler, round_robin_without_weights_and_rate_holds)
{
    tx_scheduler s(64, 2, 800);
    uint64_t pending[2] = {(1ULL << 3) | (1ULL << 10), 1ULL << 1};   // queues 3, 10, 65
    uint64_t wake = 0;
    EXPECT_EQ(s.pick(pending, 0, wake), 3u);
    EXPECT_EQ(s.pick(pending, 0, wake), 10u);
    EXPECT_EQ(s.pick(pending, 0, wake), 65u);
    EXPECT_EQ(s.pick(pending, 0, wake), 3u);
    // Queue 10 limited to 1 Gb/s: after one frame beyond its burst it is skipped until its time.
    s.set_rate(10, e10k::rttbcnrc_for(10e9, 1e9));
    s.set_burst_kb(0);   // the burst is then one maximum frame (1542 wire bytes)
    s.charge(10, 1542 + 1000, 0);
    EXPECT_EQ(s.pick(pending, 0, wake), 65u);
    EXPECT_EQ(s.pick(pending, 0, wake), 3u);
    EXPECT_EQ(wake, 1000u * 8000u);   // 1000 bytes of debt at 8 ns a byte
    uint64_t only10[2] = {1ULL << 10, 0};
    EXPECT_EQ(s.pick(only10, 1000 * 8000 - 1, wake), tx_scheduler::num_queues);
    EXPECT_EQ(wake, 1000u * 8000u);
    EXPECT_EQ(s.pick(only10, 1000 * 8000, wake), 10u);
    EXPECT_GE(s.rate_holds(), 2u);
    // Turning the limiter off releases it at once.
    s.charge(10, 100000, 1000 * 8000);
    s.set_rate(10, 0);
    EXPECT_EQ(s.pick(only10, 1000 * 8000, wake), 10u);
}

} // namespace
