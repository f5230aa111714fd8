#include "models/net/eth_switch.h"

#include <algorithm>
#include <stdexcept>

using namespace sc_core;

namespace iovsim::models::net {

eth_switch::eth_switch(sc_module_name name, const switch_params& params) : sc_module(name), m_params(params)
{
    for (unsigned i = 0; i < params.ports; ++i) {
        auto p = std::make_unique<port_state>();
        p->sw = this;
        p->index = i;
        p->tx = std::make_unique<eth_tx_port>(params.port_gbps);
        m_ports.push_back(std::move(p));
    }
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

// A frame received whole (at `at`) is forwarded after the switching latency: the decision is made
// when the link hands it over, and the output port's serializer takes the frame at its time (no
// process runs in between).
void eth_switch::ingress(unsigned in_port, const frame_ptr& frame, const sc_time& at)
{
    if (!frame->fcs_ok || frame->bytes.size() < 14) {
        ++m_dropped;
        return;
    }
    std::array<uint8_t, 6> src;
    std::copy(frame->bytes.begin() + 6, frame->bytes.begin() + 12, src.begin());
    if (!(src[0] & 1))
        m_fdb[src] = in_port;
    const sc_time when = at + m_params.forwarding_latency;
    std::array<uint8_t, 6> dst;
    std::copy(frame->bytes.begin(), frame->bytes.begin() + 6, dst.begin());
    auto it = (dst[0] & 1) ? m_fdb.end() : m_fdb.find(dst);
    if (it != m_fdb.end()) {
        if (it->second != in_port)
            emit(it->second, frame, when);
        return;
    }
    ++m_flooded;
    for (unsigned i = 0; i < m_ports.size(); ++i)
        if (i != in_port)
            emit(i, frame, when);
}

void eth_switch::emit(unsigned out_port, const frame_ptr& frame, const sc_time& when)
{
    eth_tx_port& tx = *m_ports[out_port]->tx;
    // Output buffer: the bytes still queued ahead of this frame when it reaches the port.
    const sc_time backlog = tx.busy_until() > when ? tx.busy_until() - when : SC_ZERO_TIME;
    const double queued_bytes = backlog.to_seconds() * m_params.port_gbps * 1e9 / 8.0;
    if (queued_bytes + static_cast<double>(frame->bytes.size()) > static_cast<double>(m_params.port_buffer_bytes)) {
        ++m_dropped;
        return;
    }
    tx.send(frame, when);
    ++m_forwarded;
}

} // namespace iovsim::models::net
