#include "os/kernel/pf_setup.h"

#include <cmath>

#include "models/platform/address_map.h"

namespace iovsim::os::kernel {

namespace reg = iovsim::e10k;

void e10k_set_address(const dev::dev_handle& pf, category c, unsigned rar, const wire::mac_addr& mac, unsigned pool)
{
    const auto& b = mac.bytes;
    const uint32_t ral = b[0] | b[1] << 8 | b[2] << 16 | static_cast<uint32_t>(b[3]) << 24;
    const uint32_t rah = b[4] | b[5] << 8 | reg::RAH_AV;
    pf.write_reg(c, reg::pf::MPSAR_LO0 + 8 * rar, pool < 32 ? 1u << pool : 0);
    pf.write_reg(c, reg::pf::MPSAR_HI0 + 8 * rar, pool >= 32 ? 1u << (pool - 32) : 0);
    pf.write_reg(c, reg::pf::RAL0 + 8 * rar, ral);
    pf.write_reg(c, reg::pf::RAH0 + 8 * rar, rah);
    pf.write_reg(c, reg::pf::VMOLR0 + 4 * pool, reg::VMOLR_BAM);
}

void e10k_enable(const dev::dev_handle& pf, category c)
{
    pf.write_reg(c, reg::pf::RXCTRL, reg::RXCTRL_RXEN);
    pf.write_reg(c, reg::pf::DMATXCTL, reg::DMATXCTL_TE);
}

void e10k_pf_route_irq(const dev::dev_handle& pf, category c, unsigned q, unsigned vector, unsigned apic,
                       unsigned irq, double interval_us)
{
    // IVAR(q/2): RX of the even queue in 7:0, odd in 23:16. Read, modify, write, as ixgbe_set_ivar
    // does, so the neighbouring queue's entry stays.
    const uint32_t shift = (q % 2) * 16;
    const uint32_t ivar_off = reg::pf::IVAR0 + 4 * (q / 2);
    const uint32_t ivar = pf.read_reg(c, ivar_off) & ~(0xFFu << shift);
    pf.write_reg(c, ivar_off, ivar | (reg::IVAR_ALLOC_VAL | vector) << shift);
    const uint64_t entry = models::nic_pf_msix_bar + vector * reg::msix_entry_bytes;
    dev::dev_handle table{pf.core, entry};
    table.write_reg(c, reg::MSIX_ADDR_LO, static_cast<uint32_t>(models::msi_base | apic << models::msi_dest_shift));
    table.write_reg(c, reg::MSIX_ADDR_HI, 0);
    table.write_reg(c, reg::MSIX_DATA, irq);
    table.write_reg(c, reg::MSIX_VECTOR_CTRL, 0);
    const auto units = static_cast<uint32_t>(std::lround(interval_us * 1000.0 / reg::EITR_UNIT_NS));
    pf.write_reg(c, reg::pf::EITR0 + 4 * vector, (units << reg::EITR_ITR_SHIFT) & reg::EITR_ITR_MASK);
    pf.write_reg(c, reg::pf::EIAM, pf.read_reg(c, reg::pf::EIAM) | 1u << vector);
    pf.write_reg(c, reg::pf::EIMS, 1u << vector);
}

void e10k_pf_route_tx_irq(const dev::dev_handle& pf, category c, unsigned q, unsigned vector, bool on)
{
    const uint32_t shift = (q % 2) * 16 + 8;
    const uint32_t ivar_off = reg::pf::IVAR0 + 4 * (q / 2);
    const uint32_t ivar = pf.read_reg(c, ivar_off) & ~(0xFFu << shift);
    pf.write_reg(c, ivar_off, on ? ivar | (reg::IVAR_ALLOC_VAL | vector) << shift : ivar);
}

} // namespace iovsim::os::kernel
