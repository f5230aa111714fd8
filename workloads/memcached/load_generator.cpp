#include "workloads/memcached/load_generator.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "workloads/memcached/protocol.h"

namespace iovsim::workloads::mc {

using namespace sc_core;

namespace {

// Key i: "key-000042" padded with 'k' to key_bytes.
void key_of(uint32_t i, uint8_t* out, unsigned key_bytes)
{
    char head[16];
    const int n = std::snprintf(head, sizeof head, "key-%06u", i);
    for (unsigned b = 0; b < key_bytes; ++b)
        out[b] = b < static_cast<unsigned>(n) ? static_cast<uint8_t>(head[b]) : 'k';
}

} // namespace

load_generator::load_generator(os::dataplane::dataplane& dp, os::dataplane::native_udp& udp, const load_params& params,
                               std::function<void()> on_done)
    : m_dp(dp), m_udp(udp), m_params(params), m_on_done(std::move(on_done)), m_rng(params.seed)
{
    if (params.keys == 0 || params.key_bytes < 10 || params.key_bytes > max_key_len || params.value_bytes < 4)
        throw std::invalid_argument("memcached load: keys > 0, key_bytes in [10, 250] and value_bytes >= 4");
    for (uint32_t k = 0; k < params.keys; ++k)
        m_preload.push_back(k);
    m_value.resize(params.value_bytes);
    for (uint32_t i = 0; i < params.value_bytes; ++i)
        m_value[i] = static_cast<uint8_t>(i * 13 + 5);
}

void load_generator::send_one(bool preload)
{
    os::net::pkt p;
    if (!m_dp.pool().alloc(p))
        return;
    std::uniform_int_distribution<uint32_t> pick(0, m_params.keys - 1);
    std::bernoulli_distribution is_get(m_params.get_fraction);
    uint32_t key;
    if (preload) {
        key = m_preload.front();
        m_preload.pop_front();
    } else {
        key = pick(m_rng);
    }
    const bool get = !preload && is_get(m_rng);
    uint8_t k[max_key_len];
    key_of(key, k, m_params.key_bytes);
    const uint32_t opaque = m_next_opaque++;
    const size_t cap = p.capacity - p.off;
    size_t n;
    if (get) {
        n = build_get_request(p.bytes(), cap, static_cast<uint16_t>(opaque), opaque, k, m_params.key_bytes);
    } else {
        put_be32(m_value.data(), key);   // the key index leads the value: a GET can check it is this key's
        n = build_set_request(p.bytes(), cap, static_cast<uint16_t>(opaque), opaque, k, m_params.key_bytes, key, 0,
                              m_value.data(), m_value.size());
    }
    if (n == 0) {
        m_udp.release(p);
        throw std::runtime_error("memcached load: a request does not fit a buffer");
    }
    p.len = static_cast<uint32_t>(n);
    const sc_time now = m_dp.core().local_time();
    m_in_flight[opaque] = pending{now, key, get, preload};
    m_deadlines.emplace_back(now + sc_time(m_params.timeout_us, SC_US), opaque);
    ++m_stats.sent;
    ++(get ? m_stats.gets : m_stats.sets);
    m_udp.send(p, m_params.port, m_params.server, m_params.server_port);
}

void load_generator::on_response(os::net::pkt& p)
{
    message m;
    const parse_error e = parse_response(p.bytes(), p.len, m);
    auto it = e == parse_error::none ? m_in_flight.find(m.h.opaque) : m_in_flight.end();
    if (it == m_in_flight.end() || m.h.op != (it->second.get ? 0x00 : 0x01)) {
        ++m_stats.bad;
        m_udp.release(p);
        return;
    }
    const pending req = it->second;
    m_in_flight.erase(it);
    const auto st = static_cast<status>(m.h.vbucket_or_status);
    bool good = st == status::ok;
    if (req.get) {
        if (st == status::ok)
            good = m.value_len == m_params.value_bytes && get_be32(m.value) == req.key;
        else if (st == status::key_not_found)
            good = true;
        if (good)
            ++(st == status::ok ? m_stats.hits : m_stats.misses);
    }
    const size_t bytes = p.len;
    m_udp.release(p);
    if (!good) {
        ++m_stats.bad;
        return;
    }
    ++m_stats.received;
    if (req.preload)
        ++m_stored;
    const sc_time now = m_dp.core().local_time();
    if (in_window(now)) {
        ++m_stats.window_transactions;
        m_stats.window_response_bytes += bytes;
        m_latencies.push_back(static_cast<double>((now - req.sent).value()) / 1000.0);
    }
}

void load_generator::expire(const sc_time& now)
{
    while (!m_deadlines.empty() && m_deadlines.front().first <= now) {
        const auto it = m_in_flight.find(m_deadlines.front().second);
        if (it != m_in_flight.end()) {
            ++m_stats.lost;
            if (it->second.preload)
                m_preload.push_back(it->second.key);
            m_in_flight.erase(it);
        }
        m_deadlines.pop_front();
    }
}

void load_generator::run()
{
    if (!m_udp.bind(m_params.port, [this](os::net::pkt& p, const os::net::udp_meta&) { on_response(p); }))
        throw std::runtime_error("memcached load: cannot bind its port");
    os::cpu_core& core = m_dp.core();
    const bool open_loop = m_params.rate_kpps > 0;
    std::exponential_distribution<double> gap(open_loop ? m_params.rate_kpps / 1000.0 : 1.0);
    sc_time next_send = SC_ZERO_TIME;
    for (;;) {
        const sc_time now = core.local_time();
        expire(now);
        const bool preloading = !m_measuring && m_stored < m_params.keys;
        if (!preloading && !m_measuring) {
            // Every key is stored: the mix starts, the window after the warm-up.
            m_measuring = true;
            m_window_start = now + sc_time(m_params.warmup_us, SC_US);
            m_window_end = m_window_start + sc_time(m_params.measure_us, SC_US);
            next_send = now;
        }
        if (m_measuring && now >= m_window_end)
            break;
        bool may_send;
        if (preloading)
            may_send = !m_preload.empty() && m_in_flight.size() < m_params.outstanding;
        else
            may_send = open_loop ? now >= next_send : m_in_flight.size() < m_params.outstanding;
        if (may_send) {
            send_one(preloading);
            if (open_loop && !preloading)
                next_send = now + sc_time(gap(m_rng), SC_US);
            continue;
        }
        if (m_dp.poll() > 0)
            continue;
        // Sleep until a response, the next send (open loop), a timeout, or the window's end.
        sc_time until = m_measuring ? m_window_end : sc_max_time();
        if (open_loop && m_measuring)
            until = std::min(until, next_send);
        if (!m_deadlines.empty())
            until = std::min(until, m_deadlines.front().first);
        m_dp.wait_rx_until(until);
    }
    m_finished = true;
    if (m_on_done)
        m_on_done();
}

} // namespace iovsim::workloads::mc
