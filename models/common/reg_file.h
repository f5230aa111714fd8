#pragma once
// Typed device registers, declared once: name, offset, reset value, access policy, and optional
// read/write hooks. A register array (one register per queue, per filter...) is one declaration with
// a count and a stride. The register file decodes an MMIO access by offset with a length check, so no
// device decodes addresses by hand.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace iovsim::models {

// A 64-bit value written as two 32-bit registers (base address LO/HI pairs): one half replaced.
constexpr uint64_t set_lo(uint64_t v, uint32_t lo) { return (v & ~0xFFFF'FFFFULL) | lo; }
constexpr uint64_t set_hi(uint64_t v, uint32_t hi) { return (v & 0xFFFF'FFFFULL) | (static_cast<uint64_t>(hi) << 32); }

enum class reg_access {
    rw,   // read/write
    ro,   // read-only: writes ignored (and counted)
    wo,   // write-only: reads return 0
    w1c,  // write 1 to clear (interrupt cause registers)
    w1s,  // write 1 to set (interrupt mask set registers)
};

class reg_file {
public:
    // Hook arguments: index within the array (0 for a single register), the value before the write,
    // and the value after it; for w1c and w1s registers, the bits the access wrote instead.
    using write_hook = std::function<void(unsigned index, uint32_t old_value, uint32_t new_value)>;
    using read_hook = std::function<uint32_t(unsigned index, uint32_t stored)>;

    struct reg_def {
        std::string name;
        uint32_t offset = 0;
        uint32_t reset = 0;
        reg_access access = reg_access::rw;
        unsigned count = 1;
        uint32_t stride = 4;
        write_hook on_write;
        read_hook on_read;
    };

    // Declares a register (or an array of `count` registers `stride` bytes apart). Returns its id
    // for fast access by the device. A declaration with a bad geometry (count 0, offset or stride
    // not a multiple of 4, beyond the 32-bit offset space) or overlapping one already declared
    // throws std::logic_error and leaves the file unchanged.
    unsigned add(reg_def def);

    // MMIO access, 32-bit aligned. Returns false, and counts a bad access, for an offset that
    // decodes to no register or an access that is not `bytes` = 4 wide; the device then answers
    // with an error response. The overloads without a width are 4-byte accesses.
    bool read(uint32_t offset, unsigned bytes, uint32_t& value);
    bool write(uint32_t offset, unsigned bytes, uint32_t value);
    bool read(uint32_t offset, uint32_t& value) { return read(offset, 4, value); }
    bool write(uint32_t offset, uint32_t value) { return write(offset, 4, value); }

    // Device-side access (the hardware updating its own registers, e.g. head pointers).
    uint32_t get(unsigned id, unsigned index = 0) const { return m_values[m_regs[id].first_value + index]; }
    void set(unsigned id, uint32_t value) { m_values[m_regs[id].first_value] = value; }
    void set(unsigned id, unsigned index, uint32_t value) { m_values[m_regs[id].first_value + index] = value; }
    const std::string& name(unsigned id) const { return m_regs[id].def.name; }

    void reset();
    // Name of the register at an offset, "" when none (for logs and error messages).
    std::string name_at(uint32_t offset) const;

    // Accesses refused (unknown offset, bad width) plus writes to read-only registers (ignored).
    uint64_t bad_accesses() const { return m_bad_accesses; }

private:
    struct reg_slot {
        reg_def def;
        size_t first_value = 0;
    };
    struct decode_entry {
        uint32_t offset;
        unsigned reg;
        unsigned index;
    };
    const decode_entry* decode(uint32_t offset) const;

    std::vector<reg_slot> m_regs;
    std::vector<uint32_t> m_values;
    std::vector<decode_entry> m_decode;   // sorted by offset
    uint64_t m_bad_accesses = 0;
};

} // namespace iovsim::models
