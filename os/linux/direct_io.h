#pragma once
// pwrite(2) on a raw block device opened O_DIRECT|O_DSYNC: what a log kept on the device without a
// file system (Caladan on Linux) asks of the kernel for each write. The Linux 3.8 path, as code
// that runs on the calling task's core:
//   entry     the system call's crossing (linux.syscall_entry)
//   setup     blkdev_aio_write, generic_file_direct_write, do_blockdev_direct_IO (linux.dio_setup)
//   pin       get_user_pages_fast of every 4 KiB user page the range touches (linux.dio_page)
//   bios      one bio per BIO_MAX_PAGES pages (linux.dio_bio), each a request through the block
//             layer and the controller's driver queue (os/linux/block_layer, os/dev/blk_queue:
//             linux.blk_submit; SQE, doorbell)
//   sleep     io_schedule until the controller's completion interrupt has ended every bio (the
//             interrupt handler: linux.irq_entry/exit, linux.blk_complete per request)
//   complete  dio_complete, the pages released (linux.dio_complete)
//   O_DSYNC   generic_write_sync to blkdev_fsync and blkdev_issue_flush (linux.dio_dsync); the
//             flush reaches the device only when its queue has a volatile write cache
//             (block_params::write_cache, os.blk.write_cache): the flush request, then a sleep
//             until it completes
//   exit      linux.syscall_exit
// The device reads the data from the user's pages themselves (zero copy): they must be memory the
// controller may DMA from through the IOMMU (the kernel maps them for the controller's function).
// A request that fails (a device error status, a DMA the IOMMU blocked) fails the call with -EIO;
// the requests before and after it are not affected. pread(2) takes the same path the other way
// (the device writes into the user's pages), without the O_DSYNC step.
#include <cstdint>

#include "os/core/cpu_core.h"
#include "os/linux/block_layer.h"

namespace iovsim::os::linux_path {

struct direct_io_params {
    uint64_t first_lba = 0;       // the region of the device the caller opened (a partition)
    uint64_t lbas = 0;            // its size in 512-byte sectors
};

struct direct_io_stats {
    uint64_t calls = 0, reads = 0, bytes = 0, bios = 0, pages = 0, flushes_sent = 0, flushes_ended_early = 0,
             errors = 0, invalid = 0;
};

class direct_io {
public:
    static constexpr uint32_t sector_bytes = 512;            // the device's logical block
    static constexpr uint32_t page_bytes = 4096;
    static constexpr uint32_t max_bio_bytes = 256 * page_bytes;   // BIO_MAX_PAGES (include/linux/bio.h)
    static constexpr int64_t e_io = -5, e_inval = -22;        // -EIO, -EINVAL

    direct_io(cpu_core& core, block_layer& block, const direct_io_params& p);

    // pwrite(fd, buf, bytes, offset) by the task running on the core: `buf` is the user buffer at
    // address `buf_iova` (as the controller's DMA sees it), `offset` a byte offset into the region.
    // Returns `bytes`, -EINVAL (offset, length or buffer not sector-aligned, or beyond the region:
    // nothing is written) or -EIO (a request failed).
    int64_t sys_pwrite(uint64_t buf_iova, uint64_t offset, uint32_t bytes);
    // pread(fd, buf, bytes, offset): the same path, the device writing into the user's pages; no
    // O_DSYNC work. Returns `bytes`, -EINVAL or -EIO as pwrite.
    int64_t sys_pread(uint64_t buf_iova, uint64_t offset, uint32_t bytes);

    const direct_io_stats& stats() const { return m_stats; }
    const direct_io_params& params() const { return m_p; }
    cpu_core& core() { return m_core; }

private:
    int64_t transfer(dev::blk_op op, uint64_t buf_iova, uint64_t offset, uint32_t bytes);

    cpu_core& m_core;
    const cost_model& m_c;
    block_layer& m_block;
    direct_io_params m_p;
    direct_io_stats m_stats;
};

} // namespace iovsim::os::linux_path
