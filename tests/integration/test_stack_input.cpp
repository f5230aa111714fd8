// The protocol stack on a simulated core: well-formed datagrams reach the bound port, ARP requests
// are answered, and every malformed frame is dropped, counted by reason, and its buffer returned.
#include <cstring>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>

#include "models/platform/dram.h"
#include "os/core/cpu_core.h"
#include "os/net/stack.h"

using namespace iovsim;
using namespace iovsim::wire;

namespace {

struct bench {
    models::dram mem{"mem", models::dram_params{}};
    os::accounting acct;
    os::cost_model costs;
    os::cpu_core core{"core", 0, costs, mem, acct, sc_core::sc_time(1, sc_core::SC_SEC)};
    os::primitive zero{};
    os::net::stack_costs sc{};
    std::unique_ptr<os::net::net_stack> stack;
    std::vector<os::net::pkt> sent, released;
    std::vector<std::vector<uint8_t>> delivered;
    uint64_t next_pa = 0x10000;
    mac_addr mac = *mac_addr::parse("02:00:00:00:00:01");
    ipv4_addr ip = *ipv4_addr::parse("10.0.0.1");
    mac_addr peer_mac = *mac_addr::parse("02:00:00:00:00:02");
    ipv4_addr peer = *ipv4_addr::parse("10.0.0.2");

    bench()
    {
        sc.eth_rx = sc.ip_rx = sc.udp_rx = sc.udp_tx = sc.ip_tx = sc.eth_tx = &zero;
        stack = std::make_unique<os::net::net_stack>(core, mac, ip, sc);
        stack->set_interface([this](os::net::pkt& p) { sent.push_back(p); },
                             [this](os::net::pkt& p) { released.push_back(p); },
                             [this](os::net::pkt& p) { p = buffer(); return true; });
        stack->bind_udp(7, [this](os::net::pkt& p, const os::net::udp_meta&) {
            delivered.emplace_back(p.bytes(), p.bytes() + p.len);
        });
    }
    os::net::pkt buffer()
    {
        os::net::pkt p;
        p.pa = next_pa;
        next_pa += 2048;
        p.data = mem.host_ptr(p.pa, 2048);
        p.capacity = 2048;
        return p;
    }
    // A UDP datagram to port `dport` with `payload` bytes, as it arrives from the wire.
    os::net::pkt udp_frame(uint16_t dport, size_t payload)
    {
        os::net::pkt p = buffer();
        uint8_t* b = p.data;
        std::memset(b + 42, 0xAB, payload);
        udp_header u{4000, dport, static_cast<uint16_t>(8 + payload), 0};
        build_udp(b + 34, 2048 - 34, u, payload, peer, ip, true);
        ipv4_header h;
        h.total_length = static_cast<uint16_t>(28 + payload);
        h.protocol = ip_proto::udp;
        h.src = peer;
        h.dst = ip;
        build_ipv4(b + 14, 2048 - 14, h);
        eth_header e;
        e.dst = mac;
        e.src = peer_mac;
        build_eth(b, 2048, e);
        p.len = static_cast<uint32_t>(42 + payload);
        return p;
    }
    uint64_t errors(parse_error e) const { return stack->stats().errors[static_cast<size_t>(e)]; }
};

} // namespace

TEST(stack_input, good_datagram_is_delivered_with_its_payload)
{
    bench b;
    os::net::pkt p = b.udp_frame(7, 100);
    b.stack->input(p);
    ASSERT_EQ(b.delivered.size(), 1u);
    EXPECT_EQ(b.delivered[0].size(), 100u);
    EXPECT_EQ(b.delivered[0][99], 0xAB);
    EXPECT_EQ(b.stack->stats().rx_malformed, 0u);
}

TEST(stack_input, malformed_frames_are_dropped_counted_and_released)
{
    bench b;
    // Truncated below an Ethernet header.
    os::net::pkt runt = b.udp_frame(7, 100);
    runt.len = 10;
    b.stack->input(runt);
    // Bad IPv4 header checksum.
    os::net::pkt bad_ip = b.udp_frame(7, 100);
    bad_ip.data[14 + 10] ^= 0xFF;
    b.stack->input(bad_ip);
    // IPv4 total length beyond the frame.
    os::net::pkt long_ip = b.udp_frame(7, 100);
    long_ip.len -= 50;
    b.stack->input(long_ip);
    // Corrupted UDP payload: checksum mismatch.
    os::net::pkt bad_udp = b.udp_frame(7, 100);
    bad_udp.data[42 + 5] ^= 0x01;
    b.stack->input(bad_udp);
    // Wrong IP version.
    os::net::pkt v6 = b.udp_frame(7, 100);
    v6.data[14] = static_cast<uint8_t>(0x65);
    b.stack->input(v6);

    EXPECT_TRUE(b.delivered.empty());
    EXPECT_EQ(b.stack->stats().rx_malformed, 5u);
    EXPECT_EQ(b.errors(parse_error::truncated), 1u);
    EXPECT_EQ(b.errors(parse_error::bad_ip_checksum), 1u);
    EXPECT_EQ(b.errors(parse_error::bad_total_length), 1u);
    EXPECT_EQ(b.errors(parse_error::bad_udp_checksum), 1u);
    EXPECT_EQ(b.errors(parse_error::bad_version), 1u);
    EXPECT_EQ(b.released.size(), 5u);   // every buffer back to its owner
}

TEST(stack_input, unbound_port_and_foreign_destination_are_counted)
{
    bench b;
    os::net::pkt p = b.udp_frame(9, 10);
    b.stack->input(p);
    os::net::pkt q = b.udp_frame(7, 10);
    q.data[0] = 0x02;
    q.data[5] = 0x77;   // another station's MAC
    b.stack->input(q);
    EXPECT_EQ(b.stack->stats().rx_no_port, 1u);
    EXPECT_EQ(b.stack->stats().rx_not_for_us, 1u);
    EXPECT_EQ(b.released.size(), 2u);
    EXPECT_TRUE(b.delivered.empty());
}

TEST(stack_input, arp_request_for_our_address_is_answered)
{
    bench b;
    os::net::pkt p = b.buffer();
    arp_packet req{arp_op::request, b.peer_mac, b.peer, mac_addr{}, b.ip};
    build_arp(p.data + 14, 2048 - 14, req);
    eth_header e;
    e.dst = mac_addr::broadcast();
    e.src = b.peer_mac;
    e.ethertype = eth_type::arp;
    build_eth(p.data, 2048, e);
    p.len = 60;
    b.stack->input(p);
    ASSERT_EQ(b.sent.size(), 1u);
    const os::net::pkt& r = b.sent[0];
    const auto eth = parse_eth(r.bytes(), r.len);
    ASSERT_TRUE(eth.ok());
    EXPECT_EQ(eth.header().dst, b.peer_mac);
    const auto arp = parse_arp(r.bytes() + eth.payload_offset(), eth.payload_length());
    ASSERT_TRUE(arp.ok());
    EXPECT_EQ(arp.header().op, arp_op::reply);
    EXPECT_EQ(arp.header().sender_ip, b.ip);
    EXPECT_EQ(arp.header().sender_mac, b.mac);
    EXPECT_EQ(b.stack->stats().arp_replies, 1u);
}

TEST(stack_input, datagram_to_unresolved_peer_waits_for_arp_then_leaves)
{
    bench b;
    os::net::pkt p = b.buffer();
    p.off = os::net::headroom;
    p.len = 32;
    ASSERT_TRUE(b.stack->udp_output(p, 7, b.peer, 4000));
    ASSERT_EQ(b.sent.size(), 1u);   // the ARP request, not the datagram
    EXPECT_EQ(b.stack->stats().arp_requests, 1u);
    // The reply arrives: the held datagram goes out to the learnt address.
    os::net::pkt r = b.buffer();
    arp_packet rep{arp_op::reply, b.peer_mac, b.peer, b.mac, b.ip};
    build_arp(r.data + 14, 2048 - 14, rep);
    eth_header e;
    e.dst = b.mac;
    e.src = b.peer_mac;
    e.ethertype = eth_type::arp;
    build_eth(r.data, 2048, e);
    r.len = 60;
    b.stack->input(r);
    ASSERT_EQ(b.sent.size(), 2u);
    const auto eth = parse_eth(b.sent[1].bytes(), b.sent[1].len);
    EXPECT_EQ(eth.header().dst, b.peer_mac);
    EXPECT_EQ(eth.header().ethertype, eth_type::ipv4);
}
