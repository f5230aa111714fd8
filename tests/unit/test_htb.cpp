// The HTB-like qdisc's logic: token buckets per class (rate, burst), FIFO per class, round robin
// between classes, the watchdog time, queue limits, and a long run's rate.
#include <gtest/gtest.h>

#include "os/linux/htb.h"

using iovsim::os::linux_path::htb;
using iovsim::os::linux_path::htb_class_params;

namespace {

htb_class_params limited(double bps, uint64_t burst, unsigned limit = 1000)
{
    htb_class_params p;
    p.rate_bps = bps;
    p.burst_bytes = burst;
    p.limit_packets = limit;
    return p;
}

} // namespace

TEST(htb, unlimited_class_passes_at_once_in_order)
{
    htb<int> q;
    const unsigned c = q.add_class(htb_class_params{});
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(q.enqueue(c, i, 1500, 0));
    for (int i = 0; i < 5; ++i) {
        auto d = q.dequeue(0);
        ASSERT_TRUE(d);
        EXPECT_EQ(d->first, c);
        EXPECT_EQ(d->second, i);
    }
    EXPECT_FALSE(q.dequeue(0));
    EXPECT_EQ(q.backlog(), 0u);
}

TEST(htb, burst_then_rate)
{
    // 8 Mb/s: one byte of tokens per microsecond.
    htb<int> q;
    const unsigned c = q.add_class(limited(8e6, 3000));
    for (int i = 0; i < 4; ++i)
        ASSERT_TRUE(q.enqueue(c, i, 1000, 0));
    // The bucket starts full: three packets go at once, the fourth waits for 1000 B of tokens.
    EXPECT_TRUE(q.dequeue(0));
    EXPECT_TRUE(q.dequeue(0));
    EXPECT_TRUE(q.dequeue(0));
    EXPECT_FALSE(q.dequeue(0));
    // 8 Mb/s is one byte per microsecond: 1000 B after 1 ms.
    EXPECT_DOUBLE_EQ(q.next_ready_ns(0), 1e6);
    EXPECT_FALSE(q.dequeue(999'999));
    auto d = q.dequeue(1e6);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->second, 3);
    EXPECT_EQ(q.stats(c).sent, 4u);
    EXPECT_EQ(q.stats(c).bytes_sent, 4000u);
}

TEST(htb, tokens_never_exceed_the_burst)
{
    htb<int> q;
    const unsigned c = q.add_class(limited(8e6, 2000));
    // A long idle period fills the bucket to its burst only.
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(q.enqueue(c, i, 1000, 1e9));
    EXPECT_TRUE(q.dequeue(1e9));
    EXPECT_TRUE(q.dequeue(1e9));
    EXPECT_FALSE(q.dequeue(1e9));
}

TEST(htb, limited_class_does_not_hold_up_others)
{
    htb<int> q;
    const unsigned free_class = q.add_class(htb_class_params{});
    const unsigned slow = q.add_class(limited(8e6, 1000));
    ASSERT_TRUE(q.enqueue(slow, 100, 1000, 0));
    ASSERT_TRUE(q.enqueue(slow, 101, 1000, 0));
    ASSERT_TRUE(q.enqueue(free_class, 1, 1000, 0));
    ASSERT_TRUE(q.enqueue(free_class, 2, 1000, 0));
    int got_free = 0, got_slow = 0;
    while (auto d = q.dequeue(0))
        ++(d->first == free_class ? got_free : got_slow);
    EXPECT_EQ(got_free, 2);
    EXPECT_EQ(got_slow, 1);
    EXPECT_EQ(q.backlog(), 1u);
    EXPECT_DOUBLE_EQ(q.next_ready_ns(0), 1e6);
}

TEST(htb, classes_take_turns)
{
    htb<int> q;
    const unsigned a = q.add_class(htb_class_params{});
    const unsigned b = q.add_class(htb_class_params{});
    for (int i = 0; i < 3; ++i) {
        q.enqueue(a, i, 100, 0);
        q.enqueue(b, 10 + i, 100, 0);
    }
    std::vector<unsigned> order;
    while (auto d = q.dequeue(0))
        order.push_back(d->first);
    EXPECT_EQ(order, (std::vector<unsigned>{a, b, a, b, a, b}));
}

TEST(htb, full_queue_drops_and_counts)
{
    htb<int> q;
    const unsigned c = q.add_class(limited(8e6, 1000, 2));
    EXPECT_TRUE(q.enqueue(c, 1, 1000, 0));
    EXPECT_TRUE(q.enqueue(c, 2, 1000, 0));
    EXPECT_FALSE(q.enqueue(c, 3, 1000, 0));
    EXPECT_EQ(q.stats(c).dropped, 1u);
    EXPECT_EQ(q.stats(c).enqueued, 2u);
}

TEST(htb, long_run_rate_is_the_set_rate)
{
    // 100 Mb/s, 1100 B packets always waiting: over 1 s of simulated time the bytes sent are
    // rate x time (+ the initial burst), within one packet.
    htb<int> q;
    const double rate = 100e6;
    const uint64_t burst = 14100;
    const unsigned c = q.add_class(limited(rate, burst, 100000));
    double now = 0;
    uint64_t bytes = 0;
    q.enqueue(c, 0, 1100, now);
    while (now < 1e9) {
        if (auto d = q.dequeue(now)) {
            bytes += 1100;
            q.enqueue(c, 0, 1100, now);
            continue;
        }
        now = q.next_ready_ns(now);
    }
    EXPECT_NEAR(static_cast<double>(bytes), rate / 8 + burst, 1100);
}

TEST(htb, time_going_back_gains_nothing)
{
    htb<int> q;
    const unsigned c = q.add_class(limited(8e6, 1000));
    q.enqueue(c, 1, 1000, 5e6);
    EXPECT_TRUE(q.dequeue(5e6));
    q.enqueue(c, 2, 1000, 4e6);   // another core, a little behind
    EXPECT_FALSE(q.dequeue(4e6));
    EXPECT_FALSE(q.dequeue(5.5e6));
    EXPECT_TRUE(q.dequeue(6e6));
}

TEST(htb, a_limited_class_needs_a_burst)
{
    htb<int> q;
    EXPECT_THROW(q.add_class(limited(1e6, 0)), std::invalid_argument);
}
