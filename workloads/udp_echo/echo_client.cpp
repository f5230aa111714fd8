#include "workloads/udp_echo/echo_client.h"

#include <cstring>

namespace iovsim::workloads {

using namespace sc_core;

echo_client::echo_client(os::dataplane::dataplane& dp, os::dataplane::native_udp& udp,
                         const echo_client_params& params, std::function<void()> on_done)
    : m_dp(dp), m_udp(udp), m_params(params), m_on_done(std::move(on_done)), m_rng(params.seed)
{
    if (params.requests != echo_client_params::endless)
        m_latencies.reserve(params.requests);
    m_pattern.resize(params.payload_bytes);
    for (uint32_t i = 0; i < params.payload_bytes; ++i)
        m_pattern[i] = static_cast<uint8_t>(i * 7 + 1);
}

void echo_client::send_one()
{
    os::net::pkt p;
    if (!m_dp.pool().alloc(p))
        return;
    const uint64_t seq = m_sent++;
    const uint64_t stamp = m_dp.core().local_time().value();   // picoseconds
    uint8_t* b = p.bytes();
    std::memcpy(b, m_pattern.data(), m_params.payload_bytes);
    std::memcpy(b, &seq, 8);
    std::memcpy(b + 8, &stamp, 8);
    p.len = m_params.payload_bytes;
    ++m_in_flight;
    m_udp.send(p, m_params.port, m_params.server, m_params.server_port);
}

void echo_client::on_reply(os::net::pkt& p)
{
    if (p.len < 16) {
        ++m_bad;
        m_udp.release(p);
        return;
    }
    uint64_t seq, stamp;
    std::memcpy(&seq, p.bytes(), 8);
    std::memcpy(&stamp, p.bytes() + 8, 8);
    m_udp.release(p);
    if (m_in_flight > 0)   // a reply that comes after its slot was given up frees nothing
        --m_in_flight;
    ++m_received;
    const double latency = static_cast<double>(m_dp.core().local_time().value() - stamp) / 1000.0;
    if (seq >= m_params.warmup && seq < m_params.warmup + m_params.requests && m_params.requests != echo_client_params::endless)
        m_latencies.push_back(latency);
}

void echo_client::run()
{
    if (!m_udp.bind(m_params.port, [this](os::net::pkt& p, const os::net::udp_meta&) { on_reply(p); }))
        throw std::runtime_error("echo client: cannot bind its port");
    const uint64_t total = m_params.warmup + m_params.requests + m_params.tail;
    const uint64_t needed = m_params.warmup + m_params.requests;
    std::exponential_distribution<double> think(m_params.think_us > 0 ? 1.0 / m_params.think_us : 1.0);
    std::exponential_distribution<double> gap(m_params.rate_kpps > 0 ? m_params.rate_kpps / 1000.0 : 1.0);
    const bool open_loop = m_params.rate_kpps > 0;
    m_next_send = SC_ZERO_TIME;
    // The first request goes alone and the load starts with its reply: it resolves the path (ARP)
    // the way a load generator's priming request does, so that a window larger than the stack's
    // queue for unresolved neighbours does not lose requests at start.
    auto window_open = [&]() { return m_received > 0 || m_in_flight == 0; };
    // Open loop does not wait for a reply before sending the next: a request lost to overload is
    // given up once everything is sent and nothing has come back for drain_time. Closed loop, once
    // everything is sent, gives up the requests in flight when nothing has come back for
    // drain_time (a lost request stalls a closed loop only when the whole window is lost).
    const sc_time drain_time(1, SC_MS);
    sc_time last_progress = SC_ZERO_TIME;
    while (m_latencies.size() < m_params.requests || m_received < needed) {
        const sc_time now = m_dp.core().local_time();
        if (open_loop && m_sent == total && now > last_progress + drain_time)
            break;
        if (!open_loop && m_in_flight > 0 && now > last_progress + drain_time) {
            m_given_up += m_in_flight;
            m_in_flight = 0;
            last_progress = now;
        }
        if (!open_loop && m_sent == total && m_in_flight == 0)
            break;   // nothing more can come back
        const bool may_send = window_open() && (open_loop || m_in_flight < m_params.outstanding);
        if (m_sent < total && now >= m_next_send && may_send) {
            send_one();
            last_progress = now;
            if (open_loop)
                m_next_send = now + sc_time(gap(m_rng), SC_US);
            continue;
        }
        if (m_dp.poll() > 0) {
            last_progress = m_dp.core().local_time();
            if (!open_loop && m_params.think_us > 0)
                m_next_send = m_dp.core().local_time() + sc_time(think(m_rng), SC_US);
            continue;
        }
        const bool can_send_later = m_sent < total && may_send;
        if (can_send_later && m_next_send > now)
            m_dp.wait_rx_until(m_next_send);
        else if (open_loop || m_sent == total)
            m_dp.wait_rx_until(last_progress + drain_time);
        else
            m_dp.wait_rx();   // no timed wake-up per request: a timeout costs a scheduler event each wait
    }
    if (m_on_done)
        m_on_done();
}

} // namespace iovsim::workloads
