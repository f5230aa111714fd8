#include "workloads/memcached/store.h"

#include <cstring>

namespace iovsim::workloads::mc {

namespace {

size_t round_pow2(size_t n)
{
    size_t p = 8;
    while (p < n)
        p <<= 1;
    return p;
}

bool same_key(const store::item& it, const uint8_t* key, size_t key_len)
{
    return it.key.size() == key_len && (key_len == 0 || std::memcmp(it.key.data(), key, key_len) == 0);
}

} // namespace

store::store(size_t initial_slots, size_t max_value) : m_slots(round_pow2(initial_slots)), m_max_value(max_value) {}

uint64_t store::hash(const uint8_t* key, size_t key_len)
{
    uint64_t h = 1469598103934665603ULL;   // FNV-1a
    for (size_t i = 0; i < key_len; ++i)
        h = (h ^ key[i]) * 1099511628211ULL;
    return h;
}

// The slot holding `key`, or the empty slot where it would go.
size_t store::find_slot(const uint8_t* key, size_t key_len, uint64_t h) const
{
    const size_t mask = m_slots.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const item& it = m_slots[i];
        if (it.cas == 0 || same_key(it, key, key_len))
            return i;
    }
}

const store::item* store::get(const uint8_t* key, size_t key_len) const
{
    const item& it = m_slots[find_slot(key, key_len, hash(key, key_len))];
    return it.cas == 0 ? nullptr : &it;
}

uint64_t store::set(const uint8_t* key, size_t key_len, const uint8_t* value, size_t value_len, uint32_t flags)
{
    if (value_len > m_max_value)
        return 0;
    if ((m_used + 1) * 4 > m_slots.size() * 3)
        grow();
    item& it = m_slots[find_slot(key, key_len, hash(key, key_len))];
    if (it.cas == 0) {
        it.key.assign(key, key + key_len);
        ++m_used;
    }
    it.value.assign(value, value + value_len);
    it.flags = flags;
    it.cas = m_next_cas++;
    return it.cas;
}

void store::grow()
{
    std::vector<item> old(m_slots.size() * 2);
    old.swap(m_slots);
    for (item& it : old) {
        if (it.cas == 0)
            continue;
        item& to = m_slots[find_slot(it.key.data(), it.key.size(), hash(it.key.data(), it.key.size()))];
        to = std::move(it);
    }
}

} // namespace iovsim::workloads::mc
