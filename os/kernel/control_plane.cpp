#include "os/kernel/control_plane.h"

#include <stdexcept>

#include "models/nic/e10k_regs.h"
#include "models/nic/tx_sched.h"
#include "models/platform/address_map.h"
#include "os/kernel/pf_setup.h"

namespace iovsim::os::kernel {

namespace reg = iovsim::e10k;

control_plane::control_plane(cpu_core& core, phys_alloc& mem, iommu_driver& iommu, unsigned max_vfs, double line_gbps)
    : m_core(core), m_mem(mem), m_iommu(iommu), m_max_vfs(max_vfs), m_line_bps(line_gbps * 1e9)
{
}

void control_plane::boot(category c)
{
    dev::dev_handle pf{&m_core, models::nic_pf_bar0};
    const unsigned pf_pool = reg::num_pools - 1;
    pf.write_reg(c, reg::pf::VT_CTL, reg::VT_CTL_VT_ENA | pf_pool << reg::VT_CTL_DEF_PL_SHIFT);
    m_iommu.attach_pass_through(models::nic_pf_rid, 1);
    m_iommu.enable(c);
    e10k_enable(pf, c);
}

vnic_grant control_plane::create_vnic(category c, wire::mac_addr mac, wire::ipv4_addr ip, uint64_t region_bytes)
{
    if (m_next_vf >= m_max_vfs || m_next_vf >= reg::num_pools - 1)
        throw std::runtime_error("no virtual function left for a new VNIC");
    vnic_grant g;
    g.vf = m_next_vf++;
    g.bar = models::nic_vf_bar_base + g.vf * models::nic_vf_bar_stride;
    g.rx_regs = reg::vf::VFRDBAL0;
    g.tx_regs = reg::vf::VFTDBAL0;
    g.region_bytes = (region_bytes + page_bytes - 1) & ~(page_bytes - 1);   // whole pages, mapped whole
    g.region_pa = m_mem.alloc(g.region_bytes);
    g.mac = mac;
    g.ip = ip;
    const uint16_t domain = static_cast<uint16_t>(g.vf + 2);
    m_iommu.attach(models::nic_vf_rid(g.vf), domain);
    m_iommu.map(domain, g.region_pa, g.region_pa, g.region_bytes, true, true);
    dev::dev_handle pf{&m_core, models::nic_pf_bar0};
    e10k_set_address(pf, c, g.vf + 1, mac, g.vf);
    m_vfre |= 1ULL << g.vf;
    pf.write_reg(c, reg::pf::PFVFRE0, static_cast<uint32_t>(m_vfre));
    pf.write_reg(c, reg::pf::PFVFRE0 + 4, static_cast<uint32_t>(m_vfre >> 32));
    pf.write_reg(c, reg::pf::PFVFTE0, static_cast<uint32_t>(m_vfre));
    pf.write_reg(c, reg::pf::PFVFTE0 + 4, static_cast<uint32_t>(m_vfre >> 32));
    return g;
}

void control_plane::set_rate(category c, const vnic_grant& g, unsigned queue, double bits_per_s)
{
    if (queue >= reg::queues_per_pool)
        throw std::invalid_argument("set_rate: a VNIC has transmit queues 0 and 1 only");
    if (!(bits_per_s >= 0))
        throw std::invalid_argument("set_rate: the rate must be 0 (no limit) or positive");
    dev::dev_handle pf{&m_core, models::nic_pf_bar0};
    pf.write_reg(c, reg::pf::RTTDQSEL, g.vf * reg::queues_per_pool + queue);
    pf.write_reg(c, reg::pf::RTTBCNRC, nic::rttbcnrc_for(m_line_bps, bits_per_s));
}

void control_plane::set_weight(category c, const vnic_grant& g, uint32_t weight)
{
    if (weight == 0 || weight > reg::RTTDT1C_CRQ_MASK)
        throw std::invalid_argument("set_weight: the weight must be in 1..16383");
    dev::dev_handle pf{&m_core, models::nic_pf_bar0};
    pf.write_reg(c, reg::pf::RTTDQSEL, g.vf);
    pf.write_reg(c, reg::pf::RTTDT1C, weight);
    if (!m_weighted) {
        pf.write_reg(c, reg::pf::RTTDCS, reg::RTTDCS_VMPAC);
        m_weighted = true;
    }
}

} // namespace iovsim::os::kernel
