// The Redis installation on both server paths (sim/redis_testbed): the server host with its NIC and
// storage controller behind one IOMMU, the Redis-like server on one core, a load generator host.
// GETs and SETs are answered correctly (the load generator checks every value), every write is
// durable before its reply (after the run, the AOF as a replay reads it rebuilds the store), the
// storage work happens where the path puts it, and nothing faults.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/experiment.h"
#include "sim/redis_testbed.h"
#include "tests/support/redis_compare.h"
#include "workloads/redis/aof_marshal.h"
#include "workloads/redis/keyspace.h"

using namespace iovsim;

namespace {

struct outcome {
    uint64_t gets = 0, sets = 0;
};

outcome run_mix(sim::redis_path path, uint64_t max_given_up, const std::vector<std::string>& extra = {})
{
    std::vector<std::string> sets = {"platform.storage.device=raid", "platform.storage.vsic_mode=hardware",
                                     "workload.redis.connections=48", "workload.redis.keys=512",
                                     "workload.redis.get_fraction=0.5", "workload.redis.drain_us=100000", "experiment.max_sim_ms=500"};
    sets.insert(sets.end(), extra.begin(), extra.end());
    const cfg::config c = sim::load_platform(sets);
    sim::redis_testbed::check(c, path);
    sim::redis_setup s;
    s.path = path;
    s.warmup = 50;
    s.requests = 300;
    s.tail = 20;
    sim::redis_testbed tb(c, s);
    EXPECT_TRUE(tb.run()) << "server finished " << tb.app().stats().finished << " requests";
    const auto& cs = tb.client(0).stats();
    EXPECT_EQ(cs.mismatches, 0u);
    EXPECT_EQ(cs.error_replies + cs.bad_replies, 0u);
    EXPECT_EQ(cs.connect_failures, 0u);
    // A request lost on the way would be given up at the end (none is on either path since TCP
    // holds a connection's segments while its own code runs; the bound stays a parameter).
    EXPECT_LE(cs.connection_errors, max_given_up);
    EXPECT_EQ(cs.given_up, cs.connection_errors);
    EXPECT_GT(cs.gets, 50u);
    EXPECT_GT(cs.sets, 50u);
    EXPECT_EQ(cs.hits + cs.given_up, cs.gets);   // every key preloaded
    const auto& st = tb.app().stats();
    EXPECT_EQ(st.aof_errors, 0u);
    EXPECT_EQ(st.protocol_errors, 0u);
    EXPECT_GE(st.aof_syncs, st.sets);   // one sync per SET (appendfsync always)
    // Durable before the reply: the AOF as it is durable rebuilds exactly the server's store.
    const std::vector<uint8_t> aof = tb.durable_aof();
    EXPECT_EQ(aof.size(), tb.aof_written());
    workloads::redis::store replayed;
    workloads::redis::preload(replayed, 512, 1024);
    const workloads::redis::aof_load_result lr = workloads::redis::load_aof(aof.data(), aof.size(), replayed);
    EXPECT_TRUE(lr.ok) << lr.error;
    EXPECT_FALSE(lr.truncated);
    EXPECT_GE(lr.commands, st.sets);
    EXPECT_EQ(iovsim::testing::keys_differing(tb.app().table(), replayed, 512), 0u)
        << "keys whose replayed value is not the server's";
    // Both devices' DMA went through the one IOMMU, nothing faulted.
    EXPECT_EQ(tb.server().mmu->blocked(), 0u);
    EXPECT_GT(tb.server().storage->stats().writes, st.sets);
    EXPECT_GT(tb.server().link->tlps_up(), 0u);
    EXPECT_GT(tb.server().storage_link->tlps_up(), 0u);
    // Arrakis/P builds each command's entry in the log as it marshals it (none fell back).
    if (const workloads::redis::aof_log* log = tb.aof_log_backend()) {
        EXPECT_EQ(log->stats().staged, st.aof_writes);
        EXPECT_EQ(log->stats().stage_refused, 0u);
        EXPECT_EQ(log->stats().appends, st.aof_writes);
    }
    return {cs.gets, cs.sets};
}

} // namespace

// Linux: the AOF through ext4 and the block layer; the controller's completion interrupt is taken on
// the server's one core, beside the NIC's.
TEST(redis_paths, linux_gets_sets_and_durable_aof_on_ext4)
{
    run_mix(sim::redis_path::linux_kernel, 0);
}

// Arrakis/P: the AOF as appends to the persistent log on the application's VSA through its VSIC.
TEST(redis_paths, arrakis_p_gets_sets_and_durable_log_on_the_vsa)
{
    run_mix(sim::redis_path::arrakis_p, 0);
}
