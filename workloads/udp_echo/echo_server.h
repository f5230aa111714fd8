#pragma once
// The UDP echo server: one source for the Linux-like path and Arrakis/P (POSIX sockets), and the
// Arrakis/N variant on the native zero-copy interface (the reply is the received buffer).
#include <cstdint>

#include "os/core/cpu_core.h"
#include "os/dataplane/dataplane.h"
#include "os/dataplane/native_udp.h"
#include "os/net/socket_api.h"

namespace iovsim::workloads {

// Runs forever (the simulation ends it). `max_payload` sizes the user buffer. `processing_ns` is
// the application's own work per request beyond the echo itself (charged as app).
void echo_server_posix(os::cpu_core& core, os::net::socket_api& api, uint16_t port, size_t max_payload,
                       double processing_ns = 0);
void echo_server_native(os::cpu_core& core, os::dataplane::native_udp& api, uint16_t port, double processing_ns = 0);
// The echo inside the VF driver: a UDP frame to `port` is answered from the receive loop, in its own
// buffer, by swapping the Ethernet, IPv4 and UDP source and destination (the checksums stay valid:
// one's-complement sums do not depend on the order). No protocol stack, no socket, no copy: the
// ceiling the hardware and the driver allow. Other frames (ARP) go to the stack.
void echo_server_driver(os::cpu_core& core, os::dataplane::dataplane& dp, uint16_t port, double processing_ns = 0);

} // namespace iovsim::workloads
