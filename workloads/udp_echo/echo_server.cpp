#include "workloads/udp_echo/echo_server.h"

#include <stdexcept>
#include <vector>

namespace iovsim::workloads {

using os::category;

void echo_server_posix(os::cpu_core& core, os::net::socket_api& api, uint16_t port, size_t max_payload)
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
        core.run(category::app, core.costs().app_echo);
        const os::request_id served = core.request();
        api.sendto(fd, buf.data(), static_cast<size_t>(n), from);
        core.acct().close(served);
    }
}

void echo_server_native(os::cpu_core& core, os::dataplane::native_udp& api, uint16_t port)
{
    const bool bound = api.bind(port, [&core, &api, port](os::net::pkt& p, const os::net::udp_meta& m) {
        core.run(category::app, core.costs().app_echo);
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
