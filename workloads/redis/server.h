#pragma once
// A Redis-like server (Redis 2.8's structure): one thread, one level-triggered epoll set over
// non-blocking TCP sockets (os/net/stream_api.h, served by the Linux-like kernel or by Arrakis/P),
// a query buffer and a reply buffer per client, the RESP protocol (resp.h), the keyspace (store.h)
// and the append-only file (aof_marshal.h onto an aof_backend) made durable before a write's reply
// goes out (appendfsync always). Commands: PING, GET, SET, DEL, EXISTS.
//
// The loop, as ae.c/networking.c run it: epoll_wait; for each fired event its handler (accept on
// the listening socket; read, then parse and run every complete command in the query buffer; or
// write on a writable socket); then beforeSleep. A reply is built into the client's reply buffer;
// as in Redis 2.8 (prepareClientToWrite), the first reply installs the writable event and the
// bytes go out when epoll reports the socket writable, the event removed once the buffer is empty
// (reply_on_writable); otherwise (Redis 3.2+) beforeSleep writes the replies directly and installs
// the writable event only when a send would block. The AOF is written and synced after each
// write command (per-command durability) or, with group_commit, once in beforeSleep for every
// write command of the iteration (Redis's flushAppendOnlyFile), before any of their replies.
//
// Every piece of work charges the core it runs on from the rd_* cost primitives (category app).
// Each request's server time is measured by the core's clock around each call, as the Arrakis
// paper instrumented Redis (Table 2), into the phases below; the loop's own time and the epoll
// wait are shared among the requests of the iteration, so the phases of all requests plus the
// time that served none add up to the loop's wall time.
#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "os/core/cpu_core.h"
#include "os/net/stream_api.h"
#include "workloads/redis/aof_marshal.h"
#include "workloads/redis/resp.h"
#include "workloads/redis/store.h"

namespace iovsim::workloads::redis {

// The rows of Arrakis Table 2, in its order.
enum class phase : uint8_t { epoll, recv, parse, lookup, log_marshal, write, fsync, prepare, send, other, count_ };
constexpr unsigned phase_count = static_cast<unsigned>(phase::count_);
const char* to_string(phase p);

enum class request_kind : uint8_t { get, set, del, ping, other };
const char* to_string(request_kind k);

struct request_record {
    request_kind kind = request_kind::other;
    std::array<double, phase_count> ns{};   // per phase, nanoseconds of the server core's clock
    double total_ns = 0;                     // their sum
    double done_ns = 0;                      // when the last byte of its reply was handed to send
    bool durable_write = false;              // a write command logged to the AOF
};

struct server_params {
    uint16_t port = 6379;
    int backlog = 511;                       // tcp-backlog
    unsigned max_clients = 10000;            // maxclients
    size_t max_query_buffer = 1ull << 30;    // REDIS_MAX_QUERYBUF_LEN: a client past it is closed
    size_t read_len = 16 * 1024;             // REDIS_IOBUF_LEN: bytes asked per read
    size_t max_write_per_event = 64 * 1024;  // REDIS_MAX_WRITE_PER_EVENT
    unsigned max_events = 10128;             // the epoll set's size: maxclients + 128
    resp_limits limits;
    bool aof = true;                         // appendonly yes, appendfsync always
    bool group_commit = false;               // write + sync once per loop iteration
    bool reply_on_writable = true;           // Redis 2.8: replies go out on the writable event
    bool receive_in_epoll = true;            // network interrupt work is timed as the epoll row
};

struct server_stats {
    uint64_t iterations = 0, events = 0, accepted = 0, rejected = 0, closed = 0;
    uint64_t commands = 0, gets = 0, sets = 0, dels = 0, pings = 0, exists = 0, hits = 0, misses = 0;
    uint64_t unknown = 0, wrong_args = 0, syntax_errors = 0;
    uint64_t protocol_errors = 0, query_overflows = 0, read_errors = 0, write_errors = 0;
    uint64_t aof_writes = 0, aof_syncs = 0, aof_bytes = 0, aof_errors = 0;
    uint64_t bytes_in = 0, bytes_out = 0, send_would_block = 0;
    uint64_t finished = 0;             // requests whose replies went out
    uint64_t abandoned = 0;            // requests whose client went away before the reply was out
    double loop_ns = 0;                // wall time of the loop's iterations
    double unattributed_ns = 0;        // of it, time that served no request (accepts, closes, waits that yielded none)
};

class server {
public:
    // `aof` may be null when params.aof is false.
    server(os::cpu_core& core, os::net::stream_api& api, aof_backend* aof, const server_params& params);
    ~server();

    // Listens and serves until stop(). Throws std::runtime_error when it cannot listen.
    void run();
    // Ends run() after the current iteration.
    void stop() { m_stop = true; }

    // The keyspace, to be filled before run() (as if loaded from an RDB file).
    store& table() { return m_store; }
    const server_stats& stats() const { return m_stats; }
    // Finished requests in the order their replies went out (the caller skips its warm-up).
    const std::vector<request_record>& records() const { return m_records; }
    void set_keep_records(bool keep) { m_keep_records = keep; }
    size_t clients() const { return m_clients.size(); }

private:
    struct client;
    struct open_request {
        request_record rec;
        uint64_t reply_start = 0, reply_end = 0;   // its reply's place in the client's reply stream
        uint64_t sent_mark = 0;                    // the iteration it was last counted as sending in
        int fd = -1;
        bool abandoned = false;
        bool done = false;
    };

    double now_ns() const;
    // Network work the core did in interrupt context so far (receive path, protocol timers).
    double network_irq_ns() const;
    void note_freed(size_t value_bytes);
    // A measured span of the iteration: its length since `t0`, counted as measured.
    double span(double t0)
    {
        const double dt = now_ns() - t0;
        m_iter_measured += dt;
        return dt;
    }
    // Ends a span that belongs to request `id`'s phase `p`.
    void end_span(uint32_t id, phase p, double t0) { add(id, p, span(t0)); }
    uint32_t open(client& c, request_kind kind);
    void add(uint32_t id, phase p, double ns) { m_open[id].rec.ns[static_cast<unsigned>(p)] += ns; }
    void spread(const std::vector<uint32_t>& ids, phase p, double ns);

    void accept_clients();
    void read_from(client& c);
    void process_input(client& c);
    void execute(client& c, uint32_t id, const command& cmd);
    void finish_reply(client& c, uint32_t id, double prepare_started);
    void log_write(client& c, uint32_t id, const std::vector<std::string_view>& args);
    bool flush_aof(const std::vector<uint32_t>& writers);
    void write_to(client& c);
    void before_sleep();
    void schedule_close(client& c);
    void close_pending();
    void end_iteration(double started);

    os::cpu_core& m_core;
    os::net::stream_api& m_api;
    aof_backend* m_aof_backend;
    server_params m_params;
    resp_parser m_parser;
    store m_store;
    // Values freed by SET (dbOverwrite) and DEL, by size in cache lines, not yet handed out again:
    // the allocator gives the next object of that size class the last one freed (LIFO), and like
    // every value of a keyspace far larger than the LLC it was in DRAM.
    std::unordered_map<unsigned, uint64_t> m_freed_values;
    aof_buffer m_aof;
    int m_listen = -1, m_ep = -1;
    bool m_stop = false;
    std::unordered_map<int, std::unique_ptr<client>> m_clients;
    std::vector<int> m_to_close;                // clients to close once the current handler is done
    std::vector<int> m_pending_writes;          // clients with replies to write in beforeSleep
    std::vector<uint32_t> m_group_writers;      // write commands waiting for the group flush
    std::vector<open_request> m_open;            // slab of requests in progress
    std::vector<uint32_t> m_free;
    std::vector<uint32_t> m_iter_parsed, m_iter_sent, m_iter_done, m_iter_abandoned;
    double m_iter_measured = 0, m_iter_epoll = 0, m_iter_irq = 0;
    std::vector<os::net::epoll_event> m_events;
    std::vector<uint8_t> m_read_buf;
    command m_cmd;
    std::vector<request_record> m_records;
    bool m_keep_records = true;
    server_stats m_stats;
};

} // namespace iovsim::workloads::redis
