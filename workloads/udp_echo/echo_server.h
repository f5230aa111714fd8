#pragma once
// The UDP echo server: one source for the Linux-like path and Arrakis/P (POSIX sockets), and the
// Arrakis/N variant on the native zero-copy interface (the reply is the received buffer).
#include <cstdint>

#include "os/core/cpu_core.h"
#include "os/dataplane/native_udp.h"
#include "os/net/socket_api.h"

namespace iovsim::workloads {

// Runs forever (the simulation ends it). `max_payload` sizes the user buffer.
void echo_server_posix(os::cpu_core& core, os::net::socket_api& api, uint16_t port, size_t max_payload);
void echo_server_native(os::cpu_core& core, os::dataplane::native_udp& api, uint16_t port);

} // namespace iovsim::workloads
