#include "sim/stats.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <gtest/gtest.h>

namespace iovsim::sim {
namespace {

sample_set from(std::initializer_list<double> values)
{
    sample_set s;
    for (double v : values)
        s.add(v);
    return s;
}

sample_set one_to(int n)
{
    sample_set s;
    for (int i = 1; i <= n; ++i)
        s.add(i);
    return s;
}

TEST(stats_sample_set, known_data_mean_sigma_min_max)
{
    // Population sigma of this classic set is exactly 2 (sample sigma would be 2.138).
    const sample_set s = from({2, 4, 4, 4, 5, 5, 7, 9});
    EXPECT_EQ(s.count(), 8u);
    EXPECT_DOUBLE_EQ(s.mean(), 5.0);
    EXPECT_DOUBLE_EQ(s.sigma(), 2.0);
    EXPECT_EQ(s.min(), 2.0);
    EXPECT_EQ(s.max(), 9.0);
}

TEST(stats_sample_set, percentiles_of_one_to_hundred_are_nearest_rank)
{
    const sample_set s = one_to(100);
    EXPECT_EQ(s.percentile(99), 99.0);
    EXPECT_EQ(s.percentile(100), 100.0);
    EXPECT_EQ(s.percentile(50), 50.0);
    EXPECT_EQ(s.percentile(1), 1.0);
    EXPECT_EQ(s.percentile(0.5), 1.0);   // rank ceil(0.5) = 1
    EXPECT_EQ(s.percentile(99.5), 100.0); // rank ceil(99.5) = 100
    EXPECT_EQ(s.percentile(98.01), 99.0);
    EXPECT_DOUBLE_EQ(s.mean(), 50.5);
    EXPECT_NEAR(s.sigma(), std::sqrt((100.0 * 100.0 - 1.0) / 12.0), 1e-12);
}

TEST(stats_sample_set, percentile_rank_exact_in_decimal_does_not_round_up)
{
    // 99.9% of 1000 is rank 999 exactly, though 99.9 is not exact in binary.
    EXPECT_EQ(one_to(1000).percentile(99.9), 999.0);
    EXPECT_EQ(one_to(10).percentile(30), 3.0);
    EXPECT_EQ(one_to(10).percentile(31), 4.0);
}

TEST(stats_sample_set, percentile_ignores_insertion_order_and_keeps_samples)
{
    const sample_set s = from({5, 1, 4, 2, 3});
    EXPECT_EQ(s.percentile(60), 3.0);
    EXPECT_EQ(s.percentile(61), 4.0);
    // Percentile sorts a copy: the stored order is untouched.
    EXPECT_EQ(s.samples().front(), 5.0);
    EXPECT_EQ(s.min(), 1.0);
    EXPECT_EQ(s.max(), 5.0);
}

TEST(stats_sample_set, single_sample)
{
    const sample_set s = from({3.25});
    EXPECT_EQ(s.count(), 1u);
    EXPECT_EQ(s.mean(), 3.25);
    EXPECT_EQ(s.sigma(), 0.0);
    EXPECT_EQ(s.percentile(0.001), 3.25);
    EXPECT_EQ(s.percentile(99), 3.25);
    EXPECT_EQ(s.percentile(100), 3.25);
    EXPECT_EQ(s.min(), 3.25);
    EXPECT_EQ(s.max(), 3.25);
}

TEST(stats_sample_set, empty_set_reports_zeros)
{
    const sample_set s;
    EXPECT_EQ(s.count(), 0u);
    EXPECT_EQ(s.mean(), 0.0);
    EXPECT_EQ(s.sigma(), 0.0);
    EXPECT_EQ(s.percentile(99), 0.0);
    EXPECT_EQ(s.min(), 0.0);
    EXPECT_EQ(s.max(), 0.0);
}

TEST(stats_sample_set, percentile_outside_zero_to_hundred_throws)
{
    const sample_set s = one_to(10);
    EXPECT_THROW(s.percentile(0), std::invalid_argument);
    EXPECT_THROW(s.percentile(-1), std::invalid_argument);
    EXPECT_THROW(s.percentile(100.0001), std::invalid_argument);
    EXPECT_THROW(s.percentile(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
    EXPECT_THROW(sample_set{}.percentile(0), std::invalid_argument);
}

TEST(stats_sample_set, non_finite_samples_are_rejected_and_counted)
{
    sample_set s = from({1, 3});
    s.add(std::numeric_limits<double>::quiet_NaN());
    s.add(std::numeric_limits<double>::infinity());
    s.add(-std::numeric_limits<double>::infinity());
    EXPECT_EQ(s.count(), 2u);
    EXPECT_EQ(s.rejected(), 3u);
    EXPECT_EQ(s.mean(), 2.0);
    EXPECT_EQ(s.sigma(), 1.0);
    EXPECT_EQ(s.max(), 3.0);
}

TEST(stats_sample_set, sigma_survives_a_large_offset)
{
    // E[x^2] - E[x]^2 loses every digit here; the two-pass form keeps them.
    const double base = 1e9;
    const sample_set s = from({base + 4, base + 7, base + 13, base + 16});
    EXPECT_DOUBLE_EQ(s.mean(), base + 10);
    EXPECT_NEAR(s.sigma(), std::sqrt(22.5), 1e-6);
}

TEST(stats_sample_set, mean_is_order_independent_with_mixed_magnitudes)
{
    sample_set forward;
    sample_set backward;
    const int n = 100000;
    for (int i = 0; i < n; ++i)
        forward.add(i % 2 ? 1e8 : 0.1);
    for (int i = n - 1; i >= 0; --i)
        backward.add(i % 2 ? 1e8 : 0.1);
    EXPECT_DOUBLE_EQ(forward.mean(), backward.mean());
    EXPECT_NEAR(forward.mean(), (1e8 + 0.1) / 2, 1e-6);
    EXPECT_NEAR(forward.sigma(), (1e8 - 0.1) / 2, 1e-6);
}

TEST(stats_sample_set, constant_samples_have_zero_sigma)
{
    sample_set s;
    for (int i = 0; i < 1000; ++i)
        s.add(0.1);
    EXPECT_EQ(s.sigma(), 0.0);
    EXPECT_DOUBLE_EQ(s.mean(), 0.1);
}

} // namespace
} // namespace iovsim::sim
