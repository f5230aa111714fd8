#pragma once
// The POSIX-style datagram socket calls an application uses, served either by the Linux-like
// kernel (system calls, copies across the kernel boundary) or by the Arrakis/P library OS (the same
// calls, served in the application by the user-level stack). Return conventions follow POSIX:
// a descriptor >= 0 or -1; a byte count or -1.
#include <cstddef>
#include <cstdint>

#include <deque>
#include <utility>

#include "os/net/pkt.h"
#include "os/net/stack.h"
#include "sim/wire/wire.h"

namespace iovsim::os::net {

struct sock_addr {
    wire::ipv4_addr ip;
    uint16_t port = 0;
};

// What every implementation keeps per UDP socket: the bound port and the datagrams waiting for
// recvfrom (their buffers, and where they came from).
struct udp_socket_state {
    uint16_t port = 0;
    std::deque<std::pair<pkt, udp_meta>> rxq;
};

class socket_api {
public:
    virtual ~socket_api() = default;
    virtual int udp_socket() = 0;
    virtual int bind(int fd, uint16_t port) = 0;
    // Blocks until a datagram arrives; copies at most `len` bytes into `buf`.
    virtual long recvfrom(int fd, uint8_t* buf, size_t len, sock_addr& from) = 0;
    virtual long sendto(int fd, const uint8_t* buf, size_t len, const sock_addr& to) = 0;
};

} // namespace iovsim::os::net
