#pragma once
// The kernel's side of the VSICs (the Arrakis control plane for storage): it turns the controller
// on, gives an application a VSIC (its registers, an IOMMU domain for its DMA) and programs the VSA
// mapping table, through the controller's physical function: by MMIO for hardware VSICs, by stores
// into the emulating core's register pages for emulated ones (same offsets, storage_regs.h). The
// VSA bookkeeping (names, sizes, which blocks) is the caller's (acquire_vsa and friends); this is the
// part that touches the device.
#include <array>
#include <cstdint>
#include <vector>

#include "models/storage/storage_regs.h"
#include "os/core/cpu_core.h"
#include "os/dev/blk_queue.h"
#include "os/kernel/iommu_driver.h"
#include "os/kernel/phys_alloc.h"
#include "os/kernel/storage_vsa.h"
#include "os/kernel/vsic_emulator.h"

namespace iovsim::os::kernel {

// IOMMU domains of the storage controller: its PF, and hardware VSIC v at storage_vsic_domain0 + v
// (the NIC's use 1 and 2..65).
constexpr uint16_t storage_pf_domain = 100;
constexpr uint16_t storage_vsic_domain0 = 101;

// Where the VSA table and the VSICs' registers are.
struct vsic_layout {
    bool emulated = false;
    uint64_t emulated_base = 0;   // emulated: a copy of the PF window, then one window per VSIC
    bool bounce = false;          // emulated: data passes through the VSIC core's bounce buffers, so
                                  // the controller's domain maps no application memory
    static constexpr uint64_t emulated_bytes =
        storage::reg::pf_window + uint64_t(storage::max_vsics) * storage::reg::function_window;

    dev::blk_regs pf(cpu_core& core) const;
    dev::blk_regs vsic(cpu_core& core, unsigned v) const;
};

struct vsic_grant {
    unsigned vsic = 0;
    dev::blk_regs regs;           // the VSIC's registers, mapped into the application
    uint64_t region_pa = 0;       // the application's DMA-able memory (iova == pa)
    uint64_t region_bytes = 0;
    bool emulated = false;
};

class vsic_setup {
public:
    vsic_setup(cpu_core& core, phys_alloc& mem, iommu_driver& iommu, vsic_layout layout, unsigned max_vsics);

    // The controller on (CC.EN), its PF in an IOMMU domain of its own, the IOMMU on, and, when
    // emulated, the register pages cleared.
    void boot(category c);
    // Lets the controller's PF reach [pa, pa + bytes) (whole pages): the kernel's own rings, the
    // emulating core's rings, and (emulated VSICs, direct use) applications' memory.
    void map_for_pf(uint64_t pa, uint64_t bytes);
    // What the emulating core needs (emulated layout): its queue pair `pf_queue` on the controller,
    // with rings of `entries`, and bounce slots of `bounce_slot_bytes` when the layout bounces; all
    // allocated here and mapped for the PF.
    vsic_emulator_params emulator_params(unsigned pf_queue, uint32_t entries, uint32_t bounce_slot_bytes);
    // A VSIC with `region_bytes` of DMA-able memory for its application. Throws std::runtime_error
    // when none is left.
    vsic_grant create_vsic(category c, uint64_t region_bytes);
    // VSA `vsa_id` on `vsic` in `slot` (0..3): VSA blocks [0, blocks) are physical [base_lba, +blocks).
    void map_vsa(category c, unsigned vsic, unsigned slot, uint16_t vsa_id, uint64_t base_lba, uint64_t blocks,
                 bool read, bool write);
    void unmap_vsa(category c, unsigned vsic, unsigned slot);
    // vsa_manager's `program`: the slot as the bookkeeping holds it; the command's namespace id is
    // the VSA's id (vsa_slot::vsa). Readable always, writable as given; an invalid slot is unmapped.
    void program(category c, unsigned vsic, unsigned slot, const vsa_slot& s);
    // A slot of `vsic` with no mapping, or -1.
    int free_slot(unsigned vsic) const;
    const vsic_layout& layout() const { return m_layout; }
    unsigned vsics() const { return m_next_vsic; }

private:
    cpu_core& m_core;
    phys_alloc& m_mem;
    iommu_driver& m_iommu;
    vsic_layout m_layout;
    unsigned m_max_vsics;
    unsigned m_next_vsic = 0;
    uint64_t m_enabled = 0;
    std::vector<std::array<bool, storage::vsas_per_vsic>> m_used;
};

} // namespace iovsim::os::kernel
