#include "models/storage/media.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace iovsim::storage {

void block_store::check(uint64_t lba, uint32_t n) const
{
    if (n > m_blocks || lba > m_blocks - n)
        throw std::out_of_range("blocks " + std::to_string(lba) + "+" + std::to_string(n) + " beyond the device");
}

void block_store::read(uint64_t lba, uint32_t n, uint8_t* data) const
{
    check(lba, n);
    for (uint32_t i = 0; i < n; ++i) {
        const uint64_t b = lba + i;
        const auto it = m_chunks.find(b / chunk_blocks);
        uint8_t* out = data + static_cast<size_t>(i) * block_bytes;
        if (it == m_chunks.end())
            std::memset(out, 0, block_bytes);
        else
            std::memcpy(out, it->second.data() + (b % chunk_blocks) * block_bytes, block_bytes);
    }
}

void block_store::write(uint64_t lba, uint32_t n, const uint8_t* data)
{
    check(lba, n);
    for (uint32_t i = 0; i < n; ++i) {
        const uint64_t b = lba + i;
        auto& chunk = m_chunks[b / chunk_blocks];
        if (chunk.empty())
            chunk.assign(chunk_blocks * block_bytes, 0);
        std::memcpy(chunk.data() + (b % chunk_blocks) * block_bytes, data + static_cast<size_t>(i) * block_bytes,
                    block_bytes);
    }
    m_written += n;
}

bool write_cache::holds(uint64_t lba, uint32_t n) const
{
    for (uint32_t i = 0; i < n; ++i)
        if (!m_where.count(lba + i))
            return false;
    return true;
}

void write_cache::insert(uint64_t lba, uint32_t n)
{
    for (uint32_t i = 0; i < n; ++i) {
        const uint64_t b = lba + i;
        const auto it = m_where.find(b);
        if (it != m_where.end())
            m_lru.erase(it->second);
        m_lru.push_front(b);
        m_where[b] = m_lru.begin();
    }
    while (m_where.size() > m_capacity) {
        m_where.erase(m_lru.back());
        m_lru.pop_back();
        ++m_destaged;
    }
}

} // namespace iovsim::storage
