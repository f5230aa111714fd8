// The kernel's table builder writes real VT-d tables into a fake memory; the translator walks them.
#include "models/iommu/translator.h"
#include "models/iommu/vtd_format.h"
#include "os/kernel/io_page_tables.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using namespace iovsim::iommu;
using iovsim::os::kernel::io_page_tables;

constexpr uint64_t kib4 = 4096;
constexpr uint64_t mib2 = 2 * 1024 * 1024;

// Sparse memory: unwritten words read as zero. Serves both the hardware and the kernel side.
class fake_memory : public mem_port, public iovsim::os::kernel::phys_mem {
public:
    uint64_t read_u64(uint64_t pa) override
    {
        ++reads;
        auto it = words.find(pa);
        return it == words.end() ? 0 : it->second;
    }
    void write_u64(uint64_t pa, uint64_t v) override { words[pa] = v; }

    std::unordered_map<uint64_t, uint64_t> words;
    uint64_t reads = 0;
};

class bump_pages : public iovsim::os::kernel::page_source {
public:
    uint64_t alloc_zeroed_page() override
    {
        const uint64_t pa = next;
        next += kib4;
        ++allocated;
        return pa;
    }
    uint64_t next = 0x4000'0000;
    unsigned allocated = 0;
};

// A builder and a translator over one memory, translation enabled.
struct bench {
    explicit bench(unsigned levels, translator_params p = {}, bool large_pages = true)
        : tables(mem, pages, levels, large_pages), unit(p, mem)
    {
        unit.set_root_table(tables.root_table_pa());
        unit.set_translation_enabled(true);
    }
    translation rd(uint16_t rid, uint64_t iova) { return unit.translate(rid, iova, access::read); }
    translation wr(uint16_t rid, uint64_t iova) { return unit.translate(rid, iova, access::write); }

    fake_memory mem;
    bump_pages pages;
    io_page_tables tables;
    translator unit;
};

const uint16_t dev_a = make_requester_id(3, 0, 0);   // bus 3, dev 0, fn 0
const uint16_t dev_b = make_requester_id(3, 0x10, 1);
const uint16_t dev_other_bus = make_requester_id(7, 1, 0);

TEST(iommu_format, requester_id_and_entries)
{
    EXPECT_EQ(make_requester_id(0x12, 0x1f, 7), 0x12ff);
    EXPECT_EQ(requester_bus(0x12ff), 0x12);
    EXPECT_EQ(requester_devfn(0x12ff), 0xff);
    const auto ce = context_entry::make(translation_type::pass_through, 0x1234'5000,
                                        address_width::aw48, 0xbeef, true);
    EXPECT_TRUE(ce.present());
    EXPECT_TRUE(ce.fault_processing_disabled());
    EXPECT_EQ(ce.type(), translation_type::pass_through);
    EXPECT_EQ(ce.second_level_table(), 0x1234'5000u);
    EXPECT_EQ(ce.aw(), 2u);
    EXPECT_EQ(ce.domain(), 0xbeef);
    EXPECT_EQ(levels_for_aw(1), 3u);
    EXPECT_EQ(levels_for_aw(2), 4u);
    EXPECT_EQ(levels_for_aw(3), 0u);
    EXPECT_EQ(sl_pte::index(0x0000'ff80'0000'0000, 4), 511u);
    EXPECT_EQ(sl_pte::index(0x0000'0000'0020'1000, 2), 1u);
    EXPECT_EQ(sl_pte::index(0x0000'0000'0020'1000, 1), 1u);
}

TEST(iommu_builder, writes_vtd_layout)
{
    bench b(4);
    b.tables.attach(dev_a, 42);
    const uint64_t root = b.tables.root_table_pa();
    const root_entry re{b.mem.words[root_entry::address(root, 3)], 0};
    ASSERT_TRUE(re.present());
    const uint64_t ce_pa = context_entry::address(re.context_table(), requester_devfn(dev_a));
    const context_entry ce{b.mem.words[ce_pa], b.mem.words[ce_pa + 8]};
    EXPECT_TRUE(ce.present());
    EXPECT_FALSE(ce.fault_processing_disabled());
    EXPECT_EQ(ce.type(), translation_type::untranslated);
    EXPECT_EQ(ce.aw(), static_cast<uint64_t>(address_width::aw48));
    EXPECT_EQ(ce.domain(), 42);
    EXPECT_NE(ce.second_level_table(), 0u);
    // Other buses stay not present.
    EXPECT_EQ(b.mem.words.count(root_entry::address(root, 4)), 0u);
}

TEST(iommu_translate, cold_walk_then_iotlb_hit_4_level)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    b.tables.map(1, 0x7f12'3456'7000, 0x8'0000'3000, kib4, true, true);

    const translation cold = b.rd(dev_a, 0x7f12'3456'7abc);
    ASSERT_TRUE(cold.ok) << to_string(cold.fault);
    EXPECT_EQ(cold.pa, 0x8'0000'3abcu);
    EXPECT_EQ(cold.domain, 1);
    EXPECT_FALSE(cold.iotlb_hit);
    EXPECT_EQ(cold.table_reads, 6u);   // root, context, 4 PTEs
    EXPECT_EQ(cold.fault, fault_reason::none);

    b.mem.reads = 0;
    const translation warm = b.wr(dev_a, 0x7f12'3456'7008);
    ASSERT_TRUE(warm.ok);
    EXPECT_EQ(warm.pa, 0x8'0000'3008u);
    EXPECT_TRUE(warm.iotlb_hit);
    EXPECT_EQ(warm.table_reads, 0u);
    EXPECT_EQ(b.mem.reads, 0u);

    const translator_stats& s = b.unit.stats();
    EXPECT_EQ(s.lookups, 2u);
    EXPECT_EQ(s.iotlb_hits, 1u);
    EXPECT_EQ(s.iotlb_misses, 1u);
    EXPECT_EQ(s.table_reads, 6u);
    EXPECT_EQ(s.faults, 0u);
}

TEST(iommu_translate, three_level_walk_and_context_cache)
{
    bench b(3);
    b.tables.attach(dev_a, 5);
    b.tables.map(5, 0x10'0000, 0x20'0000'0000, 2 * kib4, true, false);
    const translation cold = b.rd(dev_a, 0x10'0000);
    ASSERT_TRUE(cold.ok);
    EXPECT_EQ(cold.table_reads, 5u);   // root, context, 3 PTEs
    EXPECT_EQ(cold.pa, 0x20'0000'0000u);
    // Next page: context cached, IOTLB miss, 3 PTE reads.
    const translation next = b.rd(dev_a, 0x10'1ff8);
    ASSERT_TRUE(next.ok);
    EXPECT_EQ(next.table_reads, 3u);
    EXPECT_FALSE(next.iotlb_hit);
    EXPECT_EQ(next.pa, 0x20'0000'1ff8u);
    EXPECT_EQ(b.unit.context_cache_size(), 1u);
    EXPECT_EQ(b.unit.iotlb_size(), 2u);
}

TEST(iommu_translate, large_page_2mib)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    b.tables.map(1, 0x4000'0000, 0x1'0000'0000, mib2, true, true);
    const translation cold = b.rd(dev_a, 0x4000'0000 + 0x1234);
    ASSERT_TRUE(cold.ok);
    EXPECT_EQ(cold.table_reads, 5u);   // root, context, levels 4, 3, 2
    EXPECT_EQ(cold.pa, 0x1'0000'1234u);
    // Anywhere in the 2 MiB, one IOTLB entry serves.
    const translation far = b.wr(dev_a, 0x4000'0000 + mib2 - 8);
    ASSERT_TRUE(far.ok);
    EXPECT_TRUE(far.iotlb_hit);
    EXPECT_EQ(far.pa, 0x1'0000'0000u + mib2 - 8);
    EXPECT_EQ(b.unit.iotlb_size(), 1u);
    uint64_t pa = 0;
    ASSERT_TRUE(b.tables.lookup(1, 0x4000'0000 + 0x10'0000, pa));
    EXPECT_EQ(pa, 0x1'0010'0000u);
    // Just beyond is not mapped.
    EXPECT_FALSE(b.tables.lookup(1, 0x4000'0000 + mib2, pa));
    EXPECT_EQ(b.rd(dev_a, 0x4000'0000 + mib2).fault, fault_reason::pte_not_present);
}

TEST(iommu_translate, large_pages_only_when_aligned_and_enabled)
{
    {
        bench b(4, {}, false);   // large pages off: 4 KiB leaves even for an aligned 2 MiB
        b.tables.attach(dev_a, 1);
        b.tables.map(1, 0x4000'0000, 0x1'0000'0000, mib2, true, true);
        EXPECT_EQ(b.rd(dev_a, 0x4000'0000).table_reads, 6u);
    }
    {
        bench b(4);              // pa not 2 MiB aligned: 4 KiB leaves
        b.tables.attach(dev_a, 1);
        b.tables.map(1, 0x4000'0000, 0x1'0000'1000, mib2, true, true);
        EXPECT_EQ(b.rd(dev_a, 0x4000'0000).table_reads, 6u);
        EXPECT_EQ(b.rd(dev_a, 0x4000'0000 + mib2 - kib4).pa, 0x1'0000'1000u + mib2 - kib4);
    }
    {
        bench b(4);              // 4 KiB + 2 MiB + 4 KiB: middle is one large page
        b.tables.attach(dev_a, 1);
        b.tables.map(1, 0x4000'0000 - kib4, 0x1'0000'0000 - kib4, mib2 + 2 * kib4, true, true);
        EXPECT_EQ(b.rd(dev_a, 0x4000'0000 - kib4).table_reads, 6u);
        EXPECT_EQ(b.rd(dev_a, 0x4000'0000).table_reads, 3u);   // context cached, 3 PTEs
        EXPECT_EQ(b.rd(dev_a, 0x4000'0000 + mib2).table_reads, 4u);
    }
}

TEST(iommu_translate, iotlb_lru_eviction_order)
{
    translator_params p;
    p.iotlb_entries = 2;
    bench b(4, p);
    b.tables.attach(dev_a, 1);
    b.tables.map(1, 0x1000, 0x9000'0000, 3 * kib4, true, true);
    const uint64_t iova_a = 0x1000, iova_b = 0x2000, iova_c = 0x3000;

    EXPECT_FALSE(b.rd(dev_a, iova_a).iotlb_hit);
    EXPECT_FALSE(b.rd(dev_a, iova_b).iotlb_hit);
    EXPECT_TRUE(b.rd(dev_a, iova_a).iotlb_hit);    // A now most recent, B least
    EXPECT_FALSE(b.rd(dev_a, iova_c).iotlb_hit);   // evicts B
    EXPECT_EQ(b.unit.iotlb_size(), 2u);
    EXPECT_TRUE(b.rd(dev_a, iova_a).iotlb_hit);
    EXPECT_TRUE(b.rd(dev_a, iova_c).iotlb_hit);
    const translation again_b = b.rd(dev_a, iova_b);   // evicted: walks, evicts A
    EXPECT_FALSE(again_b.iotlb_hit);
    EXPECT_EQ(again_b.table_reads, 4u);
    EXPECT_TRUE(b.rd(dev_a, iova_c).iotlb_hit);
    EXPECT_FALSE(b.rd(dev_a, iova_a).iotlb_hit);
    EXPECT_EQ(b.unit.stats().iotlb_hits, 4u);
    EXPECT_EQ(b.unit.stats().iotlb_misses, 5u);
}

TEST(iommu_translate, caches_disabled_walk_every_time)
{
    translator_params p;
    p.iotlb_entries = 0;
    p.context_cache_entries = 0;
    bench b(4, p);
    b.tables.attach(dev_a, 1);
    b.tables.map(1, 0x1000, 0x9000'0000, kib4, true, true);
    for (int i = 0; i < 3; ++i) {
        const translation t = b.rd(dev_a, 0x1000);
        ASSERT_TRUE(t.ok);
        EXPECT_EQ(t.table_reads, 6u);
    }
    EXPECT_EQ(b.unit.stats().table_reads, 18u);
    EXPECT_EQ(b.unit.iotlb_size(), 0u);
}

TEST(iommu_translate, context_cache_lru)
{
    translator_params p;
    p.context_cache_entries = 1;
    bench b(4, p);
    b.tables.attach(dev_a, 1);
    b.tables.attach(dev_b, 1);
    b.tables.map(1, 0x1000, 0x9000'0000, kib4, true, true);
    EXPECT_EQ(b.rd(dev_a, 0x1000).table_reads, 6u);
    // Same domain: B's context costs 2 reads, then the shared IOTLB entry hits.
    const translation tb = b.rd(dev_b, 0x1000);
    EXPECT_TRUE(tb.iotlb_hit);
    EXPECT_EQ(tb.table_reads, 2u);
    // A's context was evicted by B's.
    EXPECT_EQ(b.rd(dev_a, 0x1000).table_reads, 2u);
    EXPECT_EQ(b.rd(dev_a, 0x1000).table_reads, 0u);
}

TEST(iommu_faults, root_and_context_not_present)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    const translation no_root = b.rd(dev_other_bus, 0x1000);
    EXPECT_FALSE(no_root.ok);
    EXPECT_EQ(no_root.fault, fault_reason::root_not_present);
    EXPECT_EQ(no_root.table_reads, 1u);
    EXPECT_EQ(no_root.pa, 0u);

    const translation no_ctx = b.wr(dev_b, 0x2000);   // same bus as dev_a, other devfn
    EXPECT_FALSE(no_ctx.ok);
    EXPECT_EQ(no_ctx.fault, fault_reason::context_not_present);
    EXPECT_EQ(no_ctx.table_reads, 2u);
    // Not-present contexts are not cached: the next try walks again.
    EXPECT_EQ(b.rd(dev_b, 0x2000).table_reads, 2u);

    fault_record r{};
    ASSERT_TRUE(b.unit.pop_fault(r));
    EXPECT_EQ(r.requester_id, dev_other_bus);
    EXPECT_EQ(r.iova, 0x1000u);
    EXPECT_EQ(r.acc, access::read);
    EXPECT_EQ(r.reason, fault_reason::root_not_present);
    ASSERT_TRUE(b.unit.pop_fault(r));
    EXPECT_EQ(r.requester_id, dev_b);
    EXPECT_EQ(r.acc, access::write);
    EXPECT_EQ(r.reason, fault_reason::context_not_present);
    ASSERT_TRUE(b.unit.pop_fault(r));
    EXPECT_FALSE(b.unit.pop_fault(r));
    EXPECT_EQ(b.unit.stats().faults, 3u);
    EXPECT_EQ(b.unit.stats().table_reads, 5u);
}

// Overwrites dev_a's context entry as a buggy driver might.
void poke_context(bench& b, const context_entry& ce)
{
    const root_entry re{b.mem.words[root_entry::address(b.tables.root_table_pa(), 3)], 0};
    const uint64_t pa = context_entry::address(re.context_table(), requester_devfn(dev_a));
    b.mem.words[pa] = ce.lo;
    b.mem.words[pa + 8] = ce.hi;
}

TEST(iommu_faults, context_invalid)
{
    bench b(4);
    b.tables.attach(dev_a, 9);
    b.tables.map(9, 0x1000, 0x9000'0000, kib4, true, true);
    context_entry ce = context_entry::make(translation_type::reserved, 0, address_width::aw48, 9);
    poke_context(b, ce);
    translation t = b.rd(dev_a, 0x1000);
    EXPECT_EQ(t.fault, fault_reason::context_invalid);
    EXPECT_EQ(t.domain, 9);

    ce = context_entry::make(translation_type::all, 0, address_width::aw48, 9);  // no device-TLB
    poke_context(b, ce);
    EXPECT_EQ(b.rd(dev_a, 0x1000).fault, fault_reason::context_invalid);

    ce = context_entry::make(translation_type::untranslated, 0x5000, address_width::aw48, 9);
    ce.hi = (ce.hi & ~context_entry::hi_aw_mask) | 0b011;   // 57-bit, 5-level: unsupported
    poke_context(b, ce);
    EXPECT_EQ(b.rd(dev_a, 0x1000).fault, fault_reason::context_invalid);
    EXPECT_EQ(b.unit.context_cache_size(), 0u);
    EXPECT_EQ(b.unit.stats().faults, 3u);
}

TEST(iommu_faults, address_beyond_width)
{
    bench b3(3);
    b3.tables.attach(dev_a, 1);
    const translation t = b3.rd(dev_a, uint64_t{1} << 39);
    EXPECT_EQ(t.fault, fault_reason::address_beyond_width);
    EXPECT_EQ(t.table_reads, 2u);   // root and context only
    bench b4(4);
    b4.tables.attach(dev_a, 1);
    EXPECT_EQ(b4.rd(dev_a, uint64_t{1} << 39).fault, fault_reason::pte_not_present);
    EXPECT_EQ(b4.rd(dev_a, uint64_t{1} << 48).fault, fault_reason::address_beyond_width);
    EXPECT_EQ(b4.rd(dev_a, ~uint64_t{0}).fault, fault_reason::address_beyond_width);
}

TEST(iommu_faults, pte_not_present_at_each_depth)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    EXPECT_EQ(b.rd(dev_a, 0x1000).table_reads, 3u);   // root, context, empty level 4
    b.tables.map(1, 0x1000, 0x9000'0000, kib4, true, true);
    const translation t = b.rd(dev_a, 0x3000);          // same leaf table, empty slot
    EXPECT_EQ(t.fault, fault_reason::pte_not_present);
    EXPECT_EQ(t.table_reads, 4u);
    EXPECT_FALSE(t.ok);
    EXPECT_EQ(b.unit.iotlb_size(), 0u);   // faults are not cached
}

TEST(iommu_faults, permissions_and_cached_permission_fault)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    b.tables.map(1, 0x1000, 0x9000'0000, kib4, true, false);    // read-only
    b.tables.map(1, 0x2000, 0x9000'1000, kib4, false, true);    // write-only

    const translation w1 = b.wr(dev_a, 0x1000);
    EXPECT_FALSE(w1.ok);
    EXPECT_EQ(w1.fault, fault_reason::no_write_permission);
    EXPECT_EQ(w1.table_reads, 6u);
    // The leaf was cached: the next faulting write hits the IOTLB and reads nothing.
    const translation w2 = b.wr(dev_a, 0x1010);
    EXPECT_EQ(w2.fault, fault_reason::no_write_permission);
    EXPECT_TRUE(w2.iotlb_hit);
    EXPECT_EQ(w2.table_reads, 0u);
    EXPECT_TRUE(b.rd(dev_a, 0x1010).ok);

    const translation r = b.rd(dev_a, 0x2000);
    EXPECT_EQ(r.fault, fault_reason::no_read_permission);
    EXPECT_EQ(r.pa, 0u);
    EXPECT_EQ(b.wr(dev_a, 0x2000).pa, 0x9000'1000u);
    EXPECT_EQ(b.unit.stats().faults, 3u);
    EXPECT_EQ(b.unit.stats().iotlb_hits, 3u);
}

TEST(iommu_faults, rights_and_across_levels)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    b.tables.map(1, 0x1000, 0x9000'0000, kib4, true, true);
    // Strip W from the level-4 entry (index 0 of the top table): the leaf's W no longer counts.
    const root_entry re{b.mem.words[root_entry::address(b.tables.root_table_pa(), 3)], 0};
    const uint64_t ce_pa = context_entry::address(re.context_table(), requester_devfn(dev_a));
    const uint64_t top = context_entry{b.mem.words[ce_pa], b.mem.words[ce_pa + 8]}
                             .second_level_table();
    b.mem.words[top] &= ~sl_pte::w;
    EXPECT_EQ(b.wr(dev_a, 0x1000).fault, fault_reason::no_write_permission);
    EXPECT_TRUE(b.rd(dev_a, 0x1000).ok);
}

TEST(iommu_faults, reserved_large_page_bits)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    b.tables.map(1, 0x4000'0000, 0x1'0000'0000, mib2, true, true);
    b.tables.map(1, 0x8000'0000, 0x2'0000'0000, kib4, true, true);
    const root_entry re{b.mem.words[root_entry::address(b.tables.root_table_pa(), 3)], 0};
    const uint64_t ce_pa = context_entry::address(re.context_table(), requester_devfn(dev_a));
    const uint64_t top = context_entry{b.mem.words[ce_pa], b.mem.words[ce_pa + 8]}
                             .second_level_table();
    const uint64_t l3 = sl_pte::address(b.mem.words[top]);
    // Level-2 slot of the 2 MiB leaf: make its ADDR unaligned to 2 MiB.
    const uint64_t l2 = sl_pte::address(b.mem.words[l3 + sl_pte::index(0x4000'0000, 3) * 8]);
    b.mem.words[l2] |= 0x1000;
    const translation t = b.rd(dev_a, 0x4000'0000);
    EXPECT_EQ(t.fault, fault_reason::pte_reserved_bits);
    EXPECT_EQ(t.table_reads, 5u);
    // PS on a level-3 entry: 1 GiB pages are not supported.
    b.mem.words[l3 + sl_pte::index(0x8000'0000, 3) * 8] |= sl_pte::ps;
    EXPECT_EQ(b.rd(dev_a, 0x8000'0000).fault, fault_reason::pte_reserved_bits);
}

TEST(iommu_faults, fault_queue_overflow_and_order)
{
    translator_params p;
    p.max_fault_records = 2;
    bench b(4, p);
    for (uint64_t i = 0; i < 5; ++i) {
        EXPECT_FALSE(b.rd(dev_a, i * kib4).ok);   // nothing attached
    }
    EXPECT_EQ(b.unit.stats().faults, 5u);
    EXPECT_EQ(b.unit.stats().faults_dropped, 3u);
    fault_record r{};
    ASSERT_TRUE(b.unit.pop_fault(r));
    EXPECT_EQ(r.iova, 0u);
    ASSERT_TRUE(b.unit.pop_fault(r));
    EXPECT_EQ(r.iova, kib4);
    EXPECT_FALSE(b.unit.pop_fault(r));
    // Room again after draining.
    b.rd(dev_a, 0x9000);
    ASSERT_TRUE(b.unit.pop_fault(r));
    EXPECT_EQ(r.iova, 0x9000u);
    EXPECT_EQ(b.unit.stats().faults_dropped, 3u);
}

TEST(iommu_faults, zero_depth_queue_drops_everything)
{
    translator_params p;
    p.max_fault_records = 0;
    bench b(4, p);
    b.rd(dev_a, 0);
    fault_record r{};
    EXPECT_FALSE(b.unit.pop_fault(r));
    EXPECT_EQ(b.unit.stats().faults_dropped, 1u);
}

TEST(iommu_faults, fault_processing_disable)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    context_entry ce = context_entry::make(translation_type::untranslated, 0, address_width::aw48,
                                           1, true);
    ce.lo &= ~context_entry::lo_p;   // FPD counts even with P clear
    poke_context(b, ce);
    const translation t = b.rd(dev_a, 0x1000);
    EXPECT_EQ(t.fault, fault_reason::context_not_present);
    fault_record r{};
    EXPECT_FALSE(b.unit.pop_fault(r));
    EXPECT_EQ(b.unit.stats().faults, 1u);
    EXPECT_EQ(b.unit.stats().faults_dropped, 0u);

    ce.lo |= context_entry::lo_p;    // present, SLPTPTR 0 = empty table: PTE faults silenced too
    poke_context(b, ce);
    EXPECT_EQ(b.rd(dev_a, 0x1000).fault, fault_reason::pte_not_present);
    EXPECT_FALSE(b.unit.pop_fault(r));
    EXPECT_EQ(b.unit.stats().faults, 2u);
}

TEST(iommu_invalidate, unmap_then_page_invalidation_faults)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    b.tables.map(1, 0x10'0000, 0x9000'0000, 2 * kib4, true, true);
    ASSERT_TRUE(b.wr(dev_a, 0x10'0000).ok);
    ASSERT_TRUE(b.wr(dev_a, 0x10'1000).ok);
    const std::vector<uint64_t> gone = b.tables.unmap(1, 0x10'0000, kib4);
    EXPECT_EQ(gone, std::vector<uint64_t>{0x10'0000});
    // The IOTLB still holds the stale entry until software invalidates it.
    EXPECT_TRUE(b.wr(dev_a, 0x10'0000).iotlb_hit);
    for (uint64_t page : gone) {
        b.unit.invalidate_iotlb_page(1, page);
    }
    const translation t = b.wr(dev_a, 0x10'0000);
    EXPECT_FALSE(t.ok);
    EXPECT_EQ(t.fault, fault_reason::pte_not_present);
    EXPECT_TRUE(b.wr(dev_a, 0x10'1000).iotlb_hit);   // neighbour untouched
}

TEST(iommu_invalidate, page_invalidation_of_large_page)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    b.tables.map(1, 0x4000'0000, 0x1'0000'0000, mib2, true, true);
    ASSERT_TRUE(b.rd(dev_a, 0x4000'0000).ok);
    EXPECT_EQ(b.tables.unmap(1, 0x4000'0000, mib2), std::vector<uint64_t>{0x4000'0000});
    b.unit.invalidate_iotlb_page(1, 0x4000'0000 + 0x5000);   // any address inside the 2 MiB
    EXPECT_EQ(b.rd(dev_a, 0x4000'0000).fault, fault_reason::pte_not_present);
}

TEST(iommu_invalidate, domain_and_global)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    b.tables.attach(dev_b, 2);
    b.tables.map(1, 0x1000, 0x9000'0000, kib4, true, true);
    b.tables.map(2, 0x1000, 0xa000'0000, kib4, true, true);
    ASSERT_TRUE(b.rd(dev_a, 0x1000).ok);
    ASSERT_TRUE(b.rd(dev_b, 0x1000).ok);
    b.unit.invalidate_iotlb_domain(1);
    EXPECT_FALSE(b.rd(dev_a, 0x1000).iotlb_hit);
    EXPECT_TRUE(b.rd(dev_b, 0x1000).iotlb_hit);
    b.unit.invalidate_iotlb_all();
    EXPECT_EQ(b.unit.iotlb_size(), 0u);
    EXPECT_EQ(b.rd(dev_a, 0x1000).table_reads, 4u);   // contexts still cached
    b.unit.invalidate_context_cache();
    const translation t = b.rd(dev_a, 0x1000);
    EXPECT_EQ(t.table_reads, 2u);   // context re-read, then the IOTLB hits
    EXPECT_TRUE(t.iotlb_hit);
    // Out-of-range iova invalidation is harmless.
    b.unit.invalidate_iotlb_page(1, ~uint64_t{0});
    EXPECT_TRUE(b.rd(dev_a, 0x1000).iotlb_hit);
}

TEST(iommu_invalidate, detach_needs_context_and_iotlb_invalidation)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    b.tables.map(1, 0x1000, 0x9000'0000, kib4, true, true);
    ASSERT_TRUE(b.rd(dev_a, 0x1000).ok);
    b.tables.detach(dev_a);
    EXPECT_TRUE(b.rd(dev_a, 0x1000).ok);   // stale context and IOTLB
    b.unit.invalidate_context_cache();
    b.unit.invalidate_iotlb_domain(1);
    EXPECT_EQ(b.rd(dev_a, 0x1000).fault, fault_reason::context_not_present);
    // Reattaching finds the domain's mappings where they were.
    b.tables.attach(dev_a, 1);
    EXPECT_TRUE(b.rd(dev_a, 0x1000).ok);
}

TEST(iommu_translate, pass_through_context_unit_and_disabled)
{
    bench b(4);
    b.tables.attach_pass_through(dev_a, 7);
    const translation t = b.wr(dev_a, 0xdead'beef'f00d);
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.pa, 0xdead'beef'f00du);
    EXPECT_EQ(t.domain, 7);
    EXPECT_EQ(t.table_reads, 2u);
    EXPECT_EQ(b.wr(dev_a, 0x1000).table_reads, 0u);   // context cached
    uint64_t pa = 0;
    EXPECT_TRUE(b.tables.lookup(7, 0x1234, pa));
    EXPECT_EQ(pa, 0x1234u);
    EXPECT_EQ(b.unit.stats().iotlb_misses, 0u);

    // Translation disabled (GCMD.TE clear): everything passes, no reads.
    b.unit.set_translation_enabled(false);
    const translation off = b.rd(dev_other_bus, 0x5000);
    EXPECT_TRUE(off.ok);
    EXPECT_EQ(off.pa, 0x5000u);
    EXPECT_EQ(off.table_reads, 0u);

    translator_params p;
    p.pass_through = true;
    bench whole(4, p);
    const translation w = whole.rd(dev_other_bus, 0xabc000);
    EXPECT_TRUE(w.ok);
    EXPECT_EQ(w.pa, 0xabc000u);
    EXPECT_EQ(whole.mem.reads, 0u);
    EXPECT_EQ(whole.unit.stats().faults, 0u);
}

TEST(iommu_translate, two_domains_isolated)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    b.tables.attach(dev_b, 2);
    b.tables.map(1, 0x1000, 0x9000'0000, kib4, true, true);
    b.tables.map(1, 0x5000, 0x9000'5000, kib4, true, true);
    b.tables.map(2, 0x1000, 0xa000'0000, kib4, true, true);
    EXPECT_EQ(b.rd(dev_a, 0x1000).pa, 0x9000'0000u);
    EXPECT_EQ(b.rd(dev_b, 0x1000).pa, 0xa000'0000u);   // same iova, own domain's IOTLB entry
    EXPECT_EQ(b.rd(dev_a, 0x1000).pa, 0x9000'0000u);
    EXPECT_TRUE(b.rd(dev_a, 0x5000).ok);
    const translation t = b.rd(dev_b, 0x5000);         // A's mapping is invisible to B
    EXPECT_FALSE(t.ok);
    EXPECT_EQ(t.fault, fault_reason::pte_not_present);
    EXPECT_EQ(t.domain, 2);
    b.tables.unmap(2, 0x1000, kib4);
    b.unit.invalidate_iotlb_page(2, 0x1000);
    EXPECT_FALSE(b.rd(dev_b, 0x1000).ok);
    EXPECT_TRUE(b.rd(dev_a, 0x1000).ok);
}

TEST(iommu_translate, fault_reason_names_distinct)
{
    std::set<std::string> names;
    for (fault_reason r : {fault_reason::none, fault_reason::root_not_present,
                           fault_reason::context_not_present, fault_reason::context_invalid,
                           fault_reason::address_beyond_width, fault_reason::pte_not_present,
                           fault_reason::no_read_permission, fault_reason::no_write_permission,
                           fault_reason::pte_reserved_bits}) {
        names.insert(to_string(r));
    }
    EXPECT_EQ(names.size(), 9u);
    EXPECT_STREQ(to_string(fault_reason::no_write_permission), "no_write_permission");
}

TEST(iommu_builder, rejects_bad_input_and_leaves_tables_unchanged)
{
    bench b(3);
    fake_memory& m = b.mem;
    bump_pages pages;
    EXPECT_THROW(io_page_tables(m, pages, 5), std::invalid_argument);
    EXPECT_THROW(io_page_tables(m, pages, 2), std::invalid_argument);

    io_page_tables& t = b.tables;
    EXPECT_THROW(t.map(1, 0x1000, 0x2000, kib4, true, true), std::invalid_argument);  // unknown
    EXPECT_THROW(t.unmap(1, 0x1000, kib4), std::invalid_argument);
    uint64_t pa = 0;
    EXPECT_THROW(t.lookup(1, 0x1000, pa), std::invalid_argument);
    EXPECT_THROW(t.detach(dev_a), std::invalid_argument);

    t.attach(dev_a, 1);
    const unsigned allocated = b.pages.allocated;
    EXPECT_THROW(t.attach(dev_a, 2), std::invalid_argument);
    EXPECT_THROW(t.attach_pass_through(dev_a, 3), std::invalid_argument);
    EXPECT_THROW(t.map(1, 0x1001, 0x2000, kib4, true, true), std::invalid_argument);
    EXPECT_THROW(t.map(1, 0x1000, 0x2008, kib4, true, true), std::invalid_argument);
    EXPECT_THROW(t.map(1, 0x1000, 0x2000, 100, true, true), std::invalid_argument);
    EXPECT_THROW(t.map(1, 0x1000, 0x2000, 0, true, true), std::invalid_argument);
    EXPECT_THROW(t.map(1, 0x1000, 0x2000, kib4, false, false), std::invalid_argument);
    EXPECT_THROW(t.map(1, uint64_t{1} << 39, 0x2000, kib4, true, true), std::invalid_argument);
    EXPECT_THROW(t.map(1, (uint64_t{1} << 39) - kib4, 0x2000, 2 * kib4, true, true),
                 std::invalid_argument);
    EXPECT_THROW(t.map(1, 0x1000, uint64_t{1} << 52, kib4, true, true), std::invalid_argument);
    EXPECT_THROW(t.unmap(1, 0x1000, 0x800), std::invalid_argument);
    EXPECT_EQ(pages.allocated, 0u);
    EXPECT_EQ(b.pages.allocated, allocated);
    EXPECT_FALSE(t.has_domain(2));
    EXPECT_FALSE(t.has_domain(3));

    t.map(1, 0x10'0000, 0x9000'0000, 4 * kib4, true, true);
    const auto snapshot = m.words;
    // Remapping any page of it, even partly overlapping, fails and writes nothing.
    EXPECT_THROW(t.map(1, 0x10'3000, 0xa000'0000, kib4, true, true), std::invalid_argument);
    EXPECT_THROW(t.map(1, 0x0f'f000, 0xa000'0000, 2 * kib4, true, true), std::invalid_argument);
    EXPECT_THROW(t.map(1, 0, 0xa000'0000, mib2, true, true), std::invalid_argument);
    EXPECT_EQ(m.words, snapshot);
    // Beyond 3-level width, lookup just says no.
    EXPECT_FALSE(t.lookup(1, uint64_t{1} << 39, pa));

    // Pass-through and translated domains don't mix.
    t.attach_pass_through(dev_b, 7);
    EXPECT_THROW(t.map(7, 0x1000, 0x2000, kib4, true, true), std::invalid_argument);
    EXPECT_THROW(t.attach(dev_other_bus, 7), std::invalid_argument);
    EXPECT_THROW(t.attach_pass_through(dev_other_bus, 1), std::invalid_argument);
    uint16_t d = 0;
    EXPECT_TRUE(t.attached(dev_b, d));
    EXPECT_EQ(d, 7);
    EXPECT_FALSE(t.attached(dev_other_bus, d));
}

TEST(iommu_builder, unmap_cutting_large_page_is_rejected)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    b.tables.map(1, 0x4000'0000, 0x1'0000'0000, mib2, true, true);
    const auto snapshot = b.mem.words;
    EXPECT_THROW(b.tables.unmap(1, 0x4000'0000, kib4), std::invalid_argument);
    EXPECT_THROW(b.tables.unmap(1, 0x4000'0000 + mib2 - kib4, 2 * kib4), std::invalid_argument);
    EXPECT_THROW(b.tables.unmap(1, 0x3fff'f000, 2 * kib4), std::invalid_argument);
    EXPECT_EQ(b.mem.words, snapshot);
    uint64_t pa = 0;
    EXPECT_TRUE(b.tables.lookup(1, 0x4000'0000, pa));
    // A range that covers it fully, holes around it included, is fine.
    EXPECT_EQ(b.tables.unmap(1, 0x3fff'f000, mib2 + 2 * kib4),
              std::vector<uint64_t>{0x4000'0000});
}

TEST(iommu_builder, unmap_skips_holes_and_allows_remap)
{
    bench b(4);
    b.tables.create_domain(3);
    EXPECT_TRUE(b.tables.has_domain(3));
    EXPECT_FALSE(b.tables.has_domain(4));
    b.tables.map(3, 0x1000, 0x9000'1000, kib4, true, false);
    b.tables.map(3, 0x3000, 0x9000'3000, 2 * kib4, false, true);
    b.tables.map(3, 0x80'0000'0000, 0x9100'0000, kib4, true, true);   // other level-4 slot
    EXPECT_EQ(b.tables.unmap(3, 0, 0x100'0000'0000),
              (std::vector<uint64_t>{0x1000, 0x3000, 0x4000, 0x80'0000'0000}));
    uint64_t pa = 0;
    EXPECT_FALSE(b.tables.lookup(3, 0x3000, pa));
    EXPECT_TRUE(b.tables.unmap(3, 0x1000, kib4).empty());
    // Freed slots can be mapped again; tables are reused, no new pages for the same area.
    const unsigned before = b.pages.allocated;
    b.tables.map(3, 0x3000, 0x7000'0000, kib4, true, true);
    EXPECT_EQ(b.pages.allocated, before);
    ASSERT_TRUE(b.tables.lookup(3, 0x3010, pa));
    EXPECT_EQ(pa, 0x7000'0010u);
    // The device sees it once attached.
    b.tables.attach(dev_a, 3);
    EXPECT_EQ(b.wr(dev_a, 0x3010).pa, 0x7000'0010u);
}

TEST(iommu_builder, large_map_after_small_unmap_falls_back_to_small_pages)
{
    bench b(4);
    b.tables.attach(dev_a, 1);
    b.tables.map(1, 0x4000'0000, 0x1'0000'0000, kib4, true, true);
    b.tables.unmap(1, 0x4000'0000, kib4);
    b.tables.map(1, 0x4000'0000, 0x2'0000'0000, mib2, true, true);   // level-1 table in place
    EXPECT_EQ(b.rd(dev_a, 0x4000'0000 + mib2 - 1).pa, 0x2'0000'0000u + mib2 - 1);
    EXPECT_EQ(b.tables.unmap(1, 0x4000'0000, mib2).size(), 512u);
}

class bad_pages : public iovsim::os::kernel::page_source {
public:
    uint64_t alloc_zeroed_page() override { return 0x1234; }
};

TEST(iommu_builder, unaligned_page_from_source_is_reported)
{
    fake_memory m;
    bad_pages p;
    EXPECT_THROW(io_page_tables(m, p, 4), std::runtime_error);
}

}  // namespace

// The paging-structure cache: an IOTLB miss in a 2 MiB region walked before reads only the
// last-level entry; rights granted above are kept with it; IOTLB invalidation drops it.
TEST(iommu_translate, pde_cache_shortens_walks_in_a_walked_region)
{
    translator_params p;
    p.iotlb_entries = 1;          // every other page misses the IOTLB
    p.pde_cache_entries = 2;
    bench b(4, p, false);
    b.tables.attach(dev_a, 1);
    b.tables.map(1, 0x4000'0000, 0x9000'0000, 4 * kib4, true, false);

    EXPECT_EQ(b.rd(dev_a, 0x4000'0000).table_reads, 6u);   // root, context, 4 PTEs
    const translation second = b.rd(dev_a, 0x4000'1000);   // same 2 MiB region
    ASSERT_TRUE(second.ok);
    EXPECT_EQ(second.pa, 0x9000'1000u);
    EXPECT_EQ(second.table_reads, 1u);                      // the level-1 entry alone
    EXPECT_EQ(b.unit.stats().pde_hits, 1u);
    // The read-only mapping's rights still hold on the short walk.
    EXPECT_EQ(b.wr(dev_a, 0x4000'2000).fault, fault_reason::no_write_permission);

    // After a page-selective invalidation the region is walked from the top again.
    b.unit.invalidate_iotlb_page(1, 0x4000'3000);
    EXPECT_EQ(b.rd(dev_a, 0x4000'3000).table_reads, 4u);   // context still cached: 4 PTEs
    EXPECT_EQ(b.rd(dev_a, 0x4000'0000).table_reads, 1u);
}
