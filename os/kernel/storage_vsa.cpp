#include "os/kernel/storage_vsa.h"

#include <algorithm>

namespace iovsim::os::kernel {

vsa_manager::vsa_manager(uint64_t first_lba, uint64_t blocks, unsigned max_vsics, program_fn program)
    : m_first(first_lba), m_blocks(blocks), m_program(std::move(program)),
      m_slots(max_vsics, std::vector<vsa_slot>(vsa_slots_per_vsic)),
      m_slot_vsa(max_vsics, std::vector<uint32_t>(vsa_slots_per_vsic, 0))
{
}

const vsa_info& vsa_manager::info(uint32_t vsa) const
{
    const auto it = m_vsas.find(vsa);
    if (it == m_vsas.end())
        throw storage_error("no VSA " + std::to_string(vsa));
    return it->second;
}

vsa_info& vsa_manager::owned(uint32_t owner, uint32_t vsa)
{
    const auto it = m_vsas.find(vsa);
    if (it == m_vsas.end())
        throw storage_error("no VSA " + std::to_string(vsa));
    if (it->second.owner != owner)
        throw storage_error("VSA " + std::to_string(vsa) + " belongs to another application");
    return it->second;
}

bool vsa_manager::extent_free(uint64_t lba, uint64_t blocks, uint32_t except) const
{
    if (lba < m_first || lba + blocks > m_first + m_blocks)
        return false;
    for (const auto& [id, v] : m_vsas)
        if (id != except && lba < v.base_lba + v.blocks && v.base_lba < lba + blocks)
            return false;
    return true;
}

// First fit over the gaps between VSAs, in LBA order.
std::optional<uint64_t> vsa_manager::find_extent(uint64_t blocks) const
{
    std::vector<std::pair<uint64_t, uint64_t>> used;
    for (const auto& [id, v] : m_vsas)
        used.emplace_back(v.base_lba, v.blocks);
    std::sort(used.begin(), used.end());
    uint64_t at = m_first;
    for (const auto& [base, len] : used) {
        if (base >= at + blocks)
            return at;
        at = std::max(at, base + len);
    }
    if (at + blocks <= m_first + m_blocks)
        return at;
    return std::nullopt;
}

uint64_t vsa_manager::free_blocks() const
{
    uint64_t used = 0;
    for (const auto& [id, v] : m_vsas)
        used += v.blocks;
    return m_blocks - used;
}

uint32_t vsa_manager::acquire_vsa(uint32_t owner, const std::string& name, uint64_t blocks)
{
    for (const auto& [id, v] : m_vsas)
        if (v.owner == owner && v.name == name)
            return id;
    if (blocks == 0)
        throw storage_error("acquire_vsa " + name + ": a VSA needs at least one block");
    const auto at = find_extent(blocks);
    if (!at)
        throw storage_error("acquire_vsa " + name + ": no free extent of " + std::to_string(blocks) + " blocks");
    vsa_info v;
    v.id = m_next_id++;
    v.name = name;
    v.owner = owner;
    v.base_lba = *at;
    v.blocks = blocks;
    m_vsas[v.id] = v;
    return v.id;
}

void vsa_manager::resize_vsa(uint32_t owner, uint32_t vsa, uint64_t blocks)
{
    vsa_info& v = owned(owner, vsa);
    if (blocks == 0)
        throw storage_error("resize_vsa: a VSA needs at least one block (release it instead)");
    if (blocks > v.blocks && !extent_free(v.base_lba, blocks, vsa))
        throw storage_error("resize_vsa " + v.name + ": the blocks after it are taken");
    v.blocks = blocks;
    reprogram(vsa);
}

void vsa_manager::release_vsa(uint32_t owner, uint32_t vsa)
{
    owned(owner, vsa);
    for (const auto& [vsic, slot] : mappings(vsa))
        unmap(vsic, slot);
    for (auto it = m_names.begin(); it != m_names.end();)
        it = it->second == vsa ? m_names.erase(it) : std::next(it);
    m_readers.erase(vsa);
    m_vsas.erase(vsa);
}

void vsa_manager::share(uint32_t owner, uint32_t vsa, uint32_t reader)
{
    owned(owner, vsa);
    m_readers[vsa].insert(reader);
}

unsigned vsa_manager::map(uint32_t app, uint32_t vsa, unsigned vsic, bool writable)
{
    const vsa_info& v = info(vsa);
    if (v.owner != app) {
        const auto r = m_readers.find(vsa);
        if (r == m_readers.end() || r->second.count(app) == 0)
            throw storage_error("map: VSA " + v.name + " is not shared with application " + std::to_string(app));
        if (writable)
            throw storage_error("map: only the owner maps VSA " + v.name + " writable");
    }
    if (vsic >= m_slots.size())
        throw storage_error("map: no VSIC " + std::to_string(vsic));
    for (unsigned s = 0; s < vsa_slots_per_vsic; ++s) {
        if (m_slots[vsic][s].valid)
            continue;
        m_slots[vsic][s] = {true, v.id, v.base_lba, v.blocks, writable};
        m_slot_vsa[vsic][s] = vsa;
        m_program(vsic, s, m_slots[vsic][s]);
        return s;
    }
    throw storage_error("map: VSIC " + std::to_string(vsic) + " has all " + std::to_string(vsa_slots_per_vsic) +
                        " mapping slots in use");
}

void vsa_manager::unmap(unsigned vsic, unsigned slot)
{
    if (vsic >= m_slots.size() || slot >= vsa_slots_per_vsic)
        throw storage_error("unmap: no such slot");
    m_slots[vsic][slot] = vsa_slot{};
    m_slot_vsa[vsic][slot] = 0;
    m_program(vsic, slot, m_slots[vsic][slot]);
}

std::vector<std::pair<unsigned, unsigned>> vsa_manager::mappings(uint32_t vsa) const
{
    std::vector<std::pair<unsigned, unsigned>> out;
    for (unsigned q = 0; q < m_slot_vsa.size(); ++q)
        for (unsigned s = 0; s < vsa_slots_per_vsic; ++s)
            if (m_slot_vsa[q][s] == vsa)
                out.emplace_back(q, s);
    return out;
}

void vsa_manager::reprogram(uint32_t vsa)
{
    const vsa_info& v = info(vsa);
    for (const auto& [vsic, slot] : mappings(vsa)) {
        vsa_slot& s = m_slots[vsic][slot];
        s.base_lba = v.base_lba;
        s.blocks = v.blocks;
        m_program(vsic, slot, s);
    }
}

void vsa_manager::bind_name(uint32_t owner, const std::string& path, uint32_t vsa)
{
    owned(owner, vsa);
    if (path.empty() || path[0] != '/')
        throw storage_error("bind_name: '" + path + "' is not an absolute path");
    const auto it = m_names.find(path);
    if (it != m_names.end() && it->second != vsa)
        throw storage_error("bind_name: " + path + " already names another VSA");
    m_names[path] = vsa;
}

std::optional<uint32_t> vsa_manager::resolve(uint32_t app, const std::string& path) const
{
    const auto it = m_names.find(path);
    if (it == m_names.end())
        return std::nullopt;
    const vsa_info& v = info(it->second);
    if (v.owner == app)
        return v.id;
    const auto r = m_readers.find(v.id);
    if (r != m_readers.end() && r->second.count(app))
        return v.id;
    return std::nullopt;
}

} // namespace iovsim::os::kernel
