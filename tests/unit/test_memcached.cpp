// The memcached binary protocol codec (UDP frame header + 24-byte header) and the server's hash
// table: wire bytes checked against the protocol's layout, round trips, and every malformed case.
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "workloads/memcached/protocol.h"
#include "workloads/memcached/store.h"

using namespace iovsim::workloads::mc;

namespace {

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

} // namespace

TEST(memcached_protocol, get_request_wire_layout)
{
    const auto key = bytes_of("hello");
    std::array<uint8_t, 64> out{};
    const size_t n = build_get_request(out.data(), out.size(), 0x1234, 0xdeadbeef, key.data(), key.size());
    ASSERT_EQ(n, 8u + 24u + 5u);
    // UDP frame header: request id, sequence 0, 1 datagram, reserved.
    const std::array<uint8_t, 8> udp = {0x12, 0x34, 0, 0, 0, 1, 0, 0};
    EXPECT_EQ(0, std::memcmp(out.data(), udp.data(), 8));
    // The binary protocol's example GET "Hello" (wiki BinaryProtocolRevamped), opaque aside.
    const std::array<uint8_t, 24> hdr = {0x80, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
                                         0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(0, std::memcmp(out.data() + 8, hdr.data(), 24));
    EXPECT_EQ(0, std::memcmp(out.data() + 32, "hello", 5));
}

TEST(memcached_protocol, set_request_round_trip)
{
    const auto key = bytes_of("k1");
    const auto value = bytes_of("a value");
    std::array<uint8_t, 128> out{};
    const size_t n = build_set_request(out.data(), out.size(), 7, 99, key.data(), key.size(), 0xcafe, 300,
                                       value.data(), value.size());
    ASSERT_EQ(n, 8u + 24u + 8u + 2u + 7u);
    EXPECT_EQ(out[9], 0x01);                       // opcode SET
    EXPECT_EQ(out[12], 8);                         // extras length
    EXPECT_EQ(get_be32(out.data() + 16), 17u);     // body: 8 + 2 + 7
    message m;
    ASSERT_EQ(parse_request(out.data(), n, m), parse_error::none);
    EXPECT_EQ(m.udp.request_id, 7);
    EXPECT_EQ(m.h.op, 0x01);
    EXPECT_EQ(m.h.opaque, 99u);
    EXPECT_EQ(get_be32(m.extras), 0xcafeu);
    EXPECT_EQ(get_be32(m.extras + 4), 300u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(m.key), m.h.key_len), "k1");
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(m.value), m.value_len), "a value");
}

TEST(memcached_protocol, response_echoes_request_id_opcode_and_opaque)
{
    const auto key = bytes_of("k");
    std::array<uint8_t, 64> req{};
    const size_t rn = build_get_request(req.data(), req.size(), 0xabcd, 0x01020304, key.data(), key.size());
    message m;
    ASSERT_EQ(parse_request(req.data(), rn, m), parse_error::none);
    std::array<uint8_t, 128> resp{};
    const uint8_t flags[4] = {0, 0, 0, 9};
    const auto value = bytes_of("vvv");
    const size_t n = build_response(resp.data(), resp.size(), m, status::ok, 42, flags, 4, value.data(), value.size());
    ASSERT_EQ(n, 8u + 24u + 4u + 3u);
    EXPECT_EQ(resp[8], 0x81);
    message r;
    ASSERT_EQ(parse_response(resp.data(), n, r), parse_error::none);
    EXPECT_EQ(r.udp.request_id, 0xabcd);
    EXPECT_EQ(r.h.op, 0x00);
    EXPECT_EQ(r.h.opaque, 0x01020304u);
    EXPECT_EQ(r.h.cas, 42u);
    EXPECT_EQ(r.h.vbucket_or_status, 0);
    EXPECT_EQ(r.h.extras_len, 4);
    EXPECT_EQ(get_be32(r.extras), 9u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.value), r.value_len), "vvv");
    // A response is not a request, and the reverse.
    EXPECT_EQ(parse_request(resp.data(), n, r), parse_error::bad_magic);
    EXPECT_EQ(parse_response(req.data(), rn, r), parse_error::bad_magic);
}

TEST(memcached_protocol, malformed_requests_are_named)
{
    const auto key = bytes_of("key");
    std::array<uint8_t, 64> good{};
    const size_t n = build_get_request(good.data(), good.size(), 1, 1, key.data(), key.size());
    message m;
    EXPECT_EQ(parse_request(good.data(), 31, m), parse_error::too_short);
    EXPECT_EQ(parse_request(nullptr, 0, m), parse_error::too_short);
    auto b = good;
    b[5] = 2;   // two datagrams
    EXPECT_EQ(parse_request(b.data(), n, m), parse_error::multi_datagram);
    b = good;
    b[13] = 1;  // data type
    EXPECT_EQ(parse_request(b.data(), n, m), parse_error::bad_data_type);
    // Body length beyond the datagram, and short of it.
    EXPECT_EQ(parse_request(good.data(), n - 1, m), parse_error::bad_length);
    EXPECT_EQ(parse_request(good.data(), n + 1, m), parse_error::bad_length);
    b = good;
    b[11] = 9;  // key length 9 > body 3
    EXPECT_EQ(parse_request(b.data(), n, m), parse_error::bad_length);
    // A GET with extras.
    std::array<uint8_t, 64> e{};
    const auto v = bytes_of("x");
    const size_t sn = build_set_request(e.data(), e.size(), 1, 1, key.data(), key.size(), 0, 0, v.data(), v.size());
    e[9] = 0x00;  // SET's layout under GET's opcode
    EXPECT_EQ(parse_request(e.data(), sn, m), parse_error::bad_extras);
    // A SET without extras.
    b = good;
    b[9] = 0x01;
    EXPECT_EQ(parse_request(b.data(), n, m), parse_error::bad_extras);
}

TEST(memcached_protocol, builders_refuse_what_does_not_fit)
{
    const std::vector<uint8_t> key(251, 'k');
    std::array<uint8_t, 512> out{};
    EXPECT_EQ(build_get_request(out.data(), out.size(), 1, 1, key.data(), key.size()), 0u);
    EXPECT_EQ(build_get_request(out.data(), 40, 1, 1, key.data(), 10), 0u);
    const std::vector<uint8_t> value(1024, 'v');
    EXPECT_EQ(build_set_request(out.data(), out.size(), 1, 1, key.data(), 64, 0, 0, value.data(), value.size()), 0u);
    std::vector<uint8_t> big(1472);
    EXPECT_EQ(build_set_request(big.data(), big.size(), 1, 1, key.data(), 64, 0, 0, value.data(), value.size()),
              8u + 24u + 8u + 64u + 1024u);
}

TEST(memcached_store, set_get_replace_and_grow)
{
    store s(8, 2048);
    EXPECT_EQ(s.get(reinterpret_cast<const uint8_t*>("a"), 1), nullptr);
    std::vector<uint64_t> cas;
    for (unsigned i = 0; i < 200; ++i) {
        const std::string k = "key-" + std::to_string(i);
        const std::string v = "value-" + std::to_string(i * 3);
        cas.push_back(s.set(reinterpret_cast<const uint8_t*>(k.data()), k.size(), reinterpret_cast<const uint8_t*>(v.data()),
                            v.size(), i));
        ASSERT_NE(cas.back(), 0u);
    }
    EXPECT_EQ(s.size(), 200u);
    for (unsigned i = 0; i < 200; ++i) {
        const std::string k = "key-" + std::to_string(i);
        const store::item* it = s.get(reinterpret_cast<const uint8_t*>(k.data()), k.size());
        ASSERT_NE(it, nullptr) << k;
        EXPECT_EQ(std::string(it->value.begin(), it->value.end()), "value-" + std::to_string(i * 3));
        EXPECT_EQ(it->flags, i);
        EXPECT_EQ(it->cas, cas[i]);
    }
    // Replacing keeps the count and gives a new CAS.
    const std::string k = "key-5";
    const uint64_t c2 = s.set(reinterpret_cast<const uint8_t*>(k.data()), k.size(), reinterpret_cast<const uint8_t*>("n"), 1, 0);
    EXPECT_GT(c2, cas.back());
    EXPECT_EQ(s.size(), 200u);
    EXPECT_EQ(s.get(reinterpret_cast<const uint8_t*>(k.data()), k.size())->value.size(), 1u);
    // A prefix of a key is another key.
    EXPECT_EQ(s.get(reinterpret_cast<const uint8_t*>("key-1"), 4), nullptr);
}

TEST(memcached_store, value_too_large_is_refused)
{
    store s(8, 16);
    const std::vector<uint8_t> v(17, 1);
    EXPECT_EQ(s.set(reinterpret_cast<const uint8_t*>("k"), 1, v.data(), v.size(), 0), 0u);
    EXPECT_EQ(s.size(), 0u);
}
