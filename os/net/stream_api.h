#pragma once
// The POSIX stream-socket and epoll calls an event-driven server uses (Redis: non-blocking
// sockets, one level-triggered epoll set, a single-threaded loop), served by the Linux-like kernel
// (system calls: crossings, copies, wait queues) or by the Arrakis/P library OS (the same calls in
// the application, over its VNIC and user-level TCP). Sockets are non-blocking, as Redis sets them
// (O_NONBLOCK); only epoll_wait blocks. Errors are negative errno values (-EAGAIN, -EBADF, ...), as
// the kernel's own calls return them, so no errno state is hidden in the interface.
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "os/net/socket_api.h"

namespace iovsim::os::net {

// epoll event bits, with the values of <sys/epoll.h>.
namespace ep {
inline constexpr uint32_t in = 0x001;
inline constexpr uint32_t out = 0x004;
inline constexpr uint32_t err = 0x008;
inline constexpr uint32_t hup = 0x010;
inline constexpr uint32_t rdhup = 0x2000;
} // namespace ep

enum class epoll_op { add, mod, del };

struct epoll_event {
    uint32_t events = 0;
    uint64_t data = 0;
};

class stream_api {
public:
    virtual ~stream_api() = default;

    // socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)
    virtual int tcp_socket() = 0;
    // bind to a local port (any address of the host)
    virtual int tcp_bind(int fd, uint16_t port) = 0;
    virtual int listen(int fd, int backlog) = 0;
    // A connection the handshake completed, or -EAGAIN.
    virtual int accept(int fd, sock_addr* peer) = 0;
    // Starts the handshake: -EINPROGRESS; the socket turns writable (ep::out) once established,
    // or reports ep::err | ep::hup when refused.
    virtual int connect(int fd, const sock_addr& to) = 0;
    // Bytes copied out; 0 at end of stream; -EAGAIN when nothing is queued; -ECONNRESET.
    virtual long recv(int fd, uint8_t* buf, size_t len) = 0;
    // Bytes taken into the send buffer (possibly fewer than len); -EAGAIN when it is full; -EPIPE.
    virtual long send(int fd, const uint8_t* buf, size_t len) = 0;
    virtual int close(int fd) = 0;

    virtual int epoll_create() = 0;
    virtual int epoll_ctl(int epfd, epoll_op op, int fd, uint32_t events, uint64_t data) = 0;
    // Level-triggered: every registered descriptor whose condition holds is reported, up to `max`.
    // Blocks until one is ready or `timeout_ns` passes (-1: no timeout; 0: does not block).
    // Returns the count, 0 on timeout.
    virtual int epoll_wait(int epfd, epoll_event* events, int max, int64_t timeout_ns) = 0;
};

} // namespace iovsim::os::net
