// The benchmark's keys and values: a value says which key and version it is and every byte is
// checked against them; preloading fills a store with version 0 of every key.
#include <string>

#include <gtest/gtest.h>

#include "workloads/redis/keyspace.h"

using namespace iovsim::workloads::redis;

TEST(redis_keyspace, key_names_are_fixed_width)
{
    EXPECT_EQ(key_name(0), "key:000000000000");
    EXPECT_EQ(key_name(65535), "key:000000065535");
    EXPECT_EQ(key_name(4294967295u), "key:004294967295");
}

TEST(redis_keyspace, values_carry_key_and_version_and_are_checked_byte_for_byte)
{
    std::string v;
    value_of(42, 7, 1024, v);
    ASSERT_EQ(v.size(), 1024u);
    uint32_t k = 0, ver = 0;
    ASSERT_TRUE(check_value(v, 1024, k, ver));
    EXPECT_EQ(k, 42u);
    EXPECT_EQ(ver, 7u);
    // Another version or key differs in its pattern, not only in its header.
    std::string other;
    value_of(42, 8, 1024, other);
    EXPECT_NE(v.substr(8), other.substr(8));
    value_of(43, 7, 1024, other);
    EXPECT_NE(v.substr(8), other.substr(8));
    // One flipped byte anywhere, a wrong length, a header claiming another version: refused.
    for (size_t i : {size_t{8}, size_t{500}, size_t{1023}}) {
        std::string bad = v;
        bad[i] = static_cast<char>(bad[i] ^ 1);
        EXPECT_FALSE(check_value(bad, 1024, k, ver)) << i;
    }
    EXPECT_FALSE(check_value(v.substr(0, 1000), 1024, k, ver));
    std::string relabeled = v;
    relabeled[4] = 8;
    EXPECT_FALSE(check_value(relabeled, 1024, k, ver));
    EXPECT_THROW(value_of(1, 1, 7, v), std::invalid_argument);
}

TEST(redis_keyspace, preload_stores_version_zero_of_every_key)
{
    store s;
    preload(s, 1000, 64);
    EXPECT_EQ(s.size(), 1000u);
    uint32_t k = 0, ver = 1;
    const std::string* v = s.get(key_name(999));
    ASSERT_NE(v, nullptr);
    ASSERT_TRUE(check_value(*v, 64, k, ver));
    EXPECT_EQ(k, 999u);
    EXPECT_EQ(ver, 0u);
}
