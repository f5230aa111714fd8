#include "models/platform/root_complex.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "models/platform/address_map.h"
#include "models/platform/tlm_ext.h"

using namespace sc_core;

namespace iovsim::models {

root_complex::root_complex(sc_module_name name, uint64_t dram_bytes)
    : sc_module(name), cpu_target("cpu_target"), mmio_init("mmio_init"), dma_target("dma_target"),
      mem_init("mem_init"), m_dram_bytes(dram_bytes)
{
    cpu_target.register_b_transport(this, &root_complex::cpu_b_transport);
    dma_target.register_b_transport(this, &root_complex::dma_b_transport);
}

void root_complex::map_mmio(uint64_t base, uint64_t size, unsigned port, const std::string& what)
{
    for (const window& w : m_windows)
        if (base < w.base + w.size && w.base < base + size)
            throw std::logic_error("MMIO window " + what + " overlaps " + w.what);
    m_windows.push_back({base, size, port, what});
}

void root_complex::attach_core(unsigned apic_id, irq_sink& sink)
{
    if (m_cores.size() <= apic_id)
        m_cores.resize(apic_id + 1, nullptr);
    m_cores[apic_id] = &sink;
}

void root_complex::cpu_b_transport(int core, tlm::tlm_generic_payload& trans, sc_time& delay)
{
    (void)core;   // cores share the path to the devices
    const uint64_t addr = trans.get_address();
    if (addr >= msi_base && addr - msi_base < msi_size) {
        // A core's write in MSI format is an interprocessor interrupt (as its local APIC's ICR would
        // send): its own stores are already in memory, so nothing holds it.
        deliver_msi(trans, delay, nullptr);
        return;
    }
    for (const window& w : m_windows) {
        if (addr >= w.base && addr - w.base < w.size) {
            // Devices decode their own BARs: the address goes through unchanged.
            mmio_init[w.port]->b_transport(trans, delay);
            return;
        }
    }
    ++m_unrouted;
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

void root_complex::deliver_msi(tlm::tlm_generic_payload& trans, sc_time& delay, const sc_time* not_before)
{
    uint32_t data = 0;
    if (!trans.is_write() || trans.get_data_length() != 4) {
        ++m_unrouted;
        trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    std::memcpy(&data, trans.get_data_ptr(), 4);
    const unsigned dest = static_cast<unsigned>((trans.get_address() - msi_base) >> msi_dest_shift) & 0xFF;
    if (dest >= m_cores.size() || m_cores[dest] == nullptr) {
        ++m_unrouted;
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    ++m_msis;
    const sc_time now = sc_time_stamp();
    if (not_before && *not_before > now + delay)
        delay = *not_before - now;
    m_cores[dest]->deliver_irq(data & 0xFF, delay);
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

void root_complex::dma_b_transport(tlm::tlm_generic_payload& trans, sc_time& delay)
{
    const uint64_t addr = trans.get_address();
    pcie_ext* ext = nullptr;
    trans.get_extension(ext);
    const uint16_t rid = ext ? ext->requester_id : 0;
    if (addr >= msi_base && addr - msi_base < msi_size) {
        auto it = m_writes_visible.find(rid);
        deliver_msi(trans, delay, it != m_writes_visible.end() ? &it->second : nullptr);
        return;
    }
    if (addr < m_dram_bytes) {
        mem_init->b_transport(trans, delay);
        if (trans.is_write() && trans.get_response_status() == tlm::TLM_OK_RESPONSE) {
            sc_time& last = m_writes_visible[rid];
            last = std::max(last, sc_time_stamp() + delay);
        }
        return;
    }
    ++m_unrouted;
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

} // namespace iovsim::models
