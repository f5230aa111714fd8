// RFC 1071 sum and RFC 1624 incremental update: known answers, odd lengths, sums in pieces.
#include "sim/wire/checksum.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace iovsim::wire {
namespace {

// A fixed pseudo-random byte pattern (LCG), so that failures reproduce.
std::vector<uint8_t> pattern(size_t n, uint32_t seed)
{
    std::vector<uint8_t> v(n);
    uint32_t x = seed;
    for (auto& b : v) {
        x = x * 1664525u + 1013904223u;
        b = static_cast<uint8_t>(x >> 24);
    }
    return v;
}

TEST(wire_checksum, rfc1071_example)
{
    // RFC 1071 section 3: the sum of these bytes is 0x2ddf0, folded 0xddf2.
    const uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(ones_complement_sum(bytes, sizeof bytes), 0xddf2);
    EXPECT_EQ(internet_checksum(bytes, sizeof bytes), 0x220d);
}

TEST(wire_checksum, empty_buffer)
{
    EXPECT_EQ(ones_complement_sum(nullptr, 0), 0);
    EXPECT_EQ(internet_checksum(nullptr, 0), 0xFFFF);
    partial p;
    p.add(nullptr, 0);
    EXPECT_EQ(p.fold(), 0);
    EXPECT_EQ(p.length(), 0u);
}

TEST(wire_checksum, odd_length_pads_last_byte_as_high_octet)
{
    const uint8_t one[] = {0x01};
    EXPECT_EQ(ones_complement_sum(one, 1), 0x0100);
    const uint8_t three[] = {0x01, 0x02, 0x03};
    EXPECT_EQ(ones_complement_sum(three, 3), 0x0402);
}

TEST(wire_checksum, end_around_carry)
{
    const uint8_t bytes[] = {0xff, 0xff, 0x00, 0x01};
    EXPECT_EQ(ones_complement_sum(bytes, sizeof bytes), 0x0001);
    // Negative zero stays 0xFFFF: a sum of nonzero data never folds to 0.
    const uint8_t minus_zero[] = {0xff, 0xff};
    EXPECT_EQ(ones_complement_sum(minus_zero, 2), 0xFFFF);
    EXPECT_EQ(ones_complement_add(0xFFFF, 0x0001), 0x0001);
    EXPECT_EQ(ones_complement_add(0x8000, 0x8000), 0x0001);
    EXPECT_EQ(ones_complement_add(0x1234, 0x0000), 0x1234);
}

TEST(wire_checksum, large_buffer_carries_do_not_overflow)
{
    const std::vector<uint8_t> ff(1 << 20, 0xFF);
    EXPECT_EQ(ones_complement_sum(ff.data(), ff.size()), 0xFFFF);
    const std::vector<uint8_t> odd(100001, 0xFF);
    // 50000 words of 0xFFFF plus 0xFF00.
    EXPECT_EQ(ones_complement_sum(odd.data(), odd.size()), 0xFF00);
}

TEST(wire_checksum, ipv4_header_known_answer)
{
    // 192.168.0.1 -> 192.168.0.199, UDP, TTL 64, DF, total length 115; computed by hand:
    // 4500+0073+0000+4000+4011+c0a8+0001+c0a8+00c7 = 0x2479c -> 0x479e -> ~ = 0xb861.
    uint8_t hdr[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                     0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    EXPECT_EQ(internet_checksum(hdr, sizeof hdr), 0xb861);
    hdr[10] = 0xb8;
    hdr[11] = 0x61;
    // A receiver summing a header with a correct checksum gets all ones.
    EXPECT_EQ(ones_complement_sum(hdr, sizeof hdr), 0xFFFF);
    EXPECT_EQ(internet_checksum(hdr, sizeof hdr), 0);
}

TEST(wire_checksum, split_sums_equal_whole_at_every_split_point)
{
    for (size_t n : {0u, 1u, 2u, 7u, 33u, 64u}) {
        const auto data = pattern(n, static_cast<uint32_t>(n) + 1);
        const uint16_t whole = ones_complement_sum(data.data(), n);
        for (size_t i = 0; i <= n; ++i) {
            for (size_t j = i; j <= n; ++j) {
                partial p;
                p.add(data.data(), i).add(data.data() + i, j - i).add(data.data() + j, n - j);
                ASSERT_EQ(p.fold(), whole) << "n=" << n << " i=" << i << " j=" << j;
                ASSERT_EQ(p.length(), n);
            }
        }
    }
}

TEST(wire_checksum, byte_by_byte_equals_whole)
{
    const auto data = pattern(101, 7);
    partial p;
    for (const uint8_t b : data) {
        p.add(&b, 1);
    }
    EXPECT_EQ(p.fold(), ones_complement_sum(data.data(), data.size()));
    EXPECT_EQ(p.finish(), internet_checksum(data.data(), data.size()));
}

TEST(wire_checksum, combining_partials_respects_odd_offsets)
{
    const auto data = pattern(57, 3);
    const uint16_t whole = ones_complement_sum(data.data(), data.size());
    for (size_t i = 0; i <= data.size(); ++i) {
        partial head;
        head.add(data.data(), i);
        partial tail;
        tail.add(data.data() + i, data.size() - i);
        head.add(tail);
        ASSERT_EQ(head.fold(), whole) << "split at " << i;
        ASSERT_EQ(head.length(), data.size());
    }
}

TEST(wire_checksum, be_fields_equal_their_bytes_even_at_odd_offsets)
{
    const uint8_t bytes[] = {0xAB, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC};
    partial fields;
    fields.add(bytes, 1).add_be32(0x12345678).add_be16(0x9ABC);
    EXPECT_EQ(fields.fold(), ones_complement_sum(bytes, sizeof bytes));
    EXPECT_EQ(fields.length(), sizeof bytes);
}

TEST(wire_checksum, rfc1624_section4_example)
{
    // The rest of the header sums to 0xCD7A; m = 0x5555 gives HC = 0xDD2F. After m' = 0x3285
    // recomputation gives ~(0xCD7A + 0x3285) = 0x0000; equation 2 would wrongly give 0xFFFF.
    EXPECT_EQ(static_cast<uint16_t>(~ones_complement_add(0xCD7A, 0x5555)), 0xDD2F);
    EXPECT_EQ(checksum_update16(0xDD2F, 0x5555, 0x3285), 0x0000);
    EXPECT_EQ(static_cast<uint16_t>(~ones_complement_add(0xCD7A, 0x3285)), 0x0000);
}

TEST(wire_checksum, incremental_ttl_decrement_equals_recomputation)
{
    uint8_t hdr[] = {0x45, 0x00, 0x00, 0x54, 0x1c, 0x46, 0x40, 0x00, 0xff, 0x01,
                     0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02};
    uint16_t hc = internet_checksum(hdr, sizeof hdr);
    while (hdr[8] > 0) {
        const uint16_t old_word = static_cast<uint16_t>((hdr[8] << 8) | hdr[9]);
        --hdr[8];
        const uint16_t new_word = static_cast<uint16_t>((hdr[8] << 8) | hdr[9]);
        hc = checksum_update16(hc, old_word, new_word);
        ASSERT_EQ(hc, internet_checksum(hdr, sizeof hdr)) << "ttl " << int(hdr[8]);
    }
}

TEST(wire_checksum, incremental_random_words_equal_recomputation)
{
    auto data = pattern(40, 11);
    const auto values = pattern(400, 12);
    uint16_t hc = internet_checksum(data.data(), data.size());
    for (size_t k = 0; k < 200; ++k) {
        const size_t at = (k * 7 % 20) * 2;
        const uint16_t old_word = static_cast<uint16_t>((data[at] << 8) | data[at + 1]);
        data[at] = values[2 * k];
        data[at + 1] = values[2 * k + 1];
        const uint16_t new_word = static_cast<uint16_t>((data[at] << 8) | data[at + 1]);
        hc = checksum_update16(hc, old_word, new_word);
        ASSERT_EQ(hc, internet_checksum(data.data(), data.size())) << "step " << k;
    }
}

TEST(wire_checksum, incremental_32bit_address_rewrite)
{
    uint8_t hdr[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                     0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    const uint16_t hc = internet_checksum(hdr, sizeof hdr);
    // NAT rewrites the source 192.168.0.1 to 10.1.2.3.
    hdr[12] = 10;
    hdr[13] = 1;
    hdr[14] = 2;
    hdr[15] = 3;
    EXPECT_EQ(checksum_update32(hc, 0xc0a80001, 0x0a010203), internet_checksum(hdr, sizeof hdr));
    // No change, no change.
    EXPECT_EQ(checksum_update32(hc, 0x01020304, 0x01020304), hc);
}

} // namespace
} // namespace iovsim::wire

// The vectorized bulk path against a plain RFC 1071 sum, over lengths that cross every block and
// tail boundary of the fast paths, at odd and even offsets.
TEST(wire_checksum, fast_paths_match_plain_sum_over_lengths_and_offsets)
{
    std::vector<uint8_t> buf(2100);
    uint32_t x = 12345;
    for (auto& b : buf) {
        x = x * 1103515245u + 12345u;
        b = static_cast<uint8_t>(x >> 16);
    }
    auto plain = [](const uint8_t* p, size_t n) {
        uint64_t s = 0;
        for (size_t i = 0; i + 1 < n; i += 2)
            s += static_cast<uint32_t>(p[i]) << 8 | p[i + 1];
        if (n % 2)
            s += static_cast<uint32_t>(p[n - 1]) << 8;
        while (s >> 16)
            s = (s & 0xFFFF) + (s >> 16);
        return static_cast<uint16_t>(s);
    };
    for (size_t off : {0u, 1u, 3u}) {
        for (size_t n = 0; n + off <= 2048; n += (n < 80 ? 1 : 29)) {
            ASSERT_EQ(iovsim::wire::ones_complement_sum(buf.data() + off, n), plain(buf.data() + off, n))
                << "length " << n << " offset " << off;
        }
    }
}
