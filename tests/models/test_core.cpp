// The simulated core: charges advance its local time and land in (request, category); a task that
// blocks lets the core idle until an interrupt wakes it, with the idle time, the C-state exit and
// the switch back each where they belong; two tasks hand the core to each other; a poller sleeps
// on a watched range and wakes when a DMA write there lands. Times are asserted exactly.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>
#include <tlm_utils/simple_target_socket.h>

#include "models/platform/dram.h"
#include "os/core/cpu_core.h"
#include "tests/support/model_bench.h"

using namespace sc_core;
using namespace iovsim;
using os::category;
using iovsim::testing::ns;

namespace {

// 1 GHz, so cycles read as nanoseconds; no cache footprints.
os::cost_model test_costs()
{
    os::cost_model c;
    c.freq_ghz = 1.0;
    c.idle_exit_ns = 500;
    c.cold_after_idle_ns = 1e9;
    c.l_block.cycles = 100;
    c.l_schedule.cycles = 10;
    c.l_context_switch.cycles = 20;
    c.l_nohz_exit.cycles = 30;
    return c;
}

models::dram_params test_dram()
{
    models::dram_params p;
    p.size_bytes = 1 << 20;
    p.access_latency = ns(50);
    p.bandwidth_gbps = 8.0;   // 1 byte per ns
    return p;
}

double row(const os::accounting& a, os::request_id id, category c) { return a.of(id)[static_cast<unsigned>(c)]; }

// Nothing behind the core's MMIO port: these tests touch no device register.
struct no_devices : sc_module {
    tlm_utils::simple_target_socket<no_devices> socket;
    explicit no_devices(sc_module_name n) : sc_module(n), socket("socket")
    {
        socket.register_b_transport(this, &no_devices::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_time&) { t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE); }
};

struct core_bench {
    os::cost_model costs = test_costs();
    models::dram mem{"mem", test_dram()};
    os::accounting acct;
    os::cpu_core core{"core", 0, costs, mem, acct, ns(1000)};
    iovsim::testing::master dma{"dma"};
    no_devices devices{"devices"};
    core_bench()
    {
        iovsim::testing::strict_reports();
        dma.socket.bind(mem.target);
        core.bus.bind(devices.socket);
    }
};

} // namespace

TEST(core, charges_advance_local_time_and_land_in_request_and_category)
{
    core_bench b;
    os::request_id first = 0, second = 0;
    sc_time after;
    b.core.spawn("t", [&] {
        b.core.charge_ns(category::net_stack_in, 40);   // before any request: carried
        first = b.core.open_request();
        b.core.charge_ns(category::copy_out, 100);
        second = b.core.open_request();
        b.core.charge_ns(category::syscall, 7);
        b.core.charge_ns(category::poll, 3);            // waiting, no request's work
        after = b.core.local_time();
    });
    sc_start(ns(10000));
    EXPECT_EQ(after, ns(150));
    EXPECT_EQ(row(b.acct, first, category::net_stack_in), 40.0);
    EXPECT_EQ(row(b.acct, first, category::copy_out), 100.0);
    EXPECT_EQ(row(b.acct, second, category::syscall), 7.0);
    EXPECT_EQ(row(b.acct, second, category::poll), 0.0);
    EXPECT_EQ(b.acct.unattributed()[static_cast<unsigned>(category::poll)], 3.0);
}

TEST(core, blocked_task_woken_by_interrupt_pays_exit_and_switch_to_its_request)
{
    core_bench b;
    os::task* t = nullptr;
    os::request_id before = 0, woken_for = 0;
    sc_time resumed;
    b.core.set_irq_handler([&](unsigned vector) {
        EXPECT_EQ(vector, 0x41u);
        woken_for = b.core.open_request();
        b.core.charge_ns(category::net_stack_in, 50);
        b.core.wake(*t);
    });
    t = &b.core.spawn("t", [&] {
        before = b.core.open_request();
        b.core.block();
        resumed = b.core.local_time();
    });
    b.core.deliver_irq(0x41, ns(1000));
    sc_start(ns(10000));
    // Block (100) then idle until the interrupt at 1000; C-state exit 500, the handler 50, then
    // the way back to the task: nohz exit 30, schedule 10, context switch 20.
    EXPECT_EQ(resumed, ns(1000 + 500 + 50 + 30 + 10 + 20));
    EXPECT_EQ(row(b.acct, before, category::scheduler), 100.0);
    EXPECT_EQ(b.acct.unattributed()[static_cast<unsigned>(category::idle)], 900.0);
    EXPECT_EQ(row(b.acct, woken_for, category::scheduler), 500.0 + 30 + 10 + 20);
    EXPECT_EQ(row(b.acct, woken_for, category::net_stack_in), 50.0);
    EXPECT_EQ(b.core.interrupts_taken(), 1u);
    EXPECT_EQ(b.core.context_switches(), 1u);
}

// irq_ns counts handler time that interrupted a running task (an application can tell it from its
// own calls); a handler that ran while the core idled took no time from anything.
TEST(core, interrupt_time_is_counted_only_when_it_interrupts_a_running_task)
{
    core_bench b;
    os::task* t = nullptr;
    bool blocked = false;
    b.core.set_irq_handler([&](unsigned) {
        b.core.charge_ns(category::net_stack_in, 50);
        if (blocked)
            b.core.wake(*t);
    });
    t = &b.core.spawn("t", [&] {
        for (int i = 0; i < 5; ++i)   // the interrupt at 200 lands between these charges
            b.core.charge_ns(category::app, 100);
        EXPECT_EQ(b.core.irq_ns(category::net_stack_in), 50.0);
        blocked = true;
        b.core.block();   // the interrupt at 2000 finds the core idle
        blocked = false;
        b.core.charge_ns(category::app, 10);
    });
    b.core.deliver_irq(0x41, ns(200));
    b.core.deliver_irq(0x41, ns(2000));
    sc_start(ns(10000));
    EXPECT_EQ(b.core.interrupts_taken(), 2u);
    EXPECT_EQ(b.core.irq_ns(category::net_stack_in), 50.0);
}

// A copy with one side in DRAM: the first line's latency and the call, then the slower of the copy
// loop and the prefetched stream.
TEST(core, copy_from_dram_runs_at_the_slower_of_loop_and_stream)
{
    core_bench b;
    b.costs.dram_line_ns = 80;
    b.costs.dram_stream_line_ns = 20;
    b.costs.copy_call_cycles = 40;
    sc_time stream_bound, loop_bound;
    b.core.spawn("t", [&] {
        b.costs.copy_byte_cycles = 0.1;   // 1 KB: loop 102.4 ns, stream 16 lines x 20 = 320 ns
        b.core.copy_dram(category::app, 1024);
        stream_bound = b.core.local_time();
        b.costs.copy_byte_cycles = 0.5;   // loop 512 ns
        b.core.copy_dram(category::app, 1024);
        loop_bound = b.core.local_time() - stream_bound;
    });
    sc_start(ns(10000));
    EXPECT_EQ(stream_bound, ns(80 + 40 + 320));
    EXPECT_EQ(loop_bound, ns(80 + 40 + 512));
}

// A kernel thread borrows the address space of the task it follows (lazy TLB): switching back to
// that task leaves its process-context paths warm; another user task in between makes them cold.
TEST(core, only_another_address_space_makes_process_paths_cold)
{
    core_bench b;
    b.costs.cold_line_ns = 5;
    os::primitive p{10, 4, 1, true, false, false};   // process context, 4 lines
    std::vector<double> t;
    auto lap = [&] {
        const sc_time before = b.core.local_time();
        b.core.run(category::app, p);
        t.push_back((b.core.local_time() - before).to_seconds() * 1e9);
    };
    os::task* app = nullptr;
    app = &b.core.spawn("app", [&] {
        lap();                  // first run: 10 + 4 x 5
        b.core.block();         // to the kernel thread
        lap();                  // back from it: warm
        b.core.spawn("other", [&] { b.core.wake(*app); });
        b.core.block();         // to the other process
        lap();                  // its address space was loaded: cold
    });
    b.core.spawn(
        "kthread", [&] {
            b.core.wake(*app);
            b.core.block();
        },
        false);
    sc_start(ns(100000));
    const std::vector<double> want = {30, 10, 30};
    ASSERT_EQ(t.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
        EXPECT_NEAR(t[i], want[i], 1e-6) << "lap " << i;
}

// User code runs slower the first time it runs after a return from the kernel, by a share of its
// cycles that fades with the user work done since; not again until the next return, and not when
// it pays its cold footprint instead.
TEST(core, user_code_is_slowed_once_after_each_return_from_the_kernel)
{
    core_bench b;
    b.costs.syscall_pollution = 0.5;
    b.costs.syscall_pollution_cycles = 1000;
    b.costs.cold_line_ns = 5;
    os::primitive exit_path{10, 0, 1, false, false, true};    // SYSRET
    os::primitive a{100, 0, 2, false, true, false};
    os::primitive b_path{200, 0, 3, false, true, false};
    os::primitive kernel{50, 0, 4, false, false, false};
    os::primitive cold{100, 4, 5, true, true, false};        // process context, 4 lines
    std::vector<double> t;
    auto lap = [&](const os::primitive& p) {
        const sc_time before = b.core.local_time();
        b.core.run(category::app, p);
        t.push_back((b.core.local_time() - before).to_seconds() * 1e9);
    };
    b.core.spawn("t", [&] {
        lap(a);            // no return yet: 100
        lap(exit_path);    // 10
        lap(a);            // first after it, at 0 of 1000: 100 + 0.5 x 100
        lap(a);            // again: 100
        lap(b_path);       // first, 200 user cycles in: 200 + 0.5 x 0.8 x 200
        lap(kernel);       // kernel code is not slowed: 50
        lap(cold);         // cold since the start: 100 + 4 x 5, no slow-down
        lap(exit_path);
        lap(cold);         // warm now, first after the return: 100 + 0.5 x 100
        for (int i = 0; i < 5; ++i)
            lap(b_path);   // the first 100 cycles in: 200 + 0.5 x 0.9 x 200; then 200
        lap(a);            // first after the return, but 1,100 user cycles in: faded out
        b.core.make_cold();
        lap(exit_path);
        lap(cold);         // cold again: the footprint, no slow-down
    });
    sc_start(ns(100000));
    const std::vector<double> want = {100, 10, 150, 100, 280, 50, 120, 10, 150, 290, 200, 200, 200, 200, 100, 10, 120};
    ASSERT_EQ(t.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
        EXPECT_NEAR(t[i], want[i], 1e-6) << "lap " << i;
}

// State a path comes back to is in the LLC as far as the lines brought in since its last touch left
// it there: each line survives F fills of an N-line LLC with probability (1 - 1/N)^F.
TEST(core, resident_state_misses_by_what_was_brought_in_since)
{
    core_bench b;
    b.costs.llc_mb = 1000.0 * os::cache_line_bytes / (1024 * 1024);   // 1,000 lines
    b.costs.dram_line_ns = 80;
    os::llc_stamp conn;
    std::vector<double> t;
    std::vector<double> fills;
    auto lap = [&](const std::function<void()>& f) {
        const sc_time before = b.core.local_time();
        f();
        t.push_back((b.core.local_time() - before).to_seconds() * 1e9);
        fills.push_back(b.core.llc_fills());
    };
    const double survive = std::pow(1 - 1.0 / 1000, 1000);
    b.core.spawn("t", [&] {
        lap([&] { b.core.touch_resident(category::app, conn, 10); });         // never touched: 10 x 80
        lap([&] { b.core.touch_resident(category::app, conn, 10); });         // nothing came in since
        lap([&] { b.core.copy_dram(category::app, 64 * 600); });              // 600 lines come in
        lap([&] { b.core.touch_dma_lines(category::app, 400, true, true); }); // 400 more
        lap([&] { b.core.touch_resident(category::app, conn, 10); });         // 1,000 fills since
    });
    sc_start(ns(100000));
    ASSERT_EQ(t.size(), 5u);
    EXPECT_NEAR(t[0], 800, 1e-3);
    EXPECT_NEAR(t[1], 0, 1e-3);
    EXPECT_NEAR(t[4], 10 * (1 - survive) * 80, 1e-3);
    // The fill count: the first touch's 10 lines, the copy's 600, the DMA'd 400, the lines missed.
    EXPECT_DOUBLE_EQ(fills[0], 10);
    EXPECT_DOUBLE_EQ(fills[1], 10);
    EXPECT_DOUBLE_EQ(fills[3], 1010);
    EXPECT_NEAR(fills[4], 1010 + 10 * (1 - survive), 1e-9);
}

// Drivers of several devices share a core: each claims its vectors; the rest go to the default.
TEST(core, interrupts_are_dispatched_by_claimed_vector)
{
    core_bench b;
    std::vector<std::string> log;
    b.core.claim_vectors(0x40, 4, [&](unsigned v) { log.push_back("nic " + std::to_string(v)); });
    b.core.claim_vectors(0x50, 1, [&](unsigned v) { log.push_back("storage " + std::to_string(v)); });
    b.core.set_irq_handler([&](unsigned v) { log.push_back("default " + std::to_string(v)); });
    EXPECT_THROW(b.core.claim_vectors(0x43, 2, [](unsigned) {}), std::logic_error);   // 0x43 is the NIC's
    b.core.spawn("t", [&] {
        for (int i = 0; i < 100; ++i)   // interrupts are taken between charges
            b.core.charge_ns(category::app, 100);
    });
    b.core.deliver_irq(0x50, ns(100));
    b.core.deliver_irq(0x43, ns(200));
    b.core.deliver_irq(0x44, ns(300));   // just past the NIC's range
    sc_start(ns(1000));
    b.core.release_vectors(0x50, 1);
    b.core.deliver_irq(0x50, ns(100));   // released: the default handler's now
    sc_start(ns(10000));
    EXPECT_EQ(log, (std::vector<std::string>{"storage 80", "nic 67", "default 68", "default 80"}));
}

TEST(core, two_tasks_hand_the_core_to_each_other)
{
    core_bench b;
    std::vector<std::string> log;
    os::task* a = nullptr;
    a = &b.core.spawn("a", [&] {
        log.push_back("a runs");
        b.core.block();                 // b gets the core
        log.push_back("a back at " + b.core.local_time().to_string());
    });
    b.core.spawn("b", [&] {
        log.push_back("b runs at " + b.core.local_time().to_string());
        b.core.charge_ns(category::app, 70);
        b.core.wake(*a);
    });
    sc_start(ns(10000));
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log[0], "a runs");
    // a: block 100, schedule 10, switch 20 -> b starts at 130; b runs 70 and ends at 200; the core
    // goes back to a, which was made runnable.
    EXPECT_EQ(log[1], "b runs at " + ns(130).to_string());
    EXPECT_EQ(log[2], "a back at " + ns(200).to_string());
    EXPECT_EQ(b.core.context_switches(), 1u);
}

TEST(core, poller_on_a_watched_range_wakes_when_the_write_lands)
{
    core_bench b;
    sc_event written;
    b.mem.watch(0x1000, 64, written);
    sc_time woke;
    b.core.spawn("poller", [&] {
        const uint8_t* flag = b.core.mem(0x1000, 1);
        b.core.wait_until(category::poll, [&] { return *flag != 0; }, &written);
        woke = b.core.local_time();
    });
    // A device writes the flag at 200 ns: 8 bytes at 1 B/ns plus 50 ns of latency, landing at 258.
    sc_spawn([&] {
        wait(ns(200));
        uint8_t data[8] = {1, 0, 0, 0, 0, 0, 0, 0};
        sc_time delay = SC_ZERO_TIME;
        EXPECT_EQ(b.dma.access(tlm::TLM_WRITE_COMMAND, 0x1000, data, 8, delay), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(*b.mem.host_ptr(0x1000, 1), 0);   // in flight: not visible yet
    });
    sc_start(ns(10000));
    EXPECT_EQ(woke, ns(258));
    EXPECT_EQ(b.acct.unattributed()[static_cast<unsigned>(category::poll)], 258.0);
}
