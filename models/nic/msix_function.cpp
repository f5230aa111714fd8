#include "models/nic/msix_function.h"

#include <sysc/kernel/sc_spawn.h>

#include "models/nic/e10k_regs.h"

using namespace sc_core;

namespace iovsim::nic {

msix_function::msix_function(const char* name, unsigned vectors, send_fn send)
    : m_send(std::move(send)), m_vec(vectors)
{
    for (unsigned v = 0; v < vectors; ++v) {
        m_vec[v].timer = std::make_unique<sc_event>();
        sc_spawn_options opts;
        opts.spawn_method();
        opts.set_sensitivity(m_vec[v].timer.get());
        opts.dont_initialize();
        sc_spawn(
            [this, v] {
                m_vec[v].timer_armed = false;
                try_fire(v);
            },
            sc_gen_unique_name(name), &opts);
    }
}

void msix_function::raise(unsigned vector)
{
    if (vector >= m_vec.size())
        return;
    m_cause |= 1u << vector;
    try_fire(vector);
}

void msix_function::set_cause(uint32_t bits)
{
    for (unsigned v = 0; v < m_vec.size(); ++v)
        if (bits & (1u << v))
            raise(v);
}

void msix_function::enable(uint32_t bits)
{
    m_enabled |= bits;
    for (unsigned v = 0; v < m_vec.size(); ++v)
        if ((bits & (1u << v)) && (m_cause & (1u << v)))
            try_fire(v);
}

void msix_function::set_interval(unsigned vector, sc_time interval)
{
    if (vector < m_vec.size())
        m_vec[vector].interval = interval;
}

uint32_t msix_function::table_read(uint32_t offset) const
{
    const unsigned v = offset / e10k::msix_entry_bytes;
    if (v >= m_vec.size())
        return 0;
    const vector_state& s = m_vec[v];
    switch (offset % e10k::msix_entry_bytes) {
    case e10k::MSIX_ADDR_LO: return s.addr_lo;
    case e10k::MSIX_ADDR_HI: return s.addr_hi;
    case e10k::MSIX_DATA: return s.data;
    default: return s.ctrl;
    }
}

void msix_function::table_write(uint32_t offset, uint32_t value)
{
    const unsigned v = offset / e10k::msix_entry_bytes;
    if (v >= m_vec.size())
        return;
    vector_state& s = m_vec[v];
    switch (offset % e10k::msix_entry_bytes) {
    case e10k::MSIX_ADDR_LO: s.addr_lo = value; break;
    case e10k::MSIX_ADDR_HI: s.addr_hi = value; break;
    case e10k::MSIX_DATA: s.data = value; break;
    default:
        s.ctrl = value;
        if (!(value & e10k::MSIX_VECTOR_MASKED) && (m_cause & (1u << v)))
            try_fire(v);
        break;
    }
}

// Fires the vector if it has a cause, is enabled and unmasked, and its throttling interval since
// the last message has passed; otherwise arms the timer for the end of the interval.
void msix_function::try_fire(unsigned v)
{
    vector_state& s = m_vec[v];
    const uint32_t bit = 1u << v;
    if (!(m_cause & bit) || !(m_enabled & bit) || (s.ctrl & e10k::MSIX_VECTOR_MASKED))
        return;
    const sc_time now = sc_time_stamp();
    if (s.fired_once && now < s.last_fire + s.interval) {
        if (!s.timer_armed) {
            s.timer_armed = true;
            s.timer->notify(s.last_fire + s.interval - now);
        }
        return;
    }
    s.fired_once = true;
    s.last_fire = now;
    m_cause &= ~bit;            // MSI-X: the cause auto-clears when the message is sent
    if (m_auto_mask & bit)
        m_enabled &= ~bit;
    ++m_messages;
    m_send((static_cast<uint64_t>(s.addr_hi) << 32) | s.addr_lo, s.data);
}

} // namespace iovsim::nic
