#pragma once
// The descriptor table behind the stream-socket and epoll calls (stream_api.h) and what each call
// means over a tcp_layer: which descriptor is a socket, a listener or an epoll instance, the errno
// each call returns, a socket's readiness as poll reports it (tcp_poll), and the socket's wait
// queue: the epoll instances watching it, whose callbacks its readiness changes run. The
// Linux-like kernel serves these as system calls, Arrakis/P in the application; what a call costs,
// how a waiter sleeps and how a copy is charged are theirs, so this holds no cost.
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "os/core/accounting.h"
#include "os/core/cost_model.h"
#include "os/net/epoll_set.h"
#include "os/net/stream_api.h"
#include "os/net/tcp.h"

namespace iovsim::os::net {

class stream_files {
public:
    // A watched socket's readiness changed (ep_poll_callback ran on epoll instance `epfd`);
    // `queued` says the socket went onto that instance's ready list with this call.
    using callback_fn = std::function<void(int epfd, bool queued)>;

    stream_files() = default;
    stream_files(const stream_files&) = delete;
    stream_files& operator=(const stream_files&) = delete;

    // The TCP the sockets use; takes its readiness notifications.
    void attach(tcp_layer& tcp);
    bool has_tcp() const { return m_tcp != nullptr; }
    void set_callback(callback_fn fn) { m_callback = std::move(fn); }

    // A descriptor of another kind of file (a datagram socket): the numbering is one per process.
    int reserve();

    int socket();
    int bind(int fd, uint16_t port);
    int listen(int fd, int backlog);
    int accept(int fd, sock_addr* peer);
    int connect(int fd, const sock_addr& to);
    // The request whose segment brought the last bytes recv returned (no_request: none yet).
    request_id last_request(int fd) const;
    // Copies from the receive buffer (tcp_layer::recv).
    long recv(int fd, uint8_t* buf, size_t len);
    long send(int fd, const uint8_t* buf, size_t len);
    int close(int fd);

    int epoll_create();
    int epoll_ctl(int epfd, epoll_op op, int fd, uint32_t events, uint64_t data);
    epoll_set* epoll(int epfd);
    // One ep_send_events pass over `epfd`'s ready list, telling `each` every descriptor it polls.
    int harvest(int epfd, epoll_event* events, int max, const std::function<void(int fd)>& each);
    // The watch state of descriptor `fd` (its epoll registration, the file, what poll reads), for
    // the LLC residency of what a report or an epoll_ctl touches; nullptr for no descriptor.
    llc_stamp* watch_state(int fd);

    // tcp_poll: the socket's readiness, ep:: bits (0 for what is not a socket).
    uint32_t poll(int fd) const;
    bool is_stream(int fd) const;
    bool is_epoll(int fd) const;
    size_t open_files() const;

private:
    enum class kind { none, other, socket, listener, connection, epoll };
    struct file {
        kind k = kind::none;
        uint16_t port = 0;            // bound local port
        tcp_id id = 0;                // listener or connection
        std::unique_ptr<epoll_set> ep;
        std::vector<int> watchers;    // epoll instances this descriptor is registered with
        llc_stamp watch;              // last touch of its registration and poll state
    };
    file* get(int fd);
    const file* get(int fd) const;
    int open(kind k);
    void notify(tcp_id id, uint32_t ready);
    static void unlink(std::vector<int>& v, int x);

    tcp_layer* m_tcp = nullptr;
    callback_fn m_callback;
    std::vector<file> m_files;
    std::unordered_map<tcp_id, int> m_fd_of;
};

} // namespace iovsim::os::net
