#include "models/iommu/translator.h"

namespace iovsim::iommu {

const char* to_string(fault_reason r)
{
    switch (r) {
    case fault_reason::none: return "none";
    case fault_reason::root_not_present: return "root_not_present";
    case fault_reason::context_not_present: return "context_not_present";
    case fault_reason::context_invalid: return "context_invalid";
    case fault_reason::address_beyond_width: return "address_beyond_width";
    case fault_reason::pte_not_present: return "pte_not_present";
    case fault_reason::no_read_permission: return "no_read_permission";
    case fault_reason::no_write_permission: return "no_write_permission";
    case fault_reason::pte_reserved_bits: return "pte_reserved_bits";
    }
    return "unknown";
}

translator::translator(const translator_params& params, mem_port& mem)
    : m_params(params),
      m_mem(mem),
      m_context_cache(params.context_cache_entries),
      m_iotlb(params.iotlb_entries),
      m_pde_cache(params.pde_cache_entries)
{
}

void translator::set_root_table(uint64_t pa)
{
    // Software must invalidate globally after SRTP; stale entries of the old root table would
    // serve nobody, so the model drops them itself.
    m_root_table = pa & ~(page_size - 1);
    m_context_cache.clear();
    m_iotlb.clear();
    m_pde_cache.clear();
}

void translator::set_translation_enabled(bool enabled) { m_enabled = enabled; }

uint64_t translator::iotlb_key(uint16_t domain, uint64_t iova, bool large)
{
    const unsigned shift = large ? large_page_shift : page_shift;
    // iova is below 2^48 here (checked against AW first), so the page number fits in 36 bits.
    return (uint64_t{domain} << 48) | (uint64_t{large} << 47) | (iova >> shift);
}

uint64_t translator::read_table(uint64_t pa, unsigned& reads)
{
    ++reads;
    return m_mem.read_u64(pa);
}

translation translator::fault(uint16_t rid, uint64_t iova, access acc, fault_reason reason,
                              uint16_t domain, bool fpd, bool iotlb_hit, unsigned reads)
{
    ++m_stats.faults;
    m_stats.table_reads += reads;
    if (!fpd) {
        if (m_faults.size() < m_params.max_fault_records) {
            m_faults.push_back({rid, iova, acc, reason});
        } else {
            // Primary fault overflow (FSTS_REG.PFO): the record is lost, only counted.
            ++m_stats.faults_dropped;
        }
    }
    return {false, 0, domain, iotlb_hit, reads, reason};
}

translation translator::finish(uint16_t rid, uint64_t iova, access acc, const iotlb_entry& e,
                               uint16_t domain, bool fpd, bool iotlb_hit, unsigned reads)
{
    if (acc == access::read && !e.read) {
        return fault(rid, iova, acc, fault_reason::no_read_permission, domain, fpd, iotlb_hit,
                     reads);
    }
    if (acc == access::write && !e.write) {
        return fault(rid, iova, acc, fault_reason::no_write_permission, domain, fpd, iotlb_hit,
                     reads);
    }
    m_stats.table_reads += reads;
    const uint64_t offset_mask = (e.large ? large_page_size : page_size) - 1;
    return {true, e.pa_base | (iova & offset_mask), domain, iotlb_hit, reads, fault_reason::none};
}

translation translator::translate(uint16_t rid, uint64_t iova, access acc)
{
    ++m_stats.lookups;
    if (!m_enabled || m_params.pass_through) {
        return {true, iova, 0, false, 0, fault_reason::none};
    }

    unsigned reads = 0;
    cached_context ctx{};
    if (const cached_context* hit = m_context_cache.find(rid)) {
        ctx = *hit;
    } else {
        const root_entry root{read_table(root_entry::address(m_root_table, requester_bus(rid)),
                                         reads),
                              0};
        if (!root.present()) {
            return fault(rid, iova, acc, fault_reason::root_not_present, 0, false, false, reads);
        }
        // One 128-bit context entry fetch, counted as one table read.
        const uint64_t ce_pa = context_entry::address(root.context_table(), requester_devfn(rid));
        context_entry ce;
        ++reads;
        m_mem.read_u128(ce_pa, ce.lo, ce.hi);
        // FPD is honoured even when P is clear (VT-d 9.3), so software can silence a device.
        const bool fpd = ce.fault_processing_disabled();
        if (!ce.present()) {
            return fault(rid, iova, acc, fault_reason::context_not_present, 0, fpd, false, reads);
        }
        const translation_type t = ce.type();
        const unsigned levels = levels_for_aw(ce.aw());
        // T = 01 needs device-TLB support, which this unit does not report: reserved here.
        const bool t_ok = t == translation_type::untranslated || t == translation_type::pass_through;
        if (!t_ok || (t == translation_type::untranslated && levels == 0)) {
            return fault(rid, iova, acc, fault_reason::context_invalid, ce.domain(), fpd, false,
                         reads);
        }
        ctx = {ce.domain(), fpd, t == translation_type::pass_through, levels,
               ce.second_level_table()};
        m_context_cache.insert(rid, ctx);
    }

    if (ctx.pass_through) {
        m_stats.table_reads += reads;
        return {true, iova, ctx.domain, false, reads, fault_reason::none};
    }
    if ((iova >> width_for_levels(ctx.levels)) != 0) {
        return fault(rid, iova, acc, fault_reason::address_beyond_width, ctx.domain, ctx.fpd,
                     false, reads);
    }

    for (const bool large : {false, true}) {
        if (const iotlb_entry* e = m_iotlb.find(iotlb_key(ctx.domain, iova, large))) {
            ++m_stats.iotlb_hits;
            return finish(rid, iova, acc, *e, ctx.domain, ctx.fpd, true, reads);
        }
    }
    ++m_stats.iotlb_misses;

    uint64_t table = ctx.table;
    bool can_read = true;
    bool can_write = true;
    unsigned top = ctx.levels;
    const uint64_t region_key = iotlb_key(ctx.domain, iova, true);
    if (const pde_entry* pde = m_pde_cache.find(region_key)) {
        ++m_stats.pde_hits;
        table = pde->table;
        can_read = pde->read;
        can_write = pde->write;
        top = 1;
    }
    for (unsigned level = top; level >= 1; --level) {
        const uint64_t pte =
            read_table(table + sl_pte::index(iova, level) * sl_pte::bytes, reads);
        if (!sl_pte::present(pte)) {
            return fault(rid, iova, acc, fault_reason::pte_not_present, ctx.domain, ctx.fpd,
                         false, reads);
        }
        can_read = can_read && (pte & sl_pte::r) != 0;
        can_write = can_write && (pte & sl_pte::w) != 0;
        // PS is ignored in a 4 KiB leaf; above level 2 this unit supports no page size (SLLPS).
        const bool large = level > 1 && (pte & sl_pte::ps) != 0;
        if (large && (level != 2 || (sl_pte::address(pte) & (large_page_size - 1)) != 0)) {
            return fault(rid, iova, acc, fault_reason::pte_reserved_bits, ctx.domain, ctx.fpd,
                         false, reads);
        }
        if (level == 1 || large) {
            const iotlb_entry e{sl_pte::address(pte), large, can_read, can_write};
            // Cached even when this access lacks the right: the translation itself is valid.
            m_iotlb.insert(iotlb_key(ctx.domain, iova, large), e);
            return finish(rid, iova, acc, e, ctx.domain, ctx.fpd, false, reads);
        }
        table = sl_pte::address(pte);
        if (level == 2)
            m_pde_cache.insert(region_key, pde_entry{table, can_read, can_write});
    }
    // Unreachable: the loop returns at level 1 at the latest, and levels is 3 or 4.
    return fault(rid, iova, acc, fault_reason::context_invalid, ctx.domain, ctx.fpd, false, reads);
}

void translator::invalidate_context_cache() { m_context_cache.clear(); }

// IOTLB invalidations invalidate the paging-structure caches too (VT-d 6.5.1.2); a page-selective
// one drops the domain's cached tables, which is what the hardware may do at least.
void translator::invalidate_iotlb_all()
{
    m_iotlb.clear();
    m_pde_cache.clear();
}

void translator::invalidate_iotlb_domain(uint16_t domain)
{
    m_iotlb.erase_if([domain](uint64_t key, const iotlb_entry&) { return (key >> 48) == domain; });
    m_pde_cache.erase_if([domain](uint64_t key, const pde_entry&) { return (key >> 48) == domain; });
}

void translator::invalidate_iotlb_page(uint16_t domain, uint64_t iova)
{
    if ((iova >> 48) != 0) {
        return;  // no entry can exist for it; the key would alias another domain
    }
    m_iotlb.erase(iotlb_key(domain, iova, false));
    m_iotlb.erase(iotlb_key(domain, iova, true));
    m_pde_cache.erase_if([domain](uint64_t key, const pde_entry&) { return (key >> 48) == domain; });
}

bool translator::pop_fault(fault_record& out)
{
    if (m_faults.empty()) {
        return false;
    }
    out = m_faults.front();
    m_faults.pop_front();
    return true;
}

}  // namespace iovsim::iommu
