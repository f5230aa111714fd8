#pragma once
// Arrakis/P: the POSIX socket calls, served inside the application by its dataplane. Receiving
// copies the payload out of the DMA buffer into the caller's buffer; sending copies it into a
// fresh DMA buffer. No kernel crossing.
//
// Stream sockets and epoll (stream_api) run over the dataplane's TCP (dataplane::enable_tcp):
// the descriptor table and the level-triggered ready list are the same as the Linux-like
// kernel's (os/net/stream_files.h), but filled by polling: epoll_wait polls the VF, whose frames go
// through the library's stack and TCP (running TCP's due timers too), reports the ready sockets,
// and with none waits for the receive ring (or the next timer, or the timeout) without spinning.
#include <deque>
#include <memory>
#include <vector>

#include "os/dataplane/dataplane.h"
#include "os/net/socket_api.h"
#include "os/net/stream_api.h"
#include "os/net/stream_files.h"

namespace iovsim::os::dataplane {

class posix_sockets : public net::socket_api, public net::stream_api {
public:
    explicit posix_sockets(dataplane& dp) : m_dp(dp), m_core(dp.core()), m_c(dp.core().costs()) {}

    int udp_socket() override;
    int bind(int fd, uint16_t port) override;
    long recvfrom(int fd, uint8_t* buf, size_t len, net::sock_addr& from) override;
    long sendto(int fd, const uint8_t* buf, size_t len, const net::sock_addr& to) override;

    int tcp_socket() override;
    int tcp_bind(int fd, uint16_t port) override;
    int listen(int fd, int backlog) override;
    int accept(int fd, net::sock_addr* peer) override;
    int connect(int fd, const net::sock_addr& to) override;
    long recv(int fd, uint8_t* buf, size_t len) override;
    long send(int fd, const uint8_t* buf, size_t len) override;
    int close(int fd) override;
    int epoll_create() override;
    int epoll_ctl(int epfd, net::epoll_op op, int fd, uint32_t events, uint64_t data) override;
    int epoll_wait(int epfd, net::epoll_event* events, int max, int64_t timeout_ns) override;

private:
    using sock = net::udp_socket_state;
    sock* get(int fd) { return fd >= 0 && static_cast<size_t>(fd) < m_socks.size() ? m_socks[fd].get() : nullptr; }
    net::stream_files& files();

    dataplane& m_dp;
    cpu_core& m_core;
    const cost_model& m_c;
    std::vector<std::unique_ptr<sock>> m_socks;
    net::stream_files m_files;
};

} // namespace iovsim::os::dataplane
