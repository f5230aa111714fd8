#include "sim/wire/checksum.h"

#include <algorithm>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace iovsim::wire {

namespace {

uint16_t fold64(uint64_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    return static_cast<uint16_t>(sum);
}

uint16_t swap_bytes(uint16_t v)
{
    return static_cast<uint16_t>((v << 8) | (v >> 8));
}

// Sum of a buffer taken as starting on a word boundary; a trailing odd byte is the high byte of a
// zero-padded word (RFC 1071 section 4.1). The one's-complement sum does not depend on byte order
// (RFC 1071 section 2(B)): the words are summed in the host's little-endian order, several at a
// time, and the folded result is swapped back to network order.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "sum_words assumes a little-endian host");
// The bulk of a buffer, 32 bytes at a time: 16-bit words widened to 32-bit lanes and added; a
// lane cannot overflow within a 64 KiB block. Compiled for AVX2 and used where the CPU has it.
#if defined(__x86_64__)
__attribute__((target("avx2"))) uint64_t sum_bulk_avx2(const uint8_t*& data, size_t& len)
{
    uint64_t sum = 0;
    while (len >= 32) {
        const size_t block = std::min<size_t>(len & ~size_t{31}, 65536);
        __m256i acc = _mm256_setzero_si256();
        const __m256i zero = _mm256_setzero_si256();
        for (size_t i = 0; i < block; i += 32) {
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i));
            acc = _mm256_add_epi32(acc, _mm256_unpacklo_epi16(v, zero));
            acc = _mm256_add_epi32(acc, _mm256_unpackhi_epi16(v, zero));
        }
        uint32_t lanes[8];
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes), acc);
        for (uint32_t lane : lanes)
            sum += lane;
        data += block;
        len -= block;
    }
    return sum;
}

bool have_avx2()
{
    static const bool yes = __builtin_cpu_supports("avx2");
    return yes;
}
#endif

uint64_t sum_words(const uint8_t* data, size_t len)
{
    uint64_t sum = 0;
#if defined(__x86_64__)
    if (have_avx2())
        sum += sum_bulk_avx2(data, len);
#endif
    // 64-bit words with end-around carry are a one's-complement sum too (2^64 = 1 mod 0xFFFF).
    uint64_t wide = 0;
    while (len >= 8) {
        uint64_t w;
        std::memcpy(&w, data, 8);
        wide += w;
        wide += (wide < w);
        data += 8;
        len -= 8;
    }
    sum += (wide & 0xFFFF'FFFFu) + (wide >> 32);
    while (len >= 2) {
        uint16_t w;
        std::memcpy(&w, data, 2);
        sum += w;
        data += 2;
        len -= 2;
    }
    if (len != 0)
        sum += data[0];   // low byte in host order = high byte of the word in network order
    return swap_bytes(fold64(sum));
}

} // namespace

partial& partial::add(const uint8_t* data, size_t len)
{
    if (len == 0) {
        return *this;
    }
    const uint16_t piece = fold64(sum_words(data, len));
    // Swapping a folded sum multiplies it by 256 modulo 0xFFFF, which moves every byte to the
    // other half of its word: exactly what starting at an odd offset does.
    m_sum += (m_length & 1) ? swap_bytes(piece) : piece;
    m_length += len;
    return *this;
}

partial& partial::add_be16(uint16_t value)
{
    const uint8_t bytes[2] = {static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
    return add(bytes, sizeof bytes);
}

partial& partial::add_be32(uint32_t value)
{
    const uint8_t bytes[4] = {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
                              static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
    return add(bytes, sizeof bytes);
}

partial& partial::add(const partial& other)
{
    const uint16_t piece = other.fold();
    m_sum += (m_length & 1) ? swap_bytes(piece) : piece;
    m_length += other.m_length;
    return *this;
}

uint16_t partial::fold() const
{
    return fold64(m_sum);
}

uint16_t ones_complement_sum(const uint8_t* data, size_t len)
{
    return len == 0 ? 0 : fold64(sum_words(data, len));
}

uint16_t internet_checksum(const uint8_t* data, size_t len)
{
    return static_cast<uint16_t>(~ones_complement_sum(data, len));
}

uint16_t ones_complement_add(uint16_t a, uint16_t b)
{
    return fold64(static_cast<uint64_t>(a) + b);
}

uint16_t checksum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word)
{
    const uint64_t sum = static_cast<uint16_t>(~checksum) + static_cast<uint64_t>(static_cast<uint16_t>(~old_word))
                         + new_word;
    return static_cast<uint16_t>(~fold64(sum));
}

uint16_t checksum_update32(uint16_t checksum, uint32_t old_value, uint32_t new_value)
{
    const uint16_t hi = checksum_update16(checksum, static_cast<uint16_t>(old_value >> 16),
                                          static_cast<uint16_t>(new_value >> 16));
    return checksum_update16(hi, static_cast<uint16_t>(old_value), static_cast<uint16_t>(new_value));
}

} // namespace iovsim::wire
