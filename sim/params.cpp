#include "sim/params.h"

#include <stdexcept>

#include "os/core/cost_model.h"
#include "os/kernel/control_plane.h"
#include "os/net/tcp.h"
#include "sim/experiment.h"
#include "sim/kinds/udp_echo_throughput.h"
#include "sim/kinds/fsync_overhead.h"
#include "sim/kinds/log_crash.h"
#include "sim/sweep.h"
#include "sim/trace.h"
#include "sim/kinds/vsic_overhead.h"
#include "sim/redis_testbed.h"
#include "sim/storage_testbed.h"
#include "sim/tenant_testbed.h"
#include "sim/testbed.h"
#include "workloads/redis/params.h"

namespace iovsim::sim {

namespace {

cfg::schema build()
{
    cfg::schema s;
    // ---- The experiment ----
    s.add_string("experiment.name", "udp_echo_breakdown", "name written into summary.json");
    s.add_string("experiment.description", "UDP echo server: where the time per packet goes (Arrakis Table 1)",
                 "one line shown by 'iovsim list'");
    s.add_choice("experiment.kind", "udp_echo_breakdown", experiment_kind_names(), "what the run measures (sim/kinds.cpp)");
    s.add_string_list("experiment.columns", {"linux_running", "linux_idle", "arrakis_p", "arrakis_n"},
                      "columns to run, each a separate simulation; settings under columns.<name>");
    s.add_int("experiment.requests", 1000, 1, 100'000'000, "", "measured requests per column, after warm-up");
    s.add_int("experiment.warmup", 200, 0, 100'000'000, "", "requests served before measuring (ARP, cold rings, caches)");
    s.add_int("experiment.tail", 32, 0, 1'000'000, "", "requests sent after the measured ones so their completions settle");
    s.add_int("experiment.seed", 1, 0, INT64_MAX, "", "root of every random stream (DESIGN.md rule 6)");
    s.add_real("experiment.quantum_ns", 1000, 1, 1e9, "ns",
               "temporal-decoupling quantum of the cores (TLM LT); keep it below one request's service time (results hold to 5 us)");
    s.add_real("experiment.max_sim_ms", 10'000, 0.001, 1e9, "ms", "simulated time after which a column is abandoned as stuck");
    s.add_bool("experiment.pcap", true, "write the server link's frames to wire.pcap");
    s.add_string("experiment.reference", "results/reference/arrakis_table1.json",
                 "reference table to print beside the results (relative to the source tree); empty for none");
    declare_sweep(s);
    trace::declare(s);

    // ---- The hosts ----
    s.add_int("platform.server.dram_mb", 256, 16, 3072, "MiB", "simulated DRAM of the server");
    s.add_string("platform.server.ip", "10.0.0.1", "the server kernel's address (its PF), used by the Linux-like path");
    s.add_string("platform.server.mac", "02:00:00:00:00:01", "the server PF's station address");
    s.add_string("platform.server.vnic_ip", "10.0.0.3", "the Arrakis application's address: its VNIC is a host of its own");
    s.add_string("platform.server.vnic_mac", "02:00:00:00:01:01", "the application VNIC's MAC, steered to its VF's pool");
    s.add_string("platform.client.ip", "10.0.0.2", "the load generator's address");
    s.add_string("platform.client.mac", "02:00:00:00:00:02", "the client NIC's station address");
    s.add_int("platform.client.dram_mb", 128, 16, 3072, "MiB", "simulated DRAM of each client");
    s.add_real("platform.dram.latency_ns", 85, 0, 10000, "ns", "DRAM access latency seen by DMA (Molka et al. 2014, SNB-EP ~80-90 ns)");
    s.add_real("platform.dram.bandwidth_gbps", 85, 1, 10000, "Gb/s", "one DMA channel's share of memory bandwidth (3 x DDR3-1333 = 256 Gb/s total)");
    // ---- PCIe ----
    s.add_real("platform.pcie.lane_gtps", 5.0, 0.1, 64, "GT/s", "PCIe 2.0 per-lane rate (82599: PCIe 2.0 x8, datasheet 1.2)");
    s.add_int("platform.pcie.lanes", 8, 1, 32, "", "link width (82599: x8)");
    s.add_real("platform.pcie.encoding", 0.8, 0.1, 1.0, "", "line code efficiency: 8b/10b for Gen1/2");
    s.add_int("platform.pcie.tlp_overhead_bytes", 24, 0, 256, "B", "framing 2 + sequence 2 + 16 B header + LCRC 4 per TLP (PCIe base spec)");
    s.add_int("platform.pcie.max_payload_bytes", 256, 128, 4096, "B", "MPS as configured by the BIOS on SNB-EP");
    s.add_int("platform.pcie.max_read_request_bytes", 512, 128, 4096, "B", "MRRS (Linux default 512)");
    s.add_real("platform.pcie.one_way_ns", 200, 0, 100000, "ns",
               "PHY, root complex and switch latency one way: ~0.5 us DMA read round trip (Neugebauer et al., SIGCOMM 2018)");
    // ---- NIC ----
    s.add_real("platform.nic.line_gbps", 10, 0.1, 400, "Gb/s", "10GbE");
    s.add_real("platform.nic.cycle_ns", 6.4, 0.1, 100, "ns", "internal clock: 156.25 MHz XGMII");
    s.add_int("platform.nic.rx_parse_cycles", 8, 0, 10000, "cycles", "header parse and filter lookup per frame (estimate)");
    s.add_int("platform.nic.dma_setup_cycles", 4, 0, 10000, "cycles", "building one DMA request (estimate)");
    s.add_int("platform.nic.rx_desc_fetch_batch", 8, 1, 64, "", "RX descriptors per fetch (82599 fetches in bursts, 7.1.4)");
    s.add_int("platform.nic.tx_desc_fetch_batch", 8, 1, 64, "", "TX descriptors per fetch");
    s.add_int("platform.nic.rx_packet_buffer_kb", 512, 16, 65536, "KiB", "receive packet buffer (82599: 512 KB)");
    s.add_int("platform.nic.num_vfs", 8, 0, 64, "", "virtual functions enabled by the PF (82599: up to 64)");
    // ---- IOMMU ----
    s.add_bool("platform.iommu.pass_through", false, "whole unit in pass-through: no translation, no walks");
    s.add_int("platform.iommu.levels", 4, 3, 4, "", "second-level page-table levels (3: 39-bit, 4: 48-bit)");
    s.add_int("platform.iommu.iotlb_entries", 64, 0, 65536, "", "IOTLB entries, fully associative LRU");
    s.add_int("platform.iommu.context_cache_entries", 16, 0, 65536, "", "context-cache entries");
    s.add_int("platform.iommu.pde_cache_entries", 16, 0, 65536, "",
              "paging-structure (SL-PDE) cache entries, VT-d 6.2.2; Intel publishes no sizes: 16 assumed");
    s.add_real("platform.iommu.lookup_ns", 2, 0, 10000, "ns", "IOTLB lookup per page of a DMA");
    // ---- Network ----
    s.add_real("platform.link.propagation_ns", 25, 0, 1e9, "ns", "5 m of cable at ~0.2 m/ns");
    s.add_real("platform.switch.latency_ns", 800, 0, 1e9, "ns", "store-and-forward forwarding latency (PowerConnect 8024F class, estimate)");
    s.add_int("platform.switch.buffer_kb", 1024, 1, 1 << 20, "KiB", "output buffer per port");
    // ---- Software cost primitives ----
    os::cost_model::declare(s);
    os::net::tcp_layer::declare(s);
    declare_link_impairment(s);
    // ---- Storage host ----
    storage_testbed::declare(s);
    declare_vsic_overhead(s);
    os::kernel::control_plane_params::declare(s);
    tenant_testbed::declare(s);
    declare_fsync_overhead(s);
    declare_log_crash(s);
    redis_testbed::declare(s);

    // ---- The operating systems ----
    s.add_int("os.linux.rx_ring", 512, 8, 8192, "", "ixgbe default ring size");
    s.add_int("os.linux.tx_ring", 512, 8, 8192, "", "ixgbe default ring size");
    s.add_int("os.linux.buffers", 2048, 64, 1 << 20, "", "receive and transmit buffers of the driver");
    s.add_int("os.linux.napi_budget", 64, 1, 4096, "", "NAPI weight (Linux default 64)");
    s.add_int("os.linux.txqueuelen", 1000, 1, 1 << 20, "",
              "frames the default qdisc (pfifo_fast) holds while the driver's queue is stopped (Linux default txqueuelen 1000)");
    s.add_real("os.linux.itr_us", 0, 0, 1000, "us", "interrupt throttling interval (EITR); 0: every completion interrupts");
    s.add_bool("os.linux.dca", true, "DCA on: DMA'd lines are placed in the LLC (the paper's Linux had DCA, Arrakis did not)");
    s.add_int("os.dataplane.rx_ring", 512, 8, 8192, "", "VF receive ring");
    s.add_int("os.dataplane.tx_ring", 512, 8, 8192, "", "VF transmit ring");
    s.add_int("os.dataplane.buffers", 2048, 64, 1 << 20, "", "buffers in the application's DMA region");
    s.add_int("os.dataplane.rx_doorbell_batch", 32, 1, 4096, "", "returned buffers per RDT write");
    s.add_int("os.dataplane.poll_batch", 32, 1, 4096, "", "frames taken per poll");
    s.add_bool("os.dataplane.tcp_software_checksum", true,
               "the library's TCP computes and verifies checksums in software, as lwIP (from which the paper's Arrakis/P stack derives) does by default (CHECKSUM_GEN_TCP, CHECKSUM_CHECK_TCP); false: the VF's checksum offload, which the minimal stack of the Arrakis source release (arranet) trusts instead; with it Table 2's Arrakis/P write recv is 0.85 us and epoll 1.14 (paper 0.66 and 1.49), while the paper's two rows each grow by 0.37 us from reads to writes: the payload is touched in both, as a software checksum in the poll does");

    // ---- The workload ----
    s.add_int("workload.echo.payload_bytes", 1024, 16, 1472, "B", "UDP payload of each request and reply");
    s.add_int("workload.echo.port", 7, 1, 65535, "", "the echo server's UDP port");
    declare_udp_echo_throughput(s);
    workloads::redis::declare(s);

    // ---- Columns: one simulation each, named by the experiment ----
    s.add_collection("columns", [](cfg::schema& c, const std::string& base) {
        c.add_string(base + ".path", "", "software path on the server, one of the experiment kind's (udp_echo_breakdown: linux, arrakis_p, arrakis_n); required");
        c.add_int(base + ".outstanding", 1, 1, 4096, "",
                  "closed loop: requests in flight (1 lets the server go idle between requests)");
        c.add_real(base + ".think_us", 0, 0, 1e6, "us", "client pause before each request (exponential mean); 0 for none");
        c.add_real(base + ".rate_kpps", 0, 0, 100'000, "kpps",
                   "open loop: requests sent at this mean rate (Poisson arrivals), whatever is in flight; 0: closed loop");
        c.add_string_list(base + ".set", {},
                          "overrides for this column only, as --set takes them (e.g. [os.linux.dca=false])");
    });
    return s;
}

} // namespace

const cfg::schema& parameters()
{
    static const cfg::schema s = build();
    return s;
}

server_path parse_path(const std::string& s)
{
    if (s == "linux")
        return server_path::linux_kernel;
    if (s == "arrakis_p")
        return server_path::arrakis_p;
    if (s == "arrakis_n")
        return server_path::arrakis_n;
    if (s == "driver")
        return server_path::driver;
    throw std::invalid_argument("unknown server path " + s);
}

const char* to_string(server_path p)
{
    switch (p) {
    case server_path::linux_kernel: return "linux";
    case server_path::arrakis_p: return "arrakis_p";
    case server_path::arrakis_n: return "arrakis_n";
    case server_path::driver: return "driver";
    }
    return "?";
}


} // namespace iovsim::sim
