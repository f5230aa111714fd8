// The DMA-remapping unit's translation logic (Intel VT-d, chapter 3 "DMA Remapping"), free of
// SystemC: walks root, context and second-level tables in simulated memory through mem_port,
// caches contexts and leaf translations (IOTLB), and records faults. The SystemC shell charges
// one DRAM access per table read this reports and splits DMAs at page boundaries.
#pragma once

#include "models/iommu/vtd_format.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <unordered_map>
#include <utility>
#include <vector>

namespace iovsim::iommu {

// The unit's view of memory: reads at physical addresses, nothing more. A 128-bit entry (root,
// context) is fetched as one access; a port that cannot do that reads two quadwords.
struct mem_port {
    virtual ~mem_port() = default;
    virtual uint64_t read_u64(uint64_t pa) = 0;
    virtual void read_u128(uint64_t pa, uint64_t& lo, uint64_t& hi)
    {
        lo = read_u64(pa);
        hi = read_u64(pa + 8);
    }
};

enum class access { read, write };

// After VT-d 7.1.3 "Fault Conditions and Remapping Hardware Behavior" (legacy mode reasons).
enum class fault_reason {
    none,
    root_not_present,       // root entry P clear
    context_not_present,    // context entry P clear
    context_invalid,        // reserved T or unsupported AW in a present context entry
    address_beyond_width,   // iova above the context's AW
    pte_not_present,        // R and W both clear in a second-level entry
    no_read_permission,     // read request, R clear in the walk
    no_write_permission,    // write request, W clear in the walk
    pte_reserved_bits,      // PS where this unit has no large page, or an unaligned 2 MiB ADDR
};
const char* to_string(fault_reason);

struct translator_params {
    unsigned iotlb_entries = 64;          // 0 disables the IOTLB: every lookup walks
    unsigned context_cache_entries = 16;  // 0 disables the context cache
    unsigned pde_cache_entries = 0;       // paging-structure cache of last-level tables; 0: none
    bool pass_through = false;            // whole unit in pass-through (no translation)
    unsigned max_fault_records = 256;     // fault recording queue depth; beyond, faults are dropped
};

struct translation {
    bool ok;
    uint64_t pa;            // meaningful only when ok
    uint16_t domain;        // DID of the context, 0 when the lookup failed before reading it
    bool iotlb_hit;
    unsigned table_reads;   // table entries this lookup fetched (a 128-bit context entry is one)
    fault_reason fault;
};

struct fault_record {
    uint16_t requester_id;
    uint64_t iova;
    access acc;
    fault_reason reason;
};

struct translator_stats {
    uint64_t lookups = 0;
    uint64_t iotlb_hits = 0;
    uint64_t iotlb_misses = 0;
    uint64_t pde_hits = 0;        // misses whose walk started at the last-level table
    uint64_t table_reads = 0;
    uint64_t faults = 0;          // every faulting lookup, recorded or not
    uint64_t faults_dropped = 0;  // faults lost because the recording queue was full
};

namespace detail {

// Fully associative map with least-recently-used replacement; capacity 0 holds nothing. Up to
// flat_limit entries (IOTLBs and context caches are that small) the entries sit in one array,
// searched linearly and aged by a use stamp: no allocation per lookup or fill. Larger
// configurations use a hash index over a recency list.
template <typename Key, typename Value>
class lru_map {
public:
    static constexpr std::size_t flat_limit = 256;

    explicit lru_map(std::size_t capacity) : m_capacity(capacity)
    {
        if (flat())
            m_slots.reserve(capacity);
    }

    // The entry for key, made most recent; nullptr when absent.
    Value* find(const Key& key)
    {
        if (flat()) {
            for (slot& sl : m_slots) {
                if (sl.key == key) {
                    sl.stamp = ++m_clock;
                    return &sl.value;
                }
            }
            return nullptr;
        }
        auto it = m_index.find(key);
        if (it == m_index.end()) {
            return nullptr;
        }
        m_order.splice(m_order.begin(), m_order, it->second);
        return &it->second->second;
    }

    void insert(const Key& key, const Value& value)
    {
        if (m_capacity == 0) {
            return;
        }
        if (Value* existing = find(key)) {
            *existing = value;
            return;
        }
        if (flat()) {
            if (m_slots.size() < m_capacity) {
                m_slots.push_back({key, value, ++m_clock});
                return;
            }
            slot* oldest = &m_slots.front();
            for (slot& sl : m_slots) {
                if (sl.stamp < oldest->stamp) {
                    oldest = &sl;
                }
            }
            *oldest = slot{key, value, ++m_clock};
            return;
        }
        if (m_order.size() == m_capacity) {
            m_index.erase(m_order.back().first);
            m_order.pop_back();
        }
        m_order.emplace_front(key, value);
        m_index.emplace(key, m_order.begin());
    }

    void erase(const Key& key)
    {
        erase_if([&key](const Key& k, const Value&) { return k == key; });
    }

    template <typename Pred>
    void erase_if(Pred pred)
    {
        if (flat()) {
            m_slots.erase(std::remove_if(m_slots.begin(), m_slots.end(),
                                         [&pred](const slot& sl) { return pred(sl.key, sl.value); }),
                          m_slots.end());
            return;
        }
        for (auto it = m_order.begin(); it != m_order.end();) {
            if (pred(it->first, it->second)) {
                m_index.erase(it->first);
                it = m_order.erase(it);
            } else {
                ++it;
            }
        }
    }

    void clear()
    {
        m_slots.clear();
        m_order.clear();
        m_index.clear();
    }

    std::size_t size() const { return flat() ? m_slots.size() : m_order.size(); }

private:
    struct slot {
        Key key;
        Value value;
        uint64_t stamp;   // last use; the smallest is the least recently used
    };
    bool flat() const { return m_capacity <= flat_limit; }

    using entry_list = std::list<std::pair<Key, Value>>;
    std::size_t m_capacity;
    std::vector<slot> m_slots;
    uint64_t m_clock = 0;
    entry_list m_order;  // front is most recently used
    std::unordered_map<Key, typename entry_list::iterator> m_index;
};

}  // namespace detail

class translator {
public:
    translator(const translator_params& params, mem_port& mem);

    void set_root_table(uint64_t pa);     // RTADDR_REG
    void set_translation_enabled(bool);   // GCMD_REG.TE; disabled = addresses pass unchanged
    // False while addresses pass unchanged for every device (TE clear, or the unit-wide
    // pass-through parameter): the shell then bypasses the unit without a lookup.
    bool translating() const { return m_enabled && !m_params.pass_through; }

    translation translate(uint16_t requester_id, uint64_t iova, access acc);

    // Invalidation requests (VT-d 6.5 "Invalidation Mechanisms"). Software changes tables first,
    // then invalidates; until then the caches may keep serving the old entries, as hardware does.
    void invalidate_context_cache();
    void invalidate_iotlb_all();
    void invalidate_iotlb_domain(uint16_t domain);
    void invalidate_iotlb_page(uint16_t domain, uint64_t iova);  // the 4 KiB or 2 MiB entry

    const translator_stats& stats() const { return m_stats; }
    std::size_t iotlb_size() const { return m_iotlb.size(); }
    std::size_t context_cache_size() const { return m_context_cache.size(); }

    // Fault recording queue, oldest first; false when empty.
    bool pop_fault(fault_record& out);

private:
    // What the unit keeps of a valid, present context entry.
    struct cached_context {
        uint16_t domain;
        bool fpd;
        bool pass_through;
        unsigned levels;
        uint64_t table;   // SLPTPTR
    };
    struct iotlb_entry {
        uint64_t pa_base;  // page-aligned output address
        bool large;        // 2 MiB leaf
        bool read;
        bool write;
    };

    // Key of an IOTLB entry: DID in 63:48, large-page flag in bit 47, page number below.
    static uint64_t iotlb_key(uint16_t domain, uint64_t iova, bool large);

    translation fault(uint16_t rid, uint64_t iova, access acc, fault_reason reason,
                      uint16_t domain, bool fpd, bool iotlb_hit, unsigned reads);
    translation finish(uint16_t rid, uint64_t iova, access acc, const iotlb_entry& e,
                       uint16_t domain, bool fpd, bool iotlb_hit, unsigned reads);
    uint64_t read_table(uint64_t pa, unsigned& reads);

    translator_params m_params;
    mem_port& m_mem;
    uint64_t m_root_table = 0;
    bool m_enabled = false;
    detail::lru_map<uint16_t, cached_context> m_context_cache;
    detail::lru_map<uint64_t, iotlb_entry> m_iotlb;
    // Paging-structure cache (VT-d 6.2.2 "Caching Structures", the SL-PDE cache): for a 2 MiB
    // region, the last-level table and the rights granted above it, so an IOTLB miss inside a
    // region walked before reads one entry. Keyed like the IOTLB, by 2 MiB region.
    struct pde_entry {
        uint64_t table;
        bool read;
        bool write;
    };
    detail::lru_map<uint64_t, pde_entry> m_pde_cache;
    std::deque<fault_record> m_faults;
    translator_stats m_stats;
};

}  // namespace iovsim::iommu
