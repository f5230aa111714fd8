#include "os/net/epoll_set.h"

#include <algorithm>
#include <vector>

namespace iovsim::os::net {

void epoll_set::enqueue(int fd, item& it)
{
    if (it.queued)
        return;
    it.queued = true;
    m_ready.push_back(fd);
}

int epoll_set::ctl(epoll_op op, int fd, uint32_t events, uint64_t data, uint32_t ready_now)
{
    const auto found = m_items.find(fd);
    switch (op) {
    case epoll_op::add: {
        if (found != m_items.end())
            return -EEXIST;
        item& it = m_items[fd];
        it.events = events;
        it.data = data;
        if (ready_now & interest(it))
            enqueue(fd, it);
        return 0;
    }
    case epoll_op::mod:
        if (found == m_items.end())
            return -ENOENT;
        found->second.events = events;
        found->second.data = data;
        if (ready_now & interest(found->second))
            enqueue(fd, found->second);
        return 0;
    case epoll_op::del:
        if (found == m_items.end())
            return -ENOENT;
        remove(fd);
        return 0;
    }
    return -EINVAL;
}

bool epoll_set::wakeup(int fd, uint32_t ready)
{
    if (!interested(fd, ready))
        return false;
    item& it = m_items.at(fd);
    if (it.queued)
        return false;
    enqueue(fd, it);
    return true;
}

void epoll_set::remove(int fd)
{
    if (m_items.erase(fd) == 0)
        return;
    for (auto i = m_ready.begin(); i != m_ready.end(); ++i)
        if (*i == fd) {
            m_ready.erase(i);
            break;
        }
}

bool epoll_set::interested(int fd, uint32_t ready) const
{
    const auto found = m_items.find(fd);
    return found != m_items.end() && (ready & interest(found->second)) != 0;
}

std::vector<int> epoll_set::registered_fds() const
{
    std::vector<int> fds;
    for (const auto& [fd, it] : m_items)
        fds.push_back(fd);
    std::sort(fds.begin(), fds.end());
    return fds;
}

bool epoll_set::queued(int fd) const
{
    const auto found = m_items.find(fd);
    return found != m_items.end() && found->second.queued;
}

// ep_send_events_proc: the ready list is taken whole (the txlist); each entry is polled; a
// reported one goes back to the tail of the ready list after the scan (level-triggered), one not
// ready is dropped; the entries past `max` stay queued, ahead of those put back.
int epoll_set::harvest(epoll_event* out, int max, const poll_fn& poll, unsigned& polled)
{
    polled = 0;
    int reported = 0;
    std::vector<int>& back = m_reported;
    back.clear();
    while (reported < max && !m_ready.empty()) {
        const int fd = m_ready.front();
        m_ready.pop_front();
        item& it = m_items.at(fd);
        ++polled;
        const uint32_t revents = poll(fd) & interest(it);
        if (revents == 0) {
            it.queued = false;
            continue;
        }
        out[reported].events = revents;
        out[reported].data = it.data;
        ++reported;
        back.push_back(fd);
    }
    for (const int fd : back)
        m_ready.push_back(fd);
    return reported;
}

} // namespace iovsim::os::net
