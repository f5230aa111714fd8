#pragma once
// Arrakis/P: the POSIX socket calls, served inside the application by its dataplane. Receiving
// copies the payload out of the DMA buffer into the caller's buffer; sending copies it into a
// fresh DMA buffer. No kernel crossing.
#include <deque>
#include <memory>
#include <vector>

#include "os/dataplane/dataplane.h"
#include "os/net/socket_api.h"

namespace iovsim::os::dataplane {

class posix_sockets : public net::socket_api {
public:
    explicit posix_sockets(dataplane& dp) : m_dp(dp), m_core(dp.core()), m_c(dp.core().costs()) {}

    int udp_socket() override;
    int bind(int fd, uint16_t port) override;
    long recvfrom(int fd, uint8_t* buf, size_t len, net::sock_addr& from) override;
    long sendto(int fd, const uint8_t* buf, size_t len, const net::sock_addr& to) override;

private:
    using sock = net::udp_socket_state;
    sock* get(int fd) { return fd >= 0 && static_cast<size_t>(fd) < m_socks.size() ? m_socks[fd].get() : nullptr; }

    dataplane& m_dp;
    cpu_core& m_core;
    const cost_model& m_c;
    std::vector<std::unique_ptr<sock>> m_socks;
};

} // namespace iovsim::os::dataplane
