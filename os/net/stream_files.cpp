#include "os/net/stream_files.h"

#include <algorithm>

namespace iovsim::os::net {

void stream_files::attach(tcp_layer& tcp)
{
    m_tcp = &tcp;
    tcp.set_notify([this](tcp_id id, uint32_t ready) { notify(id, ready); });
}

stream_files::file* stream_files::get(int fd)
{
    if (fd < 0 || static_cast<size_t>(fd) >= m_files.size() || m_files[fd].k == kind::none)
        return nullptr;
    return &m_files[fd];
}

const stream_files::file* stream_files::get(int fd) const
{
    return const_cast<stream_files*>(this)->get(fd);
}

// The lowest free descriptor, as POSIX requires of open() and socket().
int stream_files::open(kind k)
{
    size_t fd = 0;
    while (fd < m_files.size() && m_files[fd].k != kind::none)
        ++fd;
    if (fd == m_files.size())
        m_files.emplace_back();
    m_files[fd] = file{};
    m_files[fd].k = k;
    return static_cast<int>(fd);
}

int stream_files::reserve() { return open(kind::other); }

void stream_files::unlink(std::vector<int>& v, int x) { v.erase(std::remove(v.begin(), v.end(), x), v.end()); }

int stream_files::socket()
{
    if (m_tcp == nullptr)
        return -EAFNOSUPPORT;   // no TCP on this host
    return open(kind::socket);
}

int stream_files::bind(int fd, uint16_t port)
{
    file* f = get(fd);
    if (f == nullptr)
        return -EBADF;
    if (f->k != kind::socket || f->port != 0)
        return -EINVAL;   // already bound or connected
    for (const file& other : m_files)
        if (other.k != kind::none && other.k != kind::other && other.port == port)
            return -EADDRINUSE;
    f->port = port;
    return 0;
}

int stream_files::listen(int fd, int backlog)
{
    file* f = get(fd);
    if (f == nullptr)
        return -EBADF;
    if (f->k == kind::listener)
        return 0;
    if (f->k != kind::socket || f->port == 0)
        return -EINVAL;
    const tcp_id id = m_tcp->listen(f->port, static_cast<unsigned>(std::max(backlog, 1)));
    if (id == 0)
        return -EADDRINUSE;
    f->k = kind::listener;
    f->id = id;
    m_fd_of[id] = fd;
    return 0;
}

int stream_files::accept(int fd, sock_addr* peer)
{
    file* f = get(fd);
    if (f == nullptr)
        return -EBADF;
    if (f->k != kind::listener)
        return -EINVAL;
    const tcp_id id = m_tcp->accept(f->id, peer);
    if (id == 0)
        return -EAGAIN;
    const uint16_t port = f->port;
    const int nfd = open(kind::connection);   // may move m_files: f is stale from here
    m_files[nfd].id = id;
    m_files[nfd].port = port;
    m_fd_of[id] = nfd;
    return nfd;
}

int stream_files::connect(int fd, const sock_addr& to)
{
    file* f = get(fd);
    if (f == nullptr)
        return -EBADF;
    if (f->k == kind::connection)
        return -EISCONN;
    if (f->k != kind::socket)
        return -EINVAL;
    const tcp_id id = m_tcp->connect(to.ip, to.port, f->port);
    if (id == 0)
        return -EADDRNOTAVAIL;
    f->k = kind::connection;
    f->id = id;
    m_fd_of[id] = fd;
    return -EINPROGRESS;
}

request_id stream_files::last_request(int fd) const
{
    const file* f = get(fd);
    return f && f->k == kind::connection ? m_tcp->last_request(f->id) : no_request;
}

long stream_files::recv(int fd, uint8_t* buf, size_t len)
{
    file* f = get(fd);
    if (f == nullptr)
        return -EBADF;
    if (f->k != kind::connection)
        return -ENOTCONN;
    const size_t n = len == 0 ? 0 : m_tcp->recv(f->id, buf, len);
    if (n > 0)
        return static_cast<long>(n);
    // Nothing queued: why (tcp_recvmsg: sk_err, then RCV_SHUTDOWN, then the state).
    const uint32_t ready = m_tcp->ready(f->id);
    if (ready & tcp_ready::err)
        return -ECONNRESET;
    if (ready & (tcp_ready::rdhup | tcp_ready::hup))
        return 0;   // end of stream
    const tcp_state s = m_tcp->state(f->id);
    if (s == tcp_state::closed)
        return 0;
    if (s == tcp_state::syn_sent || s == tcp_state::syn_received)
        return -EAGAIN;   // not connected yet, non-blocking
    return len == 0 ? 0 : -EAGAIN;
}

long stream_files::send(int fd, const uint8_t* buf, size_t len)
{
    file* f = get(fd);
    if (f == nullptr)
        return -EBADF;
    if (f->k != kind::connection)
        return -ENOTCONN;
    if (m_tcp->ready(f->id) & tcp_ready::err)
        return -ECONNRESET;
    const tcp_state s = m_tcp->state(f->id);
    if (s != tcp_state::established && s != tcp_state::close_wait)
        return s == tcp_state::syn_sent || s == tcp_state::syn_received ? -EAGAIN : -EPIPE;
    if (len == 0)
        return 0;
    const size_t n = m_tcp->send(f->id, buf, len);
    return n > 0 ? static_cast<long>(n) : -EAGAIN;
}

int stream_files::close(int fd)
{
    file* f = get(fd);
    if (f == nullptr)
        return -EBADF;
    for (const int epfd : f->watchers)
        if (file* e = get(epfd); e && e->ep)
            e->ep->remove(fd);
    if (f->ep)
        for (const int watched : f->ep->registered_fds())
            if (file* w = get(watched))
                unlink(w->watchers, fd);
    if (f->k == kind::listener || f->k == kind::connection) {
        // tcp_close: unread data makes it a reset (RFC 2525 section 2.17), else a FIN after the
        // queued data.
        if (f->k == kind::connection && m_tcp->readable_bytes(f->id) > 0)
            m_tcp->abort(f->id);
        else
            m_tcp->close(f->id);
        m_fd_of.erase(f->id);
    }
    *f = file{};
    return 0;
}

int stream_files::epoll_create()
{
    const int fd = open(kind::epoll);
    m_files[fd].ep = std::make_unique<epoll_set>();
    return fd;
}

epoll_set* stream_files::epoll(int epfd)
{
    file* f = get(epfd);
    return f && f->k == kind::epoll ? f->ep.get() : nullptr;
}

int stream_files::epoll_ctl(int epfd, epoll_op op, int fd, uint32_t events, uint64_t data)
{
    epoll_set* ep = epoll(epfd);
    file* f = get(fd);
    if (get(epfd) == nullptr || f == nullptr)
        return -EBADF;
    if (ep == nullptr || fd == epfd)
        return -EINVAL;
    if (f->k == kind::other || f->k == kind::epoll)
        return -EPERM;   // this emulation watches stream sockets only
    const int r = ep->ctl(op, fd, events, data, poll(fd));
    if (r == 0 && op == epoll_op::add)
        f->watchers.push_back(epfd);
    else if (r == 0 && op == epoll_op::del)
        unlink(f->watchers, epfd);
    return r;
}

int stream_files::harvest(int epfd, epoll_event* events, int max, const std::function<void(int fd)>& each)
{
    epoll_set* ep = epoll(epfd);
    if (ep == nullptr)
        return get(epfd) ? -EINVAL : -EBADF;
    if (max <= 0)
        return -EINVAL;
    unsigned polled = 0;
    return ep->harvest(
        events, max,
        [&](int fd) {
            each(fd);
            return poll(fd);
        },
        polled);
}

llc_stamp* stream_files::watch_state(int fd)
{
    file* f = get(fd);
    return f ? &f->watch : nullptr;
}

uint32_t stream_files::poll(int fd) const
{
    const file* f = get(fd);
    if (f == nullptr)
        return 0;
    switch (f->k) {
    case kind::listener:
    case kind::connection:
        return m_tcp->ready(f->id);
    case kind::socket:
        return ep::out | ep::hup;   // tcp_poll of a socket in CLOSE
    default:
        return 0;
    }
}

bool stream_files::is_stream(int fd) const
{
    const file* f = get(fd);
    return f && (f->k == kind::socket || f->k == kind::listener || f->k == kind::connection);
}

bool stream_files::is_epoll(int fd) const { return const_cast<stream_files*>(this)->epoll(fd) != nullptr; }

size_t stream_files::open_files() const
{
    return static_cast<size_t>(std::count_if(m_files.begin(), m_files.end(), [](const file& f) { return f.k != kind::none; }));
}

// The socket's wait queue: each epoll instance watching it runs its callback.
void stream_files::notify(tcp_id id, uint32_t ready)
{
    const auto found = m_fd_of.find(id);
    if (found == m_fd_of.end())
        return;   // a connection not accepted yet: its listener hears of it
    const int fd = found->second;
    // By index, re-read each time: a callback may wake a task but never changes the table.
    for (size_t i = 0; i < m_files[fd].watchers.size(); ++i) {
        const int epfd = m_files[fd].watchers[i];
        epoll_set* ep = epoll(epfd);
        if (ep == nullptr || !ep->interested(fd, ready))
            continue;
        const bool queued = ep->wakeup(fd, ready);
        if (m_callback)
            m_callback(epfd, queued);
    }
}

} // namespace iovsim::os::net
