#pragma once
// The physical address map of one simulated host, shared by the hardware models and the OS
// (as firmware tables tell a real OS where things are).
#include <cstdint>

namespace iovsim::models {

// DRAM starts at 0 and must end below the MMIO window.
constexpr uint64_t dram_base = 0;
constexpr uint64_t dram_max_bytes = 0xC000'0000ULL;

// PCIe memory-mapped I/O window, where the BIOS placed the devices' BARs.
constexpr uint64_t mmio_base = 0xE000'0000ULL;
constexpr uint64_t nic_pf_bar0 = 0xE000'0000ULL;      // 82599 PF BAR0, 512 KiB
constexpr uint64_t nic_pf_bar0_size = 0x8'0000ULL;
constexpr uint64_t nic_pf_msix_bar = 0xE008'0000ULL;  // PF MSI-X table (BAR3 on the 82599)
constexpr uint64_t nic_vf_bar_base = 0xE100'0000ULL;  // VF BAR0s, one 16 KiB window per VF
constexpr uint64_t nic_vf_bar_stride = 0x4000ULL;
constexpr uint64_t nic_vf_msix_offset = 0x3000ULL;    // VF MSI-X table inside its window (BAR3 folded in)
constexpr uint64_t storage_pf_bar0 = 0xE200'0000ULL;   // storage controller (PF): registers + VSA table, 128 KiB
constexpr uint64_t storage_pf_bar0_size = 0x2'0000ULL;
constexpr uint64_t storage_vsic_bar_base = 0xE300'0000ULL;   // VSIC BARs, one 16 KiB window per VSIC
constexpr uint64_t storage_vsic_bar_stride = 0x4000ULL;
constexpr uint64_t storage_mmio_end = 0xE400'0000ULL;       // end of the storage device's windows
constexpr uint64_t iommu_reg_base = 0xFED9'0000ULL;   // VT-d remapping unit registers (DRHD)
constexpr uint64_t iommu_reg_size = 0x1000ULL;

// Message-signalled interrupts: a write of the vector to 0xFEEx_x000, x = destination APIC id
// (Intel SDM vol. 3, 10.11.1 "Message Address Register Format").
constexpr uint64_t msi_base = 0xFEE0'0000ULL;
constexpr uint64_t msi_size = 0x10'0000ULL;
constexpr unsigned msi_dest_shift = 12;

// PCIe requester ids (bus << 8 | device << 3 | function) of the NIC's functions. VFs follow the
// PF at the routing-id offset and stride of the 82599's SR-IOV capability (offset 0x80, stride 2).
constexpr uint16_t nic_bus = 1;
constexpr uint16_t nic_pf_rid = static_cast<uint16_t>(nic_bus << 8);
constexpr uint16_t nic_vf_rid(unsigned vf) { return static_cast<uint16_t>(nic_pf_rid + 0x80 + 2 * vf); }

// The storage controller on bus 2: the PF is function 0, VSIC v function 1 + v (ARI: 256 functions).
constexpr uint16_t storage_bus = 2;
constexpr uint16_t storage_pf_rid = static_cast<uint16_t>(storage_bus << 8);
constexpr uint16_t storage_vsic_rid(unsigned vsic) { return static_cast<uint16_t>(storage_pf_rid + 1 + vsic); }

} // namespace iovsim::models
