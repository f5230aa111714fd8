#include "os/dataplane/native_udp.h"

namespace iovsim::os::dataplane {

bool native_udp::bind(uint16_t port, handler h)
{
    return m_dp.stack().bind_udp(port, [this, h = std::move(h)](net::pkt& p, const net::udp_meta& m) {
        m_core.run(category::net_stack_in, m_c.a_native_recv);
        h(p, m);
    });
}

bool native_udp::send(net::pkt& p, uint16_t sport, wire::ipv4_addr dst, uint16_t dport)
{
    m_core.run(category::net_stack_out, m_c.a_native_send);
    return m_dp.stack().udp_output(p, sport, dst, dport);
}

void native_udp::run_once()
{
    if (m_dp.poll() == 0)
        m_dp.wait_rx();
}

} // namespace iovsim::os::dataplane
