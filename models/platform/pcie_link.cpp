#include "models/platform/pcie_link.h"

#include <algorithm>

#include "sim/fast_time.h"
#include "models/platform/tlm_ext.h"

using namespace sc_core;

namespace iovsim::models {

pcie_link::pcie_link(sc_module_name name, const pcie_params& params)
    : sc_module(name), up_target("up_target"), up_init("up_init"), down_target("down_target"),
      down_init("down_init"), m_params(params)
{
    const double gbps = params.lane_gtps * params.lanes * params.encoding;  // bits per ns
    m_ns_per_byte = 8.0 / gbps;
    up_target.register_b_transport(this, &pcie_link::up_b_transport);
    down_target.register_b_transport(this, &pcie_link::down_b_transport);
}

sc_time pcie_link::wire_time(uint64_t bytes, unsigned chunk) const
{
    const uint64_t tlps = bytes == 0 ? 1 : (bytes + chunk - 1) / chunk;
    return sim::ns_to_time(static_cast<double>(bytes + tlps * m_params.tlp_overhead_bytes) * m_ns_per_byte);
}

sc_time pcie_link::occupy(sc_time& busy_until, sc_time& total, const sc_time& ready, const sc_time& t)
{
    total += t;
    const sc_time begin = std::max(ready, busy_until);
    busy_until = begin + t;
    return busy_until;
}

// Device to host: DMA reads and writes.
void pcie_link::up_b_transport(tlm::tlm_generic_payload& trans, sc_time& delay)
{
    const uint64_t len = trans.get_data_length();
    const sc_time now = sc_time_stamp();
    pcie_ext* ext = nullptr;
    trans.get_extension(ext);
    if (trans.is_write()) {
        const uint64_t tlps = (len + m_params.max_payload_bytes - 1) / m_params.max_payload_bytes;
        m_tlps_up += tlps;
        const sc_time sent = occupy(m_up_busy, m_up_total, now + delay, wire_time(len, m_params.max_payload_bytes));
        if (ext)
            ext->sender_busy = sent - now - delay;
        delay = sent - now + m_params.one_way_latency;
        up_init->b_transport(trans, delay);
        return;
    }
    // Read: request TLPs upstream (header only), memory, completions downstream.
    const uint64_t reqs = (len + m_params.max_read_request_bytes - 1) / m_params.max_read_request_bytes;
    m_tlps_up += reqs;
    const sc_time req_sent = occupy(m_up_busy, m_up_total, now + delay, wire_time(0, 1) * static_cast<double>(reqs));
    if (ext)
        ext->sender_busy = req_sent - now - delay;
    delay = req_sent - now + m_params.one_way_latency;
    up_init->b_transport(trans, delay);
    if (trans.get_response_status() != tlm::TLM_OK_RESPONSE) {
        // An unsupported-request or completer-abort completion: one header-only TLP back.
        delay += m_params.one_way_latency + wire_time(0, 1);
        return;
    }
    m_tlps_down += (len + m_params.max_payload_bytes - 1) / m_params.max_payload_bytes;
    const sc_time cpl_sent = occupy(m_down_busy, m_down_total, now + delay, wire_time(len, m_params.max_payload_bytes));
    delay = cpl_sent - now + m_params.one_way_latency;
}

// Host to device: MMIO. Writes are posted (the device sees them after the link), reads return a
// completion upstream.
void pcie_link::down_b_transport(tlm::tlm_generic_payload& trans, sc_time& delay)
{
    const uint64_t len = trans.get_data_length();
    const sc_time now = sc_time_stamp();
    ++m_tlps_down;
    const sc_time sent = occupy(m_down_busy, m_down_total, now + delay,
                                wire_time(trans.is_write() ? len : 0, m_params.max_payload_bytes));
    delay = sent - now + m_params.one_way_latency;
    down_init->b_transport(trans, delay);
    if (trans.is_read()) {
        ++m_tlps_up;
        const sc_time cpl = occupy(m_up_busy, m_up_total, now + delay, wire_time(len, m_params.max_payload_bytes));
        delay = cpl - now + m_params.one_way_latency;
    }
}

} // namespace iovsim::models
