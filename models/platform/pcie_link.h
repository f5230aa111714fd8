#pragma once
// A PCIe link between the root complex and one device (all functions of a multi-function device
// share it). Transactions are split into TLPs by max payload size (writes, completions) and max read
// request size (reads); every TLP pays a fixed overhead of framing, sequence number, header and
// LCRC. Each direction serializes at the link rate, one TLP after another, so DMA and MMIO traffic
// contend. MMIO writes and DMA writes are posted; reads are non-posted and wait for completions.
#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

namespace iovsim::models {

struct pcie_params {
    double lane_gtps = 5.0;          // PCIe 2.0: 5 GT/s per lane (82599 is PCIe 2.0 x8)
    unsigned lanes = 8;
    double encoding = 8.0 / 10.0;    // 8b/10b for Gen1/Gen2
    unsigned tlp_overhead_bytes = 24; // STP/END framing 2 + sequence 2 + 3/4DW header 16 + LCRC 4
    unsigned max_payload_bytes = 256;
    unsigned max_read_request_bytes = 512;
    sc_core::sc_time one_way_latency = sc_core::sc_time(300, sc_core::SC_NS); // PHY + root complex, one direction
};

class pcie_link : public sc_core::sc_module {
public:
    // Upstream: the device's DMA initiator binds here; forwarded towards the IOMMU and memory.
    tlm_utils::simple_target_socket<pcie_link> up_target;
    tlm_utils::simple_initiator_socket<pcie_link> up_init;
    // Downstream: MMIO from the root complex; forwarded to the device's BAR target.
    tlm_utils::simple_target_socket<pcie_link> down_target;
    tlm_utils::simple_initiator_socket<pcie_link> down_init;

    pcie_link(sc_core::sc_module_name name, const pcie_params& params);

    // Wire time of `bytes` of payload sent as TLPs of at most `chunk` bytes each.
    sc_core::sc_time wire_time(uint64_t bytes, unsigned chunk) const;

    uint64_t tlps_up() const { return m_tlps_up; }
    uint64_t tlps_down() const { return m_tlps_down; }
    // Time each direction has spent sending TLPs, since the start (for utilisation over a window).
    sc_core::sc_time busy_up() const { return m_up_total; }
    sc_core::sc_time busy_down() const { return m_down_total; }

private:
    void up_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    void down_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    // Occupies one direction for `t` starting no earlier than `ready`; returns the end time.
    static sc_core::sc_time occupy(sc_core::sc_time& busy_until, sc_core::sc_time& total, const sc_core::sc_time& ready,
                                   const sc_core::sc_time& t);

    pcie_params m_params;
    double m_ns_per_byte;
    sc_core::sc_time m_up_busy;    // absolute times each direction is free again
    sc_core::sc_time m_down_busy;
    uint64_t m_tlps_up = 0;
    uint64_t m_tlps_down = 0;
    sc_core::sc_time m_up_total;
    sc_core::sc_time m_down_total;
};

} // namespace iovsim::models
