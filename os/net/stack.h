#pragma once
// The protocol stack: Ethernet, ARP, IPv4 and UDP, one instance per host (a kernel's, or a
// library OS's in an application). It is functional code: it parses and validates what arrives,
// demultiplexes by protocol and port, and builds headers in front of outgoing payloads. Every layer
// charges its cost through the stack_costs given by the path that hosts it (the kernel's or the
// dataplane's). Transport protocols register with the IP layer by protocol number, so TCP slots in
// beside UDP.
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <unordered_map>

#include "os/core/cpu_core.h"
#include "os/net/pkt.h"
#include "sim/wire/wire.h"

namespace iovsim::os::net {

struct stack_costs {
    category in = category::net_stack_in;
    category out = category::net_stack_out;
    const primitive* eth_rx = nullptr;
    const primitive* ip_rx = nullptr;
    const primitive* udp_rx = nullptr;
    const primitive* udp_tx = nullptr;
    const primitive* ip_tx = nullptr;
    const primitive* eth_tx = nullptr;
};

struct udp_meta {
    wire::ipv4_addr src;
    uint16_t sport = 0;
    wire::ipv4_addr dst;
    uint16_t dport = 0;
};

struct stack_stats {
    uint64_t rx_frames = 0, rx_delivered = 0, tx_frames = 0;
    uint64_t rx_malformed = 0;          // failed parsing or validation (counted by parse_error)
    uint64_t rx_not_for_us = 0;         // other destination MAC or IP
    uint64_t rx_no_port = 0;            // UDP to a port nobody bound
    uint64_t rx_unknown_protocol = 0;
    uint64_t arp_requests = 0, arp_replies = 0, tx_arp_pending = 0, tx_arp_dropped = 0;
    std::array<uint64_t, wire::parse_error_count> errors{};
};

class net_stack {
public:
    static constexpr size_t arp_queue_limit = 64;
    static constexpr uint64_t arp_retry_ns = 1'000'000'000;   // Linux neigh retrans_time_ms: 1 s

    // The host's network interface: transmits a frame, taking the buffer (the driver frees it).
    using transmit_fn = std::function<void(pkt& frame)>;
    // Frees a buffer the stack consumed (dropped, or an ARP request it answered).
    using release_fn = std::function<void(pkt& p)>;
    // Allocates a buffer for a frame the stack originates (ARP); false when none is free.
    using alloc_fn = std::function<bool(pkt& p)>;
    // A transport's input: the packet's bytes start at its header; `ip` describes the datagram.
    using proto_input = std::function<void(pkt& p, const wire::ipv4_header& ip)>;
    using udp_input = std::function<void(pkt& p, const udp_meta& meta)>;

    net_stack(cpu_core& core, wire::mac_addr mac, wire::ipv4_addr ip, const stack_costs& costs);

    void set_interface(transmit_fn tx, release_fn release, alloc_fn alloc);
    // A kernel's stack is entered by every core of its host: each layer then charges the core that
    // runs it (cpu_core::this_cpu) rather than the one the stack was made with.
    void set_shared_by_cores(bool shared) { m_shared = shared; }
    void add_static_arp(wire::ipv4_addr ip, wire::mac_addr mac) { m_arp[ip] = mac; }

    // A received frame; ownership passes to the stack (delivered or released).
    void input(pkt& frame);

    void register_protocol(uint8_t proto, proto_input input) { m_protocols[proto] = std::move(input); }
    void unregister_protocol(uint8_t proto) { m_protocols.erase(proto); }
    bool bind_udp(uint16_t port, udp_input input);
    void unbind_udp(uint16_t port) { m_udp_ports.erase(port); }

    // Sends p's bytes [off, off+len) as a UDP payload; headers go in front (needs headroom).
    bool udp_output(pkt& p, uint16_t sport, wire::ipv4_addr dst, uint16_t dport);
    // Sends a transport segment already built at p.bytes() as IPv4 payload.
    bool ip_output(pkt& p, uint8_t proto, wire::ipv4_addr dst);
    // A transport's segment failed its own parsing (a TCP checksum or data offset): counted with
    // the stack's malformed frames, by reason, and released.
    void drop_malformed(pkt& p, wire::parse_error e) { drop(p, e); }

    wire::mac_addr mac() const { return m_mac; }
    wire::ipv4_addr ip() const { return m_ip; }
    const stack_stats& stats() const { return m_stats; }

    // For transports that keep buffers (TCP's receive queue) or originate segments: the host's
    // buffer allocator and release, and the core running the stack's code now.
    bool alloc(pkt& p) { return m_alloc && m_alloc(p); }
    void release(pkt& p) { m_release(p); }
    cpu_core& core() const
    {
        cpu_core* here = m_shared ? cpu_core::this_cpu() : nullptr;
        return here ? *here : m_core;
    }

private:
    void arp_input(pkt& frame);
    void ipv4_input(pkt& frame);
    void udp_in(pkt& p, const wire::ipv4_header& ip);
    bool eth_output(pkt& p, wire::mac_addr dst, uint16_t ethertype);
    void send_arp_request(wire::ipv4_addr target);
    void drop(pkt& p, wire::parse_error e);

    cpu_core& m_core;
    wire::mac_addr m_mac;
    wire::ipv4_addr m_ip;
    stack_costs m_costs;
    transmit_fn m_tx;
    release_fn m_release;
    alloc_fn m_alloc;
    std::unordered_map<wire::ipv4_addr, wire::mac_addr> m_arp;
    std::unordered_map<wire::ipv4_addr, std::deque<pkt>> m_arp_waiting;   // packets awaiting a reply
    std::unordered_map<wire::ipv4_addr, uint64_t> m_arp_asked;           // when a request last went out (ns)
    std::map<uint8_t, proto_input> m_protocols;
    std::unordered_map<uint16_t, udp_input> m_udp_ports;
    uint16_t m_ip_id = 1;
    bool m_shared = false;
    stack_stats m_stats;
};

} // namespace iovsim::os::net
