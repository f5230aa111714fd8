#pragma once
// What the controller stores (pure logic, no SystemC): the durable image of the device, block by
// block, and the write cache's bookkeeping of which blocks it holds.
//
// Durability follows the paper's RAID controller: its DRAM write cache is flash-backed, so a block
// is durable once it is in the cache; the durable image is the union of the cache and the SSD, and
// one image represents both. Blocks never written read as zeros.
#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

#include "models/storage/storage_regs.h"

namespace iovsim::storage {

class block_store {
public:
    explicit block_store(uint64_t blocks) : m_blocks(blocks) {}

    uint64_t blocks() const { return m_blocks; }
    // `n` blocks from `lba` into/out of `data` (n * 512 bytes). The range must lie within the
    // device (callers check it first); throws std::out_of_range otherwise.
    void read(uint64_t lba, uint32_t n, uint8_t* data) const;
    void write(uint64_t lba, uint32_t n, const uint8_t* data);
    uint64_t blocks_written() const { return m_written; }

private:
    static constexpr unsigned chunk_blocks = 8;   // 4 KiB chunks: sparse, but not a node per block
    void check(uint64_t lba, uint32_t n) const;
    uint64_t m_blocks;
    std::unordered_map<uint64_t, std::vector<uint8_t>> m_chunks;
    uint64_t m_written = 0;
};

// The write cache's contents: which blocks are in it, least recently used evicted (destaged to the
// SSD) when it is full. A read whose blocks are all here is a hit.
class write_cache {
public:
    explicit write_cache(uint64_t capacity_blocks) : m_capacity(capacity_blocks) {}

    bool holds(uint64_t lba, uint32_t n) const;
    // Puts the blocks in (most recently used), destaging the oldest beyond capacity.
    void insert(uint64_t lba, uint32_t n);
    uint64_t size() const { return m_where.size(); }
    uint64_t destaged() const { return m_destaged; }

private:
    uint64_t m_capacity;
    std::list<uint64_t> m_lru;   // front: most recent
    std::unordered_map<uint64_t, std::list<uint64_t>::iterator> m_where;
    uint64_t m_destaged = 0;
};

} // namespace iovsim::storage
