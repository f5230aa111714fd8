#pragma once
// Two hosts' protocol stacks with TCP joined by an in-memory wire, on a clock the test drives: the
// protocol logic alone, no simulated core running (their costs are zero). The wire delivers each
// frame after a fixed latency plus its serialization at a line rate, and can drop, duplicate and
// delay (reorder) frames with given probabilities from a seeded stream. With tx_cost_ns set, each
// frame sent takes that long on its host, and frames that arrive at the host meanwhile are taken
// then, inside the sending call, as a core takes interrupts at its charge boundaries.
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "models/platform/dram.h"
#include "os/core/cpu_core.h"
#include "os/net/buffer_pool.h"
#include "os/net/stack.h"
#include "os/net/tcp.h"

namespace iovsim::testing {

// n bytes from a seeded generator: a stream whose every byte a receiver can check.
inline std::vector<uint8_t> pattern(size_t n, uint64_t seed)
{
    std::mt19937_64 g(seed);
    std::vector<uint8_t> v(n);
    for (auto& b : v)
        b = static_cast<uint8_t>(g());
    return v;
}

struct tcp_pair {
    struct side {
        std::unique_ptr<models::dram> mem;
        os::accounting acct;
        std::unique_ptr<os::cpu_core> core;
        std::unique_ptr<os::net::buffer_pool> pool;
        std::unique_ptr<os::net::net_stack> stack;
        std::unique_ptr<os::net::tcp_layer> tcp;
        wire::mac_addr mac;
        wire::ipv4_addr ip;
    };
    struct in_flight {
        std::vector<uint8_t> bytes;
        unsigned to = 0;
    };

    os::cost_model costs;
    os::primitive zero{};
    os::net::stack_costs sc{};
    side s[2];
    uint64_t now = 0;
    uint64_t latency_ns = 1000;
    double gbps = 10.0;
    uint64_t busy_until[2] = {0, 0};
    double loss = 0, dup = 0, reorder = 0;
    uint64_t reorder_delay_ns = 20'000;
    uint64_t dropped = 0, duplicated = 0, reordered = 0, frames = 0;
    std::mt19937_64 rng{7};
    std::multimap<uint64_t, in_flight> wire;   // by arrival time, then in order sent
    std::function<void(const std::vector<uint8_t>&, uint64_t)> tap;
    uint64_t tx_cost_ns = 0;
    bool delivering = false;
    uint64_t nested_inputs = 0;   // frames taken inside a sending call

    explicit tcp_pair(const os::net::tcp_params& p0, const os::net::tcp_params& p1 = os::net::tcp_params{},
                      const os::net::tcp_costs& tcosts = os::net::tcp_costs{})
    {
        sc.eth_rx = sc.ip_rx = sc.udp_rx = sc.udp_tx = sc.ip_tx = sc.eth_tx = &zero;
        const os::net::tcp_params* params[2] = {&p0, &p1};
        for (unsigned i = 0; i < 2; ++i) {
            side& h = s[i];
            h.mac = wire::mac_addr{{2, 0, 0, 0, 0, static_cast<uint8_t>(i + 1)}};
            h.ip = wire::ipv4_addr::from_octets(10, 0, 0, static_cast<uint8_t>(i + 1));
            models::dram_params dp;
            dp.size_bytes = 32ULL << 20;
            h.mem = std::make_unique<models::dram>(sc_core::sc_gen_unique_name("tcp_pair_mem"), dp);
            h.core = std::make_unique<os::cpu_core>(sc_core::sc_gen_unique_name("tcp_pair_core"), i, costs, *h.mem,
                                                    h.acct, sc_core::sc_time(1, sc_core::SC_SEC));
            h.pool = std::make_unique<os::net::buffer_pool>(*h.core, 0x100000, 8192, 2048);
            h.stack = std::make_unique<os::net::net_stack>(*h.core, h.mac, h.ip, sc);
            h.stack->set_interface([this, i](os::net::pkt& f) { transmit(i, f); },
                                   [&h](os::net::pkt& b) { h.pool->free(b); },
                                   [&h](os::net::pkt& b) { return h.pool->alloc(b); });
            h.tcp = std::make_unique<os::net::tcp_layer>(*h.stack, *params[i], tcosts, 11 + i);
            h.tcp->set_clock([this] { return now; });
        }
        s[0].stack->add_static_arp(s[1].ip, s[1].mac);
        s[1].stack->add_static_arp(s[0].ip, s[0].mac);
    }
    os::net::tcp_layer& tcp(unsigned i) { return *s[i].tcp; }
    wire::ipv4_addr ip(unsigned i) const { return s[i].ip; }

    void transmit(unsigned from, os::net::pkt& f)
    {
        std::vector<uint8_t> bytes(f.bytes(), f.bytes() + f.len);
        s[from].pool->free(f);
        ++frames;
        const uint64_t ser = static_cast<uint64_t>((bytes.size() + 24) * 8 / gbps);
        busy_until[from] = std::max(busy_until[from], now) + ser;
        uint64_t at = busy_until[from] + latency_ns;
        if (tap)
            tap(bytes, busy_until[from]);
        std::uniform_real_distribution<double> u(0, 1);
        if (loss > 0 && u(rng) < loss) {
            ++dropped;
        } else {
            if (reorder > 0 && u(rng) < reorder) {
                ++reordered;
                at += reorder_delay_ns;
            }
            if (dup > 0 && u(rng) < dup) {
                ++duplicated;
                wire.emplace(at + 1, in_flight{bytes, 1 - from});
            }
            wire.emplace(at, in_flight{std::move(bytes), 1 - from});
        }
        if (tx_cost_ns > 0 && !delivering) {
            now += tx_cost_ns;
            take_arrived();
        }
    }
    // The frames that have arrived by now, at either host (the other one runs meanwhile), then the
    // timers due; a frame's or a timer's handling is an interrupt's, with no time of its own and
    // nothing nested inside it.
    void take_arrived()
    {
        delivering = true;
        while (!wire.empty() && wire.begin()->first <= now) {
            in_flight f = std::move(wire.begin()->second);
            wire.erase(wire.begin());
            ++nested_inputs;
            deliver(f);
        }
        for (side& h : s)   // and the timer interrupts due meanwhile
            if (h.tcp->next_timer_ns() <= now)
                h.tcp->run_timers(now);
        delivering = false;
    }
    void deliver(in_flight& f)
    {
        side& h = s[f.to];
        os::net::pkt b;
        if (!h.pool->alloc(b))
            return;   // no buffer: dropped as a NIC would
        b.off = 0;
        std::memcpy(b.data, f.bytes.data(), f.bytes.size());
        b.len = static_cast<uint32_t>(f.bytes.size());
        b.request = h.core->open_request();   // as a driver does for each frame
        h.stack->input(b);
    }

    // The next event: a frame arriving or a timer of either side.
    uint64_t next_event() const
    {
        uint64_t t = wire.empty() ? UINT64_MAX : wire.begin()->first;
        for (const side& h : s)
            t = std::min(t, h.tcp->next_timer_ns());
        return t;
    }
    // Runs one event; false when nothing is left.
    bool step()
    {
        const uint64_t t = next_event();
        if (t == UINT64_MAX)
            return false;
        now = std::max(now, t);
        if (!wire.empty() && wire.begin()->first <= now) {
            in_flight f = std::move(wire.begin()->second);
            wire.erase(wire.begin());
            delivering = true;
            deliver(f);
            delivering = false;
        }
        for (side& h : s)
            if (h.tcp->next_timer_ns() <= now)
                h.tcp->run_timers(now);
        return true;
    }
    // Runs until `done` holds (checked after each event) or time `limit_ns` passes; true if done.
    bool run_until(const std::function<bool()>& done, uint64_t limit_ns)
    {
        while (!done()) {
            if (next_event() > limit_ns || !step())
                return done();
        }
        return true;
    }
};

} // namespace iovsim::testing
