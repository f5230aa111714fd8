#include "os/kernel/io_page_tables.h"

#include "models/iommu/vtd_format.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace iovsim::os::kernel {

namespace vtd = iovsim::iommu;

namespace {

// Non-leaf entries grant everything; the leaf alone decides, since rights AND across levels.
constexpr uint64_t table_pointer_rights = vtd::sl_pte::r | vtd::sl_pte::w;

[[noreturn]] void invalid(const std::string& what)
{
    throw std::invalid_argument("io_page_tables: " + what);
}

std::string hex(uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    std::string s;
    do {
        s.insert(s.begin(), digits[v & 0xf]);
        v >>= 4;
    } while (v != 0);
    return "0x" + s;
}

}  // namespace

io_page_tables::io_page_tables(phys_mem& mem, page_source& pages, unsigned levels,
                               bool large_pages)
    : m_mem(mem), m_pages(pages), m_levels(levels), m_large_pages(large_pages)
{
    if (levels != 3 && levels != 4) {
        invalid("levels must be 3 or 4, got " + std::to_string(levels));
    }
    m_root = alloc_table();
}

uint64_t io_page_tables::address_limit() const
{
    return uint64_t{1} << vtd::width_for_levels(m_levels);
}

uint64_t io_page_tables::alloc_table()
{
    const uint64_t pa = m_pages.alloc_zeroed_page();
    // A table must be a whole page that an ADDR field (bits 51:12) can point to.
    if ((pa & ~vtd::sl_pte::addr_mask) != 0) {
        throw std::runtime_error("io_page_tables: page_source returned unusable page " + hex(pa));
    }
    return pa;
}

void io_page_tables::create_domain(uint16_t domain)
{
    domain_for_attach(domain, false);
}

bool io_page_tables::has_domain(uint16_t domain) const { return m_domains.count(domain) != 0; }

io_page_tables::domain_state& io_page_tables::domain_for_attach(uint16_t domain,
                                                                bool pass_through)
{
    auto it = m_domains.find(domain);
    if (it != m_domains.end()) {
        if (it->second.pass_through != pass_through) {
            invalid("domain " + std::to_string(domain) + " is already "
                    + (pass_through ? "translated" : "pass-through"));
        }
        return it->second;
    }
    const uint64_t top = pass_through ? 0 : alloc_table();
    return m_domains.emplace(domain, domain_state{pass_through, top}).first->second;
}

const io_page_tables::domain_state& io_page_tables::translated_domain(uint16_t domain) const
{
    auto it = m_domains.find(domain);
    if (it == m_domains.end()) {
        invalid("unknown domain " + std::to_string(domain));
    }
    if (it->second.pass_through) {
        invalid("domain " + std::to_string(domain) + " is pass-through and has no tables");
    }
    return it->second;
}

void io_page_tables::write_context(uint16_t requester_id, uint64_t lo, uint64_t hi)
{
    const uint8_t bus = vtd::requester_bus(requester_id);
    auto it = m_context_tables.find(bus);
    if (it == m_context_tables.end()) {
        const uint64_t table = alloc_table();
        const vtd::root_entry re = vtd::root_entry::make(table);
        const uint64_t re_pa = vtd::root_entry::address(m_root, bus);
        m_mem.write_u64(re_pa + 8, re.hi);
        m_mem.write_u64(re_pa, re.lo);
        it = m_context_tables.emplace(bus, table).first;
    }
    const uint64_t ce_pa = vtd::context_entry::address(it->second, vtd::requester_devfn(requester_id));
    // The quadword holding P goes last, so the unit never sees P with a stale DID or AW.
    m_mem.write_u64(ce_pa + 8, hi);
    m_mem.write_u64(ce_pa, lo);
}

void io_page_tables::attach(uint16_t requester_id, uint16_t domain)
{
    if (m_attached.count(requester_id) != 0) {
        invalid("requester " + hex(requester_id) + " is already attached");
    }
    const domain_state& d = domain_for_attach(domain, false);
    const auto ce = vtd::context_entry::make(vtd::translation_type::untranslated, d.top_table,
                                             vtd::aw_for_levels(m_levels), domain);
    write_context(requester_id, ce.lo, ce.hi);
    m_attached.emplace(requester_id, domain);
}

void io_page_tables::attach_pass_through(uint16_t requester_id, uint16_t domain)
{
    if (m_attached.count(requester_id) != 0) {
        invalid("requester " + hex(requester_id) + " is already attached");
    }
    domain_for_attach(domain, true);
    const auto ce = vtd::context_entry::make(vtd::translation_type::pass_through, 0,
                                             vtd::aw_for_levels(m_levels), domain);
    write_context(requester_id, ce.lo, ce.hi);
    m_attached.emplace(requester_id, domain);
}

void io_page_tables::detach(uint16_t requester_id)
{
    auto it = m_attached.find(requester_id);
    if (it == m_attached.end()) {
        invalid("requester " + hex(requester_id) + " is not attached");
    }
    const uint64_t ce_pa = vtd::context_entry::address(
        m_context_tables.at(vtd::requester_bus(requester_id)), vtd::requester_devfn(requester_id));
    // P is cleared first, the mirror of write_context.
    m_mem.write_u64(ce_pa, 0);
    m_mem.write_u64(ce_pa + 8, 0);
    m_attached.erase(it);
}

bool io_page_tables::attached(uint16_t requester_id, uint16_t& domain) const
{
    auto it = m_attached.find(requester_id);
    if (it == m_attached.end()) {
        return false;
    }
    domain = it->second;
    return true;
}

void io_page_tables::check_range(uint64_t iova, uint64_t len) const
{
    if (len == 0) {
        invalid("empty range at iova " + hex(iova));
    }
    if (((iova | len) & (vtd::page_size - 1)) != 0) {
        invalid("range " + hex(iova) + "+" + hex(len) + " is not 4 KiB aligned");
    }
    const uint64_t limit = address_limit();
    if (iova >= limit || len > limit - iova) {
        invalid("range " + hex(iova) + "+" + hex(len) + " is beyond the "
                + std::to_string(vtd::width_for_levels(m_levels)) + "-bit address width");
    }
}

io_page_tables::walk_stop io_page_tables::walk(uint64_t top_table, uint64_t iova) const
{
    uint64_t table = top_table;
    for (unsigned level = m_levels;; --level) {
        const uint64_t pte_pa = table + vtd::sl_pte::index(iova, level) * vtd::sl_pte::bytes;
        const uint64_t pte = m_mem.read_u64(pte_pa);
        if (!vtd::sl_pte::present(pte)) {
            return {pte_pa, pte, level, false};
        }
        if (level == 1 || (pte & vtd::sl_pte::ps) != 0) {
            return {pte_pa, pte, level, true};
        }
        table = vtd::sl_pte::address(pte);
    }
}

uint64_t io_page_tables::entry_for(uint64_t top_table, uint64_t iova, unsigned target_level)
{
    uint64_t table = top_table;
    for (unsigned level = m_levels; level > target_level; --level) {
        const uint64_t pte_pa = table + vtd::sl_pte::index(iova, level) * vtd::sl_pte::bytes;
        const uint64_t pte = m_mem.read_u64(pte_pa);
        if (!vtd::sl_pte::present(pte)) {
            table = alloc_table();
            m_mem.write_u64(pte_pa, table | table_pointer_rights);
        } else if ((pte & vtd::sl_pte::ps) != 0) {
            // map() checked the range is free, so only corrupted tables lead here.
            throw std::logic_error("io_page_tables: large page in the way at " + hex(iova));
        } else {
            table = vtd::sl_pte::address(pte);
        }
    }
    return table + vtd::sl_pte::index(iova, target_level) * vtd::sl_pte::bytes;
}

bool io_page_tables::any_mapped(uint64_t table, unsigned level, uint64_t base, uint64_t start,
                                uint64_t end) const
{
    const unsigned shift = vtd::sl_pte::level_shift(level);
    const uint64_t span = uint64_t{1} << shift;
    const uint64_t lo = std::max(start, base);
    const uint64_t hi = std::min(end, base + span * vtd::entries_per_table);  // exclusive
    for (uint64_t i = (lo - base) >> shift; i <= (hi - 1 - base) >> shift; ++i) {
        const uint64_t pte = m_mem.read_u64(table + i * vtd::sl_pte::bytes);
        if (!vtd::sl_pte::present(pte)) {
            continue;
        }
        if (level == 1 || (pte & vtd::sl_pte::ps) != 0) {
            return true;
        }
        if (any_mapped(vtd::sl_pte::address(pte), level - 1, base + i * span, start, end)) {
            return true;
        }
    }
    return false;
}

void io_page_tables::map(uint16_t domain, uint64_t iova, uint64_t pa, uint64_t len, bool read,
                         bool write)
{
    const uint64_t top = translated_domain(domain).top_table;
    check_range(iova, len);
    if (!read && !write) {
        invalid("mapping " + hex(iova) + " with neither read nor write would be not present");
    }
    if ((pa & (vtd::page_size - 1)) != 0) {
        invalid("pa " + hex(pa) + " is not 4 KiB aligned");
    }
    const uint64_t pa_limit = vtd::sl_pte::addr_mask + vtd::page_size;  // 2^52
    if (pa >= pa_limit || len > pa_limit - pa) {
        invalid("pa range " + hex(pa) + "+" + hex(len) + " is beyond 52 bits");
    }
    if (any_mapped(top, m_levels, 0, iova, iova + len)) {
        invalid("range " + hex(iova) + "+" + hex(len) + " of domain " + std::to_string(domain)
                + " is already mapped");
    }

    const uint64_t rights = (read ? vtd::sl_pte::r : 0) | (write ? vtd::sl_pte::w : 0);
    for (uint64_t off = 0; off < len;) {
        const uint64_t cur = iova + off;
        const uint64_t dst = pa + off;
        if (m_large_pages && ((cur | dst) & (vtd::large_page_size - 1)) == 0
            && len - off >= vtd::large_page_size) {
            const uint64_t slot = entry_for(top, cur, 2);
            // A present slot here is a level-1 table (emptied by unmaps): keep using it.
            if (!vtd::sl_pte::present(m_mem.read_u64(slot))) {
                m_mem.write_u64(slot, dst | vtd::sl_pte::ps | rights);
                off += vtd::large_page_size;
                continue;
            }
        }
        m_mem.write_u64(entry_for(top, cur, 1), dst | rights);
        off += vtd::page_size;
    }
}

std::vector<uint64_t> io_page_tables::unmap(uint16_t domain, uint64_t iova, uint64_t len)
{
    const uint64_t top = translated_domain(domain).top_table;
    check_range(iova, len);
    const uint64_t end = iova + len;
    // Only the ends can cut a large page; check both before changing anything.
    for (const uint64_t edge : {iova, end - 1}) {
        const walk_stop w = walk(top, edge);
        if (w.leaf && w.level > 1) {
            const uint64_t span = uint64_t{1} << vtd::sl_pte::level_shift(w.level);
            const uint64_t base = edge & ~(span - 1);
            if (base < iova || base + span > end) {
                invalid("range " + hex(iova) + "+" + hex(len) + " cuts the large page at "
                        + hex(base));
            }
        }
    }

    std::vector<uint64_t> unmapped;
    for (uint64_t pos = iova; pos < end;) {
        const walk_stop w = walk(top, pos);
        const uint64_t span = uint64_t{1} << vtd::sl_pte::level_shift(w.level);
        const uint64_t base = pos & ~(span - 1);
        if (w.leaf) {
            m_mem.write_u64(w.pte_pa, 0);
            unmapped.push_back(base);
        }
        // A non-present entry at a high level skips its whole span at once.
        pos = base + span;
    }
    return unmapped;
}

bool io_page_tables::lookup(uint16_t domain, uint64_t iova, uint64_t& pa) const
{
    auto it = m_domains.find(domain);
    if (it == m_domains.end()) {
        invalid("unknown domain " + std::to_string(domain));
    }
    if (it->second.pass_through) {
        pa = iova;
        return true;
    }
    if (iova >= address_limit()) {
        return false;
    }
    const walk_stop w = walk(it->second.top_table, iova);
    if (!w.leaf) {
        return false;
    }
    const uint64_t offset_mask = (uint64_t{1} << vtd::sl_pte::level_shift(w.level)) - 1;
    pa = (vtd::sl_pte::address(w.pte) & ~offset_mask) | (iova & offset_mask);
    return true;
}

}  // namespace iovsim::os::kernel
