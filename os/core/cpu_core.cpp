#include "os/core/cpu_core.h"

#include <cmath>
#include <stdexcept>

#include "sim/fast_time.h"
#include "sim/trace.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include <sysc/kernel/sc_spawn.h>

using namespace sc_core;

namespace iovsim::os {

namespace {

// The core of each task's thread (a process runs on one core for its life).
std::unordered_map<const sc_object*, cpu_core*>& core_of_process()
{
    static std::unordered_map<const sc_object*, cpu_core*> m;
    return m;
}

} // namespace

cpu_core* cpu_core::this_cpu()
{
    const auto& m = core_of_process();
    const auto it = m.find(sc_get_current_process_handle().get_process_object());
    return it == m.end() ? nullptr : it->second;
}

cpu_core::cpu_core(sc_module_name name, unsigned apic_id, const cost_model& costs, models::dram& mem,
                   accounting& acct, sc_time quantum)
    : sc_module(name), bus("bus"), m_apic_id(apic_id), m_costs(costs), m_mem(mem), m_acct(acct),
      m_warm(cost_model::primitive_count(), false), m_returned(cost_model::primitive_count(), 0)
{
    tlm_utils::tlm_quantumkeeper::set_global_quantum(quantum);
    m_quantum = quantum;
    m_qk.reset();
}

// ---- Tasks --------------------------------------------------------------------------------------

task& cpu_core::spawn(const std::string& name, std::function<void()> body, bool user)
{
    m_tasks.push_back(std::make_unique<task>());
    task& t = *m_tasks.back();
    t.m_name = name;
    t.m_user = user;
    sc_spawn(
        [this, &t, body = std::move(body)] {
            core_of_process()[sc_get_current_process_handle().get_process_object()] = this;
            if (m_current == nullptr) {
                m_current = &t;
                load_address_space(t);
                t.m_state = task::state::running;
            } else {
                m_runqueue.push_back(&t);
                while (m_current != &t)
                    wait(t.m_resume);
            }
            m_mem.catch_up();
            m_qk.reset();
            body();
            core_of_process().erase(sc_get_current_process_handle().get_process_object());
            t.m_state = task::state::done;
            sync();
            // Hand the core to the next runnable task; with none, the core idles until one is woken
            // (its thread is the sleeping task's, which runs the idle loop).
            if (!m_runqueue.empty()) {
                task* next = m_runqueue.front();
                m_runqueue.pop_front();
                load_address_space(*next);
                m_current = next;
                next->m_state = task::state::running;
                next->m_resume.notify(SC_ZERO_TIME);
            } else {
                m_current = nullptr;
            }
        },
        sc_gen_unique_name(name.c_str()));
    return t;
}

void cpu_core::wake(task& t)
{
    if (t.m_state != task::state::blocked)
        return;
    t.m_state = task::state::runnable;
    t.m_wake_request = m_request;
    if (&t != m_current)
        m_runqueue.push_back(&t);
    m_need_resched = true;
    m_event.notify(SC_ZERO_TIME);
}

void cpu_core::block()
{
    task& me = *m_current;
    me.m_state = task::state::blocked;
    // Before deciding to sleep, let the rest of the system catch up with this core's local time:
    // an interrupt that arrived meanwhile may already have made the task runnable again.
    sync();
    poll_interrupts();
    if (me.m_state != task::state::blocked) {
        me.m_state = task::state::running;
        return;
    }
    run(category::scheduler, m_costs.l_block);
    if (me.m_state == task::state::blocked && !m_runqueue.empty()) {
        task* next = m_runqueue.front();
        m_runqueue.pop_front();
        switch_to(*next);
        return;
    }
    if (me.m_state == task::state::blocked)
        idle_until_runnable();
    if (m_current == &me)
        me.m_state = task::state::running;
}

void cpu_core::schedule()
{
    m_need_resched = false;
    if (m_runqueue.empty() || m_current == nullptr)
        return;
    task* next = m_runqueue.front();
    m_runqueue.pop_front();
    m_current->m_state = task::state::runnable;
    m_runqueue.push_back(m_current);
    switch_to(*next);
}

// A user task other than the one whose address space is loaded flushes the TLB. A kernel thread
// borrows the address space of the task before it (lazy TLB), so switching back to that task
// reloads nothing.
void cpu_core::load_address_space(task& next)
{
    if (!next.m_user)
        return;
    if (&next != m_last_user)
        make_cold();
    m_last_user = &next;
}

// The thread of the current task hands the core to `next` and sleeps until it is switched back to.
void cpu_core::switch_to(task& next)
{
    task& me = *m_current;
    run(category::scheduler, m_costs.l_schedule);
    run(category::scheduler, m_costs.l_context_switch);
    load_address_space(next);
    me.m_request = m_request;
    sync();
    ++m_switches;
    m_current = &next;
    next.m_state = task::state::running;
    next.m_resume.notify(SC_ZERO_TIME);
    while (m_current != &me)
        wait(me.m_resume);
    m_mem.catch_up();
    m_qk.reset();
    m_request = me.m_request;
}

// The core has nothing to run: it halts until an interrupt makes a task runnable. The thread is that
// of the task that blocked; if that task is the one woken, it resumes without a thread switch (the
// kernel's switch from the idle task back to it is still charged).
void cpu_core::idle_until_runnable()
{
    task& me = *m_current;
    const request_id saved = m_request;
    m_request = no_request;
    sync();
    sc_time idle_since = sc_time_stamp();
    bool deep = false;   // idled long enough to lose the process's working set
    m_idle = true;
    for (;;) {
        if (me.m_state == task::state::runnable || !m_runqueue.empty())
            break;
        if (!m_irq_pending.empty() && m_irq_pending.front().first <= sc_time_stamp()) {
            const sc_time idled = sc_time_stamp() - idle_since;
            m_acct.charge(no_request, category::idle, sim::time_to_ns(idled));
            if (sim::time_to_ns(idled) > m_costs.cold_after_idle_ns)
                deep = true;
            charge_ns(category::scheduler, m_costs.idle_exit_ns);   // C-state exit
            poll_interrupts();
            sync();
            idle_since = sc_time_stamp();
            continue;
        }
        if (!m_irq_pending.empty())
            wait(m_irq_pending.front().first - sc_time_stamp(), m_event);
        else
            wait(m_event);
        m_mem.catch_up();
    }
    m_idle = false;
    const sc_time idled = sc_time_stamp() - idle_since;
    m_acct.charge(no_request, category::idle, sim::time_to_ns(idled));
    // Leaving idle is work for the request whose packet woke the task.
    task* next = me.m_state == task::state::runnable ? &me : m_runqueue.front();
    m_request = next->m_wake_request;
    if (deep)
        make_cold();
    run(category::scheduler, m_costs.l_nohz_exit);
    if (next == &me) {
        // Back from the idle task to the woken one.
        run(category::scheduler, m_costs.l_schedule);
        run(category::scheduler, m_costs.l_context_switch);
        ++m_switches;
        me.m_state = task::state::running;
        m_need_resched = false;
        m_request = saved;
        return;
    }
    m_runqueue.pop_front();
    switch_to(*next);
    m_request = saved;
}

// ---- Time -------------------------------------------------------------------------------------

void cpu_core::charge_ns(category c, double ns)
{
    if (ns <= 0)
        return;
    if (m_in_irq && !m_idle)
        m_irq_ns[static_cast<unsigned>(c)] += ns;
    if (!is_request_work(c))
        m_acct.charge(no_request, c, ns);
    else if (m_request == no_request)
        m_carry[static_cast<unsigned>(c)] += ns;
    else
        m_acct.charge(m_request, c, ns);
    if (trace::timeline* t = trace::active_timeline) {
        if (m_trace_lane < 0)
            m_trace_lane = static_cast<int>(t->module_lane(name()));
        t->slice(static_cast<unsigned>(m_trace_lane), to_string(c), local_time(), sim::ns_to_time(ns),
                 is_request_work(c) ? m_request : no_request);
    }
    m_qk.inc(sim::ns_to_time(ns));
    if (m_qk.get_local_time() >= m_quantum)   // a quantum ahead: let the others catch up
        sync();
    if (m_irq_enabled && !m_irq_pending.empty())
        poll_interrupts();
}

void cpu_core::run(category c, const primitive& p)
{
    double ns = m_costs.ns(p.cycles);
    if (m_cold_pending) {
        m_cold_pending = false;
        m_warm_epoch++;
    }
    bool cold = false;
    if (p.process_context && m_warm[p.id] != m_warm_epoch) {
        m_warm[p.id] = m_warm_epoch;
        ns += p.lines * m_costs.cold_line_ns;
        cold = true;
    } else if (!p.process_context && m_warm[p.id] == 0) {
        m_warm[p.id] = m_warm_epoch;
        ns += p.lines * m_costs.cold_line_ns;
        cold = true;
    }
    if (p.user_code)
        ns += m_costs.ns(user_pollution(p, cold && p.lines > 0));
    charge_ns(c, ns);
    if (p.returns_to_user) {
        ++m_return_epoch;
        m_user_since_return = 0;
    }
}

// The first time user code runs after a return from the kernel it finds its lines, TLB entries
// and branch history displaced by the kernel's, and runs slower by syscall_pollution of its cycles,
// fading linearly over syscall_pollution_cycles of user work. A path paying its cold footprint is
// refilled already; a path that ran since the return found its state again.
double cpu_core::user_pollution(const primitive& p, bool cold)
{
    const double start = m_user_since_return;
    m_user_since_return += p.cycles;
    const bool first = m_returned[p.id] != m_return_epoch;
    m_returned[p.id] = m_return_epoch;
    if (!first || cold || m_costs.syscall_pollution <= 0 || m_costs.syscall_pollution_cycles <= 0)
        return 0;
    const double fade = 1.0 - start / m_costs.syscall_pollution_cycles;
    return fade > 0 ? m_costs.syscall_pollution * fade * p.cycles : 0;
}

void cpu_core::touch_dma_lines(category c, unsigned lines, bool dca, bool sequential)
{
    const double per = dca ? m_costs.llc_line_ns : sequential ? m_costs.dram_stream_line_ns : m_costs.dram_line_ns;
    charge_ns(c, lines * per);
    llc_fill(lines);
}

void cpu_core::touch_resident(category c, llc_stamp& s, double lines)
{
    if (lines <= 0)
        return;
    double missing = 1;
    if (s.fills >= 0) {
        const double llc_lines = m_costs.llc_mb * 1024 * 1024 / cache_line_bytes;
        missing = -std::expm1((m_llc_fills - s.fills) * std::log1p(-1.0 / llc_lines));
    }
    charge_ns(c, lines * missing * m_costs.dram_line_ns);
    m_llc_fills += lines * missing;
    s.fills = m_llc_fills;
}

void cpu_core::copy(category c, size_t bytes)
{
    charge_ns(c, m_costs.ns(m_costs.copy_call_cycles + m_costs.copy_byte_cycles * static_cast<double>(bytes)));
}

void cpu_core::copy_dram(category c, size_t bytes)
{
    const double loop = m_costs.ns(m_costs.copy_byte_cycles * static_cast<double>(bytes));
    const double stream = lines_of(bytes) * m_costs.dram_stream_line_ns;
    charge_ns(c, m_costs.dram_line_ns + m_costs.ns(m_costs.copy_call_cycles) + std::max(loop, stream));
    llc_fill(lines_of(bytes));
}

void cpu_core::sync()
{
    m_qk.sync();
    m_mem.catch_up();
}

void cpu_core::make_cold()
{
    m_cold_pending = true;
}

request_id cpu_core::open_request()
{
    m_request = m_acct.open(m_carry);
    return m_request;
}

// ---- Devices ------------------------------------------------------------------------------------

// One 4-byte MMIO access through the bus at the core's local time; returns the annotated delay
// the path added to it.
sc_time cpu_core::mmio_access(tlm::tlm_command cmd, uint64_t addr, uint8_t* bytes)
{
    m_trans.set_command(cmd);
    m_trans.set_address(addr);
    m_trans.set_data_ptr(bytes);
    m_trans.set_data_length(4);
    m_trans.set_streaming_width(4);
    m_trans.set_byte_enable_ptr(nullptr);
    m_trans.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    const sc_time before = m_qk.get_local_time();
    sc_time delay = before;
    bus->b_transport(m_trans, delay);
    return delay - before;
}

void cpu_core::mmio_write32(category c, uint64_t addr, uint32_t value)
{
    uint8_t bytes[4];
    std::memcpy(bytes, &value, 4);
    mmio_access(tlm::TLM_WRITE_COMMAND, addr, bytes);   // posted: the core does not wait for it
    charge_ns(c, m_costs.mmio_write_ns);
}

uint32_t cpu_core::mmio_read32(category c, uint64_t addr)
{
    uint8_t bytes[4] = {};
    // Non-posted: the core stalls for the completion.
    charge_ns(c, sim::time_to_ns(mmio_access(tlm::TLM_READ_COMMAND, addr, bytes)));
    uint32_t v = 0;
    if (m_trans.get_response_status() == tlm::TLM_OK_RESPONSE)
        std::memcpy(&v, bytes, 4);
    else
        v = 0xFFFF'FFFFu;               // a master abort reads all ones
    return v;
}

// ---- Interrupts -----------------------------------------------------------------------------------

void cpu_core::deliver_irq(unsigned vector, const sc_time& delay)
{
    const sc_time at = sc_time_stamp() + delay;
    auto it = std::upper_bound(m_irq_pending.begin(), m_irq_pending.end(), at,
                               [](const sc_time& t, const std::pair<sc_time, unsigned>& e) { return t < e.first; });
    m_irq_pending.insert(it, {at, vector});
    m_event.notify(delay);
}

void cpu_core::claim_vectors(unsigned first, unsigned count, irq_handler h)
{
    for (unsigned v = first; v < first + count; ++v)
        if (m_vector_handlers.count(v))
            throw std::logic_error(name() + std::string(": interrupt vector ") + std::to_string(v) + " is already claimed");
    const auto shared = std::make_shared<irq_handler>(std::move(h));
    for (unsigned v = first; v < first + count; ++v)
        m_vector_handlers[v] = shared;
}

void cpu_core::release_vectors(unsigned first, unsigned count)
{
    for (unsigned v = first; v < first + count; ++v)
        m_vector_handlers.erase(v);
}

void cpu_core::poll_interrupts()
{
    while (m_irq_enabled && !m_irq_pending.empty() && m_irq_pending.front().first <= local_time()) {
        // An interrupt from this core's local future: the device that sent it, and the memory it
        // wrote before it, are at that time; let the system get there before the handler looks.
        if (m_irq_pending.front().first > sc_time_stamp())
            sync();
        const unsigned vector = m_irq_pending.front().second;
        m_irq_pending.pop_front();
        ++m_irqs;
        m_irq_enabled = false;
        m_in_irq = true;
        const request_id saved = m_request;
        m_request = no_request;
        if (const auto it = m_vector_handlers.find(vector); it != m_vector_handlers.end()) {
            const std::shared_ptr<irq_handler> h = it->second;   // the handler may release its vectors
            (*h)(vector);
        } else if (m_irq_handler) {
            m_irq_handler(vector);
        }
        m_request = saved;
        m_in_irq = false;
        m_irq_enabled = true;
    }
    if (m_need_resched && m_irq_enabled && m_current != nullptr &&
        m_current->m_state == task::state::running && !m_runqueue.empty())
        schedule();
}

void cpu_core::wait_until(category c, const std::function<bool()>& ready, const sc_event* wake,
                          const sc_time& deadline)
{
    const sc_event& memory = wake ? *wake : m_mem.dma_write_event();
    for (;;) {
        poll_interrupts();
        if (ready())
            return;
        // The core is ahead of SystemC time by its local offset. It sleeps without synchronizing
        // first: whatever lands before its local time is already visible (ready() saw it), and
        // whatever lands later wakes it. Woken before its local time, it keeps its offset.
        const sc_time local = local_time();
        if (deadline != SC_ZERO_TIME && deadline <= local)
            return;
        sc_time until = deadline;
        if (!m_irq_pending.empty() && (until == SC_ZERO_TIME || m_irq_pending.front().first < until))
            until = std::max(m_irq_pending.front().first, local);
        const sc_time now = sc_time_stamp();
        if (until != SC_ZERO_TIME && until > now)
            wait(until - now, m_event | memory);
        else if (until == SC_ZERO_TIME)
            wait(m_event | memory);
        m_mem.catch_up();
        const sc_time woke = sc_time_stamp();
        if (woke >= local) {
            m_acct.charge(no_request, c, sim::time_to_ns(woke - local));
            m_qk.reset();
        } else {
            m_qk.set(local - woke);
        }
        if (until != SC_ZERO_TIME && until <= local && until <= now)
            return;   // an interrupt or the deadline is due at once: let the caller look
    }
}

} // namespace iovsim::os
