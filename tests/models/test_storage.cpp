// Model tests of the storage controller and its hardware VSICs. The bench is a host as the OS sees
// it: DRAM, a root complex, the controller's PCIe link and the IOMMU in front of memory; a test
// thread plays the driver, programming registers by MMIO (offsets from models/storage/storage_regs.h)
// and writing commands into DRAM as software does; a fake core records MSIs. The link and DRAM are
// set so a DMA costs exactly the DRAM latency (100 ns), which makes every time below exact.
//
// SystemC elaborates once per process: each TEST builds its own bench and runs sc_start once.
#include <gtest/gtest.h>

#include "tests/support/model_bench.h"

#include <cstring>
#include <functional>
#include <vector>

#include "models/iommu/iommu.h"
#include "models/iommu/iommu_regs.h"
#include "models/platform/address_map.h"
#include "models/platform/dram.h"
#include "models/platform/pcie_link.h"
#include "models/platform/root_complex.h"
#include "models/storage/storage_ctrl.h"
#include "models/storage/storage_regs.h"
#include "os/kernel/io_page_tables.h"

using namespace sc_core;
using namespace iovsim;
using namespace iovsim::models;
using namespace iovsim::storage;
using iovsim::testing::master;
using iovsim::testing::ns;
using iovsim::testing::strict_reports;

namespace {

using iovsim::testing::fake_irq;

dram_params dram_p()
{
    dram_params p;
    p.size_bytes = 64 << 20;
    p.access_latency = ns(100);
    p.bandwidth_gbps = 1e12;   // transfer time rounds to 0: a DMA costs the latency alone
    return p;
}

pcie_params link_p()
{
    pcie_params p;
    p.lane_gtps = 1e9;
    p.tlp_overhead_bytes = 0;
    p.one_way_latency = SC_ZERO_TIME;
    return p;
}

ctrl_params ctrl_p(unsigned vsics = 0)
{
    ctrl_params p;
    p.capacity_blocks = 1 << 20;   // 512 MiB
    p.cache_blocks = 1 << 16;
    p.num_vsics = vsics;
    p.cycle = ns(1);
    p.command_cycles = 100;
    p.vsic_cycles = 50;
    p.parallel = 1;
    p.timing.write = ns(1000);
    p.timing.read_hit = ns(500);
    p.timing.read_miss = ns(5000);
    p.timing.flush = ns(300);
    p.timing.per_block = ns(10);
    return p;
}

iommu::iommu_params mmu_p(bool translate)
{
    iommu::iommu_params p;
    p.translator.pass_through = !translate;
    p.lookup_latency = SC_ZERO_TIME;
    return p;
}

constexpr uint64_t sq_pa = 0x10000, cq_pa = 0x20000, buf_pa = 0x100000;
constexpr uint32_t entries = 8;

struct bench : iovsim::testing::driver_thread {
    dram mem;
    root_complex rc;
    pcie_link link;
    iommu::iommu mmu;
    storage_ctrl ctrl;
    master cpu{"cpu"};
    fake_irq core0;
    sc_event cq_event;
    std::vector<sc_time> cq_landed;   // when each completion write became visible

    explicit bench(const ctrl_params& cp = ctrl_p(), bool translate = false)
        : mem("mem", dram_p()), rc("rc", dram_p().size_bytes), link("link", link_p()), mmu("mmu", mmu_p(translate)),
          ctrl("ctrl", cp)
    {
        strict_reports();
        ctrl.dma.bind(link.up_target);
        link.up_init.bind(mmu.dma_in);
        mmu.mem_out.bind(rc.dma_target);
        rc.mem_init.bind(mem.target);
        rc.mmio_init.bind(link.down_target);
        rc.mmio_init.bind(mmu.reg_target);
        link.down_init.bind(ctrl.bar);
        cpu.socket.bind(rc.cpu_target);
        rc.map_mmio(storage_pf_bar0, storage_mmio_end - storage_pf_bar0, 0, "storage");
        rc.map_mmio(iommu_reg_base, iommu_reg_size, 1, "iommu");
        rc.attach_core(0, core0);
    }
    uint32_t rd(uint64_t addr) { return cpu.rd(addr); }
    void wr(uint64_t addr, uint32_t v) { cpu.wr(addr, v); }
    static uint64_t fn_bar(int vsic) { return vsic < 0 ? storage_pf_bar0 : storage_vsic_bar_base + vsic * storage_vsic_bar_stride; }

    // Queue pair q of a function (vsic < 0: the PF) with rings at sq/cq; MSI-X entry 0 to core 0 vector 40.
    void setup_queue(int vsic, unsigned q, uint64_t sq, uint64_t cq, bool irq = true)
    {
        const uint64_t b = fn_bar(vsic);
        wr(b + reg::CC, reg::CC_EN);
        wr(b + reg::queue_reg(q, reg::SQBAL_OFF), static_cast<uint32_t>(sq));
        wr(b + reg::queue_reg(q, reg::SQBAH_OFF), 0);
        wr(b + reg::queue_reg(q, reg::SQSZ_OFF), entries);
        wr(b + reg::queue_reg(q, reg::CQBAL_OFF), static_cast<uint32_t>(cq));
        wr(b + reg::queue_reg(q, reg::CQBAH_OFF), 0);
        wr(b + reg::queue_reg(q, reg::CQSZ_OFF), entries);
        wr(b + reg::MSIX0 + reg::MSIX_ADDR_LO, static_cast<uint32_t>(msi_base));
        wr(b + reg::MSIX0 + reg::MSIX_DATA, 40);
        wr(b + reg::MSIX0 + reg::MSIX_CTRL, 0);
        wr(b + reg::queue_reg(q, reg::QCTL_OFF), reg::QCTL_EN | (irq ? reg::QCTL_IEN : 0));
        mem.watch(cq, entries * cqe_bytes, cq_event);
    }
    void put_sqe(uint64_t sq, unsigned slot, const sqe& s) { s.encode(mem.host_ptr(sq + slot * sqe_bytes, sqe_bytes)); }
    cqe get_cqe(uint64_t cq, unsigned slot) { return cqe::decode(mem.host_ptr(cq + slot * cqe_bytes, cqe_bytes)); }
    // Waits until the completion in `slot` has phase `phase`; returns when it became visible.
    sc_time await_cqe(uint64_t cq, unsigned slot, bool phase = true)
    {
        while (cqe::phase_of(mem.host_ptr(cq + slot * cqe_bytes, cqe_bytes)) != phase)
            wait(cq_event);
        return sc_time_stamp();
    }
    static sqe cmd(opcode op, uint16_t cid, uint64_t lba, uint32_t nlb, uint64_t buf, uint32_t nsid = pf_nsid)
    {
        sqe s;
        s.op = op;
        s.cid = cid;
        s.nsid = nsid;
        s.slba = lba;
        s.nlb = nlb;
        s.prp1 = buf;
        return s;
    }
    void fill(uint64_t pa, size_t len, uint8_t seed) { iovsim::testing::fill_pattern(mem.host_ptr(pa, len), len, seed); }
};

TEST(StorageCtrl, RegistersAtReset)
{
    bench b;
    b.run([&] {
        const uint32_t cap = b.rd(storage_pf_bar0 + reg::CAP);
        EXPECT_EQ(cap & reg::CAP_MQES_MASK, max_queue_entries - 1);
        EXPECT_EQ(cap >> reg::CAP_NQP_SHIFT, pf_queues);
        EXPECT_EQ(b.rd(storage_pf_bar0 + reg::VS), reg::VS_1_0);
        EXPECT_EQ(b.rd(storage_pf_bar0 + reg::NSZE_LO), 1u << 20);
        EXPECT_EQ(b.rd(storage_pf_bar0 + reg::BSZ), block_bytes);
        EXPECT_EQ(b.rd(storage_pf_bar0 + reg::CSTS), 0u);
        b.wr(storage_pf_bar0 + reg::CC, reg::CC_EN);
        EXPECT_EQ(b.rd(storage_pf_bar0 + reg::CSTS), reg::CSTS_RDY);
        // An offset with no register is answered with an error and counted.
        uint32_t v = 0;
        EXPECT_EQ(b.cpu.raw(tlm::TLM_READ_COMMAND, storage_pf_bar0 + 0x0F00, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.ctrl.stats().mmio_errors, 1u);
        // A queue with a bad geometry stays disabled.
        b.wr(storage_pf_bar0 + reg::queue_reg(0, reg::QCTL_OFF), reg::QCTL_EN);
        EXPECT_EQ(b.rd(storage_pf_bar0 + reg::queue_reg(0, reg::QCTL_OFF)) & reg::QCTL_EN, 0u);
    });
}

// A one-block write, then a read of it: every stage's time is exact.
TEST(StorageCtrl, WriteThenReadExactTimes)
{
    bench b;
    b.run([&] {
        b.setup_queue(-1, 0, sq_pa, cq_pa);
        b.fill(buf_pa, block_bytes, 3);
        b.put_sqe(sq_pa, 0, bench::cmd(opcode::write, 7, 100, 1, buf_pa));
        const sc_time t0 = sc_time_stamp();
        b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), 1);
        const sc_time landed = b.await_cqe(cq_pa, 0);
        // SQE read 100 + firmware 100 + data read 100 + write 1000 + 1 block 10 + CQE write 100.
        EXPECT_EQ(landed - t0, ns(1410));
        const cqe c = b.get_cqe(cq_pa, 0);
        EXPECT_EQ(c.cid, 7);
        EXPECT_EQ(c.code, status::success);
        EXPECT_EQ(c.sq_head, 1);
        EXPECT_EQ(c.sq_id, 0);
        ASSERT_EQ(b.core0.got.size(), 1u);
        EXPECT_EQ(b.core0.got[0].first, 40u);
        EXPECT_EQ(b.core0.got[0].second - t0, ns(1410));   // the MSI follows the CQE's landing

        // Durable as soon as completed.
        std::vector<uint8_t> img(block_bytes);
        b.ctrl.durable().read(100, 1, img.data());
        EXPECT_EQ(0, std::memcmp(img.data(), b.mem.host_ptr(buf_pa, block_bytes), block_bytes));

        b.put_sqe(sq_pa, 1, bench::cmd(opcode::read, 8, 100, 1, buf_pa + 0x1000));
        b.wr(storage_pf_bar0 + reg::cq_head_doorbell(0), 1);
        const sc_time t1 = sc_time_stamp();
        b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), 2);
        const sc_time landed2 = b.await_cqe(cq_pa, 1);
        // SQE 100 + firmware 100 + cache hit 500 + 1 block 10 + data and CQE writes 100 (posted together).
        EXPECT_EQ(landed2 - t1, ns(810));
        EXPECT_EQ(b.get_cqe(cq_pa, 1).code, status::success);
        EXPECT_EQ(0, std::memcmp(b.mem.host_ptr(buf_pa, block_bytes), b.mem.host_ptr(buf_pa + 0x1000, block_bytes), block_bytes));
        EXPECT_EQ(b.ctrl.stats().read_hits, 1u);

        // A read of blocks never cached goes to the SSD.
        b.put_sqe(sq_pa, 2, bench::cmd(opcode::read, 9, 5000, 2, buf_pa + 0x2000));
        const sc_time t2 = sc_time_stamp();
        b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), 3);
        EXPECT_EQ(b.await_cqe(cq_pa, 2) - t2, ns(100 + 100 + 5000 + 20 + 100));
        EXPECT_EQ(b.ctrl.stats().read_misses, 1u);
    });
}

// Two service slots: the second write's service overlaps the first's instead of following it.
TEST(StorageCtrl, ParallelSlotsOverlapService)
{
    ctrl_params cp = ctrl_p();
    cp.parallel = 2;
    bench b(cp);
    b.run([&] {
        b.setup_queue(-1, 0, sq_pa, cq_pa, false);
        b.put_sqe(sq_pa, 0, bench::cmd(opcode::write, 1, 0, 1, buf_pa));
        b.put_sqe(sq_pa, 1, bench::cmd(opcode::write, 2, 8, 1, buf_pa));
        const sc_time t0 = sc_time_stamp();
        b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), 2);
        // First: in service 300..1310. Second: fetched 300..600, in service 600..1610 (one slot
        // each); with one slot it would wait until 1310.
        EXPECT_EQ(b.await_cqe(cq_pa, 0) - t0, ns(1410));
        EXPECT_EQ(b.await_cqe(cq_pa, 1) - t0, ns(1710));
    });
}

// A full completion queue holds the device: the completion is written when software frees a slot
// (the head doorbell), not before; a doorbell beyond the ring is refused and counted.
TEST(StorageCtrl, FullCompletionQueueHoldsTheDevice)
{
    bench b;
    b.run([&] {
        b.setup_queue(-1, 0, sq_pa, cq_pa, false);
        for (unsigned i = 0; i < entries; ++i)
            b.put_sqe(sq_pa, i, bench::cmd(opcode::flush, static_cast<uint16_t>(i), 0, 0, 0));
        b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), entries - 1);   // 7: the ring's capacity
        b.await_cqe(cq_pa, entries - 2);                                  // 7 completions: the CQ is full
        b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), 0);              // the 8th command
        wait(ns(5000));                                                   // served long ago...
        EXPECT_EQ(b.ctrl.stats().flushes, 8u);
        EXPECT_FALSE(cqe::phase_of(b.mem.host_ptr(cq_pa + (entries - 1) * cqe_bytes, cqe_bytes)));   // ...not posted
        const sc_time t0 = sc_time_stamp();
        b.wr(storage_pf_bar0 + reg::cq_head_doorbell(0), 1);
        EXPECT_EQ(b.await_cqe(cq_pa, entries - 1) - t0, ns(100));         // now: one DMA write
        EXPECT_EQ(b.get_cqe(cq_pa, entries - 1).cid, entries - 1);
        const uint64_t errors = b.ctrl.stats().mmio_errors;
        b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), entries);          // beyond the ring
        EXPECT_EQ(b.ctrl.stats().mmio_errors, errors + 1);
    });
}

// A command outside the namespace completes with an error and touches nothing; malformed commands
// are rejected and counted; the queue goes on serving.
TEST(StorageCtrl, BadCommandsFailAlone)
{
    bench b;
    b.run([&] {
        b.setup_queue(-1, 0, sq_pa, cq_pa, false);
        b.fill(buf_pa, 4 * block_bytes, 9);
        b.put_sqe(sq_pa, 0, bench::cmd(opcode::write, 1, (1 << 20) - 1, 2, buf_pa));   // crosses the end
        sqe bad_op = bench::cmd(opcode::write, 2, 0, 1, buf_pa);
        bad_op.op = static_cast<opcode>(0x7F);
        b.put_sqe(sq_pa, 1, bad_op);
        b.put_sqe(sq_pa, 2, bench::cmd(opcode::write, 3, 0, 1, buf_pa));
        b.mem.host_ptr(sq_pa + 2 * sqe_bytes + 60, 1)[0] = 1;     // a reserved byte set
        b.put_sqe(sq_pa, 3, bench::cmd(opcode::read, 4, 0, 0, buf_pa));   // zero blocks
        b.put_sqe(sq_pa, 4, bench::cmd(opcode::write, 5, 0, 1, buf_pa, 9));  // no such namespace
        b.put_sqe(sq_pa, 5, bench::cmd(opcode::write, 6, 10, 1, buf_pa));    // fine
        b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), 6);
        b.await_cqe(cq_pa, 5);
        const status want[] = {status::lba_out_of_range, status::invalid_opcode, status::invalid_field,
                               status::invalid_field, status::invalid_namespace, status::success};
        for (unsigned i = 0; i < 6; ++i) {
            EXPECT_EQ(b.get_cqe(cq_pa, i).cid, i + 1);
            EXPECT_EQ(b.get_cqe(cq_pa, i).code, want[i]) << i;
        }
        EXPECT_EQ(b.ctrl.stats().malformed, 3u);
        EXPECT_EQ(b.ctrl.stats().bounds_errors, 2u);
        EXPECT_EQ(b.rd(storage_pf_bar0 + reg::MALFORMED), 3u);
        EXPECT_EQ(b.rd(storage_pf_bar0 + reg::BOUNDS), 2u);
        EXPECT_EQ(b.ctrl.durable().blocks_written(), 1u);   // only the good write touched the media
        EXPECT_EQ(b.ctrl.stats().writes, 1u);
    });
}

// A write whose data lies in a page the controller's domain does not map: the IOMMU faults, that
// command fails with a data-transfer error, the next one succeeds.
TEST(StorageCtrl, DmaFaultFailsOnlyThatCommand)
{
    bench b(ctrl_p(), true);
    iovsim::testing::dram_phys_mem pm(b.mem);
    iovsim::testing::bump_pages pages(0x800000);
    os::kernel::io_page_tables tables(pm, pages, 4);
    tables.attach(storage_pf_rid, 5);
    tables.map(5, sq_pa, sq_pa, 0x1000, true, false);
    tables.map(5, cq_pa, cq_pa, 0x1000, false, true);
    tables.map(5, buf_pa, buf_pa, 0x1000, true, true);
    b.run([&] {
        namespace r = iovsim::iommu::regs;
        b.wr(iommu_reg_base + r::RTADDR_REG, static_cast<uint32_t>(tables.root_table_pa()));
        b.wr(iommu_reg_base + r::RTADDR_REG + 4, 0);
        b.wr(iommu_reg_base + r::GCMD_REG, r::GCMD_SRTP);
        b.wr(iommu_reg_base + r::GCMD_REG, r::GCMD_TE);
        b.setup_queue(-1, 0, sq_pa, cq_pa, false);
        b.put_sqe(sq_pa, 0, bench::cmd(opcode::write, 1, 0, 1, buf_pa + 0x4000));   // unmapped
        b.put_sqe(sq_pa, 1, bench::cmd(opcode::read, 2, 0, 1, buf_pa + 0x4000));    // unmapped, device writes
        b.put_sqe(sq_pa, 2, bench::cmd(opcode::write, 3, 0, 1, buf_pa));
        b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), 3);
        b.await_cqe(cq_pa, 2);
        EXPECT_EQ(b.get_cqe(cq_pa, 0).code, status::data_transfer_error);
        EXPECT_EQ(b.get_cqe(cq_pa, 1).code, status::data_transfer_error);
        EXPECT_EQ(b.get_cqe(cq_pa, 2).code, status::success);
        EXPECT_EQ(b.ctrl.stats().dma_errors, 2u);
        EXPECT_EQ(b.rd(storage_pf_bar0 + reg::DMAERR), 2u);
        EXPECT_EQ(b.mmu.blocked(), 2u);
        EXPECT_EQ(b.ctrl.durable().blocks_written(), 1u);
    });
}

// Data described by a PRP list over three pages, the first with an offset.
TEST(StorageCtrl, PrpListWrite)
{
    bench b;
    b.run([&] {
        b.setup_queue(-1, 0, sq_pa, cq_pa, false);
        const uint64_t p0 = 0x200000 + 0xE00, p1 = 0x300000, p2 = 0x400000, list = 0x500000;
        const uint32_t nlb = 10;   // 5120 bytes: 512 in p0, 4096 in p1, 512 in p2
        b.fill(p0, 512, 1);
        b.fill(p1, 4096, 2);
        b.fill(p2, 512, 3);
        const uint64_t entries_[] = {p1, p2};
        std::memcpy(b.mem.host_ptr(list, 16), entries_, 16);
        sqe s = bench::cmd(opcode::write, 1, 40, nlb, p0);
        s.flags = SQE_DPTR_PRP;
        s.prp2 = list;
        b.put_sqe(sq_pa, 0, s);
        b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), 1);
        b.await_cqe(cq_pa, 0);
        EXPECT_EQ(b.get_cqe(cq_pa, 0).code, status::success);
        std::vector<uint8_t> img(nlb * block_bytes);
        b.ctrl.durable().read(40, nlb, img.data());
        EXPECT_EQ(0, std::memcmp(img.data(), b.mem.host_ptr(p0, 512), 512));
        EXPECT_EQ(0, std::memcmp(img.data() + 512, b.mem.host_ptr(p1, 4096), 4096));
        EXPECT_EQ(0, std::memcmp(img.data() + 4608, b.mem.host_ptr(p2, 512), 512));
    });
}

// Power lost in the middle of a 10-block write's service: completed writes are kept, the write in
// service left a prefix of its blocks, nothing completes afterwards.
TEST(StorageCtrl, PowerLossKeepsCompletedAndTearsInService)
{
    bench b;
    b.run([&] {
        b.setup_queue(-1, 0, sq_pa, cq_pa, false);
        b.fill(buf_pa, 10 * block_bytes, 5);
        b.put_sqe(sq_pa, 0, bench::cmd(opcode::write, 1, 0, 1, buf_pa));
        b.put_sqe(sq_pa, 1, bench::cmd(opcode::write, 2, 100, 10, buf_pa));
        const sc_time t0 = sc_time_stamp();
        b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), 2);
        b.await_cqe(cq_pa, 0);
        // The second write: fetched right after the first (SQE at 100 + 100 after its data read at
        // 300 -> fetch 400..., data in at 600), in service from 1310 (the slot frees) to 1310 + 1100.
        // Power fails halfway through its service: 5 of its 10 blocks are in the cache.
        b.ctrl.power_fail_at(t0 + ns(1310 + 550));
        wait(ns(5000));
        EXPECT_FALSE(b.ctrl.powered());
        EXPECT_EQ(b.rd(storage_pf_bar0 + reg::CSTS), reg::CSTS_CFS);
        EXPECT_EQ(b.get_cqe(cq_pa, 0).code, status::success);
        EXPECT_FALSE(cqe::phase_of(b.mem.host_ptr(cq_pa + cqe_bytes, cqe_bytes)));   // never completed
        EXPECT_EQ(b.ctrl.stats().torn_writes, 1u);
        EXPECT_EQ(b.ctrl.stats().lost_completions, 1u);
        std::vector<uint8_t> img(10 * block_bytes);
        b.ctrl.durable().read(100, 10, img.data());
        EXPECT_EQ(0, std::memcmp(img.data(), b.mem.host_ptr(buf_pa, 5 * block_bytes), 5 * block_bytes));
        for (size_t i = 5 * block_bytes; i < img.size(); ++i)
            ASSERT_EQ(img[i], 0) << i;
        // The device is dead: a new command is never served.
        b.put_sqe(sq_pa, 2, bench::cmd(opcode::write, 3, 0, 1, buf_pa));
        b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), 3);
        wait(ns(10000));
        EXPECT_EQ(b.ctrl.stats().completed, 1u);
    });
}

// Power comes back: the device is at reset (the host sets its queues up again), the durable image
// is what the loss left, and the device serves again; a second loss in the same run works alike.
TEST(StorageCtrl, PowerRestoreServesAgainFromTheDurableImage)
{
    bench b;
    b.run([&] {
        for (unsigned trial = 0; trial < 2; ++trial) {
            std::memset(b.mem.host_ptr(cq_pa, entries * cqe_bytes), 0, entries * cqe_bytes);
            b.setup_queue(-1, 0, sq_pa, cq_pa, false);
            b.fill(buf_pa, 10 * block_bytes, static_cast<uint8_t>(5 + trial));
            b.put_sqe(sq_pa, 0, bench::cmd(opcode::write, 1, 1000 * trial, 1, buf_pa));
            b.put_sqe(sq_pa, 1, bench::cmd(opcode::write, 2, 1000 * trial + 100, 10, buf_pa));
            const sc_time t0 = sc_time_stamp();
            b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), 2);
            b.ctrl.power_fail_at(t0 + ns(1310 + 550));   // halfway through the second write
            b.await_cqe(cq_pa, 0);
            wait(ns(2000));
            EXPECT_FALSE(b.ctrl.powered());
            b.ctrl.power_restore();
            EXPECT_TRUE(b.ctrl.powered());
            EXPECT_EQ(b.rd(storage_pf_bar0 + reg::CSTS), 0u);                                  // not ready until enabled
            EXPECT_EQ(b.rd(storage_pf_bar0 + reg::queue_reg(0, reg::QCTL_OFF)), 0u);          // queues at reset
            // Set up again and read back: the completed write whole, the torn one's first half.
            std::memset(b.mem.host_ptr(cq_pa, entries * cqe_bytes), 0, entries * cqe_bytes);
            b.setup_queue(-1, 0, sq_pa, cq_pa, false);
            b.put_sqe(sq_pa, 0, bench::cmd(opcode::read, 3, 1000 * trial + 100, 10, buf_pa + 0x10000));
            b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), 1);
            b.await_cqe(cq_pa, 0);
            EXPECT_EQ(b.get_cqe(cq_pa, 0).code, status::success);
            const uint8_t* got = b.mem.host_ptr(buf_pa + 0x10000, 10 * block_bytes);
            EXPECT_EQ(0, std::memcmp(got, b.mem.host_ptr(buf_pa, 5 * block_bytes), 5 * block_bytes)) << trial;
            for (size_t i = 5 * block_bytes; i < 10 * block_bytes; ++i)
                ASSERT_EQ(got[i], 0) << trial << " " << i;
            b.ctrl.power_fail_at(sc_time_stamp() + ns(1));   // and down again, idle, for the next trial
            wait(ns(10));
            b.ctrl.power_restore();
        }
        EXPECT_EQ(b.ctrl.stats().torn_writes, 2u);
    });
}

// The harsher adversary: the blocks of a write in service at power loss survive each with the
// chance of the service time passed, in no particular order; seeded, so a trial repeats.
TEST(StorageCtrl, PowerLossAnyBlocksIsSeededAndPartial)
{
    ctrl_params cp = ctrl_p();
    cp.torn_any_blocks = true;
    cp.torn_seed = 42;
    cp.timing.per_block = ns(1000);   // 64 blocks in 65 us of service
    bench b(cp);
    b.run([&] {
        b.setup_queue(-1, 0, sq_pa, cq_pa, false);
        b.fill(buf_pa, 64 * block_bytes, 5);
        b.put_sqe(sq_pa, 0, bench::cmd(opcode::write, 1, 0, 64, buf_pa));
        const sc_time t0 = sc_time_stamp();
        b.wr(storage_pf_bar0 + reg::sq_tail_doorbell(0), 1);
        // In service from 300 ns for 1000 + 64 * 1000 ns; power fails halfway.
        b.ctrl.power_fail_at(t0 + ns(300 + 32500));
        wait(ns(100000));
        EXPECT_EQ(b.ctrl.stats().torn_writes, 1u);
        std::vector<uint8_t> img(64 * block_bytes);
        b.ctrl.durable().read(0, 64, img.data());
        const uint8_t* want = b.mem.host_ptr(buf_pa, img.size());
        unsigned kept = 0, gaps = 0;
        bool seen_missing = false;
        for (unsigned blk = 0; blk < 64; ++blk) {
            const bool same = std::memcmp(img.data() + blk * block_bytes, want + blk * block_bytes, block_bytes) == 0;
            bool zero = true;
            for (unsigned i = 0; i < block_bytes && zero; ++i)
                zero = img[blk * block_bytes + i] == 0;
            ASSERT_TRUE(same || zero) << blk;   // whole blocks: the new data or the old (zeros)
            kept += same;
            gaps += same && seen_missing;      // a kept block after a missing one: not a prefix
            seen_missing |= !same;
        }
        // Half the service passed: about half the blocks, not as a prefix (seed 42's draw).
        EXPECT_GT(kept, 20u);
        EXPECT_LT(kept, 44u);
        EXPECT_GT(gaps, 0u);
    });
}

// A hardware VSIC: commands name a VSA the kernel mapped through the PF; LBAs are VSA-relative;
// bounds and rights are checked on every command; the VSIC's DMA carries its own requester id.
TEST(StorageVsic, HardwareTranslatesAndChecks)
{
    bench b(ctrl_p(4));
    b.run([&] {
        const uint64_t pf = storage_pf_bar0;
        b.wr(pf + reg::CC, reg::CC_EN);
        // VSIC 2, slot 1: VSA 77 = physical blocks [1000, 1064), read and write; slot 0: VSA 5 read-only.
        b.wr(pf + reg::vsa_entry(2, 1, reg::VSA_BASE_LO_OFF), 1000);
        b.wr(pf + reg::vsa_entry(2, 1, reg::VSA_LEN_LO_OFF), 64);
        b.wr(pf + reg::vsa_entry(2, 1, reg::VSA_CTL_OFF), reg::VSA_CTL_V | reg::VSA_CTL_R | reg::VSA_CTL_W | 77u << reg::VSA_CTL_ID_SHIFT);
        b.wr(pf + reg::vsa_entry(2, 0, reg::VSA_BASE_LO_OFF), 5000);
        b.wr(pf + reg::vsa_entry(2, 0, reg::VSA_LEN_LO_OFF), 8);
        b.wr(pf + reg::vsa_entry(2, 0, reg::VSA_CTL_OFF), reg::VSA_CTL_V | reg::VSA_CTL_R | 5u << reg::VSA_CTL_ID_SHIFT);
        EXPECT_EQ(b.rd(pf + reg::vsa_entry(2, 1, reg::VSA_BASE_LO_OFF)), 1000u);
        b.wr(pf + reg::VSICEN0, 1u << 2);
        b.setup_queue(2, 0, sq_pa, cq_pa);
        b.fill(buf_pa, 2 * block_bytes, 11);
        b.put_sqe(sq_pa, 0, bench::cmd(opcode::write, 1, 10, 2, buf_pa, 77));
        const sc_time t0 = sc_time_stamp();
        b.wr(bench::fn_bar(2) + reg::sq_tail_doorbell(0), 1);
        // As the PF's write plus the VSIC core's 50 cycles and one more block.
        EXPECT_EQ(b.await_cqe(cq_pa, 0) - t0, ns(1410 + 50 + 10));
        EXPECT_EQ(b.get_cqe(cq_pa, 0).code, status::success);
        // The VSIC's own MSI-X entry, at the CQE's landing.
        ASSERT_EQ(b.core0.got.size(), 1u);
        EXPECT_EQ(b.core0.got[0].first, 40u);
        EXPECT_EQ(b.core0.got[0].second - t0, ns(1470));
        std::vector<uint8_t> img(2 * block_bytes);
        b.ctrl.durable().read(1010, 2, img.data());
        EXPECT_EQ(0, std::memcmp(img.data(), b.mem.host_ptr(buf_pa, img.size()), img.size()));

        b.put_sqe(sq_pa, 1, bench::cmd(opcode::write, 2, 63, 2, buf_pa, 77));   // crosses the VSA's end
        b.put_sqe(sq_pa, 2, bench::cmd(opcode::write, 3, 0, 1, buf_pa, 5));     // read-only VSA
        b.put_sqe(sq_pa, 3, bench::cmd(opcode::read, 4, 0, 1, buf_pa, 6));      // not mapped on this VSIC
        b.put_sqe(sq_pa, 4, bench::cmd(opcode::read, 5, 7, 1, buf_pa + 0x1000, 5));   // fine
        b.wr(bench::fn_bar(2) + reg::sq_tail_doorbell(0), 5);
        b.await_cqe(cq_pa, 4);
        EXPECT_EQ(b.get_cqe(cq_pa, 1).code, status::lba_out_of_range);
        EXPECT_EQ(b.get_cqe(cq_pa, 2).code, status::access_denied);
        EXPECT_EQ(b.get_cqe(cq_pa, 3).code, status::invalid_namespace);
        EXPECT_EQ(b.get_cqe(cq_pa, 4).code, status::success);
        EXPECT_EQ(b.rd(bench::fn_bar(2) + reg::BOUNDS), 3u);
        EXPECT_EQ(b.ctrl.durable().blocks_written(), 2u);

        // A disabled VSIC's commands are not fetched.
        b.wr(pf + reg::VSICEN0, 0);
        b.put_sqe(sq_pa, 5, bench::cmd(opcode::read, 6, 0, 1, buf_pa, 77));
        b.wr(bench::fn_bar(2) + reg::sq_tail_doorbell(0), 6);
        wait(ns(20000));
        EXPECT_FALSE(cqe::phase_of(b.mem.host_ptr(cq_pa + 5 * cqe_bytes, cqe_bytes)));
    });
}

// The VSIC core serves VSICs round-robin: two VSICs with a queue full each alternate.
TEST(StorageVsic, RoundRobinBetweenVsics)
{
    ctrl_params cp = ctrl_p(2);
    bench b(cp);
    const uint64_t sq1 = 0x30000, cq1 = 0x40000;
    b.run([&] {
        const uint64_t pf = storage_pf_bar0;
        b.wr(pf + reg::CC, reg::CC_EN);
        for (unsigned v = 0; v < 2; ++v) {
            b.wr(pf + reg::vsa_entry(v, 0, reg::VSA_BASE_LO_OFF), 1000 * (v + 1));
            b.wr(pf + reg::vsa_entry(v, 0, reg::VSA_LEN_LO_OFF), 100);
            b.wr(pf + reg::vsa_entry(v, 0, reg::VSA_CTL_OFF), reg::VSA_CTL_V | reg::VSA_CTL_R | reg::VSA_CTL_W | 1u << reg::VSA_CTL_ID_SHIFT);
        }
        b.wr(pf + reg::VSICEN0, 3);
        b.setup_queue(0, 0, sq_pa, cq_pa, false);
        b.setup_queue(1, 0, sq1, cq1, false);
        for (unsigned i = 0; i < 3; ++i) {
            b.put_sqe(sq_pa, i, bench::cmd(opcode::flush, static_cast<uint16_t>(i), 0, 0, 0, 1));
            b.put_sqe(sq1, i, bench::cmd(opcode::flush, static_cast<uint16_t>(10 + i), 0, 0, 0, 1));
        }
        std::vector<sc_time> t0(3), t1(3);
        auto observe = [&b](uint64_t cq, std::vector<sc_time>& when) {
            for (unsigned i = 0; i < 3; ++i)
                when[i] = b.await_cqe(cq, i);
        };
        sc_spawn([&] { observe(cq_pa, t0); });
        sc_spawn([&] { observe(cq1, t1); });
        b.wr(bench::fn_bar(0) + reg::sq_tail_doorbell(0), 3);
        b.wr(bench::fn_bar(1) + reg::sq_tail_doorbell(0), 3);
        wait(ns(20000));
        EXPECT_EQ(b.ctrl.stats().flushes, 6u);
        // Fetched alternately, served one at a time: VSIC 0's i-th, VSIC 1's i-th, VSIC 0's i+1-th...
        for (unsigned i = 0; i < 3; ++i) {
            EXPECT_LT(t0[i], t1[i]) << i;
            if (i + 1 < 3) {
                EXPECT_LT(t1[i], t0[i + 1]) << i;
            }
            EXPECT_EQ(b.get_cqe(cq_pa, i).cid, i);
            EXPECT_EQ(b.get_cqe(cq1, i).cid, 10 + i);
        }
    });
}

} // namespace
