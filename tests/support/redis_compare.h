#pragma once
// Two Redis keyspaces compared over the load generator's keys (key_name(0..keys-1)): how many keys
// are missing from either or hold different values. The integration tests replay a durable AOF
// into a fresh store and expect none against the server's.
#include <cstdint>
#include <string>

#include "workloads/redis/keyspace.h"
#include "workloads/redis/store.h"

namespace iovsim::testing {

inline unsigned keys_differing(workloads::redis::store& a, workloads::redis::store& b, uint32_t keys)
{
    unsigned differ = 0;
    for (uint32_t k = 0; k < keys; ++k) {
        const std::string key = workloads::redis::key_name(k);
        const std::string* va = a.get(key);
        const std::string* vb = b.get(key);
        if (!va || !vb || *va != *vb)
            ++differ;
    }
    return differ;
}

} // namespace iovsim::testing
