#pragma once
// The kernel's physical page allocator for one host: hands out 4 KiB pages and contiguous regions
// of the host's DRAM, above a reserved low area.
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace iovsim::os::kernel {

constexpr uint64_t page_bytes = 4096;

class phys_alloc {
public:
    phys_alloc(uint64_t start, uint64_t end) : m_next(round_up(start)), m_end(end) {}

    // Contiguous, page-aligned; throws std::bad_alloc-like runtime_error when memory is exhausted.
    uint64_t alloc(uint64_t bytes)
    {
        const uint64_t size = round_up(bytes);
        if (size == page_bytes && !m_free_pages.empty()) {
            const uint64_t pa = m_free_pages.back();
            m_free_pages.pop_back();
            return pa;
        }
        if (m_next + size > m_end)
            throw std::runtime_error("simulated host out of physical memory");
        const uint64_t pa = m_next;
        m_next += size;
        return pa;
    }
    void free_page(uint64_t pa) { m_free_pages.push_back(pa); }
    uint64_t used() const { return m_next; }

private:
    static uint64_t round_up(uint64_t v) { return (v + page_bytes - 1) & ~(page_bytes - 1); }
    uint64_t m_next;
    uint64_t m_end;
    std::vector<uint64_t> m_free_pages;
};

} // namespace iovsim::os::kernel
