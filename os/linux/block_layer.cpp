#include "os/linux/block_layer.h"

#include <algorithm>
#include <stdexcept>

namespace iovsim::os::linux_path {

constexpr uint32_t lba_bytes = 512;

block_layer::block_layer(cpu_core& core, dev::blk_queue& queue, const fs_geometry& g, const block_params& p)
    : m_core(core), m_c(core.costs()), m_q(queue), m_g(g), m_p(p), m_lbas_per_block(g.block_bytes / lba_bytes)
{
    if (g.block_bytes % lba_bytes != 0)
        throw std::invalid_argument("block_layer: the file-system block must be whole 512-byte sectors");
    if (p.buffer_bytes < g.block_bytes)
        throw std::invalid_argument("block_layer: no page-cache buffer to write from");
}

void block_layer::sys_write(file_system& fs, fs_inode& f, uint64_t offset, size_t len)
{
    m_core.run(category::syscall, m_c.l_syscall_entry);
    fs.write(*this, f, offset, len);
    m_core.run(category::kernel_return, m_c.l_syscall_exit);
}

void block_layer::sys_fsync(file_system& fs, fs_inode& f)
{
    m_core.run(category::syscall, m_c.l_syscall_entry);
    m_core.run(category::fs, m_c.l_fsync_syscall);
    fs.fsync(*this, f);
    m_core.run(category::kernel_return, m_c.l_syscall_exit);
}

void block_layer::copy_from_user(size_t bytes)
{
    m_core.run(category::copy_in, m_c.l_copy_user);
    m_core.copy(category::copy_in, bytes);
}

// The page-cache pages of a write: a window of kernel memory the device reads from. What they hold
// does not matter to the timing; where they are must be memory the device may read.
void block_layer::submit_write(uint64_t block, uint32_t count, io_kind)
{
    const uint64_t window_blocks = m_p.buffer_bytes / m_g.block_bytes;
    if (count > window_blocks)
        throw std::runtime_error("block_layer: a write larger than the page-cache window");
    const uint64_t off = block % (window_blocks - count + 1) * m_g.block_bytes;
    dev::blk_request r{};
    r.op = dev::blk_op::write;
    r.nsid = m_p.nsid;
    r.lba = block * m_lbas_per_block;
    r.blocks = count * m_lbas_per_block;
    r.iova = m_p.buffer_pa + off;
    submit(r);
}

void block_layer::submit_direct(dev::blk_op op, uint64_t lba, uint32_t lbas, uint64_t iova)
{
    dev::blk_request r{};
    r.op = op;
    r.nsid = m_p.nsid;
    r.lba = lba;
    r.blocks = lbas;
    r.iova = iova;
    submit(r);
}

void block_layer::submit_flush()
{
    if (!m_p.write_cache) {
        ++m_stats.flushes_ended;
        return;
    }
    dev::blk_request r{};
    r.op = dev::blk_op::flush;
    r.nsid = m_p.nsid;
    ++m_stats.flushes;
    submit(r);
}

void block_layer::submit(dev::blk_request r)
{
    r.cid = m_next_cid++;   // the queue charges linux.blk_submit for the block layer and the driver
    // A full submission queue: the submitter sleeps until completions free slots (get_request_wait).
    while (!m_q.submit(category::block_io, r)) {
        ++m_stats.queue_full_waits;
        if (m_p.poll) {
            m_q.wait(category::block_io);
            reap();
            continue;
        }
        m_io_waiters.push_back(m_core.current());
        m_core.block();
    }
    ++m_pending;
    ++m_stats.requests;
}

void block_layer::wait_io()
{
    if (m_p.poll) {
        while (m_pending > 0) {
            m_q.wait(category::block_io);
            reap();
        }
        return;
    }
    // io_schedule: sleep until the interrupt handler has completed everything in flight.
    while (m_pending > 0) {
        ++m_stats.sleeps;
        m_io_waiters.push_back(m_core.current());
        m_core.block();
    }
}

void block_layer::irq(unsigned)
{
    ++m_stats.interrupts;
    m_core.run(category::block_io, m_c.l_irq_entry);
    reap();
    m_core.run(category::block_io, m_c.l_irq_exit);
}

void block_layer::reap()
{
    m_done.clear();
    m_q.reap(category::block_io, m_done, 64);
    for (const dev::blk_completion& c : m_done) {   // each charged linux.blk_complete by the queue
        ++m_stats.completions;
        if (c.status != 0)
            ++m_stats.errors;
        if (m_pending > 0)
            --m_pending;
    }
    if (!m_done.empty()) {
        std::vector<task*> waiters;
        waiters.swap(m_io_waiters);
        for (task* t : waiters)
            m_core.wake(*t);
    }
}

block_layer::kthread& block_layer::thread(const std::string& name)
{
    auto& slot = m_threads[name];
    if (!slot) {
        slot = std::make_unique<kthread>();
        kthread* k = slot.get();
        // A kernel thread (no address space of its own): sleeps until handed work, runs it, wakes
        // the task that handed it over.
        k->t = &m_core.spawn(name, [this, k] {
            for (;;) {
                while (!k->work)
                    m_core.block();
                std::function<void()> w = std::move(k->work);
                k->work = nullptr;
                w();
                k->done = true;
                m_core.wake(*k->caller);
            }
        }, false);
    }
    return *slot;
}

void block_layer::handoff(const std::string& name, const std::function<void()>& work)
{
    ++m_stats.handoffs;
    kthread& k = thread(name);
    k.work = work;
    k.caller = m_core.current();
    k.done = false;
    m_core.run(category::scheduler, m_c.l_wake_sleeping);
    m_core.wake(*k.t);
    while (!k.done)
        m_core.block();
}

} // namespace iovsim::os::linux_path
