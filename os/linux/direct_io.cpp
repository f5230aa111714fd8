#include "os/linux/direct_io.h"

#include <algorithm>

namespace iovsim::os::linux_path {

direct_io::direct_io(cpu_core& core, block_layer& block, const direct_io_params& p)
    : m_core(core), m_c(core.costs()), m_block(block), m_p(p)
{
}

int64_t direct_io::sys_pwrite(uint64_t buf_iova, uint64_t offset, uint32_t bytes)
{
    return transfer(dev::blk_op::write, buf_iova, offset, bytes);
}

int64_t direct_io::sys_pread(uint64_t buf_iova, uint64_t offset, uint32_t bytes)
{
    ++m_stats.reads;
    return transfer(dev::blk_op::read, buf_iova, offset, bytes);
}

int64_t direct_io::transfer(dev::blk_op op, uint64_t buf_iova, uint64_t offset, uint32_t bytes)
{
    ++m_stats.calls;
    m_core.run(category::syscall, m_c.l_syscall_entry);
    m_core.run(category::block_io, m_c.l_dio_setup);
    // blkdev_direct_IO's alignment rule: the offset, the length and the buffer's address on the
    // device's logical block size; and nothing past the device's end.
    const uint64_t region_bytes = m_p.lbas * sector_bytes;
    if (bytes == 0 || offset % sector_bytes != 0 || bytes % sector_bytes != 0 || buf_iova % sector_bytes != 0 ||
        offset > region_bytes || bytes > region_bytes - offset) {
        ++m_stats.invalid;
        m_core.run(category::kernel_return, m_c.l_syscall_exit);
        return e_inval;
    }
    const uint64_t errors_before = m_block.stats().errors;
    // The user pages the buffer spans, pinned; then a bio per BIO_MAX_PAGES pages, each submitted
    // as soon as it is full (dio_bio_submit), all in flight together.
    const uint64_t first_page = buf_iova / page_bytes;
    const uint64_t last_page = (buf_iova + bytes - 1) / page_bytes;
    for (uint64_t done = 0; done < bytes;) {
        // A bio ends where it would hold more than BIO_MAX_PAGES pages.
        const uint64_t at = buf_iova + done;
        const uint64_t bio_end = std::min<uint64_t>(buf_iova + bytes, (at / page_bytes) * page_bytes + max_bio_bytes);
        const auto len = static_cast<uint32_t>(bio_end - at);
        const uint64_t pages = (bio_end - 1) / page_bytes - at / page_bytes + 1;
        for (uint64_t i = 0; i < pages; ++i)
            m_core.run(category::block_io, m_c.l_dio_page);
        m_core.run(category::block_io, m_c.l_dio_bio);
        m_block.submit_direct(op, m_p.first_lba + (offset + done) / sector_bytes, len / sector_bytes, at);
        ++m_stats.bios;
        done += len;
    }
    m_stats.pages += last_page - first_page + 1;
    m_block.wait_io();
    m_core.run(category::block_io, m_c.l_dio_complete);
    bool failed = m_block.stats().errors != errors_before;
    // O_DSYNC, for a write: the data is on the device; its cache too only if it forgets on power
    // loss.
    if (op == dev::blk_op::write)
        m_core.run(category::block_io, m_c.l_dio_dsync);
    if (op == dev::blk_op::write && !failed) {
        // blkdev_issue_flush: the block layer sends it only to a queue with a volatile write cache.
        const uint64_t sent_before = m_block.stats().flushes;
        m_block.submit_flush();
        m_block.wait_io();
        failed = m_block.stats().errors != errors_before;
        ++(m_block.stats().flushes != sent_before ? m_stats.flushes_sent : m_stats.flushes_ended_early);
    }
    m_core.run(category::kernel_return, m_c.l_syscall_exit);
    if (failed) {
        ++m_stats.errors;
        return e_io;
    }
    m_stats.bytes += bytes;
    return bytes;
}

} // namespace iovsim::os::linux_path
