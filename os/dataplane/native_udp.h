#pragma once
// Arrakis/N: the native, zero-copy interface. A receive handler gets the DMA buffer itself, payload
// in place; sending hands a buffer (possibly the received one) to the stack, which prepends headers
// in its headroom. Buffers go back to the pool when the device has sent them.
#include <functional>

#include "os/dataplane/dataplane.h"

namespace iovsim::os::dataplane {

class native_udp {
public:
    using handler = std::function<void(net::pkt& p, const net::udp_meta& meta)>;

    explicit native_udp(dataplane& dp) : m_dp(dp), m_core(dp.core()), m_c(dp.core().costs()) {}

    bool bind(uint16_t port, handler h);
    // Sends p's payload window [off, off+len); the buffer belongs to the dataplane afterwards.
    bool send(net::pkt& p, uint16_t sport, wire::ipv4_addr dst, uint16_t dport);
    void release(net::pkt& p) { m_dp.pool().free(p); }
    // Runs the event loop once: poll, or sleep until a frame is ready.
    void run_once();

private:
    dataplane& m_dp;
    cpu_core& m_core;
    const cost_model& m_c;
};

} // namespace iovsim::os::dataplane
