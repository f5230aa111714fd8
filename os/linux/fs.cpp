#include "os/linux/fs.h"

#include <algorithm>
#include <stdexcept>

namespace iovsim::os::linux_path {

fs_kind parse_fs_kind(const std::string& s)
{
    if (s == "ext2")
        return fs_kind::ext2;
    if (s == "ext3")
        return fs_kind::ext3;
    if (s == "ext4")
        return fs_kind::ext4;
    if (s == "btrfs")
        return fs_kind::btrfs;
    throw std::invalid_argument("unknown file system '" + s + "' (ext2, ext3, ext4, btrfs)");
}

const char* to_string(fs_kind k)
{
    switch (k) {
    case fs_kind::ext2: return "ext2";
    case fs_kind::ext3: return "ext3";
    case fs_kind::ext4: return "ext4";
    case fs_kind::btrfs: return "btrfs";
    }
    return "?";
}

fs_costs fs_costs::from(const cost_model& m)
{
    return {&m.fs_vfs_write,  &m.fs_vfs_fsync,     &m.fs_page_cache,     &m.fs_write_end,    &m.fs_block_alloc,
            &m.fs_inode_dirty, &m.fs_writepage,     &m.fs_write_inode,    &m.fs_jbd_handle,   &m.fs_jbd_dirty,
            &m.fs_jbd_commit,  &m.fs_jbd_block,     &m.fs_jbd_checkpoint, &m.fs_ext4_da_reserve, &m.fs_ext4_mballoc,
            &m.fs_ext4_extent, &m.fs_btrfs_write,   &m.fs_btrfs_alloc_extent, &m.fs_btrfs_csum, &m.fs_btrfs_ordered,
            &m.fs_btrfs_log_inode, &m.fs_btrfs_tree_cow, &m.fs_btrfs_sync_log};
}

// ---- Block allocation ------------------------------------------------------------------------------

// Each group starts with its block bitmap, inode bitmap and inode table; group 0 first holds the
// superblock (block 0) and the group descriptors (block 1).
block_allocator::block_allocator(const fs_geometry& g, uint64_t reserved_at_start) : m_g(g), m_used(g.blocks, false)
{
    for (uint64_t b = 0; b < std::min<uint64_t>(reserved_at_start, g.blocks); ++b)
        m_used[b] = true;
    for (uint64_t base = 0; base < g.blocks; base += g.blocks_per_group)
        for (uint64_t b = base + 2; b < std::min<uint64_t>(base + 4 + g.inode_table_blocks, g.blocks); ++b)
            m_used[b] = true;
    m_free = static_cast<uint64_t>(std::count(m_used.begin(), m_used.end(), false));
}

uint64_t block_allocator::alloc(uint64_t goal)
{
    if (m_free == 0)
        throw std::runtime_error("file system full");
    const uint64_t n = m_used.size();
    for (uint64_t i = 0; i < n; ++i) {
        const uint64_t b = (goal + i) % n;
        if (!m_used[b]) {
            m_used[b] = true;
            --m_free;
            return b;
        }
    }
    throw std::runtime_error("file system full");
}

void block_allocator::free(uint64_t block)
{
    if (block < m_used.size() && m_used[block]) {
        m_used[block] = false;
        ++m_free;
    }
}

uint64_t block_allocator::bitmap_block(uint64_t block) const
{
    return block / m_g.blocks_per_group * m_g.blocks_per_group + 2;
}

// ---- The VFS part, shared ----------------------------------------------------------------------------

file_system::file_system(const fs_geometry& g, const fs_costs& c, uint64_t reserved_at_start)
    : m_g(g), m_c(c), m_alloc(g, reserved_at_start)
{
}

fs_inode& file_system::create()
{
    m_files.push_back(std::make_unique<fs_inode>());
    fs_inode& f = *m_files.back();
    f.ino = m_files.size() + 11;   // after the reserved inodes (EXT2_GOOD_OLD_FIRST_INO = 11)
    return f;
}

uint64_t file_system::inode_block(const fs_inode& f) const
{
    return 4 + f.ino * 128 / m_g.block_bytes;
}

uint64_t file_system::goal(const fs_inode& f, uint64_t logical) const
{
    // Next to the previous block of the file, else at the start of the inode's group's data.
    if (logical > 0 && logical - 1 < f.blocks.size() && f.blocks[logical - 1] != 0)
        return f.blocks[logical - 1] + 1;
    return 4 + m_g.inode_table_blocks;
}

void file_system::count(io_kind kind, uint32_t blocks)
{
    switch (kind) {
    case io_kind::data: m_stats.data_blocks_written += blocks; break;
    case io_kind::metadata: m_stats.metadata_blocks_written += blocks; break;
    case io_kind::journal: m_stats.journal_blocks_written += blocks; break;
    case io_kind::super: ++m_stats.super_writes; break;
    }
}

void file_system::vfs_write(fs_env& env, fs_inode& f, uint64_t offset, size_t len, const std::function<void(uint64_t)>& alloc)
{
    ++m_stats.writes;
    // rw_verify_area, security hooks, generic_write_checks, file_update_time.
    env.run(category::fs, *m_c.vfs_write);
    if (len == 0)
        return;
    const uint64_t first = offset / m_g.block_bytes;
    const uint64_t last = (offset + len - 1) / m_g.block_bytes;
    if (f.blocks.size() <= last)
        f.blocks.resize(last + 1, 0);
    for (uint64_t lb = first; lb <= last; ++lb) {
        env.run(category::fs, *m_c.page_cache);   // grab_cache_page_write_begin
        if (f.blocks[lb] == 0 && alloc)
            alloc(lb);
        f.dirty_pages.insert(lb);
    }
    env.copy_from_user(len);
    env.run(category::fs, *m_c.write_end);   // block_write_end: page and buffers dirty
    if (offset + len > f.size) {
        // Past the end of the file the blocks are new: written (and the rest of a block zeroed)
        // for the first time.
        env.touch_fresh(offset + len - std::max(offset, f.size));
        f.size = offset + len;
    }
}

void file_system::write_dirty_pages(fs_env& env, fs_inode& f, const std::function<void(uint64_t)>& map)
{
    // Contiguous physical runs go out as one bio each.
    uint64_t run_start = 0, run_len = 0;
    auto flush_run = [&] {
        if (run_len > 0) {
            env.submit_write(run_start, static_cast<uint32_t>(run_len), io_kind::data);
            count(io_kind::data, static_cast<uint32_t>(run_len));
        }
        run_len = 0;
    };
    for (const uint64_t lb : f.dirty_pages) {
        if (f.blocks[lb] == 0 && map)
            map(lb);
        env.run(category::fs, *m_c.writepage);
        const uint64_t pb = f.blocks[lb];
        if (run_len > 0 && pb == run_start + run_len) {
            ++run_len;
            continue;
        }
        flush_run();
        run_start = pb;
        run_len = 1;
    }
    flush_run();
    f.dirty_pages.clear();
}

namespace {
void map_indirect_block(fs_env& env, const fs_costs& c, block_allocator& alloc, fs_stats& st, fs_inode& f, uint64_t lb,
                        uint64_t goal);
}

void file_system::map_indirect(fs_env& env, fs_inode& f, uint64_t lb)
{
    map_indirect_block(env, m_c, m_alloc, m_stats, f, lb, goal(f, lb));
}

namespace {

constexpr uint32_t direct_blocks = 12;   // ext2/ext3 i_block[0..11]

// ext2_get_block / ext3_get_blocks_handle: a data block near the previous one, and past the direct
// blocks the single indirect block (allocated once, rewritten as it fills).
void map_indirect_block(fs_env& env, const fs_costs& c, block_allocator& alloc, fs_stats& st, fs_inode& f, uint64_t lb,
                        uint64_t goal)
{
    env.run(category::fs, *c.block_alloc);
    if (lb >= direct_blocks && f.indirect == 0) {
        f.indirect = alloc.alloc(goal);
        env.run(category::fs, *c.block_alloc);
        ++st.blocks_allocated;
    }
    f.blocks[lb] = alloc.alloc(goal);
    ++st.blocks_allocated;
}

// ---- ext2: no journal; fsync writes the data, the indirect block and the inode -------------------

class ext2_fs : public file_system {
public:
    ext2_fs(const fs_geometry& g, const fs_costs& c) : file_system(g, c, 2) {}
    fs_kind kind() const override { return fs_kind::ext2; }

    void write(fs_env& env, fs_inode& f, uint64_t offset, size_t len) override
    {
        vfs_write(env, f, offset, len, [&](uint64_t lb) { allocate(env, f, lb); });
        env.run(category::fs, *m_c.inode_dirty);   // i_size and mtime: mark_inode_dirty
        f.dirty = true;
    }

    void fsync(fs_env& env, fs_inode& f) override
    {
        ++m_stats.fsyncs;
        env.run(category::fs, *m_c.vfs_fsync);
        // generic_file_fsync, one step after the other: filemap_write_and_wait_range (the data),
        // sync_mapping_buffers (the indirect block), sync_inode_metadata (the inode's table block).
        write_dirty_pages(env, f, nullptr);
        env.wait_io();
        if (f.indirect_dirty) {
            env.submit_write(f.indirect, 1, io_kind::metadata);
            count(io_kind::metadata, 1);
            f.indirect_dirty = false;
            env.wait_io();
        }
        if (f.dirty) {
            env.run(category::fs, *m_c.write_inode);
            env.submit_write(inode_block(f), 1, io_kind::metadata);
            count(io_kind::metadata, 1);
            f.dirty = false;
            env.wait_io();
        }
    }

private:
    // Bitmaps and descriptors are written back later by the flusher, not by fsync.
    void allocate(fs_env& env, fs_inode& f, uint64_t lb)
    {
        map_indirect(env, f, lb);
        if (lb >= direct_blocks)
            f.indirect_dirty = true;
    }
};

// ---- The journal (jbd for ext3, jbd2 for ext4), ordered mode ----------------------------------------

class journal {
public:
    journal(uint64_t start, uint32_t blocks, uint32_t block_bytes)
        : m_start(start), m_blocks(blocks), m_block_bytes(block_bytes) {}

    // get_write_access + dirty_metadata: the buffer joins the running transaction.
    void dirty(fs_env& env, const fs_costs& c, uint64_t block)
    {
        env.run(category::fs, *c.jbd_dirty);
        m_running.insert(block);
    }
    bool has_running() const { return !m_running.empty(); }

    // The commit (journal_commit_transaction), run by the journal thread: the ordered data was
    // written by `ordered_data`; then a descriptor block and a copy of each metadata block at the
    // journal head, then, after a cache flush, the commit block. Metadata then waits in the
    // checkpoint list for write-back to its home location; when the journal fills past half,
    // a checkpoint writes it home and the journal superblock moves the tail.
    void commit(fs_env& env, const fs_costs& c, fs_stats& st, const std::function<void()>& ordered_data)
    {
        ++st.commits;
        env.run(category::fs, *c.jbd_commit);
        ordered_data();
        env.wait_io();
        // Descriptor tags: 4-byte block number + flags per block; one descriptor per
        // (block_bytes - 12) / 8 metadata blocks.
        const uint32_t n = static_cast<uint32_t>(m_running.size());
        const uint32_t descriptors = std::max(1u, (n + 63) / 64);
        for (uint32_t i = 0; i < n; ++i)
            env.run(category::fs, *c.jbd_block);
        if (m_used + n + descriptors + 1 > m_blocks / 2)
            checkpoint(env, c, st);
        // jbd2_journal_get_descriptor_buffer clears each descriptor block and the commit block.
        env.touch_fresh(static_cast<size_t>(descriptors + 1) * m_block_bytes);
        write_journal(env, st, n + descriptors);
        env.wait_io();
        // The commit block goes as WRITE_FLUSH_FUA: the block layer's flush sequence (blk-flush.c)
        // issues the preflush and only once it has completed the write (a flush command does not
        // order the writes queued behind it in the device).
        env.submit_flush();
        ++st.flushes;
        env.wait_io();
        write_journal(env, st, 1);   // the commit block
        env.wait_io();
        m_checkpoint.insert(m_running.begin(), m_running.end());
        m_running.clear();
    }

private:
    void write_journal(fs_env& env, fs_stats& st, uint32_t count)
    {
        while (count > 0) {
            const uint32_t room = m_blocks - m_head;
            const uint32_t now = std::min(count, room);
            env.submit_write(m_start + m_head, now, io_kind::journal);
            st.journal_blocks_written += now;
            m_head = (m_head + now) % m_blocks;
            m_used += now;
            count -= now;
        }
    }
    void checkpoint(fs_env& env, const fs_costs& c, fs_stats& st)
    {
        ++st.checkpoints;
        env.run(category::fs, *c.jbd_checkpoint);
        for (const uint64_t b : m_checkpoint) {
            env.submit_write(b, 1, io_kind::metadata);
            ++st.metadata_blocks_written;
        }
        env.wait_io();
        env.submit_write(m_start, 1, io_kind::super);   // journal superblock: the new tail
        ++st.super_writes;
        env.wait_io();
        m_checkpoint.clear();
        m_used = 0;
    }

    uint64_t m_start;
    uint32_t m_blocks;
    uint32_t m_block_bytes;
    uint32_t m_head = 1;       // block 0 is the journal superblock
    uint32_t m_used = 0;
    std::set<uint64_t> m_running;
    std::set<uint64_t> m_checkpoint;
};

// The journal's place: a contiguous run at the start of group 1 (mke2fs puts it mid-disk; the
// place does not matter to a RAM disk or a write cache).
uint64_t journal_start(const fs_geometry& g)
{
    return std::min<uint64_t>(g.blocks_per_group, g.blocks / 2) + 4 + g.inode_table_blocks;
}

class journaled_fs : public file_system {
protected:
    journaled_fs(const fs_geometry& g, const fs_costs& c)
        : file_system(g, c, 2), m_journal(journal_start(g), g.journal_blocks, g.block_bytes)
    {
        for (uint64_t b = journal_start(g); b < journal_start(g) + g.journal_blocks; ++b)
            m_alloc.alloc(b);
    }
    journal m_journal;
};

// ---- ext3: ordered data mode; allocation and the inode journaled in write ----------------------------

class ext3_fs : public journaled_fs {
public:
    ext3_fs(const fs_geometry& g, const fs_costs& c) : journaled_fs(g, c) {}
    fs_kind kind() const override { return fs_kind::ext3; }

    void write(fs_env& env, fs_inode& f, uint64_t offset, size_t len) override
    {
        env.run(category::fs, *m_c.jbd_handle);   // journal_start ... journal_stop
        vfs_write(env, f, offset, len, [&](uint64_t lb) { allocate(env, f, lb); });
        env.run(category::fs, *m_c.inode_dirty);
        m_journal.dirty(env, m_c, inode_block(f));   // ext3_mark_inode_dirty: i_size, mtime
        m_ordered.emplace(f.ino, &f);
    }

    void fsync(fs_env& env, fs_inode&) override   // the whole running transaction commits
    {
        ++m_stats.fsyncs;
        env.run(category::fs, *m_c.vfs_fsync);
        // ext3_sync_file: the inode is in the running transaction: log_start_commit and wait.
        if (!m_journal.has_running())
            return;
        env.handoff("kjournald", [&] {
            m_journal.commit(env, m_c, m_stats, [&] {
                for (const auto& [ino, o] : m_ordered)
                    write_dirty_pages(env, *o, nullptr);
                m_ordered.clear();
            });
        });
    }

private:
    void allocate(fs_env& env, fs_inode& f, uint64_t lb)
    {
        map_indirect(env, f, lb);
        m_journal.dirty(env, m_c, m_alloc.bitmap_block(f.blocks[lb]));
        m_journal.dirty(env, m_c, group_desc_block());
        if (lb >= direct_blocks)
            m_journal.dirty(env, m_c, f.indirect);
    }
    std::map<uint64_t, fs_inode*> m_ordered;   // by inode number: the order the commit writes them in
};

// ---- ext4: delayed allocation, extents in the inode, jbd2 ---------------------------------------------

class ext4_fs : public journaled_fs {
public:
    ext4_fs(const fs_geometry& g, const fs_costs& c) : journaled_fs(g, c) {}
    fs_kind kind() const override { return fs_kind::ext4; }

    void write(fs_env& env, fs_inode& f, uint64_t offset, size_t len) override
    {
        // ext4_da_write_begin starts a handle and reserves space for blocks not yet allocated
        // (delayed allocation: no block yet); the new i_size dirties the inode, which ext4_dirty_inode
        // journals (ext4_mark_inode_dirty).
        env.run(category::fs, *m_c.jbd_handle);
        vfs_write(env, f, offset, len, [&](uint64_t) { env.run(category::fs, *m_c.ext4_da_reserve); });
        // ext4_dirty_inode's handle nests in write_begin's (a reference count), around
        // ext4_mark_inode_dirty.
        env.run(category::fs, *m_c.inode_dirty);
        m_journal.dirty(env, m_c, inode_block(f));
    }

    void fsync(fs_env& env, fs_inode& f) override
    {
        ++m_stats.fsyncs;
        env.run(category::fs, *m_c.vfs_fsync);
        // filemap_write_and_wait_range: ext4_da_writepages allocates (mballoc), maps the extent,
        // updates i_disksize in a handle; then the data goes out and is waited for.
        const bool had_pages = !f.dirty_pages.empty();
        if (had_pages) {
            env.run(category::fs, *m_c.jbd_handle);
            write_dirty_pages(env, f, [&](uint64_t lb) {
                env.run(category::fs, *m_c.ext4_mballoc);
                f.blocks[lb] = m_alloc.alloc(goal(f, lb));
                ++m_stats.blocks_allocated;
                env.run(category::fs, *m_c.ext4_extent);
                m_journal.dirty(env, m_c, m_alloc.bitmap_block(f.blocks[lb]));
                m_journal.dirty(env, m_c, group_desc_block());
            });
            m_journal.dirty(env, m_c, inode_block(f));   // i_disksize, extent in i_block
            env.wait_io();
        }
        // jbd2_complete_transaction: commit the running transaction holding the inode.
        if (!m_journal.has_running())
            return;
        env.handoff("jbd2", [&] { m_journal.commit(env, m_c, m_stats, [] {}); });
    }
};

// ---- btrfs: copy-on-write data, checksums, the log tree -----------------------------------------------

class btrfs_fs : public file_system {
public:
    btrfs_fs(const fs_geometry& g, const fs_costs& c) : file_system(g, c, 16) {}
    fs_kind kind() const override { return fs_kind::btrfs; }

    void write(fs_env& env, fs_inode& f, uint64_t offset, size_t len) override
    {
        // btrfs_file_aio_write: delalloc metadata and data reservation, extent-state bits.
        env.run(category::fs, *m_c.btrfs_write);
        vfs_write(env, f, offset, len, nullptr);
    }

    void fsync(fs_env& env, fs_inode& f) override
    {
        ++m_stats.fsyncs;
        env.run(category::fs, *m_c.vfs_fsync);
        if (f.dirty_pages.empty())
            return;
        // Write-back: every dirty page goes to a new place (copy on write): cow_file_range
        // allocates an extent, the old one is freed when the transaction commits.
        std::vector<uint64_t> old;
        for (const uint64_t lb : f.dirty_pages) {
            if (lb >= f.blocks.size())
                f.blocks.resize(lb + 1, 0);
            if (f.blocks[lb] != 0)
                old.push_back(f.blocks[lb]);
            f.blocks[lb] = 0;
        }
        const size_t pages = f.dirty_pages.size();
        const bool new_extent = f.blocks.size() > m_items_extent_end;   // the file grew into a new page
        env.run(category::fs, *m_c.btrfs_alloc_extent);
        // The data checksums and the bio submission run on a worker thread (async submit).
        env.handoff("btrfs-worker", [&] {
            for (size_t i = 0; i < pages; ++i)
                env.run(category::fs, *m_c.btrfs_csum);
            write_dirty_pages(env, f, [&](uint64_t lb) { f.blocks[lb] = m_alloc.alloc(m_data_goal); m_data_goal = f.blocks[lb] + 1; ++m_stats.blocks_allocated; });
        });
        env.wait_io();
        // Ordered-extent completion on the endio worker: file extent item, checksum item.
        env.handoff("btrfs-endio", [&] { env.run(category::fs, *m_c.btrfs_ordered); });
        for (const uint64_t b : old)
            m_pending_free.push_back(b);
        // btrfs_log_inode: copy the inode item and the new extent and csum items into the log
        // tree, copy-on-write of the path from the log root to the leaf.
        env.run(category::fs, *m_c.btrfs_log_inode);
        m_leaf_fill += new_extent ? 3 : 1;
        m_items_extent_end = f.blocks.size();
        std::vector<uint64_t> nodes;
        for (uint32_t level = 0; level < m_g.btrfs_tree_depth; ++level) {
            env.run(category::fs, *m_c.btrfs_tree_cow);
            ++m_stats.tree_cows;
            nodes.push_back(m_alloc.alloc(m_meta_goal));
            m_meta_goal = nodes.back() + 1;
        }
        if (m_leaf_fill >= m_g.btrfs_leaf_items) {
            // The leaf splits: one more leaf and the parent's new key.
            ++m_stats.leaf_splits;
            env.run(category::fs, *m_c.btrfs_tree_cow);
            ++m_stats.tree_cows;
            nodes.push_back(m_alloc.alloc(m_meta_goal));
            m_meta_goal = nodes.back() + 1;
            m_leaf_fill = 0;
        }
        for (const uint64_t n : nodes) {
            env.submit_write(n, 1, io_kind::metadata);
            count(io_kind::metadata, 1);
        }
        env.wait_io();
        // btrfs_sync_log: the log root in the superblock, after a flush, written FUA.
        env.run(category::fs, *m_c.btrfs_sync_log);
        env.submit_flush();
        ++m_stats.flushes;
        env.wait_io();   // the preflush completes before the FUA write is issued (blk-flush.c)
        env.submit_write(0, 1, io_kind::super);
        count(io_kind::super, 1);
        env.wait_io();
        // The previous log tree's nodes are free once the new root is durable.
        for (const uint64_t n : m_log_nodes)
            m_alloc.free(n);
        m_log_nodes = nodes;
        for (const uint64_t b : m_pending_free)
            m_alloc.free(b);
        m_pending_free.clear();
    }

private:
    uint64_t m_data_goal = 1024;
    uint64_t m_meta_goal = 64;
    uint32_t m_leaf_fill = 0;
    uint64_t m_items_extent_end = 0;
    std::vector<uint64_t> m_log_nodes;
    std::vector<uint64_t> m_pending_free;
};

} // namespace

std::unique_ptr<file_system> make_file_system(fs_kind kind, const fs_geometry& g, const fs_costs& c)
{
    switch (kind) {
    case fs_kind::ext2: return std::make_unique<ext2_fs>(g, c);
    case fs_kind::ext3: return std::make_unique<ext3_fs>(g, c);
    case fs_kind::ext4: return std::make_unique<ext4_fs>(g, c);
    case fs_kind::btrfs: return std::make_unique<btrfs_fs>(g, c);
    }
    throw std::invalid_argument("unknown file system");
}

} // namespace iovsim::os::linux_path
