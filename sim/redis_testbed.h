#pragma once
// The Redis installation (Arrakis section 5.2, Table 2): a server host with the NIC and the storage
// controller behind one IOMMU (sim/testbed's host with storage), one server core running the
// Redis-like server (workloads/redis/server) with its append-only file, and client hosts running
// the Redis load generator (workloads/redis/client) on their native TCP, all through one switch.
//
// Server paths:
// - linux: the Linux-like kernel's TCP sockets and epoll as system calls; the AOF written with
//   write(2) and fsync(2) on an ext4 file through the block layer, whose completion interrupt is
//   taken on the server's core (aof_file); or, with workload.redis.linux_aof: log, the persistent
//   log (Arrakis/P's format) on a region of the raw device, each sync a pwrite(2) with
//   O_DIRECT|O_DSYNC through the same block layer (aof_log over direct_log: Caladan on Linux).
// - arrakis_p: the application's VNIC with Arrakis/P's POSIX sockets and epoll in the library OS;
//   the AOF appended to the persistent log on the application's VSA through its VSIC (aof_log),
//   a hardware VSIC unless platform.storage.vsic_mode says emulated (then a second core runs it).
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/net/eth.h"
#include "models/net/eth_switch.h"
#include "os/dataplane/dataplane.h"
#include "os/dataplane/posix_sockets.h"
#include "os/kernel/control_plane.h"
#include "os/linux/linux_kernel.h"
#include "sim/config.h"
#include "sim/storage_stacks.h"
#include "sim/testbed.h"
#include "workloads/redis/aof_file.h"
#include "workloads/redis/aof_log.h"
#include "workloads/redis/client.h"
#include "workloads/redis/server.h"

namespace iovsim::sim {

enum class redis_path { linux_kernel, arrakis_p };
redis_path parse_redis_path(const std::string& s);   // std::invalid_argument for another name

struct redis_setup {
    redis_path path = redis_path::linux_kernel;
    uint64_t warmup = 1000;       // replies before the measured ones (all clients together)
    uint64_t requests = 10000;    // measured replies (all clients together)
    uint64_t tail = 200;
    uint64_t seed = 1;
    bool keep_records = true;     // the server keeps each request's phase times
};

class redis_testbed {
public:
    // workload.redis.client_hosts, .fs, .log_vsa_kb, .linux_aof (sim/params.cpp calls it).
    static void declare(cfg::schema& s);
    // Checks that span parameters (addresses, enough VFs, client addresses). Throws cfg::config_error.
    static void check(const cfg::config& c, redis_path path);

    redis_testbed(const cfg::config& c, const redis_setup& setup);
    ~redis_testbed();

    // Runs until every client has its measured replies and the server has drained (its AOF synced,
    // nothing in progress), or the time limit. False when stuck.
    bool run();

    host& server() { return *m_server; }
    const workloads::redis::server& app() const { return *m_app; }
    workloads::redis::server& app() { return *m_app; }
    unsigned clients() const { return static_cast<unsigned>(m_clients.size()); }
    const workloads::redis::client& client(unsigned i) const { return *m_clients.at(i).load; }
    // The clients' load generators have started (each is created once the server listens).
    bool clients_started() const;
    // Connections the clients have opened or given up so far.
    uint64_t connections_settled() const;
    host& client_host(unsigned i) { return *m_clients.at(i).net.h; }
    // The AOF as a replay after the run would read it: the file's synced bytes, or the log's
    // durable entries (Arrakis/P's, or the raw device's on the Linux-like path).
    std::vector<uint8_t> durable_aof() const;
    // Bytes handed to the AOF backend, and how many syncs it did.
    uint64_t aof_written() const;
    // The server's accounting (its core's charges by category).
    os::accounting& server_accounting() { return *m_server->acct; }
    const sim::linux_storage* linux_storage_stack() const { return m_linux_storage.get(); }
    const sim::arrakis_storage* arrakis_storage_stack() const { return m_arrakis_storage.get(); }
    // The Arrakis/P AOF backend (null on the Linux-like path).
    const workloads::redis::aof_log* aof_log_backend() const { return m_aof_log.get(); }
    double simulated_us() const;
    // The server's TCP layer (the kernel's or the library's) and a client's.
    const os::net::tcp_layer* server_tcp() const;
    const os::net::tcp_layer* client_tcp(unsigned i) const { return m_clients.at(i).dp ? m_clients.at(i).dp->tcp() : nullptr; }
    // What says how the run went: drops, retransmissions, the server core's share of work.
    nlohmann::json counters();
    // Simulated time from the first measured reply to the last, of all clients.
    double measured_ktps() const;

private:
    struct client_side {
        switch_client net;
        std::unique_ptr<os::dataplane::dataplane> dp;
        std::unique_ptr<workloads::redis::client> load;
    };
    void server_main();
    void client_main(unsigned i);
    void wait_until_drained(os::cpu_core& core);
    wire::ipv4_addr server_ip() const;
    wire::mac_addr server_mac() const;

    const cfg::config& m_cfg;
    redis_setup m_setup;
    os::cost_model m_costs;
    std::unique_ptr<host> m_server;
    std::unique_ptr<models::net::eth_switch> m_switch;
    std::unique_ptr<models::net::eth_link> m_server_cable;
    std::vector<client_side> m_clients;

    // Server software
    std::unique_ptr<os::linux_path::linux_kernel> m_linux;
    std::unique_ptr<sim::linux_storage> m_linux_storage;
    std::unique_ptr<workloads::redis::aof_file> m_aof_file;
    std::unique_ptr<os::kernel::control_plane> m_cp;
    std::unique_ptr<os::dataplane::dataplane> m_server_dp;
    std::unique_ptr<os::dataplane::posix_sockets> m_posix;
    std::unique_ptr<sim::arrakis_storage> m_arrakis_storage;
    std::unique_ptr<workloads::redis::aof_log> m_aof_log;
    std::unique_ptr<workloads::redis::server> m_app;

    bool m_listening = false;
    sc_core::sc_event m_listening_ev;
    unsigned m_clients_done = 0;
    bool m_done = false;
};

} // namespace iovsim::sim
