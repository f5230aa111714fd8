// The kernel's IOMMU driver side: builds VT-d root, context and second-level tables in physical
// memory (layout in models/iommu/vtd_format.h) through phys_mem, knowing nothing of the model.
// It writes tables only; the caller invalidates the IOMMU's caches after detach and unmap.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace iovsim::os::kernel {

struct phys_mem {
    virtual ~phys_mem() = default;
    virtual uint64_t read_u64(uint64_t pa) = 0;
    virtual void write_u64(uint64_t pa, uint64_t v) = 0;
};

// Hands out 4 KiB-aligned pages that are already zero (a fresh table has no present entry).
struct page_source {
    virtual ~page_source() = default;
    virtual uint64_t alloc_zeroed_page() = 0;
};

// Every misuse (misaligned range, remapping a mapped page, unknown domain or device, a range
// beyond the address width) throws std::invalid_argument and leaves the tables unchanged.
class io_page_tables {
public:
    // levels: 3 (39-bit AW) or 4 (48-bit AW). large_pages: map 2 MiB leaves where iova, pa and
    // length allow, which shortens walks and stretches IOTLB reach.
    io_page_tables(phys_mem& mem, page_source& pages, unsigned levels, bool large_pages = true);

    uint64_t root_table_pa() const { return m_root; }   // for RTADDR_REG
    unsigned levels() const { return m_levels; }
    uint64_t address_limit() const;                     // first iova beyond the width

    // A domain exists once created or attached; map/unmap/lookup need one.
    void create_domain(uint16_t domain);
    bool has_domain(uint16_t domain) const;

    // Context entry of requester_id -> the domain's tables (T = 00). Creates the domain if new.
    void attach(uint16_t requester_id, uint16_t domain);
    // Context entry with T = 10: the device's DMA is not translated. The domain then has no
    // tables; it cannot be mapped nor used for a translated attach.
    void attach_pass_through(uint16_t requester_id, uint16_t domain);
    // Clears the context entry. The domain and its mappings stay.
    void detach(uint16_t requester_id);
    bool attached(uint16_t requester_id, uint16_t& domain) const;

    // iova, pa and len multiples of 4 KiB, len > 0, at least one of read and write.
    void map(uint16_t domain, uint64_t iova, uint64_t pa, uint64_t len, bool read, bool write);
    // Returns the iova of each page (4 KiB or 2 MiB) it unmapped, ascending; holes in the range
    // are skipped. A range that cuts a 2 MiB page is misaligned.
    std::vector<uint64_t> unmap(uint16_t domain, uint64_t iova, uint64_t len);
    // Software walk: false when iova is not mapped. Pass-through domains give pa = iova.
    bool lookup(uint16_t domain, uint64_t iova, uint64_t& pa) const;

private:
    struct domain_state {
        bool pass_through;
        uint64_t top_table;   // SLPTPTR, 0 for pass-through
    };
    // Where a software walk for an iova stopped.
    struct walk_stop {
        uint64_t pte_pa;     // the entry's address
        uint64_t pte;
        unsigned level;      // level of that entry
        bool leaf;           // true: a present leaf; false: a non-present entry
    };

    uint64_t alloc_table();
    const domain_state& translated_domain(uint16_t domain) const;
    walk_stop walk(uint64_t top_table, uint64_t iova) const;
    // Address of the entry at target_level for iova, creating tables on the way down.
    uint64_t entry_for(uint64_t top_table, uint64_t iova, unsigned target_level);
    // True when any page of [start, end) is mapped below the table at `level` based at `base`.
    bool any_mapped(uint64_t table, unsigned level, uint64_t base, uint64_t start,
                    uint64_t end) const;
    void check_range(uint64_t iova, uint64_t len) const;
    void write_context(uint16_t requester_id, uint64_t lo, uint64_t hi);
    domain_state& domain_for_attach(uint16_t domain, bool pass_through);

    phys_mem& m_mem;
    page_source& m_pages;
    unsigned m_levels;
    bool m_large_pages;
    uint64_t m_root = 0;
    std::map<uint8_t, uint64_t> m_context_tables;   // bus -> context table
    std::map<uint16_t, uint16_t> m_attached;        // requester id -> domain
    std::map<uint16_t, domain_state> m_domains;
};

}  // namespace iovsim::os::kernel
