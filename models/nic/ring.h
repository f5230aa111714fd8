#pragma once
// Index arithmetic of a descriptor ring with a head and a tail register, as the 82599's receive
// and transmit rings (datasheet "Receive Descriptor Queue Structure" and its transmit twin).
//
// Convention (the 82599's): hardware owns the descriptors from head up to, not including, tail;
// software owns the rest. head == tail means hardware owns none (empty for hardware). Software may
// therefore hand over at most n - 1 descriptors: one slot always stays empty, otherwise a full ring
// would look like an empty one.
//
// The ring size n need not be a power of two (the 82599 asks for a multiple of 8 descriptors:
// RDLEN/TDLEN are multiples of 128 bytes of 16-byte descriptors), so indices wrap by modulo, not by
// masking. Every function is total: indices at or beyond n are reduced modulo n and n == 0 yields
// 0, so a bad register value written by a guest cannot make the model divide by zero. Whether such
// a value is an error to report belongs to the register callback, which can use is_valid_index().

#include <cstdint>

namespace iovsim::nic {

struct ring_index {
    // Sizes the 82599 accepts: non-zero and a multiple of 8 descriptors.
    static constexpr bool is_valid_size(std::uint32_t n) { return n != 0 && n % 8 == 0; }

    static constexpr bool is_valid_index(std::uint32_t i, std::uint32_t n) { return i < n; }

    // Steps from `from` forward to `to`, in [0, n).
    static constexpr std::uint32_t distance(std::uint32_t from, std::uint32_t to, std::uint32_t n)
    {
        if (n == 0) {
            return 0;
        }
        if (from < n && to < n) {   // the usual case: no division
            return to >= from ? to - from : to + n - from;
        }
        const std::uint64_t f = from % n;
        const std::uint64_t t = to % n;
        return static_cast<std::uint32_t>((t + n - f) % n);
    }

    // Index k slots after i; k may exceed n.
    static constexpr std::uint32_t advance(std::uint32_t i, std::uint64_t k, std::uint32_t n)
    {
        if (n == 0) {
            return 0;
        }
        if (i < n && k < n) {   // the usual case: no division
            const std::uint64_t j = std::uint64_t{i} + k;
            return static_cast<std::uint32_t>(j >= n ? j - n : j);
        }
        return static_cast<std::uint32_t>((std::uint64_t{i % n} + k % n) % n);
    }

    // Descriptors owned by hardware: from head up to tail, in [0, n - 1].
    static constexpr std::uint32_t available(std::uint32_t head, std::uint32_t tail,
                                             std::uint32_t n)
    {
        return distance(head, tail, n);
    }

    // Descriptors software can still hand to hardware by moving tail, keeping one slot empty.
    static constexpr std::uint32_t free_slots(std::uint32_t head, std::uint32_t tail,
                                              std::uint32_t n)
    {
        if (n == 0) {
            return 0;
        }
        return n - 1 - available(head, tail, n);
    }

    static constexpr bool empty(std::uint32_t head, std::uint32_t tail, std::uint32_t n)
    {
        return available(head, tail, n) == 0;
    }

    static constexpr bool full(std::uint32_t head, std::uint32_t tail, std::uint32_t n)
    {
        return n != 0 && free_slots(head, tail, n) == 0;
    }
};

} // namespace iovsim::nic
