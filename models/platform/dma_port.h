#pragma once
// A device's DMA transaction, built once and reused: a device engine issues one b_transport at a
// time and copies the results out before it waits again, so one payload serves every DMA (no
// allocation per DMA). Carries the requester id (the IOMMU picks the domain by it) and returns how
// long the sender's side of the link stays busy (pcie_ext::sender_busy).
#include <cstddef>
#include <cstdint>

#include <systemc>
#include <tlm>

#include "models/platform/tlm_ext.h"

namespace iovsim::models {

class dma_port {
public:
    // `out`: the device's initiator socket.
    template <typename Socket>
    tlm::tlm_response_status transport(Socket& out, tlm::tlm_command cmd, uint16_t rid, uint64_t addr,
                                       uint8_t* data, size_t len, sc_core::sc_time& delay, sc_core::sc_time& sender_busy)
    {
        m_ext.requester_id = rid;
        m_ext.sender_busy = sc_core::SC_ZERO_TIME;
        m_ext.iommu_fault = false;
        m_trans.set_extension(&m_ext);
        m_trans.set_command(cmd);
        m_trans.set_address(addr);
        m_trans.set_data_ptr(data);
        m_trans.set_data_length(static_cast<unsigned>(len));
        m_trans.set_streaming_width(static_cast<unsigned>(len));
        m_trans.set_byte_enable_ptr(nullptr);
        m_trans.set_dmi_allowed(false);
        m_trans.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        out->b_transport(m_trans, delay);
        m_trans.clear_extension(&m_ext);
        sender_busy = m_ext.sender_busy;
        return m_trans.get_response_status();
    }

private:
    tlm::tlm_generic_payload m_trans;
    pcie_ext m_ext;
};

} // namespace iovsim::models
