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
    // line_gbps: the link's rate, which the NIC's rate factors are relative to.
    control_plane(cpu_core& core, phys_alloc& mem, iommu_driver& iommu, unsigned max_vfs, double line_gbps = 10.0);

    // VT mode on, the PF in its own pool, the IOMMU on (the PF passes through).
    void boot(category c);
    // A VNIC for an application: throws std::runtime_error when no VF is left.
    vnic_grant create_vnic(category c, wire::mac_addr mac, wire::ipv4_addr ip, uint64_t region_bytes);

    // Rate specifier: transmit queue `queue` of the VNIC (0 or 1) may send at most bits_per_s, counted
    // on the wire (preamble to inter-frame gap); 0, or the line rate or more, lifts the limit. The
    // NIC's per-queue rate scheduler enforces it (RTTDQSEL, RTTBCNRC). Throws std::invalid_argument
    // for a queue the VNIC does not have or a negative rate.
    void set_rate(category c, const vnic_grant& g, unsigned queue, double bits_per_s);
    // Share of the link between VNICs whose queues all have work: weighted round robin between the
    // NIC's pools, `weight` x 64 bytes a turn (RTTDT1C); weights apply to every VNIC once one is
    // set (RTTDCS.VMPAC), and a VNIC without one gets weight 1. weight in 1..16383.
    void set_weight(category c, const vnic_grant& g, uint32_t weight);

private:
    cpu_core& m_core;
    phys_alloc& m_mem;
    iommu_driver& m_iommu;
    unsigned m_max_vfs;
    double m_line_bps;
    bool m_weighted = false;
    unsigned m_next_vf = 0;
    uint64_t m_vfre = 0;
};

} // namespace iovsim::os::kernel
