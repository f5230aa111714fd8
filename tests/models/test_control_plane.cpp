// Model tests of the Arrakis control plane (os/kernel/control_plane) on the e10k bench with a
// simulated core: the kernel's code runs as a task, reaches the NIC and the IOMMU only through
// their registers, and the tests check what the hardware then does with frames and DMA: VNICs
// created and deleted, filters with rights and capacity, the request budget, IOMMU faults charged
// to the tenant that caused them.
//
// SystemC elaborates once per process: each TEST builds its own bench and runs sc_start once.
#include <gtest/gtest.h>

#include "models/iommu/translator.h"
#include "os/dataplane/doorbell.h"
#include "os/dataplane/native_udp.h"
#include "os/dataplane/posix_sockets.h"
#include "sim/wire/checksum.h"
#include "os/dataplane/vf_mailbox.h"
#include "os/kernel/control_plane.h"
#include "os/kernel/iommu_driver.h"
#include "os/kernel/phys_alloc.h"
#include "tests/support/e10k_bench.h"

using namespace iovsim;
using namespace iovsim::testing::e10k_bench;
using iovsim::testing::ns;
using os::category;
using namespace os::kernel;

namespace {

const wire::mac_addr mac_a{{0x02, 0, 0, 0, 0xA0, 0x01}};
const wire::mac_addr mac_b{{0x02, 0, 0, 0, 0xB0, 0x01}};
const wire::ipv4_addr ip_a{0x0A000001};
const wire::ipv4_addr ip_b{0x0A000002};
constexpr category k = category::scheduler;

struct cp_bench {
    nic_bench b;
    phys_alloc pages{0x900000, 0x1000000};
    std::unique_ptr<iommu_driver> iommu;
    std::unique_ptr<control_plane> cp;
    control_plane_params params;

    explicit cp_bench(control_plane_params p = {}, bool rich = false) : b(nic_params(rich), {}, true), params(p)
    {
        params.max_vfs = num_vfs;
        params.rich_filters = rich;
    }
    static nic::e10k_params nic_params(bool rich)
    {
        nic::e10k_params p = nic_bench::nic_p();
        p.rich_filters = rich;
        return p;
    }
    void run(std::function<void()> f)
    {
        b.run([this, f] {
            iommu = std::make_unique<iommu_driver>(b.core(), pages, 4);
            cp = std::make_unique<control_plane>(b.core(), pages, *iommu, params);
            cp->boot(k);
            f();
        });
    }
    // Simulated time passes for the kernel's core (and everything else).
    void settle(double us)
    {
        b.core().charge_ns(category::idle, us * 1000);
        b.core().sync();
    }
    vnic_grant vnic(tenant_id t, const wire::mac_addr& m, wire::ipv4_addr ip)
    {
        return cp->create_vnic(k, t, m, ip, 64 * 1024);
    }
    // Tenants 1 (mac_a, ip_a) and 2 (mac_b, ip_b), each with a VNIC whose queue 0 receives into
    // the page at 0x1000 of its region.
    std::pair<vnic_grant, vnic_grant> two_tenants()
    {
        const vnic_grant a = vnic(1, mac_a, ip_a), b2 = vnic(2, mac_b, ip_b);
        rx_queue(a, 0, 0x1000);
        rx_queue(b2, 0, 0x1000);
        return {a, b2};
    }
    // The application's driver, through its VF's BAR: receive queue `q` with 8 descriptors, its
    // ring in the region's first page (queue 1 at +0x800), every buffer in the page at `buf_off`.
    void rx_queue(const vnic_grant& g, unsigned q, uint64_t buf_off)
    {
        const uint64_t ring = g.region_pa + q * 0x800;
        for (unsigned i = 0; i < 8; ++i)
            e10k::rx_desc_read{g.region_pa + buf_off, 0}.encode(b.mem.host_ptr(ring + i * e10k::desc_bytes, e10k::desc_bytes));
        const uint32_t base = g.rx_regs + q * e10k::pf::RXQ_STRIDE;
        b.wr(g.bar + base + e10k::pf::RDBAL_OFF, static_cast<uint32_t>(ring));
        b.wr(g.bar + base + e10k::pf::RDBAH_OFF, static_cast<uint32_t>(ring >> 32));
        b.wr(g.bar + base + e10k::pf::RDLEN_OFF, 8 * e10k::desc_bytes);
        b.wr(g.bar + base + e10k::pf::SRRCTL_OFF, 2);
        b.wr(g.bar + base + e10k::pf::RXDCTL_OFF, e10k::RXDCTL_ENABLE);
        b.wr(g.bar + base + e10k::pf::RDT_OFF, 7);
        settle(5);
    }
    void inject(std::vector<uint8_t> frame)
    {
        b.core().sync();
        b.inject(std::move(frame));
        settle(5);
    }
    uint64_t rx_packets(const vnic_grant& g, unsigned q) { return b.nic.queue_rx_packets(g.vf * e10k::queues_per_pool + q); }
};

mac to_mac(const wire::mac_addr& m) { return m.bytes; }

// A UDP frame to the VNIC's MAC and address, port `dport`.
std::vector<uint8_t> udp_to(const wire::mac_addr& m, wire::ipv4_addr ip, uint16_t dport)
{
    auto f = udp_frame(to_mac(m), 5555, dport, 64);
    ip.store(f.data() + 14 + 16);
    return f;
}

// The same with a valid IPv4 header checksum (UDP's left 0: none), for a protocol stack to take.
std::vector<uint8_t> udp_checked(const wire::mac_addr& m, wire::ipv4_addr ip, uint16_t dport)
{
    auto f = udp_to(m, ip, dport);
    const uint16_t sum = wire::internet_checksum(f.data() + 14, 20);
    f[14 + 10] = static_cast<uint8_t>(sum >> 8);
    f[14 + 11] = static_cast<uint8_t>(sum);
    return f;
}

filter_spec rx_udp(wire::ipv4_addr ip, uint16_t port)
{
    filter_spec s;
    s.local_ip = ip;
    s.local_port = port;
    return s;
}

} // namespace

TEST(control_plane, vnic_receives_its_mac_into_its_own_region)
{
    cp_bench t;
    t.run([&] {
        const auto [a, bb] = t.two_tenants();
        EXPECT_NE(a.vf, bb.vf);
        EXPECT_EQ(a.tenant, 1u);
        const auto f = udp_to(mac_a, ip_a, 9);
        t.inject(f);
        EXPECT_EQ(t.rx_packets(a, 0), 1u);
        EXPECT_EQ(t.rx_packets(bb, 0), 0u);
        EXPECT_TRUE(t.b.mem_equals(a.region_pa + 0x1000, f));
        // Anti-spoofing is on for both VFs, receive and transmit enabled for both.
        EXPECT_EQ(t.b.pf_rd(e10k::pf::PFVFSPOOF0) & ((1u << a.vf) | (1u << bb.vf)), (1u << a.vf) | (1u << bb.vf));
        EXPECT_EQ(t.b.nic.stats().dma_errors, 0u);
    });
}

TEST(control_plane, filters_need_rights_and_steer_to_the_attached_queue)
{
    cp_bench t;
    t.run([&] {
        const auto [a, bb] = t.two_tenants();
        t.rx_queue(a, 1, 0x2000);
        // Tenant 1 may not claim tenant 2's address.
        refusal why = refusal::none;
        EXPECT_FALSE(t.cp->create_filter(k, 1, rx_udp(ip_b, 7777), &why));
        EXPECT_EQ(why, refusal::rights);
        EXPECT_EQ(t.cp->stats(1).refused[static_cast<unsigned>(refusal::rights)], 1u);
        // Its own address: a capability, which only it can attach, only to its own VNIC.
        const auto cap = t.cp->create_filter(k, 1, rx_udp(ip_a, 7777), &why);
        ASSERT_TRUE(cap);
        EXPECT_EQ(why, refusal::none);
        EXPECT_EQ(t.cp->attach_filter(k, 2, *cap, bb, 1), refusal::rights);
        EXPECT_EQ(t.cp->attach_filter(k, 1, *cap, bb, 1), refusal::rights);
        EXPECT_EQ(t.cp->attach_filter(k, 1, filter_cap{999, 1}, a, 1), refusal::bad_request);
        EXPECT_EQ(t.cp->stats(2).refused[static_cast<unsigned>(refusal::rights)], 1u);
        EXPECT_EQ(t.cp->attach_filter(k, 1, *cap, a, 1), refusal::none);
        EXPECT_EQ(t.cp->hardware_filters_used(), 1u);
        // The filter steers port 7777 to queue 1; other ports stay on queue 0.
        t.inject(udp_to(mac_a, ip_a, 7777));
        t.inject(udp_to(mac_a, ip_a, 7778));
        EXPECT_EQ(t.rx_packets(a, 1), 1u);
        EXPECT_EQ(t.rx_packets(a, 0), 1u);
        // Tenant 2's own address and the same port are its to claim.
        EXPECT_TRUE(t.cp->create_filter(k, 2, rx_udp(ip_b, 7777)));
        EXPECT_EQ(t.cp->stats(1).refused_total(), 3u);   // rights twice, bad_request
    });
}

TEST(control_plane, exhausted_filters_are_refused)
{
    control_plane_params p;
    p.request_burst = 1000;
    cp_bench t(p);
    t.run([&] {
        const vnic_grant a = t.vnic(1, mac_a, ip_a);
        for (unsigned i = 0; i < e10k::num_5tuple; ++i) {
            const auto cap = t.cp->create_filter(k, 1, rx_udp(ip_a, static_cast<uint16_t>(1000 + i)));
            ASSERT_TRUE(cap);
            ASSERT_EQ(t.cp->attach_filter(k, 1, *cap, a, 1), refusal::none) << i;
        }
        EXPECT_EQ(t.cp->hardware_filters_used(), 128u);
        const auto cap = t.cp->create_filter(k, 1, rx_udp(ip_a, 2000));
        ASSERT_TRUE(cap);
        EXPECT_EQ(t.cp->attach_filter(k, 1, *cap, a, 1), refusal::no_hardware);
        EXPECT_FALSE(t.cp->software_demux(a));
        EXPECT_EQ(t.cp->stats(1).refused[static_cast<unsigned>(refusal::no_hardware)], 1u);
    });
}

TEST(control_plane, exhausted_filters_fall_back_to_software_demultiplexing)
{
    control_plane_params p;
    p.request_burst = 1000;
    p.on_exhaustion = filter_exhaustion::software;
    cp_bench t(p);
    t.run([&] {
        const vnic_grant a = t.vnic(1, mac_a, ip_a);
        t.rx_queue(a, 0, 0x1000);
        for (unsigned i = 0; i < e10k::num_5tuple; ++i)
            ASSERT_EQ(t.cp->attach_filter(k, 1, *t.cp->create_filter(k, 1, rx_udp(ip_a, static_cast<uint16_t>(1000 + i))), a, 1),
                      refusal::none);
        EXPECT_FALSE(t.cp->software_demux(a));
        const auto cap = t.cp->create_filter(k, 1, rx_udp(ip_a, 2000));
        EXPECT_EQ(t.cp->attach_filter(k, 1, *cap, a, 1), refusal::none);
        EXPECT_TRUE(t.cp->software_demux(a));
        EXPECT_EQ(t.cp->hardware_filters_used(), 128u);
        // Its frames arrive on the VNIC's default queue, for the dataplane to classify.
        t.inject(udp_to(mac_a, ip_a, 2000));
        EXPECT_EQ(t.rx_packets(a, 0), 1u);
    });
}

TEST(control_plane, request_flood_is_refused_and_counted_while_others_proceed)
{
    control_plane_params p;
    p.request_burst = 8;
    p.requests_per_ms = 1;
    cp_bench t(p);
    t.run([&] {
        t.vnic(1, mac_a, ip_a);
        t.vnic(2, mac_b, ip_b);
        unsigned granted = 0, flooded = 0;
        for (unsigned i = 0; i < 20; ++i) {
            refusal why = refusal::none;
            if (t.cp->create_filter(k, 1, rx_udp(ip_a, static_cast<uint16_t>(100 + i)), &why))
                ++granted;
            else if (why == refusal::flood)
                ++flooded;
        }
        EXPECT_EQ(granted, 8u);
        EXPECT_EQ(flooded, 12u);
        EXPECT_EQ(t.cp->stats(1).refused[static_cast<unsigned>(refusal::flood)], 12u);
        EXPECT_EQ(t.cp->stats(1).requests, 20u);
        // The other tenant's budget is its own.
        EXPECT_TRUE(t.cp->create_filter(k, 2, rx_udp(ip_b, 100)));
        // Two milliseconds later, two more requests for tenant 1.
        t.settle(2000);
        EXPECT_TRUE(t.cp->create_filter(k, 1, rx_udp(ip_a, 200)));
        EXPECT_TRUE(t.cp->create_filter(k, 1, rx_udp(ip_a, 201)));
        EXPECT_FALSE(t.cp->create_filter(k, 1, rx_udp(ip_a, 202)));
    });
}

// A tenant gives back the page its next receive buffer is in while the NIC still has descriptors
// pointing there (the IOTLB holds the page's translation from the frame before): the unmap
// invalidates the IOTLB, the DMA faults, the fault is charged to that tenant, and the other
// tenant's traffic is untouched.
TEST(control_plane, unmap_under_dma_faults_and_is_charged_to_the_tenant)
{
    cp_bench t;
    t.run([&] {
        const auto [a, bb] = t.two_tenants();
        t.inject(udp_to(mac_a, ip_a, 9));
        EXPECT_EQ(t.rx_packets(a, 0), 1u);
        EXPECT_EQ(t.cp->collect_faults(k).size(), 0u);
        ASSERT_TRUE(t.cp->unmap_region(k, 1, a, 0x1000, 0x1000));
        EXPECT_FALSE(t.cp->unmap_region(k, 2, a, 0x1000, 0x1000));   // not tenant 2's VNIC
        EXPECT_FALSE(t.cp->unmap_region(k, 1, a, 0x1800, 0x1000));   // not whole pages
        t.inject(udp_to(mac_a, ip_a, 9));
        t.inject(udp_to(mac_b, ip_b, 9));
        EXPECT_EQ(t.b.nic.stats().dma_errors, 1u);
        EXPECT_EQ(t.rx_packets(bb, 0), 1u);
        const auto faults = t.cp->collect_faults(k);
        ASSERT_EQ(faults.size(), 1u);
        EXPECT_EQ(faults[0].requester, models::nic_vf_rid(a.vf));
        EXPECT_EQ(faults[0].address, a.region_pa + 0x1000);
        EXPECT_EQ(faults[0].reason, static_cast<unsigned>(iommu::fault_reason::pte_not_present));
        EXPECT_FALSE(faults[0].read);
        ASSERT_TRUE(faults[0].tenant);
        EXPECT_EQ(*faults[0].tenant, 1u);
        EXPECT_EQ(t.cp->stats(1).iommu_faults, 1u);
        EXPECT_EQ(t.cp->stats(2).iommu_faults, 0u);
        EXPECT_EQ(t.cp->collect_faults(k).size(), 0u);   // the record was popped
    });
}

// The same fault reported by the IOMMU's fault event interrupt: the kernel's handler collects it.
TEST(control_plane, iommu_fault_event_interrupt_reaches_the_kernel)
{
    cp_bench t;
    std::vector<fault_report> seen;
    t.run([&] {
        const vnic_grant a = t.vnic(1, mac_a, ip_a);
        t.rx_queue(a, 0, 0x1000);
        t.cp->enable_fault_irq(k, 0, 0x48);
        t.b.core().set_irq_handler([&](unsigned v) {
            if (v == 0x48)
                for (const fault_report& f : t.cp->collect_faults(k))
                    seen.push_back(f);
        });
        ASSERT_TRUE(t.cp->unmap_region(k, 1, a, 0x1000, 0x1000));
        t.inject(udp_to(mac_a, ip_a, 9));
        t.settle(10);
    });
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].requester, models::nic_vf_rid(0));
    EXPECT_EQ(t.cp->stats(1).iommu_faults, 1u);
    EXPECT_EQ(t.b.mmu.fault_events(), 1u);
}

TEST(control_plane, delete_frees_the_vf_its_filters_and_its_memory)
{
    cp_bench t;
    t.run([&] {
        const vnic_grant a = t.vnic(1, mac_a, ip_a);
        t.rx_queue(a, 0, 0x1000);
        const auto cap = t.cp->create_filter(k, 1, rx_udp(ip_a, 7777));
        ASSERT_EQ(t.cp->attach_filter(k, 1, *cap, a, 0), refusal::none);
        t.cp->set_rate(k, a, 0, 1e9);
        EXPECT_FALSE(t.cp->delete_vnic(k, 2, a));   // not tenant 2's
        ASSERT_TRUE(t.cp->delete_vnic(k, 1, a));
        EXPECT_FALSE(t.cp->delete_vnic(k, 1, a));   // already gone
        EXPECT_EQ(t.cp->hardware_filters_used(), 0u);
        EXPECT_EQ(t.b.pf_rd(e10k::pf::PFVFRE0) & (1u << a.vf), 0u);
        EXPECT_EQ(t.b.pf_rd(e10k::pf::PFVFTE0) & (1u << a.vf), 0u);
        EXPECT_EQ(t.b.nic.tx_sched().rate_reg(a.vf * 2), 0u);
        EXPECT_EQ(t.b.nic.classifier().filters().used(), 0u);
        // Its frames go nowhere near its old queue, and its domain no longer translates anything.
        t.inject(udp_to(mac_a, ip_a, 7777));
        EXPECT_EQ(t.rx_packets(a, 0), 0u);
        uint64_t pa = 0;
        uint16_t domain = 0;
        EXPECT_FALSE(t.iommu->tables().attached(models::nic_vf_rid(a.vf), domain));
        EXPECT_FALSE(t.iommu->tables().lookup(static_cast<uint16_t>(a.vf + 2), a.region_pa, pa));
        // The VF is free for the next VNIC.
        const vnic_grant c = t.vnic(3, mac_b, ip_b);
        EXPECT_EQ(c.vf, a.vf);
        t.rx_queue(c, 0, 0x1000);
        t.inject(udp_to(mac_b, ip_b, 9));
        EXPECT_EQ(t.rx_packets(c, 0), 1u);
        EXPECT_EQ(t.b.nic.stats().dma_errors, 0u);
    });
}

TEST(control_plane, transmit_filters_need_the_rich_hardware)
{
    cp_bench t;
    t.run([&] {
        t.vnic(1, mac_a, ip_a);
        filter_spec s = rx_udp(ip_a, 7000);
        s.dir = filter_spec::direction::transmit;
        refusal why = refusal::none;
        EXPECT_FALSE(t.cp->create_filter(k, 1, s, &why));
        EXPECT_EQ(why, refusal::no_hardware);
    });
}

TEST(control_plane, transmit_filter_stops_source_port_spoofing)
{
    cp_bench t({}, true);
    t.run([&] {
        const vnic_grant a = t.vnic(1, mac_a, ip_a);
        filter_spec s = rx_udp(ip_a, 7000);
        s.dir = filter_spec::direction::transmit;
        const auto cap = t.cp->create_filter(k, 1, s);
        ASSERT_TRUE(cap);
        ASSERT_EQ(t.cp->attach_filter(k, 1, *cap, a, 0), refusal::none);
        // The application sends three frames through its VF: its port, another port, and its
        // port with another source address.
        const uint64_t ring = a.region_pa, bufs = a.region_pa + 0x1000;
        std::vector<std::vector<uint8_t>> frames;
        for (int i = 0; i < 3; ++i) {
            auto f = udp_frame(peer_mac, i == 1 ? 7001 : 7000, 53, 64);
            std::copy(mac_a.bytes.begin(), mac_a.bytes.end(), f.begin() + 6);
            (i == 2 ? ip_b : ip_a).store(f.data() + 14 + 12);
            std::memcpy(t.b.mem.host_ptr(bufs + i * 256, f.size()), f.data(), f.size());
            const auto len = static_cast<uint32_t>(f.size());
            e10k::tx_desc{bufs + i * 256, e10k::TXD_DTYP_DATA | e10k::TXD_CMD_DEXT | e10k::TXD_CMD_IFCS | e10k::TXD_CMD_EOP |
                                              e10k::TXD_CMD_RS | len,
                          len << e10k::TXD_PAYLEN_SHIFT}
                .encode(t.b.mem.host_ptr(ring + i * e10k::desc_bytes, e10k::desc_bytes));
            frames.push_back(f);
        }
        t.b.wr(a.bar + a.tx_regs + e10k::pf::TDBAL_OFF, static_cast<uint32_t>(ring));
        t.b.wr(a.bar + a.tx_regs + e10k::pf::TDBAH_OFF, static_cast<uint32_t>(ring >> 32));
        t.b.wr(a.bar + a.tx_regs + e10k::pf::TDLEN_OFF, 8 * e10k::desc_bytes);
        t.b.wr(a.bar + a.tx_regs + e10k::pf::TXDCTL_OFF, e10k::TXDCTL_ENABLE);
        t.b.wr(a.bar + a.tx_regs + e10k::pf::TDT_OFF, 3);
        t.settle(10);
        ASSERT_EQ(t.b.peer.got.size(), 1u);
        EXPECT_EQ(t.b.peer.got[0].first->bytes, frames[0]);
        EXPECT_EQ(t.b.nic.stats().tx_filtered[a.vf], 2u);
    });
}

// ---- PF/VF mailbox ---------------------------------------------------------------------------

namespace {

// Tenant 1's VNIC; the kernel core (the test's driver) answers the mailbox from its interrupt
// handler while it idles, and `vf_driver` runs on the application core with the VF's mailbox.
void with_mailbox(cp_bench& t, vnic_grant& a, std::function<void(os::dataplane::vf_mailbox&)> vf_driver)
{
    constexpr unsigned pf_irq = 0x50, vf_irq = 0x60;
    t.run([&t, &a, vf_driver] {
        a = t.vnic(1, mac_a, ip_a);
        t.rx_queue(a, 0, 0x1000);
        t.cp->enable_mailbox_irq(k, 5, 0, pf_irq);
        t.b.core().set_irq_handler([&t](unsigned v) {
            if (v == pf_irq)
                t.cp->service_mailbox(k);
        });
        t.b.app().spawn("vf_driver", [&t, &a, vf_driver] {
            os::dataplane::vf_mailbox mb(t.b.app(), os::dev::dev_handle{&t.b.app(), a.bar}, 2, vf_irq);
            vf_driver(mb);
        }, true);
        t.b.core().block();
    });
}

const wire::mac_addr group{{0x01, 0x00, 0x5E, 0x00, 0x00, 0x07}};

} // namespace

// The application's VF driver talks to the kernel's PF driver through the NIC's mailbox registers,
// each side woken by its mailbox interrupt.
TEST(control_plane_mailbox, versioned_requests_from_the_vf_driver)
{
    cp_bench t;
    vnic_grant a;
    bool done = false;
    with_mailbox(t, a, [&](os::dataplane::vf_mailbox& mb) {
        // API 1.0 first: no multicast yet.
        EXPECT_TRUE(mb.negotiate(os::dev::mbx::api::v1_0));
        const auto mac = mb.reset();
        ASSERT_TRUE(mac);
        EXPECT_EQ(mac->bytes, mac_a.bytes);
        EXPECT_FALSE(mb.set_multicast({group}));
        // A version the PF does not know is refused; 1.1 is granted.
        EXPECT_FALSE(mb.negotiate(static_cast<os::dev::mbx::api>(7)));
        EXPECT_TRUE(mb.negotiate(os::dev::mbx::api::v1_1));
        EXPECT_TRUE(mb.set_multicast({group}));
        // Its own station address is granted, another tenant's is not.
        EXPECT_TRUE(mb.set_mac(mac_a));
        EXPECT_FALSE(mb.set_mac(mac_b));
        EXPECT_EQ(mb.interrupts(), 8u);   // one reply to each request
        done = true;
    });
    EXPECT_TRUE(done);
    EXPECT_EQ(t.cp->mailbox_api(a.vf), 1u);
    EXPECT_EQ(t.cp->stats(1).refused[static_cast<unsigned>(refusal::rights)], 1u);
    EXPECT_EQ(t.cp->stats(1).refused[static_cast<unsigned>(refusal::bad_request)], 2u);
    EXPECT_EQ(t.b.nic.stats().mbx_refused_writes, 0u);
}

// The multicast group the VF asked for is in the NIC's address table for its pool, and frames to it
// reach the VF.
TEST(control_plane_mailbox, multicast_group_goes_to_the_vfs_pool)
{
    cp_bench t;
    vnic_grant a;
    with_mailbox(t, a, [&](os::dataplane::vf_mailbox& mb) {
        ASSERT_TRUE(mb.negotiate(os::dev::mbx::api::v1_1));
        ASSERT_TRUE(mb.set_multicast({group}));
        // A frame to the group reaches the VF's queue.
        t.b.app().sync();
        t.b.inject(udp_to(group, ip_a, 9));
        t.b.app().charge_ns(category::idle, 5000);
        t.b.app().sync();
        EXPECT_EQ(t.rx_packets(a, 0), 1u);
    });
    EXPECT_EQ(t.b.nic.classifier().addresses().lookup(group.bytes), 1ULL << a.vf);
    EXPECT_EQ(t.b.nic.stats().mbx_refused_writes, 0u);
}

// ---- Doorbells -------------------------------------------------------------------------------

// A receive queue's doorbell: while the application waits with nothing to do, the frame's
// interrupt reaches its core and the kernel wakes it; while it runs and polls, it sees the next
// frame directly, with no interrupt.
TEST(doorbell, interrupt_when_waiting_direct_when_running)
{
    cp_bench t;
    vnic_grant a;
    sc_time woke, arrived;
    uint64_t irqs_after_wait = 0, irqs_after_poll = 0, blocked = 0;
    std::vector<int> first, second;
    t.run([&] {
        a = t.vnic(1, mac_a, ip_a);
        t.rx_queue(a, 0, 0x1000);
        t.b.app().spawn("app", [&] {
            os::cpu_core& app = t.b.app();
            os::dataplane::doorbell_set db(app, os::dev::dev_handle{&app, a.bar}, 0x70);
            unsigned next = 0;
            auto ready = [&] {
                return e10k::rx_desc_wb::decode(app.mem(a.region_pa + next * e10k::desc_bytes, e10k::desc_bytes)).status_error &
                       e10k::RXD_STAT_DD;
            };
            db.add(3, 0, ready);
            first = db.wait();
            woke = app.local_time();
            irqs_after_wait = db.interrupts();
            blocked = db.blocked_waits();
            ++next;
            while ((second = db.poll()).empty())
                app.charge_ns(category::poll, 100);
            irqs_after_poll = db.interrupts();
        }, true);
        t.settle(20);
        arrived = t.b.inject(udp_to(mac_a, ip_a, 9));
        t.settle(20);   // the application is running (polling) when the next frame comes
        t.inject(udp_to(mac_a, ip_a, 9));
        t.settle(20);
    });
    EXPECT_EQ(first, std::vector<int>{3});
    EXPECT_EQ(second, std::vector<int>{3});
    EXPECT_EQ(blocked, 1u);
    EXPECT_EQ(irqs_after_wait, 1u);
    EXPECT_EQ(irqs_after_poll, 1u);   // the running application took no interrupt
    EXPECT_GT(woke, arrived);
    EXPECT_GT(t.b.app().context_switches(), 0u);
    EXPECT_EQ(t.rx_packets(a, 0), 2u);
}

// The POSIX and the native API block on the VNIC's doorbell: each waits by interrupt and is woken
// by the kernel when its frame comes.
TEST(doorbell, posix_recvfrom_and_native_receive_wait_on_the_doorbell)
{
    cp_bench t;
    long got_posix = 0;
    size_t got_native = 0;
    uint64_t irqs = 0, blocked = 0;
    t.run([&] {
        const vnic_grant a = t.cp->create_vnic(k, 1, mac_a, ip_a, 512 * 1024);
        t.b.app().spawn("app", [&] {
            os::cpu_core& app = t.b.app();
            os::dataplane::dataplane_params dpp;
            dpp.rx_ring = dpp.tx_ring = 64;
            dpp.buffers = 128;
            os::dataplane::dataplane dp(app, a, dpp);
            dp.init();
            os::dataplane::doorbell_set db(app, os::dev::dev_handle{&app, a.bar}, 0x70);
            dp.attach_doorbell(db, 3);
            os::dataplane::posix_sockets posix(dp);
            const int fd = posix.udp_socket();
            ASSERT_EQ(posix.bind(fd, 9), 0);
            uint8_t buf[256];
            os::net::sock_addr from;
            got_posix = posix.recvfrom(fd, buf, sizeof buf, from);
            os::dataplane::native_udp native(dp);
            native.bind(10, [&](os::net::pkt& p, const os::net::udp_meta&) {
                got_native = p.len;
                native.release(p);
            });
            while (got_native == 0)
                native.run_once();
            irqs = db.interrupts();
            blocked = db.blocked_waits();
        }, true);
        t.settle(50);
        t.inject(udp_checked(mac_a, ip_a, 9));
        t.settle(50);
        t.inject(udp_checked(mac_a, ip_a, 10));
        t.settle(50);
    });
    EXPECT_EQ(got_posix, 64);
    EXPECT_EQ(got_native, 64u);
    EXPECT_EQ(irqs, 2u);
    EXPECT_EQ(blocked, 2u);
}
