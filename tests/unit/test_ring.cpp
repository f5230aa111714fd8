#include "models/nic/ring.h"

#include <gtest/gtest.h>

namespace {

using iovsim::nic::ring_index;

// Compile-time checks: the helpers are usable in constant expressions.
static_assert(ring_index::available(5, 2, 8) == 5);
static_assert(ring_index::free_slots(0, 0, 8) == 7);
static_assert(ring_index::advance(7, 1, 8) == 0);

TEST(nic_ring_index, empty_when_head_equals_tail)
{
    for (std::uint32_t i = 0; i < 24; ++i) {
        EXPECT_EQ(ring_index::available(i, i, 24), 0u);
        EXPECT_TRUE(ring_index::empty(i, i, 24));
        EXPECT_FALSE(ring_index::full(i, i, 24));
        EXPECT_EQ(ring_index::free_slots(i, i, 24), 23u);
    }
}

TEST(nic_ring_index, one_slot_always_left_empty)
{
    // tail just behind head: software has handed over everything it may.
    EXPECT_EQ(ring_index::available(3, 2, 8), 7u);
    EXPECT_EQ(ring_index::free_slots(3, 2, 8), 0u);
    EXPECT_TRUE(ring_index::full(3, 2, 8));
    EXPECT_TRUE(ring_index::full(0, 7, 8));
    EXPECT_FALSE(ring_index::full(0, 6, 8));
}

TEST(nic_ring_index, available_and_free_add_up_at_wrap)
{
    const std::uint32_t n = 16;
    for (std::uint32_t head = 0; head < n; ++head) {
        for (std::uint32_t tail = 0; tail < n; ++tail) {
            EXPECT_EQ(ring_index::available(head, tail, n) + ring_index::free_slots(head, tail, n),
                      n - 1);
        }
    }
    // tail wrapped past the end while head did not
    EXPECT_EQ(ring_index::available(14, 2, 16), 4u);
    EXPECT_EQ(ring_index::free_slots(14, 2, 16), 11u);
}

TEST(nic_ring_index, non_power_of_two_sizes)
{
    // 24 and 40 descriptors: multiples of 8, as the 82599 asks, but not powers of two.
    EXPECT_EQ(ring_index::advance(20, 5, 24), 1u);
    EXPECT_EQ(ring_index::advance(23, 1, 24), 0u);
    EXPECT_EQ(ring_index::distance(20, 1, 24), 5u);
    EXPECT_EQ(ring_index::available(39, 3, 40), 4u);
    EXPECT_EQ(ring_index::free_slots(39, 3, 40), 35u);
    // masking with n - 1 would give a different (wrong) answer here
    EXPECT_NE(ring_index::advance(20, 5, 24), (20u + 5u) & 23u);
    // odd size too: the arithmetic does not rely on the multiple of 8
    EXPECT_EQ(ring_index::advance(6, 3, 7), 2u);
    EXPECT_EQ(ring_index::distance(5, 1, 7), 3u);
}

TEST(nic_ring_index, advance_by_more_than_one_lap)
{
    EXPECT_EQ(ring_index::advance(3, 24, 24), 3u);
    EXPECT_EQ(ring_index::advance(3, 24 * 5 + 2, 24), 5u);
    EXPECT_EQ(ring_index::advance(0, 0xFFFFFFFFFFull, 8), 7u);  // 2^40 - 1 = 7 mod 8
    EXPECT_EQ(ring_index::advance(0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu), 0u);
}

TEST(nic_ring_index, distance_is_inverse_of_advance)
{
    const std::uint32_t n = 40;
    for (std::uint32_t from = 0; from < n; ++from) {
        for (std::uint32_t k = 0; k < n; ++k) {
            EXPECT_EQ(ring_index::distance(from, ring_index::advance(from, k, n), n), k);
        }
    }
}

TEST(nic_ring_index, out_of_range_inputs_do_not_trap)
{
    // A guest may write any value into RDH/RDT; the arithmetic stays total.
    EXPECT_EQ(ring_index::available(0, 5, 0), 0u);
    EXPECT_EQ(ring_index::free_slots(0, 5, 0), 0u);
    EXPECT_EQ(ring_index::advance(3, 1, 0), 0u);
    EXPECT_EQ(ring_index::distance(3, 1, 0), 0u);
    EXPECT_FALSE(ring_index::full(0, 0, 0));
    EXPECT_EQ(ring_index::available(8 + 1, 8 + 3, 8), 2u);  // reduced modulo n
    EXPECT_LT(ring_index::available(1000, 3, 8), 8u);
    EXPECT_FALSE(ring_index::is_valid_index(8, 8));
    EXPECT_TRUE(ring_index::is_valid_index(7, 8));
}

TEST(nic_ring_index, valid_sizes)
{
    EXPECT_FALSE(ring_index::is_valid_size(0));
    EXPECT_FALSE(ring_index::is_valid_size(12));
    EXPECT_TRUE(ring_index::is_valid_size(8));
    EXPECT_TRUE(ring_index::is_valid_size(24));
    EXPECT_TRUE(ring_index::is_valid_size(4096));
}

} // namespace
