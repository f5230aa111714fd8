#include "workloads/udp_echo/echo_server.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace iovsim::workloads {

using os::category;

namespace {

// The echo's own work, and the application's on top of it.
void serve(os::cpu_core& core, double processing_ns)
{
    core.run(category::app, core.costs().app_echo);
    if (processing_ns > 0)
        core.charge_ns(category::app, processing_ns);
}

} // namespace

void echo_server_posix(os::cpu_core& core, os::net::socket_api& api, uint16_t port, size_t max_payload, double processing_ns)
{
    const int fd = api.udp_socket();
    if (fd < 0 || api.bind(fd, port) != 0)
        throw std::runtime_error("echo server: cannot bind UDP port " + std::to_string(port));
    std::vector<uint8_t> buf(max_payload);
    for (;;) {
        os::net::sock_addr from;
        const long n = api.recvfrom(fd, buf.data(), buf.size(), from);
        if (n < 0)
            continue;
        serve(core, processing_ns);
        const os::request_id served = core.request();
        api.sendto(fd, buf.data(), static_cast<size_t>(n), from);
        core.acct().close(served);
    }
}

void echo_server_native(os::cpu_core& core, os::dataplane::native_udp& api, uint16_t port, double processing_ns)
{
    const bool bound = api.bind(port, [&core, &api, port, processing_ns](os::net::pkt& p, const os::net::udp_meta& m) {
        serve(core, processing_ns);
        const os::request_id served = core.request();
        api.send(p, port, m.src, m.sport);
        core.acct().close(served);
    });
    if (!bound)
        throw std::runtime_error("echo server: cannot bind UDP port " + std::to_string(port));
    for (;;)
        api.run_once();
}

} // namespace iovsim::workloads

namespace iovsim::workloads {

void echo_server_driver(os::cpu_core& core, os::dataplane::dataplane& dp, uint16_t port, double processing_ns)
{
    dp.set_driver_hook([&core, &dp, port, processing_ns](os::net::pkt& p) {
        uint8_t* f = p.bytes();
        const size_t eth = wire::eth_header_len;
        if (p.len < eth + wire::ipv4_min_header_len + wire::udp_header_len || wire::load_be16(f + 12) != wire::eth_type::ipv4)
            return false;
        uint8_t* ip = f + eth;
        const size_t ihl = (ip[0] & 0x0f) * 4u;
        if ((ip[0] >> 4) != 4 || ihl < wire::ipv4_min_header_len || ip[9] != wire::ip_proto::udp ||
            p.len < eth + ihl + wire::udp_header_len)
            return false;
        uint8_t* udp = ip + ihl;
        if (wire::load_be16(udp + 2) != port)
            return false;
        serve(core, processing_ns);
        const os::request_id served = core.request();
        std::swap_ranges(f, f + 6, f + 6);            // destination and source MAC
        std::swap_ranges(ip + 12, ip + 16, ip + 16);  // source and destination address
        std::swap_ranges(udp, udp + 2, udp + 2);      // source and destination port
        dp.send_frame(p);
        core.acct().close(served);
        return true;
    });
    for (;;) {
        if (dp.poll() == 0)
            dp.wait_rx();
    }
}

} // namespace iovsim::workloads
