#pragma once
// A simulated installation: the server host and a client host, each with DRAM, a root complex, an
// IOMMU, an e10k behind a PCIe link and a core, joined by cables through a switch; and the software
// of one column (the server's path, the echo server, the client's load generator).
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "models/iommu/iommu.h"
#include "models/net/eth.h"
#include "models/net/eth_switch.h"
#include "models/nic/e10k.h"
#include "models/platform/dram.h"
#include "models/platform/pcie_link.h"
#include "models/platform/root_complex.h"
#include "models/storage/storage_ctrl.h"
#include "os/core/cpu_core.h"
#include "os/dataplane/dataplane.h"
#include "os/dataplane/native_udp.h"
#include "os/dataplane/posix_sockets.h"
#include "os/kernel/control_plane.h"
#include "os/kernel/iommu_driver.h"
#include "os/kernel/phys_alloc.h"
#include "os/linux/linux_kernel.h"
#include "sim/config.h"
#include "sim/params.h"
#include "sim/pcap.h"
#include "sim/storage_testbed.h"
#include "sim/trace.h"
#include "workloads/udp_echo/echo_client.h"

namespace iovsim::sim {

// Address i of a block that starts at the configured base (the config's check made sure it parses;
// a MAC's last octet + i).
wire::ipv4_addr nth_ip(const cfg::config& c, const std::string& key, unsigned i);
wire::mac_addr nth_mac(const cfg::config& c, const std::string& key, unsigned i);

// The platform file's settings of the shared hardware pieces (every testbed builds hosts from them).
models::dram_params dram_params_of(const cfg::config& c, uint64_t dram_bytes);
models::pcie_params pcie_params_of(const cfg::config& c);
iommu::iommu_params iommu_params_of(const cfg::config& c, bool pass_through);

// One machine's hardware and its kernel's memory allocator; optionally with the storage controller
// (models/storage) on its own PCIe link beside the NIC's, behind the same IOMMU, root complex and
// DRAM: each device is its own requester (address_map.h: NIC on bus 1, controller on bus 2) in its
// own IOMMU domains, and the storage software (sim/storage_stacks) boots on it as on the storage host.
struct host : storage_host {
    std::unique_ptr<models::dram> mem;
    std::unique_ptr<models::root_complex> rc;
    std::unique_ptr<models::pcie_link> link;
    std::unique_ptr<iommu::iommu> mmu;
    std::unique_ptr<nic::e10k_nic> nic;
    std::unique_ptr<os::accounting> acct;
    std::unique_ptr<os::cpu_core> core;                      // core 0 (APIC id 0)
    std::vector<std::unique_ptr<os::cpu_core>> more_cores;    // cores 1.. (APIC id = index)
    std::unique_ptr<os::kernel::phys_alloc> pages;
    std::unique_ptr<models::pcie_link> storage_link;        // with_storage only
    std::unique_ptr<storage::storage_ctrl> storage;         // with_storage only

    host(const std::string& name, const cfg::config& c, const os::cost_model& costs, uint64_t dram_bytes,
         unsigned num_vfs, bool iommu_pass_through, unsigned cores = 1, bool with_storage = false);
    ~host() override;
    unsigned cores() const { return 1 + static_cast<unsigned>(more_cores.size()); }
    os::cpu_core& cpu(unsigned i) { return i == 0 ? *core : *more_cores.at(i - 1); }

    // storage_host (with_storage)
    const cfg::config& host_config() const override { return m_cfg; }
    os::cpu_core& host_core(unsigned i) override { return cpu(i); }
    os::kernel::phys_alloc& host_pages() override { return *pages; }
    storage::storage_ctrl& storage_controller() override;
    vsic_mode storage_mode() const override;
    os::kernel::iommu_driver& kernel_iommu() override;
    void spawn_on(unsigned i, const std::string& name, std::function<void()> body) override { cpu(i).spawn(name, std::move(body)); }

private:
    const cfg::config& m_cfg;
    std::unique_ptr<os::kernel::iommu_driver> m_iommu_drv;
};

// Faults on a cable (platform.link.loss/duplicate/reorder; off by default), drawn from the stream
// "link/<cable>" of experiment.seed.
void declare_link_impairment(cfg::schema& s);
models::net::link_impairment link_impairment_of(const cfg::config& c, const std::string& cable);
// The installation's switch: `ports` ports at the NIC's line rate, with platform.switch.* settings.
std::unique_ptr<models::net::eth_switch> make_switch(const cfg::config& c, unsigned ports);
// A cable named `name` from host `h`'s NIC to port `port` of `sw`: platform.link.propagation_ns, and
// the cable faults platform.link.* set (seeded by the name).
std::unique_ptr<models::net::eth_link> plug_into_switch(const cfg::config& c, host& h, models::net::eth_switch& sw,
                                                        unsigned port, const std::string& name);
// Client host i of a server's switch: "client<i>" (platform.client.dram_mb, no VFs, IOMMU in
// pass-through) on port 1 + i, the server having port 0, by its cable "client<i>_cable".
struct switch_client {
    std::unique_ptr<host> h;
    std::unique_ptr<models::net::eth_link> cable;
};
switch_client add_client_host(const cfg::config& c, const os::cost_model& costs, models::net::eth_switch& sw,
                              unsigned i);

// The drivers' parameters as the config sets them.
os::linux_path::linux_params linux_params_of(const cfg::config& c);
os::dataplane::dataplane_params dataplane_params_of(const cfg::config& c);
// The DMA region a dataplane needs for its rings and buffers.
uint64_t dataplane_region_bytes(const os::dataplane::dataplane_params& p);
// A client host's kernel brings its NIC up with `mac` and hands queue 0 of the PF to a load
// generator's dataplane (a lean client stack, so the server is what a measurement sees). Runs on
// the host's core 0; the dataplane is initialized.
// `dpp`: the dataplane's rings and buffers (a load generator with many requests in flight needs
// rings that hold their replies).
std::unique_ptr<os::dataplane::dataplane> start_client_dataplane(host& h, wire::mac_addr mac, wire::ipv4_addr ip,
                                                                 const os::dataplane::dataplane_params& dpp = {});

struct column_setup {
    std::string column;
    server_path path = server_path::arrakis_n;
    unsigned outstanding = 1;
    double think_us = 0;
    double rate_kpps = 0;       // > 0: open loop
    bool endless = false;       // the client never finishes: the caller runs the simulation in steps
    uint64_t seed = 1;
    std::string pcap_path;      // empty: no capture
};

class testbed {
public:
    testbed(const cfg::config& c, const column_setup& setup);
    ~testbed();

    // Runs until the client has its measured replies (or the time limit). False when stuck.
    bool run();
    // Writes out the capture up to now (for a caller that runs the simulation in steps itself).
    void finish_capture();

    os::accounting& server_accounting() { return *m_server->acct; }
    const workloads::echo_client& client() const { return *m_client; }
    host& server() { return *m_server; }
    models::net::eth_switch& network_switch() { return *m_switch; }
    // The dataplane of the server's application (Arrakis paths; nullptr on Linux) and the client's.
    const os::dataplane::dataplane* server_dataplane() const { return m_server_dp.get(); }
    const os::dataplane::dataplane* client_dataplane() const { return m_client_dp.get(); }
    host& client_host() { return *m_client_host; }
    double simulated_us() const;

private:
    void server_software();
    void capture(const models::net::frame_ptr& frame, const sc_core::sc_time& sent);
    void flush_capture(const sc_core::sc_time& up_to);
    void client_software();
    void add_vcd_probes(trace::vcd_probes& vcd);

    const cfg::config& m_cfg;
    column_setup m_setup;
    os::cost_model m_costs;
    std::unique_ptr<host> m_server;
    std::unique_ptr<host> m_client_host;
    std::unique_ptr<models::net::eth_switch> m_switch;
    std::unique_ptr<models::net::eth_link> m_server_cable;
    std::unique_ptr<models::net::eth_link> m_client_cable;
    std::unique_ptr<pcap_writer> m_pcap;
    std::unique_ptr<trace::vcd_probes> m_vcd;
    struct captured {
        sc_core::sc_time when;
        uint64_t seq;
        models::net::frame_ptr frame;
        bool operator>(const captured& o) const { return when != o.when ? when > o.when : seq > o.seq; }
    };
    std::priority_queue<captured, std::vector<captured>, std::greater<captured>> m_capture;
    uint64_t m_capture_seq = 0;

    // Server software (one of the paths)
    std::unique_ptr<os::linux_path::linux_kernel> m_linux;
    std::unique_ptr<os::kernel::iommu_driver> m_iommu_drv;
    std::unique_ptr<os::kernel::control_plane> m_cp;
    std::unique_ptr<os::dataplane::dataplane> m_server_dp;
    std::unique_ptr<os::dataplane::posix_sockets> m_posix;
    std::unique_ptr<os::dataplane::native_udp> m_native;
    // Client software
    std::unique_ptr<os::dataplane::dataplane> m_client_dp;
    std::unique_ptr<os::dataplane::native_udp> m_client_udp;
    std::unique_ptr<workloads::echo_client> m_client;
    bool m_done = false;
};

} // namespace iovsim::sim
