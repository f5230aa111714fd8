#include "sim/tenant_testbed.h"

#include <fmt/format.h>

#include "models/platform/address_map.h"
#include "os/kernel/pf_setup.h"
#include "sim/experiment.h"

using namespace sc_core;

namespace iovsim::sim {

namespace {

constexpr unsigned max_servers = 16;

} // namespace

void tenant_testbed::declare(cfg::schema& s)
{
    s.add_int("platform.server.cores", 6, 1, 24, "", "cores of the server host (Xeon E5-2430: 6, Intel ARK)");
    s.add_string("platform.tenants.server_ip_base", "10.0.1.1",
                 "Arrakis: server i's VNIC gets this address + i (Linux-like: all share platform.server.ip)");
    s.add_string("platform.tenants.server_mac_base", "02:00:00:00:10:01", "Arrakis: server i's VNIC MAC, last octet + i");
    s.add_string("platform.tenants.client_ip_base", "10.0.2.1", "client host i's address: this + i");
    s.add_string("platform.tenants.client_mac_base", "02:00:00:00:20:01", "client host i's MAC, last octet + i");
    s.add_int("workload.memcached.servers", 5, 1, max_servers, "", "memcached-like servers, one per tenant, core and client host");
    s.add_int("workload.memcached.port", 11211, 1, 65535 - max_servers, "",
              "server i listens on UDP port + i (memcached's default port 11211)");
    s.add_int("workload.memcached.keys", 128, 1, 1 << 20, "", "distinct keys the clients use");
    s.add_int("workload.memcached.key_bytes", 64, 10, 250, "B", "key length");
    s.add_int("workload.memcached.value_bytes", 1024, 4, 1380, "B", "value length (a response fits one datagram)");
    s.add_real("workload.memcached.get_fraction", 0.9, 0, 1, "", "share of GETs in the mix (the rest are SETs)");
    s.add_real("workload.memcached.timeout_us", 2000, 1, 1e7, "us", "a request unanswered this long is given up as lost");
    s.add_real("workload.memcached.warmup_us", 500, 0, 1e9, "us", "load before the measured window (after every key is stored)");
    s.add_real("workload.memcached.measure_us", 5000, 1, 1e9, "us", "the measured window of simulated time");
    s.add_real("os.isolation.limit_mbps", 0, 0, 1e6, "Mb/s",
               "transmit rate limit on one server (Linux-like: an HTB class; Arrakis: a rate specifier); 0: none");
    s.add_int("os.isolation.limited_server", 0, 0, max_servers - 1, "", "the server the limit applies to");
    s.add_int("os.linux.htb_burst_bytes", 14100, 1600, 1 << 30, "B",
              "HTB class burst: tc's default rate/HZ + MTU (100 Mb/s at HZ 1000: 12,500 + 1,600)");
}

void tenant_testbed::check(const cfg::config& c, server_path path, unsigned servers)
{
    for (const char* key : {"platform.server.ip", "platform.tenants.server_ip_base", "platform.tenants.client_ip_base"})
        if (!wire::ipv4_addr::parse(c.get_string(key)))
            throw error_at(c, key, "'" + c.get_string(key) + "' is not an IPv4 address (dotted quad)");
    for (const char* key : {"platform.server.mac", "platform.tenants.server_mac_base", "platform.tenants.client_mac_base"}) {
        const auto mac = wire::mac_addr::parse(c.get_string(key));
        if (!mac || mac->is_multicast())
            throw error_at(c, key, "'" + c.get_string(key) + "' is not a unicast MAC address (aa:bb:cc:dd:ee:ff)");
        if (key != std::string("platform.server.mac") && mac->bytes[5] + servers > 256)
            throw error_at(c, key, fmt::format("the last octet leaves no room for {} consecutive addresses", servers));
    }
    if (c.get_int("platform.server.cores") < servers)
        throw error_at(c, "platform.server.cores",
                       fmt::format("{} cores cannot give each of {} servers its own", c.get_int("platform.server.cores"), servers));
    if (path == server_path::arrakis_p && c.get_int("platform.nic.num_vfs") < servers)
        throw error_at(c, "platform.nic.num_vfs", fmt::format("Arrakis needs a VF per server ({})", servers));
    if (c.get_int("os.isolation.limited_server") >= servers)
        throw error_at(c, "os.isolation.limited_server", fmt::format("there are {} servers", servers));
}

tenant_testbed::tenant_testbed(const cfg::config& c, const tenant_setup& setup)
    : m_cfg(c), m_setup(setup), m_costs(os::cost_model::from(c))
{
    const uint64_t mb = 1ULL << 20;
    const unsigned n = setup.servers;
    m_server = std::make_unique<host>("server", c, m_costs, c.get_int("platform.server.dram_mb") * mb,
                                      static_cast<unsigned>(c.get_int("platform.nic.num_vfs")),
                                      c.get_bool("platform.iommu.pass_through"),
                                      static_cast<unsigned>(c.get_int("platform.server.cores")));
    m_switch = make_switch(c, 1 + n);
    m_server_cable = plug_into_switch(c, *m_server, *m_switch, 0, "server_cable");
    m_tenants.resize(n);
    for (unsigned i = 0; i < n; ++i) {
        tenant& t = m_tenants[i];
        t.net = add_client_host(c, m_costs, *m_switch, i);
        t.net.h->core->spawn("client_main", [this, i] { client_main(i); });
    }
    m_server->core->spawn("kernel_main", [this] { kernel_main(); }, false);
}

tenant_testbed::~tenant_testbed() = default;

wire::ipv4_addr tenant_testbed::server_ip(unsigned i) const
{
    return m_setup.path == server_path::linux_kernel ? *wire::ipv4_addr::parse(m_cfg.get_string("platform.server.ip"))
                                                     : nth_ip(m_cfg, "platform.tenants.server_ip_base", i);
}

wire::mac_addr tenant_testbed::server_mac(unsigned i) const
{
    return m_setup.path == server_path::linux_kernel ? *wire::mac_addr::parse(m_cfg.get_string("platform.server.mac"))
                                                     : nth_mac(m_cfg, "platform.tenants.server_mac_base", i);
}

uint16_t tenant_testbed::server_port(unsigned i) const
{
    return static_cast<uint16_t>(m_cfg.get_int("workload.memcached.port") + i);
}

// The server's kernel boots on core 0, sets the tenants up, and starts each tenant's server on its
// own core.
void tenant_testbed::kernel_main()
{
    if (m_setup.path == server_path::linux_kernel)
        linux_boot();
    else
        arrakis_boot();
}

void tenant_testbed::linux_boot()
{
    std::vector<os::cpu_core*> cores;
    for (unsigned i = 0; i < m_server->cores(); ++i)
        cores.push_back(&m_server->cpu(i));
    const os::linux_path::linux_params lp = linux_params_of(m_cfg);
    m_linux = std::make_unique<os::linux_path::linux_kernel>(cores, *m_server->pages,
                                                             *wire::mac_addr::parse(m_cfg.get_string("platform.server.mac")),
                                                             server_ip(0), lp);
    m_linux->boot();
    for (unsigned i = 0; i < m_setup.servers; ++i)
        m_linux->steer_udp_port(server_port(i), i);
    if (m_setup.limit_bps > 0)
        m_linux->add_rate_limit(server_port(m_setup.limited), m_setup.limit_bps,
                                static_cast<uint64_t>(m_cfg.get_int("os.linux.htb_burst_bytes")));
    for (unsigned i = 0; i < m_setup.servers; ++i) {
        os::cpu_core& core = m_server->cpu(i);
        m_tenants[i].app = std::make_unique<workloads::mc::server>(core, *m_linux, server_port(i));
        core.spawn("memcached" + std::to_string(i), [this, i] { m_tenants[i].app->run(); });
    }
}

unsigned tenant_testbed::core_of(unsigned i) const
{
    const bool spare = m_setup.path != server_path::linux_kernel && m_server->cores() > m_setup.servers;
    return spare ? i + 1 : i;
}

void tenant_testbed::arrakis_boot()
{
    os::cpu_core& core0 = *m_server->core;
    const unsigned levels = static_cast<unsigned>(m_cfg.get_int("platform.iommu.levels"));
    m_iommu_drv = std::make_unique<os::kernel::iommu_driver>(core0, *m_server->pages, levels);
    m_cp = std::make_unique<os::kernel::control_plane>(core0, *m_server->pages, *m_iommu_drv,
                                                       os::kernel::control_plane_params::from(m_cfg));
    m_cp->boot(os::category::scheduler);
    const os::dataplane::dataplane_params dpp = dataplane_params_of(m_cfg);
    const os::category k = os::category::scheduler;
    for (unsigned i = 0; i < m_setup.servers; ++i) {
        tenant& t = m_tenants[i];
        t.grant = m_cp->create_vnic(k, nth_mac(m_cfg, "platform.tenants.server_mac_base", i), server_ip(i),
                                    dataplane_region_bytes(dpp));
        if (m_setup.limit_bps > 0 && i == m_setup.limited)
            m_cp->set_rate(k, t.grant, 0, m_setup.limit_bps);   // the VNIC's transmit queue
        if (m_setup.tenant_filters) {
            os::kernel::filter_spec f;
            f.local_ip = server_ip(i);
            f.local_port = server_port(i);
            if (const auto cap = m_cp->create_filter(k, t.grant.tenant, f))
                m_cp->attach_filter(k, t.grant.tenant, *cap, t.grant, 0);
            if (m_cp->params().rich_filters) {
                f.dir = os::kernel::filter_spec::direction::transmit;
                if (const auto cap = m_cp->create_filter(k, t.grant.tenant, f))
                    m_cp->attach_filter(k, t.grant.tenant, *cap, t.grant, 0);
            }
        }
        os::cpu_core& core = m_server->cpu(core_of(i));
        if (is_attacker(i)) {
            m_attack_env = std::make_unique<attack_env>(attack_env{*this, core, t.grant, t.grant.tenant, {}});
            m_attack_env->kernel_call = [this, &core](const std::function<void()>& fn) {
                bool done = false;
                m_calls.push_back({fn, core.current(), &core, &done});
                m_server->core->wake(*m_kernel_task);
                while (!done)
                    core.block();
            };
            core.spawn("attacker" + std::to_string(i), [this] { m_setup.attack(*m_attack_env); });
            continue;
        }
        t.dp = std::make_unique<os::dataplane::dataplane>(core, t.grant, dpp);
        t.posix = std::make_unique<os::dataplane::posix_sockets>(*t.dp);
        t.app = std::make_unique<workloads::mc::server>(core, *t.posix, server_port(i));
        core.spawn("memcached" + std::to_string(i), [&t] {
            t.dp->init();
            t.app->run();
        });
    }
    serve_kernel_calls();
}

// The kernel's core after boot: it sleeps until a tenant makes a system call into the control
// plane, runs it, and wakes the caller.
void tenant_testbed::serve_kernel_calls()
{
    os::cpu_core& core0 = *m_server->core;
    m_kernel_task = core0.current();
    for (;;) {
        while (m_calls.empty())
            core0.block();
        const kernel_call call = m_calls.front();
        m_calls.pop_front();
        call.fn();
        *call.done = true;
        call.caller_core->wake(*call.caller);
    }
}

// The attacker's client host: sends it a few datagrams (so its receive ring is used), then idles.
void tenant_testbed::attacker_client(unsigned i)
{
    tenant& t = m_tenants[i];
    os::cpu_core& core = *t.net.h->core;
    const uint16_t port = attacker_client_port;
    t.client_udp->bind(port, [this, &t, &core](os::net::pkt& p, const os::net::udp_meta&) {
        ++m_receipts.datagrams;
        m_receipts.arrivals.push_back(core.local_time());
        m_receipts.payload_bytes += p.len;
        t.client_udp->release(p);
    });
    for (unsigned n = 0; n < m_setup.attacker_client_datagrams; ++n) {
        t.client_dp->wait_rx_until(core.local_time() + sc_time(20, SC_US));
        t.client_dp->poll();
        os::net::pkt p;
        if (!t.client_dp->pool().alloc(p))
            continue;
        p.len = 512;
        std::fill(p.bytes(), p.bytes() + p.len, static_cast<uint8_t>(0xA5));
        t.client_udp->send(p, port, server_ip(i), server_port(i));
    }
    for (;;)
        t.client_udp->run_once();
}

void tenant_testbed::client_main(unsigned i)
{
    tenant& t = m_tenants[i];
    t.client_dp = start_client_dataplane(*t.net.h, nth_mac(m_cfg, "platform.tenants.client_mac_base", i),
                                   nth_ip(m_cfg, "platform.tenants.client_ip_base", i));
    t.client_udp = std::make_unique<os::dataplane::native_udp>(*t.client_dp);
    // The server's address is configured, not resolved: a load generator starts at once, and an
    // ARP request sent before the server is up would go unanswered (the stack does not retry).
    t.client_dp->stack().add_static_arp(server_ip(i), server_mac(i));
    if (is_attacker(i))
        return attacker_client(i);
    workloads::mc::load_params p;
    p.server = server_ip(i);
    p.server_port = server_port(i);
    p.keys = static_cast<unsigned>(m_cfg.get_int("workload.memcached.keys"));
    p.key_bytes = static_cast<unsigned>(m_cfg.get_int("workload.memcached.key_bytes"));
    p.value_bytes = static_cast<unsigned>(m_cfg.get_int("workload.memcached.value_bytes"));
    p.get_fraction = m_cfg.get_real("workload.memcached.get_fraction");
    p.outstanding = m_setup.outstanding;
    p.rate_kpps = m_setup.rate_kpps;
    p.timeout_us = m_cfg.get_real("workload.memcached.timeout_us");
    p.warmup_us = m_cfg.get_real("workload.memcached.warmup_us");
    p.measure_us = m_cfg.get_real("workload.memcached.measure_us");
    p.seed = derive_seed(m_setup.seed, "memcached_client/" + std::to_string(i));
    t.load = std::make_unique<workloads::mc::load_generator>(*t.client_dp, *t.client_udp, p, [this] {
        if (++m_done == m_setup.servers - (m_setup.attacker >= 0 ? 1 : 0))
            sc_stop();
    });
    t.load->run();
}

bool tenant_testbed::run()
{
    sc_report_handler::set_actions("/OSCI/SystemC", SC_INFO, SC_DO_NOTHING);
    sc_start(sc_time(m_cfg.get_real("experiment.max_sim_ms"), SC_MS));
    return m_done == m_setup.servers - (m_setup.attacker >= 0 ? 1 : 0);
}

} // namespace iovsim::sim
