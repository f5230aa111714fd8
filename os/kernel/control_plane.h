#pragma once
// The Arrakis control plane for networking (the kernel "sets up and protects"): it turns on the
// NIC's virtualization, and for each application creates a VNIC: a virtual function with its own
// MAC address steered to its pool, enabled for receive and transmit, and an IOMMU domain that maps
// exactly the application's DMA region. The application then drives the VF's queues itself.
#include <cstdint>

#include "os/core/cpu_core.h"
#include "os/kernel/iommu_driver.h"
#include "os/kernel/phys_alloc.h"
#include "sim/wire/wire.h"

namespace iovsim::os::kernel {

struct vnic_grant {
    unsigned vf = 0;
    uint64_t bar = 0;          // the VF's register window, mapped into the application
    uint32_t rx_regs = 0;      // offsets of queue 0's RX and TX registers in that window
    uint32_t tx_regs = 0;
    uint64_t region_pa = 0;    // the application's DMA-able memory (iova == pa)
    uint64_t region_bytes = 0;
    wire::mac_addr mac;
    wire::ipv4_addr ip;
};

class control_plane {
public:
    control_plane(cpu_core& core, phys_alloc& mem, iommu_driver& iommu, unsigned max_vfs);

    // VT mode on, the PF in its own pool, the IOMMU on (the PF passes through).
    void boot(category c);
    // A VNIC for an application: throws std::runtime_error when no VF is left.
    vnic_grant create_vnic(category c, wire::mac_addr mac, wire::ipv4_addr ip, uint64_t region_bytes);

private:
    cpu_core& m_core;
    phys_alloc& m_mem;
    iommu_driver& m_iommu;
    unsigned m_max_vfs;
    unsigned m_next_vf = 0;
    uint64_t m_vfre = 0;
};

} // namespace iovsim::os::kernel
