#include "sim/testbed.h"

#include "models/platform/address_map.h"

#include <algorithm>
#include "os/kernel/pf_setup.h"
#include "sim/experiment.h"
#include "workloads/udp_echo/echo_server.h"

using namespace sc_core;

namespace iovsim::sim {

namespace {

// Addresses from the config; load_run_config has checked that they parse.
wire::mac_addr mac_of(const cfg::config& c, const std::string& key) { return *wire::mac_addr::parse(c.get_string(key)); }
wire::ipv4_addr ip_of(const cfg::config& c, const std::string& key) { return *wire::ipv4_addr::parse(c.get_string(key)); }
constexpr uint64_t kernel_reserved = 1 << 20;   // low memory the kernel keeps for itself

sc_time ns(double v) { return sc_time(v, SC_NS); }

} // namespace

wire::ipv4_addr nth_ip(const cfg::config& c, const std::string& key, unsigned i)
{
    return wire::ipv4_addr{wire::ipv4_addr::parse(c.get_string(key))->value + i};
}

wire::mac_addr nth_mac(const cfg::config& c, const std::string& key, unsigned i)
{
    wire::mac_addr m = *wire::mac_addr::parse(c.get_string(key));
    m.bytes[5] = static_cast<uint8_t>(m.bytes[5] + i);
    return m;
}

models::dram_params dram_params_of(const cfg::config& c, uint64_t dram_bytes)
{
    models::dram_params dp;
    dp.size_bytes = dram_bytes;
    dp.access_latency = ns(c.get_real("platform.dram.latency_ns"));
    dp.bandwidth_gbps = c.get_real("platform.dram.bandwidth_gbps");
    return dp;
}

models::pcie_params pcie_params_of(const cfg::config& c)
{
    models::pcie_params pp;
    pp.lane_gtps = c.get_real("platform.pcie.lane_gtps");
    pp.lanes = static_cast<unsigned>(c.get_int("platform.pcie.lanes"));
    pp.encoding = c.get_real("platform.pcie.encoding");
    pp.tlp_overhead_bytes = static_cast<unsigned>(c.get_int("platform.pcie.tlp_overhead_bytes"));
    pp.max_payload_bytes = static_cast<unsigned>(c.get_int("platform.pcie.max_payload_bytes"));
    pp.max_read_request_bytes = static_cast<unsigned>(c.get_int("platform.pcie.max_read_request_bytes"));
    pp.one_way_latency = ns(c.get_real("platform.pcie.one_way_ns"));
    return pp;
}

iommu::iommu_params iommu_params_of(const cfg::config& c, bool pass_through)
{
    iommu::iommu_params ip;
    ip.translator.iotlb_entries = static_cast<unsigned>(c.get_int("platform.iommu.iotlb_entries"));
    ip.translator.context_cache_entries = static_cast<unsigned>(c.get_int("platform.iommu.context_cache_entries"));
    ip.translator.pde_cache_entries = static_cast<unsigned>(c.get_int("platform.iommu.pde_cache_entries"));
    ip.translator.pass_through = pass_through;
    ip.lookup_latency = ns(c.get_real("platform.iommu.lookup_ns"));
    return ip;
}

host::host(const std::string& name, const cfg::config& c, const os::cost_model& costs, uint64_t dram_bytes,
           unsigned num_vfs, bool iommu_pass_through, unsigned cores, bool with_storage)
    : m_cfg(c)
{
    mem = std::make_unique<models::dram>((name + "_dram").c_str(), dram_params_of(c, dram_bytes));
    rc = std::make_unique<models::root_complex>((name + "_rc").c_str(), dram_bytes);
    link = std::make_unique<models::pcie_link>((name + "_pcie").c_str(), pcie_params_of(c));
    mmu = std::make_unique<iommu::iommu>((name + "_iommu").c_str(), iommu_params_of(c, iommu_pass_through));

    nic::e10k_params np;
    np.num_vfs = num_vfs;
    np.line_gbps = c.get_real("platform.nic.line_gbps");
    np.cycle = ns(c.get_real("platform.nic.cycle_ns"));
    np.rx_parse_cycles = static_cast<unsigned>(c.get_int("platform.nic.rx_parse_cycles"));
    np.dma_setup_cycles = static_cast<unsigned>(c.get_int("platform.nic.dma_setup_cycles"));
    np.rx_desc_fetch_batch = static_cast<unsigned>(c.get_int("platform.nic.rx_desc_fetch_batch"));
    np.tx_desc_fetch_batch = static_cast<unsigned>(c.get_int("platform.nic.tx_desc_fetch_batch"));
    np.rx_packet_buffer_bytes = static_cast<uint64_t>(c.get_int("platform.nic.rx_packet_buffer_kb")) * 1024;
    np.rich_filters = c.get_string("platform.nic.filters") == "rich";
    nic = std::make_unique<nic::e10k_nic>((name + "_nic").c_str(), np);

    acct = std::make_unique<os::accounting>();
    core = std::make_unique<os::cpu_core>((name + "_core0").c_str(), 0, costs, *mem, *acct,
                                          ns(c.get_real("experiment.quantum_ns")));
    pages = std::make_unique<os::kernel::phys_alloc>(kernel_reserved, dram_bytes);

    // Wiring: core -> root complex -> {NIC link, IOMMU registers}; NIC -> link -> IOMMU -> root complex -> DRAM.
    core->bus.bind(rc->cpu_target);
    rc->mmio_init.bind(link->down_target);
    rc->mmio_init.bind(mmu->reg_target);
    // With the controller, the NIC's window ends where the controller's BARs begin.
    const uint64_t nic_window_end = with_storage ? models::storage_pf_bar0 : models::iommu_reg_base;
    rc->map_mmio(models::mmio_base, nic_window_end - models::mmio_base, 0, "nic");
    rc->map_mmio(models::iommu_reg_base, models::iommu_reg_size, 1, "iommu");
    link->down_init.bind(nic->bar);
    nic->dma.bind(link->up_target);
    link->up_init.bind(mmu->dma_in);
    if (with_storage) {
        // The controller on its own link (its own width and rate), into the same IOMMU.
        models::pcie_params sp = pcie_params_of(c);
        sp.lane_gtps = c.get_real("platform.storage.pcie.lane_gtps");
        sp.lanes = static_cast<unsigned>(c.get_int("platform.storage.pcie.lanes"));
        sp.encoding = c.get_real("platform.storage.pcie.encoding");
        storage_link = std::make_unique<models::pcie_link>((name + "_storage_pcie").c_str(), sp);
        storage = std::make_unique<storage::storage_ctrl>((name + "_storage_ctrl").c_str(), storage_testbed::controller_params(c));
        rc->mmio_init.bind(storage_link->down_target);
        rc->map_mmio(models::storage_pf_bar0, models::storage_mmio_end - models::storage_pf_bar0, 2, "storage");
        storage_link->down_init.bind(storage->bar);
        storage->dma.bind(storage_link->up_target);
        storage_link->up_init.bind(mmu->dma_in);
    }
    mmu->mem_out.bind(rc->dma_target);
    rc->mem_init.bind(mem->target);
    rc->attach_core(0, *core);
    for (unsigned i = 1; i < cores; ++i) {
        more_cores.push_back(std::make_unique<os::cpu_core>((name + "_core" + std::to_string(i)).c_str(), i, costs, *mem,
                                                            *acct, ns(c.get_real("experiment.quantum_ns"))));
        more_cores.back()->bus.bind(rc->cpu_target);
        rc->attach_core(i, *more_cores.back());
    }
}

void declare_link_impairment(cfg::schema& s)
{
    s.add_real("platform.link.loss", 0, 0, 1, "", "probability a frame is lost on a cable (fault injection for tests; 0: off)");
    s.add_real("platform.link.duplicate", 0, 0, 1, "", "probability a frame arrives twice (fault injection; 0: off)");
    s.add_real("platform.link.reorder", 0, 0, 1, "", "probability a frame is held back by reorder_delay_us, behind later ones (fault injection; 0: off)");
    s.add_real("platform.link.reorder_delay_us", 20, 0, 1e6, "us", "how long a reordered frame is held back");
}

models::net::link_impairment link_impairment_of(const cfg::config& c, const std::string& cable)
{
    models::net::link_impairment imp;
    imp.loss = c.get_real("platform.link.loss");
    imp.duplicate = c.get_real("platform.link.duplicate");
    imp.reorder = c.get_real("platform.link.reorder");
    imp.reorder_delay = ns(c.get_real("platform.link.reorder_delay_us") * 1000);
    imp.seed = derive_seed(static_cast<uint64_t>(c.get_int("experiment.seed")), "link/" + cable);
    return imp;
}

std::unique_ptr<models::net::eth_switch> make_switch(const cfg::config& c, unsigned ports)
{
    models::net::switch_params sp;
    sp.ports = ports;
    sp.port_gbps = c.get_real("platform.nic.line_gbps");
    sp.forwarding_latency = ns(c.get_real("platform.switch.latency_ns"));
    sp.port_buffer_bytes = static_cast<uint64_t>(c.get_int("platform.switch.buffer_kb")) * 1024;
    return std::make_unique<models::net::eth_switch>("switch", sp);
}

std::unique_ptr<models::net::eth_link> plug_into_switch(const cfg::config& c, host& h, models::net::eth_switch& sw,
                                                        unsigned port, const std::string& name)
{
    auto cable = std::make_unique<models::net::eth_link>(name.c_str(), ns(c.get_real("platform.link.propagation_ns")));
    cable->connect(*h.nic, sw.port(port));
    h.nic->attach(*cable, 0);
    sw.attach(port, *cable, 1);
    cable->set_impairment(link_impairment_of(c, name));
    return cable;
}

switch_client add_client_host(const cfg::config& c, const os::cost_model& costs, models::net::eth_switch& sw,
                              unsigned i)
{
    const std::string name = "client" + std::to_string(i);
    switch_client sc;
    sc.h = std::make_unique<host>(name, c, costs, static_cast<uint64_t>(c.get_int("platform.client.dram_mb")) << 20, 0, true);
    sc.cable = plug_into_switch(c, *sc.h, sw, 1 + i, name + "_cable");
    return sc;
}

host::~host() = default;

storage::storage_ctrl& host::storage_controller()
{
    if (!storage)
        throw std::logic_error("this host has no storage controller");
    return *storage;
}

vsic_mode host::storage_mode() const { return storage_testbed::mode_of(m_cfg); }

os::kernel::iommu_driver& host::kernel_iommu()
{
    if (!m_iommu_drv)
        m_iommu_drv = std::make_unique<os::kernel::iommu_driver>(*core, *pages, static_cast<unsigned>(m_cfg.get_int("platform.iommu.levels")));
    return *m_iommu_drv;
}

os::linux_path::linux_params linux_params_of(const cfg::config& c)
{
    os::linux_path::linux_params lp;
    lp.rx_ring = static_cast<uint32_t>(c.get_int("os.linux.rx_ring"));
    lp.tx_ring = static_cast<uint32_t>(c.get_int("os.linux.tx_ring"));
    lp.buffers = static_cast<uint32_t>(c.get_int("os.linux.buffers"));
    lp.napi_budget = static_cast<unsigned>(c.get_int("os.linux.napi_budget"));
    lp.txqueuelen = static_cast<uint32_t>(c.get_int("os.linux.txqueuelen"));
    lp.itr_us = c.get_real("os.linux.itr_us");
    lp.dca = c.get_bool("os.linux.dca");
    return lp;
}

os::dataplane::dataplane_params dataplane_params_of(const cfg::config& c)
{
    os::dataplane::dataplane_params dpp;
    dpp.rx_ring = static_cast<uint32_t>(c.get_int("os.dataplane.rx_ring"));
    dpp.tx_ring = static_cast<uint32_t>(c.get_int("os.dataplane.tx_ring"));
    dpp.buffers = static_cast<uint32_t>(c.get_int("os.dataplane.buffers"));
    dpp.rx_doorbell_batch = static_cast<uint32_t>(c.get_int("os.dataplane.rx_doorbell_batch"));
    dpp.poll_batch = static_cast<unsigned>(c.get_int("os.dataplane.poll_batch"));
    dpp.tcp_software_checksum = c.get_bool("os.dataplane.tcp_software_checksum");
    return dpp;
}

uint64_t dataplane_region_bytes(const os::dataplane::dataplane_params& p)
{
    return static_cast<uint64_t>(p.buffers) * p.buf_bytes + (p.rx_ring + p.tx_ring) * 16ULL + 8192;
}

// The client's kernel brings its NIC up and hands queue 0 of the PF to the load generator's
// dataplane.
std::unique_ptr<os::dataplane::dataplane> start_client_dataplane(host& h, wire::mac_addr mac, wire::ipv4_addr ip,
                                                                 const os::dataplane::dataplane_params& dpp)
{
    os::cpu_core& core = *h.core;
    os::dev::dev_handle pf{&core, models::nic_pf_bar0};
    os::kernel::e10k_set_address(pf, os::category::scheduler, 0, mac, 0);
    os::kernel::e10k_enable(pf, os::category::scheduler);
    os::kernel::vnic_grant g;
    g.bar = models::nic_pf_bar0;
    g.rx_regs = e10k::pf::RDBAL0;
    g.tx_regs = e10k::pf::TDBAL0;
    g.region_bytes = dataplane_region_bytes(dpp);
    g.region_pa = h.pages->alloc(g.region_bytes);
    g.mac = mac;
    g.ip = ip;
    auto dp = std::make_unique<os::dataplane::dataplane>(core, g, dpp);
    dp->init();
    return dp;
}

testbed::testbed(const cfg::config& c, const column_setup& setup)
    : m_cfg(c), m_setup(setup), m_costs(os::cost_model::from(c))
{
    const uint64_t mb = 1ULL << 20;
    const bool pass_through = c.get_bool("platform.iommu.pass_through");
    m_server = std::make_unique<host>("server", c, m_costs, c.get_int("platform.server.dram_mb") * mb,
                                      static_cast<unsigned>(c.get_int("platform.nic.num_vfs")), pass_through);
    m_client_host = std::make_unique<host>("client", c, m_costs, c.get_int("platform.client.dram_mb") * mb, 0, true);

    m_switch = make_switch(c, 2);
    m_server_cable = plug_into_switch(c, *m_server, *m_switch, 0, "server_cable");
    m_client_cable = plug_into_switch(c, *m_client_host, *m_switch, 1, "client_cable");
    if (!setup.pcap_path.empty()) {
        m_pcap = std::make_unique<pcap_writer>(setup.pcap_path);
        m_server_cable->set_tap([this](const models::net::frame_ptr& f, const sc_time& t) { capture(f, t); });
    }
    if (trace::session& ts = trace::current(); !ts.vcd_path.empty()) {
        m_vcd = std::make_unique<trace::vcd_probes>("vcd_probes", ts.vcd_path, ts.vcd_period);
        add_vcd_probes(*m_vcd);
        ts.vcd = m_vcd.get();
    }
    m_server->core->spawn("server_main", [this] { server_software(); });
    m_client_host->core->spawn("client_main", [this] { client_software(); });
}

testbed::~testbed()
{
    if (m_vcd && trace::current().vcd == m_vcd.get())
        trace::current().vcd = nullptr;
}

// The hardware signals of a VCD trace, by host: counters rise by one per event, levels go up and
// down.
void testbed::add_vcd_probes(trace::vcd_probes& vcd)
{
    for (host* h : {m_server.get(), m_client_host.get()}) {
        const std::string p = h == m_server.get() ? "server." : "client.";
        const os::cpu_core* core = h->core.get();
        vcd.add(p + "core0.interrupts_taken", 32, [core] { return core->interrupts_taken(); });
        vcd.add(p + "core0.context_switches", 32, [core] { return core->context_switches(); });
        const nic::e10k_nic* n = h->nic.get();
        vcd.add(p + "nic.rx_frames", 32, [n] { return n->stats().rx_frames; });
        vcd.add(p + "nic.tx_frames", 32, [n] { return n->stats().tx_frames; });
        vcd.add(p + "nic.rx_buffer_bytes", 32, [n] { return n->rx_buffer_bytes(); });
        vcd.add(p + "nic.tx_buffer_bytes", 32, [n] { return n->tx_buffer_bytes(); });
        vcd.add(p + "nic.rx_descriptors_posted", 16, [n] { return n->rx_descriptors_posted(); });
        vcd.add(p + "nic.tx_descriptors_pending", 16, [n] { return n->tx_descriptors_pending(); });
        // The longest any queue's token bucket makes its next frame wait, in ns (0: none limited).
        vcd.add(p + "nic.tx_rate_wait_ns", 32, [n] {
            const uint64_t now = static_cast<uint64_t>(sc_time_stamp().value());
            uint64_t wait = 0;
            for (unsigned q = 0; q < nic::tx_scheduler::num_queues; ++q) {
                const auto& b = n->tx_sched().bucket(q);
                if (b.enabled() && b.eligible_ps() > now)
                    wait = std::max(wait, b.eligible_ps() - now);
            }
            return wait / 1000;
        });
    }
    const iommu::iommu* mmu = m_server->mmu.get();
    vcd.add("server.iommu.iotlb_hits", 32, [mmu] { return mmu->stats().iotlb_hits; });
    vcd.add("server.iommu.iotlb_misses", 32, [mmu] { return mmu->stats().iotlb_misses; });
    vcd.add("server.iommu.table_reads", 32, [mmu] { return mmu->stats().table_reads; });
}

void testbed::server_software()
{
    os::cpu_core& core = *m_server->core;
    const auto port = static_cast<uint16_t>(m_cfg.get_int("workload.echo.port"));
    const auto payload = static_cast<size_t>(m_cfg.get_int("workload.echo.payload_bytes"));
    const double processing_ns = m_cfg.get_real("workload.echo.processing_us") * 1000.0;
    if (m_setup.path == server_path::linux_kernel) {
        const os::linux_path::linux_params lp = linux_params_of(m_cfg);
        m_linux = std::make_unique<os::linux_path::linux_kernel>(core, *m_server->pages, mac_of(m_cfg, "platform.server.mac"),
                                                                     ip_of(m_cfg, "platform.server.ip"), lp);
        m_linux->boot();
        workloads::echo_server_posix(core, *m_linux, port, payload, processing_ns);
        return;
    }
    // Arrakis: the kernel sets up and protects; the application gets a VNIC and drives it.
    const unsigned levels = static_cast<unsigned>(m_cfg.get_int("platform.iommu.levels"));
    m_iommu_drv = std::make_unique<os::kernel::iommu_driver>(core, *m_server->pages, levels);
    m_cp = std::make_unique<os::kernel::control_plane>(core, *m_server->pages, *m_iommu_drv,
                                                       os::kernel::control_plane_params::from(m_cfg));
    m_cp->boot(os::category::scheduler);
    const os::dataplane::dataplane_params dpp = dataplane_params_of(m_cfg);
    const uint64_t region = dataplane_region_bytes(dpp);
    const os::kernel::vnic_grant grant = m_cp->create_vnic(os::category::scheduler, mac_of(m_cfg, "platform.server.vnic_mac"),
                                                                 ip_of(m_cfg, "platform.server.vnic_ip"), region);
    m_server_dp = std::make_unique<os::dataplane::dataplane>(core, grant, dpp);
    m_server_dp->init();
    if (m_setup.path == server_path::arrakis_p) {
        m_posix = std::make_unique<os::dataplane::posix_sockets>(*m_server_dp);
        workloads::echo_server_posix(core, *m_posix, port, payload, processing_ns);
    } else if (m_setup.path == server_path::driver) {
        workloads::echo_server_driver(core, *m_server_dp, port, processing_ns);
    } else {
        m_native = std::make_unique<os::dataplane::native_udp>(*m_server_dp);
        workloads::echo_server_native(core, *m_native, port, processing_ns);
    }
}

void testbed::client_software()
{
    m_client_dp = start_client_dataplane(*m_client_host, mac_of(m_cfg, "platform.client.mac"), ip_of(m_cfg, "platform.client.ip"));
    m_client_udp = std::make_unique<os::dataplane::native_udp>(*m_client_dp);
    workloads::echo_client_params p;
    p.server = ip_of(m_cfg, m_setup.path == server_path::linux_kernel ? "platform.server.ip" : "platform.server.vnic_ip");
    p.server_port = static_cast<uint16_t>(m_cfg.get_int("workload.echo.port"));
    p.payload_bytes = static_cast<uint32_t>(m_cfg.get_int("workload.echo.payload_bytes"));
    p.outstanding = m_setup.outstanding;
    p.think_us = m_setup.think_us;
    p.rate_kpps = m_setup.rate_kpps;
    p.warmup = static_cast<uint64_t>(m_cfg.get_int("experiment.warmup"));
    p.requests = m_setup.endless ? workloads::echo_client_params::endless : static_cast<uint64_t>(m_cfg.get_int("experiment.requests"));
    p.tail = static_cast<uint64_t>(m_cfg.get_int("experiment.tail"));
    p.seed = m_setup.seed;
    m_client = std::make_unique<workloads::echo_client>(*m_client_dp, *m_client_udp, p, [this] {
        m_done = true;
        sc_stop();
    });
    m_client->run();
}

bool testbed::run()
{
    // sc_stop() at the end of a run is the normal way out, not news.
    sc_report_handler::set_actions("/OSCI/SystemC", SC_INFO, SC_DO_NOTHING);
    sc_start(sc_time(m_cfg.get_real("experiment.max_sim_ms"), SC_MS));
    finish_capture();
    return m_done;
}

void testbed::finish_capture()
{
    if (m_pcap) {
        flush_capture(sc_max_time());
        m_pcap->close();
    }
}

// A link reports a frame when it is handed over, which can be before it is sent (a switch port
// schedules its output ahead): the capture is held in time order and written once no earlier frame
// can come, i.e. up to the current time.
void testbed::capture(const models::net::frame_ptr& frame, const sc_time& sent)
{
    m_capture.push({sent, m_capture_seq++, frame});
    flush_capture(sc_time_stamp());
}

void testbed::flush_capture(const sc_time& up_to)
{
    while (!m_capture.empty() && m_capture.top().when <= up_to) {
        const captured& c = m_capture.top();
        m_pcap->write(static_cast<uint64_t>(c.when.value() / 1000), c.frame->bytes.data(), c.frame->bytes.size());
        m_capture.pop();
    }
}

double testbed::simulated_us() const { return sc_time_stamp().to_seconds() * 1e6; }

} // namespace iovsim::sim
