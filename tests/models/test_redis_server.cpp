// The Redis-like server's event loop on a simulated core, over a scripted stream_api (connections
// whose bytes arrive at given times, a send window refilled at each epoll_wait, fixed costs per
// call) and an AOF backend in memory: the replies of every command and error, pipelining and
// split commands, the AOF written and synced before a write's reply goes out (per command and
// grouped), blocked sends continued on the writable event, protocol errors and overflowing query
// buffers closing the client; and the per-request phase records, exact to the charge, adding up
// with the time that served no request to the loop's wall time.
#include <cstdint>
#include <deque>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>
#include <tlm_utils/simple_target_socket.h>

#include "models/platform/dram.h"
#include "os/core/cpu_core.h"
#include "tests/support/model_bench.h"
#include "workloads/redis/server.h"

using namespace sc_core;
using namespace iovsim;
using namespace iovsim::workloads::redis;
using os::category;
using iovsim::testing::ns;
namespace epv = iovsim::os::net::ep;

namespace {

constexpr double never = std::numeric_limits<double>::infinity();

// 1 GHz, so cycles read as nanoseconds; no cache footprints.
os::cost_model test_costs()
{
    os::cost_model c;
    c.freq_ghz = 1.0;
    c.cold_after_idle_ns = 1e9;
    c.copy_call_cycles = 0;
    c.copy_byte_cycles = 0.5;
    c.rd_parse.cycles = 300;
    c.rd_parse_arg.cycles = 100;
    c.rd_lookup.cycles = 200;
    c.rd_set.cycles = 400;
    c.rd_del.cycles = 150;
    c.rd_log_marshal.cycles = 350;
    c.rd_prepare.cycles = 250;
    c.rd_reply_bulk.cycles = 60;
    c.rd_aof_flush.cycles = 25;
    c.rd_loop.cycles = 50;
    c.rd_event.cycles = 10;
    c.rd_accept.cycles = 0;
    return c;
}

// Costs of the scripted calls (ns).
constexpr double epoll_cost = 70, recv_cost = 100, send_cost = 150, ctl_cost = 30, accept_cost = 40;

struct fake_conn {
    int fd = 0;
    double connect_ns = 0;
    std::deque<std::pair<double, std::string>> chunks;   // (arrival, bytes)
    double eof_ns = never;                                // the peer closes its side then
    std::string inbuf;
    std::string received;                                 // what the server sent
    std::vector<double> send_times;
    size_t window = 0;
    bool accepted = false, registered = false, closed = false;
    uint32_t events = 0;
};

struct fake_api : os::net::stream_api {
    os::cpu_core& core;
    server* srv = nullptr;
    std::deque<fake_conn> conns;   // references stay valid as connections are added
    size_t send_window = 1 << 20;   // bytes a send may take between two epoll_waits
    static constexpr int listen_fd = 3, ep_fd = 4;

    explicit fake_api(os::cpu_core& c) : core(c) {}
    double now() const { return core.local_time().to_seconds() * 1e9; }
    void cost(double v) { core.charge_ns(category::syscall, v); }
    fake_conn& add(double connect_ns)
    {
        conns.emplace_back();
        conns.back().fd = 10 + static_cast<int>(conns.size()) - 1;
        conns.back().connect_ns = connect_ns;
        return conns.back();
    }
    fake_conn* find(int fd)
    {
        for (fake_conn& c : conns)
            if (c.fd == fd && c.accepted && !c.closed)
                return &c;
        return nullptr;
    }
    void deliver()
    {
        for (fake_conn& c : conns)
            while (!c.chunks.empty() && c.chunks.front().first <= now()) {
                c.inbuf += c.chunks.front().second;
                c.chunks.pop_front();
            }
    }
    bool eof(const fake_conn& c) { return c.inbuf.empty() && c.chunks.empty() && now() >= c.eof_ns; }

    int tcp_socket() override { return listen_fd; }
    int tcp_bind(int, uint16_t) override { return 0; }
    int listen(int, int) override { return 0; }
    int accept(int, os::net::sock_addr*) override
    {
        cost(accept_cost);
        for (fake_conn& c : conns)
            if (!c.accepted && c.connect_ns <= now()) {
                c.accepted = true;
                c.window = send_window;
                return c.fd;
            }
        return -EAGAIN;
    }
    int connect(int, const os::net::sock_addr&) override { return -EINVAL; }
    long recv(int fd, uint8_t* buf, size_t len) override
    {
        cost(recv_cost);
        deliver();
        fake_conn* c = find(fd);
        if (c == nullptr)
            return -EBADF;
        if (c->inbuf.empty())
            return eof(*c) ? 0 : -EAGAIN;
        const size_t n = std::min(len, c->inbuf.size());
        std::copy_n(c->inbuf.begin(), n, buf);
        c->inbuf.erase(0, n);
        return static_cast<long>(n);
    }
    long send(int fd, const uint8_t* buf, size_t len) override
    {
        cost(send_cost);
        fake_conn* c = find(fd);
        if (c == nullptr)
            return -EPIPE;
        if (c->window == 0)
            return -EAGAIN;
        const size_t n = std::min(len, c->window);
        c->window -= n;
        c->received.append(reinterpret_cast<const char*>(buf), n);
        c->send_times.push_back(now());
        return static_cast<long>(n);
    }
    int close(int fd) override
    {
        if (fake_conn* c = find(fd))
            c->closed = true;
        return 0;
    }
    int epoll_create() override { return ep_fd; }
    int epoll_ctl(int, os::net::epoll_op op, int fd, uint32_t events, uint64_t data) override
    {
        if (fd == listen_fd)
            return 0;
        cost(ctl_cost);
        fake_conn* c = find(fd);
        if (c == nullptr)
            return -EBADF;
        if (op != os::net::epoll_op::del) {
            EXPECT_EQ(data, static_cast<uint64_t>(fd));
        }
        c->registered = op != os::net::epoll_op::del;
        c->events = events;
        return 0;
    }
    int epoll_wait(int, os::net::epoll_event* out, int max, int64_t) override
    {
        cost(epoll_cost);
        for (fake_conn& c : conns)
            c.window = send_window;   // the peers' ACKs opened the windows again
        for (;;) {
            deliver();
            int n = 0;
            bool listener = false;
            for (const fake_conn& c : conns)
                listener = listener || (!c.accepted && c.connect_ns <= now());
            if (listener)
                out[n++] = {epv::in, static_cast<uint64_t>(listen_fd)};
            for (fake_conn& c : conns) {
                if (!c.accepted || c.closed || !c.registered || n == max)
                    continue;
                uint32_t ev = 0;
                if ((c.events & epv::in) && (!c.inbuf.empty() || eof(c)))
                    ev |= epv::in;
                if ((c.events & epv::out) && c.window > 0)
                    ev |= epv::out;
                if (ev)
                    out[n++] = {ev, static_cast<uint64_t>(c.fd)};
            }
            if (n > 0)
                return n;
            double next = never;
            for (const fake_conn& c : conns) {
                if (!c.accepted)
                    next = std::min(next, c.connect_ns);
                else if (!c.closed && !c.chunks.empty())
                    next = std::min(next, c.chunks.front().first);
                else if (!c.closed && c.eof_ns > now())
                    next = std::min(next, c.eof_ns);
            }
            if (next == never) {
                srv->stop();
                return 0;
            }
            core.charge_ns(category::idle, next - now());
        }
    }
};

struct memory_aof : aof_backend {
    os::cpu_core& core;
    std::string bytes;
    unsigned writes = 0, syncs = 0;
    std::vector<double> sync_done;
    // Staging (aof.h): taken when `stages`, charged 77 ns, kept until the write.
    bool stages = false;
    unsigned stage_calls = 0;
    std::string staged, staged_at_write;
    explicit memory_aof(os::cpu_core& c) : core(c) {}
    bool stage(const uint8_t* d, size_t n) override
    {
        ++stage_calls;
        if (!stages)
            return false;
        core.charge_ns(category::block_io, 77);
        staged.append(reinterpret_cast<const char*>(d), n);
        return true;
    }
    bool write(const uint8_t* d, size_t n) override
    {
        ++writes;
        staged_at_write += staged;
        staged.clear();
        core.charge_ns(category::fs, 1000);
        bytes.append(reinterpret_cast<const char*>(d), n);
        return true;
    }
    bool sync() override
    {
        ++syncs;
        core.charge_ns(category::block_io, 20000);
        sync_done.push_back(core.local_time().to_seconds() * 1e9);
        return true;
    }
};

struct no_devices : sc_module {
    tlm_utils::simple_target_socket<no_devices> socket;
    explicit no_devices(sc_module_name n) : sc_module(n), socket("socket")
    {
        socket.register_b_transport(this, &no_devices::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_time&) { t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE); }
};

models::dram_params test_dram()
{
    models::dram_params p;
    p.size_bytes = 1 << 20;
    p.access_latency = ns(50);
    p.bandwidth_gbps = 8.0;
    return p;
}

struct bench {
    os::cost_model costs = test_costs();
    models::dram mem{"mem", test_dram()};
    os::accounting acct;
    os::cpu_core core{"core", 0, costs, mem, acct, ns(1000)};
    no_devices devices{"devices"};
    iovsim::testing::master dma{"dma"};   // the memory's target must be bound; nothing uses it
    fake_api api{core};
    memory_aof aof{core};
    std::unique_ptr<server> srv;
    explicit bench(server_params p = {})
    {
        iovsim::testing::strict_reports();
        core.bus.bind(devices.socket);
        dma.socket.bind(mem.target);
        srv = std::make_unique<server>(core, api, &aof, p);
        api.srv = srv.get();
    }
    void run()
    {
        core.spawn("redis", [this] { srv->run(); });
        sc_start();
    }
    // Every finished request's phases plus the time that served none add up to the loop's time.
    void expect_time_adds_up() const
    {
        double sum = srv->stats().unattributed_ns;
        for (const request_record& r : srv->records()) {
            EXPECT_NEAR(r.total_ns, std::accumulate(r.ns.begin(), r.ns.end(), 0.0), 1e-6);
            for (double v : r.ns)
                EXPECT_GE(v, 0.0);
            sum += r.total_ns;
        }
        EXPECT_NEAR(sum, srv->stats().loop_ns, 1e-6 * srv->stats().loop_ns);
    }
};

std::string cmd(const std::vector<std::string_view>& args)
{
    std::string s;
    append_command(s, args);
    return s;
}

double ph(const request_record& r, phase p) { return r.ns[static_cast<unsigned>(p)]; }

void serves_every_command(bool reply_on_writable)
{
    server_params p;
    p.reply_on_writable = reply_on_writable;
    bench b(p);
    fake_conn& c1 = b.api.add(1000);
    const std::string set = cmd({"SET", "k", "v"});
    c1.chunks = {{1500, "PING\r\n" + set.substr(0, 9)}, {5000, set.substr(9)}};
    std::string batch = cmd({"GET", "k"}) + cmd({"GET", "missing"}) + cmd({"DEL", "k", "nokey"}) + cmd({"EXISTS", "k"}) +
                        "FOO bar\r\n" + cmd({"get"}) + cmd({"SET", "a", "b", "c"}) + cmd({"set", "x", "yy"}) +
                        cmd({"PING", "hi"});
    c1.chunks.emplace_back(100000, batch.substr(0, 50));
    c1.chunks.emplace_back(100000, batch.substr(50));
    fake_conn& c2 = b.api.add(2000);
    c2.chunks = {{3000, "*1\r\n$4\r\nPING\r\n"}};
    c2.eof_ns = 200000;
    b.run();

    EXPECT_EQ(c1.received, "+PONG\r\n+OK\r\n$1\r\nv\r\n$-1\r\n:1\r\n:0\r\n-ERR unknown command 'FOO'\r\n"
                           "-ERR wrong number of arguments for 'get' command\r\n-ERR syntax error\r\n+OK\r\n$2\r\nhi\r\n");
    EXPECT_EQ(c2.received, "+PONG\r\n");
    EXPECT_TRUE(c2.closed);   // its peer closed: so does the server
    EXPECT_FALSE(c1.closed);
    const server_stats& s = b.srv->stats();
    EXPECT_EQ(s.commands, 12u);
    EXPECT_EQ(s.accepted, 2u);
    EXPECT_EQ(s.closed, 1u);
    EXPECT_EQ(s.hits, 1u);
    EXPECT_EQ(s.misses, 1u);
    EXPECT_EQ(s.unknown, 1u);
    EXPECT_EQ(s.wrong_args, 1u);
    EXPECT_EQ(s.syntax_errors, 1u);
    // Three commands changed the keyspace: SET k, DEL k, SET x; each written and synced alone.
    EXPECT_EQ(b.aof.writes, 3u);
    EXPECT_EQ(b.aof.syncs, 3u);
    EXPECT_EQ(b.aof.bytes, cmd({"SELECT", "0"}) + set + cmd({"DEL", "k", "nokey"}) + cmd({"set", "x", "yy"}));
    store replayed;
    ASSERT_TRUE(load_aof(reinterpret_cast<const uint8_t*>(b.aof.bytes.data()), b.aof.bytes.size(), replayed).ok);
    EXPECT_EQ(replayed.size(), 1u);
    EXPECT_EQ(*replayed.get("x"), "yy");
    // The first +OK left only after its sync.
    ASSERT_FALSE(c1.send_times.empty());
    EXPECT_GE(c1.send_times[1], b.aof.sync_done[0]);

    const auto& recs = b.srv->records();
    ASSERT_EQ(recs.size(), 12u);
    unsigned durable = 0;
    for (const request_record& r : recs) {
        if (r.durable_write) {
            ++durable;
            EXPECT_DOUBLE_EQ(ph(r, phase::write), 1000);
            EXPECT_DOUBLE_EQ(ph(r, phase::fsync), 20000);
            EXPECT_GT(ph(r, phase::log_marshal), 350);
        } else {
            EXPECT_EQ(ph(r, phase::write), 0);
            EXPECT_EQ(ph(r, phase::fsync), 0);
            EXPECT_EQ(ph(r, phase::log_marshal), 0);
        }
        EXPECT_GT(ph(r, phase::parse), 0);
        EXPECT_GT(ph(r, phase::recv), 0);
        EXPECT_GT(ph(r, phase::send), 0);
        EXPECT_GT(ph(r, phase::epoll), 0);
        EXPECT_GT(ph(r, phase::other), 0);
    }
    EXPECT_EQ(durable, 3u);
    EXPECT_EQ(recs[0].kind, request_kind::ping);
    EXPECT_EQ(recs[1].kind == request_kind::set || recs[2].kind == request_kind::set, true);
    b.expect_time_adds_up();
}

} // namespace

TEST(redis_server, serves_every_command_reply_on_writable_event)
{
    serves_every_command(true);
}

TEST(redis_server, serves_every_command_replying_from_before_sleep)
{
    serves_every_command(false);
}

// One GET, every phase to the nanosecond: the charges of the code that ran in it and the scripted
// calls' costs; the epoll wait includes the time blocked; the loop's own work is 'other'.
TEST(redis_server, phases_of_one_get_exact)
{
    bench b;
    b.srv->table().set("k", std::string(1000, 'v'));
    fake_conn& c = b.api.add(1000);
    c.chunks = {{10000, cmd({"GET", "k"})}};
    b.run();
    ASSERT_EQ(b.srv->records().size(), 1u);
    const request_record& r = b.srv->records()[0];
    EXPECT_EQ(r.kind, request_kind::get);
    // Iteration 1 (accept) ends at 1120 ns: loop 50, epoll to 1000, event 10, accept 40 + epoll_ctl
    // 30, accept 40 (none left). Iteration 2 blocks in epoll_wait from 1170 to 10000.
    EXPECT_DOUBLE_EQ(ph(r, phase::recv), recv_cost);
    EXPECT_DOUBLE_EQ(ph(r, phase::parse), 300 + 2 * 100 + 0.5 * 4);            // rd_parse, 2 args, copy of "GETk"
    EXPECT_DOUBLE_EQ(ph(r, phase::lookup), 200);
    // The first addReply, addReplyBulk's rest with the value's and the CRLF's copies, writable event on.
    EXPECT_DOUBLE_EQ(ph(r, phase::prepare), 250 + 60 + 0.5 * 1000 + 0.5 * 2 + ctl_cost);
    EXPECT_DOUBLE_EQ(ph(r, phase::send), send_cost + ctl_cost);               // the write, writable event off
    EXPECT_DOUBLE_EQ(ph(r, phase::epoll), (10000 - 1170) + epoll_cost);       // its own wait, then the one that found it writable
    EXPECT_DOUBLE_EQ(ph(r, phase::other), 2 * (50 + 10));                     // loop and event, in both iterations
    EXPECT_DOUBLE_EQ(ph(r, phase::log_marshal) + ph(r, phase::write) + ph(r, phase::fsync), 0);
    EXPECT_DOUBLE_EQ(r.total_ns, 100 + 502 + 200 + 841 + 180 + 8900 + 120);
    EXPECT_EQ(c.received, "$1000\r\n" + std::string(1000, 'v') + "\r\n");
    b.expect_time_adds_up();
}

// One durable SET: its write and sync are the backend's calls; flushAppendOnlyFile's own work
// around them is the loop's, 'other', with the loop and event of both iterations.
TEST(redis_server, durable_set_write_sync_and_other_exact)
{
    bench b;
    fake_conn& c = b.api.add(1000);
    c.chunks = {{10000, cmd({"SET", "k", "v"})}};
    b.run();
    ASSERT_EQ(b.srv->records().size(), 1u);
    const request_record& r = b.srv->records()[0];
    EXPECT_EQ(c.received, "+OK\r\n");
    EXPECT_DOUBLE_EQ(ph(r, phase::lookup), 200 + 400);
    EXPECT_DOUBLE_EQ(ph(r, phase::write), 1000);   // memory_aof's charges
    EXPECT_DOUBLE_EQ(ph(r, phase::fsync), 20000);
    EXPECT_DOUBLE_EQ(ph(r, phase::other), 2 * (50 + 10) + 25);
    b.expect_time_adds_up();
}

// Group commit: the SETs of one iteration share one write and one sync, before either reply.
TEST(redis_server, group_commit_shares_one_write_and_sync)
{
    server_params p;
    p.group_commit = true;
    bench b(p);
    fake_conn& c1 = b.api.add(1000);
    fake_conn& c2 = b.api.add(1000);
    c1.chunks = {{5000, cmd({"SET", "a", "1"})}};
    c2.chunks = {{5000, cmd({"SET", "b", "2"})}};
    b.run();
    EXPECT_EQ(c1.received, "+OK\r\n");
    EXPECT_EQ(c2.received, "+OK\r\n");
    EXPECT_EQ(b.aof.writes, 1u);
    EXPECT_EQ(b.aof.syncs, 1u);
    EXPECT_GE(c1.send_times.front(), b.aof.sync_done.front());
    EXPECT_GE(c2.send_times.front(), b.aof.sync_done.front());
    ASSERT_EQ(b.srv->records().size(), 2u);
    for (const request_record& r : b.srv->records()) {
        EXPECT_DOUBLE_EQ(ph(r, phase::write), 500);
        EXPECT_DOUBLE_EQ(ph(r, phase::fsync), 10000);
    }
    b.expect_time_adds_up();
}

// A backend that takes the marshaled bytes in place (Arrakis/P's log): the server's second copy
// (into aof_buf) is the backend's stage and is not charged by the server; the write gets the same
// bytes as without staging. Under group commit the batch's buffer is not staged.
static void staged_aof(bool group, bool stages)
{
    server_params p;
    p.group_commit = group;
    bench b(p);
    b.aof.stages = stages;
    fake_conn& c1 = b.api.add(1000);
    const std::string set1 = cmd({"SET", "a", std::string(100, 'x')});
    const std::string set2 = cmd({"SET", "b", "2"});
    c1.chunks = {{5000, set1}, {60000, set2}};
    b.run();
    EXPECT_EQ(c1.received, "+OK\r\n+OK\r\n");
    const std::string first = cmd({"SELECT", "0"}) + set1;
    EXPECT_EQ(b.aof.bytes, first + set2);
    EXPECT_EQ(b.aof.writes, 2u);
    EXPECT_EQ(b.aof.stage_calls, group ? 0u : 2u);
    EXPECT_EQ(b.aof.staged_at_write, stages && !group ? b.aof.bytes : "");
    ASSERT_EQ(b.srv->records().size(), 2u);
    const double n = static_cast<double>(first.size());
    const double marshal = ph(b.srv->records()[0], phase::log_marshal);
    if (stages && !group)
        EXPECT_DOUBLE_EQ(marshal, 350 + 0.5 * n + 77);   // the sds, then the stage
    else
        EXPECT_DOUBLE_EQ(marshal, 350 + 2 * 0.5 * n);    // the sds, then aof_buf
    EXPECT_DOUBLE_EQ(ph(b.srv->records()[0], phase::write), 1000);
    b.expect_time_adds_up();
}

TEST(redis_server, staged_aof_bytes_are_the_second_copy)
{
    staged_aof(false, true);
}

TEST(redis_server, unstaged_aof_bytes_are_copied_by_the_server)
{
    staged_aof(false, false);
}

TEST(redis_server, group_commit_does_not_stage)
{
    staged_aof(true, true);
}

// A reply larger than the send window: the rest goes out on writable events, intact, and all the
// send calls are the request's send phase. Replies here are written from beforeSleep.
TEST(redis_server, blocked_send_continues_on_writable_event)
{
    server_params p;
    p.reply_on_writable = false;
    bench b(p);
    b.api.send_window = 4096;
    std::string big(20000, 'x');
    for (size_t i = 0; i < big.size(); ++i)
        big[i] = static_cast<char>('a' + i % 26);
    b.srv->table().set("big", big);
    fake_conn& c = b.api.add(1000);
    c.chunks = {{2000, cmd({"GET", "big"}) + cmd({"PING"})}};
    b.run();
    EXPECT_EQ(c.received, "$20000\r\n" + big + "\r\n+PONG\r\n");
    EXPECT_GE(b.srv->stats().send_would_block, 4u);
    ASSERT_EQ(b.srv->records().size(), 2u);
    // Five windows of 4096 bytes carry the 20017 bytes: the GET and the PING finish in the last.
    EXPECT_EQ(c.send_times.size(), 5u);
    const request_record& get = b.srv->records()[0];
    const request_record& ping = b.srv->records()[1];
    EXPECT_EQ(get.kind, request_kind::get);
    EXPECT_EQ(ping.kind, request_kind::ping);
    // Five sends, four refused, the writable event on and off: shared by the two it finished.
    EXPECT_DOUBLE_EQ(ph(get, phase::send), (9 * send_cost + 2 * ctl_cost) / 2);
    EXPECT_DOUBLE_EQ(ph(ping, phase::send), ph(get, phase::send));
    // The iterations that only carried the GET's bytes are the GET's: epoll and loop time included.
    EXPECT_DOUBLE_EQ(ph(get, phase::epoll), ph(ping, phase::epoll) + 3 * epoll_cost);
    b.expect_time_adds_up();
}

TEST(redis_server, protocol_error_replies_then_closes)
{
    bench b;
    fake_conn& c = b.api.add(1000);
    c.chunks = {{2000, cmd({"PING"}) + "*1\r\nxyz\r\n" + cmd({"SET", "never", "run"})}};
    b.run();
    EXPECT_EQ(c.received, "+PONG\r\n-ERR Protocol error: expected '$', got 'x'\r\n");
    EXPECT_TRUE(c.closed);
    EXPECT_EQ(b.srv->stats().protocol_errors, 1u);
    EXPECT_EQ(b.srv->table().size(), 0u);
    EXPECT_EQ(b.aof.writes, 0u);
    EXPECT_EQ(b.srv->records().size(), 2u);
    b.expect_time_adds_up();
}

TEST(redis_server, overflowing_query_buffer_closes_the_client)
{
    server_params p;
    p.max_query_buffer = 100;
    bench b(p);
    fake_conn& c = b.api.add(1000);
    c.chunks = {{2000, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500\r\n" + std::string(200, 'z')}};
    fake_conn& ok = b.api.add(1000);
    ok.chunks = {{3000, cmd({"PING"})}};
    b.run();
    EXPECT_TRUE(c.closed);
    EXPECT_EQ(c.received, "");
    EXPECT_EQ(ok.received, "+PONG\r\n");
    EXPECT_EQ(b.srv->stats().query_overflows, 1u);
    b.expect_time_adds_up();
}

TEST(redis_server, aof_off_logs_nothing)
{
    server_params p;
    p.aof = false;
    bench b(p);
    fake_conn& c = b.api.add(1000);
    c.chunks = {{2000, cmd({"SET", "a", "1"}) + cmd({"GET", "a"})}};
    b.run();
    EXPECT_EQ(c.received, "+OK\r\n$1\r\n1\r\n");
    EXPECT_EQ(b.aof.writes, 0u);
    for (const request_record& r : b.srv->records())
        EXPECT_FALSE(r.durable_write);
    b.expect_time_adds_up();
}
