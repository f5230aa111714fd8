#include "models/platform/dram.h"

#include "sim/fast_time.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

using namespace sc_core;

namespace iovsim::models {

void dram::free_deleter::operator()(uint8_t* p) const { std::free(p); }

SC_HAS_PROCESS(dram);

dram::dram(sc_module_name name, const dram_params& params)
    : sc_module(name), target("target"), m_params(params)
{
    if (params.size_bytes == 0 || params.size_bytes > dram_max_bytes)
        throw std::invalid_argument("dram size out of range");
    m_bytes.reset(static_cast<uint8_t*>(std::calloc(params.size_bytes, 1)));
    if (!m_bytes)
        throw std::runtime_error("cannot reserve simulated DRAM");
    target.register_b_transport(this, &dram::b_transport);
    target.register_get_direct_mem_ptr(this, &dram::get_direct_mem_ptr);
    SC_METHOD(apply_writes);
    sensitive << m_apply_event;
    dont_initialize();
}

uint8_t* dram::host_ptr(uint64_t pa, uint64_t len)
{
    if (pa >= m_params.size_bytes || len > m_params.size_bytes - pa)
        throw std::out_of_range("physical address " + std::to_string(pa) + "+" + std::to_string(len) +
                                " outside DRAM");
    catch_up();
    return m_bytes.get() + pa;
}

// The memory controller serves one access at a time at its bandwidth; an access waits for the one
// before it. Returns the time the access completes, counted from `start`.
sc_time dram::occupy(uint64_t bytes, const sc_time& start)
{
    const sc_time transfer = sim::ns_to_time(static_cast<double>(bytes * 8) / m_params.bandwidth_gbps);
    const sc_time begin = std::max(start, m_busy_until);
    m_busy_until = begin + transfer;
    return m_busy_until + m_params.access_latency;
}

void dram::b_transport(tlm::tlm_generic_payload& trans, sc_time& delay)
{
    const uint64_t addr = trans.get_address();
    const uint64_t len = trans.get_data_length();
    if (addr >= m_params.size_bytes || len > m_params.size_bytes - addr || trans.get_byte_enable_ptr()) {
        ++m_errors;
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    const sc_time start = sc_time_stamp() + delay;
    const sc_time done = occupy(len, start);
    delay = done - sc_time_stamp();
    if (trans.is_read()) {
        std::memcpy(trans.get_data_ptr(), m_bytes.get() + addr, len);
        overlay_pending(addr, len, trans.get_data_ptr());
        m_bytes_read += len;
    } else if (trans.is_write()) {
        m_bytes_written += len;
        const uint8_t* src = trans.get_data_ptr();
        std::vector<uint8_t> data;
        if (!m_spare.empty()) {   // reuse the storage of writes already landed
            data = std::move(m_spare.back());
            m_spare.pop_back();
        }
        data.assign(src, src + len);
        m_pending.push_back({done, m_seq++, addr, std::move(data)});
        std::push_heap(m_pending.begin(), m_pending.end(), later{});
        // Who must be told when it lands; nobody: it is applied when someone next looks.
        auto tell = [this, done](sc_event* ev) {
            m_notify.push_back({done, ev});
            std::push_heap(m_notify.begin(), m_notify.end(), std::greater<notification>{});
        };
        for (const watch_range& r : m_watches)
            if (r.ev && addr < r.base + r.len && r.base < addr + len)
                tell(r.ev);
        if (m_notify_every_write)
            tell(&m_write_event);
        if (!m_notify.empty())
            m_apply_event.notify(m_notify.front().when - sc_time_stamp());
    }
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

// A read is served after every write that arrived before it: copies the bytes of writes still in
// flight over what memory holds, oldest first.
void dram::overlay_pending(uint64_t addr, uint64_t len, uint8_t* out) const
{
    // Writes still in flight, oldest first, over what memory holds. Most reads overlap none.
    const pending_write* hits[64];
    size_t n = 0;
    for (const pending_write& w : m_pending) {
        if (w.addr < addr + len && addr < w.addr + w.data.size()) {
            if (n == std::size(hits))
                break;   // more than 64 overlapping writes in flight: the oldest 64 are shown
            hits[n++] = &w;
        }
    }
    std::sort(hits, hits + n, [](const pending_write* a, const pending_write* b) { return a->seq < b->seq; });
    for (size_t i = 0; i < n; ++i) {
        const pending_write* w = hits[i];
        const uint64_t from = std::max(addr, w->addr);
        const uint64_t to = std::min(addr + len, w->addr + w->data.size());
        std::memcpy(out + (from - addr), w->data.data() + (from - w->addr), to - from);
    }
}

unsigned dram::watch(uint64_t base, uint64_t len, sc_event& ev)
{
    m_watches.push_back({base, len, &ev});
    return static_cast<unsigned>(m_watches.size() - 1);
}

void dram::unwatch(unsigned id)
{
    if (id < m_watches.size())
        m_watches[id].ev = nullptr;
}

void dram::announce_store(uint64_t base, uint64_t len, const sc_time& when)
{
    const sc_time at = std::max(when, sc_time_stamp());
    bool any = false;
    for (const watch_range& r : m_watches) {
        if (r.ev && base < r.base + r.len && r.base < base + len) {
            m_notify.push_back({at, r.ev});
            std::push_heap(m_notify.begin(), m_notify.end(), std::greater<notification>{});
            any = true;
        }
    }
    if (any)
        m_apply_event.notify(m_notify.front().when - sc_time_stamp());
}

void dram::catch_up()
{
    const sc_time now = sc_time_stamp();
    while (!m_pending.empty() && m_pending.front().when <= now) {
        std::pop_heap(m_pending.begin(), m_pending.end(), later{});
        pending_write& w = m_pending.back();
        std::memcpy(m_bytes.get() + w.addr, w.data.data(), w.data.size());
        m_spare.push_back(std::move(w.data));
        m_pending.pop_back();
    }
}

void dram::apply_writes()
{
    catch_up();
    const sc_time now = sc_time_stamp();
    while (!m_notify.empty() && m_notify.front().when <= now) {
        std::pop_heap(m_notify.begin(), m_notify.end(), std::greater<notification>{});
        m_notify.back().ev->notify(SC_ZERO_TIME);
        m_notify.pop_back();
    }
    if (!m_notify.empty())
        m_apply_event.notify(m_notify.front().when - now);
}

bool dram::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi)
{
    (void)trans;
    dmi.allow_read_write();
    dmi.set_dmi_ptr(m_bytes.get());
    dmi.set_start_address(0);
    dmi.set_end_address(m_params.size_bytes - 1);
    dmi.set_read_latency(m_params.access_latency);
    dmi.set_write_latency(m_params.access_latency);
    return true;
}

} // namespace iovsim::models
