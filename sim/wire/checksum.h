// The Internet checksum: RFC 1071 one's-complement sum of big-endian 16-bit words, and RFC 1624
// incremental update. Used by the IPv4, UDP, TCP and ICMP headers (sim/wire/wire.h), by the NIC's
// checksum offload and by the protocol stack.
#pragma once

#include <cstddef>
#include <cstdint>

namespace iovsim::wire {

// A running one's-complement sum that may be fed in pieces of any length. Pieces are summed as
// if concatenated: a piece that starts at an odd offset of the whole is byte-swapped before it is
// added (RFC 1071 section 2(B), byte order independence), so a payload split at any byte boundary,
// or a pseudo-header followed by a segment, gives the same sum as one contiguous buffer.
class partial {
public:
    // data may be null when len is 0.
    partial& add(const uint8_t* data, size_t len);
    // Big-endian 16- and 32-bit fields (pseudo-header members), placed at the current offset.
    partial& add_be16(uint16_t value);
    partial& add_be32(uint32_t value);
    // Appends the bytes summed by other, as if they followed the bytes summed so far.
    partial& add(const partial& other);

    // The sum folded to 16 bits with end-around carry (not complemented). Zero for no bytes.
    uint16_t fold() const;
    // The checksum to put in a header: ~fold().
    uint16_t finish() const { return static_cast<uint16_t>(~fold()); }
    // Bytes summed so far.
    size_t length() const { return m_length; }

private:
    uint64_t m_sum = 0;   // unfolded; each piece adds at most 0xFFFF, so it cannot overflow
    size_t m_length = 0;  // its parity says where the next byte lands in its word
};

// One's-complement sum of a buffer, folded to 16 bits.
uint16_t ones_complement_sum(const uint8_t* data, size_t len);

// The checksum of a buffer whose checksum field is zero: ~ones_complement_sum(). A receiver that
// sums a buffer including a correct checksum field gets fold() == 0xFFFF, i.e. this returns 0.
uint16_t internet_checksum(const uint8_t* data, size_t len);

// One's-complement addition of two 16-bit values.
uint16_t ones_complement_add(uint16_t a, uint16_t b);

// RFC 1624 section 3, equation 3: the new checksum after a 16-bit word of the covered data changes
// from old_word to new_word, HC' = ~(~HC + ~m + m'). Unlike equation 2 it never yields 0xFFFF
// where recomputation gives 0x0000 (RFC 1624 section 4 example).
uint16_t checksum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word);
// The same for an aligned 32-bit field (an IPv4 address rewritten by NAT): both halves.
uint16_t checksum_update32(uint16_t checksum, uint32_t old_value, uint32_t new_value);

} // namespace iovsim::wire
