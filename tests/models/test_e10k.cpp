// Model tests of the e10k SR-IOV NIC. The bench is a host as the OS sees it: DRAM, a root complex,
// the NIC's PCIe link and the IOMMU in front of memory; a test driver thread plays the driver,
// programming registers by MMIO through the root complex (offsets from models/nic/e10k_regs.h) and
// writing descriptors into DRAM as software does; a fake core counts MSIs; a cable connects the
// NIC's MAC to a fake peer that records frames and can send frames to the NIC.
//
// SystemC elaborates once per process: each TEST builds its own bench and runs sc_start once;
// run them one per process (ctest does; by hand use --gtest_filter).
#include <gtest/gtest.h>

#include "tests/support/e10k_bench.h"

using namespace iovsim;
using namespace iovsim::testing::e10k_bench;
using iovsim::testing::ns;

namespace {

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
