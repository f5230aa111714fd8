#pragma once
// Fixed-size packet buffers carved from one contiguous physical region (DMA-able memory of a
// kernel or of an application). Allocation is LIFO, so recently freed (cache-warm) buffers are
// reused first, as slab allocators do.
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "os/core/cpu_core.h"
#include "os/net/pkt.h"

namespace iovsim::os::net {

class buffer_pool {
public:
    buffer_pool(cpu_core& core, uint64_t region_pa, uint32_t count, uint32_t buf_bytes)
        : m_core(core), m_pa(region_pa), m_count(count), m_buf_bytes(buf_bytes)
    {
        m_free.reserve(count);
        for (uint32_t i = count; i-- > 0;)
            m_free.push_back(i);
    }
    bool alloc(pkt& p)
    {
        if (m_free.empty()) {
            ++m_failures;
            return false;
        }
        const uint32_t id = m_free.back();
        m_free.pop_back();
        p = pkt{};
        p.buf_id = id;
        p.pa = m_pa + static_cast<uint64_t>(id) * m_buf_bytes;
        p.data = m_core.mem(p.pa, m_buf_bytes);
        p.capacity = m_buf_bytes;
        p.off = headroom;
        return true;
    }
    void free(const pkt& p)
    {
        if (p.buf_id >= m_count || p.pa != m_pa + static_cast<uint64_t>(p.buf_id) * m_buf_bytes)
            throw std::logic_error("buffer_pool: foreign buffer freed");
        m_free.push_back(p.buf_id);
    }
    uint64_t region_pa() const { return m_pa; }
    uint64_t region_bytes() const { return static_cast<uint64_t>(m_count) * m_buf_bytes; }
    uint32_t available() const { return static_cast<uint32_t>(m_free.size()); }
    uint64_t failures() const { return m_failures; }

private:
    cpu_core& m_core;
    uint64_t m_pa;
    uint32_t m_count;
    uint32_t m_buf_bytes;
    std::vector<uint32_t> m_free;
    uint64_t m_failures = 0;
};

} // namespace iovsim::os::net
