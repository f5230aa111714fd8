// Wire formats: addresses, build -> parse round trips for every header, the bytes builders write,
// every parse_error, Ethernet padding, and five-tuple extraction from whole frames.
#include "sim/wire/wire.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace iovsim::wire {
namespace {

const mac_addr mac_a{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
const mac_addr mac_b{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
const ipv4_addr ip_a = ipv4_addr::from_octets(10, 0, 0, 1);
const ipv4_addr ip_b = ipv4_addr::from_octets(10, 0, 0, 2);

// ---- addresses --------------------------------------------------------------------------------

TEST(wire_mac, parse_and_format)
{
    const auto mac = mac_addr::parse("02:00:00:00:00:01");
    ASSERT_TRUE(mac);
    EXPECT_EQ(*mac, mac_a);
    EXPECT_EQ(mac->to_string(), "02:00:00:00:00:01");
    const auto upper = mac_addr::parse("AA:bb:Cc:0F:f0:99");
    ASSERT_TRUE(upper);
    EXPECT_EQ(upper->bytes, (std::array<uint8_t, 6>{0xAA, 0xBB, 0xCC, 0x0F, 0xF0, 0x99}));
    EXPECT_EQ(upper->to_string(), "aa:bb:cc:0f:f0:99");
}

TEST(wire_mac, parse_rejects_malformed_text)
{
    for (const char* bad : {"", "02:00:00:00:00", "02:00:00:00:00:01:", "02-00-00-00-00-01",
                            "02:00:00:00:00:0g", "2:00:00:00:00:001", "02:00:00:00:00:01 ",
                            " 02:00:00:00:00:01", "0200.0000.0001", "02:00:00:00:00::1"}) {
        EXPECT_FALSE(mac_addr::parse(bad)) << '"' << bad << '"';
    }
}

TEST(wire_mac, broadcast_multicast_and_order)
{
    EXPECT_TRUE(mac_addr::broadcast().is_broadcast());
    EXPECT_TRUE(mac_addr::broadcast().is_multicast());
    EXPECT_FALSE(mac_a.is_broadcast());
    EXPECT_FALSE(mac_a.is_multicast()); // 0x02: locally administered unicast
    const auto mcast = *mac_addr::parse("01:00:5e:00:00:fb");
    EXPECT_TRUE(mcast.is_multicast());
    EXPECT_FALSE(mcast.is_broadcast());
    EXPECT_TRUE(mac_addr{}.is_zero());
    EXPECT_FALSE(mac_a.is_zero());
    EXPECT_TRUE(mac_a < mac_b);
    EXPECT_FALSE(mac_b < mac_a);
    EXPECT_FALSE(mac_a < mac_a);
    EXPECT_NE(mac_a, mac_b);
    // Ordered by first octet first.
    EXPECT_TRUE(*mac_addr::parse("01:ff:ff:ff:ff:ff") < *mac_addr::parse("02:00:00:00:00:00"));
}

TEST(wire_mac, hash_distinguishes_addresses)
{
    std::unordered_set<mac_addr> set{mac_a, mac_b, mac_a};
    EXPECT_EQ(set.size(), 2u);
    EXPECT_EQ(std::hash<mac_addr>{}(mac_a), std::hash<mac_addr>{}(*mac_addr::parse("02:00:00:00:00:01")));
}

TEST(wire_ipv4_addr, parse_and_format)
{
    const auto a = ipv4_addr::parse("10.0.0.1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->value, 0x0A000001u);
    EXPECT_EQ(*a, ip_a);
    EXPECT_EQ(a->to_string(), "10.0.0.1");
    EXPECT_EQ(ipv4_addr::parse("255.255.255.255")->value, 0xFFFFFFFFu);
    EXPECT_TRUE(ipv4_addr::parse("255.255.255.255")->is_broadcast());
    EXPECT_EQ(ipv4_addr::parse("0.0.0.0")->value, 0u);
    EXPECT_EQ(ipv4_addr::parse("192.168.100.254")->to_string(), "192.168.100.254");
    EXPECT_TRUE(ipv4_addr::parse("224.0.0.251")->is_multicast());
    EXPECT_FALSE(ip_a.is_multicast());
}

TEST(wire_ipv4_addr, parse_rejects_malformed_text)
{
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "01.2.3.4", "1..2.3",
                            "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "1234.1.1.1", "1.2.3.", ".1.2.3",
                            "1.2.3.-4", "1.2.3.4/24"}) {
        EXPECT_FALSE(ipv4_addr::parse(bad)) << '"' << bad << '"';
    }
}

TEST(wire_ipv4_addr, order_equality_hash)
{
    EXPECT_TRUE(ip_a < ip_b);
    EXPECT_FALSE(ip_b < ip_a);
    EXPECT_EQ(ip_a, ipv4_addr{0x0A000001});
    EXPECT_NE(ip_a, ip_b);
    // Host order: 9.255.255.255 sorts before 10.0.0.0.
    EXPECT_TRUE(*ipv4_addr::parse("9.255.255.255") < *ipv4_addr::parse("10.0.0.0"));
    std::unordered_set<ipv4_addr> set{ip_a, ip_b, ip_a};
    EXPECT_EQ(set.size(), 2u);
}

// ---- parse_error ------------------------------------------------------------------------------

TEST(wire_parse_error, every_value_has_a_distinct_name)
{
    std::set<std::string> names;
    for (size_t i = 0; i < parse_error_count; ++i) {
        const std::string name = to_string(static_cast<parse_error>(i));
        EXPECT_NE(name, "unknown");
        names.insert(name);
    }
    EXPECT_EQ(names.size(), parse_error_count);
    EXPECT_STREQ(to_string(parse_error::bad_udp_checksum), "bad_udp_checksum");
    EXPECT_STREQ(to_string(parse_error::fragment), "fragment");
    EXPECT_STREQ(to_string(static_cast<parse_error>(200)), "unknown");
}

TEST(wire_parse_error, failed_result_is_empty)
{
    const uint8_t buf[4] = {};
    const auto r = parse_eth(buf, sizeof buf);
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(static_cast<bool>(r));
    EXPECT_EQ(r.error(), parse_error::truncated);
    EXPECT_EQ(r.payload_offset(), 0u);
    EXPECT_EQ(r.payload_length(), 0u);
    EXPECT_FALSE(r.header().has_vlan);
}

// ---- Ethernet ---------------------------------------------------------------------------------

TEST(wire_eth, untagged_round_trip_and_bytes)
{
    eth_header h;
    h.dst = mac_b;
    h.src = mac_a;
    h.ethertype = eth_type::arp;
    uint8_t buf[64] = {};
    ASSERT_EQ(build_eth(buf, sizeof buf, h), eth_header_len);
    const uint8_t expect[] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06};
    EXPECT_EQ(std::vector<uint8_t>(buf, buf + 14), std::vector<uint8_t>(expect, expect + 14));

    const auto r = parse_eth(buf, 60);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r.header().dst, mac_b);
    EXPECT_EQ(r.header().src, mac_a);
    EXPECT_EQ(r.header().ethertype, eth_type::arp);
    EXPECT_FALSE(r.header().has_vlan);
    EXPECT_EQ(r.payload_offset(), 14u);
    EXPECT_EQ(r.payload_length(), 46u);
}

TEST(wire_eth, vlan_tag_round_trip)
{
    eth_header h;
    h.dst = mac_addr::broadcast();
    h.src = mac_a;
    h.ethertype = eth_type::ipv4;
    h.has_vlan = true;
    h.vlan_tci = static_cast<uint16_t>((5 << 13) | (1 << 12) | 100); // PCP 5, DEI, VID 100
    uint8_t buf[18] = {};
    ASSERT_EQ(build_eth(buf, sizeof buf, h), 18u);
    EXPECT_EQ(buf[12], 0x81);
    EXPECT_EQ(buf[13], 0x00);
    EXPECT_EQ(buf[14], 0xB0);
    EXPECT_EQ(buf[15], 0x64);
    EXPECT_EQ(buf[16], 0x08);
    EXPECT_EQ(buf[17], 0x00);

    const auto r = parse_eth(buf, sizeof buf);
    ASSERT_TRUE(r) << r.error();
    EXPECT_TRUE(r.header().has_vlan);
    EXPECT_EQ(r.header().vlan_id(), 100);
    EXPECT_EQ(r.header().vlan_pcp(), 5);
    EXPECT_EQ(r.header().ethertype, eth_type::ipv4);
    EXPECT_EQ(r.header().length(), 18u);
    EXPECT_EQ(r.payload_offset(), 18u);
    EXPECT_EQ(r.payload_length(), 0u);
}

TEST(wire_eth, errors)
{
    uint8_t buf[32] = {};
    mac_a.store(buf);
    mac_b.store(buf + 6);
    EXPECT_EQ(parse_eth(buf, 13).error(), parse_error::truncated);
    EXPECT_EQ(parse_eth(nullptr, 0).error(), parse_error::truncated);

    // An 802.3 length field (1500) is not an Ethernet II type.
    store_be16(buf + 12, 1500);
    EXPECT_EQ(parse_eth(buf, sizeof buf).error(), parse_error::bad_ethertype);
    store_be16(buf + 12, eth_type::min_value);
    EXPECT_TRUE(parse_eth(buf, sizeof buf).ok());

    // A tag cut short.
    store_be16(buf + 12, eth_type::vlan);
    store_be16(buf + 16, eth_type::ipv4);
    EXPECT_EQ(parse_eth(buf, 17).error(), parse_error::truncated);
    EXPECT_TRUE(parse_eth(buf, 18).ok());
    // A second tag (QinQ with 0x8100 inside) is not recognised.
    store_be16(buf + 16, eth_type::vlan);
    EXPECT_EQ(parse_eth(buf, sizeof buf).error(), parse_error::bad_ethertype);
    // A length field behind a tag.
    store_be16(buf + 16, 46);
    EXPECT_EQ(parse_eth(buf, sizeof buf).error(), parse_error::bad_ethertype);
}

TEST(wire_eth, build_refuses_small_buffer)
{
    eth_header h;
    uint8_t buf[18] = {};
    EXPECT_EQ(build_eth(buf, 13, h), 0u);
    h.has_vlan = true;
    EXPECT_EQ(build_eth(buf, 17, h), 0u);
    EXPECT_EQ(build_eth(buf, 18, h), 18u);
}

TEST(wire_eth, pad_frame)
{
    std::vector<uint8_t> frame(64, 0xEE);
    EXPECT_EQ(pad_frame(frame.data(), 42, frame.size()), eth_min_frame_len);
    for (size_t i = 42; i < 60; ++i) {
        EXPECT_EQ(frame[i], 0) << i;
    }
    EXPECT_EQ(frame[41], 0xEE);
    EXPECT_EQ(frame[60], 0xEE); // nothing written past the minimum

    std::vector<uint8_t> full(60, 0xEE);
    EXPECT_EQ(pad_frame(full.data(), 60, 60), 60u);
    EXPECT_EQ(full[59], 0xEE);
    EXPECT_EQ(pad_frame(full.data(), 1514, 1514), 1514u);
    // Short, and no room for the padding.
    std::vector<uint8_t> small(59, 0xEE);
    EXPECT_EQ(pad_frame(small.data(), 14, small.size()), 0u);
    EXPECT_EQ(small[14], 0xEE);
    std::vector<uint8_t> empty(60, 0xEE);
    EXPECT_EQ(pad_frame(empty.data(), 0, 60), 60u);
    EXPECT_EQ(empty[0], 0);
}

// ---- ARP --------------------------------------------------------------------------------------

TEST(wire_arp, round_trip_and_bytes)
{
    arp_packet p;
    p.op = arp_op::reply;
    p.sender_mac = mac_a;
    p.sender_ip = ip_a;
    p.target_mac = mac_b;
    p.target_ip = ip_b;
    uint8_t buf[46] = {}; // an Ethernet payload, padded
    ASSERT_EQ(build_arp(buf, sizeof buf, p), arp_len);
    const uint8_t head[] = {0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02};
    EXPECT_EQ(std::vector<uint8_t>(buf, buf + 8), std::vector<uint8_t>(head, head + 8));
    EXPECT_EQ(buf[14], 10);
    EXPECT_EQ(buf[17], 1);
    EXPECT_EQ(buf[27], 2);

    const auto r = parse_arp(buf, sizeof buf);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r.header().op, arp_op::reply);
    EXPECT_EQ(r.header().sender_mac, mac_a);
    EXPECT_EQ(r.header().sender_ip, ip_a);
    EXPECT_EQ(r.header().target_mac, mac_b);
    EXPECT_EQ(r.header().target_ip, ip_b);
    EXPECT_EQ(r.payload_offset(), 28u);
    EXPECT_EQ(r.payload_length(), 18u);

    p.op = arp_op::request;
    p.target_mac = mac_addr{};
    ASSERT_EQ(build_arp(buf, sizeof buf, p), arp_len);
    const auto q = parse_arp(buf, arp_len);
    ASSERT_TRUE(q);
    EXPECT_EQ(q.header().op, arp_op::request);
    EXPECT_TRUE(q.header().target_mac.is_zero());
}

TEST(wire_arp, errors)
{
    arp_packet p;
    uint8_t good[arp_len] = {};
    ASSERT_EQ(build_arp(good, sizeof good, p), arp_len);
    EXPECT_EQ(build_arp(good, arp_len - 1, p), 0u);
    EXPECT_EQ(parse_arp(good, arp_len - 1).error(), parse_error::truncated);

    struct mutation {
        size_t at;
        uint8_t value;
    };
    // htype 6 (IEEE 802), ptype IPv6's high byte, hlen 8, plen 16, opcode 3 (RARP) and 0.
    for (const mutation m : {mutation{1, 6}, mutation{2, 0x86}, mutation{4, 8}, mutation{5, 16},
                             mutation{7, 3}, mutation{7, 0}}) {
        uint8_t buf[arp_len];
        std::copy(good, good + arp_len, buf);
        buf[m.at] = m.value;
        EXPECT_EQ(parse_arp(buf, sizeof buf).error(), parse_error::bad_arp) << "byte " << m.at;
    }
}

// ---- IPv4 -------------------------------------------------------------------------------------

ipv4_header sample_ipv4(uint16_t payload_len)
{
    ipv4_header h;
    h.tos = 0xB8; // EF
    h.total_length = static_cast<uint16_t>(ipv4_min_header_len + payload_len);
    h.id = 0x1234;
    h.dont_fragment = true;
    h.ttl = 17;
    h.protocol = ip_proto::udp;
    h.src = ip_a;
    h.dst = ip_b;
    return h;
}

TEST(wire_ipv4, build_matches_hand_computed_header)
{
    ipv4_header h;
    h.total_length = 0x73;
    h.dont_fragment = true;
    h.ttl = 64;
    h.protocol = ip_proto::udp;
    h.src = *ipv4_addr::parse("192.168.0.1");
    h.dst = *ipv4_addr::parse("192.168.0.199");
    uint8_t buf[20];
    ASSERT_EQ(build_ipv4(buf, sizeof buf, h), 20u);
    const uint8_t expect[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                              0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    EXPECT_EQ(std::vector<uint8_t>(buf, buf + 20), std::vector<uint8_t>(expect, expect + 20));
}

TEST(wire_ipv4, round_trip_and_padding_trimmed)
{
    std::vector<uint8_t> buf(46, 0xAA); // 26-byte packet in a padded Ethernet payload
    const ipv4_header h = sample_ipv4(6);
    ASSERT_EQ(build_ipv4(buf.data(), buf.size(), h), 20u);
    const auto r = parse_ipv4(buf.data(), buf.size());
    ASSERT_TRUE(r) << r.error();
    const ipv4_header& p = r.header();
    EXPECT_EQ(p.tos, 0xB8);
    EXPECT_EQ(p.total_length, 26);
    EXPECT_EQ(p.id, 0x1234);
    EXPECT_TRUE(p.dont_fragment);
    EXPECT_FALSE(p.more_fragments);
    EXPECT_EQ(p.fragment_offset, 0);
    EXPECT_EQ(p.ttl, 17);
    EXPECT_EQ(p.protocol, ip_proto::udp);
    EXPECT_EQ(p.checksum, load_be16(buf.data() + 10));
    EXPECT_EQ(p.src, ip_a);
    EXPECT_EQ(p.dst, ip_b);
    EXPECT_EQ(p.options_length, 0);
    EXPECT_EQ(r.payload_offset(), 20u);
    EXPECT_EQ(r.payload_length(), 6u); // not the 26 bytes of padding-filled buffer
}

TEST(wire_ipv4, options_round_trip)
{
    ipv4_header h = sample_ipv4(0);
    // Router Alert (RFC 2113), then NOP, NOP, NOP, EOL.
    h.options_length = 8;
    const uint8_t opts[] = {0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00};
    std::copy(opts, opts + 8, h.options.begin());
    h.total_length = static_cast<uint16_t>(h.header_length() + 4);
    uint8_t buf[32] = {};
    ASSERT_EQ(build_ipv4(buf, sizeof buf, h), 28u);
    EXPECT_EQ(buf[0], 0x47); // IHL 7
    const auto r = parse_ipv4(buf, sizeof buf);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r.header().options_length, 8);
    EXPECT_EQ(r.header().header_length(), 28u);
    EXPECT_TRUE(std::equal(opts, opts + 8, r.header().options.begin()));
    EXPECT_EQ(r.payload_offset(), 28u);
    EXPECT_EQ(r.payload_length(), 4u);

    // The largest header, IHL 15.
    h.options_length = 40;
    h.total_length = 60;
    uint8_t big[60];
    ASSERT_EQ(build_ipv4(big, sizeof big, h), 60u);
    const auto b = parse_ipv4(big, sizeof big);
    ASSERT_TRUE(b) << b.error();
    EXPECT_EQ(b.payload_length(), 0u);
}

TEST(wire_ipv4, build_refuses_invalid_headers)
{
    uint8_t buf[64];
    ipv4_header h = sample_ipv4(0);
    EXPECT_EQ(build_ipv4(buf, 19, h), 0u);
    h.options_length = 3;
    h.total_length = 40;
    EXPECT_EQ(build_ipv4(buf, sizeof buf, h), 0u);
    h.options_length = 44;
    EXPECT_EQ(build_ipv4(buf, sizeof buf, h), 0u);
    h.options_length = 4;
    h.total_length = 23; // below its own header
    EXPECT_EQ(build_ipv4(buf, sizeof buf, h), 0u);
    h = sample_ipv4(0);
    h.fragment_offset = 0x2000;
    EXPECT_EQ(build_ipv4(buf, sizeof buf, h), 0u);
}

TEST(wire_ipv4, errors)
{
    uint8_t good[40] = {};
    ASSERT_EQ(build_ipv4(good, sizeof good, sample_ipv4(20)), 20u);
    auto with = [&](size_t at, uint8_t value) {
        std::vector<uint8_t> b(good, good + sizeof good);
        b[at] = value;
        return b;
    };
    EXPECT_EQ(parse_ipv4(good, 19).error(), parse_error::truncated);

    auto v6 = with(0, 0x65);
    EXPECT_EQ(parse_ipv4(v6.data(), v6.size()).error(), parse_error::bad_version);
    auto ihl4 = with(0, 0x44);
    EXPECT_EQ(parse_ipv4(ihl4.data(), ihl4.size()).error(), parse_error::bad_ihl);
    auto ihl15 = with(0, 0x4F); // 60-byte header in a 40-byte buffer
    EXPECT_EQ(parse_ipv4(ihl15.data(), ihl15.size()).error(), parse_error::truncated);

    // Total length beyond the buffer, and below the header.
    EXPECT_EQ(parse_ipv4(good, 39).error(), parse_error::bad_total_length);
    auto short_total = with(3, 19);
    EXPECT_EQ(parse_ipv4(short_total.data(), short_total.size(), false).error(),
              parse_error::bad_total_length);

    auto corrupt = with(8, 18); // TTL changed behind the checksum's back
    EXPECT_EQ(parse_ipv4(corrupt.data(), corrupt.size()).error(), parse_error::bad_ip_checksum);
    EXPECT_TRUE(parse_ipv4(corrupt.data(), corrupt.size(), false).ok());
}

TEST(wire_ipv4, fragments_are_refused)
{
    uint8_t buf[40];
    ipv4_header h = sample_ipv4(20);
    h.dont_fragment = false;
    h.more_fragments = true;
    ASSERT_EQ(build_ipv4(buf, sizeof buf, h), 20u);
    EXPECT_EQ(parse_ipv4(buf, sizeof buf).error(), parse_error::fragment);
    h.more_fragments = false;
    h.fragment_offset = 185; // the last fragment
    ASSERT_EQ(build_ipv4(buf, sizeof buf, h), 20u);
    EXPECT_EQ(buf[6], 0x00);
    EXPECT_EQ(buf[7], 185);
    EXPECT_EQ(parse_ipv4(buf, sizeof buf).error(), parse_error::fragment);
}

// ---- UDP --------------------------------------------------------------------------------------

TEST(wire_udp, round_trip_with_checksum)
{
    std::vector<uint8_t> seg(8 + 11);
    const std::string text = "hello, wire";
    std::copy(text.begin(), text.end(), seg.begin() + 8);
    udp_header h;
    h.sport = 40000;
    h.dport = 7;
    ASSERT_EQ(build_udp(seg.data(), seg.size(), h, text.size(), ip_a, ip_b), 8u);
    EXPECT_EQ(load_be16(seg.data() + 4), 19);
    EXPECT_NE(load_be16(seg.data() + 6), 0);
    // The checksum covers the pseudo-header: recompute it independently.
    partial sum;
    const uint8_t pseudo[] = {10, 0, 0, 1, 10, 0, 0, 2, 0, 17, 0, 19};
    sum.add(pseudo, sizeof pseudo).add(seg.data(), seg.size());
    EXPECT_EQ(sum.fold(), 0xFFFF);

    const auto r = parse_udp(seg.data(), seg.size(), ip_a, ip_b);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r.header().sport, 40000);
    EXPECT_EQ(r.header().dport, 7);
    EXPECT_EQ(r.header().length, 19);
    EXPECT_EQ(r.payload_offset(), 8u);
    EXPECT_EQ(r.payload_length(), 11u);
    // The pseudo-header sum is symmetric in src and dst, but another host's address fails.
    EXPECT_TRUE(parse_udp(seg.data(), seg.size(), ip_b, ip_a).ok());
    EXPECT_EQ(parse_udp(seg.data(), seg.size(), ip_a, ipv4_addr::from_octets(10, 0, 0, 3)).error(),
              parse_error::bad_udp_checksum);
}

TEST(wire_udp, zero_checksum_means_none)
{
    std::vector<uint8_t> seg(8 + 4, 0x5A);
    ASSERT_EQ(build_udp(seg.data(), seg.size(), udp_header{1, 2, 0, 0}, 4, ip_a, ip_b, false), 8u);
    EXPECT_EQ(load_be16(seg.data() + 6), 0);
    seg[10] ^= 0xFF; // corruption cannot be detected without a checksum
    EXPECT_TRUE(parse_udp(seg.data(), seg.size(), ip_a, ip_b).ok());
}

TEST(wire_udp, computed_zero_is_sent_as_all_ones)
{
    std::vector<uint8_t> seg(8 + 2, 0);
    const udp_header h{1234, 5678, 0, 0};
    ASSERT_EQ(build_udp(seg.data(), seg.size(), h, 2, ip_a, ip_b), 8u);
    // With the payload word equal to that checksum, the sum becomes 0xFFFF and the checksum 0.
    const uint16_t c = load_be16(seg.data() + 6);
    store_be16(seg.data() + 8, c);
    ASSERT_EQ(build_udp(seg.data(), seg.size(), h, 2, ip_a, ip_b), 8u);
    EXPECT_EQ(load_be16(seg.data() + 6), 0xFFFF);
    EXPECT_TRUE(parse_udp(seg.data(), seg.size(), ip_a, ip_b).ok());
}

TEST(wire_udp, length_shorter_than_ip_payload_is_trimmed)
{
    std::vector<uint8_t> seg(8 + 3 + 5, 0x11);
    ASSERT_EQ(build_udp(seg.data(), seg.size(), udp_header{1, 2, 0, 0}, 3, ip_a, ip_b), 8u);
    const auto r = parse_udp(seg.data(), seg.size(), ip_a, ip_b);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r.payload_length(), 3u);
}

TEST(wire_udp, errors)
{
    std::vector<uint8_t> seg(8 + 10, 0x33);
    ASSERT_EQ(build_udp(seg.data(), seg.size(), udp_header{9, 9, 0, 0}, 10, ip_a, ip_b), 8u);
    EXPECT_EQ(parse_udp(seg.data(), 7, ip_a, ip_b).error(), parse_error::truncated);
    // Length beyond the IP payload, and below the header.
    EXPECT_EQ(parse_udp(seg.data(), 17, ip_a, ip_b).error(), parse_error::bad_udp_length);
    auto bad = seg;
    store_be16(bad.data() + 4, 7);
    EXPECT_EQ(parse_udp(bad.data(), bad.size(), ip_a, ip_b, false).error(), parse_error::bad_udp_length);
    bad = seg;
    bad[12] ^= 0x01;
    EXPECT_EQ(parse_udp(bad.data(), bad.size(), ip_a, ip_b).error(), parse_error::bad_udp_checksum);
    EXPECT_TRUE(parse_udp(bad.data(), bad.size(), ip_a, ip_b, false).ok());
}

TEST(wire_udp, build_refuses_oversize_and_small_buffer)
{
    std::vector<uint8_t> seg(8 + 4);
    EXPECT_EQ(build_udp(seg.data(), seg.size(), udp_header{}, 5, ip_a, ip_b), 0u);
    std::vector<uint8_t> big(0x10000);
    EXPECT_EQ(build_udp(big.data(), big.size(), udp_header{}, 0xFFFF - 7, ip_a, ip_b), 0u);
    EXPECT_EQ(build_udp(big.data(), big.size(), udp_header{}, 0xFFFF - 8, ip_a, ip_b), 8u);
    EXPECT_EQ(load_be16(big.data() + 4), 0xFFFF);
    EXPECT_TRUE(parse_udp(big.data(), 0xFFFF, ip_a, ip_b).ok());
}

// ---- TCP --------------------------------------------------------------------------------------

TEST(wire_tcp, round_trip_with_options)
{
    tcp_header h;
    h.sport = 80;
    h.dport = 51000;
    h.seq = 0xDEADBEEF;
    h.ack = 0x01020304;
    h.flags = tcp_flag::syn | tcp_flag::ack;
    h.window = 65535;
    h.urgent_ptr = 0;
    h.options_length = 4;
    const uint8_t mss[] = {0x02, 0x04, 0x05, 0xB4}; // MSS 1460
    std::copy(mss, mss + 4, h.options.begin());
    std::vector<uint8_t> seg(24 + 5, 0x77);
    ASSERT_EQ(build_tcp(seg.data(), seg.size(), h, 5, ip_a, ip_b), 24u);
    EXPECT_EQ(seg[12], 0x60); // data offset 6
    EXPECT_EQ(seg[13], 0x12);

    const auto r = parse_tcp(seg.data(), seg.size(), ip_a, ip_b);
    ASSERT_TRUE(r) << r.error();
    const tcp_header& p = r.header();
    EXPECT_EQ(p.sport, 80);
    EXPECT_EQ(p.dport, 51000);
    EXPECT_EQ(p.seq, 0xDEADBEEFu);
    EXPECT_EQ(p.ack, 0x01020304u);
    EXPECT_EQ(p.flags, tcp_flag::syn | tcp_flag::ack);
    EXPECT_EQ(p.window, 65535);
    EXPECT_EQ(p.options_length, 4);
    EXPECT_TRUE(std::equal(mss, mss + 4, p.options.begin()));
    EXPECT_EQ(p.checksum, load_be16(seg.data() + 16));
    EXPECT_EQ(r.payload_offset(), 24u);
    EXPECT_EQ(r.payload_length(), 5u);
}

TEST(wire_tcp, errors)
{
    std::vector<uint8_t> seg(40, 0);
    tcp_header h;
    h.flags = tcp_flag::rst;
    ASSERT_EQ(build_tcp(seg.data(), seg.size(), h, 20, ip_a, ip_b), 20u);
    EXPECT_EQ(parse_tcp(seg.data(), 19, ip_a, ip_b).error(), parse_error::truncated);

    auto bad = seg;
    bad[12] = 0x40; // data offset 4
    EXPECT_EQ(parse_tcp(bad.data(), bad.size(), ip_a, ip_b, false).error(), parse_error::bad_tcp_offset);
    bad[12] = 0x00;
    EXPECT_EQ(parse_tcp(bad.data(), bad.size(), ip_a, ip_b, false).error(), parse_error::bad_tcp_offset);
    bad[12] = 0xF0; // 60-byte header in a 40-byte segment
    EXPECT_EQ(parse_tcp(bad.data(), bad.size(), ip_a, ip_b, false).error(), parse_error::truncated);

    bad = seg;
    bad[39] ^= 0x80;
    EXPECT_EQ(parse_tcp(bad.data(), bad.size(), ip_a, ip_b).error(), parse_error::bad_tcp_checksum);
    EXPECT_TRUE(parse_tcp(bad.data(), bad.size(), ip_a, ip_b, false).ok());
    // TCP has no "no checksum": a zero field is checked like any other.
    bad = seg;
    store_be16(bad.data() + 16, 0);
    EXPECT_EQ(parse_tcp(bad.data(), bad.size(), ip_a, ip_b).error(), parse_error::bad_tcp_checksum);
}

TEST(wire_tcp, build_refuses_invalid_headers)
{
    std::vector<uint8_t> seg(80);
    tcp_header h;
    h.options_length = 2;
    EXPECT_EQ(build_tcp(seg.data(), seg.size(), h, 0, ip_a, ip_b), 0u);
    h.options_length = 44;
    EXPECT_EQ(build_tcp(seg.data(), seg.size(), h, 0, ip_a, ip_b), 0u);
    h.options_length = 40;
    EXPECT_EQ(build_tcp(seg.data(), 59, h, 0, ip_a, ip_b), 0u);
    EXPECT_EQ(build_tcp(seg.data(), 60, h, 0, ip_a, ip_b), 60u);
    EXPECT_EQ(seg[12], 0xF0);
    EXPECT_EQ(build_tcp(seg.data(), 60, h, 1, ip_a, ip_b), 0u);
}

// ---- ICMP echo --------------------------------------------------------------------------------

TEST(wire_icmp, echo_round_trip)
{
    std::vector<uint8_t> msg(8 + 56, 0x42);
    icmp_echo_header h;
    h.id = 0xBEEF;
    h.seq = 3;
    ASSERT_EQ(build_icmp_echo(msg.data(), msg.size(), h, 56), 8u);
    EXPECT_EQ(msg[0], 8);
    EXPECT_EQ(msg[1], 0);
    EXPECT_EQ(ones_complement_sum(msg.data(), msg.size()), 0xFFFF);
    const auto r = parse_icmp_echo(msg.data(), msg.size());
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r.header().type, icmp_type::echo_request);
    EXPECT_EQ(r.header().id, 0xBEEF);
    EXPECT_EQ(r.header().seq, 3);
    EXPECT_EQ(r.payload_offset(), 8u);
    EXPECT_EQ(r.payload_length(), 56u);

    // An odd-length reply.
    std::vector<uint8_t> reply(8 + 3, 0x99);
    h.type = icmp_type::echo_reply;
    ASSERT_EQ(build_icmp_echo(reply.data(), reply.size(), h, 3), 8u);
    const auto q = parse_icmp_echo(reply.data(), reply.size());
    ASSERT_TRUE(q) << q.error();
    EXPECT_EQ(q.header().type, icmp_type::echo_reply);
    EXPECT_EQ(q.payload_length(), 3u);
}

TEST(wire_icmp, errors)
{
    std::vector<uint8_t> msg(8 + 4, 0);
    ASSERT_EQ(build_icmp_echo(msg.data(), msg.size(), icmp_echo_header{}, 4), 8u);
    EXPECT_EQ(build_icmp_echo(msg.data(), msg.size(), icmp_echo_header{}, 5), 0u);
    EXPECT_EQ(parse_icmp_echo(msg.data(), 7).error(), parse_error::truncated);
    auto bad = msg;
    bad[11] = 1;
    EXPECT_EQ(parse_icmp_echo(bad.data(), bad.size()).error(), parse_error::bad_icmp_checksum);
    // Destination unreachable with a correct checksum is not an echo.
    bad = msg;
    bad[0] = 3;
    store_be16(bad.data() + 2, 0);
    store_be16(bad.data() + 2, internet_checksum(bad.data(), bad.size()));
    EXPECT_EQ(parse_icmp_echo(bad.data(), bad.size()).error(), parse_error::bad_icmp_type);
}

// ---- whole frames and five-tuples -------------------------------------------------------------

// Ethernet (optionally tagged) + IPv4 + UDP with a payload, padded to the minimum frame.
std::vector<uint8_t> udp_frame(size_t payload_len, bool vlan)
{
    std::vector<uint8_t> f(18 + 20 + 8 + payload_len + 60, 0);
    eth_header eth;
    eth.dst = mac_b;
    eth.src = mac_a;
    eth.has_vlan = vlan;
    eth.vlan_tci = 42;
    const size_t l2 = build_eth(f.data(), f.size(), eth);
    uint8_t* ip = f.data() + l2;
    uint8_t* udp = ip + 20;
    for (size_t i = 0; i < payload_len; ++i) {
        udp[8 + i] = static_cast<uint8_t>(i);
    }
    build_udp(udp, f.size() - l2 - 20, udp_header{5000, 53, 0, 0}, payload_len, ip_a, ip_b);
    build_ipv4(ip, f.size() - l2, sample_ipv4(static_cast<uint16_t>(8 + payload_len)));
    const size_t len = pad_frame(f.data(), l2 + 20 + 8 + payload_len, f.size());
    f.resize(len);
    return f;
}

TEST(wire_frame, layered_parse_of_a_padded_frame)
{
    const auto f = udp_frame(1, false); // 43 bytes, padded to 60
    ASSERT_EQ(f.size(), 60u);
    const auto eth = parse_eth(f.data(), f.size());
    ASSERT_TRUE(eth);
    ASSERT_EQ(eth.header().ethertype, eth_type::ipv4);
    const auto ip = parse_ipv4(f.data() + eth.payload_offset(), eth.payload_length());
    ASSERT_TRUE(ip) << ip.error();
    EXPECT_EQ(ip.payload_length(), 9u);
    const auto udp = parse_udp(f.data() + eth.payload_offset() + ip.payload_offset(), ip.payload_length(),
                               ip.header().src, ip.header().dst);
    ASSERT_TRUE(udp) << udp.error();
    EXPECT_EQ(udp.payload_length(), 1u);
}

TEST(wire_frame, five_tuple_from_udp_tagged_and_untagged)
{
    for (const bool vlan : {false, true}) {
        const auto f = udp_frame(100, vlan);
        five_tuple t;
        ASSERT_TRUE(extract_five_tuple(f.data(), f.size(), t)) << "vlan " << vlan;
        EXPECT_EQ(t.src, ip_a);
        EXPECT_EQ(t.dst, ip_b);
        EXPECT_EQ(t.sport, 5000);
        EXPECT_EQ(t.dport, 53);
        EXPECT_EQ(t.proto, ip_proto::udp);
    }
}

TEST(wire_frame, five_tuple_from_tcp_and_icmp)
{
    std::vector<uint8_t> f(14 + 20 + 20, 0);
    eth_header eth;
    build_eth(f.data(), f.size(), eth);
    tcp_header th;
    th.sport = 1111;
    th.dport = 2222;
    build_tcp(f.data() + 34, 20, th, 0, ip_a, ip_b);
    ipv4_header ih = sample_ipv4(20);
    ih.protocol = ip_proto::tcp;
    build_ipv4(f.data() + 14, 40, ih);
    five_tuple t;
    ASSERT_TRUE(extract_five_tuple(f.data(), f.size(), t));
    EXPECT_EQ(t, (five_tuple{ip_a, ip_b, 1111, 2222, ip_proto::tcp}));
    // A TCP header cut short cannot give ports.
    ih.total_length = 30;
    build_ipv4(f.data() + 14, 40, ih);
    EXPECT_FALSE(extract_five_tuple(f.data(), f.size(), t));

    ih.protocol = ip_proto::icmp;
    ih.total_length = 28;
    build_ipv4(f.data() + 14, 40, ih);
    ASSERT_TRUE(extract_five_tuple(f.data(), f.size(), t));
    EXPECT_EQ(t, (five_tuple{ip_a, ip_b, 0, 0, ip_proto::icmp}));
}

TEST(wire_frame, five_tuple_refuses_non_ip_fragments_and_bad_headers)
{
    five_tuple t{ip_a, ip_a, 1, 1, 1};
    const five_tuple before = t;
    // ARP.
    std::vector<uint8_t> arp(60, 0);
    eth_header eth;
    eth.ethertype = eth_type::arp;
    build_eth(arp.data(), arp.size(), eth);
    build_arp(arp.data() + 14, 46, arp_packet{});
    EXPECT_FALSE(extract_five_tuple(arp.data(), arp.size(), t));
    // A fragment: the ports may not be there.
    auto frag = udp_frame(20, false);
    ipv4_header ih = sample_ipv4(28);
    ih.more_fragments = true;
    build_ipv4(frag.data() + 14, 20, ih);
    EXPECT_FALSE(extract_five_tuple(frag.data(), frag.size(), t));
    // Bad version; truncated frames.
    auto v6 = udp_frame(20, false);
    v6[14] = 0x65;
    EXPECT_FALSE(extract_five_tuple(v6.data(), v6.size(), t));
    const auto ok = udp_frame(20, false);
    EXPECT_FALSE(extract_five_tuple(ok.data(), 14 + 20 + 7, t));
    EXPECT_FALSE(extract_five_tuple(ok.data(), 10, t));
    EXPECT_EQ(t, before); // untouched on failure
}

TEST(wire_frame, every_prefix_parses_or_fails_cleanly)
{
    // Each prefix sits in a buffer of exactly its length, so a sanitizer build catches any read
    // past the end; without one, the results must still be consistent.
    const auto f = udp_frame(30, true);
    for (size_t n = 0; n <= f.size(); ++n) {
        const std::vector<uint8_t> p(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
        five_tuple t;
        const bool got = extract_five_tuple(p.data(), n, t);
        EXPECT_EQ(got, n >= 18 + 20 + 8 + 30) << n;
        const auto eth = parse_eth(p.data(), n);
        if (!eth) {
            EXPECT_EQ(eth.error(), parse_error::truncated);
            continue;
        }
        const auto ip = parse_ipv4(p.data() + eth.payload_offset(), eth.payload_length());
        if (!ip) {
            EXPECT_TRUE(ip.error() == parse_error::truncated || ip.error() == parse_error::bad_total_length)
                << n << ' ' << ip.error();
            continue;
        }
        const uint8_t* l4 = p.data() + eth.payload_offset() + ip.payload_offset();
        EXPECT_TRUE(parse_udp(l4, ip.payload_length(), ip_a, ip_b).ok()) << n;
        EXPECT_LE(eth.payload_offset() + ip.payload_offset() + ip.payload_length(), n);
    }
}

TEST(wire_five_tuple, equality_hash_reverse)
{
    const five_tuple a{ip_a, ip_b, 1000, 80, ip_proto::tcp};
    EXPECT_EQ(a.reversed(), (five_tuple{ip_b, ip_a, 80, 1000, ip_proto::tcp}));
    EXPECT_EQ(a.reversed().reversed(), a);
    EXPECT_NE(a, a.reversed());
    five_tuple b = a;
    b.proto = ip_proto::udp;
    EXPECT_NE(a, b);
    b = a;
    b.sport = 1001;
    EXPECT_NE(a, b);

    std::unordered_map<five_tuple, int> flows;
    flows[a] = 1;
    flows[a.reversed()] = 2;
    flows[five_tuple{ip_a, ip_b, 1000, 80, ip_proto::tcp}] = 3;
    EXPECT_EQ(flows.size(), 2u);
    EXPECT_EQ(flows.at(a), 3);
    EXPECT_EQ(std::hash<five_tuple>{}(a), std::hash<five_tuple>{}(five_tuple{ip_a, ip_b, 1000, 80, 6}));

    // Many flows differing in one port spread over distinct hashes.
    std::unordered_set<size_t> hashes;
    for (uint16_t port = 0; port < 1000; ++port) {
        hashes.insert(std::hash<five_tuple>{}(five_tuple{ip_a, ip_b, port, 80, ip_proto::udp}));
    }
    EXPECT_EQ(hashes.size(), 1000u);
}

} // namespace
} // namespace iovsim::wire
