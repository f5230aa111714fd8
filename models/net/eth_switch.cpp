#include "models/net/eth_switch.h"

#include <algorithm>
#include <stdexcept>

using namespace sc_core;

namespace iovsim::models::net {

SC_HAS_PROCESS(eth_switch);

eth_switch::eth_switch(sc_module_name name, const switch_params& params) : sc_module(name), m_params(params)
{
    for (unsigned i = 0; i < params.ports; ++i) {
        auto p = std::make_unique<port_state>();
        p->sw = this;
        p->index = i;
        p->tx = std::make_unique<eth_tx_port>(params.port_gbps);
        m_ports.push_back(std::move(p));
    }
    SC_METHOD(forward);
    sensitive << m_forward_event;
    dont_initialize();
}

eth_endpoint& eth_switch::port(unsigned i)
{
    if (i >= m_ports.size())
        throw std::out_of_range("switch port " + std::to_string(i));
    return *m_ports[i];
}

void eth_switch::attach(unsigned i, eth_link& link, unsigned side)
{
    port(i);
    m_ports[i]->tx->attach(link, side);
}

void eth_switch::ingress(unsigned in_port, const frame_ptr& frame)
{
    if (!frame->fcs_ok || frame->bytes.size() < 14) {
        ++m_dropped;
        return;
    }
    std::array<uint8_t, 6> src;
    std::copy(frame->bytes.begin() + 6, frame->bytes.begin() + 12, src.begin());
    if (!(src[0] & 1))
        m_fdb[src] = in_port;
    const sc_time when = sc_time_stamp() + m_params.forwarding_latency;
    if (m_pipeline_head == m_pipeline.size()) {
        m_pipeline.clear();
        m_pipeline_head = 0;
    }
    m_pipeline.push_back({when, in_port, frame});
    if (m_pipeline.size() - m_pipeline_head == 1)
        m_forward_event.notify(m_params.forwarding_latency);
}

void eth_switch::forward()
{
    const sc_time now = sc_time_stamp();
    while (m_pipeline_head < m_pipeline.size() && m_pipeline[m_pipeline_head].when <= now) {
        pending p = std::move(m_pipeline[m_pipeline_head++]);
        std::array<uint8_t, 6> dst;
        std::copy(p.frame->bytes.begin(), p.frame->bytes.begin() + 6, dst.begin());
        auto it = (dst[0] & 1) ? m_fdb.end() : m_fdb.find(dst);
        if (it != m_fdb.end()) {
            if (it->second != p.in_port)
                emit(it->second, p.frame);
            continue;
        }
        ++m_flooded;
        for (unsigned i = 0; i < m_ports.size(); ++i)
            if (i != p.in_port)
                emit(i, p.frame);
    }
    if (m_pipeline_head < m_pipeline.size())
        m_forward_event.notify(m_pipeline[m_pipeline_head].when - now);
}

void eth_switch::emit(unsigned out_port, const frame_ptr& frame)
{
    eth_tx_port& tx = *m_ports[out_port]->tx;
    // Output buffer: the bytes still queued ahead of this frame.
    const sc_time backlog = tx.busy_until() > sc_time_stamp() ? tx.busy_until() - sc_time_stamp() : SC_ZERO_TIME;
    const double queued_bytes = backlog.to_seconds() * m_params.port_gbps * 1e9 / 8.0;
    if (queued_bytes + static_cast<double>(frame->bytes.size()) > static_cast<double>(m_params.port_buffer_bytes)) {
        ++m_dropped;
        return;
    }
    tx.send(frame);
    ++m_forwarded;
}

} // namespace iovsim::models::net
