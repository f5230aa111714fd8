#pragma once
// The DMA-remapping unit as a TLM component: a translating pass-through between the PCIe links and
// the memory system. Each upstream transaction is translated page by page with the requester's
// domain (translator.h); the walk reads the tables from DRAM through the same memory port, so a
// miss's cost is real DRAM time in the DMA's latency. A fault aborts the whole transaction with an
// error response and a fault record; nothing reaches memory. The MSI window is not remapped
// (interrupt remapping is not modelled). With translation disabled (GCMD.TE clear, or the unit-wide
// pass_through parameter) DMA passes straight through at no cost.
#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "models/common/reg_file.h"
#include "models/iommu/translator.h"

namespace iovsim::iommu {

struct iommu_params {
    translator_params translator;
    sc_core::sc_time lookup_latency = sc_core::sc_time(2, sc_core::SC_NS);  // IOTLB lookup per page
};

class iommu : public sc_core::sc_module, private mem_port {
public:
    // From the PCIe links: one binding per link (a NIC and a storage controller each have their
    // own). The domain comes from the requester id each TLP carries, not from the link it came by.
    tlm_utils::multi_passthrough_target_socket<iommu> dma_in;
    tlm_utils::simple_initiator_socket<iommu> mem_out; // to the root complex (memory, MSI)
    tlm_utils::simple_target_socket<iommu> reg_target; // MMIO registers (full addresses)

    iommu(sc_core::sc_module_name name, const iommu_params& params);

    const translator_stats& stats() const { return m_translator.stats(); }
    uint64_t blocked() const { return m_blocked; }            // DMAs refused by a fault
    uint64_t bad_register_accesses() const { return m_bad_register_accesses; }
    uint64_t fault_events() const { return m_fault_events; }   // fault event interrupts sent

private:
    uint64_t read_u64(uint64_t pa) override;   // table walk reads, one DRAM access each
    void read_u128(uint64_t pa, uint64_t& lo, uint64_t& hi) override;
    bool read_table(uint64_t pa, uint8_t* bytes, unsigned len);
    void dma_b_transport(int link, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    void reg_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    void build_registers();
    // A fault was recorded: the fault event interrupt (FEADDR/FEDATA) unless masked (then FECTL.IP).
    void fault_event(const sc_core::sc_time& delay);

    iommu_params m_params;
    translator m_translator;
    models::reg_file m_regs;
    unsigned m_id_rtaddr_lo = 0, m_id_rtaddr_hi = 0, m_id_iva_lo = 0, m_id_iva_hi = 0, m_id_iotlb_lo = 0;
    uint32_t m_gsts = 0;
    uint32_t m_fectl = 1u << 31;        // FECTL: IM set at reset
    uint32_t m_fedata = 0, m_feaddr = 0;
    uint64_t m_fault_events = 0;
    fault_record m_shown{};           // the record FRCD shows
    bool m_shown_valid = false;
    sc_core::sc_time m_walk_delay;    // accumulates DRAM time of the walk in progress
    std::vector<std::pair<uint64_t, uint64_t>> m_chunks;  // (pa, bytes) of the transaction
    uint64_t m_blocked = 0;
    uint64_t m_bad_register_accesses = 0;
};

} // namespace iovsim::iommu
