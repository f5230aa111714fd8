#pragma once
// The Linux-like append-only file: write(2) of the marshaled commands into an ext4 (or any) file
// through the kernel's file system and page cache, fsync(2) to make them durable (Redis's
// appendfsync always). Each call is the system call the fsync_overhead experiment measures
// (os/linux/block_layer: entry, the file system's work, the journal and device writes, sleeping
// until the controller's interrupt, exit), on the calling task's core.
//
// The file system models where blocks go and what it writes, not the bytes themselves: the file's
// contents are kept here as the page cache would hold them, and the part an fsync returned for is
// the durable part (what a replay after a crash reads).
#include <cstdint>
#include <vector>

#include "os/linux/block_layer.h"
#include "os/linux/fs.h"
#include "workloads/redis/aof.h"

namespace iovsim::workloads::redis {

struct aof_stats {
    uint64_t writes = 0, bytes = 0, syncs = 0, errors = 0;
};

class aof_file : public aof_backend {
public:
    aof_file(os::linux_path::block_layer& block, os::linux_path::file_system& fs, os::linux_path::fs_inode& file);

    bool write(const uint8_t* data, size_t len) override;
    bool sync() override;

    // The file's bytes an fsync has returned for.
    std::vector<uint8_t> durable_bytes() const
    {
        return {m_contents.begin(), m_contents.begin() + static_cast<std::ptrdiff_t>(m_durable)};
    }
    uint64_t size() const { return m_contents.size(); }
    // Everything written has been synced.
    bool synced() const { return m_durable == m_contents.size(); }
    const aof_stats& stats() const { return m_stats; }

private:
    bool io_failed();

    os::linux_path::block_layer& m_block;
    os::linux_path::file_system& m_fs;
    os::linux_path::fs_inode& m_file;
    std::vector<uint8_t> m_contents;
    uint64_t m_durable = 0;
    uint64_t m_errors_seen = 0;
    aof_stats m_stats;
};

} // namespace iovsim::workloads::redis
