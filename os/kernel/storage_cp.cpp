#include "os/kernel/storage_cp.h"

namespace iovsim::os::kernel {

namespace {
// Control-plane work belongs to no request and to no row of a data-path table.
constexpr category cp_category = category::scheduler;
constexpr uint64_t lba_bytes = 512;
} // namespace

storage_control_plane::storage_control_plane(cpu_core& core, phys_alloc& mem, iommu_driver& iommu, vsic_layout layout,
                                             unsigned max_vsics, uint64_t first_lba, uint64_t blocks)
    : m_setup(core, mem, iommu, layout, max_vsics),
      m_vsas(first_lba, blocks, max_vsics,
             [this](unsigned vsic, unsigned slot, const vsa_slot& s) { m_setup.program(cp_category, vsic, slot, s); })
{
}

uint64_t storage_control_plane::blocks_of(uint64_t bytes) { return (bytes + lba_bytes - 1) / lba_bytes; }

void storage_control_plane::boot()
{
    m_setup.boot(cp_category);
}

vsic_grant storage_control_plane::create_vsic(uint32_t app, uint64_t region_bytes)
{
    vsic_grant g = m_setup.create_vsic(cp_category, region_bytes);
    m_vsic_owner[g.vsic] = app;
    return g;
}

uint32_t storage_control_plane::acquire_vsa(uint32_t app, const std::string& name, uint64_t bytes)
{
    return m_vsas.acquire_vsa(app, name, blocks_of(bytes));
}

void storage_control_plane::resize_vsa(uint32_t app, uint32_t vsa, uint64_t bytes)
{
    m_vsas.resize_vsa(app, vsa, blocks_of(bytes));
}

void storage_control_plane::release_vsa(uint32_t app, uint32_t vsa)
{
    m_vsas.release_vsa(app, vsa);
}

uint32_t storage_control_plane::map_vsa(uint32_t app, uint32_t vsa, unsigned vsic, bool writable)
{
    const auto it = m_vsic_owner.find(vsic);
    if (it == m_vsic_owner.end() || it->second != app)
        throw storage_error("map_vsa: VSIC " + std::to_string(vsic) + " is not application " + std::to_string(app) + "'s");
    m_vsas.map(app, vsa, vsic, writable);
    return vsa;
}

} // namespace iovsim::os::kernel
