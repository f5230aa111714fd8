// pwrite(2) with O_DIRECT|O_DSYNC on the raw block device (os/linux/direct_io) and the persistent log
// kept there through it (os/linux/direct_log), on the storage host with the Linux-like kernel's
// block layer, driver queue and completion interrupt: the bytes on the device are the user
// buffer's, the call charges exactly its primitives, a large write is split into bios, bad
// arguments are refused before any I/O, the cache flush goes to the device only when configured,
// and a failed request (a DMA the IOMMU blocks) fails that call and the log's append, nothing else.
#include <gtest/gtest.h>

#include "tests/support/model_bench.h"

#include <cstring>
#include <string>
#include <vector>

#include "os/dataplane/storage_log.h"
#include "os/linux/direct_io.h"
#include "os/linux/direct_log.h"
#include "sim/experiment.h"
#include "sim/params.h"
#include "sim/storage_stacks.h"
#include "sim/storage_testbed.h"
#include "workloads/redis/aof_log.h"

using namespace iovsim;
using os::category;
using os::dataplane::persistent_log;
using os::linux_path::direct_io;

namespace {

constexpr uint64_t log_bytes = 4 << 20;

struct bench {
    cfg::config cfg;
    sim::storage_testbed tb;
    sim::linux_storage ls;

    explicit bench(std::vector<std::string> sets = {}) : cfg(sim::load_platform(with_defaults(std::move(sets)))), tb(cfg, 1) {}

    static std::vector<std::string> with_defaults(std::vector<std::string> sets)
    {
        // Warm footprints: a primitive costs its cycles, so a call's charge can be stated exactly.
        sets.insert(sets.begin(), {"platform.storage.device=raid", "platform.cost.mem.cold_line_ns=0"});
        return sets;
    }
    os::cpu_core& core() { return tb.core(0); }
    uint8_t* image() { return ls.image(); }
    uint64_t iova() const { return ls.image_iova(); }
    // The region's bytes as the device holds them durably.
    std::vector<uint8_t> on_device(uint64_t offset, size_t len)
    {
        std::vector<uint8_t> out(len);
        tb.controller().durable().read(ls.log_base_lba + offset / 512, static_cast<uint32_t>(len / 512), out.data());
        return out;
    }
    std::vector<uint8_t> in_image(uint64_t offset, size_t len) { return {image() + offset, image() + offset + len}; }
};

void pattern(uint8_t* p, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; ++i)
        p[i] = static_cast<uint8_t>(seed + i * 7 + i / 251);
}

double ns_of(const os::cost_model& k, std::initializer_list<const os::primitive*> ps)
{
    double cycles = 0;
    for (const os::primitive* p : ps)
        cycles += p->cycles;
    return k.ns(cycles);
}

} // namespace

// A 1.5 KB write in one page: one bio, one device write of those bytes, the flush ended in the
// block layer (a queue without a volatile write cache, os.blk.write_cache=false). The call's charges, on a request of its own, are
// exactly: the crossing; the direct-I/O path (setup, one page, one bio, completion, O_DSYNC); the
// block layer's request (submit, the tail doorbell). The interrupt that completes it (entry, the
// completion's line from DRAM, the completion, the head doorbell, exit) runs while the core idles.
TEST(DirectIo, WriteReachesTheDeviceAndChargesItsPrimitives)
{
    bench b({"os.blk.write_cache=false"});
    bool done = false;
    b.tb.spawn(0, "redis", [&] {
        b.ls.boot_raw_log(b.tb, log_bytes);
        os::cpu_core& core = b.core();
        pattern(b.image() + 1024, 1536, 3);
        const os::request_id id = core.open_request();
        const sc_core::sc_time t0 = core.local_time();
        EXPECT_EQ(b.ls.dio->sys_pwrite(b.iova() + 1024, 1024, 1536), 1536);
        const double us = (core.local_time() - t0).to_seconds() * 1e6;
        EXPECT_GT(us, 25.0);   // the RAID controller's write into its cache
        EXPECT_EQ(b.on_device(1024, 1536), b.in_image(1024, 1536));
        const os::linux_path::direct_io_stats& s = b.ls.dio->stats();
        EXPECT_EQ(s.calls, 1u);
        EXPECT_EQ(s.bios, 1u);
        EXPECT_EQ(s.pages, 1u);
        EXPECT_EQ(s.flushes_ended_early, 1u);
        EXPECT_EQ(s.flushes_sent, 0u);
        EXPECT_EQ(b.ls.block->stats().flushes_ended, 1u);   // the queue's rule, for every user alike
        EXPECT_EQ(b.ls.block->stats().flushes, 0u);
        const os::cost_model& k = core.costs();
        const os::accounting::row& row = core.acct().of(id);
        EXPECT_NEAR(row[static_cast<unsigned>(category::syscall)], ns_of(k, {&k.l_syscall_entry}), 1e-6);
        EXPECT_NEAR(row[static_cast<unsigned>(category::kernel_return)], ns_of(k, {&k.l_syscall_exit}), 1e-6);
        const double dio = ns_of(k, {&k.l_dio_setup, &k.l_dio_page, &k.l_dio_bio, &k.l_dio_complete, &k.l_dio_dsync});
        EXPECT_NEAR(row[static_cast<unsigned>(category::block_io)], dio + ns_of(k, {&k.l_blk_submit}) + k.mmio_write_ns, 1e-6);
        // The interrupt came while the task slept and the core idled: its work is the core's
        // carry, which the next request opened there takes.
        const os::request_id next = core.open_request();
        const double irq = ns_of(k, {&k.l_irq_entry, &k.l_blk_complete, &k.l_irq_exit}) + k.mmio_write_ns + k.dram_line_ns;
        EXPECT_NEAR(core.acct().of(next)[static_cast<unsigned>(category::block_io)], irq, 1e-6);
        done = true;
        b.tb.stop();
    });
    ASSERT_TRUE(b.tb.run());
    EXPECT_TRUE(done);
    EXPECT_EQ(b.tb.controller().stats().writes, 1u);
    EXPECT_EQ(b.tb.controller().stats().flushes, 0u);
    EXPECT_EQ(b.ls.block->stats().interrupts, 1u);
}

// A write of 2 MiB + 2.5 KiB from a buffer starting 512 bytes into a page spans 513 pages: bios of
// at most BIO_MAX_PAGES pages (256, 256, 1), all in flight together, one call.
TEST(DirectIo, LargeWriteIsSplitIntoBios)
{
    bench b;
    b.tb.spawn(0, "redis", [&] {
        b.ls.boot_raw_log(b.tb, log_bytes);
        const uint32_t len = (2 << 20) + 2560;
        pattern(b.image() + 512, len, 9);
        EXPECT_EQ(b.ls.dio->sys_pwrite(b.iova() + 512, 512, len), len);
        EXPECT_EQ(b.on_device(512, len), b.in_image(512, len));
        EXPECT_EQ(b.ls.dio->stats().bios, 3u);
        EXPECT_EQ(b.ls.dio->stats().pages, 513u);
        b.tb.stop();
    });
    ASSERT_TRUE(b.tb.run());
    EXPECT_EQ(b.tb.controller().stats().writes, 3u);
    EXPECT_EQ(b.tb.controller().stats().bytes_written, (2u << 20) + 2560u);
}

// blkdev_direct_IO's rules: offset, length and buffer on 512-byte sectors, nothing past the
// region's end; such a call returns -EINVAL having started no I/O.
TEST(DirectIo, MisalignedOrOutOfRangeIsRefused)
{
    bench b;
    b.tb.spawn(0, "redis", [&] {
        b.ls.boot_raw_log(b.tb, log_bytes);
        direct_io& d = *b.ls.dio;
        EXPECT_EQ(d.sys_pwrite(b.iova(), 100, 512), direct_io::e_inval);
        EXPECT_EQ(d.sys_pwrite(b.iova(), 0, 700), direct_io::e_inval);
        EXPECT_EQ(d.sys_pwrite(b.iova() + 8, 0, 512), direct_io::e_inval);
        EXPECT_EQ(d.sys_pwrite(b.iova(), log_bytes - 512, 1024), direct_io::e_inval);
        EXPECT_EQ(d.sys_pwrite(b.iova(), 0, 0), direct_io::e_inval);
        EXPECT_EQ(d.stats().invalid, 5u);
        EXPECT_EQ(d.sys_pwrite(b.iova(), log_bytes - 512, 512), 512);
        b.tb.stop();
    });
    ASSERT_TRUE(b.tb.run());
    EXPECT_EQ(b.tb.controller().stats().writes, 1u);
}

// A device reporting a volatile write cache (the default): O_DSYNC's flush goes to it after the
// data, and the call returns once both completed.
TEST(DirectIo, VolatileCacheGetsTheFlush)
{
    bench b;
    b.tb.spawn(0, "redis", [&] {
        b.ls.boot_raw_log(b.tb, log_bytes);
        for (unsigned i = 0; i < 3; ++i)
            EXPECT_EQ(b.ls.dio->sys_pwrite(b.iova(), 4096 * i, 4096), 4096);
        EXPECT_EQ(b.ls.dio->stats().flushes_sent, 3u);
        EXPECT_EQ(b.ls.block->in_flight(), 0u);
        b.tb.stop();
    });
    ASSERT_TRUE(b.tb.run());
    EXPECT_EQ(b.tb.controller().stats().flushes, 3u);
    EXPECT_EQ(b.tb.controller().stats().writes, 3u);
}

// A buffer the kernel did not map for the controller: the IOMMU blocks the device's read, the
// controller fails that command (data transfer error), the call returns -EIO. The calls around it
// are not affected.
TEST(DirectIo, DmaFaultFailsThatCallOnly)
{
    bench b;
    b.tb.spawn(0, "redis", [&] {
        b.ls.boot_raw_log(b.tb, log_bytes);
        const uint64_t unmapped = b.tb.pages().alloc(4096);
        EXPECT_EQ(b.ls.dio->sys_pwrite(b.iova(), 0, 512), 512);
        EXPECT_EQ(b.ls.dio->sys_pwrite(unmapped, 512, 512), direct_io::e_io);
        EXPECT_EQ(b.ls.dio->sys_pwrite(b.iova(), 1024, 512), 512);
        EXPECT_EQ(b.ls.dio->stats().errors, 1u);
        EXPECT_EQ(b.ls.block->in_flight(), 0u);
        b.tb.stop();
    });
    ASSERT_TRUE(b.tb.run());
    EXPECT_EQ(b.tb.mmu().blocked(), 1u);
    EXPECT_EQ(b.tb.controller().stats().dma_errors, 1u);
    EXPECT_EQ(b.tb.controller().stats().writes, 2u);
}

// The log through the call: appends only place entries; sync writes them (one call for adjacent
// entries) and they are durable; the device's region recovers to the same entries, and so does the
// log reopened from the device through pread.
TEST(DirectLog, AppendsAreDurableAfterTheWriteAndRecoverFromTheDevice)
{
    bench b;
    b.tb.spawn(0, "redis", [&] {
        b.ls.boot_raw_log(b.tb, log_bytes);
        os::linux_path::direct_log& log = *b.ls.log;
        log.format(11);
        log.flush();
        EXPECT_EQ(b.ls.dio->stats().calls, 1u);   // both header copies in one write
        workloads::redis::aof_log aof(log);
        std::vector<uint8_t> written;
        for (unsigned i = 0; i < 8; ++i) {
            std::vector<uint8_t> rec(300 + 200 * i);
            pattern(rec.data(), rec.size(), static_cast<uint8_t>(i));
            ASSERT_TRUE(aof.write(rec.data(), rec.size()));
            written.insert(written.end(), rec.begin(), rec.end());
            if (i % 2 == 0)
                continue;   // two writes, then one sync: their entries are adjacent, one call
            EXPECT_FALSE(aof.synced());
            const uint64_t calls = b.ls.dio->stats().calls;
            ASSERT_TRUE(aof.sync());
            EXPECT_EQ(b.ls.dio->stats().calls, calls + 1);
            EXPECT_TRUE(aof.synced());
        }
        EXPECT_EQ(aof.durable_bytes(), written);
        std::vector<uint8_t> device = b.on_device(0, log_bytes);
        const os::dataplane::log_recovery r = os::dataplane::recover_log(device.data(), device.size());
        ASSERT_TRUE(r.ok) << r.error;
        std::vector<uint8_t> replay;
        for (const os::dataplane::log_entry_ref& e : r.entries) {
            const uint8_t* p = device.data() + e.offset + sizeof(os::dataplane::log_entry_header);
            replay.insert(replay.end(), p, p + e.length);
        }
        EXPECT_EQ(replay, written);
        // The process starts over with its memory cleared: the log read back with pread
        // (O_DIRECT) holds the same entries and opens a new epoch, durably.
        std::memset(b.image(), 0, log_bytes);
        os::linux_path::direct_log again(*b.ls.dio, b.image(), b.iova(), log_bytes,
                                         static_cast<uint32_t>(b.cfg.get_int("os.storage.log_mtu_kb") * 1024));
        ASSERT_TRUE(again.open()) << again.log().error();
        EXPECT_EQ(workloads::redis::log_contents(again.log()), written);
        EXPECT_EQ(again.log().epoch(), 2u);
        EXPECT_EQ(b.ls.dio->stats().reads, 1u);
        EXPECT_EQ(again.stats().pwrites, 1u);   // the new epoch's header
        b.tb.stop();
    });
    ASSERT_TRUE(b.tb.run());
    // The format, four syncs, the new epoch's header; the read in 4 bios of 1 MiB.
    EXPECT_EQ(b.tb.controller().stats().writes, 6u);
    EXPECT_EQ(b.tb.controller().stats().reads, 4u);
}

// A write the device fails (the image's pages unmapped from the controller's domain after the
// format): the log fails, the sync reports it, and a later append is refused; the IOMMU blocked
// the DMA and nothing else faulted.
TEST(DirectLog, FailedWriteFailsTheAppend)
{
    bench b;
    b.tb.spawn(0, "redis", [&] {
        b.ls.boot_raw_log(b.tb, log_bytes);
        os::linux_path::direct_log& log = *b.ls.log;
        log.format(5);
        log.flush();
        // A second log over an image the controller may not read (the process's memory not mapped
        // for it), the same region.
        const uint64_t bad = b.tb.pages().alloc(64 * 1024);
        os::linux_path::direct_log broken(*b.ls.dio, b.core().mem(bad, 64 * 1024), bad, 64 * 1024, 64 * 1024);
        broken.format(6);
        workloads::redis::aof_log aof(broken);
        const uint8_t rec[100] = {1, 2, 3};
        EXPECT_TRUE(aof.write(rec, sizeof rec));   // placed in memory
        EXPECT_FALSE(aof.sync());
        EXPECT_TRUE(broken.log().failed());
        uint64_t seq = 0;
        EXPECT_EQ(broken.append(rec, sizeof rec, seq), persistent_log::append_status::failed);
        EXPECT_FALSE(aof.write(rec, sizeof rec));
        EXPECT_EQ(aof.stats().errors, 2u);
        // A write queued after the failure is reported failed without a call.
        const uint64_t calls = b.ls.dio->stats().calls;
        broken.write(8192, 512, 99);
        broken.flush();
        EXPECT_EQ(b.ls.dio->stats().calls, calls);
        EXPECT_EQ(broken.stats().failed_pwrites, 1u);
        // The good log goes on.
        workloads::redis::aof_log good(log);
        EXPECT_TRUE(good.write(rec, sizeof rec));
        EXPECT_TRUE(good.sync());
        b.tb.stop();
    });
    ASSERT_TRUE(b.tb.run());
    EXPECT_GE(b.tb.mmu().blocked(), 1u);
    EXPECT_EQ(b.tb.controller().stats().dma_errors, 1u);
}
