#include "os/dataplane/posix_sockets.h"

#include <algorithm>
#include <cstring>

#include "sim/fast_time.h"

namespace iovsim::os::dataplane {

using net::pkt;

int posix_sockets::udp_socket()
{
    const int fd = m_files.reserve();   // one descriptor table for every kind of socket
    if (m_socks.size() <= static_cast<size_t>(fd))
        m_socks.resize(static_cast<size_t>(fd) + 1);
    m_socks[fd] = std::make_unique<sock>();
    return fd;
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
    m_core.touch_dma_lines(category::copy_out, lines_of(n), dataplane::dca, true);
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

// ---- Stream sockets and epoll ----------------------------------------------------------------

// The descriptor table takes the dataplane's TCP once there is one (enable_tcp may come after
// this object is made).
net::stream_files& posix_sockets::files()
{
    if (!m_files.has_tcp() && m_dp.tcp() != nullptr)
        m_files.attach(*m_dp.tcp());
    return m_files;
}

int posix_sockets::tcp_socket()
{
    m_core.run(category::syscall, m_c.a_socket);
    return files().socket();
}

int posix_sockets::tcp_bind(int fd, uint16_t port)
{
    m_core.run(category::syscall, m_c.a_socket);
    return files().bind(fd, port);
}

int posix_sockets::listen(int fd, int backlog)
{
    m_core.run(category::syscall, m_c.a_socket);
    return files().listen(fd, backlog);
}

int posix_sockets::accept(int fd, net::sock_addr* peer)
{
    m_core.run(category::syscall, m_c.a_accept);
    return files().accept(fd, peer);
}

int posix_sockets::connect(int fd, const net::sock_addr& to)
{
    m_core.run(category::syscall, m_c.a_socket);
    return files().connect(fd, to);
}

// The bytes are the request's whose segment brought them; they are copied out of the DMA'd
// buffers (from where the device put them, unless TCP's software checksum touched them already).
long posix_sockets::recv(int fd, uint8_t* buf, size_t len)
{
    net::stream_files& f = files();
    const long n = f.recv(fd, buf, len);
    if (n > 0)
        m_core.set_request(f.last_request(fd));
    m_core.run(category::net_stack_in, m_c.a_tcp_recv);
    if (n > 0) {
        if (!m_dp.params().tcp_software_checksum)
            m_core.touch_dma_lines(category::copy_out, lines_of(static_cast<size_t>(n)), dataplane::dca, true);
        m_core.copy(category::copy_out, static_cast<size_t>(n));
    }
    return n;
}

long posix_sockets::send(int fd, const uint8_t* buf, size_t len)
{
    net::stream_files& f = files();
    m_core.run(category::net_stack_out, m_c.a_tcp_send);
    if (len > 0 && (f.poll(fd) & net::ep::out))
        m_core.copy(category::copy_in, len);
    return f.send(fd, buf, len);
}

int posix_sockets::close(int fd)
{
    m_core.run(category::syscall, m_c.a_sock_close);
    if (sock* s = get(fd)) {   // a datagram socket
        if (s->port != 0)
            m_dp.stack().unbind_udp(s->port);
        for (auto& [p, meta] : s->rxq)
            m_dp.pool().free(p);
        m_socks[fd].reset();
    }
    return files().close(fd);
}

int posix_sockets::epoll_create()
{
    m_core.run(category::syscall, m_c.a_epoll_ctl);
    return files().epoll_create();
}

int posix_sockets::epoll_ctl(int epfd, net::epoll_op op, int fd, uint32_t events, uint64_t data)
{
    m_core.run(category::syscall, m_c.a_epoll_ctl);
    return files().epoll_ctl(epfd, op, fd, events, data);
}

// The library's epoll: poll the VF first (its frames run through TCP, whose readiness callbacks
// fill the ready list), then report; with nothing ready, wait for the receive ring, TCP's next
// timer or the timeout, whichever comes first.
int posix_sockets::epoll_wait(int epfd, net::epoll_event* events, int max, int64_t timeout_ns)
{
    net::stream_files& f = files();
    if (f.epoll(epfd) == nullptr || max <= 0)
        return f.is_stream(epfd) || max <= 0 ? -EINVAL : -EBADF;
    m_core.run(category::scheduler, m_c.a_epoll_wait);
    const sc_core::sc_time deadline =
        timeout_ns > 0 ? m_core.local_time() + sim::ns_to_time(static_cast<double>(timeout_ns)) : sc_core::SC_ZERO_TIME;
    for (;;) {
        m_dp.poll();
        const int n = f.harvest(epfd, events, max, [&](int) { m_core.run(category::scheduler, m_c.a_epoll_scan); });
        if (n != 0 || timeout_ns == 0)
            return n;
        if (f.epoll(epfd)->has_queued() || m_dp.rx_ready())
            continue;
        if (deadline != sc_core::SC_ZERO_TIME && m_core.local_time() >= deadline)
            return 0;
        // The dataplane's waits end at TCP's next timer too; poll() then runs it.
        if (deadline == sc_core::SC_ZERO_TIME)
            m_dp.wait_rx();
        else
            m_dp.wait_rx_until(deadline);
    }
}

} // namespace iovsim::os::dataplane
