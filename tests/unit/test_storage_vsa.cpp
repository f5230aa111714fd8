// The control plane's VSA bookkeeping (os/kernel/storage_vsa): extents, resize, release, the
// many-to-many mapping into VSIC slots with what is programmed into the device, and VFS names.
#include "os/kernel/storage_vsa.h"

#include <gtest/gtest.h>

namespace iovsim::os::kernel {
namespace {

struct programmed {
    unsigned vsic, slot;
    vsa_slot s;
};

struct vsa_bench {
    vsa_bench() : m(1000, 10000, 4, [this](unsigned q, unsigned s, const vsa_slot& v) { log.push_back({q, s, v}); }) {}
    std::vector<programmed> log;
    vsa_manager m;
};

TEST(storage_vsa, acquire_gives_disjoint_extents_and_is_idempotent_by_name)
{
    vsa_bench b;
    const uint32_t a = b.m.acquire_vsa(1, "log", 2000);
    const uint32_t c = b.m.acquire_vsa(1, "db", 3000);
    const uint32_t d = b.m.acquire_vsa(2, "log", 1000);   // same name, another application
    EXPECT_NE(a, c);
    EXPECT_NE(a, d);
    EXPECT_EQ(b.m.acquire_vsa(1, "log", 5), a);
    EXPECT_EQ(b.m.info(a).base_lba, 1000u);
    EXPECT_EQ(b.m.info(c).base_lba, 3000u);
    EXPECT_EQ(b.m.info(d).base_lba, 6000u);
    EXPECT_EQ(b.m.free_blocks(), 4000u);
    EXPECT_THROW(b.m.acquire_vsa(3, "big", 4001), storage_error);
    // Freed space is reused first fit.
    b.m.release_vsa(1, c);
    EXPECT_EQ(b.m.info(b.m.acquire_vsa(3, "x", 2500)).base_lba, 3000u);
    EXPECT_THROW(b.m.release_vsa(1, d), storage_error);   // not the owner
}

TEST(storage_vsa, many_to_many_mapping_programs_the_slots)
{
    vsa_bench b;
    const uint32_t a = b.m.acquire_vsa(1, "a", 100);
    const uint32_t c = b.m.acquire_vsa(1, "c", 100);
    EXPECT_EQ(b.m.map(1, a, 0, true), 0u);
    EXPECT_EQ(b.m.map(1, c, 0, true), 1u);
    EXPECT_EQ(b.m.map(1, a, 1, true), 0u);   // the same VSA in a second VSIC
    ASSERT_EQ(b.log.size(), 3u);
    EXPECT_EQ(b.log[1].vsic, 0u);
    EXPECT_EQ(b.log[1].slot, 1u);
    EXPECT_TRUE(b.log[1].s.valid);
    EXPECT_EQ(b.log[1].s.base_lba, b.m.info(c).base_lba);
    EXPECT_EQ(b.log[1].s.blocks, 100u);
    EXPECT_EQ(b.m.mappings(a).size(), 2u);
    // Four slots per VSIC.
    b.m.map(1, a, 0, false);
    b.m.map(1, c, 0, false);
    EXPECT_THROW(b.m.map(1, a, 0, true), storage_error);
    // Another application maps only what it was shared, read-only.
    EXPECT_THROW(b.m.map(2, a, 2, false), storage_error);
    b.m.share(1, a, 2);
    EXPECT_THROW(b.m.map(2, a, 2, true), storage_error);
    EXPECT_EQ(b.m.map(2, a, 2, false), 0u);
    EXPECT_FALSE(b.m.slot(2, 0).writable);
}

TEST(storage_vsa, resize_reprograms_every_mapping_and_release_clears_them)
{
    vsa_bench b;
    const uint32_t a = b.m.acquire_vsa(1, "a", 100);
    b.m.map(1, a, 0, true);
    b.m.map(1, a, 3, true);
    b.log.clear();
    b.m.resize_vsa(1, a, 500);
    ASSERT_EQ(b.log.size(), 2u);
    EXPECT_EQ(b.log[0].s.blocks, 500u);
    EXPECT_EQ(b.log[1].vsic, 3u);
    // Growing into another VSA's blocks is refused.
    b.m.acquire_vsa(1, "next", 100);
    EXPECT_THROW(b.m.resize_vsa(1, a, 600), storage_error);
    EXPECT_EQ(b.m.info(a).blocks, 500u);
    b.m.resize_vsa(1, a, 50);   // shrink
    EXPECT_EQ(b.m.slot(0, 0).blocks, 50u);
    b.log.clear();
    b.m.release_vsa(1, a);
    ASSERT_EQ(b.log.size(), 2u);
    EXPECT_FALSE(b.log[0].s.valid);
    EXPECT_FALSE(b.m.slot(3, 0).valid);
    EXPECT_THROW(b.m.info(a), storage_error);
}

TEST(storage_vsa, vfs_names_resolve_to_the_owners_vsa)
{
    vsa_bench b;
    const uint32_t a = b.m.acquire_vsa(1, "redis-aof", 100);
    b.m.bind_name(1, "/var/redis/appendonly.aof", a);
    EXPECT_EQ(b.m.resolve(1, "/var/redis/appendonly.aof"), a);
    EXPECT_FALSE(b.m.resolve(2, "/var/redis/appendonly.aof").has_value());   // not its VSA
    b.m.share(1, a, 2);
    EXPECT_EQ(b.m.resolve(2, "/var/redis/appendonly.aof"), a);
    EXPECT_FALSE(b.m.resolve(1, "/nothing").has_value());
    EXPECT_THROW(b.m.bind_name(1, "relative", a), storage_error);
    EXPECT_THROW(b.m.bind_name(2, "/x", a), storage_error);   // only the owner names it
    b.m.release_vsa(1, a);
    EXPECT_FALSE(b.m.resolve(1, "/var/redis/appendonly.aof").has_value());
}

} // namespace
} // namespace iovsim::os::kernel
