// Attacks a misbehaving tenant makes on Arrakis, next to two well-behaved memcached tenants on the
// same host (each with its VNIC, IOMMU domain, receive filter and, with the rich filter hardware,
// a transmit filter the kernel installed). Each attack must be blocked and counted, touch no
// foreign byte, and leave the victims' results as in a run where the same tenant stays idle:
// identical counts where the attack puts nothing on the shared link or PCIe path, within 2%
// otherwise.
//
// Each scenario is a simulation of its own (SystemC elaborates once per process): it runs in a
// child process and returns its figures as JSON.
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/nic/e10k_regs.h"
#include "os/dev/e10k_queue.h"
#include "sim/experiment.h"
#include "sim/params.h"
#include "sim/tenant_testbed.h"
#include "sim/wire/wire.h"

using namespace iovsim;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr unsigned victims = 2, attacker = 2;
constexpr uint64_t kernel_page = 0x2000;   // low memory the kernel keeps (below its allocator)
constexpr uint8_t victim_pattern = 0x5C, kernel_pattern = 0x6D;

// Runs `body` in a child process and returns the JSON it printed; fails the test if the child did.
json in_child(const std::function<json()>& body)
{
    int fds[2];
    if (::pipe(fds) != 0)
        throw std::runtime_error("pipe");
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        std::string out;
        int code = 0;
        try {
            out = body().dump();
        } catch (const std::exception& e) {
            out = std::string("error: ") + e.what();
            code = 1;
        }
        for (size_t off = 0; off < out.size();) {
            const ssize_t n = ::write(fds[1], out.data() + off, out.size() - off);
            if (n <= 0)
                break;
            off += static_cast<size_t>(n);
        }
        std::_Exit(code);
    }
    ::close(fds[1]);
    std::string got;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        got.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("scenario failed: " + got);
    return json::parse(got);
}

// A UDP frame built by hand into `out` (the attacker owns its bytes and its descriptors).
size_t craft_udp(uint8_t* out, wire::mac_addr src_mac, wire::mac_addr dst_mac, wire::ipv4_addr src_ip,
                 wire::ipv4_addr dst_ip, uint16_t sport, uint16_t dport, size_t payload)
{
    const size_t l4 = wire::udp_header_len + payload;
    uint8_t* udp = out + wire::eth_header_len + wire::ipv4_min_header_len;
    std::memset(udp + wire::udp_header_len, 0xEE, payload);
    wire::udp_header u;
    u.sport = sport;
    u.dport = dport;
    wire::build_udp(udp, l4, u, payload, src_ip, dst_ip, true);
    wire::ipv4_header ip;
    ip.total_length = static_cast<uint16_t>(wire::ipv4_min_header_len + l4);
    ip.protocol = 17;
    ip.src = src_ip;
    ip.dst = dst_ip;
    wire::build_ipv4(out + wire::eth_header_len, wire::ipv4_min_header_len, ip);
    wire::eth_header e;
    e.src = src_mac;
    e.dst = dst_mac;
    wire::build_eth(out, wire::eth_header_len, e);
    return wire::eth_header_len + wire::ipv4_min_header_len + l4;
}

// Sleeps on the attacker's core (no host time) for `us` of simulated time.
void pause_us(os::cpu_core& core, double us)
{
    core.wait_until(os::category::poll, [] { return false; }, nullptr, core.local_time() + sc_core::sc_time(us, sc_core::SC_US));
}

// The attacker drives its VF's transmit queue 0 itself: the ring at the start of its region, its
// frames in its region from own_buffers_offset on, addressed to its own client host.
constexpr uint64_t own_buffers_offset = 16384;
os::dev::e10k_tx_ring own_tx_ring(sim::attack_env& e)
{
    os::dev::e10k_tx_ring tx({&e.core, e.grant.bar}, e.grant.tx_regs, e.grant.region_pa, 64);
    tx.init(os::category::app);
    return tx;
}
wire::mac_addr own_client_mac() { return *wire::mac_addr::parse("02:00:00:00:20:03"); }
wire::ipv4_addr own_client_ip() { return *wire::ipv4_addr::parse("10.0.2.3"); }

struct scenario {
    std::function<void(sim::attack_env&, json&)> attack;   // nullptr: the tenant stays idle
    double limit_bps = 0;                                  // on the attacker's transmit queue
    double measure_us = 1500;                              // the victims' measured window
};

json run_scenario(const scenario& s)
{
    return in_child([&s] {
        const fs::path src = sim::source_dir();
        const cfg::config c = sim::load_run_config(
            (src / "configs/experiments/perf_isolation.yaml").string(),
            {"workload.memcached.servers=3", "workload.memcached.warmup_us=200",
             "workload.memcached.measure_us=" + std::to_string(s.measure_us), "platform.nic.filters=rich"},
            std::nullopt);
        json out;
        sim::tenant_setup setup;
        setup.path = sim::server_path::arrakis_p;
        setup.servers = victims + 1;
        setup.outstanding = 4;
        setup.tenant_filters = true;
        setup.attacker = attacker;
        if (s.limit_bps > 0) {
            setup.limit_bps = s.limit_bps;
            setup.limited = attacker;
        }
        setup.attack = [&s, &out](sim::attack_env& e) {
            if (s.attack)
                s.attack(e, out["attack"]);
            for (;;)
                e.core.block();   // nothing left to do
        };
        sim::tenant_testbed tb(c, setup);
        if (!tb.run())
            throw std::runtime_error("the victims' clients did not finish");
        for (unsigned i = 0; i < victims; ++i) {
            const auto& st = tb.client(i).stats();
            out["victims"].push_back({{"transactions", st.window_transactions},
                                      {"bytes", st.window_response_bytes},
                                      {"bad", st.bad},
                                      {"lost", st.lost},
                                      {"received", st.received}});
        }
        const auto& nic = tb.server_host().nic->stats();
        out["nic"] = {{"dma_errors", nic.dma_errors}, {"tx_spoofed", nic.tx_spoofed[tb.grant(attacker).vf]},
                      {"tx_filtered", nic.tx_filtered[tb.grant(attacker).vf]}};
        const auto& cst = tb.control_plane()->stats(tb.grant(attacker).tenant);
        out["tenant"] = {{"requests", cst.requests},
                         {"iommu_faults", cst.iommu_faults},
                         {"refused_rights", cst.refused[static_cast<unsigned>(os::kernel::refusal::rights)]},
                         {"refused_flood", cst.refused[static_cast<unsigned>(os::kernel::refusal::flood)]}};
        const auto& vst = tb.control_plane()->stats(tb.grant(0).tenant);
        out["victim0_faults"] = vst.iommu_faults;
        const auto& got = tb.attacker_receipts();
        out["attacker_received"] = got.datagrams;
        out["attacker_received_payload"] = got.payload_bytes;
        for (const auto& t : got.arrivals)
            out["attacker_arrivals_us"].push_back(t.to_seconds() * 1e6);
        out["sim_us"] = sc_core::sc_time_stamp().to_seconds() * 1e6;
        return out;
    });
}

// The victims are unharmed: nothing bad, nothing lost beyond the baseline; `exact`: the same
// transactions and bytes as the baseline, else within 2%.
void expect_victims_unharmed(const json& base, const json& run, bool exact)
{
    for (unsigned i = 0; i < victims; ++i) {
        const json& b = base.at("victims").at(i);
        const json& r = run.at("victims").at(i);
        EXPECT_EQ(r.at("bad").get<uint64_t>(), 0u) << "victim " << i;
        EXPECT_LE(r.at("lost").get<uint64_t>(), b.at("lost").get<uint64_t>()) << "victim " << i;
        const double bt = b.at("transactions").get<double>(), rt = r.at("transactions").get<double>();
        if (exact) {
            EXPECT_EQ(r.at("transactions"), b.at("transactions")) << "victim " << i;
            EXPECT_EQ(r.at("bytes"), b.at("bytes")) << "victim " << i;
        } else {
            EXPECT_NEAR(rt, bt, 0.02 * bt) << "victim " << i;
        }
    }
}

// One line of the attack table on stdout: what was counted, and the victims' transactions in the
// measured window against the idle-attacker run.
void table_row(const char* attack, const json& r, const json& base)
{
    std::printf("[attack-table] %s | iommu_faults=%llu dma_errors=%llu tx_spoofed=%llu tx_filtered=%llu refused_rights=%llu "
                "refused_flood=%llu attacker_received=%llu | victims %llu/%llu (idle attacker: %llu/%llu), bad %llu/%llu\n",
                attack, (unsigned long long)r.at("tenant").at("iommu_faults").get<uint64_t>(),
                (unsigned long long)r.at("nic").at("dma_errors").get<uint64_t>(),
                (unsigned long long)r.at("nic").at("tx_spoofed").get<uint64_t>(),
                (unsigned long long)r.at("nic").at("tx_filtered").get<uint64_t>(),
                (unsigned long long)r.at("tenant").at("refused_rights").get<uint64_t>(),
                (unsigned long long)r.at("tenant").at("refused_flood").get<uint64_t>(),
                (unsigned long long)r.at("attacker_received").get<uint64_t>(),
                (unsigned long long)r.at("victims").at(0).at("transactions").get<uint64_t>(),
                (unsigned long long)r.at("victims").at(1).at("transactions").get<uint64_t>(),
                (unsigned long long)base.at("victims").at(0).at("transactions").get<uint64_t>(),
                (unsigned long long)base.at("victims").at(1).at("transactions").get<uint64_t>(),
                (unsigned long long)r.at("victims").at(0).at("bad").get<uint64_t>(),
                (unsigned long long)r.at("victims").at(1).at("bad").get<uint64_t>());
}

// The same tenants with the third one idle, measured over the same window.
const json& baseline(double measure_us = scenario{}.measure_us)
{
    static std::map<double, json> runs;
    auto it = runs.find(measure_us);
    if (it == runs.end()) {
        scenario idle;
        idle.measure_us = measure_us;
        it = runs.emplace(measure_us, run_scenario(idle)).first;
    }
    return it->second;
}

} // namespace

TEST(attacks, baseline_victims_are_served)
{
    const json& b = baseline();
    for (unsigned i = 0; i < victims; ++i) {
        EXPECT_GT(b.at("victims").at(i).at("transactions").get<uint64_t>(), 100u);
        EXPECT_EQ(b.at("victims").at(i).at("bad").get<uint64_t>(), 0u);
    }
    EXPECT_EQ(b.at("nic").at("dma_errors").get<uint64_t>(), 0u);
    EXPECT_EQ(b.at("tenant").at("iommu_faults").get<uint64_t>(), 0u);
}

// Descriptors that point into another tenant's memory and into the kernel's: the receive DMAs
// (frames from the attacker's client) and the transmit reads fault in the IOMMU, are counted and
// charged to the attacker, and not a byte there changes; nothing of it reaches the wire.
TEST(attacks, descriptors_into_foreign_memory_fault)
{
    scenario s;
    s.attack = [](sim::attack_env& e, json& out) {
        const uint64_t victim_page = e.tb.grant(0).region_pa + e.tb.grant(0).region_bytes - 4096;   // beyond its buffers
        // Test scaffolding: mark both pages so a write into them would show.
        std::memset(e.core.mem(victim_page, 4096), victim_pattern, 4096);
        std::memset(e.core.mem(kernel_page, 4096), kernel_pattern, 4096);
        const os::category c = os::category::app;
        const os::dev::dev_handle vf{&e.core, e.grant.bar};
        os::dev::e10k_rx_ring rx(vf, e.grant.rx_regs, e.grant.region_pa, 64, 2048);
        os::dev::e10k_tx_ring tx(vf, e.grant.tx_regs, e.grant.region_pa + 64 * e10k::desc_bytes, 64);
        rx.init(c);
        tx.init(c);
        for (unsigned k = 0; k < 48; ++k) {
            os::net::pkt p;
            p.pa = k % 2 ? victim_page : kernel_page;
            rx.post(p);
        }
        rx.doorbell(c);
        for (unsigned k = 0; k < 16; ++k) {
            os::net::pkt p;
            p.pa = (k % 2 ? victim_page : kernel_page) + 64 * k;
            p.len = 256;
            tx.post(p);
        }
        tx.doorbell(c);
        pause_us(e.core, 1000);
        uint64_t collected = 0;
        e.kernel_call([&] { collected = e.tb.control_plane()->collect_faults(os::category::scheduler).size(); });
        const uint8_t* v = e.core.mem(victim_page, 4096);
        const uint8_t* k = e.core.mem(kernel_page, 4096);
        out["victim_page_intact"] = std::all_of(v, v + 4096, [](uint8_t b) { return b == victim_pattern; });
        out["kernel_page_intact"] = std::all_of(k, k + 4096, [](uint8_t b) { return b == kernel_pattern; });
        out["faults_collected"] = collected;
    };
    const json r = run_scenario(s);
    table_row("dma_into_foreign_memory", r, baseline(s.measure_us));
    EXPECT_TRUE(r.at("attack").at("victim_page_intact").get<bool>());
    EXPECT_TRUE(r.at("attack").at("kernel_page_intact").get<bool>());
    EXPECT_GT(r.at("nic").at("dma_errors").get<uint64_t>(), 0u);
    EXPECT_GT(r.at("attack").at("faults_collected").get<uint64_t>(), 0u);
    EXPECT_GT(r.at("tenant").at("iommu_faults").get<uint64_t>(), 0u);
    EXPECT_EQ(r.at("victim0_faults").get<uint64_t>(), 0u);
    EXPECT_EQ(r.at("attacker_received").get<uint64_t>(), 0u);   // no foreign byte left the host
    expect_victims_unharmed(baseline(), r, false);
}

// Frames with a victim's source MAC, a victim's source IP and port (own MAC), and the attacker's
// own address but a port its transmit filter does not allow: all dropped by the NIC and counted;
// a frame the filter allows goes out (the path works).
TEST(attacks, spoofed_sources_are_dropped)
{
    scenario s;
    s.attack = [](sim::attack_env& e, json& out) {
        const os::category c = os::category::app;
        os::dev::e10k_tx_ring tx = own_tx_ring(e);
        const uint64_t bufs = e.grant.region_pa + own_buffers_offset;
        const sim::tenant_testbed& tb = e.tb;
        const wire::mac_addr victim_client_mac = *wire::mac_addr::parse("02:00:00:00:20:01");
        const wire::ipv4_addr victim_client_ip = *wire::ipv4_addr::parse("10.0.2.1");
        struct kind {
            wire::mac_addr mac;
            wire::ipv4_addr ip;
            uint16_t sport;
            wire::mac_addr dst_mac;
            wire::ipv4_addr dst_ip;
            uint16_t dst_port;
        };
        const kind kinds[] = {
            {tb.server_mac(0), tb.server_ip(0), tb.server_port(0), victim_client_mac, victim_client_ip, 41000},   // victim's MAC, to its client
            {e.grant.mac, tb.server_ip(0), tb.server_port(0), victim_client_mac, victim_client_ip, 41000},   // victim's IP, port
            {e.grant.mac, e.grant.ip, 9999, own_client_mac(), own_client_ip(), sim::tenant_testbed::attacker_client_port},   // a port not allowed
            {e.grant.mac, e.grant.ip, tb.server_port(attacker), own_client_mac(), own_client_ip(), sim::tenant_testbed::attacker_client_port},   // allowed
        };
        unsigned slot = 0;
        for (unsigned round = 0; round < 8; ++round)
            for (const kind& k : kinds) {
                const uint64_t pa = bufs + 2048 * (slot++ % 32);
                os::net::pkt p;
                p.pa = pa;
                p.len = static_cast<uint32_t>(craft_udp(e.core.mem(pa, 2048), k.mac, k.dst_mac, k.ip, k.dst_ip, k.sport, k.dst_port, 64));
                while (!tx.post(p)) {
                    os::net::pkt done;
                    while (tx.reclaim(done)) {
                    }
                    pause_us(e.core, 5);
                }
                tx.doorbell(c);
                pause_us(e.core, 2);
            }
        pause_us(e.core, 200);
        out["sent_each"] = 8;
    };
    const json r = run_scenario(s);
    table_row("spoofed_sources", r, baseline(s.measure_us));
    EXPECT_EQ(r.at("nic").at("tx_spoofed").get<uint64_t>(), 8u);        // another's source MAC
    EXPECT_EQ(r.at("nic").at("tx_filtered").get<uint64_t>(), 2u * 8u);  // another's IP and port, a port not allowed
    EXPECT_EQ(r.at("attacker_received").get<uint64_t>(), 8u);           // only the allowed ones
    expect_victims_unharmed(baseline(), r, false);
}

// Receiving another tenant's traffic: a receive filter on the victim's address is refused
// (rights), and a capability the attacker did not get cannot be attached to its VNIC.
TEST(attacks, stealing_a_victims_traffic_is_refused)
{
    scenario s;
    s.attack = [](sim::attack_env& e, json& out) {
        os::kernel::control_plane& cp = *e.tb.control_plane();
        std::optional<os::kernel::filter_cap> stolen;
        os::kernel::refusal why = os::kernel::refusal::none, attach = os::kernel::refusal::none;
        e.kernel_call([&] {
            os::kernel::filter_spec f;
            f.local_ip = e.tb.server_ip(0);
            f.local_port = e.tb.server_port(0);
            stolen = cp.create_filter(os::category::scheduler, e.tenant, f, &why);
            // A capability the attacker guesses (the kernel numbers them from 1).
            attach = cp.attach_filter(os::category::scheduler, e.tenant, os::kernel::filter_cap{1, e.tenant}, e.grant, 0);
        });
        out["granted"] = stolen.has_value();
        out["why"] = os::kernel::refusal_name(why);
        out["attach"] = os::kernel::refusal_name(attach);
    };
    const json r = run_scenario(s);
    table_row("steal_traffic", r, baseline(s.measure_us));
    EXPECT_FALSE(r.at("attack").at("granted").get<bool>());
    EXPECT_EQ(r.at("attack").at("why"), os::kernel::refusal_name(os::kernel::refusal::rights));
    EXPECT_EQ(r.at("attack").at("attach"), os::kernel::refusal_name(os::kernel::refusal::rights));
    EXPECT_GE(r.at("tenant").at("refused_rights").get<uint64_t>(), 2u);
    expect_victims_unharmed(baseline(), r, true);
}

// Flooding the control plane with filter requests: beyond the tenant's budget they are refused
// and counted; the kernel's work is on its own core.
TEST(attacks, control_plane_flood_is_refused_beyond_the_budget)
{
    scenario s;
    s.attack = [](sim::attack_env& e, json& out) {
        os::kernel::control_plane& cp = *e.tb.control_plane();
        unsigned granted = 0;
        for (unsigned k = 0; k < 2000; ++k)
            e.kernel_call([&] {
                os::kernel::filter_spec f;
                f.local_ip = e.grant.ip;
                f.local_port = static_cast<uint16_t>(20000 + k);
                if (cp.create_filter(os::category::scheduler, e.tenant, f))
                    ++granted;
            });
        out["granted"] = granted;
    };
    const json r = run_scenario(s);
    table_row("control_plane_flood", r, baseline(s.measure_us));
    const uint64_t granted = r.at("attack").at("granted").get<uint64_t>();
    EXPECT_GE(r.at("tenant").at("requests").get<uint64_t>(), 2000u);
    EXPECT_LT(granted, 200u);   // the burst (64) and what refills at 10/ms in the run
    EXPECT_GE(r.at("tenant").at("refused_flood").get<uint64_t>(), 2000u - granted);
    expect_victims_unharmed(baseline(), r, true);
}

// Unmapping memory under an in-flight DMA: the attacker queues frames from its own buffers and at
// once gives the buffers' pages back; the transmit reads that come after fault (the IOTLB was
// invalidated before unmap returned), are counted, and nothing else is hurt.
TEST(attacks, unmap_under_inflight_dma_faults)
{
    scenario s;
    s.attack = [](sim::attack_env& e, json& out) {
        const os::category c = os::category::app;
        os::dev::e10k_tx_ring tx = own_tx_ring(e);
        const uint64_t bufs = e.grant.region_pa + own_buffers_offset;
        for (unsigned k = 0; k < 48; ++k) {
            os::net::pkt p;
            p.pa = bufs + 2048 * k;
            p.len = static_cast<uint32_t>(
                craft_udp(e.core.mem(p.pa, 2048), e.grant.mac, own_client_mac(), e.grant.ip, own_client_ip(), e.tb.server_port(attacker), sim::tenant_testbed::attacker_client_port, 1400));
            tx.post(p);
        }
        tx.doorbell(c);
        bool unmapped = false;
        e.kernel_call([&] { unmapped = e.tb.control_plane()->unmap_region(os::category::scheduler, e.tenant, e.grant, 16384, 48 * 2048); });
        pause_us(e.core, 500);
        e.kernel_call([&] { e.tb.control_plane()->collect_faults(os::category::scheduler); });
        out["unmapped"] = unmapped;
    };
    const json r = run_scenario(s);
    table_row("unmap_under_dma", r, baseline(s.measure_us));
    EXPECT_TRUE(r.at("attack").at("unmapped").get<bool>());
    EXPECT_GT(r.at("tenant").at("iommu_faults").get<uint64_t>(), 0u);
    EXPECT_LT(r.at("attacker_received").get<uint64_t>(), 48u);   // what was fetched before the unmap, at most
    expect_victims_unharmed(baseline(), r, false);
}

// Exceeding its rate: the attacker's transmit queue is limited to 50 Mb/s and it sends as fast as
// its ring allows; its client sees the limit, the victims keep their throughput.
TEST(attacks, exceeding_the_rate_is_limited)
{
    scenario s;
    s.limit_bps = 50e6;
    s.measure_us = 10000;
    s.attack = [](sim::attack_env& e, json& out) {
        const os::category c = os::category::app;
        os::dev::e10k_tx_ring tx = own_tx_ring(e);
        const uint64_t bufs = e.grant.region_pa + own_buffers_offset;
        for (unsigned k = 0; k < 64; ++k)
            craft_udp(e.core.mem(bufs + 2048 * k, 2048), e.grant.mac, own_client_mac(), e.grant.ip, own_client_ip(), e.tb.server_port(attacker), sim::tenant_testbed::attacker_client_port, 1400);
        const sc_core::sc_time start = e.core.local_time();
        uint64_t posted = 0;
        for (;;) {
            os::net::pkt p;
            while (tx.reclaim(p)) {
            }
            p.pa = bufs + 2048 * (posted % 64);
            p.len = wire::eth_header_len + wire::ipv4_min_header_len + wire::udp_header_len + 1400;
            if (tx.post(p)) {
                ++posted;
                tx.doorbell(c);
                out["posted"] = posted;
                out["since_us"] = (e.core.local_time() - start).to_seconds() * 1e6;
                continue;
            }
            pause_us(e.core, 20);
        }
    };
    const json r = run_scenario(s);
    table_row("exceed_rate", r, baseline(s.measure_us));
    // On the wire per datagram: its payload, UDP, IPv4 and Ethernet headers, FCS, preamble and
    // inter-frame gap. The rate is taken after the first quarter of the arrivals (the limiter's
    // burst credit lets the first frames go back to back).
    const double n = r.at("attacker_received").get<double>();
    const double per_frame_bits = (r.at("attacker_received_payload").get<double>() / n + 42 + 24) * 8;
    const auto& at = r.at("attacker_arrivals_us");
    ASSERT_GT(at.size(), 20u);
    const size_t from = at.size() / 4;
    const double us = at.back().get<double>() - at.at(from).get<double>();
    const double rate = static_cast<double>(at.size() - 1 - from) * per_frame_bits / (us * 1e-6);
    EXPECT_NEAR(rate, 50e6, 0.01 * 50e6);
    EXPECT_GT(r.at("attack").at("posted").get<double>(), n);   // it tried to send more
    expect_victims_unharmed(baseline(s.measure_us), r, false);
}
