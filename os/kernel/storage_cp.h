#pragma once
// The Arrakis control plane for storage (paper section 3.2): the kernel hands an application a
// VSIC (its queue registers, an IOMMU domain that maps only the application's memory) and VSAs
// (acquire_vsa, resize_vsa, release_vsa), maps VSAs into VSICs many-to-many, and keeps the names
// of the VFS that resolve to an application's VSA. The bookkeeping is vsa_manager's; what touches
// the device (the controller's PF, the VSA mapping table, the IOMMU) is vsic_setup's.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "os/core/cpu_core.h"
#include "os/kernel/storage_vsa.h"
#include "os/kernel/vsic_setup.h"

namespace iovsim::os::kernel {

class storage_control_plane {
public:
    // The device's LBAs [first_lba, first_lba + blocks) are for VSAs.
    storage_control_plane(cpu_core& core, phys_alloc& mem, iommu_driver& iommu, vsic_layout layout, unsigned max_vsics,
                          uint64_t first_lba, uint64_t blocks);

    // The controller on, the IOMMU on.
    void boot();
    // A VSIC for application `app` with `region_bytes` of DMA-able memory (its domain maps only that).
    vsic_grant create_vsic(uint32_t app, uint64_t region_bytes);
    // A VSA of at least `bytes` (whole 512-byte blocks); see vsa_manager for the rules.
    uint32_t acquire_vsa(uint32_t app, const std::string& name, uint64_t bytes);
    void resize_vsa(uint32_t app, uint32_t vsa, uint64_t bytes);
    void release_vsa(uint32_t app, uint32_t vsa);
    // Maps the VSA into one of the application's VSICs; returns the namespace id its commands use.
    // Throws storage_error when the VSIC is not the application's or has no free slot.
    uint32_t map_vsa(uint32_t app, uint32_t vsa, unsigned vsic, bool writable);
    // The VFS: a name for the VSA, and its resolution for an application.
    void bind_name(uint32_t app, const std::string& path, uint32_t vsa) { m_vsas.bind_name(app, path, vsa); }
    std::optional<uint32_t> resolve(uint32_t app, const std::string& path) const { return m_vsas.resolve(app, path); }

    vsa_manager& vsas() { return m_vsas; }
    vsic_setup& setup() { return m_setup; }

private:
    static uint64_t blocks_of(uint64_t bytes);
    vsic_setup m_setup;
    vsa_manager m_vsas;
    std::map<unsigned, uint32_t> m_vsic_owner;
};

} // namespace iovsim::os::kernel
