#include "os/dataplane/doorbell.h"

#include "models/nic/e10k_regs.h"
#include "models/platform/address_map.h"

namespace iovsim::os::dataplane {

namespace reg = iovsim::e10k;

doorbell_set::doorbell_set(cpu_core& core, dev::dev_handle vf, unsigned irq_base)
    : m_core(core), m_vf(vf), m_irq_base(irq_base)
{
    m_core.claim_vectors(m_irq_base, reg::queues_per_pool, [this](unsigned) {
        ++m_irqs;
        m_rang = true;
        if (m_waiter)
            m_core.wake(*m_waiter);   // the kernel schedules the waiting process
    });
}

void doorbell_set::add(int fd, unsigned queue, std::function<bool()> ready)
{
    const category c = category::scheduler;
    // Queue q's receive cause -> VF vector q -> this core, as irq_base + q (masked until armed).
    const dev::dev_handle msix{m_vf.core, m_vf.bar + models::nic_vf_msix_offset + queue * reg::msix_entry_bytes};
    msix.write_reg(c, reg::MSIX_ADDR_LO, static_cast<uint32_t>(models::msi_base | m_core.apic_id() << models::msi_dest_shift));
    msix.write_reg(c, reg::MSIX_ADDR_HI, 0);
    msix.write_reg(c, reg::MSIX_DATA, m_irq_base + queue);
    msix.write_reg(c, reg::MSIX_VECTOR_CTRL, 0);
    m_entries.push_back({fd, queue, std::move(ready)});
    uint32_t vtivar = 0;
    for (const entry& e : m_entries)
        vtivar |= (reg::IVAR_ALLOC_VAL | e.queue) << (16 * e.queue);   // RX of queue q in bits 16q+7:16q
    m_vf.write_reg(c, reg::vf::VTIVAR0, vtivar);
}

void doorbell_set::arm(bool on)
{
    uint32_t bits = 0;
    for (const entry& e : m_entries)
        bits |= 1u << e.queue;
    if (on)
        m_vf.write_reg(category::scheduler, reg::vf::VTEICR, bits);   // causes left from polled work
    m_vf.write_reg(category::scheduler, on ? reg::vf::VTEIMS : reg::vf::VTEIMC, bits);
}

std::vector<int> doorbell_set::poll()
{
    std::vector<int> out;
    for (const entry& e : m_entries)
        if (e.ready())
            out.push_back(e.fd);
    return out;
}

std::vector<int> doorbell_set::wait()
{
    std::vector<int> out = poll();
    if (!out.empty()) {
        ++m_direct;
        return out;
    }
    ++m_blocked;
    m_rang = false;
    arm(true);
    // Work that arrived before the interrupts were armed raises none: look once more.
    out = poll();
    m_waiter = m_core.current();
    while (out.empty()) {
        if (!m_rang)
            m_core.block();
        m_rang = false;
        out = poll();
    }
    m_waiter = nullptr;
    arm(false);
    return out;
}

} // namespace iovsim::os::dataplane
