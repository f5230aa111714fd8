#include "workloads/redis/client.h"

#include <algorithm>
#include <stdexcept>

#include "workloads/redis/keyspace.h"
#include "workloads/redis/resp.h"

namespace iovsim::workloads::redis {

using namespace sc_core;
namespace ready = os::net::tcp_ready;

client::client(os::dataplane::dataplane& dp, os::net::tcp_layer& tcp, const client_params& params,
               std::function<void()> on_done)
    : m_dp(dp), m_tcp(tcp), m_params(params), m_on_done(std::move(on_done)), m_rng(params.seed),
      m_conns(params.connections), m_keys(params.keys), m_rx(64 * 1024)
{
    if (params.connections == 0 || params.keys == 0 || params.connect_window == 0)
        throw std::invalid_argument("redis client: connections, keys and connect_window must be positive");
    if (params.value_bytes < min_value_bytes)
        throw std::invalid_argument("redis client: value_bytes must be at least 8");
    if (params.preloaded)
        for (key_state& k : m_keys)
            k.present = true;
    m_latencies.reserve(params.requests);
    m_tcp.set_notify([this](os::net::tcp_id id, uint32_t) { on_ready(id); });
}

void client::on_ready(os::net::tcp_id id)
{
    const auto it = m_by_id.find(id);
    if (it == m_by_id.end())
        return;
    conn& c = m_conns[it->second];
    if (!c.queued) {
        c.queued = true;
        m_ready.push_back(it->second);
    }
}

bool client::may_send() const { return m_stats.sent < m_params.warmup + m_params.requests + m_params.tail; }

void client::open_more()
{
    while (m_opened < m_params.connections && m_connecting < m_params.connect_window) {
        conn& c = m_conns[m_opened];
        const os::net::tcp_id id = m_tcp.connect(m_params.server, m_params.server_port);
        if (id == 0) {
            c.state = conn_state::failed;
            ++m_stats.connect_failures;
            ++m_opened;
            continue;
        }
        c.id = id;
        c.state = conn_state::connecting;
        m_by_id[id] = m_opened;
        ++m_opened;
        ++m_connecting;
    }
}

void client::run()
{
    os::cpu_core& core = m_dp.core();
    m_start = m_last_progress = core.local_time();
    const sc_time drain(m_params.drain_us, SC_US);
    // While connections are opening, silence may be a dropped SYN waiting for its retransmission
    // (1 s, then 3 s: RFC 6298 section 5.7); the load has not started, so nothing else is lost.
    const sc_time connect_limit(m_params.connect_timeout_us, SC_US);
    open_more();
    for (;;) {
        while (!m_ready.empty()) {
            std::vector<uint32_t> batch;
            batch.swap(m_ready);
            for (uint32_t i : batch) {
                m_conns[i].queued = false;
                service(m_conns[i]);
            }
        }
        if (m_started)
            start_some();
        const bool all_opened = m_opened == m_params.connections && m_connecting == 0;
        if (!may_send() && m_outstanding == 0 && all_opened)
            break;
        const sc_time now = core.local_time();
        const sc_time limit = m_started ? drain : connect_limit;
        if (now >= m_last_progress + limit) {
            // Nothing came back for drain time: what is outstanding will not.
            for (conn& c : m_conns)
                if (c.outstanding || c.state == conn_state::connecting)
                    fail(c, c.state == conn_state::connecting, false);
            break;
        }
        if (m_dp.poll() > 0 || !m_ready.empty())
            continue;
        const sc_time before = core.local_time();
        sc_time until = m_last_progress + limit;
        if (m_started && m_start_pos < m_to_start.size() && m_next_start < until)
            until = m_next_start;
        m_dp.wait_rx_until(until);
        if (m_started)
            m_wait_ns += (core.local_time() - before).to_seconds() * 1e9;
    }
    m_end = core.local_time();
    m_finished = true;
    if (m_on_done)
        m_on_done();
}

void client::service(conn& c)
{
    const uint32_t r = m_tcp.ready(c.id);
    if (c.state == conn_state::connecting) {
        if (r & (ready::err | ready::hup)) {
            fail(c, true);
            return;
        }
        if (!(r & ready::out))
            return;
        c.state = conn_state::ready;
        --m_connecting;
        ++m_stats.connected;
        m_last_progress = m_dp.core().local_time();
        open_more();
        start_if_connected();
    }
    if (c.state != conn_state::ready)
        return;
    if (r & ready::in)
        read_replies(c);
    if (c.state != conn_state::ready)
        return;
    if (r & ready::err) {
        fail(c, false);
        return;
    }
    if (c.out_pos < c.out.size() && (r & ready::out))
        flush(c);
    if ((r & (ready::hup | ready::rdhup)) && !(r & ready::in))
        fail(c, false);   // the server closed the connection
}

// The load starts once every connection is open (or has failed): all of them then carry a
// request, as the paper's 1,600 connections did throughout its measurements.
void client::start_if_connected()
{
    if (m_started || m_opened < m_params.connections || m_connecting > 0)
        return;
    m_started = true;
    m_connected_at = m_next_start = m_dp.core().local_time();
    for (uint32_t i = 0; i < m_conns.size(); ++i)
        if (m_conns[i].state == conn_state::ready && !m_conns[i].outstanding)
            m_to_start.push_back(i);
    start_some();
}

// The first requests leave start_gap apart: all at once, 1,600 SETs would overrun the client's
// transmit ring (512 descriptors) faster than the wire drains it, and the frames it refuses are
// lost until TCP's retransmission timeout.
void client::start_some()
{
    const sc_time now = m_dp.core().local_time();
    while (m_start_pos < m_to_start.size() && now >= m_next_start) {
        conn& c = m_conns[m_to_start[m_start_pos++]];
        if (c.state != conn_state::ready || c.outstanding || !may_send())
            continue;
        send_request(c);
        m_next_start += sc_time(m_params.start_gap_ns, SC_NS);
    }
}

void client::send_request(conn& c)
{
    os::cpu_core& core = m_dp.core();
    core.run(os::category::app, core.costs().rd_client);
    std::uniform_int_distribution<uint32_t> pick(0, m_params.keys - 1);
    std::bernoulli_distribution is_get(m_params.get_fraction);
    c.key = pick(m_rng);
    c.is_get = is_get(m_rng);
    key_state& ks = m_keys[c.key];
    const std::string key = key_name(c.key);
    c.out.clear();
    c.out_pos = 0;
    if (c.is_get) {
        c.exact = ks.sets_in_flight == 0 && !ks.uncertain;
        c.expect_version = ks.acked;
        c.issued_at_send = ks.issued;
        c.present_at_send = ks.present;
        append_command(c.out, {"GET", key});
        ++m_stats.gets;
    } else {
        // Two SETs of one key in flight at once may be served in either order: the key's value is
        // uncertain until a SET runs alone.
        ks.uncertain = ks.sets_in_flight > 0;
        c.expect_version = ++ks.issued;
        ++ks.sets_in_flight;
        value_of(c.key, c.expect_version, m_params.value_bytes, m_value);
        append_command(c.out, {"SET", key, m_value});
        ++m_stats.sets;
    }
    c.outstanding = true;
    ++m_outstanding;
    ++m_stats.sent;
    c.sent_at = core.local_time();
    flush(c);
}

void client::flush(conn& c)
{
    c.out_pos += m_tcp.send(c.id, reinterpret_cast<const uint8_t*>(c.out.data()) + c.out_pos, c.out.size() - c.out_pos);
}

void client::read_replies(conn& c)
{
    for (;;) {
        const size_t n = m_tcp.recv(c.id, m_rx.data(), m_rx.size());
        if (n == 0)
            break;
        c.in.append(reinterpret_cast<const char*>(m_rx.data()), n);
    }
    size_t pos = 0;
    while (pos < c.in.size()) {
        reply r;
        const reply_status st = parse_reply(reinterpret_cast<const uint8_t*>(c.in.data()) + pos, c.in.size() - pos,
                                            m_params.value_bytes + 64, r);
        if (st == reply_status::need_more)
            break;
        if (st == reply_status::error || !c.outstanding) {
            ++m_stats.bad_replies;
            fail(c, false);
            return;
        }
        pos += r.bytes;
        key_state& ks = m_keys[c.key];
        bool good = false;
        if (r.type == reply_type::error) {
            ++m_stats.error_replies;
        } else if (c.is_get && r.type == reply_type::null_bulk) {
            ++m_stats.misses;
            good = !c.present_at_send;
        } else if (c.is_get && r.type == reply_type::bulk) {
            ++m_stats.hits;
            uint32_t key = 0, version = 0;
            if (check_value(r.text, m_params.value_bytes, key, version) && key == c.key) {
                // Exact when no SET of the key was in flight or issued while the GET was.
                const bool exact = c.exact && ks.issued == c.issued_at_send;
                good = exact ? version == c.expect_version : version <= ks.issued;
            }
        } else if (!c.is_get && r.type == reply_type::simple && r.text == "OK") {
            good = true;
        } else {
            ++m_stats.bad_replies;
        }
        if (!c.is_get) {
            --ks.sets_in_flight;
            if (good) {
                ks.acked = c.expect_version;
                ks.present = true;
            } else {
                ks.uncertain = true;
            }
        }
        if (c.is_get && !good && r.type != reply_type::error)
            ++m_stats.mismatches;
        complete(c);
    }
    c.in.erase(0, pos);
}

void client::complete(conn& c)
{
    const sc_time now = m_dp.core().local_time();
    c.outstanding = false;
    --m_outstanding;
    const uint64_t index = m_stats.received++;
    m_last_progress = now;
    if (index >= m_params.warmup && index < m_params.warmup + m_params.requests) {
        if (index == m_params.warmup)
            m_measure_start = now;
        m_measure_end = now;
        m_latencies.push_back((now - c.sent_at).to_seconds() * 1e9);
    }
    if (may_send())
        send_request(c);
}

void client::fail(conn& c, bool at_connect, bool reopen)
{
    if (c.state == conn_state::failed)
        return;
    if (at_connect) {
        --m_connecting;
        ++m_stats.connect_failures;
    } else {
        ++m_stats.connection_errors;
    }
    c.state = conn_state::failed;
    if (c.outstanding) {
        c.outstanding = false;
        --m_outstanding;
        ++m_stats.given_up;
        if (!c.is_get) {
            --m_keys[c.key].sets_in_flight;
            m_keys[c.key].uncertain = true;
        }
    }
    m_tcp.abort(c.id);
    if (at_connect && reopen) {
        open_more();
        start_if_connected();
    }
}

double client::measured_ktps() const
{
    const double span_s = (m_measure_end - m_measure_start).to_seconds();
    if (m_latencies.size() < 2 || span_s <= 0)
        return 0;
    return static_cast<double>(m_latencies.size() - 1) / span_s / 1000.0;
}

double client::busy_fraction() const
{
    const double total = m_started ? (m_end - m_connected_at).to_seconds() * 1e9 : 0;
    return total > 0 ? 1.0 - m_wait_ns / total : 0;
}

} // namespace iovsim::workloads::redis
