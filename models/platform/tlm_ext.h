#pragma once
// TLM extension for PCIe transactions: the requester id of a DMA (the IOMMU picks the domain by it),
// and what the path tells the sender back.
#include <systemc>
#include <tlm>

namespace iovsim::models {

struct pcie_ext : tlm::tlm_extension<pcie_ext> {
    uint16_t requester_id = 0;
    // Filled by the link: how long, from the sender's local time, its transmit side stays busy
    // serializing the TLPs: a posted write's data, or a read's request headers. The sender need
    // not wait for the write to land, nor for the read's completions before issuing more.
    sc_core::sc_time sender_busy = sc_core::SC_ZERO_TIME;
    // Set by the IOMMU when the transaction was blocked (the response status says so too).
    bool iommu_fault = false;

    tlm::tlm_extension_base* clone() const override { return new pcie_ext(*this); }
    void copy_from(const tlm::tlm_extension_base& other) override
    {
        *this = static_cast<const pcie_ext&>(other);
    }
};

} // namespace iovsim::models
