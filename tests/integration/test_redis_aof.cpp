// The Redis server's append-only-file backends on simulated storage: write(2) + fsync(2) of a file
// on ext4 through the Linux-like kernel (aof_file) and appends to the persistent log on a VSA through
// a VSIC (aof_log). A sync returns only once what was written is on the device; what a replay
// reads back is what was written. Then the same software on a host with the NIC beside the
// controller, both behind one IOMMU.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/platform/address_map.h"
#include "models/storage/storage_regs.h"
#include "sim/experiment.h"
#include "sim/params.h"
#include "sim/storage_stacks.h"
#include "sim/storage_testbed.h"
#include "sim/testbed.h"
#include "workloads/redis/aof_file.h"
#include "workloads/redis/aof_log.h"

using namespace iovsim;
using workloads::redis::aof_file;
using workloads::redis::aof_log;

namespace {

// A SET as Redis marshals it into its AOF (RESP array of bulk strings).
std::string set_command(unsigned i, size_t value_bytes)
{
    const std::string key = "key:" + std::to_string(i);
    const std::string value(value_bytes, static_cast<char>('a' + i % 26));
    return "*3\r\n$3\r\nSET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n$" + std::to_string(value.size()) +
           "\r\n" + value + "\r\n";
}

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

double us_since(os::cpu_core& core, const sc_core::sc_time& t0) { return (core.local_time() - t0).to_seconds() * 1e6; }

using log_body = std::function<void(aof_log&, sim::arrakis_storage&, os::cpu_core&, std::vector<uint8_t>& written)>;

// Runs `body` on the server's core with an aof_log on a freshly formatted log of `vsa_bytes` (RAID
// controller, hardware VSIC); `body` adds to `written` what it wrote. Then the application starts
// over with its memory cleared: the log read back from the device replays exactly `written`.
void on_a_fresh_log(uint64_t vsa_bytes, uint64_t log_id, const log_body& body)
{
    const cfg::config c = sim::load_platform({"platform.storage.device=raid", "platform.storage.vsic_mode=hardware"});
    sim::storage_testbed tb(c, sim::storage_cores(c));
    sim::arrakis_storage as;
    tb.spawn(0, "redis", [&] {
        as.boot(tb, "redis_aof", vsa_bytes);
        as.log->format(log_id);
        as.log->drain();
        std::vector<uint8_t> written;
        {
            aof_log aof(*as.log);
            body(aof, as, tb.core(0), written);
        }
        if (::testing::Test::HasFatalFailure())
            return;
        as.log->drain();
        as.restart_log();
        std::memset(as.image(), 0, vsa_bytes);
        ASSERT_TRUE(as.log->open()) << as.log->log().error();
        EXPECT_EQ(workloads::redis::log_contents(as.log->log()), written);
        tb.stop();
    });
    ASSERT_TRUE(tb.run());
    EXPECT_EQ(tb.controller().stats().bounds_errors + tb.controller().stats().dma_errors, 0u);
}

} // namespace

TEST(redis_aof, file_on_ext4_durable_after_fsync_on_the_raid_controller)
{
    const cfg::config c = sim::load_platform({"platform.storage.device=raid"});
    sim::storage_testbed tb(c, sim::storage_cores(c));
    sim::linux_storage ls;
    std::vector<uint8_t> written;
    std::vector<double> sync_us;
    tb.spawn(0, "redis", [&] {
        ls.boot(tb, os::linux_path::fs_kind::ext4);
        aof_file aof(*ls.block, *ls.fs, *ls.file);
        os::cpu_core& core = tb.core(0);
        for (unsigned i = 0; i < 20; ++i) {
            const std::string cmd = set_command(i, 1024);
            ASSERT_TRUE(aof.write(reinterpret_cast<const uint8_t*>(cmd.data()), cmd.size()));
            // Written, not yet durable.
            EXPECT_EQ(aof.durable_bytes().size(), written.size());
            written.insert(written.end(), cmd.begin(), cmd.end());
            const sc_core::sc_time t0 = core.local_time();
            const uint64_t flushes = tb.controller().stats().flushes;
            ASSERT_TRUE(aof.sync());
            sync_us.push_back(us_since(core, t0));
            // fsync returns with the data and the journal on the device, its cache flushed.
            EXPECT_EQ(ls.block->in_flight(), 0u);
            EXPECT_GT(tb.controller().stats().flushes, flushes);
            EXPECT_EQ(aof.durable_bytes(), written);
        }
        EXPECT_EQ(aof.stats().syncs, 20u);
        EXPECT_EQ(aof.stats().errors, 0u);
        tb.stop();
    });
    ASSERT_TRUE(tb.run());
    EXPECT_EQ(ls.fs->stats().fsyncs, 20u);
    EXPECT_EQ(ls.file->size, written.size());
    EXPECT_GE(ls.fs->stats().data_blocks_written, written.size() / ls.fs->geometry().block_bytes);
    // Each fsync waits for device writes of ~25 us on the RAID controller (data, then the journal).
    for (double us : sync_us)
        EXPECT_GT(us, 25.0);
}

// The log through a hardware VSIC: an append starts its device write; sync waits until the log's
// durable sequence number covers it; a new instance reading the VSA from the device replays the
// same bytes. A write larger than one entry is split.
TEST(redis_aof, log_on_a_vsa_replays_from_the_device)
{
    on_a_fresh_log(256 * 1024, 7, [](aof_log& aof, sim::arrakis_storage& as, os::cpu_core& core, std::vector<uint8_t>& written) {
        for (unsigned i = 0; i < 20; ++i) {
            const std::string cmd = set_command(i, i == 10 ? 100 * 1024 : 1024);
            const sc_core::sc_time t0 = core.local_time();
            ASSERT_TRUE(aof.write(reinterpret_cast<const uint8_t*>(cmd.data()), cmd.size()));
            EXPECT_LT(us_since(core, t0), i == 10 ? 200.0 : 5.0);   // an append does not wait for the device
            written.insert(written.end(), cmd.begin(), cmd.end());
            const sc_core::sc_time t1 = core.local_time();
            ASSERT_TRUE(aof.sync());
            EXPECT_GT(us_since(core, t1), 20.0);   // the device's write into its cache
            EXPECT_EQ(as.log->log().durable_seq() + 1, as.log->log().next_seq());
        }
        EXPECT_GT(aof.stats().appends, aof.stats().writes);   // the large write took more than one entry
        EXPECT_EQ(aof.stats().truncations, 0u);
        EXPECT_EQ(aof.durable_bytes(), written);
    });
}

// A full log of durable entries drops the oldest and goes on (counted), whether the commands are
// written or staged first (the stage's reservation makes the room).
static void full_log_drops_the_oldest_entries(bool staged)
{
    const cfg::config c = sim::load_platform({"platform.storage.device=ramdisk", "platform.storage.vsic_mode=hardware"});
    sim::storage_testbed tb(c, sim::storage_cores(c));
    sim::arrakis_storage as;
    tb.spawn(0, "redis", [&] {
        as.boot(tb, "small", 16 * 1024);
        as.log->format(3);
        aof_log aof(*as.log);
        std::string last;
        for (unsigned i = 0; i < 40; ++i) {
            last = set_command(i, 1024);
            const auto* bytes = reinterpret_cast<const uint8_t*>(last.data());
            if (staged) {
                ASSERT_TRUE(aof.stage(bytes, last.size()));
            }
            ASSERT_TRUE(aof.write(bytes, last.size()));
            ASSERT_TRUE(aof.sync());
        }
        EXPECT_GT(aof.stats().truncations, 0u);
        EXPECT_EQ(aof.stats().staged, staged ? 40u : 0u);
        const std::vector<uint8_t> tail = aof.durable_bytes();
        ASSERT_GE(tail.size(), last.size());
        EXPECT_EQ(std::vector<uint8_t>(tail.end() - static_cast<std::ptrdiff_t>(last.size()), tail.end()), bytes_of(last));
        tb.stop();
    });
    ASSERT_TRUE(tb.run());
}

TEST(redis_aof, full_log_drops_the_oldest_entries)
{
    full_log_drops_the_oldest_entries(false);
}

TEST(redis_aof, staging_into_a_full_log_drops_the_oldest_entries)
{
    full_log_drops_the_oldest_entries(true);
}

// Commands staged into the log (each one an entry reserved and filled as it is marshaled, the
// write sealing and posting it) give the log the same entries as plain writes, and cost the same
// in all: the write after a stage is only the seal and the command's submission. A command too
// large for one entry is refused, so is every stage after it until the write, which appends the
// unstaged bytes the normal way. Everything replays from the device.
TEST(redis_aof, staged_commands_are_the_entries_a_write_appends)
{
    on_a_fresh_log(512 * 1024, 8, [](aof_log& aof, sim::arrakis_storage& as, os::cpu_core& core, std::vector<uint8_t>& written) {
        const auto u8 = [](const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); };
        std::vector<double> append_ns, stage_ns, commit_ns;
        for (unsigned i = 0; i < 10; ++i) {
            const std::string cmd = set_command(i, 1024);
            const sc_core::sc_time t0 = core.local_time();
            if (i % 2 == 0) {
                ASSERT_TRUE(aof.stage(u8(cmd), cmd.size()));
                const sc_core::sc_time t1 = core.local_time();
                ASSERT_TRUE(aof.write(u8(cmd), cmd.size()));
                stage_ns.push_back(us_since(core, t0) * 1e3 - us_since(core, t1) * 1e3);
                commit_ns.push_back(us_since(core, t1) * 1e3);
            } else {
                ASSERT_TRUE(aof.write(u8(cmd), cmd.size()));
                append_ns.push_back(us_since(core, t0) * 1e3);
            }
            written.insert(written.end(), cmd.begin(), cmd.end());
            ASSERT_TRUE(aof.sync());
        }
        const os::cost_model& k = core.costs();
        for (size_t i = 0; i < append_ns.size(); ++i) {
            EXPECT_NEAR(stage_ns[i] + commit_ns[i], append_ns[i], 0.01) << i;
            // Sealing is the header's CRC field and the command into the ring with its doorbell.
            EXPECT_NEAR(commit_ns[i], k.ns(k.a_blk_submit.cycles) + k.mmio_write_ns, 0.01) << i;
        }
        EXPECT_EQ(aof.stats().staged, 5u);
        EXPECT_EQ(aof.stats().appends, 10u);
        EXPECT_EQ(as.log->log().stats().appends, 10u);

        // Too large for one entry: refused, and so is the next stage (the bytes must stay in order).
        const std::string big = set_command(10, 100 * 1024);
        const std::string small = set_command(11, 100);
        ASSERT_GT(big.size(), as.log->log().max_payload());
        EXPECT_FALSE(aof.stage(u8(big), big.size()));
        EXPECT_FALSE(aof.stage(u8(small), small.size()));
        EXPECT_EQ(aof.stats().stage_refused, 2u);
        const uint64_t appends = aof.stats().appends;
        ASSERT_TRUE(aof.write(u8(big + small), big.size() + small.size()));
        const size_t most = as.log->log().max_payload();
        EXPECT_EQ(aof.stats().appends, appends + (big.size() + small.size() + most - 1) / most);   // split as it comes
        written.insert(written.end(), big.begin(), big.end());
        written.insert(written.end(), small.begin(), small.end());
        // A stage followed by more bytes in the same write: the entry, then the rest appended.
        const std::string a = set_command(12, 300), b = set_command(13, 300);
        ASSERT_TRUE(aof.stage(u8(a), a.size()));
        ASSERT_TRUE(aof.write(u8(a + b), a.size() + b.size()));
        written.insert(written.end(), a.begin(), a.end());
        written.insert(written.end(), b.begin(), b.end());
        ASSERT_TRUE(aof.sync());
        EXPECT_EQ(aof.stats().staged, 6u);
        EXPECT_EQ(aof.durable_bytes(), written);
        EXPECT_EQ(as.log->log().open_reservations(), 0u);

        // A write that is not what was staged is a bug of the caller, refused loudly; the entry
        // staged is never written, so the log read back after the restart does not have it.
        ASSERT_TRUE(aof.stage(u8(a), a.size()));
        EXPECT_THROW(aof.write(u8(b), b.size()), std::logic_error);
    });
}

// The Redis server's host: NIC and controller on their own links behind one IOMMU. The NIC's
// control plane and the storage control plane share the kernel's IOMMU driver (one set of tables);
// the VNIC's rings and the log's writes are DMA translated in their own domains, nothing faults.
TEST(redis_aof, server_host_with_nic_and_storage_behind_one_iommu)
{
    const cfg::config c = sim::load_platform({"platform.storage.device=raid", "platform.storage.vsic_mode=hardware"});
    const os::cost_model costs = os::cost_model::from(c);
    sim::host h("server", c, costs, static_cast<uint64_t>(c.get_int("platform.server.dram_mb")) << 20,
                static_cast<unsigned>(c.get_int("platform.nic.num_vfs")), false, 1, true);
    sim::arrakis_storage as;
    std::unique_ptr<os::kernel::control_plane> cp;
    std::unique_ptr<os::dataplane::dataplane> dp;
    bool done = false;
    h.core->spawn("server", [&] {
        os::cpu_core& core = *h.core;
        cp = std::make_unique<os::kernel::control_plane>(core, *h.pages, h.kernel_iommu(), os::kernel::control_plane_params::from(c));
        cp->boot(os::category::scheduler);
        const os::dataplane::dataplane_params dpp = sim::dataplane_params_of(c);
        const os::kernel::vnic_grant g = cp->create_vnic(os::category::scheduler, *wire::mac_addr::parse("02:00:00:00:00:10"),
                                                         *wire::ipv4_addr::parse("10.0.0.10"), sim::dataplane_region_bytes(dpp));
        dp = std::make_unique<os::dataplane::dataplane>(core, g, dpp);
        dp->init();
        as.boot(h, "redis_aof", 64 * 1024);
        as.log->format(11);
        aof_log aof(*as.log);
        const std::string cmd = set_command(1, 1024);
        ASSERT_TRUE(aof.write(reinterpret_cast<const uint8_t*>(cmd.data()), cmd.size()));
        ASSERT_TRUE(aof.sync());
        EXPECT_EQ(aof.durable_bytes(), bytes_of(cmd));
        done = true;
        sc_core::sc_stop();
    });
    sc_core::sc_start(sc_core::sc_time(50, sc_core::SC_MS));
    ASSERT_TRUE(done);
    EXPECT_EQ(h.mmu->blocked(), 0u);
    EXPECT_GT(h.mmu->stats().iotlb_hits + h.mmu->stats().iotlb_misses, 0u);
    // Both links carried DMA: the NIC fetched its receive descriptors, the controller its commands.
    EXPECT_GT(h.link->tlps_up(), 0u);
    EXPECT_GT(h.storage_link->tlps_up(), 0u);
    EXPECT_GT(h.storage->stats().writes, 0u);
}
