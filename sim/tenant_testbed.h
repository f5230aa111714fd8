#pragma once
// A multi-tenant installation: one server host with several cores and N memcached-like servers
// (one per tenant, each on its own core), and one client host per server running the memcached
// load generator, all through one switch.
//
// On the Linux-like path the servers share the PF and the kernel (its stack, its one MAC and IP):
// each has its own UDP port, steered by a 5-tuple filter to its core's queue pair. On Arrakis/P
// the kernel, as control plane, gives each tenant a VNIC of its own (a VF with its own MAC and IP,
// its own IOMMU domain over its own DMA region), and the tenant's library OS drives it from its
// core. A rate limit on one tenant's transmissions is, on Linux, an HTB class on the device's
// qdisc; on Arrakis, a rate specifier on the tenant's transmit queue in the NIC.
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/net/eth.h"
#include "models/net/eth_switch.h"
#include "os/dataplane/dataplane.h"
#include "os/dataplane/native_udp.h"
#include "os/dataplane/posix_sockets.h"
#include "os/kernel/control_plane.h"
#include "os/kernel/iommu_driver.h"
#include "os/linux/linux_kernel.h"
#include "sim/config.h"
#include "sim/params.h"
#include "sim/testbed.h"
#include "workloads/memcached/load_generator.h"
#include "workloads/memcached/server.h"

namespace iovsim::sim {

class tenant_testbed;

// What a misbehaving tenant's program gets on Arrakis: its core, its VNIC (its VF's registers and
// its DMA region), its tenant id, and system calls into the kernel (the control plane runs on the
// kernel's core; the caller waits for the answer).
struct attack_env {
    tenant_testbed& tb;
    os::cpu_core& core;
    os::kernel::vnic_grant grant;
    os::kernel::tenant_id tenant = 0;
    std::function<void(const std::function<void()>&)> kernel_call;
};

struct tenant_setup {
    server_path path = server_path::linux_kernel;   // linux or arrakis_p
    unsigned servers = 5;
    unsigned outstanding = 16;    // per client, closed loop
    double rate_kpps = 0;         // per client, > 0: open loop
    double limit_bps = 0;         // > 0: server `limited` may send this many bits per second
    unsigned limited = 0;
    uint64_t seed = 1;
    // Arrakis: the kernel gives each tenant a receive filter for its port and, with rich filter
    // hardware (platform.nic.filters=rich), a transmit filter allowing only its own address and port.
    bool tenant_filters = false;
    // Arrakis: tenant `attacker` (>= 0) runs `attack` instead of a memcached server; its client
    // host sends it a few datagrams and measures nothing. The run ends when the others' clients
    // have finished.
    int attacker = -1;
    std::function<void(attack_env&)> attack;
    unsigned attacker_client_datagrams = 32;
};

class tenant_testbed {
public:
    // The parameters this testbed reads beyond the platform's (sim/params.cpp calls it).
    static void declare(cfg::schema& s);
    // Checks that span parameters (addresses parse, enough cores and VFs). Throws cfg::config_error.
    static void check(const cfg::config& c, server_path path, unsigned servers);

    tenant_testbed(const cfg::config& c, const tenant_setup& setup);
    ~tenant_testbed();

    // Runs until every client has finished its measured window (or the time limit). False when stuck.
    bool run();

    unsigned servers() const { return m_setup.servers; }
    const workloads::mc::load_generator& client(unsigned i) const { return *m_tenants.at(i).load; }
    const workloads::mc::server* server_app(unsigned i) const { return m_tenants.at(i).app.get(); }
    host& server_host() { return *m_server; }
    host& client_host(unsigned i) { return *m_tenants.at(i).net.h; }
    os::linux_path::linux_kernel* linux_kernel() { return m_linux.get(); }
    os::kernel::control_plane* control_plane() { return m_cp.get(); }
    os::dataplane::dataplane* tenant_dataplane(unsigned i) { return m_tenants.at(i).dp.get(); }
    // Arrakis: tenant i's VNIC and tenant id (valid once the kernel has booted).
    const os::kernel::vnic_grant& grant(unsigned i) const { return m_tenants.at(i).grant; }
    // What the attacker's client host received on its port (datagrams, their UDP payload bytes,
    // each arrival): what the attacker managed to send it.
    struct attack_receipts {
        uint64_t datagrams = 0, payload_bytes = 0;
        std::vector<sc_core::sc_time> arrivals;
    };
    const attack_receipts& attacker_receipts() const { return m_receipts; }
    static constexpr uint16_t attacker_client_port = 40000;
    // The core tenant i's server runs on (Arrakis keeps core 0 for the kernel when there are cores
    // to spare).
    unsigned core_of(unsigned i) const;
    wire::ipv4_addr server_ip(unsigned i) const;
    wire::mac_addr server_mac(unsigned i) const;
    uint16_t server_port(unsigned i) const;

private:
    struct tenant {
        // On the server (Arrakis: its VNIC and library OS; both paths: the memcached server)
        std::unique_ptr<os::dataplane::dataplane> dp;
        std::unique_ptr<os::dataplane::posix_sockets> posix;
        std::unique_ptr<workloads::mc::server> app;
        // Its client host
        switch_client net;
        std::unique_ptr<os::dataplane::dataplane> client_dp;
        std::unique_ptr<os::dataplane::native_udp> client_udp;
        std::unique_ptr<workloads::mc::load_generator> load;
        os::kernel::vnic_grant grant;
    };
    struct kernel_call {
        std::function<void()> fn;
        os::task* caller;
        os::cpu_core* caller_core;
        bool* done;
    };
    void serve_kernel_calls();
    void attacker_client(unsigned i);
    bool is_attacker(unsigned i) const { return m_setup.attacker >= 0 && static_cast<unsigned>(m_setup.attacker) == i; }
    void kernel_main();
    void linux_boot();
    void arrakis_boot();
    void client_main(unsigned i);

    const cfg::config& m_cfg;
    tenant_setup m_setup;
    os::cost_model m_costs;
    std::unique_ptr<host> m_server;
    std::unique_ptr<models::net::eth_switch> m_switch;
    std::unique_ptr<models::net::eth_link> m_server_cable;
    std::vector<tenant> m_tenants;
    std::unique_ptr<os::linux_path::linux_kernel> m_linux;
    std::unique_ptr<os::kernel::iommu_driver> m_iommu_drv;
    std::unique_ptr<os::kernel::control_plane> m_cp;
    unsigned m_done = 0;
    std::deque<kernel_call> m_calls;
    os::task* m_kernel_task = nullptr;
    std::unique_ptr<attack_env> m_attack_env;
    attack_receipts m_receipts;
};

} // namespace iovsim::sim
