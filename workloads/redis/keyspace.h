#pragma once
// The benchmark's keys and values, shared by the load generator (which checks what a GET returns)
// and by whoever fills the server's store at start-up. Key k is "key:%012u" (redis-benchmark's
// "key:__rand_int__" form). A value of key k at version v (0: the preloaded one, then one per SET
// issued) starts with k and v (4 bytes each, little endian) and continues with bytes derived
// from both, so a reply can be checked byte for byte and a value of another key or version is
// recognised.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "workloads/redis/store.h"

namespace iovsim::workloads::redis {

constexpr size_t min_value_bytes = 8;

std::string key_name(uint32_t key);
// Writes the value of (key, version) into `out` (resized to `bytes`, at least min_value_bytes).
void value_of(uint32_t key, uint32_t version, size_t bytes, std::string& out);
// Reads the key and version a value claims and checks every byte against them and `bytes`.
bool check_value(std::string_view v, size_t bytes, uint32_t& key, uint32_t& version);
// Stores version 0 of keys [0, keys) directly, as if loaded from an RDB file at start-up.
void preload(store& s, uint32_t keys, size_t value_bytes);

} // namespace iovsim::workloads::redis
