// Wire formats shared by the hardware models (the NIC's header parser, filters, checksum offload)
// and the software (the protocol stack in os/net): addresses, Ethernet II with an optional 802.1Q
// tag, ARP, IPv4, UDP, TCP and ICMP echo headers.
//
// Every field is read and written byte by byte in network order; no struct is ever laid over a
// buffer, so alignment, padding and host byte order cannot leak into a frame.
//
// Parsers take the bytes of one layer (a frame, an IPv4 packet, a segment) and return either the
// header and where that layer's payload lies within the bytes given, or a parse_error. They never
// read outside [buf, buf + len). Builders write a complete header into a caller buffer, compute
// its checksum, and return the header's length, or 0 when the header is invalid or does not fit.
#pragma once

#include "sim/wire/checksum.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace iovsim::wire {

// ---- byte order -------------------------------------------------------------------------------

inline uint16_t load_be16(const uint8_t* p)
{
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

inline uint32_t load_be32(const uint8_t* p)
{
    return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16)
           | (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

inline void store_be16(uint8_t* p, uint16_t v)
{
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

inline void store_be32(uint8_t* p, uint32_t v)
{
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

// ---- addresses --------------------------------------------------------------------------------

struct mac_addr {
    std::array<uint8_t, 6> bytes{};

    // Exactly six colon-separated pairs of hex digits, either case: "02:00:00:00:00:01".
    static std::optional<mac_addr> parse(std::string_view text);
    static mac_addr broadcast() { return mac_addr{{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}}; }
    static mac_addr load(const uint8_t* p);
    void store(uint8_t* p) const;

    std::string to_string() const; // lower-case hex, "02:00:00:00:00:01"
    bool is_broadcast() const;
    // The I/G bit (IEEE 802, bit 0 of the first octet); true for broadcast as well.
    bool is_multicast() const { return (bytes[0] & 0x01) != 0; }
    bool is_zero() const;

    friend bool operator==(const mac_addr& a, const mac_addr& b) { return a.bytes == b.bytes; }
    friend bool operator!=(const mac_addr& a, const mac_addr& b) { return !(a == b); }
    friend bool operator<(const mac_addr& a, const mac_addr& b) { return a.bytes < b.bytes; }
};

struct ipv4_addr {
    uint32_t value = 0; // host order: 10.0.0.1 is 0x0A000001

    // Dotted quad of four decimal octets 0..255. A leading zero ("010") is refused rather than
    // guessed at, since inet_aton would read it as octal.
    static std::optional<ipv4_addr> parse(std::string_view text);
    static ipv4_addr from_octets(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
    static ipv4_addr load(const uint8_t* p) { return ipv4_addr{load_be32(p)}; }
    void store(uint8_t* p) const { store_be32(p, value); }

    std::string to_string() const;
    bool is_broadcast() const { return value == 0xFFFFFFFFu; }
    bool is_multicast() const { return (value >> 28) == 0xE; } // 224.0.0.0/4

    friend bool operator==(ipv4_addr a, ipv4_addr b) { return a.value == b.value; }
    friend bool operator!=(ipv4_addr a, ipv4_addr b) { return a.value != b.value; }
    friend bool operator<(ipv4_addr a, ipv4_addr b) { return a.value < b.value; }
};

std::ostream& operator<<(std::ostream& os, const mac_addr& mac);
std::ostream& operator<<(std::ostream& os, ipv4_addr addr);

// ---- constants --------------------------------------------------------------------------------

namespace eth_type {
inline constexpr uint16_t ipv4 = 0x0800;
inline constexpr uint16_t arp = 0x0806;
inline constexpr uint16_t vlan = 0x8100; // IEEE 802.1Q C-tag TPID
inline constexpr uint16_t ipv6 = 0x86DD;
inline constexpr uint16_t min_value = 0x0600; // below this the field is an IEEE 802.3 length
} // namespace eth_type

namespace ip_proto {
inline constexpr uint8_t icmp = 1;
inline constexpr uint8_t tcp = 6;
inline constexpr uint8_t udp = 17;
} // namespace ip_proto

inline constexpr size_t eth_header_len = 14;
inline constexpr size_t vlan_tag_len = 4;
inline constexpr size_t eth_min_frame_len = 60; // IEEE 802.3 minimum of 64 bytes, less the FCS
inline constexpr size_t eth_fcs_len = 4;
inline constexpr size_t arp_len = 28; // Ethernet/IPv4 ARP (RFC 826)
inline constexpr size_t ipv4_min_header_len = 20;
inline constexpr size_t ipv4_max_header_len = 60;
inline constexpr size_t udp_header_len = 8;
inline constexpr size_t tcp_min_header_len = 20;
inline constexpr size_t tcp_max_header_len = 60;
inline constexpr size_t icmp_echo_header_len = 8;

// ---- parse results ----------------------------------------------------------------------------

enum class parse_error : uint8_t {
    none,              // parsed
    truncated,         // the buffer ends before the header (with its options) does
    bad_ethertype,     // an 802.3 length field, or a second 802.1Q tag
    bad_version,       // IPv4 version field is not 4
    bad_ihl,           // IPv4 IHL below 5
    bad_total_length,  // IPv4 total length below the header length or beyond the buffer
    bad_ip_checksum,
    fragment,          // MF set or fragment offset non-zero: reassembly is not modelled
    bad_udp_length,    // UDP length below 8 or beyond the IP payload
    bad_udp_checksum,
    bad_tcp_offset,    // TCP data offset below 5
    bad_tcp_checksum,
    bad_icmp_type,     // not an echo request or reply
    bad_icmp_checksum,
    bad_arp,           // not Ethernet/IPv4, or an opcode other than request or reply
};
inline constexpr size_t parse_error_count = static_cast<size_t>(parse_error::bad_arp) + 1;

const char* to_string(parse_error error);
std::ostream& operator<<(std::ostream& os, parse_error error);

// Either a header and where its payload lies in the parsed buffer, or why there is none.
// Constructible from a parse_error so that a parser can simply `return parse_error::truncated;`.
template <typename Header>
class parse_result {
public:
    parse_result(parse_error error) : m_error(error) {}
    parse_result(const Header& header, size_t payload_offset, size_t payload_length)
        : m_header(header), m_payload_offset(payload_offset), m_payload_length(payload_length)
    {
    }

    bool ok() const { return m_error == parse_error::none; }
    explicit operator bool() const { return ok(); }
    parse_error error() const { return m_error; }
    // On failure: a default header and an empty payload at offset 0.
    const Header& header() const { return m_header; }
    size_t payload_offset() const { return m_payload_offset; }
    size_t payload_length() const { return m_payload_length; }

private:
    Header m_header{};
    size_t m_payload_offset = 0;
    size_t m_payload_length = 0;
    parse_error m_error = parse_error::none;
};

// ---- Ethernet II (IEEE 802.3 clause 3.2.6) with an optional 802.1Q tag ------------------------

struct eth_header {
    mac_addr dst;
    mac_addr src;
    uint16_t ethertype = eth_type::ipv4; // of the payload: the inner type when tagged
    bool has_vlan = false;
    uint16_t vlan_tci = 0; // 802.1Q TCI: PCP(15:13) DEI(12) VID(11:0)

    uint16_t vlan_id() const { return vlan_tci & 0x0FFF; }
    uint8_t vlan_pcp() const { return static_cast<uint8_t>(vlan_tci >> 13); }
    size_t length() const { return has_vlan ? eth_header_len + vlan_tag_len : eth_header_len; }
};

// The payload is everything after the header (padding included: upper layers trim it).
parse_result<eth_header> parse_eth(const uint8_t* buf, size_t len);
size_t build_eth(uint8_t* buf, size_t cap, const eth_header& header);

// Zero-pads a frame (without FCS) shorter than eth_min_frame_len. Returns the new length, or 0
// when it is short and cap cannot hold the padding.
size_t pad_frame(uint8_t* frame, size_t len, size_t cap);

// ---- ARP, Ethernet/IPv4 (RFC 826) -------------------------------------------------------------

enum class arp_op : uint16_t { request = 1, reply = 2 };

struct arp_packet {
    arp_op op = arp_op::request;
    mac_addr sender_mac;
    ipv4_addr sender_ip;
    mac_addr target_mac; // zero in a request
    ipv4_addr target_ip;
};

parse_result<arp_packet> parse_arp(const uint8_t* buf, size_t len);
size_t build_arp(uint8_t* buf, size_t cap, const arp_packet& packet);

// ---- IPv4 (RFC 791 section 3.1) ---------------------------------------------------------------

struct ipv4_header {
    uint8_t tos = 0; // DSCP(7:2) ECN(1:0)
    uint16_t total_length = 0;
    uint16_t id = 0;
    bool dont_fragment = false;
    bool more_fragments = false;
    uint16_t fragment_offset = 0; // in 8-byte units, 13 bits
    uint8_t ttl = 64;
    uint8_t protocol = 0;
    uint16_t checksum = 0; // as received; build_ipv4 computes its own
    ipv4_addr src;
    ipv4_addr dst;
    uint8_t options_length = 0; // bytes, a multiple of 4, at most 40
    std::array<uint8_t, 40> options{};

    size_t header_length() const { return ipv4_min_header_len + options_length; }
};

// Validates, in order: buffer holds 20 bytes (truncated), version (bad_version), IHL >= 5
// (bad_ihl), buffer holds IHL*4 bytes (truncated), header length <= total length <= len
// (bad_total_length), header checksum if verify_checksum (bad_ip_checksum), no fragment (fragment).
// The payload is trimmed to the total length: bytes beyond it are Ethernet padding.
parse_result<ipv4_header> parse_ipv4(const uint8_t* buf, size_t len, bool verify_checksum = true);
// Writes header_length() bytes with the header checksum; total_length is taken from the header.
// Returns 0 if options_length is not a multiple of 4 or above 40, total_length is below the header
// length, fragment_offset does not fit 13 bits, or cap is too small.
size_t build_ipv4(uint8_t* buf, size_t cap, const ipv4_header& header);

// The sum of the IPv4 pseudo-header (RFC 768, RFC 9293 section 3.1) that UDP and TCP checksums
// cover; a NIC's checksum offload is seeded with it.
partial pseudo_header_sum(ipv4_addr src, ipv4_addr dst, uint8_t protocol, uint16_t l4_length);

// ---- UDP (RFC 768) ----------------------------------------------------------------------------

struct udp_header {
    uint16_t sport = 0;
    uint16_t dport = 0;
    uint16_t length = 0; // header and payload
    uint16_t checksum = 0; // 0: none was sent
};

// buf/len: the IPv4 payload. The UDP length may be shorter than len; the payload is trimmed to it.
// A checksum of 0 means none was computed and is accepted (RFC 768).
parse_result<udp_header> parse_udp(const uint8_t* buf, size_t len, ipv4_addr src, ipv4_addr dst,
                                   bool verify_checksum = true);
// The payload_len bytes must already follow the header in buf (cap covers both). Sets length from
// payload_len and computes the checksum, sending a computed 0 as 0xFFFF; with compute_checksum
// false the checksum field is 0 (none). header.length and header.checksum are ignored.
size_t build_udp(uint8_t* buf, size_t cap, const udp_header& header, size_t payload_len,
                 ipv4_addr src, ipv4_addr dst, bool compute_checksum = true);

// ---- TCP header (RFC 9293 section 3.1) --------------------------------------------------------

namespace tcp_flag {
inline constexpr uint8_t fin = 0x01;
inline constexpr uint8_t syn = 0x02;
inline constexpr uint8_t rst = 0x04;
inline constexpr uint8_t psh = 0x08;
inline constexpr uint8_t ack = 0x10;
inline constexpr uint8_t urg = 0x20;
inline constexpr uint8_t ece = 0x40;
inline constexpr uint8_t cwr = 0x80;
} // namespace tcp_flag

struct tcp_header {
    uint16_t sport = 0;
    uint16_t dport = 0;
    uint32_t seq = 0;
    uint32_t ack = 0;
    uint8_t flags = 0; // tcp_flag bits; the four reserved bits are sent as 0 and ignored on parse
    uint16_t window = 0;
    uint16_t checksum = 0;
    uint16_t urgent_ptr = 0;
    uint8_t options_length = 0; // bytes, a multiple of 4, at most 40
    std::array<uint8_t, 40> options{};

    size_t header_length() const { return tcp_min_header_len + options_length; }
};

// buf/len: the whole segment (the IPv4 payload). The payload runs from the data offset to len.
// Errors: truncated, bad_tcp_offset (below 5), bad_tcp_checksum, and bad_total_length for a
// segment above 65535 bytes, which no IPv4 packet can carry.
parse_result<tcp_header> parse_tcp(const uint8_t* buf, size_t len, ipv4_addr src, ipv4_addr dst,
                                   bool verify_checksum = true);
// As build_udp: the payload must follow the header in buf. Returns 0 on invalid options_length,
// a segment above 65535 bytes, or a small cap.
size_t build_tcp(uint8_t* buf, size_t cap, const tcp_header& header, size_t payload_len,
                 ipv4_addr src, ipv4_addr dst, bool compute_checksum = true);

// ---- ICMP echo (RFC 792) ----------------------------------------------------------------------

enum class icmp_type : uint8_t { echo_reply = 0, echo_request = 8 };

struct icmp_echo_header {
    icmp_type type = icmp_type::echo_request;
    uint8_t code = 0;
    uint16_t checksum = 0;
    uint16_t id = 0;
    uint16_t seq = 0;
};

// buf/len: the whole ICMP message; its checksum covers all of it.
parse_result<icmp_echo_header> parse_icmp_echo(const uint8_t* buf, size_t len, bool verify_checksum = true);
// As build_udp: the payload must follow the header in buf.
size_t build_icmp_echo(uint8_t* buf, size_t cap, const icmp_echo_header& header, size_t payload_len);

// ---- flow identity ----------------------------------------------------------------------------

struct five_tuple {
    ipv4_addr src;
    ipv4_addr dst;
    uint16_t sport = 0;
    uint16_t dport = 0;
    uint8_t proto = 0;

    five_tuple reversed() const { return five_tuple{dst, src, dport, sport, proto}; }

    friend bool operator==(const five_tuple& a, const five_tuple& b)
    {
        return a.src == b.src && a.dst == b.dst && a.sport == b.sport && a.dport == b.dport
               && a.proto == b.proto;
    }
    friend bool operator!=(const five_tuple& a, const five_tuple& b) { return !(a == b); }
};

// From a whole Ethernet frame (802.1Q tag allowed): false unless it carries an unfragmented IPv4
// packet whose header is well formed and, for UDP and TCP, whose L4 header is complete. Checksums
// are not verified: this classifies (NIC filters, flow tables); validating is the stack's job.
// Protocols without ports (ICMP, ...) give sport = dport = 0.
bool extract_five_tuple(const uint8_t* frame, size_t len, five_tuple& out);

} // namespace iovsim::wire

namespace std {

template <>
struct hash<iovsim::wire::mac_addr> {
    size_t operator()(const iovsim::wire::mac_addr& mac) const noexcept;
};

template <>
struct hash<iovsim::wire::ipv4_addr> {
    size_t operator()(iovsim::wire::ipv4_addr addr) const noexcept;
};

template <>
struct hash<iovsim::wire::five_tuple> {
    size_t operator()(const iovsim::wire::five_tuple& t) const noexcept;
};

} // namespace std
