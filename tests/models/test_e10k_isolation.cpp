// Model tests of the e10k's isolation features: transmit rate limiters and weighted arbitration
// between pools, programmed through the PF's registers as a driver does (the bench is shared with
// test_e10k.cpp).
//
// SystemC elaborates once per process: each TEST builds its own bench and runs sc_start once.
#include <gtest/gtest.h>

#include <string>

#include "models/nic/tx_sched.h"
#include "tests/support/e10k_bench.h"

using namespace iovsim;
using namespace iovsim::testing::e10k_bench;
using iovsim::testing::ns;

namespace {

constexpr double line_bps = 10e9;

// PF transmit queue q with n descriptors at `ring`, each sending a copy of one frame of `bytes`
// whose payload names the queue.
struct tx_stream {
    unsigned q;
    uint64_t ring;
    uint64_t buf;
    unsigned n;
    size_t bytes;
};

void fill_stream(nic_bench& b, const tx_stream& s)
{
    const auto f = plain_frame(peer_mac, s.bytes, static_cast<uint8_t>(s.q));
    std::memcpy(b.mem.host_ptr(s.buf, f.size()), f.data(), f.size());
    for (unsigned i = 0; i < s.n; ++i)
        b.put_tx_desc(s.ring, i, s.buf, static_cast<uint32_t>(f.size()));
    b.setup_pf_tx(s.q, s.ring, (s.n + 8) / 8 * 8);   // TDLEN: a multiple of 128 bytes
}

void limit(nic_bench& b, unsigned q, double rate_bps)
{
    b.pf_wr(pf::RTTDQSEL, q);
    b.pf_wr(pf::RTTBCNRC, iovsim::e10k::rttbcnrc_for(line_bps, rate_bps));
}

// The queue a received frame came from: its first payload byte is 14 + the queue number.
unsigned queue_of(const frame_ptr& f) { return static_cast<unsigned>(f->bytes[14] - 14); }

// Rate over the frames after the first `skip` (the initial burst), from the peer's arrival times:
// the bytes on the wire of frames skip+1..last over the time from frame skip's end to the last's.
double measured_bps(const std::vector<std::pair<frame_ptr, sc_time>>& got, unsigned skip)
{
    uint64_t bytes = 0;
    for (size_t i = skip + 1; i < got.size(); ++i)
        bytes += models::net::wire_bytes(got[i].first->bytes.size());
    const double secs = (got.back().second - got[skip].second).to_seconds();
    return static_cast<double>(bytes) * 8 / secs;
}

void rate_case(double rate_bps, size_t frame_bytes, unsigned frames)
{
    nic_bench b;
    b.run([&] {
        limit(b, 0, rate_bps);
        const tx_stream s{0, tx_ring, tx_bufs, frames, frame_bytes};
        fill_stream(b, s);
        b.pf_wr(pf::TDBAL0 + pf::TDT_OFF, frames);
        const double expect_secs = frames * models::net::wire_bytes(frame_bytes) * 8 / rate_bps;
        wait(sc_time(expect_secs * 1.1 + 100e-6, SC_SEC));
        ASSERT_EQ(b.peer.got.size(), frames);
        // Skip the initial burst: MMW_SIZE (4 KB) of credit and the frame that may overdraw it.
        const double r = measured_bps(b.peer.got, static_cast<unsigned>(4096 / models::net::wire_bytes(frame_bytes) + 2));
        EXPECT_NEAR(r / rate_bps, 1.0, 0.01) << "measured " << r << " b/s";
        ::testing::Test::RecordProperty("measured_bps", std::to_string(r));
        EXPECT_GT(b.nic.tx_sched().rate_holds(), 0u);
        EXPECT_EQ(b.pf_rd(pf::RTTBCNRC), iovsim::e10k::rttbcnrc_for(line_bps, rate_bps));
    });
}

TEST(e10k_rate, one_gigabit_full_frames_within_one_percent)
{
    rate_case(1e9, 1514, 800);
}

TEST(e10k_rate, hundred_megabit_small_frames_within_one_percent)
{
    rate_case(100e6, 128, 600);
}

TEST(e10k_rate, fractional_rate_factor_within_one_percent)
{
    rate_case(3.3e9, 700, 1500);
}

// A limited queue next to an unlimited one: the limited one keeps its rate, the other takes the
// rest of the link.
TEST(e10k_rate, unlimited_queue_takes_the_rest_of_the_link)
{
    nic_bench b;
    b.run([&] {
        limit(b, 2, 1e9);
        const unsigned n_fast = 3000, n_slow = 600;
        fill_stream(b, {0, tx_ring, tx_bufs, n_fast, 1514});
        fill_stream(b, {2, tx_ring + 0x100000, tx_bufs + 0x1000, n_slow, 1514});
        b.pf_wr(pf::TDBAL0 + pf::TDT_OFF, n_fast);
        b.pf_wr(pf::TDBAL0 + 2 * pf::TXQ_STRIDE + pf::TDT_OFF, n_slow);
        // Measure while both are busy: the unlimited queue runs out first.
        const double window = n_fast * models::net::wire_bytes(1514) * 8 / (line_bps - 1e9) * 0.95;
        wait(sc_time(window, SC_SEC));
        // The limited queue's rate from its own frames (past its burst, and past the transmit
        // packet buffer the unlimited queue filled first); the link's from all of them.
        std::vector<std::pair<frame_ptr, sc_time>> slow;
        uint64_t all_bytes = 0;
        for (const auto& [f, t] : b.peer.got) {
            if (queue_of(f) == 2)
                slow.emplace_back(f, t);
            if (&f != &b.peer.got.front().first)
                all_bytes += models::net::wire_bytes(f->bytes.size());
        }
        // Steady state: once the packet buffer is full (160 KB, filled within the first 0.5 ms),
        // every frame waits the same time in it.
        unsigned settled = 0;
        while (settled < slow.size() && slow[settled].second < sc_time(500, SC_US))
            ++settled;
        ASSERT_GT(slow.size(), settled + 100);
        const double slow_bps = measured_bps(slow, settled);
        EXPECT_NEAR(slow_bps / 1e9, 1.0, 0.01);
        ::testing::Test::RecordProperty("limited_bps", std::to_string(slow_bps));
        const double secs = (b.peer.got.back().second - b.peer.got.front().second).to_seconds();
        EXPECT_NEAR(all_bytes * 8 / secs / line_bps, 1.0, 0.01);
        ::testing::Test::RecordProperty("link_bps", std::to_string(all_bytes * 8 / secs));
    });
}

// Weighted round robin between pools (RTTDCS.VMPAC, RTTDT1C): two backlogged pools with credits
// 3:1 share the link 3:1 in bytes, whatever their frame sizes.
TEST(e10k_wrr, backlogged_pools_share_the_link_by_credit)
{
    nic_bench b;
    b.run([&] {
        b.pf_wr(pf::RTTDCS, RTTDCS_VMPAC);
        b.pf_wr(pf::RTTDQSEL, 0);
        b.pf_wr(pf::RTTDT1C, 3 * 24);   // pool 0 (queue 0): 3 x 1536 bytes a turn
        b.pf_wr(pf::RTTDQSEL, 1);
        b.pf_wr(pf::RTTDT1C, 24);       // pool 1 (queue 2): 1536 bytes a turn
        const unsigned n = 2500;
        fill_stream(b, {0, tx_ring, tx_bufs, n, 1514});
        fill_stream(b, {2, tx_ring + 0x100000, tx_bufs + 0x1000, n, 400});
        b.pf_wr(pf::TDBAL0 + pf::TDT_OFF, n);
        b.pf_wr(pf::TDBAL0 + 2 * pf::TXQ_STRIDE + pf::TDT_OFF, n);
        // While both have work (pool 0 runs out after about 2500 x 1542 / 0.75 bytes of link time).
        wait(sc_time(2000 * 1542 * 8 / 0.75 / line_bps, SC_SEC));
        uint64_t bytes[2] = {0, 0};
        for (const auto& [f, t] : b.peer.got)
            bytes[queue_of(f) / 2] += models::net::wire_bytes(f->bytes.size());
        const double share0 = static_cast<double>(bytes[0]) / static_cast<double>(bytes[0] + bytes[1]);
        EXPECT_NEAR(share0, 0.75, 0.01);
        ::testing::Test::RecordProperty("share_pool0", std::to_string(share0));
        // The link stays at line rate.
        const double secs = (b.peer.got.back().second - b.peer.got.front().second).to_seconds();
        EXPECT_NEAR((bytes[0] + bytes[1]) * 8 / secs / line_bps, 1.0, 0.01);
    });
}

} // namespace

// ---- Transmit security: MAC anti-spoofing and the rich option's transmit filters -------------

namespace {

// VF 3 sends from its queue 0 (ring and buffers through its IOMMU domain, as sriov_setup maps
// them): each call puts one frame in the next slot and rings the doorbell.
struct vf_sender {
    nic_bench& b;
    unsigned next = 0;
    void init()
    {
        constexpr unsigned vf = sriov_setup::vf;
        b.vf_wr(vf, vf::VFTDBAL0 + pf::TDBAL_OFF, static_cast<uint32_t>(sriov_setup::tx_iova));
        b.vf_wr(vf, vf::VFTDBAL0 + pf::TDBAH_OFF, 0);
        b.vf_wr(vf, vf::VFTDBAL0 + pf::TDLEN_OFF, 64 * desc_bytes);
        b.vf_wr(vf, vf::VFTDBAL0 + pf::TXDCTL_OFF, TXDCTL_ENABLE);
        b.pf_wr(pf::DMATXCTL, DMATXCTL_TE);
        b.pf_wr(pf::PFVFTE0, 1u << vf);
    }
    void send(std::vector<uint8_t> f)
    {
        const uint64_t slot_pa = sriov_setup::tx_pa + 0x1000 + next * 128;   // 128 bytes per frame
        f.resize(std::min<size_t>(f.size(), 128));
        std::memcpy(b.mem.host_ptr(slot_pa, f.size()), f.data(), f.size());
        const auto len = static_cast<uint32_t>(f.size());
        tx_desc{sriov_setup::tx_iova + 0x1000 + next * 128,
                TXD_DTYP_DATA | TXD_CMD_DEXT | TXD_CMD_IFCS | TXD_CMD_EOP | TXD_CMD_RS | len, len << TXD_PAYLEN_SHIFT}
            .encode(b.mem.host_ptr(sriov_setup::tx_pa + next * desc_bytes, desc_bytes));
        ++next;
        b.vf_wr(sriov_setup::vf, vf::VFTDBAL0 + pf::TDT_OFF, next);
        wait(ns(5000));
    }
    bool done(unsigned slot)
    {
        return tx_desc::decode(b.mem.host_ptr(sriov_setup::tx_pa + slot * desc_bytes, desc_bytes)).olinfo_status & TXD_STAT_DD;
    }
};

// A UDP frame from `src` (MAC) 10.0.0.2:sport to 10.0.0.1:dport.
std::vector<uint8_t> udp_from(const mac& src, uint16_t sport, uint16_t dport)
{
    auto f = udp_frame(peer_mac, sport, dport, 32);
    std::copy(src.begin(), src.end(), f.begin() + 6);
    return f;
}

nic::e10k_params rich()
{
    nic::e10k_params p = nic_bench::nic_p();
    p.rich_filters = true;
    return p;
}

} // namespace

TEST(e10k_antispoof, vf_frames_with_another_source_mac_are_dropped_and_counted)
{
    nic_bench b;
    sriov_setup s(b);
    b.run([&] {
        s.program();
        vf_sender tx{b};
        tx.init();
        // Off: any source goes out.
        tx.send(udp_from(nic_mac, 1, 2));
        EXPECT_EQ(b.peer.got.size(), 1u);
        // MACAS for VF 3 (PFVFSPOOF(0) bit 3): only its own address (RAR 1 -> pool 3) leaves.
        b.pf_wr(pf::PFVFSPOOF0, 1u << sriov_setup::vf);
        tx.send(udp_from(nic_mac, 1, 2));
        tx.send(udp_from(vf3_mac, 1, 2));
        tx.send(udp_from(peer_mac, 1, 2));
        ASSERT_EQ(b.peer.got.size(), 2u);
        EXPECT_TRUE(std::equal(vf3_mac.begin(), vf3_mac.end(), b.peer.got[1].first->bytes.begin() + 6));
        EXPECT_EQ(b.nic.stats().tx_spoofed[sriov_setup::vf], 2u);
        EXPECT_EQ(b.pf_rd(pf::SSVPC), 2u);
        // The dropped frames' descriptors still complete: the VF's ring does not stall.
        for (unsigned i = 0; i < 4; ++i)
            EXPECT_TRUE(tx.done(i)) << i;
        EXPECT_EQ(b.vf_rd(sriov_setup::vf, vf::VFTDBAL0 + pf::TDH_OFF), 4u);
        // The PF's own queues are not checked.
        EXPECT_EQ(b.nic.stats().tx_spoofed[pf_pool], 0u);
    });
}

TEST(e10k_txfilter, absent_on_the_82599)
{
    nic_bench b;
    b.run([&] {
        uint32_t v = 0;
        EXPECT_EQ(b.raw(tlm::TLM_WRITE_COMMAND, nic_pf_bar0 + pf::TXFTQF0, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.raw(tlm::TLM_READ_COMMAND, nic_pf_bar0 + pf::TXFCTL0, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    });
}

TEST(e10k_txfilter, rich_filters_pass_only_the_pools_own_address_and_port)
{
    nic_bench b(rich());
    sriov_setup s(b);
    b.run([&] {
        s.program();
        vf_sender tx{b};
        tx.init();
        // Filter 0: VF 3 may send UDP from 10.0.0.2 port 7000, to anyone.
        b.pf_wr(pf::TXSAQF0, 0x0A000002);
        b.pf_wr(pf::TXSDPQF0, 7000);
        b.pf_wr(pf::TXFTQF0, 1u /* UDP */ | 1u << FTQF_PRIORITY_SHIFT | sriov_setup::vf << FTQF_POOL_SHIFT |
                                 FTQF_MASK_DST_ADDR | FTQF_MASK_DST_PORT | FTQF_QUEUE_ENABLE);
        tx.send(udp_from(vf3_mac, 9999, 1));   // filtering still off for the pool
        b.pf_wr(pf::TXFCTL0, 1u << sriov_setup::vf);
        tx.send(udp_from(vf3_mac, 7000, 1));   // allowed
        tx.send(udp_from(vf3_mac, 7001, 1));   // another port
        auto other_ip = udp_from(vf3_mac, 7000, 1);
        other_ip[14 + 15] = 9;                 // source 10.0.0.9
        tx.send(other_ip);
        tx.send(plain_frame(peer_mac, 80));    // not IPv4: not filtered
        ASSERT_EQ(b.peer.got.size(), 3u);
        EXPECT_EQ(b.nic.stats().tx_filtered[sriov_setup::vf], 2u);
        // The same filter bound to another pool does not help VF 3.
        b.pf_wr(pf::TXFTQF0, 1u | 1u << FTQF_PRIORITY_SHIFT | 1u << FTQF_POOL_SHIFT | FTQF_MASK_DST_ADDR |
                                 FTQF_MASK_DST_PORT | FTQF_QUEUE_ENABLE);
        tx.send(udp_from(vf3_mac, 7000, 1));
        EXPECT_EQ(b.peer.got.size(), 3u);
        EXPECT_EQ(b.nic.stats().tx_filtered[sriov_setup::vf], 3u);
    });
}
