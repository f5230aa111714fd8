#include "workloads/redis/params.h"

#include "sim/config.h"

namespace iovsim::workloads::redis {

void declare(cfg::schema& s)
{
    s.add_int("workload.redis.port", 6379, 1, 65535, "", "the server's TCP port (Redis default)");
    s.add_int("workload.redis.keys", 65536, 1, 1 << 26, "", "keys drawn uniformly by the load generator (Arrakis paper section 5.2: 65,536)");
    s.add_int("workload.redis.value_bytes", 1024, 8, 1 << 20, "B", "value size of every key (the paper: 1,024 B)");
    s.add_real("workload.redis.get_fraction", 1.0, 0, 1, "",
               "share of GETs in the mix; the rest are SETs (Table 2: 1 for the read columns, 0 for the write columns)");
    s.add_int("workload.redis.connections", 1600, 1, 30000, "",
              "client connections, one request outstanding each (the paper: 1,600 from 16 client processes)");
    s.add_int("workload.redis.connect_window", 64, 1, 30000, "", "handshakes the load generator has in progress at once");
    s.add_bool("workload.redis.preload", true, "the store holds every key at start-up (as if loaded from an RDB file), so GETs hit");
    s.add_real("workload.redis.drain_us", 100'000, 1, 1e9, "us",
               "silence after which the load generator gives up its outstanding requests (below TCP's 200 ms minimum "
               "RTO; 1,600 requests queued at a server take ~12 ms on the Linux-like path)");
    s.add_real("workload.redis.connect_timeout_us", 4e6, 1, 1e9, "us",
               "silence while connections open after which the load generator gives up the handshakes in progress (a "
               "SYN dropped on a full backlog is sent again after 1 s, then 3 s)");
    s.add_real("workload.redis.start_gap_ns", 1000, 0, 1e9, "ns",
               "between the connections' first requests once all are open (1,600 back to back would overrun the "
               "client's 512-descriptor transmit ring; a 1 KB SET takes ~0.9 us on the 10 Gb/s wire)");
    s.add_int("workload.redis.max_clients", 10000, 1, 1 << 20, "", "maxclients (Redis default)");
    s.add_int("workload.redis.max_query_buffer_mb", 1024, 1, 1 << 20, "MiB",
              "a client whose query buffer grows past this is closed (REDIS_MAX_QUERYBUF_LEN, 1 GB)");
    s.add_bool("workload.redis.aof", true, "append-only file on, appendfsync always: a write is durable before its reply");
    s.add_bool("workload.redis.aof_group_commit", false,
               "write and sync the AOF once per event-loop iteration for all its write commands (Redis's beforeSleep "
               "flush) instead of once per command (Table 2 counts one fsync per SET)");
    s.add_bool("workload.redis.receive_in_epoll", true,
               "time the network's receive work in interrupt context (the interrupt, NAPI, protocol input, readiness "
               "callbacks and wake-ups) as the epoll row of the requests the iteration serves, whichever call it interrupted: "
               "the receive work of the requests epoll reports (Table 2's Linux epoll row holds it); transmit work in "
               "interrupt context (ACKs, completions) stays where it ran; false: wall clock only");
    s.add_bool("workload.redis.reply_on_writable", true,
               "Redis 2.8: a reply goes out when epoll reports the socket writable (the writable event installed by "
               "the first reply, removed once the buffer is empty); false: written directly before the next "
               "epoll_wait (Redis 3.2+)");
}

server_params server_params_of(const cfg::config& c)
{
    server_params p;
    p.port = static_cast<uint16_t>(c.get_int("workload.redis.port"));
    p.max_clients = static_cast<unsigned>(c.get_int("workload.redis.max_clients"));
    p.max_events = p.max_clients + 128;
    p.max_query_buffer = static_cast<size_t>(c.get_int("workload.redis.max_query_buffer_mb")) << 20;
    p.aof = c.get_bool("workload.redis.aof");
    p.group_commit = c.get_bool("workload.redis.aof_group_commit");
    p.reply_on_writable = c.get_bool("workload.redis.reply_on_writable");
    p.receive_in_epoll = c.get_bool("workload.redis.receive_in_epoll");
    return p;
}

client_params client_params_of(const cfg::config& c)
{
    client_params p;
    p.server_port = static_cast<uint16_t>(c.get_int("workload.redis.port"));
    p.connections = static_cast<unsigned>(c.get_int("workload.redis.connections"));
    p.connect_window = static_cast<unsigned>(c.get_int("workload.redis.connect_window"));
    p.keys = static_cast<uint32_t>(c.get_int("workload.redis.keys"));
    p.value_bytes = static_cast<uint32_t>(c.get_int("workload.redis.value_bytes"));
    p.get_fraction = c.get_real("workload.redis.get_fraction");
    p.preloaded = c.get_bool("workload.redis.preload");
    p.drain_us = c.get_real("workload.redis.drain_us");
    p.connect_timeout_us = c.get_real("workload.redis.connect_timeout_us");
    p.start_gap_ns = c.get_real("workload.redis.start_gap_ns");
    return p;
}

} // namespace iovsim::workloads::redis
