#pragma once
// The Redis-like server's keyspace: byte-string keys to byte-string values in a hash table built
// as Redis's dict is (dict.c): chained buckets in a power-of-two table, grown to the next power of
// two at or above twice the entries when the load factor reaches 1, and rehashed *incrementally*:
// while two tables exist, every lookup, insert and delete first moves one bucket from the old table
// to the new (visiting at most ten empty buckets), and new entries go to the new table. Chaining
// with incremental rehash is what Redis does, and it is why a SET never pays for a whole-table copy:
// the cost of growth is spread over the operations that follow, which keeps the per-request times
// of a breakdown free of rehash spikes. The hash is MurmurHash2 with Redis 2.8's seed
// (dictGenHashFunction). Pure logic, no simulated time: the server charges the work it does.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace iovsim::workloads::redis {

class store {
public:
    explicit store(size_t initial_buckets = 4);
    ~store();
    store(const store&) = delete;
    store& operator=(const store&) = delete;

    // The value under `key`, or nullptr (valid until the next change of the store).
    const std::string* get(std::string_view key);
    bool exists(std::string_view key) { return get(key) != nullptr; }
    // Stores or replaces; true when the key is new. A replaced value's size goes to `*freed`.
    bool set(std::string_view key, std::string_view value, size_t* freed = nullptr);
    // Removes; true when the key was there. The removed value's size goes to `*freed`.
    bool del(std::string_view key, size_t* freed = nullptr);

    size_t size() const { return m_table[0].used + m_table[1].used; }
    bool rehashing() const { return m_rehash_idx >= 0; }
    // Buckets of the main table (and of the table being filled while rehashing).
    size_t buckets() const { return m_table[0].buckets.size(); }
    size_t rehash_target_buckets() const { return m_table[1].buckets.size(); }
    uint64_t rehash_steps() const { return m_rehash_steps; }
    uint64_t expansions() const { return m_expansions; }
    // Longest chain in either table (for tests of the distribution).
    size_t longest_chain() const;

    static uint32_t hash(std::string_view key);

private:
    struct entry {
        std::string key, value;
        std::unique_ptr<entry> next;
    };
    struct table {
        std::vector<std::unique_ptr<entry>> buckets;
        size_t used = 0;
        size_t mask() const { return buckets.size() - 1; }
    };

    void rehash_step();
    void expand_if_needed();
    // The link that holds `key` (or the empty link at the end of its chain) in table t.
    std::unique_ptr<entry>* find_link(int t, std::string_view key, uint32_t h);
    // The link holding `key` in either table (the rehash target only while rehashing) and which
    // table it is in; nullptr when the key is absent.
    std::unique_ptr<entry>* find_entry(std::string_view key, uint32_t h, int& table);

    table m_table[2];
    long m_rehash_idx = -1;   // next bucket of table 0 to move; -1: not rehashing
    uint64_t m_rehash_steps = 0, m_expansions = 0;
};

} // namespace iovsim::workloads::redis
