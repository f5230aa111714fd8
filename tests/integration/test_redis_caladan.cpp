// The Redis server on the Linux-like path with its AOF in the persistent log on the raw device
// (workload.redis.linux_aof: log; Caladan on Linux): kernel TCP and epoll, and every SET durable
// through pwrite(2) with O_DIRECT|O_DSYNC before its reply. After the run the device's region,
// recovered as a restart would (the log's own recovery over the durable blocks), replays into
// exactly the server's store; no file system wrote anything, no flush reached the device, and
// every DMA went through the IOMMU without a fault.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "os/dataplane/storage_log.h"
#include "sim/experiment.h"
#include "sim/redis_testbed.h"
#include "tests/support/redis_compare.h"
#include "workloads/redis/aof_marshal.h"
#include "workloads/redis/keyspace.h"

using namespace iovsim;

namespace {

constexpr uint32_t keys = 256;
constexpr uint64_t log_kb = 2048;

cfg::config caladan_config(const std::vector<std::string>& extra = {})
{
    std::vector<std::string> sets = {"platform.storage.device=raid", "workload.redis.linux_aof=log",
                                     "workload.redis.log_vsa_kb=" + std::to_string(log_kb), "workload.redis.connections=16",
                                     "workload.redis.keys=" + std::to_string(keys), "workload.redis.get_fraction=0.25",
                                     "workload.redis.drain_us=100000", "experiment.max_sim_ms=500"};
    sets.insert(sets.end(), extra.begin(), extra.end());
    return sim::load_platform(sets);
}

} // namespace

TEST(redis_caladan, sets_durable_in_the_log_on_the_raw_device_replay_the_store)
{
    const cfg::config c = caladan_config();
    sim::redis_testbed::check(c, sim::redis_path::linux_kernel);
    sim::redis_setup s;
    s.path = sim::redis_path::linux_kernel;
    s.warmup = 50;
    s.requests = 300;
    s.tail = 20;
    sim::redis_testbed tb(c, s);
    ASSERT_TRUE(tb.run()) << "server finished " << tb.app().stats().finished << " requests";
    const auto& cs = tb.client(0).stats();
    EXPECT_EQ(cs.mismatches, 0u);
    EXPECT_EQ(cs.error_replies + cs.bad_replies + cs.connect_failures + cs.given_up, 0u);
    EXPECT_GT(cs.sets, 200u);
    const auto& st = tb.app().stats();
    EXPECT_EQ(st.aof_errors, 0u);
    EXPECT_GE(st.aof_syncs, st.sets);

    // The kernel's side: no file system, a direct-I/O call per sync (plus the format's), each one
    // device write and the flush O_DSYNC asks of the device's write cache.
    const sim::linux_storage& ls = *tb.linux_storage_stack();
    ASSERT_TRUE(ls.dio && ls.log);
    EXPECT_EQ(ls.fs, nullptr);
    const os::linux_path::direct_io_stats& d = ls.dio->stats();
    EXPECT_EQ(d.calls, st.aof_syncs + 1);
    EXPECT_EQ(d.errors + d.invalid, 0u);
    EXPECT_EQ(d.flushes_sent, d.calls);
    EXPECT_EQ(tb.server().storage->stats().writes, d.bios);
    EXPECT_EQ(tb.server().storage->stats().flushes, d.calls);
    EXPECT_EQ(ls.log->log().stats().write_errors, 0u);

    // What a restart reads: the region's durable blocks, recovered by the log's own rules.
    const uint64_t bytes = log_kb * 1024;
    std::vector<uint8_t> device(bytes);
    tb.server().storage->durable().read(ls.log_base_lba, static_cast<uint32_t>(bytes / 512), device.data());
    const os::dataplane::log_recovery r = os::dataplane::recover_log(device.data(), bytes);
    ASSERT_TRUE(r.ok) << r.error;
    std::vector<uint8_t> aof;
    for (const os::dataplane::log_entry_ref& e : r.entries) {
        const uint8_t* p = device.data() + e.offset + sizeof(os::dataplane::log_entry_header);
        aof.insert(aof.end(), p, p + e.length);
    }
    EXPECT_EQ(aof, tb.durable_aof());
    EXPECT_EQ(aof.size(), tb.aof_written());
    workloads::redis::store replayed;
    workloads::redis::preload(replayed, keys, 1024);
    const workloads::redis::aof_load_result lr = workloads::redis::load_aof(aof.data(), aof.size(), replayed);
    EXPECT_TRUE(lr.ok) << lr.error;
    EXPECT_FALSE(lr.truncated);
    EXPECT_EQ(lr.commands, st.sets + 1);   // and the SELECT 0 Redis writes first
    EXPECT_EQ(iovsim::testing::keys_differing(tb.app().table(), replayed, keys), 0u)
        << "keys whose replayed value is not the server's";
    // The log's writes DMA'd from the process's pages through the IOMMU, nothing faulted.
    EXPECT_EQ(tb.server().mmu->blocked(), 0u);
    EXPECT_GT(tb.server().storage_link->tlps_up(), 0u);
}

// The persistent log on the raw device is the Linux-like path's: asked of Arrakis/P, the config is
// refused before the run, naming the key.
TEST(redis_caladan, log_aof_on_arrakis_p_is_a_config_error)
{
    const cfg::config c = caladan_config();
    try {
        sim::redis_testbed::check(c, sim::redis_path::arrakis_p);
        FAIL() << "no error";
    } catch (const cfg::config_error& e) {
        EXPECT_EQ(e.key(), "workload.redis.linux_aof");
        EXPECT_NE(std::string(e.what()).find("Linux-like path"), std::string::npos) << e.what();
    }
}
