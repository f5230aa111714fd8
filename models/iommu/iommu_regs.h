#pragma once
// Register map of the DMA-remapping unit (Intel VT-d spec, 10.4 "Register Descriptions"), the
// subset this model implements; shared by the model and the kernel's IOMMU driver. 64-bit registers
// are accessed as two 32-bit halves, low first.
#include <cstdint>

namespace iovsim::iommu::regs {

constexpr uint32_t VER_REG = 0x000;
constexpr uint32_t CAP_REG = 0x008;      // lo/hi
constexpr uint32_t ECAP_REG = 0x010;     // lo/hi
constexpr uint32_t GCMD_REG = 0x018;
constexpr uint32_t GSTS_REG = 0x01C;
constexpr uint32_t RTADDR_REG = 0x020;   // lo/hi
constexpr uint32_t CCMD_REG = 0x028;     // lo/hi: context-command
constexpr uint32_t FSTS_REG = 0x034;
constexpr uint32_t FECTL_REG = 0x038;    // fault event control: IM bit 31, IP bit 30
constexpr uint32_t FEDATA_REG = 0x03C;   // fault event interrupt: message data
constexpr uint32_t FEADDR_REG = 0x040;   // and address (MSI format)
constexpr uint32_t IVA_REG = 0x100;      // lo/hi: invalidate address (ECAP.IRO = 0x10)
constexpr uint32_t IOTLB_REG = 0x108;    // lo/hi: IOTLB invalidate
// Fault recording (CAP.FRO): one record window; reading shows the oldest fault, writing F pops it.
constexpr uint32_t FRCD_ADDR_LO = 0x200; // faulting iova 31:0 (page-aligned in hardware; exact here)
constexpr uint32_t FRCD_ADDR_HI = 0x204;
constexpr uint32_t FRCD_INFO = 0x208;    // SID 15:0, fault reason 23:16, T (1 = read) bit 30, F bit 31

constexpr uint32_t GCMD_TE = 1u << 31;     // translation enable
constexpr uint32_t GCMD_SRTP = 1u << 30;   // set root table pointer
constexpr uint32_t GSTS_TES = 1u << 31;
constexpr uint32_t GSTS_RTPS = 1u << 30;
constexpr uint32_t CCMD_ICC_HI = 1u << 31; // invalidate context cache (bit 63)
constexpr uint32_t IOTLB_IVT_HI = 1u << 31;  // invalidate IOTLB (bit 63)
constexpr unsigned IOTLB_IIRG_SHIFT_HI = 28; // bits 61:60: 1 global, 2 domain, 3 page
constexpr uint32_t IOTLB_DID_MASK_HI = 0xFFFF;  // bits 47:32: domain id
constexpr uint32_t FSTS_PPF = 1u << 1;     // primary pending fault
constexpr uint32_t FECTL_IM = 1u << 31;    // interrupt mask (set at reset)
constexpr uint32_t FECTL_IP = 1u << 30;    // interrupt pending: a fault came while masked
constexpr uint32_t FRCD_F = 1u << 31;
constexpr uint32_t FRCD_T_READ = 1u << 30;

}  // namespace iovsim::iommu::regs
