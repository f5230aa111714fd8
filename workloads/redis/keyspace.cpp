#include "workloads/redis/keyspace.h"

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace iovsim::workloads::redis {

namespace {

uint8_t pattern_byte(uint32_t key, uint32_t version, size_t i)
{
    uint32_t x = key * 2654435761u ^ version * 40503u ^ static_cast<uint32_t>(i) * 2246822519u;
    x ^= x >> 15;
    return static_cast<uint8_t>(x);
}

} // namespace

std::string key_name(uint32_t key)
{
    char buf[24];
    const int n = std::snprintf(buf, sizeof buf, "key:%012u", key);
    return std::string(buf, static_cast<size_t>(n));
}

void value_of(uint32_t key, uint32_t version, size_t bytes, std::string& out)
{
    if (bytes < min_value_bytes)
        throw std::invalid_argument("redis values must be at least 8 bytes (key and version)");
    out.resize(bytes);
    std::memcpy(out.data(), &key, 4);
    std::memcpy(out.data() + 4, &version, 4);
    for (size_t i = min_value_bytes; i < bytes; ++i)
        out[i] = static_cast<char>(pattern_byte(key, version, i));
}

bool check_value(std::string_view v, size_t bytes, uint32_t& key, uint32_t& version)
{
    if (v.size() != bytes || bytes < min_value_bytes)
        return false;
    std::memcpy(&key, v.data(), 4);
    std::memcpy(&version, v.data() + 4, 4);
    for (size_t i = min_value_bytes; i < bytes; ++i)
        if (static_cast<uint8_t>(v[i]) != pattern_byte(key, version, i))
            return false;
    return true;
}

void preload(store& s, uint32_t keys, size_t value_bytes)
{
    std::string v;
    for (uint32_t k = 0; k < keys; ++k) {
        value_of(k, 0, value_bytes, v);
        s.set(key_name(k), v);
    }
}

} // namespace iovsim::workloads::redis
