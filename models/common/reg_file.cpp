#include "models/common/reg_file.h"

#include <algorithm>
#include <stdexcept>

namespace iovsim::models {

unsigned reg_file::add(reg_def def)
{
    const uint64_t last = uint64_t{def.offset} + uint64_t{def.stride} * (def.count == 0 ? 0 : def.count - 1);
    if (def.count == 0 || def.stride < 4 || def.offset % 4 != 0 || def.stride % 4 != 0 || last > 0xFFFF'FFFCULL)
        throw std::logic_error("register " + def.name + ": bad geometry");
    // Check every element before inserting any, so a refused declaration changes nothing.
    for (unsigned i = 0; i < def.count; ++i) {
        const uint32_t off = def.offset + i * def.stride;
        if (decode(off) != nullptr)
            throw std::logic_error("register " + def.name + " overlaps " + name_at(off));
    }
    const unsigned id = static_cast<unsigned>(m_regs.size());
    const size_t first_value = m_values.size();
    m_decode.reserve(m_decode.size() + def.count);
    for (unsigned i = 0; i < def.count; ++i) {
        const uint32_t off = def.offset + i * def.stride;
        // Insert in place: sorting after every element made large arrays quadratic in time.
        auto pos = std::lower_bound(m_decode.begin(), m_decode.end(), off,
                                    [](const decode_entry& e, uint32_t o) { return e.offset < o; });
        m_decode.insert(pos, decode_entry{off, id, i});
    }
    m_values.insert(m_values.end(), def.count, def.reset);
    m_regs.push_back(reg_slot{std::move(def), first_value});
    return id;
}

const reg_file::decode_entry* reg_file::decode(uint32_t offset) const
{
    auto it = std::lower_bound(m_decode.begin(), m_decode.end(), offset,
                               [](const decode_entry& e, uint32_t off) { return e.offset < off; });
    if (it == m_decode.end() || it->offset != offset)
        return nullptr;
    return &*it;
}

bool reg_file::read(uint32_t offset, unsigned bytes, uint32_t& value)
{
    const decode_entry* e = bytes == 4 ? decode(offset) : nullptr;
    if (e == nullptr) {
        ++m_bad_accesses;
        value = 0;
        return false;
    }
    const reg_slot& r = m_regs[e->reg];
    const uint32_t stored = m_values[r.first_value + e->index];
    if (r.def.access == reg_access::wo)
        value = 0;
    else if (r.def.on_read)
        value = r.def.on_read(e->index, stored);
    else
        value = stored;
    return true;
}

bool reg_file::write(uint32_t offset, unsigned bytes, uint32_t value)
{
    const decode_entry* e = bytes == 4 ? decode(offset) : nullptr;
    if (e == nullptr) {
        ++m_bad_accesses;
        return false;
    }
    reg_slot& r = m_regs[e->reg];
    uint32_t& slot = m_values[r.first_value + e->index];
    const uint32_t old = slot;
    switch (r.def.access) {
    case reg_access::ro:
        ++m_bad_accesses;
        return true;
    case reg_access::w1c:
        slot = old & ~value;
        break;
    case reg_access::w1s:
        slot = old | value;
        break;
    case reg_access::rw:
    case reg_access::wo:
        slot = value;
        break;
    }
    if (r.def.on_write)
        r.def.on_write(e->index, old, r.def.access == reg_access::w1s || r.def.access == reg_access::w1c ? value : slot);
    return true;
}

void reg_file::reset()
{
    for (const reg_slot& r : m_regs)
        for (unsigned i = 0; i < r.def.count; ++i)
            m_values[r.first_value + i] = r.def.reset;
}

std::string reg_file::name_at(uint32_t offset) const
{
    const decode_entry* e = decode(offset);
    if (e == nullptr)
        return "";
    const reg_slot& r = m_regs[e->reg];
    return r.def.count > 1 ? r.def.name + "[" + std::to_string(e->index) + "]" : r.def.name;
}

} // namespace iovsim::models
