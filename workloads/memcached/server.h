#pragma once
// A memcached-like server over UDP (memcached's UDP mode, binary protocol): one datagram in, one
// out. One source for the Linux-like path and Arrakis/P, through the POSIX socket calls. The
// work between recvfrom and sendto (parse, hash-table lookup or store, preparing the response)
// runs as real code and charges its cost primitives (platform.cost.memcached.*) to `app`.
#include <cstdint>
#include <vector>

#include "os/core/cpu_core.h"
#include "os/net/socket_api.h"
#include "workloads/memcached/protocol.h"
#include "workloads/memcached/store.h"

namespace iovsim::workloads::mc {

struct server_stats {
    uint64_t requests = 0, gets = 0, hits = 0, misses = 0, sets = 0;
    uint64_t malformed = 0;    // dropped without an answer (memcached drops bad UDP frames)
    uint64_t unknown = 0;      // answered unknown_command
    uint64_t bytes_out = 0;    // response bytes handed to sendto
};

class server {
public:
    server(os::cpu_core& core, os::net::socket_api& api, uint16_t port, size_t max_datagram = 1472);

    // Serves forever (the simulation ends it). Throws std::runtime_error when the port cannot be bound.
    void run();
    // One request in `req`: the response in `resp` (its length; 0 for none). Charges the core.
    size_t handle(const uint8_t* req, size_t len, uint8_t* resp, size_t cap);

    const server_stats& stats() const { return m_stats; }
    const store& table() const { return m_store; }

private:
    os::cpu_core& m_core;
    os::net::socket_api& m_api;
    uint16_t m_port;
    std::vector<uint8_t> m_in, m_out;
    store m_store;
    server_stats m_stats;
};

} // namespace iovsim::workloads::mc
