#pragma once
// The Linux-like file systems, each modeled by what it does per operation (Arrakis section 2.2):
// the VFS checks, the data copy into the page cache, block and inode allocation, metadata updates
// through a journal (ext3, ext4: jbd/jbd2 in ordered mode) or copy-on-write trees (btrfs), and the
// device writes each of these needs. A file system knows nothing of the device or the CPU: it asks
// its environment (fs_env) to run a code path, copy, submit a block write, wait, or hand work to a
// kernel thread. The kernel's block layer is the real environment (os/linux/block_layer); a test
// records the calls instead.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "os/core/category.h"
#include "os/core/cost_model.h"

namespace iovsim::os::linux_path {

enum class fs_kind { ext2, ext3, ext4, btrfs };
fs_kind parse_fs_kind(const std::string& s);   // std::invalid_argument for an unknown name
const char* to_string(fs_kind k);

// What a block write is, for the statistics and for tests.
enum class io_kind : uint8_t { data, metadata, journal, super };

// The kernel around a file system.
struct fs_env {
    virtual ~fs_env() = default;
    virtual void run(category c, const primitive& p) = 0;
    virtual void copy_from_user(size_t bytes) = 0;
    // The CPU wrote `bytes` of memory that was in no cache (a page-cache block first written, a
    // journal block it cleared): that many new lines came into the LLC.
    virtual void touch_fresh(size_t bytes) = 0;
    // Starts a write of `count` file-system blocks from `block` (a bio); returns at once.
    virtual void submit_write(uint64_t block, uint32_t count, io_kind kind) = 0;
    // A cache flush (REQ_FLUSH) queued behind the writes submitted so far.
    virtual void submit_flush() = 0;
    // Sleeps until every write and flush submitted so far has completed.
    virtual void wait_io() = 0;
    // Runs `work` on kernel thread `thread` (a journal or worker thread) and sleeps until it is done.
    virtual void handoff(const std::string& thread, const std::function<void()>& work) = 0;
};

// The code paths a file system runs, from the cost model.
struct fs_costs {
    const primitive *vfs_write, *vfs_fsync, *page_cache, *write_end, *block_alloc, *inode_dirty, *writepage,
        *write_inode, *jbd_handle, *jbd_dirty, *jbd_commit, *jbd_block, *jbd_checkpoint, *ext4_da_reserve,
        *ext4_mballoc, *ext4_extent, *btrfs_write, *btrfs_alloc_extent, *btrfs_csum, *btrfs_ordered, *btrfs_log_inode,
        *btrfs_tree_cow, *btrfs_sync_log;
    static fs_costs from(const cost_model& m);
};

struct fs_geometry {
    // ext2/3/4 on a device under 512 MiB get mke2fs's "small" type: 1 KiB blocks, 128-byte inodes
    // (mke2fs.conf(5)); btrfs's sector is the page size (4 KiB) whatever the device.
    uint32_t block_bytes = 1024;
    uint64_t blocks = 262144;               // file-system blocks
    uint32_t blocks_per_group = 8192;       // one bitmap block's bits
    uint32_t inode_table_blocks = 256;      // per group: 2048 inodes of 128 bytes
    uint32_t journal_blocks = 4096;         // ext3/ext4 journal (mke2fs: 4 MiB for a small FS)
    uint32_t btrfs_tree_depth = 2;          // levels from the log-tree root to a leaf
    uint32_t btrfs_leaf_items = 100;        // items a 4 KiB leaf takes before it splits
};

struct fs_stats {
    uint64_t writes = 0, fsyncs = 0, blocks_allocated = 0, data_blocks_written = 0, metadata_blocks_written = 0,
             journal_blocks_written = 0, super_writes = 0, flushes = 0, commits = 0, checkpoints = 0, tree_cows = 0,
             leaf_splits = 0;
};

// A file: its size and where its blocks are.
struct fs_inode {
    uint64_t ino = 0;
    uint64_t size = 0;
    std::vector<uint64_t> blocks;           // logical block -> physical (0: a hole, or not yet allocated)
    std::set<uint64_t> dirty_pages;         // logical blocks dirty in the page cache
    bool dirty = false;                     // the inode itself needs writing
    uint64_t indirect = 0;                  // ext2/ext3: the single indirect block (blocks 12..)
    bool indirect_dirty = false;
};

// Next-fit allocation over per-group bitmaps (ext2_new_blocks / mballoc's goal-directed search).
class block_allocator {
public:
    block_allocator(const fs_geometry& g, uint64_t reserved_at_start);
    // A free block at or after `goal` (wrapping); throws std::runtime_error when the FS is full.
    uint64_t alloc(uint64_t goal);
    void free(uint64_t block);
    bool used(uint64_t block) const { return m_used.at(block); }
    // The bitmap block that records `block`.
    uint64_t bitmap_block(uint64_t block) const;
    uint64_t free_blocks() const { return m_free; }

private:
    fs_geometry m_g;
    std::vector<bool> m_used;
    uint64_t m_free = 0;
};

class file_system {
public:
    virtual ~file_system() = default;
    virtual fs_kind kind() const = 0;
    // A new empty file.
    fs_inode& create();
    // write(2) of `len` bytes at `offset` into the page cache.
    virtual void write(fs_env& env, fs_inode& f, uint64_t offset, size_t len) = 0;
    // fsync(2): the file's data and the metadata needed to find it are durable on return.
    virtual void fsync(fs_env& env, fs_inode& f) = 0;
    const fs_stats& stats() const { return m_stats; }
    const fs_geometry& geometry() const { return m_g; }

protected:
    file_system(const fs_geometry& g, const fs_costs& c, uint64_t reserved_at_start);
    // The VFS part of write(2): checks, page-cache pages, the copy, write_end. `alloc` is called
    // for each logical block that has no physical block yet (nullptr: delayed allocation).
    void vfs_write(fs_env& env, fs_inode& f, uint64_t offset, size_t len, const std::function<void(uint64_t)>& alloc);
    uint64_t inode_block(const fs_inode& f) const;   // the inode-table block holding f
    uint64_t group_desc_block() const { return 1; }
    uint64_t goal(const fs_inode& f, uint64_t logical) const;
    // Submits the file's dirty pages (each a data write); `map` allocates unmapped blocks first.
    void write_dirty_pages(fs_env& env, fs_inode& f, const std::function<void(uint64_t)>& map);
    void count(io_kind kind, uint32_t blocks);
    void map_indirect(fs_env& env, fs_inode& f, uint64_t lb);

    fs_geometry m_g;
    fs_costs m_c;
    block_allocator m_alloc;
    std::vector<std::unique_ptr<fs_inode>> m_files;
    fs_stats m_stats;
};

// The file system of `kind` on a device of g.blocks blocks.
std::unique_ptr<file_system> make_file_system(fs_kind kind, const fs_geometry& g, const fs_costs& c);

} // namespace iovsim::os::linux_path
