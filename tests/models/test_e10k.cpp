// Model tests of the e10k SR-IOV NIC. The bench is a host as the OS sees it: DRAM, a root complex,
// the NIC's PCIe link and the IOMMU in front of memory; a test driver thread plays the driver,
// programming registers by MMIO through the root complex (offsets from models/nic/e10k_regs.h) and
// writing descriptors into DRAM as software does; a fake core counts MSIs; a cable connects the
// NIC's MAC to a fake peer that records frames and can send frames to the NIC.
//
// SystemC elaborates once per process: each TEST builds its own bench and runs sc_start once;
// run them one per process (ctest does; by hand use --gtest_filter).
#include <gtest/gtest.h>

#include "tests/support/model_bench.h"

#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/iommu/iommu.h"
#include "models/iommu/iommu_regs.h"
#include "models/net/eth.h"
#include "models/nic/e10k.h"
#include "models/nic/e10k_regs.h"
#include "models/platform/address_map.h"
#include "models/platform/dram.h"
#include "models/platform/pcie_link.h"
#include "models/platform/root_complex.h"
#include "os/kernel/io_page_tables.h"

using namespace sc_core;
using namespace iovsim;
using namespace iovsim::models;
using namespace iovsim::e10k;
using models::net::eth_frame;
using models::net::frame_ptr;

using iovsim::testing::ns;
using iovsim::testing::master;
using iovsim::testing::strict_reports;

namespace {

using dram_phys_mem = iovsim::testing::dram_phys_mem;
struct bump_pages : iovsim::testing::bump_pages {
    bump_pages() : iovsim::testing::bump_pages(0x800000) {}
};


struct fake_irq : irq_sink {
    std::vector<std::pair<unsigned, sc_time>> got;   // vector, arrival time
    void deliver_irq(unsigned vector, const sc_time& delay) override
    {
        got.emplace_back(vector, sc_time_stamp() + delay);
    }
    size_t count(unsigned vector) const
    {
        size_t n = 0;
        for (const auto& g : got)
            n += g.first == vector;
        return n;
    }
};

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
std::vector<uint8_t> plain_frame(const mac& dst, size_t len, uint8_t seed = 0)
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
std::vector<uint8_t> udp_frame(const mac& dst, uint16_t sport, uint16_t dport, size_t payload)
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

struct nic_bench {
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
    std::function<void()> body;

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

    explicit nic_bench(const nic::e10k_params& np = nic_p(), const iommu::iommu_params& ip = {})
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
        cpu.socket.bind(rc.cpu_target);
        rc.map_mmio(nic_pf_bar0, nic_pf_bar0_size, 0, "nic pf bar0");
        rc.map_mmio(nic_pf_msix_bar, 0x1000, 0, "nic pf msix");
        rc.map_mmio(nic_vf_bar_base, 64 * nic_vf_bar_stride, 0, "nic vf bars");
        rc.map_mmio(iommu_reg_base, iommu_reg_size, 1, "iommu");
        rc.attach_core(0, core0);
        wire.connect(nic, peer);
        nic.attach(wire, 0);
    }
    void run(std::function<void()> f)
    {
        body = std::move(f);
        sc_spawn([this] { body(); }, "test_driver");
        sc_start();
    }

    // ---- MMIO, as a core does it: waits for reads and for posted writes to reach the device.
    tlm::tlm_response_status raw(tlm::tlm_command cmd, uint64_t addr, uint32_t& v)
    {
        sc_time d = SC_ZERO_TIME;
        const auto st = cpu.access(cmd, addr, &v, 4, d);
        wait(d);
        return st;
    }
    uint32_t rd(uint64_t addr)
    {
        uint32_t v = 0;
        EXPECT_EQ(raw(tlm::TLM_READ_COMMAND, addr, v), tlm::TLM_OK_RESPONSE) << std::hex << addr;
        return v;
    }
    void wr(uint64_t addr, uint32_t v)
    {
        EXPECT_EQ(raw(tlm::TLM_WRITE_COMMAND, addr, v), tlm::TLM_OK_RESPONSE) << std::hex << addr;
    }
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

// Times of the default platform, each from its parameter.
const sc_time nic_cycle = ns(6.4);
const sc_time dma_setup = 4 * nic_cycle;
const sc_time pcie_one_way = ns(300);
const sc_time iommu_lookup = SC_ZERO_TIME;   // translation off: the IOMMU is not in the path
sc_time pcie_wire(unsigned bytes) { return ns(bytes * 0.25); }   // PCIe 2.0 x8: 4 bytes/ns
sc_time dram_time(unsigned bytes) { return sc_time(bytes * 8 / (10.6 * 8), SC_NS) + ns(80); }

// ---- Receive -------------------------------------------------------------------------------

TEST(e10k_rx, frame_dma_writeback_head_and_interrupt)
{
    nic_bench b;
    b.run([&] {
        EXPECT_EQ(b.pf_rd(pf::STATUS) & STATUS_LU, STATUS_LU);
        b.setup_pf_rx(0, rx_ring, rx_bufs, 8, 7);
        b.pf_rx_interrupt();
        b.pf_wr(pf::RXCTRL, RXCTRL_RXEN);
        wait(ns(5000));   // descriptors prefetched after the tail write
        const auto frame = plain_frame(nic_mac, 100, 1);
        const sc_time arrives = b.inject(frame);
        wait(ns(5000));
        EXPECT_TRUE(b.mem_equals(rx_bufs, frame));
        const rx_desc_wb wb = b.rx_wb(rx_ring, 0);
        EXPECT_EQ(wb.status_error, RXD_STAT_DD | RXD_STAT_EOP);
        EXPECT_EQ(wb.length, 100u);
        EXPECT_EQ(b.pf_rd(pf::RDBAL0 + pf::RDH_OFF), 1u);
        EXPECT_EQ(b.rx_wb(rx_ring, 1).status_error & RXD_STAT_DD, 0u);   // the next one untouched
        ASSERT_EQ(b.core0.got.size(), 1u);
        EXPECT_EQ(b.core0.got[0].first, pf_vector_data);
        // Parse, then the data write and the write-back, each after its DMA setup, posted one
        // after the other on the link; the MSI is delivered once the write-back has landed.
        const sc_time parse = 8 * nic_cycle;
        const sc_time data_sent = arrives + parse + dma_setup + pcie_wire(100 + 24);
        const sc_time wb_sent = data_sent + dma_setup + pcie_wire(16 + 24);
        const sc_time wb_lands = wb_sent + pcie_one_way + iommu_lookup + dram_time(16);
        EXPECT_EQ(b.core0.got[0].second, wb_lands);
        EXPECT_EQ(b.pf_rd(pf::GPRC), 1u);
        EXPECT_EQ(b.pf_rd(pf::QPRC0), 1u);
        EXPECT_EQ(b.nic.stats().rx_bytes, 100u);
        EXPECT_EQ(b.nic.stats().dma_errors, 0u);
    });
}

TEST(e10k_rx, ring_wraps_and_descriptor_refill)
{
    nic_bench b;
    b.run([&] {
        b.setup_pf_rx(0, rx_ring, rx_bufs, 8, 7);
        b.pf_rx_interrupt();
        b.pf_wr(pf::RXCTRL, RXCTRL_RXEN);
        // 7 frames fill what hardware owns; the 8th is dropped.
        for (unsigned i = 0; i < 8; ++i) {
            b.inject(plain_frame(nic_mac, 64 + i, static_cast<uint8_t>(i)));
            wait(ns(3000));
        }
        EXPECT_EQ(b.pf_rd(pf::RDBAL0 + pf::RDH_OFF), 7u);
        EXPECT_EQ(b.nic.queue_rx_packets(0), 7u);
        EXPECT_EQ(b.pf_rd(pf::QPRDC0), 1u);
        // Software takes the 7, gives back all but one slot: 0..6 reused, head wraps past 7.
        for (unsigned i = 0; i < 8; ++i)
            b.put_rx_desc(rx_ring, i, rx_bufs + 0x10000 + i * 2048);
        b.pf_wr(pf::RDBAL0 + pf::RDT_OFF, 6);   // hardware owns 7, 0..5
        for (unsigned i = 0; i < 8; ++i) {
            b.inject(plain_frame(nic_mac, 200 + i, static_cast<uint8_t>(0x80 + i)));
            wait(ns(3000));
        }
        EXPECT_EQ(b.pf_rd(pf::RDBAL0 + pf::RDH_OFF), 6u);
        // Slot 7 and 0..5 got the new frames, in order; the 8th found head = tail.
        EXPECT_EQ(b.rx_wb(rx_ring, 7).length, 200u);
        EXPECT_TRUE(b.mem_equals(rx_bufs + 0x10000 + 7 * 2048, plain_frame(nic_mac, 200, 0x80)));
        EXPECT_EQ(b.rx_wb(rx_ring, 0).length, 201u);
        EXPECT_TRUE(b.mem_equals(rx_bufs + 0x10000, plain_frame(nic_mac, 201, 0x81)));
        EXPECT_EQ(b.rx_wb(rx_ring, 5).length, 206u);
        EXPECT_EQ(b.nic.queue_rx_packets(0), 14u);
        EXPECT_EQ(b.pf_rd(pf::QPRDC0), 2u);
        EXPECT_EQ(b.nic.stats().rx_no_descriptor, 2u);
    });
}

TEST(e10k_rx, no_descriptor_drops_are_counted)
{
    nic_bench b;
    b.run([&] {
        b.setup_pf_rx(0, rx_ring, rx_bufs, 8, 0);   // ring set up, nothing handed to hardware
        b.pf_rx_interrupt();
        b.pf_wr(pf::RXCTRL, RXCTRL_RXEN);
        b.inject(plain_frame(nic_mac, 80));
        wait(ns(5000));
        EXPECT_EQ(b.pf_rd(pf::QPRDC0), 1u);
        EXPECT_EQ(b.nic.queue_rx_drops(0), 1u);
        EXPECT_EQ(b.nic.stats().rx_no_descriptor, 1u);
        EXPECT_EQ(b.pf_rd(pf::QPRC0), 0u);
        EXPECT_TRUE(b.core0.got.empty());
        EXPECT_EQ(b.mem.host_ptr(rx_bufs, 1)[0], 0);
        EXPECT_EQ(b.rx_wb(rx_ring, 0).status_error, 0u);
        // A disabled queue drops too.
        b.pf_wr(pf::RDBAL0 + pf::RXDCTL_OFF, 0);
        b.pf_wr(pf::RDBAL0 + pf::RDT_OFF, 4);
        b.inject(plain_frame(nic_mac, 80));
        wait(ns(5000));
        EXPECT_EQ(b.nic.stats().rx_queue_disabled, 1u);
        EXPECT_EQ(b.pf_rd(pf::QPRDC0), 2u);
        // And with RXCTRL.RXEN clear, frames do not enter at all.
        b.pf_wr(pf::RXCTRL, 0);
        b.inject(plain_frame(nic_mac, 80));
        wait(ns(5000));
        EXPECT_EQ(b.nic.stats().rx_mac_disabled, 1u);
        EXPECT_EQ(b.pf_rd(pf::QPRDC0), 2u);
    });
}

TEST(e10k_rx, frame_larger_than_buffer_completes_with_error)
{
    nic_bench b;
    b.run([&] {
        b.setup_pf_rx(0, rx_ring, rx_bufs, 8, 4);
        b.pf_wr(pf::RDBAL0 + pf::SRRCTL_OFF, 1u);   // 1 KiB buffers
        b.pf_wr(pf::RXCTRL, RXCTRL_RXEN);
        b.inject(plain_frame(nic_mac, 1500));
        wait(ns(5000));
        const rx_desc_wb wb = b.rx_wb(rx_ring, 0);
        EXPECT_EQ(wb.status_error & (RXD_STAT_DD | RXD_ERR_RXE), RXD_STAT_DD | RXD_ERR_RXE);
        EXPECT_EQ(b.nic.stats().rx_buffer_too_small, 1u);
        EXPECT_EQ(b.mem.host_ptr(rx_bufs, 1)[0], 0);   // nothing written past the buffer
    });
}

TEST(e10k_rx, runt_oversize_and_bad_fcs_counted)
{
    nic_bench b;
    b.run([&] {
        b.setup_pf_rx(0, rx_ring, rx_bufs, 8, 7);
        b.pf_wr(pf::RXCTRL, RXCTRL_RXEN);
        b.inject(plain_frame(nic_mac, 40));                 // runt
        wait(ns(2000));
        b.inject(plain_frame(nic_mac, 1600));               // oversize
        wait(ns(2000));
        b.inject(plain_frame(nic_mac, 100), false);         // bad FCS
        wait(ns(2000));
        b.inject(plain_frame(nic_mac, 60));                 // minimum: fine
        wait(ns(2000));
        b.inject(plain_frame(nic_mac, 1518));               // tagged maximum: fine
        wait(ns(5000));
        EXPECT_EQ(b.pf_rd(pf::RUC), 1u);
        EXPECT_EQ(b.pf_rd(pf::ROC), 1u);
        EXPECT_EQ(b.pf_rd(pf::RLEC), 2u);
        EXPECT_EQ(b.pf_rd(pf::CRCERRS), 1u);
        EXPECT_EQ(b.pf_rd(pf::GPRC), 2u);
        EXPECT_EQ(b.rx_wb(rx_ring, 0).length, 60u);
        EXPECT_EQ(b.rx_wb(rx_ring, 1).length, 1518u);
    });
}

// ---- Interrupts ----------------------------------------------------------------------------

TEST(e10k_irq, eitr_delays_second_interrupt_to_the_interval)
{
    nic_bench b;
    b.run([&] {
        b.setup_pf_rx(0, rx_ring, rx_bufs, 8, 7);
        b.pf_rx_interrupt();
        const unsigned itr = 5;   // 5 x 2.048 us
        b.pf_wr(pf::EITR0, itr << EITR_ITR_SHIFT);
        b.pf_wr(pf::RXCTRL, RXCTRL_RXEN);
        wait(ns(5000));
        // First interrupt: a frame, as soon as its write-back lands.
        b.inject(plain_frame(nic_mac, 100));
        wait(ns(3000));
        ASSERT_EQ(b.core0.got.size(), 1u);
        // Second frame right after: written back at once, its interrupt held to the interval.
        b.inject(plain_frame(nic_mac, 100));
        wait(ns(3000));
        EXPECT_EQ(b.rx_wb(rx_ring, 1).status_error & RXD_STAT_DD, RXD_STAT_DD);
        EXPECT_EQ(b.core0.got.size(), 1u);
        wait(ns(20000));
        ASSERT_EQ(b.core0.got.size(), 2u);
        // Throttling counts from when the NIC sent each message. The second took the idle path of a
        // message: a 4-byte posted write, one TLP and one way (the IOMMU does not remap the MSI
        // window, so no lookup).
        const sc_time msi_path = pcie_wire(4 + 24) + pcie_one_way;
        const sc_time second_sent = b.core0.got[1].second - msi_path;
        // The first was sent as its write-back's TLP left the NIC, and delivered once that
        // write-back landed: one way, lookup and the DRAM write later.
        const sc_time first_sent = b.core0.got[0].second - (pcie_one_way + iommu_lookup + dram_time(16));
        EXPECT_EQ(second_sent - first_sent, itr * ns(2048));
    });
}

TEST(e10k_irq, eitr_interval_exact_from_software_cause)
{
    nic_bench b;
    b.run([&] {
        b.msix_entry(nic_pf_msix_bar, 2, 0, 0x52);
        b.pf_wr(pf::EIMS, 1u << 2);
        b.pf_wr(pf::EITR0 + 2 * 4, 3u << EITR_ITR_SHIFT);   // 6.144 us
        b.pf_wr(pf::EICS, 1u << 2);
        b.pf_wr(pf::EICS, 1u << 2);   // throttled
        b.pf_wr(pf::EICS, 1u << 2);   // merged with the pending one
        wait(ns(20000));
        ASSERT_EQ(b.core0.got.size(), 2u);
        EXPECT_EQ(b.core0.got[0].first, 0x52u);
        EXPECT_EQ(b.core0.got[1].second - b.core0.got[0].second, 3 * ns(2048));
        // Interval 0: no throttling.
        b.pf_wr(pf::EITR0 + 2 * 4, 0);
        b.pf_wr(pf::EICS, 1u << 2);
        b.pf_wr(pf::EICS, 1u << 2);
        wait(ns(5000));
        EXPECT_EQ(b.core0.got.size(), 4u);
    });
}

TEST(e10k_irq, masked_cause_stays_pending_in_eicr_and_clears_by_write_one)
{
    nic_bench b;
    b.run([&] {
        b.msix_entry(nic_pf_msix_bar, 0, 0, 0x40);
        b.msix_entry(nic_pf_msix_bar, 1, 0, 0x41);
        b.pf_wr(pf::EICS, 0x3);               // both causes, neither enabled
        wait(ns(2000));
        EXPECT_TRUE(b.core0.got.empty());
        EXPECT_EQ(b.pf_rd(pf::EICR), 0x3u);
        b.pf_wr(pf::EICR, 0x1);               // write 1 clears cause 0 only
        EXPECT_EQ(b.pf_rd(pf::EICR), 0x2u);
        b.pf_wr(pf::EIMS, 0x3);               // enabling fires the pending cause 1 alone
        wait(ns(2000));
        ASSERT_EQ(b.core0.got.size(), 1u);
        EXPECT_EQ(b.core0.got[0].first, 0x41u);
        EXPECT_EQ(b.pf_rd(pf::EICR), 0u);     // the message cleared it
        EXPECT_EQ(b.pf_rd(pf::EIMS), 0x3u);
        b.pf_wr(pf::EIMC, 0x1);
        EXPECT_EQ(b.pf_rd(pf::EIMS), 0x2u);
        // A masked MSI-X table entry holds the message too, until unmasked.
        b.wr(nic_pf_msix_bar + 1 * msix_entry_bytes + MSIX_VECTOR_CTRL, MSIX_VECTOR_MASKED);
        b.pf_wr(pf::EICS, 0x2);
        wait(ns(2000));
        EXPECT_EQ(b.core0.got.size(), 1u);
        b.wr(nic_pf_msix_bar + 1 * msix_entry_bytes + MSIX_VECTOR_CTRL, 0);
        wait(ns(2000));
        EXPECT_EQ(b.core0.got.size(), 2u);
        // Auto-mask: the message clears the enable bit.
        b.pf_wr(pf::EIAM, 0x2);
        b.pf_wr(pf::EICS, 0x2);
        wait(ns(2000));
        EXPECT_EQ(b.core0.got.size(), 3u);
        EXPECT_EQ(b.pf_rd(pf::EIMS), 0x0u);
    });
}

TEST(e10k_irq, rx_interrupt_needs_valid_ivar_and_enabled_cause)
{
    nic_bench b;
    b.run([&] {
        b.setup_pf_rx(0, rx_ring, rx_bufs, 8, 7);
        b.msix_entry(nic_pf_msix_bar, 0, 0, pf_vector_data);
        b.pf_wr(pf::EIMS, 1);
        b.pf_wr(pf::RXCTRL, RXCTRL_RXEN);
        // IVAR entry not valid: the queue raises no cause.
        b.inject(plain_frame(nic_mac, 100));
        wait(ns(3000));
        EXPECT_EQ(b.rx_wb(rx_ring, 0).status_error & RXD_STAT_DD, RXD_STAT_DD);
        EXPECT_TRUE(b.core0.got.empty());
        EXPECT_EQ(b.pf_rd(pf::EICR), 0u);
        // Valid entry, cause masked: pending in EICR until EIMS.
        b.pf_wr(pf::IVAR0, IVAR_ALLOC_VAL | 0);
        b.pf_wr(pf::EIMC, 1);
        b.inject(plain_frame(nic_mac, 100));
        wait(ns(3000));
        EXPECT_TRUE(b.core0.got.empty());
        EXPECT_EQ(b.pf_rd(pf::EICR), 1u);
        b.pf_wr(pf::EIMS, 1);
        wait(ns(3000));
        ASSERT_EQ(b.core0.got.size(), 1u);
        EXPECT_EQ(b.core0.got[0].first, pf_vector_data);
        // Queue 1's cause goes where IVAR(0) bits 23:16 say: vector 3. A 5-tuple filter that
        // ignores the pool steers UDP port 53 there.
        b.setup_pf_rx(1, rx_ring + 0x1000, rx_bufs + 0x8000, 8, 7);
        b.msix_entry(nic_pf_msix_bar, 3, 0, 0x43);
        b.pf_wr(pf::IVAR0, IVAR_ALLOC_VAL | 0 | (IVAR_ALLOC_VAL | 3) << 16);
        b.pf_wr(pf::EIMS, 1u << 3);
        EXPECT_EQ(b.pf_rd(pf::EIMS), 0x9u);
        b.pf_wr(pf::SDPQF0, 53u << 16);
        b.pf_wr(pf::L34T_IMIR0, 1u << L34T_IMIR_RX_QUEUE_SHIFT);
        b.pf_wr(pf::FTQF0, 1u | 7u << FTQF_PRIORITY_SHIFT | FTQF_MASK_SRC_ADDR | FTQF_MASK_DST_ADDR |
                               FTQF_MASK_SRC_PORT | FTQF_POOL_MASK | FTQF_QUEUE_ENABLE);
        wait(ns(3000));
        const auto dns = udp_frame(nic_mac, 4000, 53, 32);
        b.inject(dns);
        wait(ns(3000));
        EXPECT_TRUE(b.mem_equals(rx_bufs + 0x8000, dns));
        ASSERT_EQ(b.core0.got.size(), 2u);
        EXPECT_EQ(b.core0.got[1].first, 0x43u);
    });
}

// ---- Transmit ------------------------------------------------------------------------------

TEST(e10k_tx, descriptors_and_tail_put_frame_on_wire_and_write_back_dd)
{
    nic_bench b;
    b.run([&] {
        b.setup_pf_tx(0, tx_ring, 8);
        b.msix_entry(nic_pf_msix_bar, 1, 0, 0x61);
        b.pf_wr(pf::IVAR0, (IVAR_ALLOC_VAL | 1) << 8);   // TX queue 0 -> vector 1
        b.pf_wr(pf::EIMS, 1u << 1);
        // A frame in two buffers: header and payload.
        const auto frame = plain_frame(peer_mac, 300, 7);
        std::memcpy(b.mem.host_ptr(tx_bufs, 100), frame.data(), 100);
        std::memcpy(b.mem.host_ptr(tx_bufs + 0x1000, 200), frame.data() + 100, 200);
        b.put_tx_desc(tx_ring, 0, tx_bufs, 100, 0);
        b.put_tx_desc(tx_ring, 1, tx_bufs + 0x1000, 200, TXD_CMD_EOP | TXD_CMD_RS);
        b.pf_wr(pf::TDBAL0 + pf::TDT_OFF, 2);
        wait(ns(10000));
        ASSERT_EQ(b.peer.got.size(), 1u);
        EXPECT_EQ(b.peer.got[0].first->bytes, frame);
        EXPECT_TRUE(b.peer.got[0].first->fcs_ok);
        EXPECT_EQ(b.tx_wb(tx_ring, 1).olinfo_status & TXD_STAT_DD, TXD_STAT_DD);
        EXPECT_EQ(b.tx_wb(tx_ring, 0).olinfo_status & TXD_STAT_DD, 0u);   // no RS: no write-back
        EXPECT_EQ(b.pf_rd(pf::TDBAL0 + pf::TDH_OFF), 2u);
        EXPECT_EQ(b.pf_rd(pf::GPTC), 1u);
        EXPECT_EQ(b.nic.stats().tx_bytes, 300u);
        ASSERT_EQ(b.core0.got.size(), 1u);
        EXPECT_EQ(b.core0.got[0].first, 0x61u);
        // A short frame is padded to the minimum by the MAC.
        const auto small = plain_frame(peer_mac, 42, 3);
        std::memcpy(b.mem.host_ptr(tx_bufs + 0x2000, 42), small.data(), 42);
        b.put_tx_desc(tx_ring, 2, tx_bufs + 0x2000, 42);
        b.pf_wr(pf::TDBAL0 + pf::TDT_OFF, 3);
        wait(ns(10000));
        ASSERT_EQ(b.peer.got.size(), 2u);
        auto padded = small;
        padded.resize(60, 0);
        EXPECT_EQ(b.peer.got[1].first->bytes, padded);
    });
}

void line_rate_case(size_t frame_bytes, unsigned frames)
{
    nic_bench b;
    b.run([&] {
        b.setup_pf_tx(0, tx_ring, 64);
        for (unsigned i = 0; i < frames; ++i) {
            const auto f = plain_frame(peer_mac, frame_bytes, static_cast<uint8_t>(i));
            std::memcpy(b.mem.host_ptr(tx_bufs + i * 2048, f.size()), f.data(), f.size());
            b.put_tx_desc(tx_ring, i, tx_bufs + i * 2048, static_cast<uint32_t>(f.size()));
        }
        b.pf_wr(pf::TDBAL0 + pf::TDT_OFF, frames);
        wait(ns(100000));
        ASSERT_EQ(b.peer.got.size(), frames);
        // Back to back at 10 Gb/s: preamble, frame, FCS and gap, 0.8 ns a byte.
        const sc_time spacing = ns(models::net::wire_bytes(frame_bytes) * 0.8);
        for (unsigned i = 1; i < frames; ++i) {
            EXPECT_EQ(b.peer.got[i].second - b.peer.got[i - 1].second, spacing) << "frame " << i;
            EXPECT_EQ(b.peer.got[i].first->bytes, plain_frame(peer_mac, frame_bytes, static_cast<uint8_t>(i)));
        }
        EXPECT_EQ(b.nic.stats().tx_frames, frames);
        for (unsigned i = 0; i < frames; ++i)
            EXPECT_EQ(b.tx_wb(tx_ring, i).olinfo_status & TXD_STAT_DD, TXD_STAT_DD) << i;
    });
}

TEST(e10k_tx, back_to_back_full_frames_at_line_rate)
{
    line_rate_case(1514, 8);
}

TEST(e10k_tx, back_to_back_minimum_frames_at_line_rate)
{
    line_rate_case(60, 40);
}

// TXDCTL.WTHRESH: completed descriptors are written back in bursts of WTHRESH (each burst one DMA
// over consecutive slots, every descriptor with DD), and what is left when the queue runs dry.
// Queue 1 sends the same frames with WTHRESH 0 and RS on each: one write-back per descriptor.
TEST(e10k_tx, write_back_batched_by_wthresh)
{
    nic_bench b;
    b.run([&] {
        const uint64_t ring1 = tx_ring + 0x1000;
        b.setup_pf_tx(0, tx_ring, 16);
        b.setup_pf_tx(1, ring1, 16);
        b.pf_wr(pf::TDBAL0 + pf::TXDCTL_OFF, TXDCTL_ENABLE | (4u << TXDCTL_WTHRESH_SHIFT));
        for (unsigned i = 0; i < 10; ++i) {
            const auto f = plain_frame(peer_mac, 200, static_cast<uint8_t>(i));
            std::memcpy(b.mem.host_ptr(tx_bufs + i * 2048, f.size()), f.data(), f.size());
            b.put_tx_desc(tx_ring, i, tx_bufs + i * 2048, static_cast<uint32_t>(f.size()), TXD_CMD_EOP);
            b.put_tx_desc(ring1, i, tx_bufs + i * 2048, static_cast<uint32_t>(f.size()));
        }
        uint64_t before = b.link.tlps_up();
        b.pf_wr(pf::TDBAL0 + pf::TDT_OFF, 10);
        wait(ns(100000));
        const uint64_t batched = b.link.tlps_up() - before;
        ASSERT_EQ(b.peer.got.size(), 10u);
        // Without RS, WTHRESH still writes every descriptor back.
        for (unsigned i = 0; i < 10; ++i)
            EXPECT_EQ(b.tx_wb(tx_ring, i).olinfo_status & TXD_STAT_DD, TXD_STAT_DD) << i;
        // Two bursts of 4 and the last 2 when the queue ran dry.
        EXPECT_EQ(b.nic.stats().tx_writeback_bursts, 3u);
        EXPECT_EQ(b.pf_rd(pf::TDBAL0 + pf::TDH_OFF), 10u);

        before = b.link.tlps_up();
        b.pf_wr(pf::TDBAL0 + pf::TXQ_STRIDE + pf::TDT_OFF, 10);
        wait(ns(100000));
        const uint64_t single = b.link.tlps_up() - before;
        ASSERT_EQ(b.peer.got.size(), 20u);
        EXPECT_EQ(b.nic.stats().tx_writeback_bursts, 3u);
        // Same fetches and data reads; 3 write-back writes against 10.
        EXPECT_EQ(single - batched, 10u - 3u);
    });
}

TEST(e10k_tx, malformed_descriptor_counted_and_queue_goes_on)
{
    nic_bench b;
    b.run([&] {
        b.setup_pf_tx(0, tx_ring, 8);
        const auto frame = plain_frame(peer_mac, 128, 9);
        std::memcpy(b.mem.host_ptr(tx_bufs, 128), frame.data(), 128);
        // 0: legacy format (DEXT clear); 1: zero length; 2: good.
        tx_desc{tx_bufs, TXD_CMD_EOP | TXD_CMD_RS | 128, 0}.encode(b.mem.host_ptr(tx_ring, 16));
        b.put_tx_desc(tx_ring, 1, tx_bufs, 0);
        b.put_tx_desc(tx_ring, 2, tx_bufs, 128);
        b.pf_wr(pf::TDBAL0 + pf::TDT_OFF, 3);
        wait(ns(10000));
        EXPECT_EQ(b.nic.stats().tx_malformed_descriptors, 2u);
        ASSERT_EQ(b.peer.got.size(), 1u);
        EXPECT_EQ(b.peer.got[0].first->bytes, frame);
        // Each descriptor completes, status reported where asked.
        for (unsigned i = 0; i < 3; ++i)
            EXPECT_EQ(b.tx_wb(tx_ring, i).olinfo_status & TXD_STAT_DD, TXD_STAT_DD) << i;
        EXPECT_EQ(b.pf_rd(pf::TDBAL0 + pf::TDH_OFF), 3u);
        // A frame whose middle descriptor is bad is dropped whole, up to its EOP.
        b.put_tx_desc(tx_ring, 3, tx_bufs, 64, 0);
        tx_desc{tx_bufs, TXD_CMD_DEXT | (0x1u << 20) | 64, 0}.encode(b.mem.host_ptr(tx_ring + 4 * 16, 16));
        b.put_tx_desc(tx_ring, 5, tx_bufs, 64, 0);
        b.put_tx_desc(tx_ring, 6, tx_bufs, 64);
        b.pf_wr(pf::TDBAL0 + pf::TDT_OFF, 7);
        wait(ns(10000));
        EXPECT_EQ(b.nic.stats().tx_malformed_descriptors, 3u);
        EXPECT_EQ(b.peer.got.size(), 1u);
        EXPECT_EQ(b.pf_rd(pf::TDBAL0 + pf::TDH_OFF), 7u);
    });
}

// ---- SR-IOV --------------------------------------------------------------------------------

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

TEST(e10k_sriov, mac_steers_to_vf_pool_and_lands_through_iommu)
{
    nic_bench b;
    sriov_setup s(b);
    b.run([&] {
        s.program();
        wait(ns(5000));
        EXPECT_EQ(b.mmu.stats().faults, 0u);   // descriptor prefetch went through VF 3's domain
        const auto frame = plain_frame(vf3_mac, 200, 3);
        b.inject(frame);
        wait(ns(5000));
        EXPECT_TRUE(b.mem_equals(sriov_setup::buf_pa, frame));
        EXPECT_EQ(s.wb(0, 0).status_error, RXD_STAT_DD | RXD_STAT_EOP);
        EXPECT_EQ(s.wb(0, 0).length, 200u);
        EXPECT_EQ(b.vf_rd(sriov_setup::vf, vf::VFRDBAL0 + pf::RDH_OFF), 1u);
        EXPECT_EQ(b.vf_rd(sriov_setup::vf, vf::VFGPRC), 1u);
        // The PF sees the same queue as its queue 6.
        EXPECT_EQ(b.pf_rd(pf::RDBAL0 + 6 * pf::RXQ_STRIDE + pf::RDH_OFF), 1u);
        EXPECT_EQ(b.pf_rd(pf::QPRC0 + 6 * pf::RXQ_STRIDE), 1u);
        ASSERT_EQ(b.core0.got.size(), 1u);
        EXPECT_EQ(b.core0.got[0].first, sriov_setup::vector_data);
        EXPECT_EQ(b.mmu.stats().faults, 0u);
        EXPECT_EQ(b.nic.stats().dma_errors, 0u);
        // A frame to another MAC goes to the PF's default pool, whose queue is not set up: dropped
        // there, nothing for VF 3.
        b.inject(plain_frame(nic_mac, 200));
        wait(ns(5000));
        EXPECT_EQ(b.vf_rd(sriov_setup::vf, vf::VFGPRC), 1u);
        EXPECT_EQ(b.nic.queue_rx_drops(pf_pool * queues_per_pool), 1u);
        // With VF 3's receive disabled in PFVFRE, its frames are refused by the classifier.
        b.pf_wr(pf::PFVFRE0, 0);
        b.inject(frame);
        wait(ns(5000));
        EXPECT_EQ(b.vf_rd(sriov_setup::vf, vf::VFGPRC), 1u);
        EXPECT_EQ(b.nic.classifier().stats().dropped(nic::drop_reason::pool_disabled), 1u);
    });
}

TEST(e10k_sriov, vf_dma_to_unmapped_address_faults_and_is_counted)
{
    nic_bench b;
    sriov_setup s(b);
    b.run([&] {
        s.program();
        // Slot 1 of queue 0 points at an iova VF 3's domain does not map.
        s.put_desc(0, 1, 0x7000'0000);
        b.vf_wr(sriov_setup::vf, vf::VFRDBAL0 + pf::RDH_OFF, 0);   // refetch from the start
        b.vf_wr(sriov_setup::vf, vf::VFRDBAL0 + pf::RDT_OFF, 7);
        wait(ns(5000));
        b.inject(plain_frame(vf3_mac, 100, 1));
        wait(ns(3000));
        b.inject(plain_frame(vf3_mac, 100, 2));
        wait(ns(5000));
        EXPECT_EQ(b.nic.stats().dma_errors, 1u);
        EXPECT_EQ(b.mmu.blocked(), 1u);
        EXPECT_EQ(s.wb(0, 0).status_error, RXD_STAT_DD | RXD_STAT_EOP);
        EXPECT_EQ(s.wb(0, 1).status_error & (RXD_STAT_DD | RXD_ERR_RXE), RXD_STAT_DD | RXD_ERR_RXE);
        // The fault record names VF 3 and the address.
        namespace r = iommu::regs;
        const uint32_t info = b.rd(iommu_reg_base + r::FRCD_INFO);
        EXPECT_EQ(info & r::FRCD_F, r::FRCD_F);
        EXPECT_EQ(info & 0xFFFF, nic_vf_rid(sriov_setup::vf));
        EXPECT_EQ(b.rd(iommu_reg_base + r::FRCD_ADDR_LO), 0x7000'0000u);
        EXPECT_EQ((info >> 16) & 0xFF, static_cast<uint32_t>(iommu::fault_reason::pte_not_present));
        // The PF, with no context entry at all, cannot DMA either: the descriptor fetch of a queue
        // in its pool faults.
        b.setup_pf_rx(pf_pool * queues_per_pool, rx_ring, rx_bufs, 8, 4);
        wait(ns(5000));
        EXPECT_EQ(b.nic.stats().dma_errors, 2u);
    });
}

TEST(e10k_sriov, five_tuple_filter_steers_to_pools_second_queue)
{
    nic_bench b;
    sriov_setup s(b);
    b.run([&] {
        s.program();
        const unsigned filter = 5;
        const unsigned target_queue = sriov_setup::vf * queues_per_pool + 1;   // global queue 7
        b.pf_wr(pf::SDPQF0 + 4 * filter, 7777u << 16);
        b.pf_wr(pf::L34T_IMIR0 + 4 * filter, target_queue << L34T_IMIR_RX_QUEUE_SHIFT);
        b.pf_wr(pf::FTQF0 + 4 * filter, 1u /* UDP */ | 1u << FTQF_PRIORITY_SHIFT | sriov_setup::vf << FTQF_POOL_SHIFT |
                                           FTQF_MASK_SRC_ADDR | FTQF_MASK_DST_ADDR | FTQF_MASK_SRC_PORT | FTQF_QUEUE_ENABLE);
        wait(ns(5000));
        const auto hit = udp_frame(vf3_mac, 1234, 7777, 64);
        const auto miss = udp_frame(vf3_mac, 1234, 7778, 64);
        b.inject(hit);
        wait(ns(3000));
        b.inject(miss);
        wait(ns(5000));
        EXPECT_EQ(s.wb(1, 0).length, hit.size());
        EXPECT_TRUE(b.mem_equals(sriov_setup::buf_pa + 0x8000, hit));
        EXPECT_EQ(s.wb(0, 0).length, miss.size());
        EXPECT_TRUE(b.mem_equals(sriov_setup::buf_pa, miss));
        EXPECT_EQ(b.nic.queue_rx_packets(target_queue), 1u);
        EXPECT_EQ(b.nic.queue_rx_packets(target_queue - 1), 1u);
        EXPECT_EQ(b.nic.classifier().stats().filter_hits, 1u);
        // An enabled filter with priority 0 is refused and counted; it steers nothing.
        b.pf_wr(pf::FTQF0 + 4 * 6, 1u | sriov_setup::vf << FTQF_POOL_SHIFT | FTQF_MASK_SRC_ADDR | FTQF_MASK_DST_ADDR |
                                       FTQF_MASK_SRC_PORT | FTQF_MASK_DST_PORT | FTQF_QUEUE_ENABLE);
        EXPECT_EQ(b.nic.stats().bad_filter_writes, 1u);
    });
}

TEST(e10k_sriov, vf_transmits_through_its_bar_when_pfvfte_allows)
{
    nic_bench b;
    sriov_setup s(b);
    b.run([&] {
        s.program();
        constexpr unsigned vf = sriov_setup::vf;
        const auto frame = plain_frame(peer_mac, 150, 0x33);
        std::memcpy(b.mem.host_ptr(sriov_setup::tx_pa + 0x1000, frame.size()), frame.data(), frame.size());
        tx_desc{sriov_setup::tx_iova + 0x1000,
                TXD_DTYP_DATA | TXD_CMD_DEXT | TXD_CMD_IFCS | TXD_CMD_EOP | TXD_CMD_RS | 150, 150u << TXD_PAYLEN_SHIFT}
            .encode(b.mem.host_ptr(sriov_setup::tx_pa, desc_bytes));
        b.vf_wr(vf, vf::VFTDBAL0 + pf::TDBAL_OFF, static_cast<uint32_t>(sriov_setup::tx_iova));
        b.vf_wr(vf, vf::VFTDBAL0 + pf::TDBAH_OFF, 0);
        b.vf_wr(vf, vf::VFTDBAL0 + pf::TDLEN_OFF, 8 * desc_bytes);
        b.vf_wr(vf, vf::VFTDBAL0 + pf::TXDCTL_OFF, TXDCTL_ENABLE);
        b.pf_wr(pf::DMATXCTL, DMATXCTL_TE);
        // The PF has not enabled VF 3's transmit: the doorbell does nothing.
        b.vf_wr(vf, vf::VFTDBAL0 + pf::TDT_OFF, 1);
        wait(ns(10000));
        EXPECT_TRUE(b.peer.got.empty());
        b.pf_wr(pf::PFVFTE0, 1u << vf);
        b.vf_wr(vf, vf::VFTDBAL0 + pf::TDT_OFF, 1);
        wait(ns(10000));
        ASSERT_EQ(b.peer.got.size(), 1u);
        EXPECT_EQ(b.peer.got[0].first->bytes, frame);
        EXPECT_EQ(tx_desc::decode(b.mem.host_ptr(sriov_setup::tx_pa, desc_bytes)).olinfo_status & TXD_STAT_DD, TXD_STAT_DD);
        EXPECT_EQ(b.vf_rd(vf, vf::VFGPTC), 1u);
        EXPECT_EQ(b.vf_rd(vf, vf::VFTDBAL0 + pf::TDH_OFF), 1u);
        EXPECT_EQ(b.mmu.stats().faults, 0u);   // ring and buffer read through VF 3's domain
    });
}

// ---- Register interface --------------------------------------------------------------------

TEST(e10k_mmio, unknown_offsets_and_bad_accesses_error_and_counted)
{
    nic_bench b;
    b.run([&] {
        uint32_t v = 0;
        EXPECT_EQ(b.raw(tlm::TLM_READ_COMMAND, nic_pf_bar0 + 0x0FFC, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.raw(tlm::TLM_WRITE_COMMAND, nic_pf_bar0 + 0x7FFF0, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.raw(tlm::TLM_READ_COMMAND, nic_pf_bar0 + pf::CTRL + 2, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        // A VF that is not enabled, an MSI-X entry beyond the function's vectors.
        EXPECT_EQ(b.raw(tlm::TLM_READ_COMMAND, nic_bench::vf_bar(num_vfs) + vf::VFSTATUS, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.raw(tlm::TLM_WRITE_COMMAND, nic_bench::vf_bar(0) + nic_vf_msix_offset + vf_msix_vectors * msix_entry_bytes, v),
                  tlm::TLM_ADDRESS_ERROR_RESPONSE);
        // An 8-byte access.
        uint64_t wide = 0;
        sc_time d = SC_ZERO_TIME;
        EXPECT_EQ(b.cpu.access(tlm::TLM_READ_COMMAND, nic_pf_bar0 + pf::STATUS, &wide, 8, d), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.nic.stats().mmio_errors, 6u);
        // Known registers work, read-only ones keep their value.
        EXPECT_EQ(b.vf_rd(0, vf::VFSTATUS) & STATUS_LU, STATUS_LU);
        b.pf_wr(pf::STATUS, 0);
        EXPECT_EQ(b.pf_rd(pf::STATUS) & STATUS_LU, STATUS_LU);
        // Queues 64-127 sit at 0xD000 (8.2.3.8), not after queue 63.
        EXPECT_EQ(b.raw(tlm::TLM_WRITE_COMMAND, nic_pf_bar0 + pf::RDBAL0 + 70 * pf::RXQ_STRIDE, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        b.pf_wr(0xD000 + 6 * pf::RXQ_STRIDE + pf::RDBAL_OFF, 0x1234'5680);
        EXPECT_EQ(b.pf_rd(0xD000 + 6 * pf::RXQ_STRIDE + pf::RDBAL_OFF), 0x1234'5680u);
        EXPECT_EQ(b.nic.stats().mmio_errors, 7u);
    });
}

} // namespace
