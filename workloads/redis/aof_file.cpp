#include "workloads/redis/aof_file.h"

namespace iovsim::workloads::redis {

aof_file::aof_file(os::linux_path::block_layer& block, os::linux_path::file_system& fs, os::linux_path::fs_inode& file)
    : m_block(block), m_fs(fs), m_file(file), m_errors_seen(block.stats().errors)
{
}

// A request of the block layer failed since the last look (the file system does not report it
// per call; the kernel would return -EIO from the fsync).
bool aof_file::io_failed()
{
    const uint64_t errors = m_block.stats().errors;
    const bool failed = errors != m_errors_seen;
    m_errors_seen = errors;
    if (failed)
        ++m_stats.errors;
    return failed;
}

bool aof_file::write(const uint8_t* data, size_t len)
{
    m_block.sys_write(m_fs, m_file, m_contents.size(), len);
    m_contents.insert(m_contents.end(), data, data + len);
    ++m_stats.writes;
    m_stats.bytes += len;
    return !io_failed();
}

bool aof_file::sync()
{
    const uint64_t covered = m_contents.size();
    m_block.sys_fsync(m_fs, m_file);
    ++m_stats.syncs;
    if (io_failed())
        return false;
    m_durable = covered;
    return true;
}

} // namespace iovsim::workloads::redis
