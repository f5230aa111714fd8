#pragma once
// The VSA mapping table of the VSICs (pure logic, no SystemC): up to 4 mappings per VSIC, 64
// VSICs, and the check every command passes on a VSIC: its VSA id names a valid mapping, the range
// lies within the VSA, the right is granted. The hardware VSIC (models/storage/storage_ctrl) and the
// emulated one (software on a dedicated core) both use it: the emulated one keeps the table in its
// own memory in the register layout of storage_regs.h (reg::VSA0...), so the kernel programs both
// the same way.
#include <array>
#include <cstdint>

#include "models/storage/storage_regs.h"

namespace iovsim::storage {

struct vsa_entry {
    uint64_t base = 0;     // first physical LBA
    uint64_t length = 0;   // blocks
    uint16_t id = 0;       // the VSA id commands name (sqe.nsid)
    bool valid = false, read = false, write = false;
};

struct vsa_translation {
    status code = status::success;
    uint64_t phys_lba = 0;
    unsigned slot = 0;
};

// `first`..`first + count` within [0, limit): no overflow, count > 0.
constexpr bool range_within(uint64_t first, uint64_t count, uint64_t limit)
{
    return count <= limit && first <= limit - count;
}

// The check of a read, write or flush on a namespace of `blocks` blocks: range within bounds.
inline status check_range(const sqe& cmd, uint64_t blocks)
{
    if (cmd.op == opcode::flush)
        return status::success;
    return range_within(cmd.slba, cmd.nlb, blocks) ? status::success : status::lba_out_of_range;
}

// The format checks every command passes before anything else (controller and VSICs alike): a
// known opcode, reserved bytes zero, known pointer flags, 1..max_blocks blocks for a transfer.
// `raw` is the 64-byte entry, `s` its decoding. Returns success, invalid_opcode or invalid_field.
inline status check_format(const uint8_t* raw, const sqe& s, uint32_t max_blocks)
{
    if (s.op != opcode::read && s.op != opcode::write && s.op != opcode::flush)
        return status::invalid_opcode;
    if (!sqe::reserved_clear(raw) || (s.flags & ~SQE_FLAGS_KNOWN))
        return status::invalid_field;
    if (s.op != opcode::flush && (s.nlb == 0 || s.nlb > max_blocks))
        return status::invalid_field;
    return status::success;
}

class vsa_map {
public:
    vsa_entry& at(unsigned vsic, unsigned slot) { return m_entries.at(vsic).at(slot); }
    const vsa_entry& at(unsigned vsic, unsigned slot) const { return m_entries.at(vsic).at(slot); }

    // A write to the table's register words (offset from reg::VSA0, as the kernel writes them).
    // False for an offset outside the table or not a field.
    bool write_reg(uint32_t offset, uint32_t value);
    bool read_reg(uint32_t offset, uint32_t& value) const;

    // The command `cmd` arriving on VSIC `vsic`: the slot it names and the physical LBA, or the
    // status it fails with (invalid_namespace, access_denied, lba_out_of_range). Flush needs the
    // write right and no range.
    vsa_translation translate(unsigned vsic, const sqe& cmd) const;

    // Loads VSIC `vsic`'s entries from a copy of the table in memory, in the register layout
    // (`table` points at the entry of VSIC 0, slot 0: what reg::VSA0 addresses).
    void load(unsigned vsic, const uint8_t* table);

    void clear() { m_entries = {}; }

private:
    std::array<std::array<vsa_entry, vsas_per_vsic>, max_vsics> m_entries{};
};

} // namespace iovsim::storage
