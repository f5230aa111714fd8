#include "models/storage/vsa_map.h"

#include <cstring>

#include "models/common/reg_file.h"

namespace iovsim::storage {

using models::set_hi;
using models::set_lo;

bool vsa_map::write_reg(uint32_t offset, uint32_t value)
{
    const unsigned index = offset / reg::VSA_STRIDE;
    if (offset % 4 || index >= max_vsics * vsas_per_vsic)
        return false;
    vsa_entry& e = m_entries[index / vsas_per_vsic][index % vsas_per_vsic];
    switch (offset % reg::VSA_STRIDE) {
    case reg::VSA_BASE_LO_OFF: e.base = set_lo(e.base, value); return true;
    case reg::VSA_BASE_HI_OFF: e.base = set_hi(e.base, value); return true;
    case reg::VSA_LEN_LO_OFF: e.length = set_lo(e.length, value); return true;
    case reg::VSA_LEN_HI_OFF: e.length = set_hi(e.length, value); return true;
    case reg::VSA_CTL_OFF:
        e.valid = value & reg::VSA_CTL_V;
        e.read = value & reg::VSA_CTL_R;
        e.write = value & reg::VSA_CTL_W;
        e.id = static_cast<uint16_t>(value >> reg::VSA_CTL_ID_SHIFT);
        return true;
    default: return false;
    }
}

bool vsa_map::read_reg(uint32_t offset, uint32_t& value) const
{
    const unsigned index = offset / reg::VSA_STRIDE;
    if (offset % 4 || index >= max_vsics * vsas_per_vsic)
        return false;
    const vsa_entry& e = m_entries[index / vsas_per_vsic][index % vsas_per_vsic];
    switch (offset % reg::VSA_STRIDE) {
    case reg::VSA_BASE_LO_OFF: value = static_cast<uint32_t>(e.base); return true;
    case reg::VSA_BASE_HI_OFF: value = static_cast<uint32_t>(e.base >> 32); return true;
    case reg::VSA_LEN_LO_OFF: value = static_cast<uint32_t>(e.length); return true;
    case reg::VSA_LEN_HI_OFF: value = static_cast<uint32_t>(e.length >> 32); return true;
    case reg::VSA_CTL_OFF:
        value = (e.valid ? reg::VSA_CTL_V : 0) | (e.read ? reg::VSA_CTL_R : 0) | (e.write ? reg::VSA_CTL_W : 0) |
                static_cast<uint32_t>(e.id) << reg::VSA_CTL_ID_SHIFT;
        return true;
    default: return false;
    }
}

void vsa_map::load(unsigned vsic, const uint8_t* table)
{
    for (unsigned slot = 0; slot < vsas_per_vsic; ++slot) {
        const uint32_t entry = (vsic * vsas_per_vsic + slot) * reg::VSA_STRIDE;
        for (uint32_t off : {reg::VSA_BASE_LO_OFF, reg::VSA_BASE_HI_OFF, reg::VSA_LEN_LO_OFF, reg::VSA_LEN_HI_OFF,
                             reg::VSA_CTL_OFF}) {
            uint32_t v;
            std::memcpy(&v, table + entry + off, 4);
            write_reg(entry + off, v);
        }
    }
}

vsa_translation vsa_map::translate(unsigned vsic, const sqe& cmd) const
{
    vsa_translation t;
    if (vsic >= max_vsics) {
        t.code = status::invalid_namespace;
        return t;
    }
    const auto& slots = m_entries[vsic];
    for (unsigned s = 0; s < vsas_per_vsic; ++s) {
        const vsa_entry& e = slots[s];
        if (!e.valid || e.id != cmd.nsid)
            continue;
        t.slot = s;
        const bool writing = cmd.op != opcode::read;
        if ((writing && !e.write) || (!writing && !e.read)) {
            t.code = status::access_denied;
            return t;
        }
        t.code = check_range(cmd, e.length);
        if (t.code == status::success)
            t.phys_lba = e.base + cmd.slba;
        return t;
    }
    t.code = status::invalid_namespace;
    return t;
}

} // namespace iovsim::storage
