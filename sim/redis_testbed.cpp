#include "sim/redis_testbed.h"

#include <stdexcept>

#include <fmt/format.h>

#include "models/platform/address_map.h"
#include "os/net/tcp.h"
#include "sim/experiment.h"
#include "workloads/redis/keyspace.h"
#include "workloads/redis/params.h"

using namespace sc_core;

namespace iovsim::sim {

namespace {

constexpr unsigned max_client_hosts = 16;
constexpr os::category boot_category = os::category::scheduler;   // set-up work: no row of any table
constexpr uint16_t linux_nic_domain = 1;   // as the Arrakis control plane puts the PF

} // namespace

redis_path parse_redis_path(const std::string& s)
{
    if (s == "linux")
        return redis_path::linux_kernel;
    if (s == "arrakis_p")
        return redis_path::arrakis_p;
    throw std::invalid_argument("unknown Redis server path " + s);
}

void redis_testbed::declare(cfg::schema& s)
{
    s.add_int("workload.redis.client_hosts", 1, 1, max_client_hosts, "",
              "client hosts running the load generator, the connections split among them (each host one core, "
              "its address from platform.tenants.client_ip_base/client_mac_base + i)");
    s.add_choice("workload.redis.fs", "ext4", {"ext2", "ext3", "ext4", "btrfs"},
                 "the file system of the Linux-like server's AOF (the paper: ext4 on the RAID controller)");
    s.add_int("workload.redis.log_vsa_kb", 65536, 64, 1 << 22, "KiB",
              "the persistent log the AOF goes to (and its image in the application's memory): Arrakis/P's VSA, or "
              "the Linux-like path's region of the raw device when workload.redis.linux_aof is log");
    s.add_choice("workload.redis.linux_aof", "file", {"file", "log"},
                 "the Linux-like server's AOF: file (write(2) and fsync(2) of a file on workload.redis.fs) or log (the "
                 "persistent log on a region of the raw device, each sync a pwrite(2) of its new entries with "
                 "O_DIRECT|O_DSYNC: Caladan on Linux)");
    s.add_real("workload.redis.drain_check_us", 200, 1, 1e6, "us",
               "after the clients finish: the server has drained when its command count holds for three checks this "
               "far apart and its AOF is synced");
}

void redis_testbed::check(const cfg::config& c, redis_path path)
{
    for (const char* key : {"platform.server.ip", "platform.server.vnic_ip", "platform.tenants.client_ip_base"})
        if (!wire::ipv4_addr::parse(c.get_string(key)))
            throw error_at(c, key, "'" + c.get_string(key) + "' is not an IPv4 address (dotted quad)");
    const auto hosts = static_cast<unsigned>(c.get_int("workload.redis.client_hosts"));
    for (const char* key : {"platform.server.mac", "platform.server.vnic_mac", "platform.tenants.client_mac_base"}) {
        const auto mac = wire::mac_addr::parse(c.get_string(key));
        if (!mac || mac->is_multicast())
            throw error_at(c, key, "'" + c.get_string(key) + "' is not a unicast MAC address (aa:bb:cc:dd:ee:ff)");
        if (key == std::string("platform.tenants.client_mac_base") && mac->bytes[5] + hosts > 256)
            throw error_at(c, key, fmt::format("the last octet leaves no room for {} client hosts", hosts));
    }
    if (path == redis_path::arrakis_p && c.get_string("workload.redis.linux_aof") != "file")
        throw error_at(c, "workload.redis.linux_aof",
                       "'" + c.get_string("workload.redis.linux_aof") +
                           "' is for the Linux-like path (path: linux); Arrakis/P's AOF is always the log on its VSA");
    if (path == redis_path::arrakis_p && c.get_int("platform.nic.num_vfs") == 0)
        throw error_at(c, "platform.nic.num_vfs", "Arrakis/P needs a VF for the server's VNIC");
    if (c.get_int("workload.redis.connections") < hosts)
        throw error_at(c, "workload.redis.connections",
                       fmt::format("{} connections cannot be split among {} client hosts", c.get_int("workload.redis.connections"), hosts));
}

redis_testbed::redis_testbed(const cfg::config& c, const redis_setup& setup)
    : m_cfg(c), m_setup(setup), m_costs(os::cost_model::from(c))
{
    const uint64_t mb = 1ULL << 20;
    m_server = std::make_unique<host>("server", c, m_costs, c.get_int("platform.server.dram_mb") * mb,
                                      static_cast<unsigned>(c.get_int("platform.nic.num_vfs")),
                                      c.get_bool("platform.iommu.pass_through"), storage_cores(c), true);
    const auto hosts = static_cast<unsigned>(c.get_int("workload.redis.client_hosts"));
    m_switch = make_switch(c, 1 + hosts);
    m_server_cable = plug_into_switch(c, *m_server, *m_switch, 0, "server_cable");
    m_clients.resize(hosts);
    for (unsigned i = 0; i < hosts; ++i) {
        client_side& cs = m_clients[i];
        cs.net = add_client_host(c, m_costs, *m_switch, i);
        cs.net.h->core->spawn("client" + std::to_string(i) + "_main", [this, i] { client_main(i); });
    }
    m_server->core->spawn("redis_server", [this] { server_main(); });
}

redis_testbed::~redis_testbed() = default;

wire::ipv4_addr redis_testbed::server_ip() const
{
    return *wire::ipv4_addr::parse(m_cfg.get_string(m_setup.path == redis_path::linux_kernel ? "platform.server.ip" : "platform.server.vnic_ip"));
}

wire::mac_addr redis_testbed::server_mac() const
{
    return *wire::mac_addr::parse(m_cfg.get_string(m_setup.path == redis_path::linux_kernel ? "platform.server.mac" : "platform.server.vnic_mac"));
}

void redis_testbed::server_main()
{
    os::cpu_core& core = *m_server->core;
    const os::net::tcp_params tp = os::net::tcp_layer::params_of(m_cfg);
    const uint64_t tcp_seed = derive_seed(m_setup.seed, "redis/server_tcp");
    // The clients' addresses are configured, not resolved: a burst of 64 handshakes would otherwise
    // overflow the unresolved-neighbour queue while the first ARP request is out, and the lost
    // SYN-ACKs cost the clients a second each (TCP's initial retransmission timeout).
    auto add_client_arp = [this](os::net::net_stack& st) {
        for (unsigned i = 0; i < m_clients.size(); ++i)
            st.add_static_arp(nth_ip(m_cfg, "platform.tenants.client_ip_base", i),
                              nth_mac(m_cfg, "platform.tenants.client_mac_base", i));
    };
    os::net::stream_api* api = nullptr;
    workloads::redis::aof_backend* aof = nullptr;
    if (m_setup.path == redis_path::linux_kernel) {
        m_linux = std::make_unique<os::linux_path::linux_kernel>(core, *m_server->pages, server_mac(), server_ip(),
                                                                 linux_params_of(m_cfg));
        m_linux->boot();
        m_linux->enable_tcp(tp, tcp_seed);
        add_client_arp(m_linux->stack());
        // The kernel's network driver does not map its buffers in the IOMMU (the PF passes through);
        // its storage driver does (vsic_setup maps the block layer's pages for the controller).
        m_server->kernel_iommu().attach_pass_through(models::nic_pf_rid, linux_nic_domain);
        m_linux_storage = std::make_unique<linux_storage>();
        if (m_cfg.get_string("workload.redis.linux_aof") == "log") {
            m_linux_storage->boot_raw_log(*m_server, static_cast<uint64_t>(m_cfg.get_int("workload.redis.log_vsa_kb")) * 1024);
            m_linux_storage->log->format(derive_seed(m_setup.seed, "redis/log_id"));
            m_linux_storage->log->flush();
            m_aof_log = std::make_unique<workloads::redis::aof_log>(*m_linux_storage->log);
            aof = m_aof_log.get();
        } else {
            m_linux_storage->boot(*m_server, os::linux_path::parse_fs_kind(m_cfg.get_string("workload.redis.fs")));
            m_aof_file = std::make_unique<workloads::redis::aof_file>(*m_linux_storage->block, *m_linux_storage->fs,
                                                                      *m_linux_storage->file);
            aof = m_aof_file.get();
        }
        api = m_linux.get();
    } else {
        // Arrakis: the kernel, as control plane, gives the application a VNIC and a VSIC with a VSA;
        // the application drives both from its core.
        m_cp = std::make_unique<os::kernel::control_plane>(core, *m_server->pages, m_server->kernel_iommu(),
                                                           os::kernel::control_plane_params::from(m_cfg));
        m_cp->boot(boot_category);
        const os::dataplane::dataplane_params dpp = dataplane_params_of(m_cfg);
        const os::kernel::vnic_grant grant = m_cp->create_vnic(boot_category, server_mac(), server_ip(), dataplane_region_bytes(dpp));
        m_server_dp = std::make_unique<os::dataplane::dataplane>(core, grant, dpp);
        m_server_dp->init();
        m_server_dp->enable_tcp(tp, tcp_seed);
        add_client_arp(m_server_dp->stack());
        m_posix = std::make_unique<os::dataplane::posix_sockets>(*m_server_dp);
        m_arrakis_storage = std::make_unique<arrakis_storage>();
        m_arrakis_storage->boot(*m_server, "redis_aof", static_cast<uint64_t>(m_cfg.get_int("workload.redis.log_vsa_kb")) * 1024);
        m_arrakis_storage->log->format(derive_seed(m_setup.seed, "redis/log_id"));
        m_arrakis_storage->log->drain();
        m_aof_log = std::make_unique<workloads::redis::aof_log>(*m_arrakis_storage->log);
        api = m_posix.get();
        aof = m_aof_log.get();
    }
    workloads::redis::server_params sp = workloads::redis::server_params_of(m_cfg);
    m_app = std::make_unique<workloads::redis::server>(core, *api, sp.aof ? aof : nullptr, sp);
    m_app->set_keep_records(m_setup.keep_records);
    if (m_cfg.get_bool("workload.redis.preload"))
        workloads::redis::preload(m_app->table(), static_cast<uint32_t>(m_cfg.get_int("workload.redis.keys")),
                                  static_cast<size_t>(m_cfg.get_int("workload.redis.value_bytes")));
    m_listening = true;
    m_listening_ev.notify(SC_ZERO_TIME);
    m_app->run();
}

void redis_testbed::client_main(unsigned i)
{
    client_side& cs = m_clients[i];
    os::cpu_core& core = *cs.net.h->core;
    // The client's rings are the dataplane's configured ones: they must hold the replies of every
    // connection's outstanding request.
    cs.dp = start_client_dataplane(*cs.net.h, nth_mac(m_cfg, "platform.tenants.client_mac_base", i),
                                   nth_ip(m_cfg, "platform.tenants.client_ip_base", i), dataplane_params_of(m_cfg));
    os::net::tcp_layer& tcp = cs.dp->enable_tcp(os::net::tcp_layer::params_of(m_cfg), derive_seed(m_setup.seed, fmt::format("redis/client_tcp/{}", i)));
    // The server's address is configured, not resolved (a load generator starts at once).
    cs.dp->stack().add_static_arp(server_ip(), server_mac());
    // Connections wait for the server to listen (its boot takes simulated time; an early SYN is refused).
    core.wait_until(os::category::poll, [this] { return m_listening; }, &m_listening_ev);
    const auto hosts = static_cast<unsigned>(m_clients.size());
    auto share = [&](uint64_t n) { return n / hosts + (i < n % hosts ? 1 : 0); };
    workloads::redis::client_params p = workloads::redis::client_params_of(m_cfg);
    p.server = server_ip();
    p.connections = static_cast<unsigned>(share(p.connections));
    p.warmup = share(m_setup.warmup);
    p.requests = share(m_setup.requests);
    p.tail = share(m_setup.tail);
    p.seed = derive_seed(m_setup.seed, fmt::format("redis/client/{}", i));
    cs.load = std::make_unique<workloads::redis::client>(*cs.dp, tcp, p);
    cs.load->run();
    if (++m_clients_done < hosts)
        return;
    wait_until_drained(core);
    m_done = true;
    sc_stop();
}

// The server finishes what it has in progress (a SET between its execution and its fsync) before the
// run ends, so that the store and the durable AOF can be compared.
void redis_testbed::wait_until_drained(os::cpu_core& core)
{
    const sc_time step(m_cfg.get_real("workload.redis.drain_check_us"), SC_US);
    auto synced = [this] {
        return m_aof_file ? m_aof_file->synced() : m_aof_log ? m_aof_log->synced() : true;
    };
    uint64_t last = m_app ? m_app->stats().commands : 0;
    unsigned steady = 0;
    while (steady < 3) {
        const sc_time until = core.local_time() + step;
        core.wait_until(os::category::poll, [] { return false; }, nullptr, until);
        const uint64_t now = m_app ? m_app->stats().commands : 0;
        steady = now == last && synced() ? steady + 1 : 0;
        last = now;
    }
}

bool redis_testbed::run()
{
    sc_report_handler::set_actions("/OSCI/SystemC", SC_INFO, SC_DO_NOTHING);
    sc_start(sc_time(m_cfg.get_real("experiment.max_sim_ms"), SC_MS));
    return m_done;
}

std::vector<uint8_t> redis_testbed::durable_aof() const
{
    if (m_aof_file)
        return m_aof_file->durable_bytes();
    if (m_aof_log)
        return m_aof_log->durable_bytes();
    return {};
}

uint64_t redis_testbed::aof_written() const
{
    if (m_aof_file)
        return m_aof_file->stats().bytes;
    if (m_aof_log)
        return m_aof_log->stats().bytes;
    return 0;
}

double redis_testbed::simulated_us() const { return sc_time_stamp().to_seconds() * 1e6; }

bool redis_testbed::clients_started() const
{
    for (const client_side& cs : m_clients)
        if (!cs.load)
            return false;
    return true;
}

uint64_t redis_testbed::connections_settled() const
{
    uint64_t n = 0;
    for (const client_side& cs : m_clients)
        if (cs.load)
            n += cs.load->stats().connected + cs.load->stats().connect_failures;
    return n;
}

const os::net::tcp_layer* redis_testbed::server_tcp() const
{
    if (m_linux)
        return m_linux->tcp();
    return m_server_dp ? m_server_dp->tcp() : nullptr;
}

nlohmann::json redis_testbed::counters()
{
    nlohmann::json j;
    auto tcp_json = [](const os::net::tcp_layer* t) {
        nlohmann::json k;
        if (!t)
            return k;
        k["retransmits"] = t->stats().retransmits;
        k["rto_expiries"] = t->stats().rto_expiries;
        k["fast_retransmits"] = t->stats().fast_retransmits;
        k["resets_out"] = t->stats().resets_out;
        k["accept_overflow"] = t->stats().accept_overflow;
        k["segments_in"] = t->stats().segments_in;
        k["segments_out"] = t->stats().segments_out;
        k["delayed_acks"] = t->stats().delayed_acks;
        return k;
    };
    j["server_tcp"] = tcp_json(server_tcp());
    uint64_t client_retransmits = 0;
    for (unsigned i = 0; i < clients(); ++i)
        if (const os::net::tcp_layer* t = client_tcp(i))
            client_retransmits += t->stats().retransmits;
    j["client_retransmits"] = client_retransmits;
    const nic::e10k_stats& n = m_server->nic->stats();
    j["server_nic_drops"] = n.rx_buffer_overflow + n.rx_no_descriptor + n.rx_queue_disabled + n.rx_buffer_too_small;
    j["switch_drops"] = m_switch->dropped();
    uint64_t client_nic_drops = 0;
    for (const client_side& cs : m_clients) {
        const nic::e10k_stats& k = cs.net.h->nic->stats();
        client_nic_drops += k.rx_buffer_overflow + k.rx_no_descriptor + k.rx_queue_disabled + k.rx_buffer_too_small;
    }
    j["client_nic_drops"] = client_nic_drops;
    if (m_linux) {
        const os::linux_path::linux_stats& l = m_linux->stats();
        j["linux"] = {{"rx_no_buffer", l.rx_no_buffer}, {"tx_ring_full", l.tx_ring_full}, {"sock_drops", l.sock_drops},
                      {"qdisc_drops", l.qdisc_drops}, {"interrupts", l.interrupts}, {"napi_polls", l.napi_polls}};
    }
    if (m_app) {
        j["server_iterations"] = m_app->stats().iterations;
        j["server_finished"] = m_app->stats().finished;
        j["aof_syncs"] = m_app->stats().aof_syncs;
    }
    j["device_writes"] = m_server->storage->stats().writes;
    j["simulated_us"] = simulated_us();
    return j;
}

double redis_testbed::measured_ktps() const
{
    double sum = 0;
    for (const client_side& cs : m_clients)
        if (cs.load)
            sum += cs.load->measured_ktps();
    return sum;
}

} // namespace iovsim::sim
