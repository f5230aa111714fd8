// The Redis-like keyspace (a dict as Redis builds it): GET/SET/DEL/EXISTS, growth by incremental
// rehash with every key reachable at every step, deletes during a rehash, and MurmurHash2's
// published behaviour.
#include <string>

#include <gtest/gtest.h>

#include "workloads/redis/store.h"

using namespace iovsim::workloads::redis;

namespace {
std::string key(unsigned i) { return "key:" + std::to_string(i); }
std::string val(unsigned i, unsigned version = 0) { return "v" + std::to_string(i) + "." + std::to_string(version); }
} // namespace

TEST(redis_store, set_get_replace_del_exists)
{
    store s;
    EXPECT_EQ(s.get("a"), nullptr);
    EXPECT_TRUE(s.set("a", "1"));
    EXPECT_FALSE(s.set("a", "22"));   // replace
    ASSERT_NE(s.get("a"), nullptr);
    EXPECT_EQ(*s.get("a"), "22");
    EXPECT_TRUE(s.exists("a"));
    EXPECT_EQ(s.size(), 1u);
    EXPECT_TRUE(s.del("a"));
    EXPECT_FALSE(s.del("a"));
    EXPECT_FALSE(s.exists("a"));
    EXPECT_EQ(s.size(), 0u);
    // Byte strings: NULs and empty keys and values.
    const std::string k("\0k\0", 3), v("\0", 1);
    EXPECT_TRUE(s.set(k, v));
    EXPECT_TRUE(s.set("", ""));
    EXPECT_EQ(*s.get(k), v);
    EXPECT_EQ(*s.get(""), "");
    EXPECT_EQ(s.get(std::string("\0k", 2)), nullptr);
}

TEST(redis_store, grows_by_incremental_rehash_keeping_every_key_reachable)
{
    store s;
    EXPECT_EQ(s.buckets(), 4u);
    bool saw_rehash = false;
    const unsigned n = 5000;
    for (unsigned i = 0; i < n; ++i) {
        ASSERT_TRUE(s.set(key(i), val(i)));
        if (s.rehashing()) {
            saw_rehash = true;
            // The new table is the next power of two at or above twice the entries at the start.
            EXPECT_GE(s.rehash_target_buckets(), 2 * s.buckets());
            // Every key so far is found in one table or the other (spot checks keep it quick).
            for (unsigned j = 0; j <= i; j += 97)
                ASSERT_NE(s.get(key(j)), nullptr) << j << " while rehashing at " << i;
        }
        EXPECT_EQ(s.size(), i + 1);
    }
    EXPECT_TRUE(saw_rehash);
    // 4 -> 8 -> ... -> 8192: 11 expansions; load factor at most 1 once rehashing has finished.
    while (s.rehashing())
        s.get("anything");
    EXPECT_EQ(s.expansions(), 11u);
    EXPECT_EQ(s.buckets(), 8192u);
    EXPECT_LE(s.size(), s.buckets());
    for (unsigned i = 0; i < n; ++i) {
        const std::string* v = s.get(key(i));
        ASSERT_NE(v, nullptr) << i;
        EXPECT_EQ(*v, val(i));
    }
    // The spread is a hash's, not a list's.
    EXPECT_LE(s.longest_chain(), 12u);
    // Each step moves at most one bucket: no insertion ever moved the whole table.
    EXPECT_GT(s.rehash_steps(), 1000u);
}

TEST(redis_store, replace_and_delete_while_rehashing)
{
    store s;
    unsigned i = 0;
    while (!s.rehashing() || s.size() < 64)
        s.set(key(i), val(i)), ++i;
    ASSERT_TRUE(s.rehashing());
    const unsigned total = i;
    // Replace every even key, delete every third: in whichever table each one is.
    for (unsigned j = 0; j < total; j += 2)
        EXPECT_FALSE(s.set(key(j), val(j, 1)));
    unsigned deleted = 0;
    for (unsigned j = 0; j < total; j += 3)
        deleted += s.del(key(j)) ? 1 : 0;
    EXPECT_EQ(s.size(), total - deleted);
    for (unsigned j = 0; j < total; ++j) {
        const std::string* v = s.get(key(j));
        if (j % 3 == 0) {
            EXPECT_EQ(v, nullptr) << j;
        } else {
            ASSERT_NE(v, nullptr) << j;
            EXPECT_EQ(*v, val(j, j % 2 == 0 ? 1 : 0)) << j;
        }
    }
    EXPECT_FALSE(s.rehashing());   // the lookups above finished the rehash
}

TEST(redis_store, murmurhash2_with_redis_seed)
{
    // Known structure: equal keys hash equal, the length enters the seed, every tail length is mixed.
    EXPECT_EQ(store::hash("key:1"), store::hash(std::string("key:1")));
    EXPECT_NE(store::hash(""), store::hash(std::string(1, '\0')));
    EXPECT_NE(store::hash("abcd"), store::hash("abce"));
    EXPECT_NE(store::hash("abcde"), store::hash("abcdf"));
    EXPECT_NE(store::hash("abcdef"), store::hash("abcdeg"));
    EXPECT_NE(store::hash("abcdefg"), store::hash("abcdefh"));
    // MurmurHash2("", seed) = fmix of the seed alone: computed by hand from the algorithm.
    uint32_t h = 5381;
    h ^= h >> 13;
    h *= 0x5bd1e995;
    h ^= h >> 15;
    EXPECT_EQ(store::hash(""), h);
}
