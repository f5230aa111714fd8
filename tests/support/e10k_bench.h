#pragma once
// The e10k model bench, shared by the NIC's model tests: a host as the OS sees it (DRAM, a root
// complex, the NIC's PCIe link and the IOMMU in front of memory); a test driver thread plays the
// driver, programming registers by MMIO through the root complex and writing descriptors into DRAM
// as software does; a fake core counts MSIs; a cable connects the NIC's MAC to a fake peer that
// records frames and can send frames to the NIC. sriov_setup gives VF 3 its queues through the
// IOMMU.
#include <gtest/gtest.h>

#include "tests/support/model_bench.h"

#include <array>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "models/iommu/iommu.h"
#include "models/iommu/iommu_regs.h"
#include "models/net/eth.h"
#include "models/nic/e10k.h"
#include "models/nic/e10k_regs.h"
#include "models/platform/address_map.h"
#include "models/platform/dram.h"
#include "models/platform/pcie_link.h"
#include "models/platform/root_complex.h"
#include "os/core/cpu_core.h"
#include "os/kernel/io_page_tables.h"

namespace iovsim::testing::e10k_bench {

using namespace sc_core;
using namespace iovsim::models;
using namespace iovsim::e10k;
using models::net::eth_frame;
using models::net::frame_ptr;


using dram_phys_mem = testing::dram_phys_mem;
struct bump_pages : testing::bump_pages {
    bump_pages() : testing::bump_pages(0x800000) {}
};


using testing::fake_irq;

// The far end of the cable: records what arrives, sends what the test gives it.
struct peer_end : models::net::eth_endpoint {
    std::vector<std::pair<frame_ptr, sc_time>> got;
    void frame_arrived(const frame_ptr& f) override { got.emplace_back(f, sc_time_stamp()); }
};

using mac = std::array<uint8_t, 6>;
const mac nic_mac{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const mac vf3_mac{0x02, 0x00, 0x00, 0x00, 0x03, 0x03};
const mac peer_mac{0x02, 0x00, 0x00, 0x00, 0x00, 0x99};

// An Ethernet II frame of `len` bytes (without FCS) with a recognisable payload.
inline std::vector<uint8_t> plain_frame(const mac& dst, size_t len, uint8_t seed = 0)
{
    std::vector<uint8_t> f(len);
    std::copy(dst.begin(), dst.end(), f.begin());
    std::copy(peer_mac.begin(), peer_mac.end(), f.begin() + 6);
    f[12] = 0x88;   // local experimental ethertype
    f[13] = 0xB5;
    for (size_t i = 14; i < len; ++i)
        f[i] = static_cast<uint8_t>(seed + i);
    return f;
}

// Ethernet + IPv4 + UDP, checksums left zero (the classifier does not check them).
inline std::vector<uint8_t> udp_frame(const mac& dst, uint16_t sport, uint16_t dport, size_t payload)
{
    const size_t ip_len = 20 + 8 + payload;
    std::vector<uint8_t> f(14 + ip_len);
    std::copy(dst.begin(), dst.end(), f.begin());
    std::copy(peer_mac.begin(), peer_mac.end(), f.begin() + 6);
    f[12] = 0x08;
    f[13] = 0x00;
    uint8_t* ip = f.data() + 14;
    ip[0] = 0x45;
    ip[2] = static_cast<uint8_t>(ip_len >> 8);
    ip[3] = static_cast<uint8_t>(ip_len);
    ip[8] = 64;
    ip[9] = 17;
    const uint8_t src[4] = {10, 0, 0, 2}, dst_ip[4] = {10, 0, 0, 1};
    std::memcpy(ip + 12, src, 4);
    std::memcpy(ip + 16, dst_ip, 4);
    uint8_t* udp = ip + 20;
    udp[0] = static_cast<uint8_t>(sport >> 8);
    udp[1] = static_cast<uint8_t>(sport);
    udp[2] = static_cast<uint8_t>(dport >> 8);
    udp[3] = static_cast<uint8_t>(dport);
    udp[4] = static_cast<uint8_t>((8 + payload) >> 8);
    udp[5] = static_cast<uint8_t>(8 + payload);
    for (size_t i = 0; i < payload; ++i)
        udp[8 + i] = static_cast<uint8_t>(i);
    return f;
}

constexpr uint32_t pf_vector_data = 0x40;   // the vector number the core sees for PF MSI-X entry 0
constexpr unsigned num_vfs = 4;
constexpr unsigned pf_pool = num_vfs;        // VT_CTL.DEF_PL: the PF's pool after the VFs'
const sc_time propagation = ns(5);

// Cores of the host, for benches whose software runs as it would: `core` (APIC 0) for the kernel
// and the test's driver, `app` (APIC 1) for an application. Default costs, caches never cold.
struct host_core {
    struct no_target : sc_module {
        tlm_utils::simple_target_socket<no_target> socket;
        explicit no_target(sc_module_name n) : sc_module(n), socket("socket")
        {
            socket.register_b_transport(this, &no_target::b_transport);
        }
        void b_transport(tlm::tlm_generic_payload& t, sc_time&) { t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE); }
    };
    static os::cost_model costs_of()
    {
        os::cost_model c;
        c.cold_after_idle_ns = 1e9;
        c.mmio_write_ns = 50;
        return c;
    }
    os::cost_model costs = costs_of();
    os::accounting acct;
    no_target nothing{"nothing"};
    os::cpu_core core;
    os::cpu_core app;
    explicit host_core(models::dram& m)
        : core("core", 0, costs, m, acct, sc_time(1, SC_US)), app("app", 1, costs, m, acct, sc_time(1, SC_US))
    {
    }
};

// with_core: the bus master is a simulated core (core()), and run() runs the test as its task.
struct nic_bench : testing::driver_thread {
    dram mem;
    root_complex rc;
    pcie_link link;
    iommu::iommu mmu;
    nic::e10k_nic nic;
    master cpu{"cpu"};
    models::net::eth_link wire{"wire", propagation};
    models::net::eth_tx_port peer_tx{10.0, &wire, 1};
    peer_end peer;
    fake_irq core0;
    dram_phys_mem phys{mem};
    bump_pages pages;
    std::unique_ptr<host_core> host;

    static dram_params dram_p()
    {
        dram_params p;
        p.size_bytes = 16 << 20;
        return p;
    }
    static nic::e10k_params nic_p()
    {
        nic::e10k_params p;
        p.num_vfs = num_vfs;
        return p;
    }

    explicit nic_bench(const nic::e10k_params& np = nic_p(), const iommu::iommu_params& ip = {}, bool with_core = false)
        : mem("mem", dram_p()), rc("rc", dram_p().size_bytes), link("link", pcie_params{}), mmu("mmu", ip),
          nic("nic", np)
    {
        strict_reports();
        nic.dma.bind(link.up_target);
        link.up_init.bind(mmu.dma_in);
        mmu.mem_out.bind(rc.dma_target);
        rc.mem_init.bind(mem.target);
        rc.mmio_init.bind(link.down_target);   // port 0: the NIC
        rc.mmio_init.bind(mmu.reg_target);     // port 1: the IOMMU
        link.down_init.bind(nic.bar);
        if (with_core) {
            host = std::make_unique<host_core>(mem);
            host->core.bus.bind(rc.cpu_target);
            host->app.bus.bind(rc.cpu_target);
            cpu.socket.bind(host->nothing.socket);
        } else {
            cpu.socket.bind(rc.cpu_target);
        }
        rc.map_mmio(nic_pf_bar0, nic_pf_bar0_size, 0, "nic pf bar0");
        rc.map_mmio(nic_pf_msix_bar, 0x1000, 0, "nic pf msix");
        rc.map_mmio(nic_vf_bar_base, 64 * nic_vf_bar_stride, 0, "nic vf bars");
        rc.map_mmio(iommu_reg_base, iommu_reg_size, 1, "iommu");
        if (host) {
            rc.attach_core(0, host->core);
            rc.attach_core(1, host->app);
        } else
            rc.attach_core(0, core0);
        wire.connect(nic, peer);
        nic.attach(wire, 0);
    }
    // ---- MMIO, as a core does it (tests/support/model_bench.h).
    tlm::tlm_response_status raw(tlm::tlm_command cmd, uint64_t addr, uint32_t& v) { return cpu.raw(cmd, addr, v); }
    uint32_t rd(uint64_t addr) { return host ? host->core.mmio_read32(os::category::scheduler, addr) : cpu.rd(addr); }
    void wr(uint64_t addr, uint32_t v)
    {
        if (host)
            host->core.mmio_write32(os::category::scheduler, addr, v);
        else
            cpu.wr(addr, v);
    }
    void run(std::function<void()> f)
    {
        if (!host)
            return driver_thread::run(std::move(f));
        body = std::move(f);
        host->core.spawn("test_driver", [this] { body(); }, false);
        sc_start();
    }
    os::cpu_core& core() { return host->core; }
    os::cpu_core& app() { return host->app; }
    uint32_t pf_rd(uint32_t off) { return rd(nic_pf_bar0 + off); }
    void pf_wr(uint32_t off, uint32_t v) { wr(nic_pf_bar0 + off, v); }
    static uint64_t vf_bar(unsigned vf) { return nic_vf_bar_base + vf * nic_vf_bar_stride; }
    uint32_t vf_rd(unsigned vf, uint32_t off) { return rd(vf_bar(vf) + off); }
    void vf_wr(unsigned vf, uint32_t off, uint32_t v) { wr(vf_bar(vf) + off, v); }

    void msix_entry(uint64_t table, unsigned vec, unsigned apic, uint32_t data)
    {
        const uint64_t e = table + vec * msix_entry_bytes;
        wr(e + MSIX_ADDR_LO, static_cast<uint32_t>(msi_base | (apic << msi_dest_shift)));
        wr(e + MSIX_ADDR_HI, 0);
        wr(e + MSIX_DATA, data);
        wr(e + MSIX_VECTOR_CTRL, 0);
    }

    // ---- Descriptors in DRAM, written and read as software does (directly).
    void put_rx_desc(uint64_t ring, unsigned i, uint64_t buf)
    {
        rx_desc_read{buf, 0}.encode(mem.host_ptr(ring + i * desc_bytes, desc_bytes));
    }
    rx_desc_wb rx_wb(uint64_t ring, unsigned i) { return rx_desc_wb::decode(mem.host_ptr(ring + i * desc_bytes, desc_bytes)); }
    void put_tx_desc(uint64_t ring, unsigned i, uint64_t buf, uint32_t len, uint32_t extra_cmd = TXD_CMD_EOP | TXD_CMD_RS)
    {
        tx_desc{buf, TXD_DTYP_DATA | TXD_CMD_DEXT | TXD_CMD_IFCS | extra_cmd | len, len << TXD_PAYLEN_SHIFT}
            .encode(mem.host_ptr(ring + i * desc_bytes, desc_bytes));
    }
    tx_desc tx_wb(uint64_t ring, unsigned i) { return tx_desc::decode(mem.host_ptr(ring + i * desc_bytes, desc_bytes)); }

    // PF RX queue q (q < 64) with `n` descriptors at `ring`, buffers of 2 KiB from `bufs`, the first
    // `give` handed to hardware.
    void setup_pf_rx(unsigned q, uint64_t ring, uint64_t bufs, unsigned n, unsigned give)
    {
        for (unsigned i = 0; i < n; ++i)
            put_rx_desc(ring, i, bufs + i * 2048);
        const uint32_t base = pf::RDBAL0 + q * pf::RXQ_STRIDE;
        pf_wr(base + pf::RDBAL_OFF, static_cast<uint32_t>(ring));
        pf_wr(base + pf::RDBAH_OFF, static_cast<uint32_t>(ring >> 32));
        pf_wr(base + pf::RDLEN_OFF, n * desc_bytes);
        pf_wr(base + pf::SRRCTL_OFF, 2u << SRRCTL_BSIZEPKT_SHIFT);
        pf_wr(base + pf::RDH_OFF, 0);
        pf_wr(base + pf::RXDCTL_OFF, RXDCTL_ENABLE);
        pf_wr(base + pf::RDT_OFF, give);
    }
    void setup_pf_tx(unsigned q, uint64_t ring, unsigned n)
    {
        const uint32_t base = pf::TDBAL0 + q * pf::TXQ_STRIDE;
        pf_wr(base + pf::TDBAL_OFF, static_cast<uint32_t>(ring));
        pf_wr(base + pf::TDBAH_OFF, static_cast<uint32_t>(ring >> 32));
        pf_wr(base + pf::TDLEN_OFF, n * desc_bytes);
        pf_wr(base + pf::TDH_OFF, 0);
        pf_wr(base + pf::TDT_OFF, 0);
        pf_wr(base + pf::TXDCTL_OFF, TXDCTL_ENABLE);
        pf_wr(pf::DMATXCTL, DMATXCTL_TE);
    }
    // RX queue 0's cause on MSI-X vector 0, delivered to core 0 as pf_vector_data.
    void pf_rx_interrupt()
    {
        msix_entry(nic_pf_msix_bar, 0, 0, pf_vector_data);
        pf_wr(pf::IVAR0, IVAR_ALLOC_VAL | 0);   // RX queue 0 -> vector 0
        pf_wr(pf::EIMS, 1u << 0);
    }

    // The peer sends a frame now; returns when its last bit reaches the NIC.
    sc_time inject(std::vector<uint8_t> bytes, bool fcs_ok = true)
    {
        auto f = std::make_shared<eth_frame>();
        f->bytes = std::move(bytes);
        f->fcs_ok = fcs_ok;
        const sc_time end = peer_tx.send(f);
        return end - ns(models::net::ifg_bytes * 0.8) + propagation;
    }
    bool mem_equals(uint64_t pa, const std::vector<uint8_t>& bytes)
    {
        return std::memcmp(mem.host_ptr(pa, bytes.size()), bytes.data(), bytes.size()) == 0;
    }
};

constexpr uint64_t rx_ring = 0x10000;
constexpr uint64_t rx_bufs = 0x20000;
constexpr uint64_t tx_ring = 0x40000;
constexpr uint64_t tx_bufs = 0x50000;

// VF 3 in pool 3, its MAC steered by RAL/RAH/MPSAR, its rings set up through its own BAR, the
// IOMMU translating with a domain for VF 3 only.
struct sriov_setup {
    static constexpr unsigned vf = 3;
    static constexpr uint16_t domain = 30;
    static constexpr uint64_t ring_iova = 0x4000'0000;   // queue 0 ring; queue 1 ring at +0x1000
    static constexpr uint64_t buf_iova = 0x4001'0000;    // 8 buffers of 2 KiB per queue
    static constexpr uint64_t ring_pa = 0x300000;
    static constexpr uint64_t buf_pa = 0x310000;
    static constexpr uint64_t tx_iova = 0x4002'0000;     // TX ring, its buffers at +0x1000
    static constexpr uint64_t tx_pa = 0x320000;
    static constexpr uint32_t vector_data = 0x70;

    nic_bench& b;
    os::kernel::io_page_tables tables;

    explicit sriov_setup(nic_bench& bench) : b(bench), tables(bench.phys, bench.pages, 4)
    {
        tables.attach(nic_vf_rid(vf), domain);
        tables.map(domain, ring_iova, ring_pa, 0x2000, true, true);
        // Buffers of queue 0 at buf_iova, queue 1 at buf_iova + 0x4000, both 16 KiB, mapped to
        // two physical runs that are not adjacent to each other.
        tables.map(domain, buf_iova, buf_pa, 0x4000, true, true);
        tables.map(domain, buf_iova + 0x4000, buf_pa + 0x8000, 0x4000, true, true);
        tables.map(domain, tx_iova, tx_pa, 0x2000, true, true);
    }
    // Descriptors written by the VF's driver: iovas.
    void put_desc(unsigned q, unsigned i, uint64_t buf_iova_of_slot)
    {
        rx_desc_read{buf_iova_of_slot, 0}.encode(b.mem.host_ptr(ring_pa + q * 0x1000 + i * desc_bytes, desc_bytes));
    }
    rx_desc_wb wb(unsigned q, unsigned i)
    {
        return rx_desc_wb::decode(b.mem.host_ptr(ring_pa + q * 0x1000 + i * desc_bytes, desc_bytes));
    }
    void program()
    {
        namespace r = iommu::regs;
        // IOMMU on.
        const uint64_t rta = tables.root_table_pa();
        b.wr(iommu_reg_base + r::RTADDR_REG, static_cast<uint32_t>(rta));
        b.wr(iommu_reg_base + r::RTADDR_REG + 4, static_cast<uint32_t>(rta >> 32));
        b.wr(iommu_reg_base + r::GCMD_REG, r::GCMD_SRTP);
        b.wr(iommu_reg_base + r::GCMD_REG, r::GCMD_TE);
        // PF: virtualization on, VF 3's address to pool 3, pool 3 may receive.
        b.pf_wr(pf::VT_CTL, VT_CTL_VT_ENA | pf_pool << VT_CTL_DEF_PL_SHIFT);
        b.pf_wr(pf::RAL0 + 8 * 1, vf3_mac[0] | vf3_mac[1] << 8 | vf3_mac[2] << 16 | static_cast<uint32_t>(vf3_mac[3]) << 24);
        b.pf_wr(pf::MPSAR_LO0 + 8 * 1, 1u << vf);
        b.pf_wr(pf::RAH0 + 8 * 1, vf3_mac[4] | vf3_mac[5] << 8 | RAH_AV);
        b.pf_wr(pf::PFVFRE0, 1u << vf);
        b.pf_wr(pf::RXCTRL, RXCTRL_RXEN);
        // VF 3, through its own BAR: both RX queues, 8 descriptors each, 7 given.
        for (unsigned q = 0; q < 2; ++q) {
            for (unsigned i = 0; i < 8; ++i)
                put_desc(q, i, buf_iova + q * 0x4000 + i * 2048);
            const uint32_t base = vf::VFRDBAL0 + q * pf::RXQ_STRIDE;
            b.vf_wr(vf, base + pf::RDBAL_OFF, static_cast<uint32_t>(ring_iova + q * 0x1000));
            b.vf_wr(vf, base + pf::RDBAH_OFF, 0);
            b.vf_wr(vf, base + pf::RDLEN_OFF, 8 * desc_bytes);
            b.vf_wr(vf, base + pf::SRRCTL_OFF, 2);
            b.vf_wr(vf, base + pf::RXDCTL_OFF, RXDCTL_ENABLE);
            b.vf_wr(vf, base + pf::RDT_OFF, 7);
        }
        b.msix_entry(nic_bench::vf_bar(vf) + nic_vf_msix_offset, 0, 0, vector_data);
        b.vf_wr(vf, vf::VTIVAR0, IVAR_ALLOC_VAL | 0 | (IVAR_ALLOC_VAL | 0) << 16);   // both queues -> vector 0
        b.vf_wr(vf, vf::VTEIMS, 1);
    }
};

} // namespace iovsim::testing::e10k_bench
