#pragma once
// A packet buffer in simulated physical memory, as a driver and a stack see it: where the buffer is,
// which bytes are the packet, and which request it belongs to (software bookkeeping, like an skb's
// fields). The stack moves `off`/`len` as it strips or prepends headers.
#include <cstdint>

#include "os/core/accounting.h"

namespace iovsim::os::net {

struct pkt {
    uint64_t pa = 0;            // physical address of the buffer's first byte
    uint8_t* data = nullptr;    // the same bytes, as the CPU sees them
    uint32_t capacity = 0;
    uint32_t off = 0;           // first byte of the current layer
    uint32_t len = 0;           // bytes from off
    uint32_t buf_id = 0;        // owner's index of the buffer (pool slot)
    request_id request = no_request;

    uint8_t* bytes() const { return data + off; }
    uint64_t bytes_pa() const { return pa + off; }
};

constexpr uint32_t headroom = 64;   // room for Ethernet + IPv4 + UDP/TCP headers in front of a payload

} // namespace iovsim::os::net
