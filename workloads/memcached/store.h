#pragma once
// The server's in-memory hash table: keys to (value, flags, CAS), open addressing with linear
// probing, doubled when three quarters full (memcached itself chains and grows its table by
// powers of two; the workload's operations are the same: a hash, a probe, a compare, a copy).
// Pure logic, no simulated time: the server charges the work it does with it.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace iovsim::workloads::mc {

class store {
public:
    struct item {
        std::vector<uint8_t> key;
        std::vector<uint8_t> value;
        uint32_t flags = 0;
        uint64_t cas = 0;     // 0: the slot is empty
    };

    // `max_value` bytes at most per value (memcached's item size limit, here per datagram).
    explicit store(size_t initial_slots = 256, size_t max_value = 1 << 20);

    // The item under `key`, or nullptr.
    const item* get(const uint8_t* key, size_t key_len) const;
    // Stores (replaces) and returns the item's new CAS; 0 when the value is too large.
    uint64_t set(const uint8_t* key, size_t key_len, const uint8_t* value, size_t value_len, uint32_t flags);

    size_t size() const { return m_used; }
    size_t max_value() const { return m_max_value; }

    static uint64_t hash(const uint8_t* key, size_t key_len);

private:
    size_t find_slot(const uint8_t* key, size_t key_len, uint64_t h) const;
    void grow();

    std::vector<item> m_slots;   // power-of-two count
    size_t m_used = 0;
    size_t m_max_value;
    uint64_t m_next_cas = 1;
};

} // namespace iovsim::workloads::mc
