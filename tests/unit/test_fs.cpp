// The file systems' per-operation logic (os/linux/fs): which code paths run, which blocks are
// allocated, what each write() and fsync() sends to the device and in what order, over an
// environment that records instead of running.
#include "os/linux/fs.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace iovsim::os::linux_path {
namespace {

struct io_rec {
    std::string what;   // "w" write, "f" flush, "wait", "thread:<name>", "end:<name>"
    uint64_t block = 0;
    uint32_t count = 0;
    io_kind kind = io_kind::data;
};

struct recording_env : fs_env {
    explicit recording_env(const cost_model& m) : model(m) {}
    void run(category, const primitive& p) override { ran.push_back(&p); }
    void copy_from_user(size_t bytes) override { copied += bytes; }
    void touch_fresh(size_t bytes) override { fresh += bytes; }
    void submit_write(uint64_t block, uint32_t count, io_kind kind) override { log.push_back({"w", block, count, kind}); }
    void submit_flush() override { log.push_back({"f"}); }
    void wait_io() override { log.push_back({"wait"}); }
    void handoff(const std::string& thread, const std::function<void()>& work) override
    {
        log.push_back({"thread:" + thread});
        work();
        log.push_back({"end:" + thread});
    }
    size_t ran_count(const primitive& p) const { return static_cast<size_t>(std::count(ran.begin(), ran.end(), &p)); }
    size_t writes(io_kind k) const
    {
        size_t n = 0;
        for (const auto& r : log)
            if (r.what == "w" && r.kind == k)
                n += r.count;
        return n;
    }
    void clear() { ran.clear(); log.clear(); copied = 0; fresh = 0; }

    const cost_model& model;
    std::vector<const primitive*> ran;
    std::vector<io_rec> log;
    size_t copied = 0;
    size_t fresh = 0;   // bytes first written (touch_fresh)
};

struct fs_bench {
    explicit fs_bench(fs_kind k, uint32_t block_bytes = 1024)
    {
        m = cost_model{};
        c = fs_costs::from(m);
        fs_geometry g;
        g.block_bytes = block_bytes;
        g.blocks = 65536;
        fs = make_file_system(k, g, c);
        f = &fs->create();
    }
    cost_model m;
    fs_costs c{};
    std::unique_ptr<file_system> fs;
    fs_inode* f = nullptr;
};

TEST(fs_ext2, write_allocates_per_new_block_and_fsync_writes_data_then_inode)
{
    fs_bench b(fs_kind::ext2);
    recording_env env(b.m);
    b.fs->write(env, *b.f, 0, 64);
    EXPECT_EQ(env.ran_count(b.m.fs_block_alloc), 1u);
    EXPECT_EQ(env.ran_count(b.m.fs_vfs_write), 1u);
    EXPECT_EQ(env.copied, 64u);
    EXPECT_TRUE(env.log.empty());   // write() never touches the device
    env.clear();
    b.fs->write(env, *b.f, 64, 64);   // same 1 KiB block: no allocation
    EXPECT_EQ(env.ran_count(b.m.fs_block_alloc), 0u);
    env.clear();
    b.fs->fsync(env, *b.f);
    // The data, waited for, then the inode table block, waited for.
    ASSERT_EQ(env.log.size(), 4u);
    EXPECT_EQ(env.log[0].kind, io_kind::data);
    EXPECT_EQ(env.log[0].block, b.f->blocks[0]);
    EXPECT_EQ(env.log[1].what, "wait");
    EXPECT_EQ(env.log[2].kind, io_kind::metadata);
    EXPECT_EQ(env.log[3].what, "wait");
    env.clear();
    b.fs->fsync(env, *b.f);   // nothing dirty: nothing written
    EXPECT_EQ(env.writes(io_kind::data) + env.writes(io_kind::metadata), 0u);
}

TEST(fs_ext2, one_kib_appends_fill_the_direct_blocks_then_the_indirect_block)
{
    fs_bench b(fs_kind::ext2);
    recording_env env(b.m);
    for (int i = 0; i < 12; ++i) {
        b.fs->write(env, *b.f, i * 1024, 1024);
        b.fs->fsync(env, *b.f);
    }
    EXPECT_EQ(b.fs->stats().blocks_allocated, 12u);
    // Contiguous allocation: each block after the previous one.
    for (int i = 1; i < 12; ++i)
        EXPECT_EQ(b.f->blocks[i], b.f->blocks[i - 1] + 1);
    env.clear();
    b.fs->write(env, *b.f, 12 * 1024, 1024);
    EXPECT_EQ(b.fs->stats().blocks_allocated, 14u);   // the 13th block and the indirect block
    env.clear();
    b.fs->fsync(env, *b.f);
    EXPECT_EQ(env.writes(io_kind::data), 1u);
    EXPECT_EQ(env.writes(io_kind::metadata), 2u);   // indirect + inode
}

TEST(fs_ext3, fsync_commits_through_kjournald_ordered_data_first)
{
    fs_bench b(fs_kind::ext3);
    recording_env env(b.m);
    b.fs->write(env, *b.f, 0, 1024);
    EXPECT_EQ(env.ran_count(b.m.fs_jbd_handle), 1u);
    // The inode, the block bitmap and the group descriptor join the transaction.
    EXPECT_EQ(env.ran_count(b.m.fs_jbd_dirty), 3u);
    EXPECT_TRUE(env.log.empty());
    env.clear();
    b.fs->fsync(env, *b.f);
    std::vector<std::string> seq;
    for (const auto& r : env.log)
        seq.push_back(r.what == "w" ? std::string("w:") + (r.kind == io_kind::data ? "data" : r.kind == io_kind::journal ? "journal" : "meta") : r.what);
    // The commit block is written only once the preflush has completed (WRITE_FLUSH_FUA).
    const std::vector<std::string> want = {"thread:kjournald", "w:data",    "wait", "w:journal", "wait", "f",
                                           "wait",             "w:journal", "wait", "end:kjournald"};
    EXPECT_EQ(seq, want);
    EXPECT_EQ(env.log[3].count, 4u);   // descriptor + 3 metadata blocks
    EXPECT_EQ(env.log[7].count, 1u);   // commit block
    EXPECT_EQ(env.log[7].block, env.log[3].block + 4);   // right after them in the journal
    EXPECT_EQ(b.fs->stats().commits, 1u);
}

TEST(fs_ext3, the_journal_checkpoints_when_half_full)
{
    fs_bench b(fs_kind::ext3);
    recording_env env(b.m);
    for (int i = 0; i < 600; ++i) {
        b.fs->write(env, *b.f, i * 1024, 1024);
        b.fs->fsync(env, *b.f);
    }
    EXPECT_GT(b.fs->stats().checkpoints, 0u);
    EXPECT_EQ(b.fs->stats().commits, 600u);
}

TEST(fs_ext4, delayed_allocation_happens_at_fsync)
{
    fs_bench b(fs_kind::ext4);
    recording_env env(b.m);
    b.fs->write(env, *b.f, 0, 64);
    EXPECT_EQ(env.ran_count(b.m.fs_ext4_da_reserve), 1u);
    EXPECT_EQ(env.ran_count(b.m.fs_ext4_mballoc), 0u);
    EXPECT_EQ(env.ran_count(b.m.fs_jbd_dirty), 1u);   // only the inode (i_size): no allocation yet
    EXPECT_EQ(b.f->blocks[0], 0u);
    env.clear();
    b.fs->fsync(env, *b.f);
    EXPECT_EQ(env.ran_count(b.m.fs_ext4_mballoc), 1u);
    EXPECT_NE(b.f->blocks[0], 0u);
    // The data is written and waited for by the caller, then jbd2 commits.
    ASSERT_GE(env.log.size(), 3u);
    EXPECT_EQ(env.log[0].kind, io_kind::data);
    EXPECT_EQ(env.log[1].what, "wait");
    EXPECT_EQ(env.log[2].what, "thread:jbd2");
    env.clear();
    b.fs->write(env, *b.f, 64, 64);
    b.fs->fsync(env, *b.f);
    EXPECT_EQ(env.ran_count(b.m.fs_ext4_mballoc), 0u);   // the block is there already
    EXPECT_EQ(env.writes(io_kind::journal), 3u);          // descriptor + inode + commit
}

// What the CPU writes for the first time comes into the LLC: bytes past the file's end (a rewrite
// inside it does not), and the descriptor and commit blocks jbd2 clears at each commit.
TEST(fs_ext4, first_written_memory_is_counted_for_the_llc)
{
    fs_bench b(fs_kind::ext4);
    recording_env env(b.m);
    b.fs->write(env, *b.f, 0, 1000);
    EXPECT_EQ(env.fresh, 1000u);
    b.fs->write(env, *b.f, 500, 1000);   // 500 bytes over the old end
    EXPECT_EQ(env.fresh, 1500u);
    b.fs->write(env, *b.f, 0, 200);      // inside the file
    EXPECT_EQ(env.fresh, 1500u);
    b.fs->fsync(env, *b.f);
    EXPECT_EQ(env.fresh, 1500u + 2 * 1024);   // one descriptor block and the commit block
}

TEST(fs_btrfs, fsync_writes_data_elsewhere_the_log_tree_and_the_superblock)
{
    fs_bench b(fs_kind::btrfs, 4096);
    recording_env env(b.m);
    b.fs->write(env, *b.f, 0, 1024);
    b.fs->fsync(env, *b.f);
    const uint64_t first = b.f->blocks[0];
    EXPECT_NE(first, 0u);
    EXPECT_EQ(env.writes(io_kind::metadata), 2u);   // the log tree path: root and leaf
    EXPECT_EQ(env.writes(io_kind::super), 1u);
    EXPECT_EQ(env.ran_count(b.m.fs_btrfs_csum), 1u);
    env.clear();
    b.fs->write(env, *b.f, 1024, 1024);
    b.fs->fsync(env, *b.f);
    EXPECT_NE(b.f->blocks[0], first);   // copy on write: the page went somewhere new
    // Flush before the superblock.
    bool flushed = false;
    for (const auto& r : env.log) {
        if (r.what == "f")
            flushed = true;
        if (r.what == "w" && r.kind == io_kind::super) {
            EXPECT_TRUE(flushed);
        }
    }
    EXPECT_EQ(b.fs->stats().tree_cows, 4u);
}

TEST(fs, names)
{
    EXPECT_EQ(parse_fs_kind("ext4"), fs_kind::ext4);
    EXPECT_STREQ(to_string(fs_kind::btrfs), "btrfs");
    EXPECT_THROW(parse_fs_kind("zfs"), std::invalid_argument);
}

} // namespace
} // namespace iovsim::os::linux_path
