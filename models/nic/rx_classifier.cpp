#include "models/nic/rx_classifier.h"

#include <bitset>
#include <stdexcept>
#include <string>

namespace iovsim::nic {

namespace {

// Ethernet II and IPv4 layout (IEEE 802.3 clause 3, 802.1Q clause 9, RFC 791 section 3.1).
constexpr std::size_t eth_header_len = 14;
constexpr std::size_t eth_type_off = 12;
constexpr std::size_t vlan_tag_len = 4;
constexpr std::uint16_t ethertype_vlan = 0x8100;
constexpr std::uint16_t ethertype_ipv4 = 0x0800;

constexpr std::size_t ipv4_min_header = 20;
constexpr std::size_t ipv4_total_len_off = 2;
constexpr std::size_t ipv4_frag_off = 6;
constexpr std::uint16_t ipv4_flag_mf = 0x2000;
constexpr std::uint16_t ipv4_frag_offset_mask = 0x1fff;
constexpr std::size_t ipv4_proto_off = 9;
constexpr std::size_t ipv4_src_off = 12;
constexpr std::size_t ipv4_dst_off = 16;

constexpr std::uint8_t ip_proto_tcp = 6;
constexpr std::uint8_t ip_proto_udp = 17;
constexpr std::uint8_t ip_proto_sctp = 132;
constexpr std::size_t tcp_min_header = 20;     // RFC 793 section 3.1
constexpr std::size_t tcp_data_offset_off = 12;
constexpr std::size_t udp_header = 8;          // RFC 768
constexpr std::size_t sctp_common_header = 12; // RFC 4960 section 3.1; ports in the same place

std::uint16_t be16(const std::uint8_t* p)
{
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint32_t be32(const std::uint8_t* p)
{
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

// Length of the L4 header the 5-tuple filters need, 0 when the protocol carries no ports for them
// or the header is not complete within l4_len bytes.
std::size_t l4_header_len(std::uint8_t proto, const std::uint8_t* l4, std::size_t l4_len)
{
    std::size_t need = 0;
    switch (proto) {
    case ip_proto_tcp:
        if (l4_len < tcp_min_header) {
            return 0;
        }
        need = std::size_t{static_cast<std::uint8_t>(l4[tcp_data_offset_off] >> 4)} * 4;
        if (need < tcp_min_header) {
            return 0;
        }
        break;
    case ip_proto_udp:
        need = udp_header;
        break;
    case ip_proto_sctp:
        need = sctp_common_header;
        break;
    default:
        return 0;
    }
    return need <= l4_len ? need : 0;
}

std::uint64_t pool_bit(unsigned pool) { return std::uint64_t{1} << pool; }

[[noreturn]] void bad_index(const char* table, std::size_t idx, std::size_t cap)
{
    throw std::invalid_argument(std::string(table) + ": index " + std::to_string(idx) +
                                " out of range (capacity " + std::to_string(cap) + ")");
}

void check_pool_number(unsigned pool)
{
    if (pool >= max_pools) {
        throw std::invalid_argument("pool " + std::to_string(pool) + " out of range (max 63)");
    }
}

} // namespace

frame_fields parse_frame(const std::uint8_t* frame, std::size_t len)
{
    frame_fields ff;
    if (frame == nullptr || len < eth_header_len) {
        ff.malformed = true;
        return ff;
    }
    for (std::size_t i = 0; i < ff.dst.size(); ++i) {
        ff.dst[i] = frame[i];
        ff.src[i] = frame[6 + i];
    }
    std::size_t l3_off = eth_header_len;
    std::uint16_t type = be16(frame + eth_type_off);
    if (type == ethertype_vlan) {
        if (len < eth_header_len + vlan_tag_len) {
            ff.malformed = true;
            return ff;
        }
        ff.vlan = true;
        ff.vlan_id = be16(frame + eth_header_len) & 0x0fff;
        type = be16(frame + eth_header_len + 2);
        l3_off += vlan_tag_len;
    }
    ff.ethertype = type;
    if (type != ethertype_ipv4) {
        return ff;
    }

    const std::uint8_t* ip = frame + l3_off;
    const std::size_t l3_len = len - l3_off;  // includes any Ethernet padding after the packet
    if (l3_len < ipv4_min_header) {
        ff.malformed = true;
        return ff;
    }
    const unsigned version = ip[0] >> 4;
    const std::size_t header_len = std::size_t{static_cast<std::uint8_t>(ip[0] & 0x0f)} * 4;
    const std::size_t total_len = be16(ip + ipv4_total_len_off);
    if (version != 4 || header_len < ipv4_min_header || header_len > l3_len ||
        total_len < header_len || total_len > l3_len) {
        ff.malformed = true;
        return ff;
    }
    ff.ipv4 = true;
    ff.proto = ip[ipv4_proto_off];
    ff.src_ip = be32(ip + ipv4_src_off);
    ff.dst_ip = be32(ip + ipv4_dst_off);
    const std::uint16_t frag = be16(ip + ipv4_frag_off);
    ff.fragment = (frag & ipv4_flag_mf) != 0 || (frag & ipv4_frag_offset_mask) != 0;
    if (ff.fragment) {
        return ff;  // ports are in the first fragment only, and even there the packet is partial
    }
    const std::uint8_t* l4 = ip + header_len;
    if (l4_header_len(ff.proto, l4, total_len - header_len) == 0) {
        return ff;
    }
    ff.l4 = true;
    ff.sport = be16(l4);
    ff.dport = be16(l4 + 2);
    return ff;
}

// ---- l2_pool_table -----------------------------------------------------------------------------

namespace {
// The 48-bit address as one integer, for a comparison per entry instead of a byte-wise one.
std::uint64_t mac_key(const mac_address& m)
{
    std::uint64_t k = 0;
    for (auto b : m) {
        k = (k << 8) | b;
    }
    return k;
}
} // namespace

l2_pool_table::l2_pool_table(std::size_t capacity) : m_entries(capacity), m_keys(capacity, ~std::uint64_t{0}) {}

l2_pool_table::entry& l2_pool_table::checked(std::size_t idx)
{
    if (idx >= m_entries.size()) {
        bad_index("receive address table", idx, m_entries.size());
    }
    return m_entries[idx];
}

void l2_pool_table::set_entry(std::size_t idx, const mac_address& mac, std::uint64_t pool_mask)
{
    entry& e = checked(idx);
    if (!e.valid) {
        ++m_used;
    }
    e = entry{true, mac, pool_mask};
    m_keys[idx] = mac_key(mac);
}

void l2_pool_table::set_pools(std::size_t idx, std::uint64_t pool_mask)
{
    checked(idx).pools = pool_mask;
}

void l2_pool_table::clear_entry(std::size_t idx)
{
    // Only RAH.AV drops: the address and MPSAR keep their values, as the registers do.
    entry& e = checked(idx);
    if (e.valid) {
        --m_used;
    }
    e.valid = false;
}

const l2_pool_table::entry& l2_pool_table::at(std::size_t idx) const
{
    if (idx >= m_entries.size()) {
        bad_index("receive address table", idx, m_entries.size());
    }
    return m_entries[idx];
}

std::optional<std::size_t> l2_pool_table::add(const mac_address& mac, std::uint64_t pool_mask)
{
    for (std::size_t i = 0; i < m_entries.size(); ++i) {
        if (!m_entries[i].valid) {
            set_entry(i, mac, pool_mask);
            return i;
        }
    }
    return std::nullopt;
}

std::uint64_t l2_pool_table::lookup(const mac_address& mac) const
{
    // The hardware compares all entries in parallel; the lowest matching index is the one used.
    const std::uint64_t key = mac_key(mac);
    for (std::size_t i = 0; i < m_entries.size(); ++i) {
        if (m_keys[i] == key && m_entries[i].valid) {
            return m_entries[i].pools;
        }
    }
    return 0;
}

void l2_pool_table::set_accept_broadcast(unsigned pool, bool accept)
{
    check_pool_number(pool);
    if (accept) {
        m_bam |= pool_bit(pool);
    } else {
        m_bam &= ~pool_bit(pool);
    }
}

bool l2_pool_table::accept_broadcast(unsigned pool) const
{
    check_pool_number(pool);
    return (m_bam & pool_bit(pool)) != 0;
}

// ---- five_tuple_table --------------------------------------------------------------------------

ftqf_protocol ftqf_protocol_of(std::uint8_t ip_proto)
{
    switch (ip_proto) {
    case ip_proto_tcp:
        return ftqf_protocol::tcp;
    case ip_proto_udp:
        return ftqf_protocol::udp;
    case ip_proto_sctp:
        return ftqf_protocol::sctp;
    default:
        return ftqf_protocol::other;
    }
}

namespace {

void validate(const five_tuple_filter& f)
{
    // A disabled filter may hold priority 0: that is FTQF's reset value, and the register
    // callbacks rewrite a filter one register at a time.
    if (f.priority > 7 || (f.enabled && f.priority == 0)) {
        throw std::invalid_argument("5-tuple filter: priority " + std::to_string(f.priority) +
                                    " outside 1..7");
    }
    if (static_cast<std::uint8_t>(f.proto) > 3) {
        throw std::invalid_argument("5-tuple filter: protocol code outside FTQF's 2 bits");
    }
    if (f.pool_valid && f.pool >= max_pools) {
        throw std::invalid_argument("5-tuple filter: pool " + std::to_string(f.pool) + " >= 64");
    }
}

} // namespace

five_tuple_table::five_tuple_table(std::size_t capacity) : m_filters(capacity) {}

five_tuple_filter& five_tuple_table::checked(std::size_t idx)
{
    if (idx >= m_filters.size()) {
        bad_index("5-tuple filter table", idx, m_filters.size());
    }
    return m_filters[idx];
}

void five_tuple_table::set(std::size_t idx, const five_tuple_filter& f)
{
    five_tuple_filter& slot = checked(idx);
    validate(f);
    if (slot.enabled != f.enabled) {
        f.enabled ? ++m_used : --m_used;
    }
    slot = f;
}

void five_tuple_table::clear(std::size_t idx)
{
    five_tuple_filter& slot = checked(idx);
    if (slot.enabled) {
        --m_used;
    }
    slot = five_tuple_filter{};
}

const five_tuple_filter& five_tuple_table::at(std::size_t idx) const
{
    if (idx >= m_filters.size()) {
        bad_index("5-tuple filter table", idx, m_filters.size());
    }
    return m_filters[idx];
}

std::optional<std::size_t> five_tuple_table::add(const five_tuple_filter& f)
{
    validate(f);
    for (std::size_t i = 0; i < m_filters.size(); ++i) {
        if (!m_filters[i].enabled) {
            set(i, f);
            return i;
        }
    }
    return std::nullopt;
}

std::optional<std::uint16_t> five_tuple_table::match(const frame_fields& ff, unsigned pool) const
{
    if (!ff.ipv4 || ff.malformed || m_used == 0) {
        return std::nullopt;
    }
    const ftqf_protocol proto = ftqf_protocol_of(ff.proto);
    const five_tuple_filter* best = nullptr;
    for (const five_tuple_filter& f : m_filters) {
        // Strictly higher priority only, so that ties keep the lowest index.
        if (!f.enabled || (best != nullptr && f.priority <= best->priority)) {
            continue;
        }
        if (f.pool_valid && f.pool != pool) {
            continue;
        }
        if ((!f.mask_proto && f.proto != proto) || (!f.mask_src_ip && f.src_ip != ff.src_ip) ||
            (!f.mask_dst_ip && f.dst_ip != ff.dst_ip)) {
            continue;
        }
        const bool compares_ports = !f.mask_sport || !f.mask_dport;
        if (compares_ports && (!ff.l4 || (!f.mask_sport && f.sport != ff.sport) ||
                               (!f.mask_dport && f.dport != ff.dport))) {
            continue;
        }
        best = &f;
        if (best->priority == 7) {
            break;
        }
    }
    if (best == nullptr) {
        return std::nullopt;
    }
    return best->rx_queue;
}

// ---- rx_decision -------------------------------------------------------------------------------

unsigned rx_decision::copies() const
{
    return static_cast<unsigned>(std::bitset<max_pools>(pools).count());
}

std::optional<std::uint16_t> rx_decision::queue_for(unsigned pool) const
{
    if (pool >= max_pools || (pools & pool_bit(pool)) == 0) {
        return std::nullopt;
    }
    return queues[pool];
}

std::optional<unsigned> rx_decision::first_pool() const
{
    for (unsigned p = 0; p < max_pools; ++p) {
        if ((pools & pool_bit(p)) != 0) {
            return p;
        }
    }
    return std::nullopt;
}

// ---- rx_classifier -----------------------------------------------------------------------------

rx_classifier::rx_classifier(unsigned pools, unsigned queues_per_pool,
                             std::size_t address_entries, std::size_t filter_entries)
    : m_pools(pools),
      m_queues_per_pool(queues_per_pool),
      m_pool_range_mask(pools >= max_pools ? ~std::uint64_t{0} : pool_bit(pools) - 1),
      m_default_pool(0),
      m_addresses(address_entries),
      m_filters(filter_entries)
{
    if (pools == 0 || pools > max_pools) {
        throw std::invalid_argument("rx_classifier: pools must be 1..64, got " +
                                    std::to_string(pools));
    }
    if (queues_per_pool == 0 || std::uint64_t{pools} * queues_per_pool > 65536) {
        throw std::invalid_argument("rx_classifier: queues_per_pool " +
                                    std::to_string(queues_per_pool) +
                                    " must be non-zero with at most 65536 queues in all");
    }
}

void rx_classifier::checked_pool(unsigned pool) const
{
    if (pool >= m_pools) {
        throw std::invalid_argument("rx_classifier: pool " + std::to_string(pool) +
                                    " out of range (" + std::to_string(m_pools) + " pools)");
    }
}

std::uint16_t rx_classifier::first_queue(unsigned pool) const
{
    checked_pool(pool);
    return static_cast<std::uint16_t>(pool * m_queues_per_pool);
}

void rx_classifier::set_pool_enabled(unsigned pool, bool enabled)
{
    checked_pool(pool);
    if (enabled) {
        m_enabled |= pool_bit(pool);
    } else {
        m_enabled &= ~pool_bit(pool);
    }
}

bool rx_classifier::pool_enabled(unsigned pool) const
{
    checked_pool(pool);
    return (m_enabled & pool_bit(pool)) != 0;
}

void rx_classifier::set_default_queue(unsigned pool, unsigned index_in_pool)
{
    checked_pool(pool);
    if (index_in_pool >= m_queues_per_pool) {
        throw std::invalid_argument("rx_classifier: default queue " +
                                    std::to_string(index_in_pool) + " outside pool of " +
                                    std::to_string(m_queues_per_pool));
    }
    m_default_queue[pool] = static_cast<std::uint16_t>(index_in_pool);
}

unsigned rx_classifier::default_queue(unsigned pool) const
{
    checked_pool(pool);
    return m_default_queue[pool];
}

void rx_classifier::set_accept_broadcast(unsigned pool, bool accept)
{
    checked_pool(pool);
    m_addresses.set_accept_broadcast(pool, accept);
}

void rx_classifier::set_default_pool(std::optional<unsigned> pool)
{
    if (pool) {
        checked_pool(*pool);
    }
    m_default_pool = pool;
}

rx_decision rx_classifier::drop(rx_decision d, drop_reason r) const
{
    d.act = rx_decision::action::drop;
    d.reason = r;
    d.pools = 0;
    ++m_stats.drops[static_cast<std::size_t>(r)];
    return d;
}

rx_decision rx_classifier::classify(const std::uint8_t* frame, std::size_t len) const
{
    return classify(parse_frame(frame, len));
}

rx_decision rx_classifier::classify(const frame_fields& ff) const
{
    ++m_stats.frames;
    rx_decision d;
    d.fields = ff;
    if (ff.malformed) {
        return drop(d, drop_reason::malformed);
    }

    // Pool selection (7.10, receive switching between pools): broadcast by VMOLR.BAM only;
    // otherwise the exact address match, and for unicast that matches nothing, the default pool.
    std::uint64_t targets = 0;
    if (is_broadcast(ff.dst)) {
        targets = m_addresses.broadcast_pools() & m_pool_range_mask;
    } else {
        targets = m_addresses.lookup(ff.dst) & m_pool_range_mask;
        if (targets == 0 && !is_multicast(ff.dst) && m_default_pool) {
            targets = pool_bit(*m_default_pool);
        }
    }
    if (targets == 0) {
        return drop(d, drop_reason::no_pool);
    }
    const std::uint64_t live = targets & m_enabled;
    if (live == 0) {
        return drop(d, drop_reason::pool_disabled);
    }
    m_stats.disabled_copies += std::bitset<max_pools>(targets & ~live).count();

    for (unsigned p = 0; p < m_pools; ++p) {
        if ((live & pool_bit(p)) == 0) {
            continue;
        }
        const unsigned first = p * m_queues_per_pool;
        unsigned queue = first + m_default_queue[p];
        const unsigned steer_first = m_vt ? first : 0;
        const unsigned steer_span = m_vt ? m_queues_per_pool : m_pools * m_queues_per_pool;
        if (const auto hit = m_filters.match(ff, p)) {
            // A filter may only steer within the pool the frame was switched to: a VF's traffic
            // must not land in another function's ring.
            if (*hit >= steer_first && *hit < steer_first + steer_span) {
                queue = *hit;
                ++m_stats.filter_hits;
            } else {
                ++m_stats.filter_foreign_queue;
            }
        }
        d.queues[p] = static_cast<std::uint16_t>(queue);
    }
    d.act = rx_decision::action::deliver;
    d.pools = live;
    ++m_stats.delivered;
    m_stats.copies += d.copies();
    return d;
}

} // namespace iovsim::nic
