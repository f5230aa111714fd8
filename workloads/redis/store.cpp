#include "workloads/redis/store.h"

#include <cstring>

namespace iovsim::workloads::redis {

namespace {

size_t next_pow2(size_t n)
{
    size_t p = 4;   // DICT_HT_INITIAL_SIZE
    while (p < n)
        p <<= 1;
    return p;
}

} // namespace

store::store(size_t initial_buckets) { m_table[0].buckets.resize(next_pow2(initial_buckets)); }

store::~store()
{
    // Chains are unlinked iteratively: a long chain must not recurse through its destructors.
    for (table& t : m_table)
        for (auto& b : t.buckets)
            while (b)
                b = std::move(b->next);
}

// MurmurHash2 (Austin Appleby), 32-bit, seed 5381: Redis 2.8's dictGenHashFunction.
uint32_t store::hash(std::string_view key)
{
    constexpr uint32_t m = 0x5bd1e995;
    constexpr int r = 24;
    auto len = static_cast<uint32_t>(key.size());
    uint32_t h = 5381 ^ len;
    const auto* data = reinterpret_cast<const unsigned char*>(key.data());
    while (len >= 4) {
        uint32_t k;
        std::memcpy(&k, data, 4);   // little endian, as on x86
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
        data += 4;
        len -= 4;
    }
    switch (len) {
    case 3: h ^= static_cast<uint32_t>(data[2]) << 16; [[fallthrough]];
    case 2: h ^= static_cast<uint32_t>(data[1]) << 8; [[fallthrough]];
    case 1: h ^= data[0]; h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

// dictRehash(d, 1): moves the next non-empty bucket of table 0 into table 1, visiting at most ten
// empty buckets; when table 0 is empty, table 1 takes its place.
void store::rehash_step()
{
    if (m_rehash_idx < 0)
        return;
    ++m_rehash_steps;
    table& from = m_table[0];
    table& to = m_table[1];
    unsigned empty_visits = 10;
    while (from.used != 0 && !from.buckets[static_cast<size_t>(m_rehash_idx)]) {
        ++m_rehash_idx;
        if (--empty_visits == 0)
            return;
    }
    if (from.used != 0) {
        std::unique_ptr<entry> e = std::move(from.buckets[static_cast<size_t>(m_rehash_idx)]);
        while (e) {
            std::unique_ptr<entry> rest = std::move(e->next);
            auto& head = to.buckets[hash(e->key) & to.mask()];
            e->next = std::move(head);
            head = std::move(e);
            --from.used;
            ++to.used;
            e = std::move(rest);
        }
        ++m_rehash_idx;
    }
    if (from.used == 0) {
        m_table[0] = std::move(m_table[1]);
        m_table[1] = table{};
        m_rehash_idx = -1;
    }
}

// _dictExpandIfNeeded: load factor 1 starts a rehash into a table of the next power of two at or
// above twice the entries.
void store::expand_if_needed()
{
    if (m_rehash_idx >= 0 || m_table[0].used < m_table[0].buckets.size())
        return;
    m_table[1].buckets.resize(next_pow2(m_table[0].used * 2));
    m_table[1].used = 0;
    m_rehash_idx = 0;
    ++m_expansions;
}

std::unique_ptr<store::entry>* store::find_link(int t, std::string_view key, uint32_t h)
{
    table& tb = m_table[t];
    std::unique_ptr<entry>* link = &tb.buckets[h & tb.mask()];
    while (*link && std::string_view((*link)->key) != key)
        link = &(*link)->next;
    return link;
}

std::unique_ptr<store::entry>* store::find_entry(std::string_view key, uint32_t h, int& table)
{
    for (table = 0; table < (rehashing() ? 2 : 1); ++table) {
        std::unique_ptr<entry>* link = find_link(table, key, h);
        if (*link)
            return link;
    }
    return nullptr;
}

const std::string* store::get(std::string_view key)
{
    rehash_step();
    int t = 0;
    std::unique_ptr<entry>* link = find_entry(key, hash(key), t);
    return link ? &(*link)->value : nullptr;
}

bool store::set(std::string_view key, std::string_view value, size_t* freed)
{
    rehash_step();
    const uint32_t h = hash(key);
    int t = 0;
    if (std::unique_ptr<entry>* link = find_entry(key, h, t)) {
        if (freed != nullptr)
            *freed = (*link)->value.size();
        (*link)->value.assign(value);
        return false;
    }
    expand_if_needed();
    // New entries go to the head of their chain, in the new table while rehashing (dictAddRaw).
    table& tb = m_table[rehashing() ? 1 : 0];
    auto e = std::make_unique<entry>();
    e->key.assign(key);
    e->value.assign(value);
    auto& head = tb.buckets[h & tb.mask()];
    e->next = std::move(head);
    head = std::move(e);
    ++tb.used;
    return true;
}

bool store::del(std::string_view key, size_t* freed)
{
    rehash_step();
    int t = 0;
    std::unique_ptr<entry>* link = find_entry(key, hash(key), t);
    if (!link)
        return false;
    if (freed != nullptr)
        *freed = (*link)->value.size();
    *link = std::move((*link)->next);
    --m_table[t].used;
    return true;
}

size_t store::longest_chain() const
{
    size_t longest = 0;
    for (const table& t : m_table)
        for (const auto& b : t.buckets) {
            size_t n = 0;
            for (const entry* e = b.get(); e != nullptr; e = e->next.get())
                ++n;
            longest = n > longest ? n : longest;
        }
    return longest;
}

} // namespace iovsim::workloads::redis
