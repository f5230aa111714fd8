#pragma once
// A simulated core: the execution context of the software in os/ and workloads/. Software runs as
// tasks (each a SystemC thread, one running at a time per core) that charge the time their code takes
// through the cost model; the core runs ahead of SystemC time by up to a quantum (loosely-timed TLM
// with temporal decoupling) and synchronizes when it waits or touches a device. Interrupts are taken
// at charge boundaries, when enabled, in the context of whatever runs. A core with nothing to run
// waits for an interrupt or a wake-up without burning host time (DESIGN.md rule 8).
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "models/platform/dram.h"
#include "models/platform/root_complex.h"
#include "os/core/accounting.h"
#include "os/core/cost_model.h"

namespace iovsim::os {

class cpu_core;

// A software thread. Created by cpu_core::spawn; its body runs on the core.
class task {
public:
    const std::string& name() const { return m_name; }
    bool runnable() const { return m_state == state::runnable || m_state == state::running; }

private:
    friend class cpu_core;
    enum class state { runnable, running, blocked, done };
    std::string m_name;
    state m_state = state::runnable;
    sc_core::sc_event m_resume;
    request_id m_request = no_request;
    request_id m_wake_request = no_request;   // the request whose processing woke the task
    bool m_user = true;     // has its own address space (a switch to it flushes the TLB)
};

class cpu_core : public sc_core::sc_module, public models::irq_sink {
public:
    tlm_utils::simple_initiator_socket<cpu_core> bus;   // MMIO through the root complex

    using irq_handler = std::function<void(unsigned vector)>;

    cpu_core(sc_core::sc_module_name name, unsigned apic_id, const cost_model& costs, models::dram& mem,
             accounting& acct, sc_core::sc_time quantum);

    unsigned apic_id() const { return m_apic_id; }
    const cost_model& costs() const { return m_costs; }
    models::dram& memory() { return m_mem; }
    accounting& acct() { return m_acct; }

    // ---- Tasks ----------------------------------------------------------------------------
    task& spawn(const std::string& name, std::function<void()> body, bool user = true);
    task* current() { return m_current; }
    // The core whose task is running the calling code (smp_processor_id()): for code shared by the
    // cores of a host, such as a kernel's stack. nullptr outside a task.
    static cpu_core* this_cpu();
    // The current task sleeps until wake(); the core runs other tasks or idles meanwhile.
    void block();
    void wake(task& t);
    // Switches to another runnable task if one is waiting (the scheduler's decision point).
    void schedule();
    void set_need_resched() { m_need_resched = true; }

    // ---- Time -----------------------------------------------------------------------------
    // The current code runs for `ns`, attributed to the current request and `c`.
    void charge_ns(category c, double ns);
    // Runs a code path: its cycles, plus its footprint if the caches are cold.
    void run(category c, const primitive& p);
    // Touches `lines` cache lines that a device wrote: from the LLC when DCA placed them there.
    void touch_dma_lines(category c, unsigned lines, bool dca, bool sequential);
    void copy(category c, size_t bytes);
    // A copy one side of which is in no cache (a value of a keyspace far larger than the LLC read,
    // or memory the allocator hands back after a long time written): the first line's DRAM latency,
    // then the slower of the copy loop and the DRAM stream the prefetcher keeps up.
    void copy_dram(category c, size_t bytes);
    // State a path comes back to after a while (one connection's, of many) is in the LLC only if
    // what the core brought into the LLC since did not evict it: with N lines of LLC and F lines
    // brought in since the last touch, each of its lines survives with probability (1 - 1/N)^F
    // (random replacement). The touch pays `lines` times the missing share at DRAM latency.
    void touch_resident(category c, llc_stamp& s, double lines);
    // `lines` new lines came into the LLC (a copy from DRAM, DMA'd data, memory first written).
    void llc_fill(double lines) { m_llc_fills += lines; }
    double llc_fills() const { return m_llc_fills; }
    sc_core::sc_time local_time() const { return m_qk.get_current_time(); }
    void sync();
    // The process-context working set is lost (address-space switch, deep idle): those paths pay
    // their footprint again the next time they run.
    void make_cold();

    // ---- Requests -------------------------------------------------------------------------
    request_id open_request();
    request_id request() const { return m_request; }
    void set_request(request_id id) { m_request = id; }
    // The request `id` (opened for a packet) serves no one: its work so far joins the core's carry,
    // as work before a packet is identified does, and goes to the next request opened here.
    void fold_request(request_id id)
    {
        m_acct.fold(id, m_carry);
        if (m_request == id)
            m_request = no_request;
    }
    // The request `from` turned out to be part of `into` (one user read of two segments): its row
    // joins into's.
    void merge_request(request_id from, request_id into) { m_acct.merge(from, into); }

    // ---- Devices --------------------------------------------------------------------------
    void mmio_write32(category c, uint64_t addr, uint32_t value);
    uint32_t mmio_read32(category c, uint64_t addr);
    uint8_t* mem(uint64_t pa, size_t len) { return m_mem.host_ptr(pa, len); }

    // ---- Interrupts and idle ---------------------------------------------------------------
    // Interrupts are dispatched by vector (the MSI data), as an IDT would: a driver claims the
    // vectors it programmed, so drivers of several devices share a core. A vector nobody claimed
    // goes to the default handler (set_irq_handler), if any.
    void set_irq_handler(irq_handler h) { m_irq_handler = std::move(h); }
    // Claims vectors [first, first + count) for `h`; throws std::logic_error if one is claimed.
    void claim_vectors(unsigned first, unsigned count, irq_handler h);
    void release_vectors(unsigned first, unsigned count);
    void deliver_irq(unsigned vector, const sc_core::sc_time& delay) override;
    // Until `ready()` holds, waits for DMA writes to memory (only those `wake` signals, when given:
    // a dram::watch on the polled memory), interrupts or wake-ups, charging the time to `c` (poll,
    // for no request). Used by pollers.
    // A non-zero `deadline` (absolute) also ends the wait; `ready` is then asked again.
    void wait_until(category c, const std::function<bool()>& ready, const sc_core::sc_event* wake = nullptr,
                    const sc_core::sc_time& deadline = sc_core::SC_ZERO_TIME);
    void poll_interrupts();

    uint64_t interrupts_taken() const { return m_irqs; }
    // Time charged to `c` by interrupt handlers on this core so far (ns) that interrupted a running
    // task: what ran asynchronously inside whichever code it interrupted, so an instrumented
    // application can tell it from its own calls. Handlers that ran while the core was idle (its
    // tasks asleep) are not counted: they took no time from a running call.
    double irq_ns(category c) const { return m_irq_ns[static_cast<unsigned>(c)]; }
    uint64_t context_switches() const { return m_switches; }

private:
    void idle_until_runnable();
    double user_pollution(const primitive& p, bool cold);
    sc_core::sc_time mmio_access(tlm::tlm_command cmd, uint64_t addr, uint8_t* bytes);
    void switch_to(task& next);
    void load_address_space(task& next);
    void enter(task& t);

    unsigned m_apic_id;
    const cost_model& m_costs;
    models::dram& m_mem;
    accounting& m_acct;
    tlm_utils::tlm_quantumkeeper m_qk;
    sc_core::sc_time m_quantum;
    std::vector<std::unique_ptr<task>> m_tasks;
    std::deque<task*> m_runqueue;
    task* m_current = nullptr;
    task* m_last_user = nullptr;          // the user task whose address space is loaded
    bool m_need_resched = false;
    request_id m_request = no_request;
    accounting::row m_carry{};             // work done before the next request is identified
    std::vector<uint32_t> m_warm;          // per primitive: the warmth epoch it last ran in
    uint32_t m_warm_epoch = 1;             // process-context paths ran in this epoch are warm
    bool m_cold_pending = false;
    std::vector<uint32_t> m_returned;      // per primitive: the return to user mode it last ran after
    double m_llc_fills = 0;                // lines brought into the LLC by this core's work
    uint32_t m_return_epoch = 0;           // returns from the kernel to user mode so far
    double m_user_since_return = 0;        // user code's cycles since the last return
    irq_handler m_irq_handler;
    std::map<unsigned, std::shared_ptr<irq_handler>> m_vector_handlers;   // claimed vectors
    std::deque<std::pair<sc_core::sc_time, unsigned>> m_irq_pending;   // (arrival, vector)
    bool m_irq_enabled = true;
    bool m_in_irq = false;
    bool m_idle = false;                   // in idle_until_runnable: no task is running
    std::array<double, category_count> m_irq_ns{};
    sc_core::sc_event m_event;             // interrupt arrival or wake-up
    uint64_t m_irqs = 0;
    uint64_t m_switches = 0;
    tlm::tlm_generic_payload m_trans;
    int m_trace_lane = -1;                 // this core's lane in a timeline trace, once there is one
};

} // namespace iovsim::os
