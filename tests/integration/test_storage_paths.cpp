// The storage software on the simulated host: write+fsync through each file system, the block layer
// and the controller (what the file system sent is what the device executed); the Arrakis control
// plane, dataplane and persistent log through a VSIC (append, read back, reopen from the device,
// the image in memory as on the device); the control plane's protections.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "models/storage/storage_regs.h"
#include "sim/experiment.h"
#include "sim/params.h"
#include "sim/storage_stacks.h"
#include "sim/storage_testbed.h"

namespace fs = std::filesystem;
using namespace iovsim;
using os::linux_path::fs_kind;

namespace {

void write_fsync_through(fs_kind kind, const std::vector<std::string>& sets)
{
    const cfg::config c = sim::load_platform(sets);
    sim::storage_testbed tb(c, sim::storage_cores(c));
    sim::linux_storage ls;
    std::vector<double> fsync_ns;
    tb.spawn(0, "app", [&] {
        ls.boot(tb, kind);
        os::cpu_core& core = tb.core(0);
        for (unsigned i = 0; i < 40; ++i) {
            ls.block->sys_write(*ls.fs, *ls.file, i * 1024ULL, 1024);
            const sc_core::sc_time t0 = core.local_time();
            ls.block->sys_fsync(*ls.fs, *ls.file);
            fsync_ns.push_back((core.local_time() - t0).to_seconds() * 1e9);
            EXPECT_EQ(ls.block->in_flight(), 0u);   // fsync returns with its writes completed
        }
        tb.stop();
    });
    ASSERT_TRUE(tb.run());
    const auto& st = ls.fs->stats();
    const auto& dev = tb.controller().stats();
    const auto& blk = ls.block->stats();
    EXPECT_EQ(st.fsyncs, 40u);
    EXPECT_EQ(blk.errors, 0u);
    EXPECT_EQ(dev.bounds_errors + dev.dma_errors + dev.malformed, 0u);
    // Every request the block layer sent was a command the controller executed.
    EXPECT_EQ(dev.writes + dev.flushes, blk.requests);
    EXPECT_EQ(dev.flushes, blk.flushes);
    EXPECT_EQ(blk.completions, blk.requests);
    // The file system's blocks, in 512-byte sectors, are what the device was given.
    const uint64_t fs_blocks = st.data_blocks_written + st.metadata_blocks_written + st.journal_blocks_written + st.super_writes;
    EXPECT_EQ(dev.bytes_written, fs_blocks * ls.fs->geometry().block_bytes);
    EXPECT_GE(st.data_blocks_written, 40u);
    for (double ns : fsync_ns)
        EXPECT_GT(ns, 500.0);
}

} // namespace

TEST(storage_linux, ext2_write_fsync_on_the_ramdisk)
{
    write_fsync_through(fs_kind::ext2, {"platform.storage.device=ramdisk", "os.linux.blk_poll=true"});
}

TEST(storage_linux, ext3_write_fsync_on_the_raid_controller_with_interrupts)
{
    write_fsync_through(fs_kind::ext3, {"platform.storage.device=raid"});
}

TEST(storage_linux, ext4_write_fsync_on_the_ramdisk)
{
    write_fsync_through(fs_kind::ext4, {"platform.storage.device=ramdisk"});
}

TEST(storage_linux, btrfs_write_fsync_on_the_ramdisk)
{
    write_fsync_through(fs_kind::btrfs, {"platform.storage.device=ramdisk", "os.linux.blk_poll=true"});
}

// The persistent log through an emulated or a hardware VSIC: appends durable when acknowledged,
// read back, the VSA on the device byte for byte what the application holds in memory, and a new
// instance recovering the same log from the device.
void log_round_trip(const std::string& mode)
{
    const cfg::config c = sim::load_platform({"platform.storage.device=raid", "platform.storage.vsic_mode=" + mode});
    sim::storage_testbed tb(c, sim::storage_cores(c));
    sim::arrakis_storage as;
    const uint64_t vsa_bytes = 64 * 1024;
    bool done = false;
    tb.spawn(0, "app", [&] {
        as.boot(tb, "test_log", vsa_bytes);
        as.log->format(99);
        std::vector<uint64_t> seqs;
        for (unsigned i = 0; i < 20; ++i) {
            std::vector<uint8_t> d(100 + 50 * i, static_cast<uint8_t>(i));
            uint64_t seq = 0;
            ASSERT_EQ(as.log->append(d.data(), static_cast<uint32_t>(d.size()), seq),
                      os::dataplane::persistent_log::append_status::ok);
            seqs.push_back(seq);
        }
        ASSERT_TRUE(as.log->wait_durable(seqs.back()));
        as.log->drain();
        EXPECT_EQ(as.log->log().entries(), 20u);
        // The VSA on the device is, byte for byte, the image the application holds in memory.
        std::vector<uint8_t> dev(vsa_bytes);
        tb.controller().durable().read(as.vsa_base_lba, static_cast<uint32_t>(vsa_bytes / storage::block_bytes), dev.data());
        EXPECT_EQ(std::memcmp(dev.data(), as.image(), vsa_bytes), 0);
        uint32_t len = 0;
        ASSERT_NE(as.log->log().read(seqs[5], len), nullptr);
        EXPECT_EQ(len, 350u);
        // A new instance of the application, its memory cleared: it reads the VSA through its VSIC
        // and recovers the log.
        as.restart_log();
        std::memset(as.image(), 0, vsa_bytes);
        ASSERT_TRUE(as.log->open()) << as.log->log().error();
        EXPECT_EQ(as.log->log().entries(), 20u);
        EXPECT_EQ(as.log->log().epoch(), 2u);
        unsigned n = 0;
        as.log->log().iterate(0, [&](uint64_t seq, const uint8_t* p, uint32_t l) {
            EXPECT_EQ(seq, seqs[n]);
            EXPECT_EQ(l, 100u + 50 * n);
            for (uint32_t k = 0; k < l; ++k)
                if (p[k] != static_cast<uint8_t>(n)) {
                    ADD_FAILURE() << "entry " << n << " byte " << k;
                    break;
                }
            ++n;
            return true;
        });
        EXPECT_EQ(n, 20u);
        // The control plane: the VFS name resolves to the application's VSA, not for another.
        EXPECT_EQ(as.cp->resolve(1, "/vsa/test_log"), as.vsa);
        EXPECT_FALSE(as.cp->resolve(2, "/vsa/test_log").has_value());
        EXPECT_THROW(as.cp->map_vsa(2, as.vsa, as.grant.vsic, false), os::kernel::storage_error);
        if (as.emulator)
            as.emulator->stop();
        done = true;
        tb.stop();
    });
    tb.run();
    EXPECT_TRUE(done);
    EXPECT_EQ(tb.controller().stats().bounds_errors, 0u);
}

TEST(storage_arrakis, log_through_an_emulated_vsic)
{
    log_round_trip("emulated");
}

TEST(storage_arrakis, log_through_a_hardware_vsic)
{
    log_round_trip("hardware");
}
