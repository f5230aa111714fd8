#include "models/nic/rx_classifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace {

using namespace iovsim::nic;

constexpr mac_address bcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr mac_address vf_mac(std::uint8_t n) { return {0x02, 0x00, 0x00, 0x00, 0x00, n}; }
constexpr mac_address peer{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};

constexpr std::uint32_t ip(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
{
    return (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d;
}

void put16(std::vector<std::uint8_t>& f, std::size_t off, std::uint16_t v)
{
    f[off] = static_cast<std::uint8_t>(v >> 8);
    f[off + 1] = static_cast<std::uint8_t>(v);
}

void put32(std::vector<std::uint8_t>& f, std::size_t off, std::uint32_t v)
{
    put16(f, off, static_cast<std::uint16_t>(v >> 16));
    put16(f, off + 2, static_cast<std::uint16_t>(v));
}

// Builds Ethernet [+ 802.1Q] + IPv4 + an L4 header and payload, byte by byte.
struct frame_spec {
    mac_address dst = vf_mac(1);
    mac_address src = peer;
    bool vlan = false;
    std::uint16_t vlan_tci = 0;
    std::uint16_t ethertype = 0x0800;
    std::uint8_t ihl = 5;
    std::uint8_t proto = 17;
    std::uint32_t src_ip = ip(10, 0, 0, 2);
    std::uint32_t dst_ip = ip(10, 0, 0, 1);
    std::uint16_t frag = 0;  // flags + offset word
    std::uint16_t sport = 1234;
    std::uint16_t dport = 7;
    std::size_t l4_len = 8;    // bytes after the IP header
    std::size_t pad = 0;       // Ethernet padding after the IP packet
    std::uint8_t tcp_doff = 5;
};

std::vector<std::uint8_t> build(const frame_spec& s)
{
    const std::size_t l2 = s.vlan ? 18 : 14;
    const std::size_t ip_hdr = std::size_t{s.ihl} * 4;
    std::vector<std::uint8_t> f(l2 + std::max<std::size_t>(ip_hdr, 20) + s.l4_len + s.pad, 0);
    for (std::size_t i = 0; i < 6; ++i) {
        f[i] = s.dst[i];
        f[6 + i] = s.src[i];
    }
    if (s.vlan) {
        put16(f, 12, 0x8100);
        put16(f, 14, s.vlan_tci);
        put16(f, 16, s.ethertype);
    } else {
        put16(f, 12, s.ethertype);
    }
    f[l2] = static_cast<std::uint8_t>(0x40 | s.ihl);
    put16(f, l2 + 2, static_cast<std::uint16_t>(std::max<std::size_t>(ip_hdr, 20) + s.l4_len));
    put16(f, l2 + 6, s.frag);
    f[l2 + 8] = 64;
    f[l2 + 9] = s.proto;
    put32(f, l2 + 12, s.src_ip);
    put32(f, l2 + 16, s.dst_ip);
    const std::size_t l4 = l2 + std::max<std::size_t>(ip_hdr, 20);
    if (s.l4_len >= 4) {
        put16(f, l4, s.sport);
        put16(f, l4 + 2, s.dport);
    }
    if (s.proto == 6 && s.l4_len > 12) {
        f[l4 + 12] = static_cast<std::uint8_t>(s.tcp_doff << 4);
    }
    return f;
}

frame_fields parse(const std::vector<std::uint8_t>& f) { return parse_frame(f.data(), f.size()); }

// ---- parser ------------------------------------------------------------------------------------

TEST(nic_parse_frame, udp_over_ipv4)
{
    frame_spec s;
    s.pad = 10;  // trailing Ethernet padding is not part of the packet
    const auto ff = parse(build(s));
    EXPECT_FALSE(ff.malformed);
    EXPECT_EQ(ff.dst, vf_mac(1));
    EXPECT_EQ(ff.src, peer);
    EXPECT_FALSE(ff.vlan);
    EXPECT_EQ(ff.ethertype, 0x0800);
    EXPECT_TRUE(ff.ipv4);
    EXPECT_TRUE(ff.l4);
    EXPECT_FALSE(ff.fragment);
    EXPECT_EQ(ff.proto, 17);
    EXPECT_EQ(ff.src_ip, ip(10, 0, 0, 2));
    EXPECT_EQ(ff.dst_ip, ip(10, 0, 0, 1));
    EXPECT_EQ(ff.sport, 1234);
    EXPECT_EQ(ff.dport, 7);
}

TEST(nic_parse_frame, tcp_needs_its_whole_header)
{
    frame_spec s;
    s.proto = 6;
    s.l4_len = 20;
    auto ff = parse(build(s));
    EXPECT_TRUE(ff.l4);
    EXPECT_EQ(ff.dport, 7);

    s.l4_len = 19;  // short of the minimal TCP header
    ff = parse(build(s));
    EXPECT_TRUE(ff.ipv4);
    EXPECT_FALSE(ff.l4);
    EXPECT_FALSE(ff.malformed);

    s.l4_len = 20;
    s.tcp_doff = 8;  // options announced beyond the packet
    ff = parse(build(s));
    EXPECT_FALSE(ff.l4);

    s.tcp_doff = 4;  // data offset below the minimum
    ff = parse(build(s));
    EXPECT_FALSE(ff.l4);
}

TEST(nic_parse_frame, ip_options_move_the_l4_header)
{
    frame_spec s;
    s.ihl = 7;
    const auto f = build(s);
    const auto ff = parse(f);
    EXPECT_TRUE(ff.l4);
    EXPECT_EQ(ff.sport, 1234);
    EXPECT_EQ(ff.dport, 7);
}

TEST(nic_parse_frame, runt_is_malformed)
{
    const auto f = build(frame_spec{});
    for (std::size_t len = 0; len < 14; ++len) {
        EXPECT_TRUE(parse_frame(f.data(), len).malformed) << len;
    }
    EXPECT_TRUE(parse_frame(nullptr, 0).malformed);
    EXPECT_TRUE(parse_frame(nullptr, 64).malformed);
}

TEST(nic_parse_frame, non_ip_frame_is_fine)
{
    frame_spec s;
    s.ethertype = 0x0806;  // ARP
    const auto f = build(s);
    const auto ff = parse_frame(f.data(), 14);  // bare header is enough
    EXPECT_FALSE(ff.malformed);
    EXPECT_FALSE(ff.ipv4);
    EXPECT_EQ(ff.ethertype, 0x0806);
}

TEST(nic_parse_frame, vlan_tag)
{
    frame_spec s;
    s.vlan = true;
    s.vlan_tci = (5 << 13) | 0x123;  // PCP 5, VID 0x123
    const auto f = build(s);
    const auto ff = parse(f);
    EXPECT_TRUE(ff.vlan);
    EXPECT_EQ(ff.vlan_id, 0x123);
    EXPECT_EQ(ff.ethertype, 0x0800);
    EXPECT_TRUE(ff.l4);
    EXPECT_EQ(ff.dport, 7);

    // tag cut short
    EXPECT_TRUE(parse_frame(f.data(), 16).malformed);
    EXPECT_TRUE(parse_frame(f.data(), 17).malformed);
    EXPECT_TRUE(parse_frame(f.data(), 18 + 19).malformed);  // IPv4 header one byte short
    EXPECT_FALSE(parse_frame(f.data(), f.size()).malformed);

    s.ethertype = 0x0806;  // a tagged non-IP frame needs nothing past the tag
    const auto arp = build(s);
    const auto tagged = parse_frame(arp.data(), 18);
    EXPECT_FALSE(tagged.malformed);
    EXPECT_TRUE(tagged.vlan);
    EXPECT_EQ(tagged.ethertype, 0x0806);
}

TEST(nic_parse_frame, truncated_ip_header)
{
    const auto f = build(frame_spec{});
    for (std::size_t len = 15; len < 14 + 20; ++len) {
        const auto ff = parse_frame(f.data(), len);
        EXPECT_TRUE(ff.malformed) << len;
        EXPECT_FALSE(ff.ipv4);
        EXPECT_EQ(ff.dst, vf_mac(1));  // the L2 part is still reported
    }
    // total length says more than the frame carries
    EXPECT_TRUE(parse_frame(f.data(), f.size() - 1).malformed);
    EXPECT_FALSE(parse_frame(f.data(), f.size()).malformed);
}

TEST(nic_parse_frame, bad_ihl_version_and_total_length)
{
    frame_spec s;
    s.ihl = 4;
    EXPECT_TRUE(parse(build(s)).malformed);
    s.ihl = 0;
    EXPECT_TRUE(parse(build(s)).malformed);

    auto f = build(frame_spec{});
    f[14] = 0x65;  // version 6 under ethertype 0x0800
    EXPECT_TRUE(parse(f).malformed);

    f = build(frame_spec{});
    put16(f, 14 + 2, 19);  // total length shorter than the header
    EXPECT_TRUE(parse(f).malformed);

    s.ihl = 15;  // 60-byte header announced, frame too short for it
    s.l4_len = 0;
    f = build(s);
    EXPECT_TRUE(parse_frame(f.data(), 14 + 40).malformed);
}

TEST(nic_parse_frame, fragments_carry_no_ports)
{
    frame_spec s;
    s.frag = 0x2000;  // MF, offset 0: the first fragment
    auto ff = parse(build(s));
    EXPECT_TRUE(ff.ipv4);
    EXPECT_TRUE(ff.fragment);
    EXPECT_FALSE(ff.l4);
    EXPECT_FALSE(ff.malformed);
    EXPECT_EQ(ff.src_ip, ip(10, 0, 0, 2));

    s.frag = 0x0010;  // last fragment, offset 16 * 8
    ff = parse(build(s));
    EXPECT_TRUE(ff.fragment);
    EXPECT_FALSE(ff.l4);

    s.frag = 0x4000;  // DF only: not a fragment
    ff = parse(build(s));
    EXPECT_FALSE(ff.fragment);
    EXPECT_TRUE(ff.l4);
}

TEST(nic_parse_frame, udp_header_cut_by_total_length)
{
    frame_spec s;
    s.l4_len = 7;
    s.pad = 20;  // bytes are present, but beyond the IP packet
    const auto ff = parse(build(s));
    EXPECT_TRUE(ff.ipv4);
    EXPECT_FALSE(ff.l4);
    EXPECT_FALSE(ff.malformed);
}

TEST(nic_parse_frame, sctp_ports)
{
    frame_spec s;
    s.proto = 132;
    s.l4_len = 12;
    auto ff = parse(build(s));
    EXPECT_TRUE(ff.l4);
    EXPECT_EQ(ff.sport, 1234);
    s.l4_len = 11;
    EXPECT_FALSE(parse(build(s)).l4);
    s.proto = 1;  // ICMP: no ports
    s.l4_len = 8;
    EXPECT_FALSE(parse(build(s)).l4);
}

// ---- receive address table ---------------------------------------------------------------------

TEST(nic_l2_pool_table, lookup_several_macs)
{
    l2_pool_table t;
    EXPECT_EQ(t.capacity(), 128u);
    EXPECT_EQ(t.used(), 0u);
    t.set_entry(0, vf_mac(0), 1ull << 0);
    t.set_entry(5, vf_mac(5), 1ull << 5);
    t.set_entry(127, vf_mac(63), (1ull << 63) | (1ull << 1));
    EXPECT_EQ(t.used(), 3u);
    EXPECT_EQ(t.lookup(vf_mac(0)), 1ull);
    EXPECT_EQ(t.lookup(vf_mac(5)), 1ull << 5);
    EXPECT_EQ(t.lookup(vf_mac(63)), (1ull << 63) | (1ull << 1));
    EXPECT_EQ(t.lookup(vf_mac(9)), 0u);
    EXPECT_EQ(t.lookup(bcast), 0u);

    t.set_entry(5, vf_mac(6), 1ull << 6);  // overwrite keeps the count
    EXPECT_EQ(t.used(), 3u);
    EXPECT_EQ(t.lookup(vf_mac(5)), 0u);
    t.set_pools(5, 1ull << 7);
    EXPECT_EQ(t.lookup(vf_mac(6)), 1ull << 7);

    t.clear_entry(0);
    t.clear_entry(0);  // clearing twice is harmless
    EXPECT_EQ(t.used(), 2u);
    EXPECT_EQ(t.lookup(vf_mac(0)), 0u);
    EXPECT_FALSE(t.at(0).valid);
    EXPECT_EQ(t.at(0).mac, vf_mac(0));  // registers keep their value when AV clears
    t.set_pools(0, 1ull << 8);           // MPSAR of an invalid entry never routes
    EXPECT_EQ(t.lookup(vf_mac(0)), 0u);
}

TEST(nic_l2_pool_table, lowest_index_wins_on_duplicates)
{
    l2_pool_table t;
    t.set_entry(9, vf_mac(1), 1ull << 9);
    t.set_entry(3, vf_mac(1), 1ull << 3);
    EXPECT_EQ(t.lookup(vf_mac(1)), 1ull << 3);
}

TEST(nic_l2_pool_table, bounds_and_exhaustion)
{
    l2_pool_table t(4);
    EXPECT_THROW(t.set_entry(4, vf_mac(1), 1), std::invalid_argument);
    EXPECT_THROW(t.clear_entry(4), std::invalid_argument);
    EXPECT_THROW(t.set_pools(100, 1), std::invalid_argument);
    EXPECT_THROW(t.at(4), std::invalid_argument);
    for (std::uint8_t i = 0; i < 4; ++i) {
        EXPECT_EQ(t.add(vf_mac(i), 1ull << i), std::optional<std::size_t>(i));
    }
    EXPECT_EQ(t.add(vf_mac(9), 1), std::nullopt);
    EXPECT_EQ(t.used(), 4u);
    t.clear_entry(2);
    EXPECT_EQ(t.add(vf_mac(9), 1), std::optional<std::size_t>(2));
}

TEST(nic_l2_pool_table, broadcast_flags)
{
    l2_pool_table t;
    t.set_accept_broadcast(3, true);
    t.set_accept_broadcast(63, true);
    t.set_accept_broadcast(4, false);
    EXPECT_EQ(t.broadcast_pools(), (1ull << 3) | (1ull << 63));
    EXPECT_TRUE(t.accept_broadcast(63));
    t.set_accept_broadcast(3, false);
    EXPECT_FALSE(t.accept_broadcast(3));
    EXPECT_THROW(t.set_accept_broadcast(64, true), std::invalid_argument);
}

// ---- 5-tuple filters ---------------------------------------------------------------------------

five_tuple_filter udp_to_port(std::uint16_t dport, std::uint8_t prio, std::uint16_t queue)
{
    five_tuple_filter f;
    f.enabled = true;
    f.proto = ftqf_protocol::udp;
    f.dport = dport;
    f.mask_src_ip = f.mask_dst_ip = f.mask_sport = true;
    f.priority = prio;
    f.rx_queue = queue;
    return f;
}

TEST(nic_five_tuple, exact_match_of_all_fields)
{
    five_tuple_table t;
    five_tuple_filter f;
    f.enabled = true;
    f.src_ip = ip(10, 0, 0, 2);
    f.dst_ip = ip(10, 0, 0, 1);
    f.sport = 1234;
    f.dport = 7;
    f.proto = ftqf_protocol::udp;
    f.priority = 3;
    f.rx_queue = 11;
    t.set(0, f);
    const auto ff = parse(build(frame_spec{}));
    EXPECT_EQ(t.match(ff, 0), std::optional<std::uint16_t>(11));

    frame_spec other;
    other.sport = 1235;
    EXPECT_EQ(t.match(parse(build(other)), 0), std::nullopt);
    other = frame_spec{};
    other.src_ip = ip(10, 0, 0, 3);
    EXPECT_EQ(t.match(parse(build(other)), 0), std::nullopt);
    other = frame_spec{};
    other.dst_ip = ip(10, 0, 0, 9);
    EXPECT_EQ(t.match(parse(build(other)), 0), std::nullopt);
    other = frame_spec{};
    other.proto = 6;
    other.l4_len = 20;
    EXPECT_EQ(t.match(parse(build(other)), 0), std::nullopt);
}

TEST(nic_five_tuple, higher_priority_wins_and_ties_go_to_lowest_index)
{
    five_tuple_table t;
    t.set(10, udp_to_port(7, 2, 100));
    t.set(20, udp_to_port(7, 5, 101));
    t.set(30, udp_to_port(7, 5, 102));
    t.set(40, udp_to_port(7, 4, 103));
    const auto ff = parse(build(frame_spec{}));
    EXPECT_EQ(t.match(ff, 0), std::optional<std::uint16_t>(101));

    t.set(5, udp_to_port(7, 5, 104));  // same priority, lower index
    EXPECT_EQ(t.match(ff, 0), std::optional<std::uint16_t>(104));
    t.set(127, udp_to_port(7, 7, 105));  // highest priority at the last index
    EXPECT_EQ(t.match(ff, 0), std::optional<std::uint16_t>(105));
    t.clear(127);
    t.clear(5);
    t.clear(20);
    EXPECT_EQ(t.match(ff, 0), std::optional<std::uint16_t>(102));
    EXPECT_EQ(t.used(), 3u);
}

TEST(nic_five_tuple, masks_and_protocols)
{
    five_tuple_table t;
    five_tuple_filter any;  // every field masked: matches any IPv4 frame
    any.enabled = true;
    any.mask_src_ip = any.mask_dst_ip = any.mask_sport = any.mask_dport = any.mask_proto = true;
    any.rx_queue = 1;
    t.set(0, any);

    frame_spec icmp;
    icmp.proto = 1;
    EXPECT_EQ(t.match(parse(build(icmp)), 0), std::optional<std::uint16_t>(1));

    frame_spec arp;
    arp.ethertype = 0x0806;
    EXPECT_EQ(t.match(parse(build(arp)), 0), std::nullopt);  // IPv4 only

    // "other" is every protocol but TCP, UDP and SCTP; ports unmasked never match it.
    five_tuple_filter other = any;
    other.mask_proto = false;
    other.proto = ftqf_protocol::other;
    other.priority = 2;
    other.rx_queue = 2;
    t.set(1, other);
    EXPECT_EQ(t.match(parse(build(icmp)), 0), std::optional<std::uint16_t>(2));
    EXPECT_EQ(t.match(parse(build(frame_spec{})), 0), std::optional<std::uint16_t>(1));

    five_tuple_filter other_port = other;
    other_port.mask_dport = false;
    other_port.dport = 7;
    other_port.priority = 7;
    other_port.rx_queue = 3;
    t.set(2, other_port);
    EXPECT_EQ(t.match(parse(build(icmp)), 0), std::optional<std::uint16_t>(2));

    five_tuple_filter sctp = udp_to_port(7, 6, 4);
    sctp.proto = ftqf_protocol::sctp;
    t.set(3, sctp);
    frame_spec s;
    s.proto = 132;
    s.l4_len = 12;
    EXPECT_EQ(t.match(parse(build(s)), 0), std::optional<std::uint16_t>(4));
}

TEST(nic_five_tuple, fragments_match_only_with_ports_masked)
{
    five_tuple_table t;
    t.set(0, udp_to_port(7, 6, 20));
    five_tuple_filter by_ip;
    by_ip.enabled = true;
    by_ip.src_ip = ip(10, 0, 0, 2);
    by_ip.mask_dst_ip = by_ip.mask_sport = by_ip.mask_dport = by_ip.mask_proto = true;
    by_ip.priority = 1;
    by_ip.rx_queue = 21;
    t.set(1, by_ip);
    frame_spec s;
    s.frag = 0x2000;
    EXPECT_EQ(t.match(parse(build(s)), 0), std::optional<std::uint16_t>(21));
    EXPECT_EQ(t.match(parse(build(frame_spec{})), 0), std::optional<std::uint16_t>(20));
}

TEST(nic_five_tuple, pool_binding)
{
    five_tuple_table t;
    auto f = udp_to_port(7, 3, 10);
    f.pool_valid = true;
    f.pool = 5;
    t.set(0, f);
    const auto ff = parse(build(frame_spec{}));
    EXPECT_EQ(t.match(ff, 5), std::optional<std::uint16_t>(10));
    EXPECT_EQ(t.match(ff, 4), std::nullopt);
    t.set(1, udp_to_port(7, 1, 99));  // unbound, lower priority: the fallback for other pools
    EXPECT_EQ(t.match(ff, 4), std::optional<std::uint16_t>(99));
    EXPECT_EQ(t.match(ff, 5), std::optional<std::uint16_t>(10));
}

TEST(nic_five_tuple, capacity_exhaustion_and_validation)
{
    five_tuple_table t;
    EXPECT_EQ(t.capacity(), 128u);
    for (std::size_t i = 0; i < 128; ++i) {
        EXPECT_EQ(t.add(udp_to_port(static_cast<std::uint16_t>(i), 1, 0)),
                  std::optional<std::size_t>(i));
    }
    EXPECT_EQ(t.used(), 128u);
    EXPECT_EQ(t.add(udp_to_port(999, 1, 0)), std::nullopt);  // the 129th is refused
    EXPECT_THROW(t.set(128, udp_to_port(999, 1, 0)), std::invalid_argument);
    EXPECT_THROW(t.clear(128), std::invalid_argument);
    EXPECT_EQ(t.used(), 128u);

    EXPECT_THROW(t.set(0, udp_to_port(7, 0, 0)), std::invalid_argument);
    EXPECT_THROW(t.set(0, udp_to_port(7, 8, 0)), std::invalid_argument);
    auto bad_pool = udp_to_port(7, 1, 0);
    bad_pool.pool_valid = true;
    bad_pool.pool = 64;
    EXPECT_THROW(t.set(0, bad_pool), std::invalid_argument);
    auto bad_proto = udp_to_port(7, 1, 0);
    bad_proto.proto = static_cast<ftqf_protocol>(4);
    EXPECT_THROW(t.set(0, bad_proto), std::invalid_argument);
    EXPECT_EQ(t.at(0).dport, 0);  // a refused set leaves the slot alone

    // FTQF's reset value (disabled, priority 0) is storable.
    five_tuple_filter reset;
    reset.priority = 0;
    EXPECT_NO_THROW(t.set(0, reset));
    EXPECT_EQ(t.used(), 127u);
    EXPECT_EQ(t.add(udp_to_port(999, 1, 0)), std::optional<std::size_t>(0));

    five_tuple_table small(2);
    EXPECT_TRUE(small.add(udp_to_port(1, 1, 0)));
    EXPECT_TRUE(small.add(udp_to_port(2, 1, 0)));
    EXPECT_FALSE(small.add(udp_to_port(3, 1, 0)));
}

TEST(nic_five_tuple, disabled_filter_never_matches)
{
    five_tuple_table t;
    auto f = udp_to_port(7, 7, 3);
    f.enabled = false;
    t.set(0, f);
    EXPECT_EQ(t.used(), 0u);
    EXPECT_EQ(t.match(parse(build(frame_spec{})), 0), std::nullopt);
}

// ---- classifier --------------------------------------------------------------------------------

// 64 pools x 2 queues; pool p owns vf_mac(p) and is enabled.
rx_classifier make_classifier(unsigned pools = 64, unsigned qpp = 2)
{
    rx_classifier c(pools, qpp);
    for (unsigned p = 0; p < pools; ++p) {
        c.addresses().set_entry(p, vf_mac(static_cast<std::uint8_t>(p)), 1ull << p);
        c.set_pool_enabled(p, true);
    }
    return c;
}

TEST(nic_rx_classifier, unicast_to_its_pool_default_queue)
{
    auto c = make_classifier();
    frame_spec s;
    s.dst = vf_mac(7);
    const auto f = build(s);
    const auto d = c.classify(f.data(), f.size());
    ASSERT_TRUE(d.delivered());
    EXPECT_EQ(d.reason, drop_reason::none);
    EXPECT_EQ(d.pools, 1ull << 7);
    EXPECT_EQ(d.copies(), 1u);
    EXPECT_EQ(d.first_pool(), std::optional<unsigned>(7));
    EXPECT_EQ(d.queue_for(7), std::optional<std::uint16_t>(14));
    EXPECT_EQ(d.queue_for(6), std::nullopt);
    EXPECT_EQ(d.queue_for(200), std::nullopt);
    EXPECT_TRUE(d.fields.l4);

    c.set_default_queue(7, 1);
    EXPECT_EQ(c.classify(parse(build(s))).queue_for(7), std::optional<std::uint16_t>(15));
    EXPECT_THROW(c.set_default_queue(7, 2), std::invalid_argument);
    EXPECT_EQ(c.stats().delivered, 2u);
}

TEST(nic_rx_classifier, five_tuple_steers_within_the_pool)
{
    auto c = make_classifier();
    frame_spec s;
    s.dst = vf_mac(3);
    c.filters().set(0, udp_to_port(7, 2, 7));  // queue 7 = pool 3, second queue
    auto d = c.classify(parse(build(s)));
    EXPECT_EQ(d.queue_for(3), std::optional<std::uint16_t>(7));
    EXPECT_EQ(c.stats().filter_hits, 1u);

    // The same filter cannot pull pool 4's traffic into pool 3's ring.
    s.dst = vf_mac(4);
    d = c.classify(parse(build(s)));
    EXPECT_EQ(d.queue_for(4), std::optional<std::uint16_t>(8));
    EXPECT_EQ(c.stats().filter_foreign_queue, 1u);

    // A filter bound to pool 4 and steering to its second queue.
    auto bound = udp_to_port(7, 3, 9);
    bound.pool_valid = true;
    bound.pool = 4;
    c.filters().set(1, bound);
    EXPECT_EQ(c.classify(parse(build(s))).queue_for(4), std::optional<std::uint16_t>(9));
}

TEST(nic_rx_classifier, broadcast_replicated_to_enabled_accepting_pools)
{
    auto c = make_classifier();
    for (unsigned p : {0u, 2u, 9u, 63u}) {
        c.set_accept_broadcast(p, true);
    }
    c.set_default_queue(9, 1);
    c.set_pool_enabled(2, false);
    frame_spec s;
    s.dst = bcast;
    s.ethertype = 0x0806;
    const auto d = c.classify(parse(build(s)));
    ASSERT_TRUE(d.delivered());
    EXPECT_EQ(d.pools, (1ull << 0) | (1ull << 9) | (1ull << 63));
    EXPECT_EQ(d.copies(), 3u);
    EXPECT_EQ(d.queue_for(0), std::optional<std::uint16_t>(0));
    EXPECT_EQ(d.queue_for(9), std::optional<std::uint16_t>(19));
    EXPECT_EQ(d.queue_for(63), std::optional<std::uint16_t>(126));
    EXPECT_EQ(d.queue_for(2), std::nullopt);
    EXPECT_EQ(c.stats().copies, 3u);
    EXPECT_EQ(c.stats().disabled_copies, 1u);

    // No pool accepts broadcast any more.
    for (unsigned p : {0u, 2u, 9u, 63u}) {
        c.set_accept_broadcast(p, false);
    }
    const auto dropped = c.classify(parse(build(s)));
    EXPECT_FALSE(dropped.delivered());
    EXPECT_EQ(dropped.reason, drop_reason::no_pool);
    EXPECT_EQ(dropped.pools, 0u);
}

TEST(nic_rx_classifier, shared_address_reaches_several_pools)
{
    auto c = make_classifier();
    c.addresses().set_entry(100, peer, (1ull << 1) | (1ull << 2));
    c.set_default_queue(2, 1);
    frame_spec s;
    s.dst = peer;
    const auto d = c.classify(parse(build(s)));
    EXPECT_EQ(d.copies(), 2u);
    EXPECT_EQ(d.queue_for(1), std::optional<std::uint16_t>(2));
    EXPECT_EQ(d.queue_for(2), std::optional<std::uint16_t>(5));
}

TEST(nic_rx_classifier, disabled_pools_drop)
{
    auto c = make_classifier();
    c.set_pool_enabled(5, false);
    EXPECT_FALSE(c.pool_enabled(5));
    frame_spec s;
    s.dst = vf_mac(5);
    const auto d = c.classify(parse(build(s)));
    EXPECT_EQ(d.act, rx_decision::action::drop);
    EXPECT_EQ(d.reason, drop_reason::pool_disabled);
    EXPECT_EQ(d.first_pool(), std::nullopt);
    EXPECT_EQ(c.stats().dropped(drop_reason::pool_disabled), 1u);

    // A fresh classifier: everything disabled, as PFVFRE after reset.
    rx_classifier fresh;
    fresh.addresses().set_entry(0, vf_mac(0), 1);
    s.dst = vf_mac(0);
    EXPECT_EQ(fresh.classify(parse(build(s))).reason, drop_reason::pool_disabled);
}

TEST(nic_rx_classifier, unmatched_unicast_default_pool_or_drop)
{
    auto c = make_classifier();
    frame_spec s;
    s.dst = peer;  // no entry
    EXPECT_EQ(c.default_pool(), std::optional<unsigned>(0));  // reset value of PFVTCTL.DEF_PL
    auto d = c.classify(parse(build(s)));
    EXPECT_EQ(d.pools, 1ull);

    c.set_default_pool(40);
    c.set_default_queue(40, 1);
    d = c.classify(parse(build(s)));
    EXPECT_EQ(d.queue_for(40), std::optional<std::uint16_t>(81));

    c.set_default_pool(std::nullopt);
    d = c.classify(parse(build(s)));
    EXPECT_EQ(d.reason, drop_reason::no_pool);

    // Unmatched multicast never goes to the default pool.
    c.set_default_pool(0);
    s.dst = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    EXPECT_EQ(c.classify(parse(build(s))).reason, drop_reason::no_pool);
    EXPECT_EQ(c.stats().dropped(drop_reason::no_pool), 2u);
    EXPECT_THROW(c.set_default_pool(64), std::invalid_argument);
}

TEST(nic_rx_classifier, malformed_frames_are_counted_drops)
{
    auto c = make_classifier();
    const auto f = build(frame_spec{});
    EXPECT_EQ(c.classify(f.data(), 10).reason, drop_reason::malformed);
    EXPECT_EQ(c.classify(f.data(), 20).reason, drop_reason::malformed);
    EXPECT_EQ(c.classify(nullptr, 0).reason, drop_reason::malformed);
    EXPECT_EQ(c.stats().dropped(drop_reason::malformed), 3u);
    EXPECT_EQ(c.stats().frames, 3u);
    EXPECT_EQ(c.stats().delivered, 0u);
    c.reset_stats();
    EXPECT_EQ(c.stats().frames, 0u);
}

TEST(nic_rx_classifier, fewer_pools_more_queues)
{
    auto c = make_classifier(16, 8);  // the 82599's 16-pool mode
    EXPECT_EQ(c.first_queue(15), 120);
    c.addresses().set_entry(20, peer, ~0ull);  // bits of absent pools are ignored
    c.set_default_pool(std::nullopt);
    frame_spec s;
    s.dst = peer;
    const auto d = c.classify(parse(build(s)));
    EXPECT_EQ(d.copies(), 16u);
    EXPECT_EQ(d.queue_for(15), std::optional<std::uint16_t>(120));
    EXPECT_EQ(d.queue_for(16), std::nullopt);
    EXPECT_THROW(c.set_pool_enabled(16, true), std::invalid_argument);
    EXPECT_THROW(c.pool_enabled(16), std::invalid_argument);
    EXPECT_THROW(c.set_accept_broadcast(16, true), std::invalid_argument);
}

TEST(nic_rx_classifier, constructor_rejects_bad_geometry)
{
    EXPECT_THROW(rx_classifier(0, 2), std::invalid_argument);
    EXPECT_THROW(rx_classifier(65, 2), std::invalid_argument);
    EXPECT_THROW(rx_classifier(64, 0), std::invalid_argument);
    EXPECT_THROW(rx_classifier(64, 2000), std::invalid_argument);
    EXPECT_NO_THROW(rx_classifier(1, 1));
}

} // namespace
