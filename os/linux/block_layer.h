#pragma once
// The Linux-like storage stack under a file system: write(2) and fsync(2) as system calls, the
// page-cache pages a write-back sends, the block layer (one request per bio, plugged submissions,
// completion in the interrupt handler), the controller's driver queue (os/dev/blk_queue: SQE,
// doorbell, CQE, MSI-X), sleeping in io_schedule until the interrupt wakes the waiter, and the
// kernel threads a file system hands work to (kjournald, jbd2, btrfs workers). It is the file
// systems' environment (fs_env): everything they ask for runs here on the simulated core and
// reaches the device only through its registers and rings.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "os/core/cpu_core.h"
#include "os/dev/blk_queue.h"
#include "os/linux/fs.h"

namespace iovsim::os::linux_path {

struct block_params {
    uint32_t nsid = 1;               // the namespace the file system lives on
    // The device reports a volatile write cache (SCSI WCE, blk_queue_flush): flush requests reach
    // it. Without one, Linux 3.8 ends them at submission (generic_make_request_checks strips
    // REQ_FLUSH/REQ_FUA; an empty flush completes at once), for every user of the queue alike.
    bool write_cache = true;
    uint64_t buffer_pa = 0;          // page-cache pages the writes DMA from (the PF passes through)
    uint64_t buffer_bytes = 0;
    // Completions taken by polling in the submitter's context, no interrupt and no sleep: what a
    // RAM disk (brd) does, whose bios complete inside submit_bio. Else the interrupt wakes the waiter.
    bool poll = false;
};

struct block_stats {
    uint64_t requests = 0, flushes = 0, completions = 0, errors = 0, interrupts = 0, queue_full_waits = 0, sleeps = 0,
             handoffs = 0, flushes_ended = 0;   // flushes: sent to the device; flushes_ended: ended at submission
};

class block_layer : public fs_env {
public:
    block_layer(cpu_core& core, dev::blk_queue& queue, const fs_geometry& g, const block_params& p);

    // The interrupt handler for the queue's vector (the caller routes the core's interrupts here).
    void irq(unsigned vector);

    // System calls of the task running on the core: entry, the file system's work, exit.
    void sys_write(file_system& fs, fs_inode& f, uint64_t offset, size_t len);
    void sys_fsync(file_system& fs, fs_inode& f);

    // fs_env
    void run(category c, const primitive& p) override { m_core.run(c, p); }
    void copy_from_user(size_t bytes) override;
    void touch_fresh(size_t bytes) override { m_core.llc_fill(lines_of(bytes)); }
    void submit_write(uint64_t block, uint32_t count, io_kind kind) override;
    void submit_flush() override;
    void wait_io() override;
    void handoff(const std::string& thread, const std::function<void()>& work) override;

    // A read or write of `lbas` 512-byte sectors from `lba` straight into or from memory the device
    // may reach at `iova` (direct I/O: a user buffer, no page cache); returns at once, wait_io()
    // waits for it.
    void submit_direct(dev::blk_op op, uint64_t lba, uint32_t lbas, uint64_t iova);

    const block_stats& stats() const { return m_stats; }
    unsigned in_flight() const { return m_pending; }

private:
    struct kthread {
        task* t = nullptr;
        std::function<void()> work;
        task* caller = nullptr;
        bool done = false;
    };
    void submit(dev::blk_request r);
    void reap();
    kthread& thread(const std::string& name);

    cpu_core& m_core;
    const cost_model& m_c;
    dev::blk_queue& m_q;
    fs_geometry m_g;
    block_params m_p;
    uint32_t m_lbas_per_block;
    uint16_t m_next_cid = 0;
    unsigned m_pending = 0;
    std::vector<task*> m_io_waiters;
    std::vector<dev::blk_completion> m_done;
    std::map<std::string, std::unique_ptr<kthread>> m_threads;
    block_stats m_stats;
};

} // namespace iovsim::os::linux_path
