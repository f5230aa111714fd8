// The append-only file's contents: commands marshaled as RESP multibulks after one SELECT 0, handed
// to a backend with write then sync; an image replayed into a store reproduces the keyspace; a torn
// tail, a foreign byte and an unknown command are reported as Redis reports them.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "workloads/redis/aof_marshal.h"
#include "workloads/redis/resp.h"

using namespace iovsim::workloads::redis;

namespace {

// A backend in memory: what was written, and how much of it a sync made durable.
struct memory_backend : aof_backend {
    std::string bytes;
    size_t durable = 0;
    unsigned writes = 0, syncs = 0;
    bool refuse = false;
    bool write(const uint8_t* data, size_t len) override
    {
        ++writes;
        if (refuse)
            return false;
        bytes.append(reinterpret_cast<const char*>(data), len);
        return true;
    }
    bool sync() override
    {
        ++syncs;
        durable = bytes.size();
        return !refuse;
    }
};

const uint8_t* u8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

} // namespace

TEST(redis_aof, commands_marshaled_as_multibulk_after_select)
{
    aof_buffer b;
    const size_t n = b.append({"SET", "k", "v"});
    EXPECT_EQ(b.bytes(), "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
    EXPECT_EQ(n, b.size());
    memory_backend m;
    ASSERT_TRUE(b.write_to(m));
    ASSERT_TRUE(b.sync(m));
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(m.durable, m.bytes.size());
    // The SELECT is written once.
    b.append({"DEL", "k"});
    EXPECT_EQ(b.bytes(), "*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n");
    EXPECT_EQ(b.written_bytes(), m.bytes.size());
}

TEST(redis_aof, log_round_trips_into_a_fresh_store)
{
    store original;
    aof_buffer b;
    memory_backend m;
    // Sets, overwrites and deletes of 2000 keys with binary values, flushed in uneven groups.
    for (unsigned i = 0; i < 6000; ++i) {
        const std::string k = "key:" + std::to_string(i % 2000);
        std::string v(1 + i % 300, static_cast<char>(i));
        v[0] = '\r';
        if (i % 7 == 3) {
            if (original.del(k))
                b.append({"DEL", k});
        } else {
            original.set(k, v);
            b.append({"SET", k, v});
        }
        if (i % 5 == 0) {
            ASSERT_TRUE(b.write_to(m));
            ASSERT_TRUE(b.sync(m));
        }
    }
    ASSERT_TRUE(b.write_to(m));
    ASSERT_TRUE(b.sync(m));
    store replayed;
    const aof_load_result r = load_aof(u8(m.bytes), m.bytes.size(), replayed);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_FALSE(r.truncated);
    EXPECT_EQ(r.valid_bytes, m.bytes.size());
    EXPECT_EQ(replayed.size(), original.size());
    for (unsigned i = 0; i < 2000; ++i) {
        const std::string k = "key:" + std::to_string(i);
        const std::string* a = original.get(k);
        const std::string* c = replayed.get(k);
        ASSERT_EQ(a == nullptr, c == nullptr) << k;
        if (a) {
            EXPECT_EQ(*a, *c) << k;
        }
    }
}

TEST(redis_aof, torn_tail_loads_the_valid_prefix)
{
    aof_buffer b;
    b.append({"SET", "a", "1"});
    b.append({"SET", "b", "2"});
    const std::string whole = b.bytes();
    const size_t first_two = whole.size() - command_bytes({"SET", "b", "2"});
    for (size_t cut = first_two + 1; cut < whole.size(); ++cut) {
        store s;
        const aof_load_result r = load_aof(u8(whole), cut, s);
        ASSERT_TRUE(r.ok);
        EXPECT_TRUE(r.truncated);
        EXPECT_EQ(r.valid_bytes, first_two);
        EXPECT_EQ(r.commands, 2u);   // SELECT and the first SET
        EXPECT_EQ(s.size(), 1u);
    }
}

TEST(redis_aof, bad_images_are_refused_with_redis_words)
{
    store s;
    const std::string inline_cmd = "SET a 1\r\n";
    aof_load_result r = load_aof(u8(inline_cmd), inline_cmd.size(), s);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "Bad file format reading the append only file");
    std::string unknown;
    append_command(unknown, {"FLUSHALL"});
    r = load_aof(u8(unknown), unknown.size(), s);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "Unknown command 'FLUSHALL' reading the append only file");
    const std::string garbled = "*1\r\n+SET\r\n";
    r = load_aof(u8(garbled), garbled.size(), s);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "Bad file format reading the append only file");
}

TEST(redis_aof, refused_write_is_reported_and_the_buffer_dropped)
{
    aof_buffer b;
    memory_backend m;
    m.refuse = true;
    b.append({"SET", "a", "1"});
    EXPECT_FALSE(b.write_to(m));
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(b.written_bytes(), 0u);
    EXPECT_FALSE(b.sync(m));
}

namespace {

// A backend with memory of its own that takes the first `accept` stages offered.
struct staging_backend : memory_backend {
    int accept = 0;
    unsigned offered = 0;
    std::string staged;
    bool stage(const uint8_t* data, size_t len) override
    {
        ++offered;
        if (accept <= 0)
            return false;
        --accept;
        staged.append(reinterpret_cast<const char*>(data), len);
        return true;
    }
};

} // namespace

// The buffer offers a command's bytes to the backend's stage only while every byte before them
// since the last write was staged (the backend keeps them in order); the write hands over the
// whole buffer either way, and staging starts afresh after it.
TEST(redis_aof, buffer_stages_commands_in_order_only)
{
    aof_buffer b;
    staging_backend m;
    m.accept = 1;
    size_t n = b.append({"SET", "a", "1"});
    EXPECT_TRUE(b.stage_last(m, n));     // the SELECT and the SET
    EXPECT_EQ(b.staged(), b.size());
    n = b.append({"SET", "b", "2"});
    EXPECT_FALSE(b.stage_last(m, n));    // the backend refuses
    m.accept = 5;
    n = b.append({"SET", "c", "3"});
    EXPECT_FALSE(b.stage_last(m, n));    // not offered: the bytes before it went unstaged
    EXPECT_EQ(m.offered, 2u);
    EXPECT_FALSE(b.stage_last(m, 0));
    EXPECT_FALSE(b.stage_last(m, b.size() + 1));
    EXPECT_EQ(m.staged, b.bytes().substr(0, b.staged()));
    const std::string all = b.bytes();
    ASSERT_TRUE(b.write_to(m));
    EXPECT_EQ(m.bytes, all);
    EXPECT_EQ(b.staged(), 0u);
    n = b.append({"DEL", "a"});
    EXPECT_TRUE(b.stage_last(m, n));
    EXPECT_EQ(m.offered, 3u);
}
