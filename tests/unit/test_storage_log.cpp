// The persistent log's layout and recovery (os/dataplane/storage_log), over a fake VSA whose writes
// land when the test says, sector by sector, so torn writes and reordering can be produced at will.
#include "os/dataplane/storage_log.h"

#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "sim/log_crash.h"
#include "sim/wire/crc32c.h"

namespace iovsim::os::dataplane {
namespace {

constexpr uint32_t sector = 512;

// A VSA: `device` is what is durable. A write copies its bytes from the image when issued (the DMA)
// and lands sector by sector at times the test chooses.
struct fake_vsa : log_io {
    struct inflight {
        uint64_t offset;
        std::vector<uint8_t> data;
        uint64_t token;
        std::vector<double> land;   // per sector
        double done;                // completion posted
        bool failed = false;
    };
    explicit fake_vsa(uint64_t capacity) : device(capacity, 0), image(capacity, 0) {}

    bool write(uint64_t offset, uint32_t bytes, uint64_t token) override
    {
        if (writes.size() >= depth)
            return false;
        inflight w;
        w.offset = offset;
        w.data.assign(image.begin() + offset, image.begin() + offset + bytes);
        w.token = token;
        const unsigned n = bytes / sector;
        double last = now;
        for (unsigned i = 0; i < n; ++i) {
            w.land.push_back(now + (rng ? std::uniform_real_distribution<double>(0.1, 3.0)(*rng) : 0.0));
            last = std::max(last, w.land.back());
        }
        w.done = last + (rng ? std::uniform_real_distribution<double>(0.0, 1.0)(*rng) : 0.0);
        writes.push_back(std::move(w));
        return true;
    }
    // Everything up to time t lands; completions due are given to the log, in posting order.
    void advance(double t, persistent_log& log)
    {
        now = t;
        for (auto& w : writes)
            for (size_t i = 0; i < w.land.size(); ++i)
                if (w.land[i] <= t)
                    land(w, i);
        for (;;) {
            auto it = std::min_element(writes.begin(), writes.end(), [](const inflight& a, const inflight& b) { return a.done < b.done; });
            if (it == writes.end() || it->done > t)
                break;
            const inflight w = std::move(*it);
            writes.erase(it);
            log.complete(w.token, !w.failed);
        }
    }
    void land(inflight& w, size_t i)
    {
        if (w.land[i] < 0)
            return;
        std::memcpy(device.data() + w.offset + i * sector, w.data.data() + i * sector, sector);
        w.land[i] = -1;
    }
    // Completes everything at once, in issue order.
    void drain(persistent_log& log)
    {
        while (!writes.empty()) {
            inflight w = std::move(writes.front());
            writes.pop_front();
            for (size_t i = 0; i < w.land.size(); ++i)
                land(w, i);
            log.complete(w.token, !w.failed);
        }
    }
    // What a power loss at time `now` leaves: landed sectors, and in some writes a sector half written.
    std::vector<uint8_t> crash_image(std::mt19937_64& r) const
    {
        std::vector<uint8_t> img = device;
        for (const auto& w : writes)
            for (size_t i = 0; i < w.land.size(); ++i)
                if (w.land[i] >= 0 && std::bernoulli_distribution(0.3)(r)) {
                    const size_t part = std::uniform_int_distribution<size_t>(1, sector - 1)(r);
                    std::memcpy(img.data() + w.offset + i * sector, w.data.data() + i * sector, part);
                }
        return img;
    }

    std::vector<uint8_t> device, image;
    std::deque<inflight> writes;
    size_t depth = 64;
    double now = 0;
    std::mt19937_64* rng = nullptr;
};

// A formatted log on a fresh fake VSA.
struct log_on_fake {
    log_on_fake(uint64_t capacity, uint32_t mtu, uint64_t log_id) : vsa(capacity), log(vsa.image.data(), capacity, mtu, vsa)
    {
        log.format(log_id);
    }
    fake_vsa vsa;
    persistent_log log;
};

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

uint64_t append_ok(persistent_log& log, const std::vector<uint8_t>& d)
{
    uint64_t seq = 0;
    EXPECT_EQ(log.append(d.data(), static_cast<uint32_t>(d.size()), seq), persistent_log::append_status::ok);
    return seq;
}

TEST(crc32c, check_value)
{
    const std::string s = "123456789";
    EXPECT_EQ(wire::crc32c(reinterpret_cast<const uint8_t*>(s.data()), s.size()), 0xE3069283u);
    // In pieces, as over a header then a payload.
    const uint32_t a = wire::crc32c(reinterpret_cast<const uint8_t*>(s.data()), 4);
    EXPECT_EQ(wire::crc32c(reinterpret_cast<const uint8_t*>(s.data()) + 4, 5, a), 0xE3069283u);
}

TEST(storage_log, layout_on_the_device)
{
    log_on_fake t(64 * 1024, 4096, 77);
    fake_vsa& vsa = t.vsa;
    persistent_log& log = t.log;
    const uint64_t s1 = append_ok(log, bytes_of("hello"));
    const uint64_t s2 = append_ok(log, std::vector<uint8_t>(600, 0xAB));
    vsa.drain(log);
    EXPECT_EQ(s1, 1u);
    EXPECT_EQ(s2, 2u);
    EXPECT_EQ(log.durable_seq(), 2u);

    log_header h{};
    ASSERT_TRUE(read_log_header(vsa.device.data(), vsa.device.size(), 1, h));   // generation 1 in copy 1
    EXPECT_FALSE(read_log_header(vsa.device.data(), vsa.device.size(), 0, h) && h.generation > 1);
    ASSERT_TRUE(read_log_header(vsa.device.data(), vsa.device.size(), 1, h));
    EXPECT_EQ(h.version, log_version);
    EXPECT_EQ(h.mtu, 4096u);
    EXPECT_EQ(h.block_bytes, 512u);
    EXPECT_EQ(h.log_id, 77u);
    EXPECT_EQ(h.head, log_data_start);
    EXPECT_EQ(h.head_seq, 1u);
    EXPECT_EQ(h.capacity, 64u * 1024);

    // Entry 1 in block 2, one block; entry 2 (32 + 600 bytes) in blocks 3-4.
    log_entry_header e{};
    std::memcpy(&e, vsa.device.data() + 1024, sizeof e);
    EXPECT_EQ(e.magic, log_entry_magic);
    EXPECT_EQ(e.length, 5u);
    EXPECT_EQ(e.seq, 1u);
    EXPECT_EQ(std::memcmp(vsa.device.data() + 1024 + 32, "hello", 5), 0);
    std::memcpy(&e, vsa.device.data() + 1536, sizeof e);
    EXPECT_EQ(e.seq, 2u);
    EXPECT_EQ(e.length, 600u);
    EXPECT_EQ(log_entry_bytes(600), 1024u);
    // The image in memory is the device's layout, byte for byte.
    EXPECT_EQ(std::memcmp(vsa.image.data() + 1024, vsa.device.data() + 1024, 2048), 0);

    // Truncate: the header in force (generation 2, copy 0) has the new head and count.
    log.truncate(1);
    vsa.drain(log);
    ASSERT_TRUE(read_log_header(vsa.device.data(), vsa.device.size(), 0, h));
    EXPECT_EQ(h.generation, 2u);
    EXPECT_EQ(h.head, 1536u);
    EXPECT_EQ(h.head_seq, 2u);
    EXPECT_EQ(h.entry_count, 1u);
    EXPECT_EQ(h.tail, 2560u);
    EXPECT_EQ(h.tail_seq, 3u);
}

TEST(storage_log, read_iterate_and_reopen)
{
    log_on_fake t(64 * 1024, 8192, 5);
    fake_vsa& vsa = t.vsa;
    persistent_log& log = t.log;
    for (int i = 0; i < 10; ++i)
        append_ok(log, bytes_of("entry " + std::to_string(i)));
    vsa.drain(log);
    uint32_t len = 0;
    const uint8_t* p = log.read(4, len);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(p), len), "entry 3");
    std::vector<uint64_t> seen;
    log.iterate(7, [&](uint64_t s, const uint8_t*, uint32_t) { seen.push_back(s); return true; });
    EXPECT_EQ(seen, (std::vector<uint64_t>{7, 8, 9, 10}));
    EXPECT_EQ(log.read(11, len), nullptr);

    // Power cycle: the device's bytes are all a new instance sees.
    std::vector<uint8_t> img2 = vsa.device;
    fake_vsa vsa2(img2.size());
    vsa2.image = img2;
    vsa2.device = img2;
    persistent_log log2(vsa2.image.data(), vsa2.image.size(), 8192, vsa2);
    ASSERT_TRUE(log2.open());
    EXPECT_EQ(log2.epoch(), 2u);
    EXPECT_EQ(log2.entries(), 10u);
    p = log2.read(10, len);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(p), len), "entry 9");
    // New appends are acknowledged only once the new epoch's header is durable.
    const uint64_t s = append_ok(log2, bytes_of("after"));
    EXPECT_EQ(s, 11u);
    EXPECT_EQ(log2.durable_seq(), 10u);
    vsa2.drain(log2);
    EXPECT_EQ(log2.durable_seq(), 11u);
}

TEST(storage_log, completions_are_acknowledged_in_order)
{
    log_on_fake t(64 * 1024, 4096, 1);
    fake_vsa& vsa = t.vsa;
    persistent_log& log = t.log;
    vsa.drain(log);
    append_ok(log, bytes_of("a"));
    append_ok(log, bytes_of("b"));
    ASSERT_EQ(vsa.writes.size(), 2u);
    fake_vsa::inflight second = vsa.writes.back();
    vsa.writes.pop_back();
    log.complete(second.token, true);   // the later one first
    EXPECT_EQ(log.durable_seq(), 0u);
    vsa.drain(log);
    EXPECT_EQ(log.durable_seq(), 2u);
}

TEST(storage_log, torn_and_garbage_entries_end_the_chain)
{
    log_on_fake t(64 * 1024, 4096, 9);
    fake_vsa& vsa = t.vsa;
    persistent_log& log = t.log;
    for (int i = 0; i < 5; ++i)
        append_ok(log, std::vector<uint8_t>(700, static_cast<uint8_t>(i)));
    vsa.drain(log);
    std::vector<uint8_t> img = vsa.device;
    // Entry 3 lost its second block (torn): recovery stops after entry 2.
    const uint64_t e3 = log_data_start + 2 * log_entry_bytes(700);
    std::memset(img.data() + e3 + 512, 0x5A, 512);
    log_recovery r = recover_log(img.data(), img.size());
    ASSERT_TRUE(r.ok);
    ASSERT_EQ(r.entries.size(), 2u);
    EXPECT_EQ(r.next_seq, 3u);
    EXPECT_EQ(r.tail, e3);
    // A sealed entry of another log, or with the wrong sequence number, is not taken either.
    img = vsa.device;
    log_entry_header h{};
    std::memcpy(&h, img.data() + e3, sizeof h);
    h.log_id = 10;
    std::memcpy(img.data() + e3, &h, sizeof h);
    EXPECT_EQ(recover_log(img.data(), img.size()).entries.size(), 2u);
    // No header at all: the log does not open.
    img = vsa.device;
    std::memset(img.data(), 0, 1024);
    EXPECT_FALSE(recover_log(img.data(), img.size()).ok);
}

TEST(storage_log, a_torn_header_falls_back_to_the_previous_copy)
{
    log_on_fake t(64 * 1024, 4096, 3);
    fake_vsa& vsa = t.vsa;
    persistent_log& log = t.log;
    for (int i = 0; i < 4; ++i)
        append_ok(log, bytes_of("x"));
    vsa.drain(log);
    log.truncate(2);   // generation 2 -> copy 0
    ASSERT_EQ(vsa.writes.size(), 1u);
    vsa.writes.front().data[40] ^= 0xFF;   // the header write lands torn
    vsa.drain(log);
    const log_recovery r = recover_log(vsa.device.data(), vsa.device.size());
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.header.generation, 1u);
    EXPECT_EQ(r.entries.size(), 4u);   // the truncate never became durable
}

TEST(storage_log, wraps_around_and_reuses_space_only_after_the_head_is_durable)
{
    fake_vsa vsa(8 * 1024);   // 14 data blocks
    persistent_log log(vsa.image.data(), vsa.image.size(), 4096, vsa);
    log.format(4);
    const std::vector<uint8_t> big(900, 1);   // two blocks each
    for (int i = 0; i < 7; ++i)
        append_ok(log, big);
    vsa.drain(log);
    uint64_t seq = 0;
    EXPECT_EQ(log.append(big.data(), 900, seq), persistent_log::append_status::full);
    log.truncate(3);
    // The new head is not durable yet: still full.
    EXPECT_EQ(log.append(big.data(), 900, seq), persistent_log::append_status::full);
    vsa.drain(log);
    const uint64_t s8 = append_ok(log, big);
    EXPECT_EQ(s8, 8u);
    vsa.drain(log);
    EXPECT_EQ(log.entries(), 5u);   // 4..8, entry 8 wrapped to the first data block
    const log_recovery r = recover_log(vsa.device.data(), vsa.device.size());
    ASSERT_EQ(r.entries.size(), 5u);
    EXPECT_EQ(r.entries.front().seq, 4u);
    EXPECT_EQ(r.entries.back().offset, log_data_start);
    // Many more rounds through the ring keep a consistent, recoverable log.
    for (int round = 0; round < 50; ++round) {
        if (log.append(big.data(), 900, seq) == persistent_log::append_status::full) {
            log.truncate(log.durable_seq() - 2);
        }
        vsa.drain(log);
    }
    const log_recovery r2 = recover_log(vsa.device.data(), vsa.device.size());
    ASSERT_TRUE(r2.ok);
    EXPECT_EQ(r2.next_seq, log.durable_seq() + 1);
    EXPECT_GE(r2.entries.size(), 3u);
    // Too large for the device's MTU.
    const std::vector<uint8_t> huge(5000, 2);
    EXPECT_EQ(log.append(huge.data(), 5000, seq), persistent_log::append_status::too_large);
}

TEST(storage_log, stale_entries_of_an_earlier_epoch_are_not_revived)
{
    // Entries 1..3 durable; 4 torn, 5 landed (never acknowledged). After recovery the new epoch
    // writes a new 4 of the same size; a crash before its write lands must not bring back the old 5.
    log_on_fake t(64 * 1024, 4096, 11);
    fake_vsa& vsa = t.vsa;
    persistent_log& log = t.log;
    const std::vector<uint8_t> d(100, 7);
    for (int i = 0; i < 5; ++i)
        append_ok(log, d);
    vsa.drain(log);
    std::vector<uint8_t> img = vsa.device;
    std::memset(img.data() + log_data_start + 3 * 512 + 40, 0, 8);   // entry 4 torn
    fake_vsa v2(img.size());
    v2.image = img;
    v2.device = img;
    persistent_log l2(v2.image.data(), v2.image.size(), 4096, v2);
    ASSERT_TRUE(l2.open());
    EXPECT_EQ(l2.durable_seq(), 3u);
    v2.drain(l2);   // the epoch-2 header
    const std::vector<uint8_t> other(100, 9);
    append_ok(l2, other);
    v2.drain(l2);   // new entry 4 (epoch 2)
    const log_recovery r = recover_log(v2.device.data(), v2.device.size());
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.entries.size(), 4u);   // not the old entry 5 (epoch 1) after it
    EXPECT_EQ(r.entries.back().epoch, 2u);
}

// An entry built in place (reserve, fill in pieces, or written through payload(), commit) is the
// entry append writes: the same bytes on the device, header, CRC and padding included.
TEST(storage_log, reserve_fill_commit_writes_what_append_writes)
{
    std::vector<uint8_t> d(700);
    for (size_t i = 0; i < d.size(); ++i)
        d[i] = static_cast<uint8_t>(i * 7 + 3);
    log_on_fake a(64 * 1024, 4096, 21);
    log_on_fake b(64 * 1024, 4096, 21);
    append_ok(a.log, bytes_of("first"));
    append_ok(a.log, d);
    append_ok(a.log, d);

    uint64_t s1 = 0, s2 = 0, s3 = 0;
    ASSERT_EQ(b.log.reserve(5, s1), persistent_log::append_status::ok);
    b.log.fill(s1, bytes_of("first").data(), 5);
    ASSERT_EQ(b.log.commit(s1), persistent_log::append_status::ok);
    // In pieces.
    ASSERT_EQ(b.log.reserve(700, s2), persistent_log::append_status::ok);
    b.log.fill(s2, d.data(), 100);
    b.log.fill(s2, d.data() + 100, 0);
    b.log.fill(s2, d.data() + 100, 600);
    EXPECT_EQ(b.log.unfilled(s2), 0u);
    ASSERT_EQ(b.log.commit(s2), persistent_log::append_status::ok);
    // Partly filled, the rest written in place: commit folds what fill did not.
    ASSERT_EQ(b.log.reserve(700, s3), persistent_log::append_status::ok);
    b.log.fill(s3, d.data(), 300);
    std::memcpy(b.log.payload(s3) + 300, d.data() + 300, 400);
    EXPECT_EQ(b.log.unfilled(s3), 400u);
    ASSERT_EQ(b.log.commit(s3), persistent_log::append_status::ok);
    EXPECT_EQ((std::vector<uint64_t>{s1, s2, s3}), (std::vector<uint64_t>{1, 2, 3}));
    a.vsa.drain(a.log);
    b.vsa.drain(b.log);
    EXPECT_EQ(b.log.durable_seq(), 3u);
    EXPECT_EQ(a.vsa.device, b.vsa.device);
    EXPECT_EQ(b.log.stats().appends, 3u);
    EXPECT_EQ(b.log.stats().appended_bytes, 1405u);
    const log_recovery r = recover_log(b.vsa.device.data(), b.vsa.device.size());
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.entries.size(), 3u);
}

// Several reservations may be open; they are committed in sequence order, a later one is durable
// only after the earlier one, and misuse is refused loudly without disturbing the log.
TEST(storage_log, reservations_commit_in_order_and_misuse_throws)
{
    log_on_fake t(64 * 1024, 4096, 2);
    fake_vsa& vsa = t.vsa;
    persistent_log& log = t.log;
    vsa.drain(log);
    uint64_t a = 0, b = 0, seq = 0;
    ASSERT_EQ(log.reserve(10, a), persistent_log::append_status::ok);
    ASSERT_EQ(log.reserve(600, b), persistent_log::append_status::ok);
    EXPECT_EQ(b, a + 1);
    EXPECT_EQ(log.open_reservations(), 2u);
    EXPECT_EQ(log.next_seq(), b + 1);
    std::vector<uint8_t> x(600, 0x5A);
    log.fill(b, x.data(), 600);
    EXPECT_THROW(log.commit(b), std::logic_error);                 // before a
    EXPECT_THROW(log.fill(a, x.data(), 11), std::logic_error);     // beyond its length
    EXPECT_THROW(log.fill(99, x.data(), 1), std::logic_error);     // never reserved
    EXPECT_THROW(log.append(x.data(), 5, seq), std::logic_error);  // would commit after a
    EXPECT_EQ(log.open_reservations(), 2u);
    EXPECT_TRUE(vsa.writes.empty());   // nothing reserved is written before its commit
    log.fill(a, x.data(), 10);
    ASSERT_EQ(log.commit(a), persistent_log::append_status::ok);
    EXPECT_THROW(log.commit(a), std::logic_error);                 // twice
    EXPECT_EQ(vsa.writes.size(), 1u);
    vsa.drain(log);
    EXPECT_EQ(log.durable_seq(), a);   // b is reserved, not durable
    EXPECT_EQ(log.entries(), 1u);
    uint32_t len = 0;
    EXPECT_EQ(log.read(b, len), nullptr);
    ASSERT_EQ(log.commit(b), persistent_log::append_status::ok);
    vsa.drain(log);
    EXPECT_EQ(log.durable_seq(), b);
    EXPECT_EQ(log.open_reservations(), 0u);
    // Completions out of order: an entry is acknowledged only after its predecessors.
    uint64_t c = 0, d = 0;
    ASSERT_EQ(log.reserve(1, c), persistent_log::append_status::ok);
    ASSERT_EQ(log.reserve(1, d), persistent_log::append_status::ok);
    log.fill(c, x.data(), 1);
    log.fill(d, x.data(), 1);
    log.commit(c);
    log.commit(d);
    fake_vsa::inflight later = vsa.writes.back();
    vsa.writes.pop_back();
    log.complete(later.token, true);
    EXPECT_EQ(log.durable_seq(), b);
    vsa.drain(log);
    EXPECT_EQ(log.durable_seq(), d);
}

// reserve refuses as append does: too large for one entry, or no room while the space is in use
// (an open reservation holds its space like an entry in flight).
TEST(storage_log, reserve_refuses_too_large_and_full)
{
    constexpr uint64_t capacity = 8 * 512;   // two header blocks, six data blocks
    log_on_fake t(capacity, 4096, 4);
    fake_vsa& vsa = t.vsa;
    persistent_log& log = t.log;
    vsa.drain(log);
    uint64_t seq = 0;
    EXPECT_EQ(log.reserve(log.max_payload() + 1, seq), persistent_log::append_status::too_large);
    EXPECT_EQ(log.stats().rejected_size, 1u);
    uint64_t a = 0, b = 0;
    ASSERT_EQ(log.reserve(2 * 512 - 32, a), persistent_log::append_status::ok);                  // two blocks
    ASSERT_EQ(log.reserve(3 * 512 - 32, b), persistent_log::append_status::ok);                  // three
    EXPECT_EQ(log.reserve(600, seq), persistent_log::append_status::full);   // one block left
    EXPECT_EQ(log.stats().rejected_full, 1u);
    ASSERT_EQ(log.reserve(1, seq), persistent_log::append_status::ok);
    EXPECT_EQ(log.reserve(1, seq), persistent_log::append_status::full);
    EXPECT_EQ(log.open_reservations(), 3u);
    EXPECT_EQ(log.next_seq(), 4u);   // refusals take no sequence number
}

// A reserved entry that was never committed is not on the device, and recovery does not return
// it, neither from what the device holds nor from the image in memory (its CRC does not hold);
// the oracle of the crash experiments agrees. Entries reserved after it were never written either.
TEST(storage_log, an_uncommitted_entry_is_invisible_after_a_crash)
{
    constexpr uint64_t capacity = 64 * 1024;
    log_on_fake t(capacity, 4096, 31);
    fake_vsa& vsa = t.vsa;
    persistent_log& log = t.log;
    vsa.drain(log);
    sim::log_oracle oracle;
    std::vector<uint8_t> buf(900);
    for (int i = 0; i < 3; ++i) {
        sim::crash_payload(log.epoch(), log.next_seq(), buf.data(), 900);
        const uint64_t s = append_ok(log, buf);
        oracle.appended(log.epoch(), s, 900);
    }
    vsa.drain(log);
    oracle.acknowledged(log.epoch(), log.durable_seq());
    uint64_t open1 = 0, open2 = 0;
    ASSERT_EQ(log.reserve(900, open1), persistent_log::append_status::ok);
    sim::crash_payload(log.epoch(), open1, buf.data(), 900);
    log.fill(open1, buf.data(), 900);   // complete but for the commit
    ASSERT_EQ(log.reserve(900, open2), persistent_log::append_status::ok);
    log.fill(open2, buf.data(), 400);
    vsa.drain(log);
    for (const std::vector<uint8_t>* img : {&vsa.device, &vsa.image}) {
        const sim::log_oracle::verdict v = oracle.check(img->data(), capacity);
        EXPECT_TRUE(v.ok) << v.why;
        EXPECT_EQ(v.entries, 3u);
        const log_recovery r = recover_log(img->data(), capacity);
        ASSERT_TRUE(r.ok);
        EXPECT_EQ(r.next_seq, open1);
    }
    // The image in memory holds the open entry's header and payload; the device does not.
    EXPECT_NE(std::memcmp(vsa.image.data() + log_data_start + 3 * log_entry_bytes(900),
                          vsa.device.data() + log_data_start + 3 * log_entry_bytes(900), 512), 0);
    // Reopened, the log goes on from the last committed entry; the open one's place is reused.
    persistent_log again(vsa.image.data(), capacity, 4096, vsa);
    ASSERT_TRUE(again.open()) << again.error();
    EXPECT_EQ(again.open_reservations(), 0u);
    EXPECT_EQ(again.next_seq(), open1);
    EXPECT_EQ(oracle.reopened(again), "");
    EXPECT_THROW(again.commit(open1), std::logic_error);
}

using crash_step = std::function<void(persistent_log&, sim::log_oracle&, std::mt19937_64&)>;

// Power loss at seeded random times over a chain of incarnations on a fake device, each recovering
// the previous one's crashed image. `step` is the workload's next move, made after each advance of
// the device's clock until the trial's crash time; `crashed` hears of each power loss. Each trial's
// image is judged (every acknowledged append there and intact, nothing torn or stale returned) and
// must open. Returns the acknowledged appends the judge checked.
uint64_t crash_chain(uint64_t seed, uint64_t log_id, unsigned trials, const crash_step& step,
                     const std::function<void()>& crashed = {})
{
    std::mt19937_64 rng(seed);
    constexpr uint64_t capacity = 32 * 1024;
    fake_vsa vsa(capacity);
    vsa.rng = &rng;
    vsa.depth = 8;
    sim::log_oracle oracle;
    auto log = std::make_unique<persistent_log>(vsa.image.data(), capacity, 4096, vsa);
    log->format(log_id);
    vsa.drain(*log);
    uint64_t acked_total = 0;
    for (unsigned trial = 0; trial < trials; ++trial) {
        const double crash_at = vsa.now + std::uniform_real_distribution<double>(1, 60)(rng);
        while (vsa.now < crash_at) {
            const double t = std::min(crash_at, vsa.now + std::exponential_distribution<double>(2.0)(rng));
            vsa.advance(t, *log);
            oracle.acknowledged(log->epoch(), log->durable_seq());
            step(*log, oracle, rng);
        }
        if (crashed)
            crashed();
        const std::vector<uint8_t> img = vsa.crash_image(rng);
        const sim::log_oracle::verdict v = oracle.check(img.data(), capacity);
        EXPECT_TRUE(v.ok) << "trial " << trial << ": " << v.why;
        acked_total += v.acknowledged;
        // Power back on: a new instance recovers the crashed image and carries on.
        vsa.writes.clear();
        vsa.device = img;
        vsa.image = img;
        log = std::make_unique<persistent_log>(vsa.image.data(), capacity, 4096, vsa);
        if (!log->open()) {
            ADD_FAILURE() << "trial " << trial << ": " << log->error();
            break;
        }
        EXPECT_EQ(oracle.reopened(*log), "") << "trial " << trial;
    }
    return acked_total;
}

void truncate_some(persistent_log& log, sim::log_oracle& oracle)
{
    const uint64_t upto = log.durable_seq() > 3 ? log.durable_seq() - 3 : 0;
    log.truncate(upto);
    oracle.truncated(upto);
}

// A stream of appends and truncations.
TEST(storage_log, crash_trials_on_a_fake_device)
{
    std::vector<uint8_t> buf(2000);
    const uint64_t acked = crash_chain(12345, 42, 300, [&](persistent_log& log, sim::log_oracle& oracle, std::mt19937_64& rng) {
        const uint32_t len = std::uniform_int_distribution<uint32_t>(1, 1500)(rng);
        persistent_log::append_status st = persistent_log::append_status::full;
        if (std::bernoulli_distribution(0.8)(rng)) {
            // The payload is that of the sequence number the append will take.
            const uint64_t predicted = log.next_seq();
            sim::crash_payload(log.epoch(), predicted, buf.data(), len);
            uint64_t seq = 0;
            st = log.append(buf.data(), len, seq);
            if (st == persistent_log::append_status::ok) {
                ASSERT_EQ(seq, predicted);
                oracle.appended(log.epoch(), seq, len);
            }
        }
        if (st == persistent_log::append_status::full || std::bernoulli_distribution(0.05)(rng))
            truncate_some(log, oracle);
    });
    EXPECT_GT(acked, 1000u);   // the trials did check acknowledged appends
}

// Entries built in place: up to three reservations open at a time, filled in pieces, committed in
// order at random times. A power loss finds some of them open; nothing uncommitted is ever
// recovered, and every acknowledged entry is.
TEST(storage_log, crash_trials_with_open_reservations)
{
    struct building { uint64_t seq; uint32_t len, filled; };
    std::deque<building> open;
    std::vector<uint8_t> buf(2000);
    unsigned open_at_crash = 0;
    const auto step = [&](persistent_log& log, sim::log_oracle& oracle, std::mt19937_64& rng) {
        const unsigned what = std::uniform_int_distribution<unsigned>(0, 2)(rng);
        if (what == 0 && open.size() < 3) {
            const uint32_t len = std::uniform_int_distribution<uint32_t>(1, 1500)(rng);
            uint64_t seq = 0;
            const auto st = log.reserve(len, seq);
            if (st == persistent_log::append_status::ok)
                open.push_back({seq, len, 0});
            else if (st == persistent_log::append_status::full && open.empty())
                truncate_some(log, oracle);
        } else if (what == 1 && !open.empty()) {
            building& b = open[std::uniform_int_distribution<size_t>(0, open.size() - 1)(rng)];
            sim::crash_payload(log.epoch(), b.seq, buf.data(), b.len);
            const uint32_t n = std::uniform_int_distribution<uint32_t>(0, b.len - b.filled)(rng);
            log.fill(b.seq, buf.data() + b.filled, n);
            b.filled += n;
        } else if (what == 2 && !open.empty()) {
            const building b = open.front();
            sim::crash_payload(log.epoch(), b.seq, buf.data(), b.len);
            std::memcpy(log.payload(b.seq) + b.filled, buf.data() + b.filled, b.len - b.filled);
            ASSERT_EQ(log.commit(b.seq), persistent_log::append_status::ok);
            oracle.appended(log.epoch(), b.seq, b.len);   // it may appear only once committed
            open.pop_front();
        }
    };
    const uint64_t acked = crash_chain(777, 43, 200, step, [&] {
        open_at_crash += !open.empty();
        open.clear();
    });
    EXPECT_GT(open_at_crash, 50u);   // crashes did find entries half built
    EXPECT_GT(acked, 300u);          // and acknowledged ones to check
}
} // namespace
} // namespace iovsim::os::dataplane
