#include "os/dataplane/posix_sockets.h"

#include <algorithm>
#include <cstring>

namespace iovsim::os::dataplane {

using net::pkt;

int posix_sockets::udp_socket()
{
    m_socks.push_back(std::make_unique<sock>());
    return static_cast<int>(m_socks.size() - 1);
}

int posix_sockets::bind(int fd, uint16_t port)
{
    sock* s = get(fd);
    if (s == nullptr || !m_dp.stack().bind_udp(port, [s](pkt& p, const net::udp_meta& m) { s->rxq.emplace_back(p, m); }))
        return -1;
    s->port = port;
    return 0;
}

long posix_sockets::recvfrom(int fd, uint8_t* buf, size_t len, net::sock_addr& from)
{
    sock* s = get(fd);
    if (s == nullptr)
        return -1;
    while (s->rxq.empty()) {
        if (m_dp.poll() == 0)
            m_dp.wait_rx();
    }
    auto [p, meta] = s->rxq.front();
    s->rxq.pop_front();
    m_core.set_request(p.request);
    m_core.run(category::net_stack_in, m_c.a_posix_recv);
    const size_t n = std::min<size_t>(len, p.len);
    m_core.touch_dma_lines(category::copy_out, lines_of(n), false, true);
    m_core.copy(category::copy_out, n);
    std::memcpy(buf, p.bytes(), n);
    from = net::sock_addr{meta.src, meta.sport};
    m_dp.pool().free(p);
    return static_cast<long>(n);
}

long posix_sockets::sendto(int fd, const uint8_t* buf, size_t len, const net::sock_addr& to)
{
    sock* s = get(fd);
    pkt p;
    if (s == nullptr || !m_dp.pool().alloc(p) || len > p.capacity - p.off) {
        if (p.data)
            m_dp.pool().free(p);
        return -1;
    }
    m_core.run(category::net_stack_out, m_c.a_posix_send);
    m_core.copy(category::copy_in, len);
    std::memcpy(p.bytes(), buf, len);
    p.len = static_cast<uint32_t>(len);
    return m_dp.stack().udp_output(p, s->port, to.ip, to.port) ? static_cast<long>(len) : -1;
}

} // namespace iovsim::os::dataplane
