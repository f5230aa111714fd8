#pragma once
// The host bridge: routes the cores' MMIO to device BARs (through each device's PCIe link) and to
// chipset registers (the IOMMU's), and routes the devices' upstream writes, after the IOMMU, to DRAM
// or, for the MSI address window, to the interrupt controller of the destination core. An MSI is
// delivered no earlier than the writes its requester posted before it became visible in memory
// (PCIe producer/consumer ordering: the handler finds the data the device wrote before signalling).
// A core's own write to the MSI window is an interprocessor interrupt.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

namespace iovsim::models {

// A core's local interrupt controller, as the bus sees it.
class irq_sink {
public:
    virtual ~irq_sink() = default;
    // An MSI with `vector` arrives `delay` after the current simulation time.
    virtual void deliver_irq(unsigned vector, const sc_core::sc_time& delay) = 0;
};

class root_complex : public sc_core::sc_module {
public:
    tlm_utils::multi_passthrough_target_socket<root_complex> cpu_target;   // MMIO from cores (any number)
    tlm_utils::multi_passthrough_initiator_socket<root_complex> mmio_init;  // to device links, chipset
    tlm_utils::simple_target_socket<root_complex> dma_target;       // upstream, after the IOMMU
    tlm_utils::simple_initiator_socket<root_complex> mem_init;      // to DRAM

    root_complex(sc_core::sc_module_name name, uint64_t dram_bytes);

    // Maps [base, base+size) to the mmio_init binding with index `port` (bind order).
    void map_mmio(uint64_t base, uint64_t size, unsigned port, const std::string& what);
    void attach_core(unsigned apic_id, irq_sink& sink);

    uint64_t unrouted() const { return m_unrouted; }
    uint64_t msis() const { return m_msis; }

private:
    struct window {
        uint64_t base, size;
        unsigned port;
        std::string what;
    };
    void cpu_b_transport(int core, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    void dma_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    // An MSI-format write to the core its address names, no earlier than `not_before` when given.
    void deliver_msi(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay, const sc_core::sc_time* not_before);

    uint64_t m_dram_bytes;
    std::vector<window> m_windows;
    std::vector<irq_sink*> m_cores;
    std::unordered_map<uint16_t, sc_core::sc_time> m_writes_visible;  // requester id -> last landing
    uint64_t m_unrouted = 0;
    uint64_t m_msis = 0;
};

} // namespace iovsim::models
