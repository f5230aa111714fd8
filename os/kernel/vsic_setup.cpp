#include "os/kernel/vsic_setup.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "models/platform/address_map.h"

namespace iovsim::os::kernel {

namespace reg = iovsim::storage::reg;

namespace {

uint64_t whole_pages(uint64_t bytes) { return (bytes + page_bytes - 1) & ~(page_bytes - 1); }

} // namespace

dev::blk_regs vsic_layout::pf(cpu_core& core) const
{
    return emulated ? dev::blk_regs{&core, emulated_base, true} : dev::blk_regs{&core, models::storage_pf_bar0, false};
}

dev::blk_regs vsic_layout::vsic(cpu_core& core, unsigned v) const
{
    if (emulated)
        return {&core, emulated_base + reg::pf_window + uint64_t(v) * reg::function_window, true};
    return {&core, models::storage_vsic_bar_base + v * models::storage_vsic_bar_stride, false};
}

vsic_setup::vsic_setup(cpu_core& core, phys_alloc& mem, iommu_driver& iommu, vsic_layout layout, unsigned max_vsics)
    : m_core(core), m_mem(mem), m_iommu(iommu), m_layout(layout), m_max_vsics(std::min(max_vsics, storage::max_vsics)),
      m_used(storage::max_vsics)
{
}

void vsic_setup::boot(category c)
{
    if (m_layout.emulated)
        std::memset(m_core.mem(m_layout.emulated_base, vsic_layout::emulated_bytes), 0, vsic_layout::emulated_bytes);
    m_iommu.attach(models::storage_pf_rid, storage_pf_domain);
    m_iommu.enable(c);
    dev::blk_regs{&m_core, models::storage_pf_bar0, false}.write(c, reg::CC, reg::CC_EN);
}

void vsic_setup::map_for_pf(uint64_t pa, uint64_t bytes)
{
    const uint64_t first = pa & ~(page_bytes - 1);
    m_iommu.map(storage_pf_domain, first, first, whole_pages(pa + bytes - first), true, true);
}

vsic_grant vsic_setup::create_vsic(category c, uint64_t region_bytes)
{
    if (m_next_vsic >= m_max_vsics)
        throw std::runtime_error("no VSIC left for a new application");
    vsic_grant g;
    g.vsic = m_next_vsic++;
    g.emulated = m_layout.emulated;
    g.regs = m_layout.vsic(m_core, g.vsic);
    g.region_bytes = whole_pages(region_bytes);
    g.region_pa = m_mem.alloc(g.region_bytes);
    if (m_layout.emulated) {
        // Without bounce buffers the controller DMAs straight to the application's buffers; the
        // emulating core keeps each VSIC inside its window either way.
        if (!m_layout.bounce)
            map_for_pf(g.region_pa, g.region_bytes);
        g.regs.write(c, reg::EMU_DMA_BASE_LO, static_cast<uint32_t>(g.region_pa));
        g.regs.write(c, reg::EMU_DMA_BASE_HI, static_cast<uint32_t>(g.region_pa >> 32));
        g.regs.write(c, reg::EMU_DMA_LEN_LO, static_cast<uint32_t>(g.region_bytes));
        g.regs.write(c, reg::EMU_DMA_LEN_HI, static_cast<uint32_t>(g.region_bytes >> 32));
    } else {
        const uint16_t domain = static_cast<uint16_t>(storage_vsic_domain0 + g.vsic);
        m_iommu.attach(models::storage_vsic_rid(g.vsic), domain);
        m_iommu.map(domain, g.region_pa, g.region_pa, g.region_bytes, true, true);
    }
    g.regs.write(c, reg::CC, reg::CC_EN);
    m_enabled |= 1ULL << g.vsic;
    const dev::blk_regs pf = m_layout.pf(m_core);
    pf.write(c, g.vsic < 32 ? reg::VSICEN0 : reg::VSICEN1, static_cast<uint32_t>(m_enabled >> (g.vsic < 32 ? 0 : 32)));
    return g;
}

vsic_emulator_params vsic_setup::emulator_params(unsigned pf_queue, uint32_t entries, uint32_t bounce_slot_bytes)
{
    vsic_emulator_params ep;
    ep.window_pa = m_layout.emulated_base;
    ep.max_vsics = m_max_vsics;
    ep.pf_queue = pf_queue;
    ep.entries = entries;
    ep.sq_pa = m_mem.alloc(uint64_t(entries) * storage::sqe_bytes);
    ep.cq_pa = m_mem.alloc(uint64_t(entries) * storage::cqe_bytes);
    map_for_pf(ep.sq_pa, uint64_t(entries) * storage::sqe_bytes);
    map_for_pf(ep.cq_pa, uint64_t(entries) * storage::cqe_bytes);
    if (m_layout.bounce && bounce_slot_bytes > 0) {
        ep.bounce_slot_bytes = bounce_slot_bytes;
        ep.bounce_pa = m_mem.alloc(uint64_t(entries) * bounce_slot_bytes);
        map_for_pf(ep.bounce_pa, uint64_t(entries) * bounce_slot_bytes);
    }
    return ep;
}

void vsic_setup::map_vsa(category c, unsigned vsic, unsigned slot, uint16_t vsa_id, uint64_t base_lba, uint64_t blocks,
                         bool read, bool write)
{
    if (vsic >= m_next_vsic || slot >= storage::vsas_per_vsic)
        throw std::invalid_argument("map_vsa: no such VSIC or slot");
    const dev::blk_regs pf = m_layout.pf(m_core);
    // Invalid while it changes, valid last: the device never sees half an entry.
    pf.write(c, reg::vsa_entry(vsic, slot, reg::VSA_CTL_OFF), 0);
    pf.write(c, reg::vsa_entry(vsic, slot, reg::VSA_BASE_LO_OFF), static_cast<uint32_t>(base_lba));
    pf.write(c, reg::vsa_entry(vsic, slot, reg::VSA_BASE_HI_OFF), static_cast<uint32_t>(base_lba >> 32));
    pf.write(c, reg::vsa_entry(vsic, slot, reg::VSA_LEN_LO_OFF), static_cast<uint32_t>(blocks));
    pf.write(c, reg::vsa_entry(vsic, slot, reg::VSA_LEN_HI_OFF), static_cast<uint32_t>(blocks >> 32));
    pf.write(c, reg::vsa_entry(vsic, slot, reg::VSA_CTL_OFF),
             reg::VSA_CTL_V | (read ? reg::VSA_CTL_R : 0) | (write ? reg::VSA_CTL_W : 0) |
                 static_cast<uint32_t>(vsa_id) << reg::VSA_CTL_ID_SHIFT);
    m_used[vsic][slot] = true;
}

void vsic_setup::unmap_vsa(category c, unsigned vsic, unsigned slot)
{
    if (vsic >= m_next_vsic || slot >= storage::vsas_per_vsic)
        throw std::invalid_argument("unmap_vsa: no such VSIC or slot");
    m_layout.pf(m_core).write(c, reg::vsa_entry(vsic, slot, reg::VSA_CTL_OFF), 0);
    m_used[vsic][slot] = false;
}

void vsic_setup::program(category c, unsigned vsic, unsigned slot, const vsa_slot& s)
{
    if (!s.valid)
        return unmap_vsa(c, vsic, slot);
    map_vsa(c, vsic, slot, static_cast<uint16_t>(s.vsa), s.base_lba, s.blocks, true, s.writable);
}

int vsic_setup::free_slot(unsigned vsic) const
{
    if (vsic >= m_next_vsic)
        return -1;
    for (unsigned s = 0; s < storage::vsas_per_vsic; ++s)
        if (!m_used[vsic][s])
            return static_cast<int>(s);
    return -1;
}

} // namespace iovsim::os::kernel
