// The storage host (sim/storage_testbed) with its software: the kernel's setup of the controller and
// of VSICs (os/kernel/vsic_setup), the block queue (os/dev/blk_queue) polling or taking interrupts,
// the emulated VSIC on a dedicated core (os/kernel/vsic_emulator) and the hardware VSIC, on the
// platform file's parameters. What each checks: data round trips, completion statuses, where
// faults stop, who was charged, and that a run's simulated times are what the model's parts add up
// to where that is simple to state.
#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>

#include "tests/support/model_bench.h"

#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "models/platform/address_map.h"
#include "os/dev/blk_queue.h"
#include "os/kernel/iommu_driver.h"
#include "os/kernel/vsic_emulator.h"
#include "os/kernel/vsic_setup.h"
#include "sim/experiment.h"
#include "sim/kinds/vsic_overhead.h"
#include "sim/params.h"
#include "sim/storage_testbed.h"

using namespace sc_core;
using namespace iovsim;
namespace reg = iovsim::storage::reg;
namespace fs = std::filesystem;
using os::category;
using os::dev::blk_completion;
using os::dev::blk_op;
using os::dev::blk_request;

namespace {

// The kernel's part on core 0 and, for emulated VSICs, the emulating core on core 1.
struct host {
    cfg::config cfg;
    sim::storage_testbed tb;
    std::unique_ptr<os::kernel::iommu_driver> iommu;
    std::unique_ptr<os::kernel::vsic_setup> setup;
    std::unique_ptr<os::kernel::vsic_emulator> emu;
    uint64_t emu_base = 0;
    bool bounce = false;

    explicit host(const std::vector<std::string>& sets) : cfg(sim::load_platform(sets)), tb(cfg, 2) {}

    void boot()
    {
        os::cpu_core& core = tb.core(0);
        iommu = std::make_unique<os::kernel::iommu_driver>(core, tb.pages(), 4);
        os::kernel::vsic_layout layout;
        layout.emulated = tb.mode() == sim::vsic_mode::emulated;
        layout.bounce = bounce;
        if (layout.emulated)
            layout.emulated_base = tb.pages().alloc(os::kernel::vsic_layout::emulated_bytes);
        emu_base = layout.emulated_base;
        setup = std::make_unique<os::kernel::vsic_setup>(core, tb.pages(), *iommu, layout, 8);
        setup->boot(category::scheduler);
        if (!layout.emulated)
            return;
        const os::kernel::vsic_emulator_params ep = setup->emulator_params(1, 64, bounce ? 0x4000 : 0);
        emu = std::make_unique<os::kernel::vsic_emulator>(tb.core(1), ep);
        tb.spawn(1, "vsic_core", [this] { emu->run(); });
    }

    // A queue over `regs` with its rings at the start of [region, ...).
    std::unique_ptr<os::dev::blk_queue> queue(os::dev::blk_regs regs, unsigned qid, uint64_t region,
                                              os::dev::blk_wait wait = os::dev::blk_wait::poll,
                                              sc_core::sc_event* completions = nullptr)
    {
        os::dev::blk_queue_params p;
        p.qid = qid;
        p.entries = 16;
        p.sq_pa = region;
        p.cq_pa = region + 0x1000;
        p.wait = wait;
        p.irq_vector = 50;
        p.completion_event = completions;
        p.completion_line = regs.in_memory ? os::dev::blk_line_source::remote_core : os::dev::blk_line_source::dram;
        return std::make_unique<os::dev::blk_queue>(regs, p);
    }

    // An application's VSIC with `region` bytes of memory, VSA `vsa` on slot `slot` (physical blocks
    // [base, base + blocks), read-write) and a queue over its registers, initialized.
    struct app {
        os::kernel::vsic_grant g;
        std::unique_ptr<os::dev::blk_queue> q;
        uint64_t buf() const { return g.region_pa + 0x4000; }
    };
    app vsic_app(uint16_t vsa, uint64_t base, uint64_t blocks, unsigned slot = 0, uint64_t region = 0x10000,
                 os::dev::blk_wait wait = os::dev::blk_wait::poll, sc_core::sc_event* completions = nullptr)
    {
        app a;
        a.g = setup->create_vsic(category::scheduler, region);
        setup->map_vsa(category::scheduler, a.g.vsic, slot, vsa, base, blocks, true, true);
        a.q = queue(a.g.regs, 0, a.g.region_pa, wait, completions);
        return a;
    }

    // Submits one request and waits for its completion; returns its status and the latency.
    // Boots, gives the kernel queue 0 of the physical function over a mapped region, and fills
    // 1 KB of data to write from; returns the queue and that buffer's address.
    std::pair<std::unique_ptr<os::dev::blk_queue>, uint64_t> pf_queue_with_data()
    {
        os::cpu_core& core = tb.core(0);
        boot();
        const uint64_t region = tb.pages().alloc(0x10000);
        setup->map_for_pf(region, 0x10000);
        auto q = queue({&core, models::storage_pf_bar0, false}, 0, region);
        q->init(category::scheduler);
        const uint64_t buf = region + 0x4000;
        iovsim::testing::fill_pattern(core.mem(buf, 1024), 1024, 1);
        return {std::move(q), buf};
    }
    static uint16_t round_trip(os::cpu_core& core, os::dev::blk_queue& q, const blk_request& r, double* latency_ns = nullptr)
    {
        const sc_time t0 = core.local_time();
        EXPECT_TRUE(q.submit(category::block_io, r));
        std::vector<blk_completion> out;
        while (out.empty()) {
            q.wait(category::poll);
            q.reap(category::block_io, out, 8);
        }
        if (latency_ns)
            *latency_ns = (core.local_time() - t0).to_seconds() * 1e9;
        EXPECT_EQ(out.size(), 1u);
        EXPECT_EQ(out[0].cid, r.cid);
        return out[0].status;
    }
};

blk_request req(blk_op op, uint16_t cid, uint32_t nsid, uint64_t lba, uint32_t blocks, uint64_t iova)
{
    blk_request r;
    r.op = op;
    r.cid = cid;
    r.nsid = nsid;
    r.lba = lba;
    r.blocks = blocks;
    r.iova = iova;
    return r;
}

constexpr size_t block_bytes_of(unsigned blocks) { return size_t(blocks) * storage::block_bytes; }

void fill(os::cpu_core& core, uint64_t pa, size_t len, uint8_t seed)
{
    iovsim::testing::fill_pattern(core.mem(pa, len), len, seed);
}

// The kernel drives a queue pair of the physical controller: a 1 KB write, its read back, a write
// beyond the device, a flush. The write takes the device's write time plus the host interface.
TEST(StorageHost, DirectQueueRoundTrips)
{
    host h({"platform.storage.device=raid", "platform.storage.raid.service_cv=0"});
    bool done = false;
    h.tb.spawn(0, "kernel", [&] {
        os::cpu_core& core = h.tb.core(0);
        auto [q, buf] = h.pf_queue_with_data();
        double write_ns = 0;
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, 1, storage::pf_nsid, 64, 2, buf), &write_ns), 0);
        // The device's 22.55 us, two blocks and the firmware's 0.42 us, plus the doorbell, the command,
        // data and completion crossing the link (0.2 us each way) and the IOMMU's first walks.
        EXPECT_GT(write_ns, 22'550 + 100 + 416 + 4 * 200);
        EXPECT_LT(write_ns, 26'500);
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::read, 2, storage::pf_nsid, 64, 2, buf + 0x1000)), 0);
        EXPECT_EQ(0, std::memcmp(core.mem(buf, 1024), core.mem(buf + 0x1000, 1024), 1024));
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, 3, storage::pf_nsid, ~0ULL >> 20, 2, buf)),
                  static_cast<uint16_t>(storage::status::lba_out_of_range));
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::flush, 4, storage::pf_nsid, 0, 0, 0)), 0);
        // The driver's work is the request's.
        const os::request_id id = core.open_request();
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::read, 5, storage::pf_nsid, 64, 1, buf)), 0);
        EXPECT_GT(h.tb.accounting(0).of(id)[static_cast<unsigned>(category::block_io)], 0.0);
        done = true;
        h.tb.stop();
    });
    EXPECT_TRUE(h.tb.run());
    EXPECT_TRUE(done);
    EXPECT_EQ(h.tb.controller().stats().writes, 1u);
    EXPECT_EQ(h.tb.controller().stats().bounds_errors, 1u);
}

// The device's service time varies around its mean with the kind's coefficient of variation
// (gamma-distributed, from the seed): 400 writes of 1 KB one at a time keep the fixed case's mean,
// and their spread is the device's.
TEST(StorageHost, ServiceTimeVariesAroundTheMean)
{
    host h({"platform.storage.device=raid", "platform.storage.raid.service_cv=0.1"});
    bool done = false;
    std::vector<double> ns;
    h.tb.spawn(0, "kernel", [&] {
        os::cpu_core& core = h.tb.core(0);
        auto [q, buf] = h.pf_queue_with_data();
        for (uint16_t i = 0; i < 400; ++i) {
            double w = 0;
            EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, i, storage::pf_nsid, 64 + 2 * i, 2, buf), &w), 0);
            ns.push_back(w);
        }
        done = true;
        h.tb.stop();
    });
    EXPECT_TRUE(h.tb.run());
    ASSERT_TRUE(done);
    double mean = 0, var = 0;
    for (double v : ns)
        mean += v / ns.size();
    for (double v : ns)
        var += (v - mean) * (v - mean) / (ns.size() - 1);
    // Fixed, a write takes 22.55 us in the device plus ~1.3 us around it (DirectQueueRoundTrips).
    EXPECT_GT(mean, 22'550 + 1'000);
    EXPECT_LT(mean, 22'550 + 2'500);
    const double cv = std::sqrt(var) / 22'550;   // all the spread is the device's
    EXPECT_GT(cv, 0.085);
    EXPECT_LT(cv, 0.115);
    EXPECT_GT(*std::max_element(ns.begin(), ns.end()) - *std::min_element(ns.begin(), ns.end()), 5'000.0);
}

// Interrupt-driven: the task blocks, the MSI-X vector arrives at the core, the handler wakes it.
TEST(StorageHost, InterruptWakesTheWaiter)
{
    host h({"platform.storage.device=ramdisk"});
    bool done = false;
    h.tb.spawn(0, "kernel", [&] {
        os::cpu_core& core = h.tb.core(0);
        h.boot();
        const uint64_t region = h.tb.pages().alloc(0x10000);
        h.setup->map_for_pf(region, 0x10000);
        auto q = h.queue({&core, models::storage_pf_bar0, false}, 2, region, os::dev::blk_wait::interrupt);
        unsigned irqs = 0;
        core.set_irq_handler([&](unsigned v) {
            EXPECT_EQ(v, 50u);
            ++irqs;
            q->interrupt();
        });
        q->init(category::scheduler);
        for (uint16_t i = 0; i < 5; ++i)
            EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, i, storage::pf_nsid, 8 * i, 8, region + 0x4000)), 0);
        EXPECT_EQ(irqs, 5u);
        EXPECT_GE(core.interrupts_taken(), 5u);
        done = true;
        h.tb.stop();
    });
    EXPECT_TRUE(h.tb.run());
    EXPECT_TRUE(done);
}

// An application on an emulated VSIC: the emulating core checks and forwards; bounds, rights and
// the DMA window are enforced there; the core's work is charged per command to `vsic`.
TEST(StorageHost, EmulatedVsicForwardsAndChecks)
{
    host h({"platform.storage.vsic_mode=emulated", "platform.storage.device=ramdisk"});
    bool done = false;
    uint64_t written = 0;
    h.tb.spawn(0, "app", [&] {
        os::cpu_core& core = h.tb.core(0);
        h.boot();
        const os::kernel::vsic_grant g = h.setup->create_vsic(category::scheduler, 0x10000);
        EXPECT_TRUE(g.emulated);
        h.setup->map_vsa(category::scheduler, g.vsic, 0, 42, 10000, 128, true, true);
        h.setup->map_vsa(category::scheduler, g.vsic, 1, 43, 20000, 16, true, false);
        auto q = h.queue(g.regs, 0, g.region_pa);
        q->init(category::scheduler);
        const uint64_t buf = g.region_pa + 0x4000;
        written = buf;
        fill(core, buf, 1024, 7);
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, 1, 42, 4, 2, buf)), 0);
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::read, 2, 42, 4, 2, buf + 0x1000)), 0);
        EXPECT_EQ(0, std::memcmp(core.mem(buf, 1024), core.mem(buf + 0x1000, 1024), 1024));
        using storage::status;
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, 3, 42, 127, 2, buf)), static_cast<uint16_t>(status::lba_out_of_range));
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, 4, 43, 0, 1, buf)), static_cast<uint16_t>(status::access_denied));
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::read, 5, 44, 0, 1, buf)), static_cast<uint16_t>(status::invalid_namespace));
        // A buffer outside the application's DMA window (the kernel's memory): refused, nothing moved.
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::read, 6, 42, 4, 2, 0x2000)),
                  static_cast<uint16_t>(status::data_transfer_error));
        done = true;
        h.emu->stop();
        h.tb.stop();
    });
    EXPECT_TRUE(h.tb.run());
    EXPECT_TRUE(done);
    // Two commands reached the controller, at the VSA's physical blocks.
    EXPECT_EQ(h.tb.controller().stats().writes, 1u);
    EXPECT_EQ(h.tb.controller().stats().reads, 1u);
    std::vector<uint8_t> img(1024);
    h.tb.controller().durable().read(10004, 2, img.data());
    EXPECT_EQ(0, std::memcmp(img.data(), h.tb.core(0).mem(written, 1024), 1024));
    EXPECT_EQ(h.emu->stats().commands, 2u);
    EXPECT_EQ(h.emu->stats().refused, 4u);
    EXPECT_EQ(h.emu->stats().completions, 6u);
    // Every command was a request of the emulating core, and its work is in `vsic`.
    const os::accounting& a = h.tb.accounting(1);
    ASSERT_EQ(a.requests(), 6u);
    for (os::request_id id = 1; id <= a.requests(); ++id) {
        EXPECT_TRUE(a.closed(id));
        EXPECT_GT(a.of(id)[static_cast<unsigned>(category::vsic)], 0.0);
    }
}

// Bounce buffers: the controller's domain maps none of the application's memory, so the data must
// pass through the VSIC core; a two-page PRP buffer goes out and comes back intact, the core pays
// for the copies, and a command larger than a bounce slot is refused.
TEST(StorageHost, EmulatedVsicBounceBuffers)
{
    host h({"platform.storage.vsic_mode=emulated", "platform.storage.device=ramdisk"});
    h.bounce = true;
    bool done = false;
    h.tb.spawn(0, "app", [&] {
        os::cpu_core& core = h.tb.core(0);
        h.boot();
        auto [g, q] = h.vsic_app(8, 4096, 256, 0, 0x20000);
        q->init(category::scheduler);
        // 2 KB from 1 KB before a page's end: two PRP entries.
        const uint64_t out = g.region_pa + 0x4C00, back = g.region_pa + 0x8C00;
        fill(core, out, 2048, 9);
        blk_request w = req(blk_op::write, 1, 8, 16, 4, out);
        w.prp = true;
        w.iova2 = g.region_pa + 0x5000;
        EXPECT_EQ(host::round_trip(core, *q, w), 0);
        blk_request r = req(blk_op::read, 2, 8, 16, 4, back);
        r.prp = true;
        r.iova2 = g.region_pa + 0x9000;
        EXPECT_EQ(host::round_trip(core, *q, r), 0);
        EXPECT_EQ(0, std::memcmp(core.mem(out, 2048), core.mem(back, 2048), 2048));
        // 32 KB: twice what a bounce slot holds.
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, 3, 8, 0, 64, g.region_pa + 0x8000)),
                  static_cast<uint16_t>(storage::status::invalid_field));
        done = true;
        h.emu->stop();
        h.tb.stop();
    });
    EXPECT_TRUE(h.tb.run());
    EXPECT_TRUE(done);
    EXPECT_EQ(h.tb.mmu().blocked(), 0u);
    EXPECT_EQ(h.tb.controller().stats().dma_errors, 0u);
    EXPECT_EQ(h.emu->stats().commands, 2u);
    // The copies are the VSIC core's work: 2 KB back, its lines from DRAM into the other core's.
    const os::accounting& a = h.tb.accounting(1);
    const auto& costs = h.tb.costs();
    const double copy_ns = costs.ns(costs.copy_call_cycles + costs.copy_byte_cycles * 2048) + costs.c2c_line_ns +
                           31 * (costs.c2c_stream_line_ns + costs.dram_stream_line_ns);
    EXPECT_GT(a.of(2)[static_cast<unsigned>(category::vsic)], copy_ns);
}

// Idle is cheap: across 50 ms of simulated time with nothing to do, the emulating core sleeps (a
// few passes per command, none in between) and its time is charged to polling, not to requests.
TEST(StorageHost, EmulatedVsicSleepsWhenIdle)
{
    host h({"platform.storage.vsic_mode=emulated", "platform.storage.device=ramdisk"});
    bool done = false;
    h.tb.spawn(0, "app", [&] {
        os::cpu_core& core = h.tb.core(0);
        h.boot();
        auto [g, q] = h.vsic_app(1, 0, 64);
        q->init(category::scheduler);
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, 1, 1, 0, 1, g.region_pa + 0x4000)), 0);
        const uint64_t passes = h.emu->stats().passes;
        core.wait_until(category::idle, [] { return false; }, nullptr, core.local_time() + sc_time(50, SC_MS));
        EXPECT_EQ(h.emu->stats().passes, passes);
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, 2, 1, 1, 1, g.region_pa + 0x4000)), 0);
        EXPECT_LE(h.emu->stats().passes, passes + 4);
        done = true;
        h.emu->stop();
        h.tb.stop();
    });
    EXPECT_TRUE(h.tb.run());
    EXPECT_TRUE(done);
    EXPECT_GT(h.tb.accounting(1).unattributed()[static_cast<unsigned>(category::poll)], 49e6);
}

// Two applications on two emulated VSICs, writing at once: the VSIC core serves both, each write
// lands in its own VSA, and the kernel runs out of VSICs at the limit it was given.
TEST(StorageHost, EmulatedVsicServesTwoApplications)
{
    host h({"platform.storage.vsic_mode=emulated", "platform.storage.device=ramdisk"});
    unsigned finished = 0;
    std::unique_ptr<os::dev::blk_queue> q[2];
    os::kernel::vsic_grant g[2];
    sc_event any_completion;   // both queues' arrivals
    constexpr unsigned writes = 20;
    h.tb.spawn(0, "apps", [&] {
        os::cpu_core& core = h.tb.core(0);
        h.boot();
        for (unsigned a = 0; a < 2; ++a) {
            auto made = h.vsic_app(1, 1000 * (a + 1), 100, 0, 0x10000, os::dev::blk_wait::poll, &any_completion);
            g[a] = made.g;
            q[a] = std::move(made.q);
            q[a]->init(category::scheduler);
            fill(core, g[a].region_pa + 0x4000, 512, static_cast<uint8_t>(a + 1));
        }
        for (unsigned v = 2; v < 8; ++v)
            h.setup->create_vsic(category::scheduler, 0x1000);
        EXPECT_THROW(h.setup->create_vsic(category::scheduler, 0x1000), std::runtime_error);
        // Both queues hold several writes at once; reap until all are back.
        std::vector<blk_completion> out;
        unsigned sent[2] = {0, 0}, got[2] = {0, 0};
        while (got[0] < writes || got[1] < writes) {
            for (unsigned a = 0; a < 2; ++a)
                while (sent[a] < writes && sent[a] - got[a] < 4 &&
                       q[a]->submit(category::block_io, req(blk_op::write, static_cast<uint16_t>(sent[a]), 1, sent[a], 1,
                                                            g[a].region_pa + 0x4000)))
                    ++sent[a];
            for (unsigned a = 0; a < 2; ++a) {
                out.clear();
                q[a]->reap(category::block_io, out, 16);
                for (const blk_completion& c : out) {
                    EXPECT_EQ(c.status, 0);
                    EXPECT_EQ(c.cid, got[a]);   // a VSIC's commands complete in order here (equal service times)
                    ++got[a];
                }
            }
            const bool all_back = got[0] == writes && got[1] == writes;
            if (!all_back && !q[0]->completion_ready() && !q[1]->completion_ready())
                core.wait_until(category::poll, [&] { return q[0]->completion_ready() || q[1]->completion_ready(); },
                                &any_completion);
        }
        finished = 2;
        h.emu->stop();
        h.tb.stop();
    });
    EXPECT_TRUE(h.tb.run());
    EXPECT_EQ(finished, 2u);
    EXPECT_EQ(h.emu->stats().commands, 2 * writes);
    for (unsigned a = 0; a < 2; ++a) {
        std::vector<uint8_t> img(block_bytes_of(writes));
        h.tb.controller().durable().read(1000 * (a + 1), writes, img.data());
        for (unsigned blk = 0; blk < writes; ++blk)
            EXPECT_EQ(img[blk * storage::block_bytes], static_cast<uint8_t>(a + 1)) << a << " " << blk;
    }
}

// An application that sleeps until its emulated VSIC interrupts it: the VSIC core sends the
// VSIC's MSI-X vector to the application's core as an interprocessor interrupt.
TEST(StorageHost, EmulatedVsicInterruptsTheApplication)
{
    host h({"platform.storage.vsic_mode=emulated", "platform.storage.device=ramdisk"});
    bool done = false;
    unsigned irqs = 0;
    h.tb.spawn(0, "app", [&] {
        os::cpu_core& core = h.tb.core(0);
        h.boot();
        host::app a = h.vsic_app(3, 0, 64, 0, 0x10000, os::dev::blk_wait::interrupt);
        const os::kernel::vsic_grant& g = a.g;
        os::dev::blk_queue* q = a.q.get();   // the interrupt handler's
        core.set_irq_handler([&](unsigned v) {
            EXPECT_EQ(v, 50u);
            ++irqs;
            q->interrupt();
        });
        q->init(category::scheduler);
        for (uint16_t i = 0; i < 4; ++i)
            EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, i, 3, 2 * i, 2, g.region_pa + 0x4000)), 0);
        done = true;
        h.emu->stop();
        h.tb.stop();
    });
    EXPECT_TRUE(h.tb.run());
    EXPECT_TRUE(done);
    EXPECT_EQ(irqs, 4u);
    EXPECT_EQ(h.emu->stats().interrupts, 4u);
    EXPECT_EQ(h.tb.root().msis(), 4u);
}

// The control plane's VSA bookkeeping drives the device through vsic_setup::program: a VSA
// acquired and mapped is reachable by its slot number, a resize moves its bound, an unmap closes it.
TEST(StorageHost, VsaManagerProgramsTheHardwareVsic)
{
    host h({"platform.storage.vsic_mode=hardware", "platform.storage.device=ramdisk"});
    bool done = false;
    h.tb.spawn(0, "app", [&] {
        os::cpu_core& core = h.tb.core(0);
        h.boot();
        const os::kernel::vsic_grant g = h.setup->create_vsic(category::scheduler, 0x10000);
        os::kernel::vsa_manager vsas(1 << 20, 1 << 20, 8, [&](unsigned vsic, unsigned slot, const os::kernel::vsa_slot& s) {
            h.setup->program(category::scheduler, vsic, slot, s);
        });
        const uint32_t vsa = vsas.acquire_vsa(7, "log", 16);
        const unsigned slot = vsas.map(7, vsa, g.vsic, true);   // commands name the VSA by its id
        auto q = h.queue(g.regs, 0, g.region_pa);
        q->init(category::scheduler);
        const uint64_t buf = g.region_pa + 0x4000;
        using storage::status;
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, 1, vsa, 15, 1, buf)), 0);
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, 2, vsa, 16, 1, buf)), static_cast<uint16_t>(status::lba_out_of_range));
        vsas.resize_vsa(7, vsa, 32);
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, 3, vsa, 16, 1, buf)), 0);
        vsas.unmap(g.vsic, slot);
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, 4, vsa, 0, 1, buf)), static_cast<uint16_t>(status::invalid_namespace));
        EXPECT_EQ(h.tb.controller().vsas().at(g.vsic, slot).valid, false);
        done = true;
        h.tb.stop();
    });
    EXPECT_TRUE(h.tb.run());
    EXPECT_TRUE(done);
    EXPECT_EQ(h.tb.controller().durable().blocks_written(), 2u);
}

// A hardware VSIC: its DMA runs in the application's IOMMU domain, so a buffer outside the
// application's memory faults in the IOMMU and fails that command alone.
TEST(StorageHost, HardwareVsicDmaFaultFailsOneCommand)
{
    host h({"platform.storage.vsic_mode=hardware", "platform.storage.device=ramdisk"});
    bool done = false;
    h.tb.spawn(0, "app", [&] {
        os::cpu_core& core = h.tb.core(0);
        h.boot();
        auto [g, q] = h.vsic_app(9, 500, 64, 2);
        EXPECT_FALSE(g.emulated);
        q->init(category::scheduler);
        const uint64_t buf = g.region_pa + 0x4000;
        fill(core, buf, 512, 3);
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::write, 1, 9, 0, 1, buf)), 0);
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::read, 2, 9, 0, 1, g.region_pa + 0x20000)),
                  static_cast<uint16_t>(storage::status::data_transfer_error));
        EXPECT_EQ(host::round_trip(core, *q, req(blk_op::read, 3, 9, 0, 1, buf + 0x1000)), 0);
        EXPECT_EQ(0, std::memcmp(core.mem(buf, 512), core.mem(buf + 0x1000, 512), 512));
        EXPECT_EQ(q->in_flight(), 0u);
        done = true;
        h.tb.stop();
    });
    EXPECT_TRUE(h.tb.run());
    EXPECT_TRUE(done);
    EXPECT_EQ(h.tb.mmu().blocked(), 1u);
    EXPECT_EQ(h.tb.controller().stats().dma_errors, 1u);
}

} // namespace

namespace {

// One column of the VSIC overhead experiment, 50 writes after 5 of warm-up.
sim::column_result overhead_column(const std::string& column, const std::vector<std::string>& sets = {})
{
    std::vector<std::string> all = {"experiment.requests=50", "experiment.warmup=5"};
    all.insert(all.end(), sets.begin(), sets.end());
    const cfg::config c = sim::load_run_config(
        (fs::path(sim::source_dir()) / "configs" / "experiments" / "vsic_overhead.yaml").string(), all, std::nullopt);
    return sim::run_vsic_overhead_column(c, column);
}

os::cost_model default_costs()
{
    return os::cost_model::from(sim::load_platform({}));
}

// The application's driver work per write on the direct path is exactly its primitives: the
// command, the tail doorbell (an uncached store), the completion's line from DRAM, the reap, the
// head doorbell.
TEST(StorageHost, DirectDriverWorkIsItsPrimitives)
{
    const sim::column_result r = overhead_column("direct");
    const os::cost_model k = default_costs();
    const double want = k.ns(k.a_blk_submit.cycles) + 2 * k.mmio_write_ns + k.dram_line_ns + k.ns(k.a_blk_reap.cycles);
    EXPECT_NEAR(r.rows_ns.at("app_driver").mean(), want, 1e-6);
    EXPECT_NEAR(r.rows_ns.at("app_driver").sigma(), 0.0, 1e-9);
    EXPECT_EQ(r.rows_ns.at("vsic_core").mean(), 0.0);
}

// The emulated VSIC core's work per command is exactly its primitives: the doorbell and command
// lines from the application's core, the check and forward, the controller's queue (command,
// doorbell; completion line from DRAM, reap, head doorbell), the completion's matching and its line
// given to the application's core. The application's own driver work: the command, its
// completion's line from the VSIC core, the reap (doorbells are stores to memory).
TEST(StorageHost, EmulatedVsicCoreWorkIsItsPrimitives)
{
    const sim::column_result r = overhead_column("emulated");
    const os::cost_model k = default_costs();
    const double vsic = 3 * k.c2c_line_ns + k.ns(k.s_vsic_command.cycles + k.s_vsic_complete.cycles) +
                        k.ns(k.a_blk_submit.cycles + k.a_blk_reap.cycles) + 2 * k.mmio_write_ns + k.dram_line_ns;
    EXPECT_NEAR(r.rows_ns.at("vsic_core").mean(), vsic, 1e-6);
    EXPECT_NEAR(r.rows_ns.at("vsic_core").sigma(), 0.0, 1e-9);
    const double app = k.ns(k.a_blk_submit.cycles + k.a_blk_reap.cycles) + k.c2c_line_ns;
    EXPECT_NEAR(r.rows_ns.at("app_driver").mean(), app, 1e-6);
}

// With bounce buffers, a 1 KB write adds the copy and its 16 lines from the application's core (the
// first at a transfer's latency, the rest streaming).
TEST(StorageHost, EmulatedCopyAddsTheCopy)
{
    const sim::column_result r = overhead_column("emulated_copy");
    const os::cost_model k = default_costs();
    const double vsic = 3 * k.c2c_line_ns + k.ns(k.s_vsic_command.cycles + k.s_vsic_complete.cycles) +
                        k.ns(k.a_blk_submit.cycles + k.a_blk_reap.cycles) + 2 * k.mmio_write_ns + k.dram_line_ns +
                        k.ns(k.copy_call_cycles + k.copy_byte_cycles * 1024) + k.c2c_line_ns + 15 * k.c2c_stream_line_ns;
    EXPECT_NEAR(r.rows_ns.at("vsic_core").mean(), vsic, 1e-6);
}

} // namespace
