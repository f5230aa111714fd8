#pragma once
// One epoll instance's bookkeeping, as Linux's fs/eventpoll.c keeps it: the interest list (the
// registered descriptors with their event masks and user data: the rbtree of epitems) and the
// ready list (rdllist) that a descriptor's wakeup callback (ep_poll_callback) appends to. Both the
// Linux-like kernel and Arrakis/P's emulation use it; what a call costs and how a waiter sleeps
// are theirs.
//
// Level-triggered (no EPOLLET): ep_send_events polls each descriptor on the ready list, reports
// those whose condition holds and puts them back on the list, so the next epoll_wait polls them
// again; a descriptor found not ready leaves the list until its next wakeup. EPOLLERR and EPOLLHUP
// are reported whether asked for or not.
#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>
#include <vector>

#include "os/net/stream_api.h"

namespace iovsim::os::net {

class epoll_set {
public:
    // The descriptor's current readiness (its f_op->poll), ep:: bits.
    using poll_fn = std::function<uint32_t(int fd)>;

    // EPOLL_CTL_ADD/MOD/DEL. `ready_now` is the descriptor's readiness at the call: ep_insert and
    // ep_modify poll the file and queue it at once if a condition of interest holds.
    // 0, or -EEXIST (add of a registered fd), -ENOENT (mod/del of an unregistered one).
    int ctl(epoll_op op, int fd, uint32_t events, uint64_t data, uint32_t ready_now);
    // ep_poll_callback: the descriptor's readiness changed to `ready`. True when this queued it on
    // the ready list (it is registered, the bits are of interest, it was not queued yet).
    bool wakeup(int fd, uint32_t ready);
    // The file is closed: its registration goes (eventpoll_release).
    void remove(int fd);

    // ep_events_available: something is queued (it may turn out not ready when polled).
    bool has_queued() const { return !m_ready.empty(); }
    // ep_send_events: polls the queued descriptors in order, up to `max` reported. Returns how many
    // were reported; `polled` is how many were polled (each costs the caller a scan).
    int harvest(epoll_event* out, int max, const poll_fn& poll, unsigned& polled);

    bool registered(int fd) const { return m_items.count(fd) != 0; }
    // Whether readiness `ready` holds a condition `fd` is registered for (ep_poll_callback's test).
    bool interested(int fd, uint32_t ready) const;
    std::vector<int> registered_fds() const;
    bool queued(int fd) const;
    size_t size() const { return m_items.size(); }
    size_t queued_count() const { return m_ready.size(); }

private:
    struct item {
        uint32_t events = 0;
        uint64_t data = 0;
        bool queued = false;
    };
    static uint32_t interest(const item& it) { return it.events | ep::err | ep::hup; }
    void enqueue(int fd, item& it);

    std::unordered_map<int, item> m_items;
    std::deque<int> m_ready;
    std::vector<int> m_reported;   // harvest's scratch: the reported, to queue again
};

} // namespace iovsim::os::net
