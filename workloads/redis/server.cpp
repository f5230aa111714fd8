#include "workloads/redis/server.h"

#include <algorithm>
#include <cmath>
#include <array>
#include <numeric>
#include <stdexcept>
#include <string>

namespace iovsim::workloads::redis {

using os::category;
namespace ep = os::net::ep;

const char* to_string(phase p)
{
    constexpr std::array<const char*, phase_count> names = {"epoll", "recv", "parse", "lookup", "log_marshal",
                                                            "write", "fsync", "prepare", "send", "other"};
    return names[static_cast<unsigned>(p)];
}

const char* to_string(request_kind k)
{
    switch (k) {
    case request_kind::get: return "get";
    case request_kind::set: return "set";
    case request_kind::del: return "del";
    case request_kind::ping: return "ping";
    case request_kind::other: return "other";
    }
    return "?";
}

// A connected client (Redis's redisClient): its buffers, its requests whose replies are not yet
// out, and the time measured for it that no request has taken yet (a read that completed no
// command, a send that completed no reply).
struct server::client {
    int fd = -1;
    std::string query;
    size_t qpos = 0;              // parsed up to here
    std::string reply;
    size_t rpos = 0;              // sent up to here
    uint64_t reply_base = 0;      // reply stream offset of reply[0]
    std::deque<uint32_t> requests;
    std::array<double, phase_count> carry{};
    bool writable_registered = false;
    bool pending_write = false;
    bool close_after_reply = false;
    bool closing = false;
};

server::server(os::cpu_core& core, os::net::stream_api& api, aof_backend* aof, const server_params& params)
    : m_core(core), m_api(api), m_aof_backend(aof), m_params(params), m_parser(params.limits),
      m_events(params.max_events), m_read_buf(params.read_len)
{
    if (params.aof && aof == nullptr)
        throw std::invalid_argument("redis server: the AOF is on but no backend was given");
    if (params.max_events == 0 || params.read_len == 0)
        throw std::invalid_argument("redis server: max_events and read_len must be positive");
}

server::~server() = default;

// The core's clock in ns, from its integer count of resolution steps (exact differences). With
// receive_in_epoll, the network's receive work in interrupt context is taken out of it (it stops
// while such a handler runs) and the iteration times it as epoll instead.
double server::now_ns() const
{
    static const double step_ps = std::round(sc_core::sc_get_time_resolution().to_seconds() * 1e12);
    const double t = static_cast<double>(m_core.local_time().value()) * step_ps / 1000.0;
    return m_params.receive_in_epoll ? t - network_irq_ns() : t;
}

// The receive path: the interrupt, NAPI, IP and TCP input, the readiness callbacks and the wake-ups
// they make. Transmit work done in interrupt context (ACKs sent from softirq or a timer, transmit
// completions) and storage completions (block_io, fsync's) stay where they ran.
double server::network_irq_ns() const
{
    double ns = 0;
    for (category c : {category::net_stack_in, category::scheduler})
        ns += m_core.irq_ns(c);
    return ns;
}

uint32_t server::open(client& c, request_kind kind)
{
    uint32_t id;
    if (!m_free.empty()) {
        id = m_free.back();
        m_free.pop_back();
        m_open[id] = open_request{};
    } else {
        id = static_cast<uint32_t>(m_open.size());
        m_open.emplace_back();
    }
    m_open[id].rec.kind = kind;
    m_open[id].fd = c.fd;
    m_open[id].reply_start = c.reply_base + c.reply.size();   // its reply is the next one built
    c.requests.push_back(id);
    m_iter_parsed.push_back(id);
    return id;
}

void server::note_freed(size_t value_bytes)
{
    if (value_bytes >= os::cache_line_bytes)
        ++m_freed_values[os::lines_of(value_bytes)];
}

void server::spread(const std::vector<uint32_t>& ids, phase p, double ns)
{
    if (ids.empty()) {
        m_stats.unattributed_ns += ns;
        return;
    }
    const double share = ns / static_cast<double>(ids.size());
    for (uint32_t id : ids)
        add(id, p, share);
}

void server::run()
{
    m_listen = m_api.tcp_socket();
    if (m_listen < 0 || m_api.tcp_bind(m_listen, m_params.port) != 0 || m_api.listen(m_listen, m_params.backlog) != 0)
        throw std::runtime_error("redis server: cannot listen on TCP port " + std::to_string(m_params.port));
    m_ep = m_api.epoll_create();
    if (m_ep < 0 || m_api.epoll_ctl(m_ep, os::net::epoll_op::add, m_listen, ep::in, static_cast<uint64_t>(m_listen)) != 0)
        throw std::runtime_error("redis server: cannot create its epoll set");
    const os::cost_model& c = m_core.costs();
    while (!m_stop) {
        const double started = now_ns();
        const double irq_before = m_params.receive_in_epoll ? network_irq_ns() : 0;
        ++m_stats.iterations;
        m_core.run(category::app, c.rd_loop);   // aeProcessEvents: timers, the fired-event array
        const double t0 = now_ns();
        const int n = m_api.epoll_wait(m_ep, m_events.data(), static_cast<int>(m_events.size()), -1);
        m_iter_epoll = span(t0);
        for (int i = 0; i < n; ++i) {
            const os::net::epoll_event ev = m_events[static_cast<size_t>(i)];
            ++m_stats.events;
            m_core.run(category::app, c.rd_event);
            const int fd = static_cast<int>(ev.data);
            if (fd == m_listen) {
                accept_clients();
                continue;
            }
            const auto it = m_clients.find(fd);
            if (it == m_clients.end())
                continue;
            client& cl = *it->second;
            // Error and hang-up are taken as readable: the read reports them and the client closes.
            if (ev.events & (ep::in | ep::err | ep::hup))
                read_from(cl);
            if (!cl.closing && (ev.events & ep::out) && cl.writable_registered)
                write_to(cl);
            close_pending();
        }
        before_sleep();
        if (m_params.receive_in_epoll)
            m_iter_irq = network_irq_ns() - irq_before;
        end_iteration(started);
    }
}

void server::accept_clients()
{
    const os::cost_model& c = m_core.costs();
    // acceptTcpHandler: up to MAX_ACCEPTS_PER_CALL connections per event.
    for (int i = 0; i < 1000; ++i) {
        os::net::sock_addr peer;
        const int fd = m_api.accept(m_listen, &peer);
        if (fd < 0)
            return;
        m_core.run(category::app, c.rd_accept);
        if (m_clients.size() >= m_params.max_clients) {
            static const char full[] = "-ERR max number of clients reached\r\n";
            m_api.send(fd, reinterpret_cast<const uint8_t*>(full), sizeof full - 1);
            m_api.close(fd);
            ++m_stats.rejected;
            continue;
        }
        if (m_api.epoll_ctl(m_ep, os::net::epoll_op::add, fd, ep::in, static_cast<uint64_t>(fd)) != 0) {
            m_api.close(fd);
            ++m_stats.rejected;
            continue;
        }
        auto cl = std::make_unique<client>();
        cl->fd = fd;
        m_clients[fd] = std::move(cl);
        ++m_stats.accepted;
    }
}

void server::read_from(client& cl)
{
    double t0 = now_ns();
    const long n = m_api.recv(cl.fd, m_read_buf.data(), m_read_buf.size());
    cl.carry[static_cast<unsigned>(phase::recv)] += span(t0);
    if (n == -EAGAIN)
        return;
    if (n <= 0) {
        if (n < 0)
            ++m_stats.read_errors;
        schedule_close(cl);
        return;
    }
    m_stats.bytes_in += static_cast<uint64_t>(n);
    cl.query.append(reinterpret_cast<const char*>(m_read_buf.data()), static_cast<size_t>(n));
    if (cl.query.size() - cl.qpos > m_params.max_query_buffer) {
        ++m_stats.query_overflows;   // "Closing client that reached max query buffer length"
        schedule_close(cl);
        return;
    }
    process_input(cl);
}

void server::process_input(client& cl)
{
    const os::cost_model& c = m_core.costs();
    std::vector<uint32_t> parsed;
    while (!cl.close_after_reply && !cl.closing && cl.qpos < cl.query.size()) {
        const double t0 = now_ns();
        const auto* in = reinterpret_cast<const uint8_t*>(cl.query.data()) + cl.qpos;
        const parse_status st = m_parser.next(in, cl.query.size() - cl.qpos, m_cmd);
        if (st == parse_status::need_more) {
            cl.carry[static_cast<unsigned>(phase::parse)] += span(t0);
            break;
        }
        m_core.run(category::app, c.rd_parse);
        if (st == parse_status::error) {
            // The error is the reply; the client is closed once it is out (setProtocolError).
            ++m_stats.protocol_errors;
            const uint32_t id = open(cl, request_kind::other);
            parsed.push_back(id);
            end_span(id, phase::parse, t0);
            const double t1 = now_ns();
            m_core.run(category::app, c.rd_prepare);
            append_error(cl.reply, m_parser.error_text());
            finish_reply(cl, id, t1);
            cl.close_after_reply = true;
            cl.qpos = cl.query.size();
            break;
        }
        cl.qpos += m_cmd.bytes;
        if (m_cmd.args.empty()) {   // an empty command: skipped
            cl.carry[static_cast<unsigned>(phase::parse)] += span(t0);
            continue;
        }
        // createStringObject per argument: an allocation and a copy out of the query buffer. An
        // argument of a freed value's size gets that value's memory back, from DRAM.
        size_t arg_bytes = 0;
        for (std::string_view a : m_cmd.args) {
            m_core.run(category::app, c.rd_parse_arg);
            const auto freed = a.size() >= os::cache_line_bytes ? m_freed_values.find(os::lines_of(a.size()))
                                                                 : m_freed_values.end();
            if (freed != m_freed_values.end() && freed->second > 0) {
                --freed->second;
                m_core.copy_dram(category::app, a.size());
            } else {
                arg_bytes += a.size();
            }
        }
        m_core.copy(category::app, arg_bytes);
        const std::string_view name = m_cmd.args[0];
        const request_kind kind = name_is(name, "get")    ? request_kind::get
                                  : name_is(name, "set")  ? request_kind::set
                                  : name_is(name, "del")  ? request_kind::del
                                  : name_is(name, "ping") ? request_kind::ping
                                                          : request_kind::other;
        const uint32_t id = open(cl, kind);
        parsed.push_back(id);
        end_span(id, phase::parse, t0);
        ++m_stats.commands;
        execute(cl, id, m_cmd);
    }
    // The read's own time (and any partial parse before it) goes to the commands it completed.
    if (!parsed.empty()) {
        for (unsigned p = 0; p < phase_count; ++p) {
            if (cl.carry[p] != 0) {
                spread(parsed, static_cast<phase>(p), cl.carry[p]);
                cl.carry[p] = 0;
            }
        }
    }
    if (cl.qpos == cl.query.size()) {
        cl.query.clear();
        cl.qpos = 0;
    } else if (cl.qpos > 64 * 1024 || cl.qpos * 2 > cl.query.size()) {
        cl.query.erase(0, cl.qpos);
        cl.qpos = 0;
    }
}

// The command table's work, Redis's order: the command (lookup phase: dictFind, and for SET and
// DEL the change), its reply into the reply buffer (prepare), then propagation to the AOF
// (log_marshal) and, durable per command, its write and sync.
void server::execute(client& cl, uint32_t id, const command& cmd)
{
    const os::cost_model& c = m_core.costs();
    const auto& a = cmd.args;
    const std::string_view name = a[0];
    auto prepare_start = [&] {
        const double t = now_ns();
        m_core.run(category::app, c.rd_prepare);
        return t;
    };
    // addReplyBulk after its first addReply (prepare_start's): the length, the bytes (from DRAM
    // for a keyspace value), the CRLF.
    auto bulk_reply = [&](size_t bytes, bool from_dram) {
        m_core.run(category::app, c.rd_reply_bulk);
        if (from_dram)
            m_core.copy_dram(category::app, bytes);
        else
            m_core.copy(category::app, bytes);
        m_core.copy(category::app, 2);
    };
    auto wrong_args = [&](const char* cmd_name) {
        ++m_stats.wrong_args;
        const double t = prepare_start();
        append_error(cl.reply, std::string("ERR wrong number of arguments for '") + cmd_name + "' command");
        finish_reply(cl, id, t);
    };
    if (name_is(name, "get")) {
        ++m_stats.gets;
        if (a.size() != 2)
            return wrong_args("get");
        double t = now_ns();
        m_core.run(category::app, c.rd_lookup);
        const std::string* v = m_store.get(a[1]);
        end_span(id, phase::lookup, t);
        t = prepare_start();
        if (v != nullptr) {
            ++m_stats.hits;
            // addReplyBulk: the length header, the value and a CRLF, three addReply calls. The
            // keyspace (65,536 x 1 KB = 64 MB) is far larger than the LLC (15 MB on the
            // E5-2430), so the value comes from DRAM.
            bulk_reply(v->size(), true);
            append_bulk(cl.reply, *v);
        } else {
            ++m_stats.misses;
            append_null_bulk(cl.reply);
        }
        finish_reply(cl, id, t);
        return;
    }
    if (name_is(name, "set")) {
        ++m_stats.sets;
        if (a.size() < 3)
            return wrong_args("set");
        if (a.size() > 3) {   // EX/PX/NX/XX are not served
            ++m_stats.syntax_errors;
            const double t = prepare_start();
            append_error(cl.reply, "ERR syntax error");
            finish_reply(cl, id, t);
            return;
        }
        double t = now_ns();
        m_core.run(category::app, c.rd_lookup);
        m_core.run(category::app, c.rd_set);
        size_t freed = 0;
        if (!m_store.set(a[1], a[2], &freed))
            note_freed(freed);
        end_span(id, phase::lookup, t);
        t = prepare_start();
        append_simple(cl.reply, "OK");
        finish_reply(cl, id, t);
        log_write(cl, id, a);
        return;
    }
    if (name_is(name, "del")) {
        ++m_stats.dels;
        if (a.size() < 2)
            return wrong_args("del");
        double t = now_ns();
        int64_t deleted = 0;
        for (size_t i = 1; i < a.size(); ++i) {
            m_core.run(category::app, c.rd_lookup);
            size_t freed = 0;
            if (m_store.del(a[i], &freed)) {
                note_freed(freed);
                m_core.run(category::app, c.rd_del);
                ++deleted;
            }
        }
        end_span(id, phase::lookup, t);
        t = prepare_start();
        append_integer(cl.reply, deleted);
        finish_reply(cl, id, t);
        if (deleted > 0)   // propagated only when it changed the keyspace (server.dirty)
            log_write(cl, id, a);
        return;
    }
    if (name_is(name, "exists")) {
        ++m_stats.exists;
        if (a.size() != 2)
            return wrong_args("exists");
        double t = now_ns();
        m_core.run(category::app, c.rd_lookup);
        const bool found = m_store.exists(a[1]);
        end_span(id, phase::lookup, t);
        t = prepare_start();
        append_integer(cl.reply, found ? 1 : 0);
        finish_reply(cl, id, t);
        return;
    }
    if (name_is(name, "ping")) {
        ++m_stats.pings;
        if (a.size() > 2)
            return wrong_args("ping");
        const double t = prepare_start();
        if (a.size() == 2) {
            bulk_reply(a[1].size(), false);
            append_bulk(cl.reply, a[1]);
        } else {
            append_simple(cl.reply, "PONG");
        }
        finish_reply(cl, id, t);
        return;
    }
    ++m_stats.unknown;
    const double t = prepare_start();
    append_error(cl.reply, "ERR unknown command '" + std::string(name) + "'");
    finish_reply(cl, id, t);
}

// The reply is in the buffer: its end is the request's, and the client is made to write
// (prepareClientToWrite). Ends the prepare span that began at `t0`.
void server::finish_reply(client& cl, uint32_t id, double t0)
{
    m_open[id].reply_end = cl.reply_base + cl.reply.size();
    if (m_params.reply_on_writable) {
        if (!cl.writable_registered) {
            m_api.epoll_ctl(m_ep, os::net::epoll_op::mod, cl.fd, ep::in | ep::out, static_cast<uint64_t>(cl.fd));
            cl.writable_registered = true;
        }
    } else if (!cl.pending_write) {
        cl.pending_write = true;
        m_pending_writes.push_back(cl.fd);
    }
    end_span(id, phase::prepare, t0);
}

void server::log_write(client& cl, uint32_t id, const std::vector<std::string_view>& args)
{
    if (!m_params.aof)
        return;
    const os::cost_model& c = m_core.costs();
    const double t = now_ns();
    m_core.run(category::app, c.rd_log_marshal);
    const size_t n = m_aof.append(args);
    // catAppendOnlyGenericCommand builds the command in an sds of its own (sdscatlen of each
    // argument), then appends that to server.aof_buf: two copies. On Arrakis/P aof_buf is the
    // persistent log's entry (the backend's stage, which charges the copy into the entry and its
    // running CRC), so the write that follows only seals and posts it; elsewhere aof_buf is the
    // server's own memory. Under group commit the commands of a batch share one write as one
    // buffer.
    m_core.copy(category::app, n);
    if (m_params.group_commit || !m_aof.stage_last(*m_aof_backend, n))
        m_core.copy(category::app, n);
    end_span(id, phase::log_marshal, t);
    m_open[id].rec.durable_write = true;
    if (m_params.group_commit) {
        m_group_writers.push_back(id);
        return;
    }
    const std::vector<uint32_t> one{id};
    if (!flush_aof(one))
        schedule_close(cl);
}

// write, then sync, of the AOF buffer; the time of each is shared by the commands in it. A failed
// write or sync means the commands are not durable: their clients are closed without the reply
// (Redis 2.8 exits when a write fails under appendfsync always).
bool server::flush_aof(const std::vector<uint32_t>& writers)
{
    // flushAppendOnlyFile's own work around the two calls: the loop's, not a row of its own.
    m_core.run(category::app, m_core.costs().rd_aof_flush);
    const size_t bytes = m_aof.size();
    double t = now_ns();
    const bool wrote = m_aof.write_to(*m_aof_backend);
    spread(writers, phase::write, span(t));
    ++m_stats.aof_writes;
    t = now_ns();
    const bool synced = wrote && m_aof.sync(*m_aof_backend);
    spread(writers, phase::fsync, span(t));
    if (wrote)
        ++m_stats.aof_syncs;
    if (!wrote || !synced) {
        ++m_stats.aof_errors;
        return false;
    }
    m_stats.aof_bytes += bytes;
    return true;
}

void server::before_sleep()
{
    if (m_params.group_commit && !m_group_writers.empty()) {
        const bool ok = flush_aof(m_group_writers);
        if (!ok) {
            for (uint32_t id : m_group_writers) {
                const auto it = m_clients.find(m_open[id].fd);
                if (it != m_clients.end() && !m_open[id].abandoned)
                    schedule_close(*it->second);
            }
        }
        m_group_writers.clear();
        close_pending();
    }
    if (!m_params.reply_on_writable) {
        // handleClientsWithPendingWrites.
        for (int fd : m_pending_writes) {
            const auto it = m_clients.find(fd);
            if (it == m_clients.end() || it->second->closing)
                continue;
            it->second->pending_write = false;
            write_to(*it->second);
        }
        m_pending_writes.clear();
        close_pending();
    }
}

void server::write_to(client& cl)
{
    const double t0 = now_ns();
    const uint64_t old_pos = cl.reply_base + cl.rpos;
    size_t sent = 0;
    bool failed = false;
    while (cl.rpos < cl.reply.size() && sent < m_params.max_write_per_event) {
        const long n = m_api.send(cl.fd, reinterpret_cast<const uint8_t*>(cl.reply.data()) + cl.rpos,
                                  cl.reply.size() - cl.rpos);
        if (n == -EAGAIN) {
            ++m_stats.send_would_block;
            break;
        }
        if (n < 0) {
            ++m_stats.write_errors;
            failed = true;
            break;
        }
        cl.rpos += static_cast<size_t>(n);
        sent += static_cast<size_t>(n);
        m_stats.bytes_out += static_cast<uint64_t>(n);
    }
    const uint64_t stream_pos = cl.reply_base + cl.rpos;
    const bool drained = cl.rpos == cl.reply.size();
    if (drained) {
        cl.reply_base += cl.reply.size();
        cl.reply.clear();
        cl.rpos = 0;
    }
    if (!failed) {
        // The writable event stays only while bytes wait (sendReplyToClient removes it when the
        // buffer is empty; a blocked direct write installs it).
        if (drained && cl.writable_registered) {
            m_api.epoll_ctl(m_ep, os::net::epoll_op::mod, cl.fd, ep::in, static_cast<uint64_t>(cl.fd));
            cl.writable_registered = false;
        } else if (!drained && !cl.writable_registered) {
            m_api.epoll_ctl(m_ep, os::net::epoll_op::mod, cl.fd, ep::in | ep::out, static_cast<uint64_t>(cl.fd));
            cl.writable_registered = true;
        }
    }
    cl.carry[static_cast<unsigned>(phase::send)] += span(t0);
    // The requests whose replies this write carried bytes of are served by this iteration.
    for (uint32_t id : cl.requests) {
        open_request& o = m_open[id];
        if (o.reply_start >= stream_pos)
            break;
        if (o.reply_end > old_pos && o.sent_mark != m_stats.iterations) {
            o.sent_mark = m_stats.iterations;
            m_iter_sent.push_back(id);
        }
    }
    std::vector<uint32_t> completed;
    while (!cl.requests.empty() && m_open[cl.requests.front()].reply_end <= stream_pos) {
        const uint32_t id = cl.requests.front();
        cl.requests.pop_front();
        m_open[id].done = true;
        m_open[id].rec.done_ns = now_ns();
        completed.push_back(id);
        m_iter_done.push_back(id);
    }
    if (!completed.empty()) {
        spread(completed, phase::send, cl.carry[static_cast<unsigned>(phase::send)]);
        cl.carry[static_cast<unsigned>(phase::send)] = 0;
    }
    if (failed || (drained && cl.close_after_reply))
        schedule_close(cl);
}

void server::schedule_close(client& cl)
{
    if (cl.closing)
        return;
    cl.closing = true;
    m_to_close.push_back(cl.fd);
}

void server::close_pending()
{
    for (int fd : m_to_close) {
        const auto it = m_clients.find(fd);
        if (it == m_clients.end())
            continue;
        client& cl = *it->second;
        for (uint32_t id : cl.requests) {
            m_open[id].abandoned = true;
            m_iter_abandoned.push_back(id);
            ++m_stats.abandoned;
        }
        for (double v : cl.carry)
            m_stats.unattributed_ns += v;
        m_api.epoll_ctl(m_ep, os::net::epoll_op::del, fd, 0, 0);   // aeDeleteFileEvent
        m_api.close(fd);
        m_clients.erase(it);
        ++m_stats.closed;
    }
    m_to_close.clear();
}

// The iteration's epoll wait and its unmeasured time ("other": the loop's bookkeeping, event
// dispatch, accepts, closes) are shared by the requests it served: those it parsed, or else those
// whose replies it finished sending. Finished requests become records.
void server::end_iteration(double started)
{
    const double total = now_ns() - started;
    m_stats.loop_ns += total + m_iter_irq;
    const double other = total - m_iter_measured;
    std::vector<uint32_t> served;
    for (uint32_t id : m_iter_parsed)
        if (!m_open[id].abandoned)
            served.push_back(id);
    if (served.empty())
        for (uint32_t id : m_iter_sent)
            if (!m_open[id].abandoned)
                served.push_back(id);
    spread(served, phase::epoll, m_iter_epoll);
    // The network's interrupt work in the iteration received requests and cleaned up after sent
    // replies: it is shared by every request the iteration parsed or finished sending.
    if (m_iter_irq > 0) {
        std::vector<uint32_t> touched;
        for (uint32_t id : m_iter_parsed)
            if (!m_open[id].abandoned)
                touched.push_back(id);
        for (uint32_t id : m_iter_sent)
            if (!m_open[id].abandoned && std::find(m_iter_parsed.begin(), m_iter_parsed.end(), id) == m_iter_parsed.end())
                touched.push_back(id);
        spread(touched, phase::epoll, m_iter_irq);
    }
    spread(served, phase::other, other);
    for (uint32_t id : m_iter_done) {
        open_request& o = m_open[id];
        o.rec.total_ns = std::accumulate(o.rec.ns.begin(), o.rec.ns.end(), 0.0);
        if (m_keep_records)
            m_records.push_back(o.rec);
        ++m_stats.finished;
        m_free.push_back(id);
    }
    for (uint32_t id : m_iter_abandoned) {
        const open_request& o = m_open[id];
        m_stats.unattributed_ns += std::accumulate(o.rec.ns.begin(), o.rec.ns.end(), 0.0);
        m_free.push_back(id);
    }
    m_iter_parsed.clear();
    m_iter_sent.clear();
    m_iter_done.clear();
    m_iter_abandoned.clear();
    m_iter_measured = 0;
    m_iter_epoll = 0;
    m_iter_irq = 0;
}

} // namespace iovsim::workloads::redis
