// Model tests of the VT-d remapping unit's SystemC shell: a fake DMA initiator -> iommu -> root
// complex -> DRAM, with the kernel's table builder writing real tables into the DRAM model and a
// core programming the unit's registers by MMIO. Times follow from the parameters exactly.
//
// SystemC elaborates once per process: each TEST builds its own bench and runs sc_start once;
// run them one per process (ctest does; by hand use --gtest_filter).
#include <gtest/gtest.h>

#include "tests/support/model_bench.h"

#include <cstring>
#include <functional>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/iommu/iommu.h"
#include "models/iommu/iommu_regs.h"
#include "models/platform/address_map.h"
#include "models/platform/dram.h"
#include "models/platform/root_complex.h"
#include "models/platform/tlm_ext.h"
#include "os/kernel/io_page_tables.h"

using namespace sc_core;
using namespace iovsim::models;
using namespace iovsim::iommu;
namespace r = iovsim::iommu::regs;
using iovsim::os::kernel::io_page_tables;

using iovsim::testing::ns;
using iovsim::testing::master;
using iovsim::testing::strict_reports;

namespace {

using dram_phys_mem = iovsim::testing::dram_phys_mem;
struct bump_pages : iovsim::testing::bump_pages {
    bump_pages() : iovsim::testing::bump_pages(0x80000) {}
};


struct fake_irq : irq_sink {
    std::vector<unsigned> vectors;
    void deliver_irq(unsigned vector, const sc_time&) override { vectors.push_back(vector); }
};

// DRAM 1 byte/ns, 50 ns latency: an 8-byte table read costs 58 ns, a 16-byte one 66 ns.
dram_params test_dram()
{
    dram_params p;
    p.size_bytes = 4 << 20;
    p.access_latency = ns(50);
    p.bandwidth_gbps = 8.0;
    return p;
}
const sc_time pte_read = ns(8 + 50);
const sc_time context_read = ns(16 + 50);
const sc_time lookup = ns(2);

const uint16_t dev_rid = make_requester_id(1, 0x10, 0);
const uint16_t other_rid = make_requester_id(1, 0x10, 1);
constexpr uint16_t dev_domain = 5;

struct iommu_bench {
    dram mem{"mem", test_dram()};
    root_complex rc{"rc", test_dram().size_bytes};
    iommu unit;
    master dev{"dev"};
    master cpu{"cpu"};
    fake_irq core0;
    dram_phys_mem phys{mem};
    bump_pages pages;
    io_page_tables tables{phys, pages, 4};
    std::function<void()> body;

    explicit iommu_bench(iommu_params p = {}) : unit("iommu", p)
    {
        strict_reports();
        dev.socket.bind(unit.dma_in);
        unit.mem_out.bind(rc.dma_target);
        rc.mem_init.bind(mem.target);
        cpu.socket.bind(rc.cpu_target);
        rc.mmio_init.bind(unit.reg_target);
        rc.map_mmio(iommu_reg_base, iommu_reg_size, 0, "iommu");
        rc.attach_core(0, core0);
    }
    void run(std::function<void()> f)
    {
        body = std::move(f);
        sc_spawn([this] { body(); }, "test_driver");
        sc_start();
    }

    // Core-side register access; waits for the access like an uncached load or store would.
    uint32_t rd(uint32_t off)
    {
        uint32_t v = 0;
        sc_time d = SC_ZERO_TIME;
        EXPECT_EQ(cpu.access(tlm::TLM_READ_COMMAND, iommu_reg_base + off, &v, 4, d), tlm::TLM_OK_RESPONSE)
            << "register " << off;
        wait(d);
        return v;
    }
    void wr(uint32_t off, uint32_t v)
    {
        sc_time d = SC_ZERO_TIME;
        EXPECT_EQ(cpu.access(tlm::TLM_WRITE_COMMAND, iommu_reg_base + off, &v, 4, d), tlm::TLM_OK_RESPONSE)
            << "register " << off;
        wait(d);
    }
    // The kernel's enable sequence: root table pointer, then translation.
    void enable()
    {
        const uint64_t rta = tables.root_table_pa();
        wr(r::RTADDR_REG, static_cast<uint32_t>(rta));
        wr(r::RTADDR_REG + 4, static_cast<uint32_t>(rta >> 32));
        wr(r::GCMD_REG, r::GCMD_SRTP);
        EXPECT_EQ(rd(r::GSTS_REG) & r::GSTS_RTPS, r::GSTS_RTPS);
        wr(r::GCMD_REG, r::GCMD_TE);
        EXPECT_EQ(rd(r::GSTS_REG), r::GSTS_RTPS | r::GSTS_TES);
    }
    // A DMA of the device; returns the response and the delay (the device does not wait).
    tlm::tlm_response_status dma(tlm::tlm_command cmd, uint64_t iova, void* data, unsigned len,
                                 sc_time& delay, uint16_t rid = dev_rid, bool* fault = nullptr)
    {
        pcie_ext ext;
        ext.requester_id = rid;
        delay = SC_ZERO_TIME;
        const auto st = dev.access(cmd, iova, data, len, delay, &ext);
        if (fault)
            *fault = ext.iommu_fault;
        return st;
    }
    void invalidate_iotlb(unsigned granularity, uint16_t domain, uint64_t iova = 0)
    {
        wr(r::IVA_REG, static_cast<uint32_t>(iova));
        wr(r::IVA_REG + 4, static_cast<uint32_t>(iova >> 32));
        wr(r::IOTLB_REG, 0);
        wr(r::IOTLB_REG + 4, r::IOTLB_IVT_HI | granularity << r::IOTLB_IIRG_SHIFT_HI | domain);
        EXPECT_EQ(rd(r::IOTLB_REG + 4) & r::IOTLB_IVT_HI, 0u);   // completed at once
    }
};

TEST(iommu_model, translated_dma_lands_at_mapped_address)
{
    iommu_bench b;
    b.tables.attach(dev_rid, dev_domain);
    b.tables.map(dev_domain, 0x4000'0000, 0x20000, 0x1000, true, true);
    b.run([&] {
        b.enable();
        std::vector<uint8_t> data(64);
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<uint8_t>(0x30 + i);
        sc_time d;
        bool fault = true;
        EXPECT_EQ(b.dma(tlm::TLM_WRITE_COMMAND, 0x4000'0040, data.data(), 64, d, dev_rid, &fault),
                  tlm::TLM_OK_RESPONSE);
        EXPECT_FALSE(fault);
        wait(d);
        wait(SC_ZERO_TIME);
        EXPECT_EQ(std::memcmp(b.mem.host_ptr(0x20040, 64), data.data(), 64), 0);
        // The iova itself, an identity address, was not written.
        EXPECT_EQ(b.mem.bytes_written(), 64u);
        // And reading back through the unit gives the same bytes.
        std::vector<uint8_t> back(64);
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'0040, back.data(), 64, d), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(back, data);
        EXPECT_EQ(b.unit.stats().iotlb_hits, 1u);
        EXPECT_EQ(b.unit.blocked(), 0u);
    });
}

TEST(iommu_model, miss_costs_its_table_reads_in_dram_time)
{
    iommu_bench b;
    b.tables.attach(dev_rid, dev_domain);
    b.tables.map(dev_domain, 0x4000'0000, 0x20000, 0x2000, true, true);
    b.run([&] {
        b.enable();
        uint8_t buf[32] = {};
        const sc_time data_access = ns(32 + 50);
        sc_time d;
        // Cold: root entry (8 bytes), context entry (one 16-byte fetch), 4 levels of PTEs.
        uint64_t reads0 = b.unit.stats().table_reads;
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'0000, buf, 32, d), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.unit.stats().table_reads - reads0, 6u);
        EXPECT_EQ(d, lookup + pte_read + context_read + 4 * pte_read + data_access);
        wait(ns(1000));
        // Hit: the lookup alone.
        reads0 = b.unit.stats().table_reads;
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'0100, buf, 32, d), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.unit.stats().table_reads - reads0, 0u);
        const sc_time hit = d;
        EXPECT_EQ(hit, lookup + data_access);
        wait(ns(1000));
        // IOTLB miss with the context cached: one DRAM access per level more than a hit.
        reads0 = b.unit.stats().table_reads;
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'1000, buf, 32, d), tlm::TLM_OK_RESPONSE);
        const uint64_t walked = b.unit.stats().table_reads - reads0;
        EXPECT_EQ(walked, 4u);
        EXPECT_EQ(d - hit, static_cast<double>(walked) * pte_read);
        EXPECT_EQ(b.unit.stats().iotlb_misses, 2u);
        EXPECT_EQ(b.unit.stats().iotlb_hits, 1u);
    });
}

TEST(iommu_model, dma_across_page_boundary_into_noncontiguous_pages)
{
    iommu_bench b;
    b.tables.attach(dev_rid, dev_domain);
    // Two consecutive iova pages backed by pages far apart, in reverse order.
    b.tables.map(dev_domain, 0x1000'0000, 0x30000, 0x1000, true, true);
    b.tables.map(dev_domain, 0x1000'1000, 0x10000, 0x1000, true, true);
    b.run([&] {
        b.enable();
        std::vector<uint8_t> data(512);
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<uint8_t>(i * 7 + 1);
        sc_time d;
        EXPECT_EQ(b.dma(tlm::TLM_WRITE_COMMAND, 0x1000'0F00, data.data(), 512, d), tlm::TLM_OK_RESPONSE);
        wait(d);
        wait(SC_ZERO_TIME);
        EXPECT_EQ(std::memcmp(b.mem.host_ptr(0x30F00, 256), data.data(), 256), 0);
        EXPECT_EQ(std::memcmp(b.mem.host_ptr(0x10000, 256), data.data() + 256, 256), 0);
        // Nothing spilled past the first page into its physical neighbour.
        EXPECT_EQ(b.mem.host_ptr(0x31000, 1)[0], 0);
        EXPECT_EQ(b.mem.bytes_written(), 512u);
        std::vector<uint8_t> back(512);
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x1000'0F00, back.data(), 512, d), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(back, data);
        EXPECT_EQ(b.unit.stats().iotlb_hits, 2u);   // the read hit both pages
    });
}

TEST(iommu_model, unmapped_dma_faults_writes_nothing_and_is_recorded)
{
    iommu_bench b;
    b.tables.attach(dev_rid, dev_domain);
    b.tables.map(dev_domain, 0x4000'0000, 0x20000, 0x1000, true, false);   // read-only page
    b.run([&] {
        b.enable();
        EXPECT_EQ(b.rd(r::FSTS_REG), 0u);
        EXPECT_EQ(b.rd(r::FRCD_INFO), 0u);
        uint8_t data[16];
        std::memset(data, 0xEE, sizeof data);
        sc_time d;
        bool fault = false;
        // 1: a write to an unmapped iova.
        EXPECT_EQ(b.dma(tlm::TLM_WRITE_COMMAND, 0x5000'0123, data, 16, d, dev_rid, &fault),
                  tlm::TLM_GENERIC_ERROR_RESPONSE);
        EXPECT_TRUE(fault);
        // 2: a write to the read-only page.
        EXPECT_EQ(b.dma(tlm::TLM_WRITE_COMMAND, 0x4000'0010, data, 16, d), tlm::TLM_GENERIC_ERROR_RESPONSE);
        // 3: a read from a device with no context entry.
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'0010, data, 16, d, other_rid), tlm::TLM_GENERIC_ERROR_RESPONSE);
        // 4: a transaction whose second page is unmapped faults whole: its first page is not written.
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'0FF8, data, 16, d), tlm::TLM_GENERIC_ERROR_RESPONSE);
        wait(ns(2000));
        EXPECT_EQ(b.mem.bytes_written(), 0u);
        EXPECT_EQ(b.mem.host_ptr(0x20010, 1)[0], 0);
        EXPECT_EQ(b.unit.blocked(), 4u);
        EXPECT_EQ(b.unit.stats().faults, 4u);

        struct expected { uint64_t iova; uint16_t rid; fault_reason reason; bool read; };
        const expected want[] = {
            {0x5000'0123, dev_rid, fault_reason::pte_not_present, false},
            {0x4000'0010, dev_rid, fault_reason::no_write_permission, false},
            {0x4000'0010, other_rid, fault_reason::context_not_present, true},
            {0x4000'1000, dev_rid, fault_reason::pte_not_present, true},
        };
        for (const expected& w : want) {
            EXPECT_EQ(b.rd(r::FSTS_REG) & r::FSTS_PPF, r::FSTS_PPF);
            EXPECT_EQ(b.rd(r::FRCD_ADDR_LO), static_cast<uint32_t>(w.iova));
            EXPECT_EQ(b.rd(r::FRCD_ADDR_HI), static_cast<uint32_t>(w.iova >> 32));
            const uint32_t info = b.rd(r::FRCD_INFO);
            EXPECT_EQ(info & r::FRCD_F, r::FRCD_F);
            EXPECT_EQ(info & 0xFFFF, w.rid);
            EXPECT_EQ((info >> 16) & 0xFF, static_cast<uint32_t>(w.reason)) << to_string(w.reason);
            EXPECT_EQ((info & r::FRCD_T_READ) != 0, w.read);
            // Reading again shows the same record: only writing F pops it.
            EXPECT_EQ(b.rd(r::FRCD_INFO), info);
            b.wr(r::FRCD_INFO, r::FRCD_F);
        }
        EXPECT_EQ(b.rd(r::FSTS_REG), 0u);
        EXPECT_EQ(b.rd(r::FRCD_INFO), 0u);
        EXPECT_EQ(b.rd(r::FRCD_ADDR_LO), 0u);
    });
}

TEST(iommu_model, iotlb_invalidation_by_page_domain_and_global)
{
    iommu_bench b;
    b.tables.attach(dev_rid, dev_domain);
    b.tables.map(dev_domain, 0x4000'0000, 0x20000, 0x3000, true, true);
    b.run([&] {
        b.enable();
        uint32_t v = 0;
        sc_time d;
        for (uint64_t page = 0; page < 3; ++page)
            EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'0000 + page * 0x1000, &v, 4, d), tlm::TLM_OK_RESPONSE);
        b.tables.unmap(dev_domain, 0x4000'0000, 0x3000);
        // Until software invalidates, the IOTLB still serves the old translations, as hardware does.
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'0000, &v, 4, d), tlm::TLM_OK_RESPONSE);
        // Page-selective: only that page goes.
        b.invalidate_iotlb(3, dev_domain, 0x4000'0000);
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'0000, &v, 4, d), tlm::TLM_GENERIC_ERROR_RESPONSE);
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'1000, &v, 4, d), tlm::TLM_OK_RESPONSE);
        // Another domain's invalidation leaves ours alone; our domain's clears it.
        b.invalidate_iotlb(2, dev_domain + 1);
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'1000, &v, 4, d), tlm::TLM_OK_RESPONSE);
        b.invalidate_iotlb(2, dev_domain);
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'1000, &v, 4, d), tlm::TLM_GENERIC_ERROR_RESPONSE);
        // Page 2 is still cached; only a global invalidation drops it.
        b.invalidate_iotlb(2, dev_domain + 1);
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'2000, &v, 4, d), tlm::TLM_GENERIC_ERROR_RESPONSE)
            << "the domain invalidation dropped page 2 as well";
    });
}

TEST(iommu_model, global_iotlb_invalidation)
{
    iommu_bench b;
    b.tables.attach(dev_rid, dev_domain);
    b.tables.map(dev_domain, 0x4000'0000, 0x20000, 0x1000, true, true);
    b.run([&] {
        b.enable();
        uint32_t v = 0;
        sc_time d;
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'0000, &v, 4, d), tlm::TLM_OK_RESPONSE);
        b.tables.unmap(dev_domain, 0x4000'0000, 0x1000);
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'0000, &v, 4, d), tlm::TLM_OK_RESPONSE);
        b.invalidate_iotlb(1, 0);
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'0000, &v, 4, d), tlm::TLM_GENERIC_ERROR_RESPONSE);
    });
}

TEST(iommu_model, stale_translation_served_until_page_invalidation)
{
    iommu_bench b;
    b.tables.attach(dev_rid, dev_domain);
    b.tables.map(dev_domain, 0x4000'0000, 0x22000, 0x1000, true, true);
    b.run([&] {
        b.enable();
        std::memcpy(b.mem.host_ptr(0x22000, 4), "OLD!", 4);
        std::memcpy(b.mem.host_ptr(0x50000, 4), "NEW!", 4);
        char got[4];
        sc_time d;
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'0000, got, 4, d), tlm::TLM_OK_RESPONSE);
        b.tables.unmap(dev_domain, 0x4000'0000, 0x1000);
        b.tables.map(dev_domain, 0x4000'0000, 0x50000, 0x1000, true, true);
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'0000, got, 4, d), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(std::memcmp(got, "OLD!", 4), 0);
        b.invalidate_iotlb(3, dev_domain, 0x4000'0000);
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'0000, got, 4, d), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(std::memcmp(got, "NEW!", 4), 0);
    });
}

TEST(iommu_model, msi_window_passes_untranslated)
{
    iommu_bench b;
    b.tables.attach(dev_rid, dev_domain);   // nothing mapped at all
    b.run([&] {
        b.enable();
        uint32_t vector = 0x33;
        sc_time d;
        bool fault = true;
        EXPECT_EQ(b.dma(tlm::TLM_WRITE_COMMAND, msi_base, &vector, 4, d, dev_rid, &fault), tlm::TLM_OK_RESPONSE);
        EXPECT_FALSE(fault);
        ASSERT_EQ(b.core0.vectors.size(), 1u);
        EXPECT_EQ(b.core0.vectors[0], 0x33u);
        EXPECT_EQ(b.unit.stats().lookups, 0u);
        EXPECT_EQ(b.unit.blocked(), 0u);
        // Even from a device the unit knows nothing about.
        EXPECT_EQ(b.dma(tlm::TLM_WRITE_COMMAND, msi_base, &vector, 4, d, other_rid), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.core0.vectors.size(), 2u);
    });
}

TEST(iommu_model, disabled_unit_passes_addresses_unchanged)
{
    iommu_bench b;
    b.run([&] {
        EXPECT_EQ(b.rd(r::GSTS_REG), 0u);
        uint32_t v = 0xA5A5A5A5;
        sc_time d;
        EXPECT_EQ(b.dma(tlm::TLM_WRITE_COMMAND, 0x7000, &v, 4, d), tlm::TLM_OK_RESPONSE);
        // Not in the path: no lookup, no walk.
        EXPECT_EQ(d, ns(4 + 50));
        EXPECT_EQ(b.unit.stats().lookups, 0u);
        wait(d);
        wait(SC_ZERO_TIME);
        uint32_t m = 0;
        std::memcpy(&m, b.mem.host_ptr(0x7000, 4), 4);
        EXPECT_EQ(m, 0xA5A5A5A5u);
        EXPECT_EQ(b.unit.stats().table_reads, 0u);
    });
}

TEST(iommu_model, pass_through_context_and_unit_parameter)
{
    iommu_params p;
    p.translator.pass_through = true;
    iommu_bench b(p);
    b.run([&] {
        EXPECT_EQ(b.rd(r::ECAP_REG) & (1u << 6), 1u << 6);   // ECAP.PT
        b.enable();
        uint32_t v = 1;
        sc_time d;
        EXPECT_EQ(b.dma(tlm::TLM_WRITE_COMMAND, 0x9000, &v, 4, d, other_rid), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(d, ns(4 + 50));
        EXPECT_EQ(b.unit.stats().table_reads, 0u);
    });
}

TEST(iommu_model, bad_register_accesses_error_and_counted)
{
    iommu_bench b;
    b.run([&] {
        uint32_t v = 0;
        uint64_t wide = 0;
        sc_time d = SC_ZERO_TIME;
        EXPECT_EQ(b.cpu.access(tlm::TLM_READ_COMMAND, iommu_reg_base + 0x300, &v, 4, d), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.cpu.access(tlm::TLM_WRITE_COMMAND, iommu_reg_base + 0x22, &v, 4, d), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.cpu.access(tlm::TLM_READ_COMMAND, iommu_reg_base + r::RTADDR_REG, &wide, 8, d),
                  tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.unit.bad_register_accesses(), 3u);
        // Read-only registers keep their value.
        const uint32_t ver = b.rd(r::VER_REG);
        b.wr(r::VER_REG, 0xFFFF);
        EXPECT_EQ(b.rd(r::VER_REG), ver);
        EXPECT_EQ(b.rd(r::GCMD_REG), 0u);   // write-only
        EXPECT_EQ(b.unit.bad_register_accesses(), 3u);
    });
}

} // namespace

// A host with a NIC and a storage controller: two upstream bindings into the one remapping unit,
// each device with its own requester id and domain. The same iova means a different page for each,
// and a fault names the device that caused it.
TEST(iommu_model, two_devices_on_their_own_inputs_each_in_its_own_domain)
{
    iommu_bench b;   // its `dev` is the NIC
    master storage_dev{"storage_dev"};
    storage_dev.socket.bind(b.unit.dma_in);
    constexpr uint16_t nic_domain = 1, storage_domain = 2;
    b.tables.attach(nic_pf_rid, nic_domain);
    b.tables.attach(storage_pf_rid, storage_domain);
    b.tables.map(nic_domain, 0x4000'0000, 0x20000, 0x1000, true, true);
    b.tables.map(storage_domain, 0x4000'0000, 0x30000, 0x1000, true, true);
    b.tables.map(storage_domain, 0x4000'1000, 0x31000, 0x1000, true, false);   // the controller may only read it
    b.run([&] {
        b.enable();
        auto storage_dma = [&](tlm::tlm_command cmd, uint64_t iova, void* data, unsigned len, bool& fault) {
            pcie_ext ext;
            ext.requester_id = storage_pf_rid;
            sc_time d = SC_ZERO_TIME;
            const auto st = storage_dev.access(cmd, iova, data, len, d, &ext);
            fault = ext.iommu_fault;
            wait(d);
            return st;
        };
        uint8_t from_nic[32], from_storage[32];
        std::memset(from_nic, 0x11, sizeof from_nic);
        std::memset(from_storage, 0x22, sizeof from_storage);
        sc_time d;
        bool fault = true;
        // The same iova from each device lands in its own device's page.
        EXPECT_EQ(b.dma(tlm::TLM_WRITE_COMMAND, 0x4000'0100, from_nic, 32, d, nic_pf_rid, &fault), tlm::TLM_OK_RESPONSE);
        EXPECT_FALSE(fault);
        EXPECT_EQ(storage_dma(tlm::TLM_WRITE_COMMAND, 0x4000'0100, from_storage, 32, fault), tlm::TLM_OK_RESPONSE);
        EXPECT_FALSE(fault);
        wait(ns(1000));
        EXPECT_EQ(std::memcmp(b.mem.host_ptr(0x20100, 32), from_nic, 32), 0);
        EXPECT_EQ(std::memcmp(b.mem.host_ptr(0x30100, 32), from_storage, 32), 0);
        // The NIC has no mapping of the controller's second page: a fault with the NIC's id.
        uint8_t buf[16] = {};
        EXPECT_EQ(b.dma(tlm::TLM_READ_COMMAND, 0x4000'1000, buf, 16, d, nic_pf_rid, &fault), tlm::TLM_GENERIC_ERROR_RESPONSE);
        EXPECT_TRUE(fault);
        uint32_t info = b.rd(r::FRCD_INFO);
        EXPECT_EQ(info & 0xFFFF, nic_pf_rid);
        EXPECT_EQ((info >> 16) & 0xFF, static_cast<uint32_t>(fault_reason::pte_not_present));
        b.wr(r::FRCD_INFO, r::FRCD_F);
        // The controller reads its read-only page, but a write there faults with the controller's id.
        EXPECT_EQ(storage_dma(tlm::TLM_READ_COMMAND, 0x4000'1000, buf, 16, fault), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(storage_dma(tlm::TLM_WRITE_COMMAND, 0x4000'1000, buf, 16, fault), tlm::TLM_GENERIC_ERROR_RESPONSE);
        EXPECT_TRUE(fault);
        info = b.rd(r::FRCD_INFO);
        EXPECT_EQ(info & 0xFFFF, storage_pf_rid);
        EXPECT_EQ((info >> 16) & 0xFF, static_cast<uint32_t>(fault_reason::no_write_permission));
        EXPECT_EQ(b.unit.blocked(), 2u);
        EXPECT_EQ(b.mem.bytes_written(), 64u);   // the two good writes only
    });
}
