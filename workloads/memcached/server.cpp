#include "workloads/memcached/server.h"

#include <stdexcept>
#include <string>

namespace iovsim::workloads::mc {

using os::category;

server::server(os::cpu_core& core, os::net::socket_api& api, uint16_t port, size_t max_datagram)
    : m_core(core), m_api(api), m_port(port), m_in(max_datagram), m_out(max_datagram),
      m_store(256, max_datagram - udp_header_len - header_len - get_extras_len)
{
}

size_t server::handle(const uint8_t* req, size_t len, uint8_t* resp, size_t cap)
{
    const os::cost_model& c = m_core.costs();
    // The counters move together, before any charge: a charge may end the simulation (the run's
    // time limit), and a request is then counted with its kind or not at all.
    ++m_stats.requests;
    message m;
    const bool parsed = parse_request(req, len, m) == parse_error::none;
    const auto op = parsed ? static_cast<opcode>(m.h.op) : opcode::get;   // the header is read only when parsed
    ++(!parsed ? m_stats.malformed : op == opcode::get ? m_stats.gets : op == opcode::set ? m_stats.sets : m_stats.unknown);
    m_core.run(category::app, c.mc_parse);
    if (!parsed)
        return 0;
    size_t n = 0;
    switch (op) {
    case opcode::get: {
        m_core.run(category::app, c.mc_lookup);
        const store::item* it = m_store.get(m.key, m.h.key_len);
        m_core.run(category::app, c.mc_prepare);
        if (it == nullptr) {
            ++m_stats.misses;
            static const char not_found[] = "Not found";
            n = build_response(resp, cap, m, status::key_not_found, 0, nullptr, 0,
                               reinterpret_cast<const uint8_t*>(not_found), sizeof not_found - 1);
            break;
        }
        ++m_stats.hits;
        uint8_t flags[get_extras_len];
        put_be32(flags, it->flags);
        // The value goes into the reply datagram: one copy (memcached hands sendmsg an iovec
        // pointing at the item; with one buffer per sendto the copy is the application's).
        m_core.copy(category::app, it->value.size());
        n = build_response(resp, cap, m, status::ok, it->cas, flags, sizeof flags, it->value.data(), it->value.size());
        break;
    }
    case opcode::set: {
        m_core.run(category::app, c.mc_lookup);
        m_core.run(category::app, c.mc_store);
        m_core.copy(category::app, m.value_len);
        const uint64_t cas = m_store.set(m.key, m.h.key_len, m.value, m.value_len, get_be32(m.extras));
        m_core.run(category::app, c.mc_prepare);
        n = build_response(resp, cap, m, cas ? status::ok : status::value_too_large, cas, nullptr, 0, nullptr, 0);
        break;
    }
    default:
        m_core.run(category::app, c.mc_prepare);
        n = build_response(resp, cap, m, status::unknown_command, 0, nullptr, 0, nullptr, 0);
        break;
    }
    m_stats.bytes_out += n;
    return n;
}

void server::run()
{
    const int fd = m_api.udp_socket();
    if (fd < 0 || m_api.bind(fd, m_port) != 0)
        throw std::runtime_error("memcached server: cannot bind UDP port " + std::to_string(m_port));
    for (;;) {
        os::net::sock_addr from;
        const long len = m_api.recvfrom(fd, m_in.data(), m_in.size(), from);
        if (len < 0)
            continue;
        const os::request_id served = m_core.request();
        const size_t n = handle(m_in.data(), static_cast<size_t>(len), m_out.data(), m_out.size());
        if (n > 0)
            m_api.sendto(fd, m_out.data(), n, from);
        m_core.acct().close(served);
    }
}

} // namespace iovsim::workloads::mc
