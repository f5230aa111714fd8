#include "os/dev/blk_queue.h"

#include <cstring>
#include <stdexcept>

#include "models/platform/address_map.h"

namespace iovsim::os::dev {

namespace reg = iovsim::storage::reg;
using storage::cqe;
using storage::sqe;

void blk_regs::write(category c, uint32_t off, uint32_t v) const
{
    if (!in_memory) {
        core->mmio_write32(c, base + off, v);
        return;
    }
    // A store into the emulated device's register page; the core polling it sees the line change.
    std::memcpy(core->mem(base + off, 4), &v, 4);
    core->memory().announce_store(base + off, 4, core->local_time());
}

uint32_t blk_regs::read(category c, uint32_t off) const
{
    if (!in_memory)
        return core->mmio_read32(c, base + off);
    uint32_t v = 0;
    std::memcpy(&v, core->mem(base + off, 4), 4);
    return v;
}

blk_queue::blk_queue(blk_regs regs, const blk_queue_params& p)
    : m_regs(regs), m_p(p), m_sq(regs.core->mem(p.sq_pa, uint64_t(p.entries) * storage::sqe_bytes)),
      m_cq(regs.core->mem(p.cq_pa, uint64_t(p.entries) * storage::cqe_bytes))
{
    if (p.entries < reg::min_queue_entries || p.entries > storage::max_queue_entries)
        throw std::invalid_argument("block queue: 2 to 4096 entries");
    if (p.sq_pa % storage::sqe_bytes || p.cq_pa % storage::cqe_bytes)
        throw std::invalid_argument("block queue: rings must be aligned to their entry size");
    if (p.wait == blk_wait::poll)
        m_watch = regs.core->memory().watch(p.cq_pa, uint64_t(p.entries) * storage::cqe_bytes,
                                            p.completion_event ? *p.completion_event : m_cq_written);
}

blk_queue::~blk_queue()
{
    if (m_watch != ~0u)
        m_regs.core->memory().unwatch(m_watch);
}

void blk_queue::init(category c)
{
    std::memset(m_cq, 0, uint64_t(m_p.entries) * storage::cqe_bytes);   // phase tags 0: nothing posted
    const unsigned q = m_p.qid;
    m_regs.write(c, reg::queue_reg(q, reg::SQBAL_OFF), static_cast<uint32_t>(m_p.sq_pa));
    m_regs.write(c, reg::queue_reg(q, reg::SQBAH_OFF), static_cast<uint32_t>(m_p.sq_pa >> 32));
    m_regs.write(c, reg::queue_reg(q, reg::SQSZ_OFF), m_p.entries);
    m_regs.write(c, reg::queue_reg(q, reg::CQBAL_OFF), static_cast<uint32_t>(m_p.cq_pa));
    m_regs.write(c, reg::queue_reg(q, reg::CQBAH_OFF), static_cast<uint32_t>(m_p.cq_pa >> 32));
    m_regs.write(c, reg::queue_reg(q, reg::CQSZ_OFF), m_p.entries);
    uint32_t qctl = reg::QCTL_EN;
    if (m_p.wait == blk_wait::interrupt) {
        const uint32_t entry = reg::MSIX0 + m_p.msix_entry * storage::msix_entry_bytes;
        m_regs.write(c, entry + reg::MSIX_ADDR_LO,
                     static_cast<uint32_t>(models::msi_base | uint64_t(m_p.apic_id) << models::msi_dest_shift));
        m_regs.write(c, entry + reg::MSIX_ADDR_HI, 0);
        m_regs.write(c, entry + reg::MSIX_DATA, m_p.irq_vector);
        m_regs.write(c, entry + reg::MSIX_CTRL, 0);
        qctl |= reg::QCTL_IEN | (m_p.msix_entry << reg::QCTL_IV_SHIFT & reg::QCTL_IV_MASK);
    }
    m_regs.write(c, reg::queue_reg(q, reg::QCTL_OFF), qctl);
    m_sq_tail = m_sq_head = m_cq_head = 0;
    m_phase = true;
    m_in_flight = 0;
}

bool blk_queue::submit(category c, const blk_request& r)
{
    if ((m_sq_tail + 1) % m_p.entries == m_sq_head)
        return false;
    sqe s;
    s.op = r.op == blk_op::read ? storage::opcode::read : r.op == blk_op::write ? storage::opcode::write : storage::opcode::flush;
    s.flags = r.prp ? storage::SQE_DPTR_PRP : storage::SQE_DPTR_CONTIG;
    s.cid = r.cid;
    s.nsid = r.nsid;
    s.prp1 = r.iova;
    s.prp2 = r.iova2;
    s.slba = r.lba;
    s.nlb = r.blocks;
    s.encode(m_sq + uint64_t(m_sq_tail) * storage::sqe_bytes);
    m_regs.core->run(c, m_p.submit_cost ? *m_p.submit_cost : m_regs.core->costs().a_blk_submit);
    m_sq_tail = (m_sq_tail + 1) % m_p.entries;
    ++m_in_flight;
    m_regs.write(c, reg::sq_tail_doorbell(m_p.qid), m_sq_tail);
    return true;
}

bool blk_queue::completion_ready() const
{
    return cqe::phase_of(m_cq + uint64_t(m_cq_head) * storage::cqe_bytes) == m_phase;
}

bool blk_queue::peek(blk_completion& c) const
{
    if (!completion_ready())
        return false;
    const cqe e = cqe::decode(m_cq + uint64_t(m_cq_head) * storage::cqe_bytes);
    c = {e.cid, static_cast<uint16_t>(e.code)};
    return true;
}

size_t blk_queue::reap(category c, std::vector<blk_completion>& out, size_t max)
{
    cpu_core& core = *m_regs.core;
    constexpr unsigned per_line = cache_line_bytes / storage::cqe_bytes;
    size_t n = 0;
    while (n < max && completion_ready()) {
        if (n == 0 || m_cq_head % per_line == 0) {   // a new line of the ring
            switch (m_p.completion_line) {
            case blk_line_source::dram: core.touch_dma_lines(c, 1, false, false); break;
            case blk_line_source::llc: core.touch_dma_lines(c, 1, true, false); break;
            case blk_line_source::remote_core: core.charge_ns(c, core.costs().c2c_line_ns); break;
            }
        }
        const cqe e = cqe::decode(m_cq + uint64_t(m_cq_head) * storage::cqe_bytes);
        core.run(c, m_p.reap_cost ? *m_p.reap_cost : core.costs().a_blk_reap);
        out.push_back({e.cid, static_cast<uint16_t>(e.code)});
        m_sq_head = e.sq_head % m_p.entries;
        m_cq_head = (m_cq_head + 1) % m_p.entries;
        if (m_cq_head == 0)
            m_phase = !m_phase;
        if (m_in_flight > 0)
            --m_in_flight;
        ++n;
    }
    if (n > 0)
        m_regs.write(c, reg::cq_head_doorbell(m_p.qid), m_cq_head);
    return n;
}

void blk_queue::wait(category c)
{
    cpu_core& core = *m_regs.core;
    if (m_p.wait == blk_wait::poll) {
        core.wait_until(c, [this] { return completion_ready(); }, &completion_event());
        return;
    }
    if (completion_ready())
        return;
    m_waiter = core.current();
    core.block();
    m_waiter = nullptr;
}

void blk_queue::interrupt()
{
    if (m_waiter)
        m_regs.core->wake(*m_waiter);
}

} // namespace iovsim::os::dev
