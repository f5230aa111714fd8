#pragma once
// Receive classification of the NIC, after the Intel 82599 in virtualization mode (datasheet 7.1.2
// "Rx Queues Assignment", 7.1.2.5 "L3/L4 5-tuple Filters", 7.10 "Virtualization"). Pure logic,
// no SystemC: the NIC module calls classify() per received frame and its register callbacks call
// the setters here.
//
// Pipeline per frame: fixed-function header parse -> pool selection by destination MAC (RAL/RAH
// with MPSAR; broadcast by VMOLR.BAM; unmatched unicast to PFVTCTL.DEF_PL) -> per-pool enable
// (PFVFRE) -> queue within each pool by the 5-tuple filters (FTQF/DAQF/SAQF/SDPQF/L34T_IMIR), else
// the pool's default queue.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace iovsim::nic {

using mac_address = std::array<std::uint8_t, 6>;

constexpr bool is_broadcast(const mac_address& m)
{
    for (auto b : m) {
        if (b != 0xff) {
            return false;
        }
    }
    return true;
}

// I/G bit: the least significant bit of the first octet (IEEE 802, transmitted first).
constexpr bool is_multicast(const mac_address& m) { return (m[0] & 0x01) != 0; }

// What the NIC's fixed-function parser extracts from a frame (without FCS).
struct frame_fields {
    mac_address dst{};
    mac_address src{};
    bool vlan = false;            // one 802.1Q tag (TPID 0x8100) was present
    std::uint16_t vlan_id = 0;    // VID, the 12 low bits of the TCI
    std::uint16_t ethertype = 0;  // after the tag, if any
    bool ipv4 = false;            // a well-formed IPv4 header was parsed
    bool fragment = false;        // IPv4 MF set or fragment offset != 0
    bool l4 = false;              // TCP, UDP or SCTP, first fragment, complete L4 header
    std::uint8_t proto = 0;       // IPv4 protocol field (valid when ipv4)
    std::uint32_t src_ip = 0;     // host order
    std::uint32_t dst_ip = 0;     // host order
    std::uint16_t sport = 0;      // host order (valid when l4)
    std::uint16_t dport = 0;
    bool malformed = false;       // runt, truncated tag, or bad/truncated IPv4 header or packet
};

// Never reads outside [frame, frame + len); frame may be null only when len is 0.
frame_fields parse_frame(const std::uint8_t* frame, std::size_t len);

constexpr unsigned max_pools = 64;  // MPSAR and the pool masks are 64 bits wide

// Receive Address table (RAL/RAH, "Receive Address Low/High") with its pool bitmap (MPSAR),
// plus the per-pool VMOLR.BAM "accept broadcast" flag.
class l2_pool_table {
public:
    struct entry {
        bool valid = false;  // RAH.AV
        mac_address mac{};
        std::uint64_t pools = 0;  // MPSAR bit p: pool p receives frames to this address
    };

    explicit l2_pool_table(std::size_t capacity = 128);

    // Index out of range -> std::invalid_argument (the register decoder bounds its own indexes).
    void set_entry(std::size_t idx, const mac_address& mac, std::uint64_t pool_mask);
    void set_pools(std::size_t idx, std::uint64_t pool_mask);  // MPSAR alone, entry stays (in)valid
    void clear_entry(std::size_t idx);  // clears RAH.AV only; mac and pools stay readable
    const entry& at(std::size_t idx) const;
    // First free slot, or nullopt when the table is full.
    std::optional<std::size_t> add(const mac_address& mac, std::uint64_t pool_mask);

    // Pool mask of the lowest valid entry holding mac; 0 when none does.
    std::uint64_t lookup(const mac_address& mac) const;

    void set_accept_broadcast(unsigned pool, bool accept);  // pool >= 64 -> std::invalid_argument
    bool accept_broadcast(unsigned pool) const;
    std::uint64_t broadcast_pools() const { return m_bam; }

    std::size_t capacity() const { return m_entries.size(); }
    std::size_t used() const { return m_used; }

private:
    entry& checked(std::size_t idx);

    std::vector<entry> m_entries;
    std::vector<std::uint64_t> m_keys;   // each entry's address as an integer (kept with set_entry)
    std::size_t m_used = 0;
    std::uint64_t m_bam = 0;
};

// FTQF.Protocol encoding.
enum class ftqf_protocol : std::uint8_t { tcp = 0, udp = 1, sctp = 2, other = 3 };

ftqf_protocol ftqf_protocol_of(std::uint8_t ip_proto);

struct five_tuple_filter {
    bool enabled = false;   // FTQF.Queue Enable
    std::uint32_t src_ip = 0;  // SAQF, host order
    std::uint32_t dst_ip = 0;  // DAQF
    std::uint16_t sport = 0;   // SDPQF
    std::uint16_t dport = 0;
    ftqf_protocol proto = ftqf_protocol::tcp;
    // FTQF.Mask: a set bit means "do not compare this field".
    bool mask_src_ip = false;
    bool mask_dst_ip = false;
    bool mask_sport = false;
    bool mask_dport = false;
    bool mask_proto = false;
    std::uint8_t priority = 1;  // FTQF.Priority, 1..7, higher wins
    bool pool_valid = false;    // !FTQF.Pool Mask: only frames of `pool` match
    std::uint8_t pool = 0;
    std::uint16_t rx_queue = 0;  // L34T_IMIR.Rx Queue, a global queue index
};

// The 5-tuple filters apply to IPv4 only; a non-first fragment or a frame without a complete L4
// header has no ports, so it matches only filters that mask both ports.
class five_tuple_table {
public:
    explicit five_tuple_table(std::size_t capacity = 128);

    // Throws std::invalid_argument for an index out of range, a priority outside 1..7, a
    // protocol code outside FTQF's 2 bits, or a bound pool >= 64.
    void set(std::size_t idx, const five_tuple_filter& f);
    void clear(std::size_t idx);
    const five_tuple_filter& at(std::size_t idx) const;
    // First slot not enabled, or nullopt when all are; validates like set().
    std::optional<std::size_t> add(const five_tuple_filter& f);

    // rx_queue of the highest-priority enabled filter matching the frame received into `pool`;
    // ties go to the lowest index.
    std::optional<std::uint16_t> match(const frame_fields& ff, unsigned pool) const;

    std::size_t capacity() const { return m_filters.size(); }
    std::size_t used() const { return m_used; }

private:
    five_tuple_filter& checked(std::size_t idx);

    std::vector<five_tuple_filter> m_filters;
    std::size_t m_used = 0;  // enabled filters
};

enum class drop_reason : std::uint8_t {
    none,
    malformed,      // parser flagged the frame
    no_pool,        // no address entry, not accepted as broadcast, no default pool
    pool_disabled,  // every target pool has PFVFRE clear
};
constexpr std::size_t drop_reason_count = 4;

// Outcome for one frame. No heap: the per-pool queues sit in a fixed array.
struct rx_decision {
    enum class action : std::uint8_t { deliver, drop };

    action act = action::drop;
    drop_reason reason = drop_reason::none;
    std::uint64_t pools = 0;  // pools receiving a copy (several for broadcast or shared MACs)
    frame_fields fields;      // the parse, for descriptor write-back (VLAN, packet type)
    // Global queue per pool, meaningful only where `pools` has the pool's bit.
    std::array<std::uint16_t, max_pools> queues{};

    bool delivered() const { return act == action::deliver; }
    unsigned copies() const;
    // Global queue for pool's copy, nullopt when pool receives none.
    std::optional<std::uint16_t> queue_for(unsigned pool) const;
    // Lowest pool receiving a copy (the only one for plain unicast).
    std::optional<unsigned> first_pool() const;
};

// Counted inside classify(), which is const towards the configuration only.
struct rx_stats {
    std::uint64_t frames = 0;
    std::uint64_t delivered = 0;  // frames delivered to at least one pool
    std::uint64_t copies = 0;     // pool copies delivered
    std::array<std::uint64_t, drop_reason_count> drops{};  // by drop_reason
    std::uint64_t disabled_copies = 0;  // copies withheld from disabled pools of a delivered frame
    std::uint64_t filter_hits = 0;      // copies steered by a 5-tuple filter
    std::uint64_t filter_foreign_queue = 0;  // hit steering outside the pool: ignored

    std::uint64_t dropped(drop_reason r) const { return drops[static_cast<std::size_t>(r)]; }
};

class rx_classifier {
public:
    // 82599 VT modes: 64 pools x 2 queues, 32 x 4, 16 x 8. Throws std::invalid_argument when pools
    // is 0 or above 64, or queues_per_pool is 0, or pools * queues_per_pool exceeds 65536.
    rx_classifier(unsigned pools = 64, unsigned queues_per_pool = 2,
                  std::size_t address_entries = 128, std::size_t filter_entries = 128);

    rx_decision classify(const std::uint8_t* frame, std::size_t len) const;
    rx_decision classify(const frame_fields& ff) const;

    unsigned pools() const { return m_pools; }
    unsigned queues_per_pool() const { return m_queues_per_pool; }
    std::uint16_t first_queue(unsigned pool) const;  // pool * queues_per_pool

    // Per-pool state; a pool out of range throws std::invalid_argument.
    void set_pool_enabled(unsigned pool, bool enabled);  // PFVFRE
    bool pool_enabled(unsigned pool) const;
    void set_default_queue(unsigned pool, unsigned index_in_pool);  // index < queues_per_pool
    unsigned default_queue(unsigned pool) const;                    // index within the pool
    void set_accept_broadcast(unsigned pool, bool accept);  // VMOLR.BAM, kept in addresses()

    // Pool for unicast frames that match no address (PFVTCTL.DEF_PL); nullopt drops them
    // (PFVTCTL.Dis_Def_Pool). Reset: pool 0, as the register's reset value.
    void set_default_pool(std::optional<unsigned> pool);
    std::optional<unsigned> default_pool() const { return m_default_pool; }

    // Without virtualization (VT_CTL.VT_Ena clear) there is one pool and its filters may steer to
    // any of the device's queues (datasheet 7.1.2: 5-tuple filters across all 128 queues); with it,
    // only within the frame's pool.
    void set_virtualization(bool on) { m_vt = on; }
    bool virtualization() const { return m_vt; }

    l2_pool_table& addresses() { return m_addresses; }
    const l2_pool_table& addresses() const { return m_addresses; }
    five_tuple_table& filters() { return m_filters; }
    const five_tuple_table& filters() const { return m_filters; }

    const rx_stats& stats() const { return m_stats; }
    void reset_stats() { m_stats = rx_stats{}; }

private:
    void checked_pool(unsigned pool) const;
    rx_decision drop(rx_decision d, drop_reason r) const;

    unsigned m_pools;
    unsigned m_queues_per_pool;
    std::uint64_t m_pool_range_mask;  // bits of the pools that exist
    std::uint64_t m_enabled = 0;
    std::array<std::uint16_t, max_pools> m_default_queue{};
    std::optional<unsigned> m_default_pool;
    bool m_vt = true;
    l2_pool_table m_addresses;
    five_tuple_table m_filters;
    mutable rx_stats m_stats;  // the simulation kernel is single-threaded
};

} // namespace iovsim::nic
