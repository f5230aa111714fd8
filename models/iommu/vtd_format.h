// DMA-remapping table formats shared by the IOMMU model and the kernel's IOMMU driver.
// Layout after the Intel VT-d specification, chapter 9 "Translation Structure Formats", legacy
// (non-scalable) mode: root table -> context table -> second-level page tables. Field names in
// comments are the specification's.
#pragma once

#include <cstdint>

namespace iovsim::iommu {

constexpr unsigned page_shift = 12;
constexpr uint64_t page_size = uint64_t{1} << page_shift;        // 4 KiB, every table is one page
constexpr unsigned large_page_shift = 21;
constexpr uint64_t large_page_size = uint64_t{1} << large_page_shift;  // 2 MiB leaf at level 2
constexpr unsigned bits_per_level = 9;
constexpr unsigned entries_per_table = 1u << bits_per_level;     // 512 8-byte PTEs per page

// Requester id (PCIe source id): bus in bits 15:8, device in 7:3, function in 2:0.
constexpr uint16_t make_requester_id(uint8_t bus, uint8_t devfn)
{
    return static_cast<uint16_t>((unsigned{bus} << 8) | devfn);
}
constexpr uint16_t make_requester_id(uint8_t bus, uint8_t dev, uint8_t fn)
{
    return make_requester_id(bus, static_cast<uint8_t>(((dev & 0x1fu) << 3) | (fn & 0x7u)));
}
constexpr uint8_t requester_bus(uint16_t rid) { return static_cast<uint8_t>(rid >> 8); }
constexpr uint8_t requester_devfn(uint16_t rid) { return static_cast<uint8_t>(rid & 0xff); }

// 9.1 Root Entry: 128 bits, one per bus; the root table (RTADDR_REG) holds 256 of them.
// Only the low quadword is defined in legacy mode; the high one is reserved (zero).
struct root_entry {
    static constexpr uint64_t bytes = 16;
    static constexpr uint64_t lo_p = uint64_t{1} << 0;        // P: present
    static constexpr uint64_t lo_ctp_mask = ~uint64_t{0xfff};  // CTP: context-table pointer, 63:12

    uint64_t lo = 0;
    uint64_t hi = 0;

    bool present() const { return (lo & lo_p) != 0; }
    uint64_t context_table() const { return lo & lo_ctp_mask; }

    static root_entry make(uint64_t context_table_pa)
    {
        return {(context_table_pa & lo_ctp_mask) | lo_p, 0};
    }
    static uint64_t address(uint64_t root_table_pa, uint8_t bus)
    {
        return root_table_pa + bus * bytes;
    }
};

// 9.3 Context Entry, T field: how requests from this device are processed.
enum class translation_type : uint8_t {
    untranslated = 0b00,   // untranslated requests go through the second-level tables
    all = 0b01,            // also translated requests (needs a device-TLB; not supported here)
    pass_through = 0b10,   // untranslated requests pass with pa = iova
    reserved = 0b11,
};

// 9.3 Context Entry, AW field: adjusted guest address width, which sets the walk depth.
enum class address_width : uint8_t {
    aw39 = 0b001,   // 39-bit, 3-level table
    aw48 = 0b010,   // 48-bit, 4-level table
};

// Levels of the second-level table for an AW encoding; 0 when this unit does not support it.
constexpr unsigned levels_for_aw(uint64_t aw)
{
    return aw == static_cast<uint64_t>(address_width::aw39)   ? 3
           : aw == static_cast<uint64_t>(address_width::aw48) ? 4
                                                              : 0;
}
constexpr address_width aw_for_levels(unsigned levels)
{
    return levels == 3 ? address_width::aw39 : address_width::aw48;
}
// Input address bits covered by a walk of that depth (39 or 48).
constexpr unsigned width_for_levels(unsigned levels) { return page_shift + bits_per_level * levels; }

// 9.3 Context Entry: 128 bits, one per devfn; a context table holds 256 of them.
struct context_entry {
    static constexpr uint64_t bytes = 16;
    static constexpr uint64_t lo_p = uint64_t{1} << 0;          // P: present
    static constexpr uint64_t lo_fpd = uint64_t{1} << 1;        // FPD: fault processing disable
    static constexpr unsigned lo_t_shift = 2;                    // T: translation type, 3:2
    static constexpr uint64_t lo_t_mask = uint64_t{0b11} << lo_t_shift;
    static constexpr uint64_t lo_slptptr_mask = ~uint64_t{0xfff};  // SLPTPTR: 63:12
    static constexpr uint64_t hi_aw_mask = 0b111;                // AW: address width, 2:0
    static constexpr unsigned hi_did_shift = 8;                  // DID: domain identifier, 23:8
    static constexpr uint64_t hi_did_mask = uint64_t{0xffff} << hi_did_shift;

    uint64_t lo = 0;
    uint64_t hi = 0;

    bool present() const { return (lo & lo_p) != 0; }
    bool fault_processing_disabled() const { return (lo & lo_fpd) != 0; }
    translation_type type() const
    {
        return static_cast<translation_type>((lo & lo_t_mask) >> lo_t_shift);
    }
    uint64_t second_level_table() const { return lo & lo_slptptr_mask; }
    uint64_t aw() const { return hi & hi_aw_mask; }
    uint16_t domain() const { return static_cast<uint16_t>((hi & hi_did_mask) >> hi_did_shift); }

    static context_entry make(translation_type t, uint64_t slptptr, address_width aw,
                              uint16_t domain, bool fpd = false)
    {
        context_entry e;
        e.lo = lo_p | (fpd ? lo_fpd : 0) | (uint64_t{static_cast<uint8_t>(t)} << lo_t_shift)
               | (slptptr & lo_slptptr_mask);
        e.hi = uint64_t{static_cast<uint8_t>(aw)} | (uint64_t{domain} << hi_did_shift);
        return e;
    }
    static uint64_t address(uint64_t context_table_pa, uint8_t devfn)
    {
        return context_table_pa + devfn * bytes;
    }
};

// 9.8 Second-Level Paging Entries. An entry with R and W both clear is not present; the access
// rights of a translation are the AND of R and W over every level walked.
struct sl_pte {
    static constexpr uint64_t bytes = 8;
    static constexpr uint64_t r = uint64_t{1} << 0;    // R: read
    static constexpr uint64_t w = uint64_t{1} << 1;    // W: write
    static constexpr uint64_t ps = uint64_t{1} << 7;   // PS: page size; at level 2 maps 2 MiB
    static constexpr uint64_t addr_mask = 0x000f'ffff'ffff'f000;  // ADDR: bits 51:12

    static bool present(uint64_t pte) { return (pte & (r | w)) != 0; }
    static uint64_t address(uint64_t pte) { return pte & addr_mask; }

    // Index of the entry for `iova` in a table at `level` (1 = leaf level of 4 KiB pages).
    static unsigned index(uint64_t iova, unsigned level)
    {
        return static_cast<unsigned>((iova >> level_shift(level)) & (entries_per_table - 1));
    }
    // log2 of the span one entry at `level` covers: 12, 21, 30, 39.
    static constexpr unsigned level_shift(unsigned level)
    {
        return page_shift + bits_per_level * (level - 1);
    }
};

}  // namespace iovsim::iommu
