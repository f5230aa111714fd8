#include "sim/wire/crc32c.h"

#include <array>
#include <cstring>
#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace iovsim::wire {

namespace {

constexpr uint32_t poly = 0x82F63B78u;   // 0x1EDC6F41 reflected

constexpr std::array<uint32_t, 256> make_table()
{
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        t[i] = c;
    }
    return t;
}
constexpr std::array<uint32_t, 256> table = make_table();

uint32_t crc_table(const uint8_t* p, size_t len, uint32_t c)
{
    for (size_t i = 0; i < len; ++i)
        c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__)
// SSE4.2 CRC32 instruction: the same polynomial, 8 bytes per step (crash trials scan whole logs).
__attribute__((target("sse4.2"))) uint32_t crc_sse42(const uint8_t* p, size_t len, uint32_t c)
{
    uint64_t c64 = c;
    while (len >= 8) {
        uint64_t v;
        std::memcpy(&v, p, 8);
        c64 = _mm_crc32_u64(c64, v);
        p += 8;
        len -= 8;
    }
    c = static_cast<uint32_t>(c64);
    while (len-- > 0)
        c = _mm_crc32_u8(c, *p++);
    return c;
}
#endif

} // namespace

uint32_t crc32c(const uint8_t* data, size_t len, uint32_t crc)
{
    uint32_t c = ~crc;
#if defined(__x86_64__)
    static const bool has_sse42 = __builtin_cpu_supports("sse4.2");
    c = has_sse42 ? crc_sse42(data, len, c) : crc_table(data, len, c);
#else
    c = crc_table(data, len, c);
#endif
    return ~c;
}

} // namespace iovsim::wire
