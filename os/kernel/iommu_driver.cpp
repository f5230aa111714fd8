#include "os/kernel/iommu_driver.h"

#include <cstring>

#include "models/iommu/iommu_regs.h"
#include "models/platform/address_map.h"
#include "os/dev/e10k_queue.h"

namespace iovsim::os::kernel {

namespace ir = iovsim::iommu::regs;

iommu_driver::iommu_driver(cpu_core& core, phys_alloc& mem, unsigned levels) : m_core(core), m_mem(mem)
{
    m_tables = std::make_unique<io_page_tables>(*this, *this, levels);
}

uint64_t iommu_driver::read_u64(uint64_t pa)
{
    uint64_t v;
    std::memcpy(&v, m_core.mem(pa, 8), 8);
    return v;
}

void iommu_driver::write_u64(uint64_t pa, uint64_t v) { std::memcpy(m_core.mem(pa, 8), &v, 8); }

uint64_t iommu_driver::alloc_zeroed_page()
{
    const uint64_t pa = m_mem.alloc(page_bytes);
    std::memset(m_core.mem(pa, page_bytes), 0, page_bytes);
    return pa;
}

void iommu_driver::enable(category c)
{
    dev::dev_handle u{&m_core, models::iommu_reg_base};
    const uint64_t root = m_tables->root_table_pa();
    u.write_reg(c, ir::RTADDR_REG, static_cast<uint32_t>(root));
    u.write_reg(c, ir::RTADDR_REG + 4, static_cast<uint32_t>(root >> 32));
    u.write_reg(c, ir::GCMD_REG, ir::GCMD_SRTP);
    u.write_reg(c, ir::GCMD_REG, ir::GCMD_TE);
}

void iommu_driver::unmap(category c, uint16_t domain, uint64_t iova, uint64_t len)
{
    dev::dev_handle u{&m_core, models::iommu_reg_base};
    for (uint64_t page : m_tables->unmap(domain, iova, len)) {
        u.write_reg(c, ir::IVA_REG, static_cast<uint32_t>(page));
        u.write_reg(c, ir::IVA_REG + 4, static_cast<uint32_t>(page >> 32));
        u.write_reg(c, ir::IOTLB_REG, 0);
        u.write_reg(c, ir::IOTLB_REG + 4, ir::IOTLB_IVT_HI | 3u << ir::IOTLB_IIRG_SHIFT_HI | domain);
    }
}

void iommu_driver::detach(category c, uint16_t rid, uint16_t domain)
{
    dev::dev_handle u{&m_core, models::iommu_reg_base};
    m_tables->detach(rid);
    u.write_reg(c, ir::CCMD_REG, 0);
    u.write_reg(c, ir::CCMD_REG + 4, ir::CCMD_ICC_HI);
    u.write_reg(c, ir::IOTLB_REG, 0);
    u.write_reg(c, ir::IOTLB_REG + 4, ir::IOTLB_IVT_HI | 2u << ir::IOTLB_IIRG_SHIFT_HI | domain);
}

} // namespace iovsim::os::kernel
