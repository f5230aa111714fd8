#include "sim/wire/wire.h"

#include <cstring>
#include <ostream>

namespace iovsim::wire {

namespace {

int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// Sum of the L4 segment and its pseudo-header; 0xFFFF when the checksum field in it is right.
uint16_t l4_sum(const uint8_t* segment, size_t len, ipv4_addr src, ipv4_addr dst, uint8_t protocol)
{
    partial sum = pseudo_header_sum(src, dst, protocol, static_cast<uint16_t>(len));
    sum.add(segment, len);
    return sum.fold();
}

// The 64-bit finaliser of SplitMix64: cheap, deterministic, and spreads every input bit.
uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

} // namespace

// ---- addresses --------------------------------------------------------------------------------

std::optional<mac_addr> mac_addr::parse(std::string_view text)
{
    if (text.size() != 17) {
        return std::nullopt;
    }
    mac_addr mac;
    for (size_t i = 0; i < 6; ++i) {
        const size_t at = i * 3;
        if (i > 0 && text[at - 1] != ':') {
            return std::nullopt;
        }
        const int hi = hex_value(text[at]);
        const int lo = hex_value(text[at + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        mac.bytes[i] = static_cast<uint8_t>((hi << 4) | lo);
    }
    return mac;
}

mac_addr mac_addr::load(const uint8_t* p)
{
    mac_addr mac;
    std::memcpy(mac.bytes.data(), p, mac.bytes.size());
    return mac;
}

void mac_addr::store(uint8_t* p) const
{
    std::memcpy(p, bytes.data(), bytes.size());
}

std::string mac_addr::to_string() const
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    text.reserve(17);
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (i > 0) {
            text += ':';
        }
        text += digits[bytes[i] >> 4];
        text += digits[bytes[i] & 0xF];
    }
    return text;
}

bool mac_addr::is_broadcast() const
{
    return *this == broadcast();
}

bool mac_addr::is_zero() const
{
    return *this == mac_addr{};
}

std::optional<ipv4_addr> ipv4_addr::parse(std::string_view text)
{
    uint32_t value = 0;
    size_t pos = 0;
    for (int octet = 0; octet < 4; ++octet) {
        if (octet > 0) {
            if (pos >= text.size() || text[pos] != '.') {
                return std::nullopt;
            }
            ++pos;
        }
        const size_t start = pos;
        uint32_t part = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - start < 3) {
            part = part * 10 + static_cast<uint32_t>(text[pos] - '0');
            ++pos;
        }
        const size_t digits = pos - start;
        if (digits == 0 || part > 255 || (digits > 1 && text[start] == '0')) {
            return std::nullopt;
        }
        value = (value << 8) | part;
    }
    if (pos != text.size()) {
        return std::nullopt;
    }
    return ipv4_addr{value};
}

ipv4_addr ipv4_addr::from_octets(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    return ipv4_addr{(static_cast<uint32_t>(a) << 24) | (static_cast<uint32_t>(b) << 16)
                     | (static_cast<uint32_t>(c) << 8) | d};
}

std::string ipv4_addr::to_string() const
{
    return std::to_string(value >> 24) + '.' + std::to_string((value >> 16) & 0xFF) + '.'
           + std::to_string((value >> 8) & 0xFF) + '.' + std::to_string(value & 0xFF);
}

std::ostream& operator<<(std::ostream& os, const mac_addr& mac)
{
    return os << mac.to_string();
}

std::ostream& operator<<(std::ostream& os, ipv4_addr addr)
{
    return os << addr.to_string();
}

// ---- parse errors -----------------------------------------------------------------------------

const char* to_string(parse_error error)
{
    switch (error) {
    case parse_error::none: return "none";
    case parse_error::truncated: return "truncated";
    case parse_error::bad_ethertype: return "bad_ethertype";
    case parse_error::bad_version: return "bad_version";
    case parse_error::bad_ihl: return "bad_ihl";
    case parse_error::bad_total_length: return "bad_total_length";
    case parse_error::bad_ip_checksum: return "bad_ip_checksum";
    case parse_error::fragment: return "fragment";
    case parse_error::bad_udp_length: return "bad_udp_length";
    case parse_error::bad_udp_checksum: return "bad_udp_checksum";
    case parse_error::bad_tcp_offset: return "bad_tcp_offset";
    case parse_error::bad_tcp_checksum: return "bad_tcp_checksum";
    case parse_error::bad_icmp_type: return "bad_icmp_type";
    case parse_error::bad_icmp_checksum: return "bad_icmp_checksum";
    case parse_error::bad_arp: return "bad_arp";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, parse_error error)
{
    return os << to_string(error);
}

// ---- Ethernet ---------------------------------------------------------------------------------

parse_result<eth_header> parse_eth(const uint8_t* buf, size_t len)
{
    if (len < eth_header_len) {
        return parse_error::truncated;
    }
    eth_header h;
    h.dst = mac_addr::load(buf);
    h.src = mac_addr::load(buf + 6);
    h.ethertype = load_be16(buf + 12);
    size_t offset = eth_header_len;
    if (h.ethertype == eth_type::vlan) {
        if (len < eth_header_len + vlan_tag_len) {
            return parse_error::truncated;
        }
        h.has_vlan = true;
        h.vlan_tci = load_be16(buf + 14);
        h.ethertype = load_be16(buf + 16);
        offset += vlan_tag_len;
        // Only a single tag is recognised; a stacked one would be misread as payload.
        if (h.ethertype == eth_type::vlan) {
            return parse_error::bad_ethertype;
        }
    }
    if (h.ethertype < eth_type::min_value) {
        return parse_error::bad_ethertype;
    }
    return parse_result<eth_header>(h, offset, len - offset);
}

size_t build_eth(uint8_t* buf, size_t cap, const eth_header& header)
{
    const size_t n = header.length();
    if (cap < n) {
        return 0;
    }
    header.dst.store(buf);
    header.src.store(buf + 6);
    size_t at = 12;
    if (header.has_vlan) {
        store_be16(buf + at, eth_type::vlan);
        store_be16(buf + at + 2, header.vlan_tci);
        at += vlan_tag_len;
    }
    store_be16(buf + at, header.ethertype);
    return n;
}

size_t pad_frame(uint8_t* frame, size_t len, size_t cap)
{
    if (len >= eth_min_frame_len) {
        return len;
    }
    if (cap < eth_min_frame_len) {
        return 0;
    }
    std::memset(frame + len, 0, eth_min_frame_len - len);
    return eth_min_frame_len;
}

// ---- ARP --------------------------------------------------------------------------------------

parse_result<arp_packet> parse_arp(const uint8_t* buf, size_t len)
{
    if (len < arp_len) {
        return parse_error::truncated;
    }
    // htype 1 (Ethernet), ptype IPv4, hlen 6, plen 4: the only pairing modelled.
    if (load_be16(buf) != 1 || load_be16(buf + 2) != eth_type::ipv4 || buf[4] != 6 || buf[5] != 4) {
        return parse_error::bad_arp;
    }
    const uint16_t op = load_be16(buf + 6);
    if (op != static_cast<uint16_t>(arp_op::request) && op != static_cast<uint16_t>(arp_op::reply)) {
        return parse_error::bad_arp;
    }
    arp_packet p;
    p.op = static_cast<arp_op>(op);
    p.sender_mac = mac_addr::load(buf + 8);
    p.sender_ip = ipv4_addr::load(buf + 14);
    p.target_mac = mac_addr::load(buf + 18);
    p.target_ip = ipv4_addr::load(buf + 24);
    return parse_result<arp_packet>(p, arp_len, len - arp_len);
}

size_t build_arp(uint8_t* buf, size_t cap, const arp_packet& packet)
{
    if (cap < arp_len) {
        return 0;
    }
    store_be16(buf, 1);
    store_be16(buf + 2, eth_type::ipv4);
    buf[4] = 6;
    buf[5] = 4;
    store_be16(buf + 6, static_cast<uint16_t>(packet.op));
    packet.sender_mac.store(buf + 8);
    packet.sender_ip.store(buf + 14);
    packet.target_mac.store(buf + 18);
    packet.target_ip.store(buf + 24);
    return arp_len;
}

// ---- IPv4 -------------------------------------------------------------------------------------

parse_result<ipv4_header> parse_ipv4(const uint8_t* buf, size_t len, bool verify_checksum)
{
    if (len < ipv4_min_header_len) {
        return parse_error::truncated;
    }
    if ((buf[0] >> 4) != 4) {
        return parse_error::bad_version;
    }
    const size_t header_len = static_cast<size_t>(buf[0] & 0x0F) * 4;
    if (header_len < ipv4_min_header_len) {
        return parse_error::bad_ihl;
    }
    if (len < header_len) {
        return parse_error::truncated;
    }
    ipv4_header h;
    h.total_length = load_be16(buf + 2);
    if (h.total_length < header_len || h.total_length > len) {
        return parse_error::bad_total_length;
    }
    if (verify_checksum && ones_complement_sum(buf, header_len) != 0xFFFF) {
        return parse_error::bad_ip_checksum;
    }
    h.tos = buf[1];
    h.id = load_be16(buf + 4);
    const uint16_t flags_fragment = load_be16(buf + 6);
    h.dont_fragment = (flags_fragment & 0x4000) != 0;
    h.more_fragments = (flags_fragment & 0x2000) != 0;
    h.fragment_offset = flags_fragment & 0x1FFF;
    if (h.more_fragments || h.fragment_offset != 0) {
        return parse_error::fragment;
    }
    h.ttl = buf[8];
    h.protocol = buf[9];
    h.checksum = load_be16(buf + 10);
    h.src = ipv4_addr::load(buf + 12);
    h.dst = ipv4_addr::load(buf + 16);
    h.options_length = static_cast<uint8_t>(header_len - ipv4_min_header_len);
    std::memcpy(h.options.data(), buf + ipv4_min_header_len, h.options_length);
    return parse_result<ipv4_header>(h, header_len, h.total_length - header_len);
}

size_t build_ipv4(uint8_t* buf, size_t cap, const ipv4_header& header)
{
    const size_t n = header.header_length();
    if (header.options_length % 4 != 0 || header.options_length > header.options.size()
        || header.total_length < n || header.fragment_offset > 0x1FFF || cap < n) {
        return 0;
    }
    buf[0] = static_cast<uint8_t>(0x40 | (n / 4));
    buf[1] = header.tos;
    store_be16(buf + 2, header.total_length);
    store_be16(buf + 4, header.id);
    const uint16_t flags_fragment = static_cast<uint16_t>((header.dont_fragment ? 0x4000 : 0)
                                                          | (header.more_fragments ? 0x2000 : 0)
                                                          | header.fragment_offset);
    store_be16(buf + 6, flags_fragment);
    buf[8] = header.ttl;
    buf[9] = header.protocol;
    store_be16(buf + 10, 0);
    header.src.store(buf + 12);
    header.dst.store(buf + 16);
    std::memcpy(buf + ipv4_min_header_len, header.options.data(), header.options_length);
    store_be16(buf + 10, internet_checksum(buf, n));
    return n;
}

partial pseudo_header_sum(ipv4_addr src, ipv4_addr dst, uint8_t protocol, uint16_t l4_length)
{
    partial sum;
    sum.add_be32(src.value).add_be32(dst.value).add_be16(protocol).add_be16(l4_length);
    return sum;
}

// ---- UDP --------------------------------------------------------------------------------------

parse_result<udp_header> parse_udp(const uint8_t* buf, size_t len, ipv4_addr src, ipv4_addr dst,
                                   bool verify_checksum)
{
    if (len < udp_header_len) {
        return parse_error::truncated;
    }
    udp_header h;
    h.sport = load_be16(buf);
    h.dport = load_be16(buf + 2);
    h.length = load_be16(buf + 4);
    h.checksum = load_be16(buf + 6);
    if (h.length < udp_header_len || h.length > len) {
        return parse_error::bad_udp_length;
    }
    if (verify_checksum && h.checksum != 0 && l4_sum(buf, h.length, src, dst, ip_proto::udp) != 0xFFFF) {
        return parse_error::bad_udp_checksum;
    }
    return parse_result<udp_header>(h, udp_header_len, h.length - udp_header_len);
}

size_t build_udp(uint8_t* buf, size_t cap, const udp_header& header, size_t payload_len,
                 ipv4_addr src, ipv4_addr dst, bool compute_checksum)
{
    if (payload_len > 0xFFFF - udp_header_len || cap < udp_header_len + payload_len) {
        return 0;
    }
    const uint16_t length = static_cast<uint16_t>(udp_header_len + payload_len);
    store_be16(buf, header.sport);
    store_be16(buf + 2, header.dport);
    store_be16(buf + 4, length);
    store_be16(buf + 6, 0);
    if (compute_checksum) {
        uint16_t checksum = static_cast<uint16_t>(~l4_sum(buf, length, src, dst, ip_proto::udp));
        // 0 on the wire means "no checksum"; its one's-complement twin 0xFFFF is sent instead.
        if (checksum == 0) {
            checksum = 0xFFFF;
        }
        store_be16(buf + 6, checksum);
    }
    return udp_header_len;
}

// ---- TCP --------------------------------------------------------------------------------------

parse_result<tcp_header> parse_tcp(const uint8_t* buf, size_t len, ipv4_addr src, ipv4_addr dst,
                                   bool verify_checksum)
{
    if (len < tcp_min_header_len) {
        return parse_error::truncated;
    }
    const size_t header_len = static_cast<size_t>(buf[12] >> 4) * 4;
    if (header_len < tcp_min_header_len) {
        return parse_error::bad_tcp_offset;
    }
    if (len < header_len) {
        return parse_error::truncated;
    }
    // The pseudo-header's length field is 16 bits: a longer segment cannot be IPv4's.
    if (len > 0xFFFF) {
        return parse_error::bad_total_length;
    }
    if (verify_checksum && l4_sum(buf, len, src, dst, ip_proto::tcp) != 0xFFFF) {
        return parse_error::bad_tcp_checksum;
    }
    tcp_header h;
    h.sport = load_be16(buf);
    h.dport = load_be16(buf + 2);
    h.seq = load_be32(buf + 4);
    h.ack = load_be32(buf + 8);
    h.flags = buf[13];
    h.window = load_be16(buf + 14);
    h.checksum = load_be16(buf + 16);
    h.urgent_ptr = load_be16(buf + 18);
    h.options_length = static_cast<uint8_t>(header_len - tcp_min_header_len);
    std::memcpy(h.options.data(), buf + tcp_min_header_len, h.options_length);
    return parse_result<tcp_header>(h, header_len, len - header_len);
}

size_t build_tcp(uint8_t* buf, size_t cap, const tcp_header& header, size_t payload_len,
                 ipv4_addr src, ipv4_addr dst, bool compute_checksum)
{
    const size_t n = header.header_length();
    if (header.options_length % 4 != 0 || header.options_length > header.options.size()
        || payload_len > 0xFFFF - n || cap < n + payload_len) {
        return 0;
    }
    store_be16(buf, header.sport);
    store_be16(buf + 2, header.dport);
    store_be32(buf + 4, header.seq);
    store_be32(buf + 8, header.ack);
    buf[12] = static_cast<uint8_t>((n / 4) << 4);
    buf[13] = header.flags;
    store_be16(buf + 14, header.window);
    store_be16(buf + 16, 0);
    store_be16(buf + 18, header.urgent_ptr);
    std::memcpy(buf + tcp_min_header_len, header.options.data(), header.options_length);
    if (compute_checksum) {
        store_be16(buf + 16, static_cast<uint16_t>(~l4_sum(buf, n + payload_len, src, dst, ip_proto::tcp)));
    }
    return n;
}

// ---- ICMP echo --------------------------------------------------------------------------------

parse_result<icmp_echo_header> parse_icmp_echo(const uint8_t* buf, size_t len, bool verify_checksum)
{
    if (len < icmp_echo_header_len) {
        return parse_error::truncated;
    }
    if (verify_checksum && ones_complement_sum(buf, len) != 0xFFFF) {
        return parse_error::bad_icmp_checksum;
    }
    const uint8_t type = buf[0];
    if (type != static_cast<uint8_t>(icmp_type::echo_reply)
        && type != static_cast<uint8_t>(icmp_type::echo_request)) {
        return parse_error::bad_icmp_type;
    }
    icmp_echo_header h;
    h.type = static_cast<icmp_type>(type);
    h.code = buf[1];
    h.checksum = load_be16(buf + 2);
    h.id = load_be16(buf + 4);
    h.seq = load_be16(buf + 6);
    return parse_result<icmp_echo_header>(h, icmp_echo_header_len, len - icmp_echo_header_len);
}

size_t build_icmp_echo(uint8_t* buf, size_t cap, const icmp_echo_header& header, size_t payload_len)
{
    if (payload_len > 0xFFFF - icmp_echo_header_len || cap < icmp_echo_header_len + payload_len) {
        return 0;
    }
    buf[0] = static_cast<uint8_t>(header.type);
    buf[1] = header.code;
    store_be16(buf + 2, 0);
    store_be16(buf + 4, header.id);
    store_be16(buf + 6, header.seq);
    store_be16(buf + 2, internet_checksum(buf, icmp_echo_header_len + payload_len));
    return icmp_echo_header_len;
}

// ---- flow identity ----------------------------------------------------------------------------

bool extract_five_tuple(const uint8_t* frame, size_t len, five_tuple& out)
{
    const auto eth = parse_eth(frame, len);
    if (!eth || eth.header().ethertype != eth_type::ipv4) {
        return false;
    }
    const uint8_t* packet = frame + eth.payload_offset();
    const auto ip = parse_ipv4(packet, eth.payload_length(), false);
    if (!ip) {
        return false;
    }
    const uint8_t* l4 = packet + ip.payload_offset();
    const size_t l4_len = ip.payload_length();
    five_tuple t;
    t.src = ip.header().src;
    t.dst = ip.header().dst;
    t.proto = ip.header().protocol;
    if (t.proto == ip_proto::udp) {
        if (l4_len < udp_header_len) {
            return false;
        }
        t.sport = load_be16(l4);
        t.dport = load_be16(l4 + 2);
    } else if (t.proto == ip_proto::tcp) {
        if (l4_len < tcp_min_header_len) {
            return false;
        }
        t.sport = load_be16(l4);
        t.dport = load_be16(l4 + 2);
    }
    out = t;
    return true;
}

} // namespace iovsim::wire

namespace std {

size_t hash<iovsim::wire::mac_addr>::operator()(const iovsim::wire::mac_addr& mac) const noexcept
{
    uint64_t v = 0;
    for (const uint8_t b : mac.bytes) {
        v = (v << 8) | b;
    }
    return static_cast<size_t>(iovsim::wire::mix64(v));
}

size_t hash<iovsim::wire::ipv4_addr>::operator()(iovsim::wire::ipv4_addr addr) const noexcept
{
    return static_cast<size_t>(iovsim::wire::mix64(addr.value));
}

size_t hash<iovsim::wire::five_tuple>::operator()(const iovsim::wire::five_tuple& t) const noexcept
{
    const uint64_t addrs = (static_cast<uint64_t>(t.src.value) << 32) | t.dst.value;
    const uint64_t rest = (static_cast<uint64_t>(t.sport) << 24) | (static_cast<uint64_t>(t.dport) << 8) | t.proto;
    return static_cast<size_t>(iovsim::wire::mix64(iovsim::wire::mix64(addrs) ^ rest));
}

} // namespace std
