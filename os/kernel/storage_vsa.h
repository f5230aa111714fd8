#pragma once
// The kernel's bookkeeping of virtual storage areas (Arrakis section 3.2): a VSA is a named,
// contiguous extent of the physical device's blocks owned by one application; acquire_vsa,
// resize_vsa and release_vsa manage them. The mapping to VSICs is many-to-many: a VSIC has up to
// four mapping slots (the VSA mapping table the device checks every command against), and a VSA
// may be mapped into several VSICs (an application's several VSICs, or another's read-only). The
// kernel's VFS keeps file names; a name can resolve to an application's VSA.
//
// Pure logic: programming a slot into the device is the caller's `program` function (the PF's
// mapping-table registers), called whenever a slot changes.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace iovsim::os::kernel {

constexpr unsigned vsa_slots_per_vsic = 4;   // Arrakis prototype: up to 4 VSA mappings per VSIC

// A VSIC mapping-table slot as the device holds it.
struct vsa_slot {
    bool valid = false;
    uint32_t vsa = 0;          // the VSA's id: the namespace id its commands carry
    uint64_t base_lba = 0;     // physical, in 512-byte logical blocks
    uint64_t blocks = 0;
    bool writable = false;
};

struct vsa_info {
    uint32_t id = 0;
    std::string name;
    uint32_t owner = 0;        // application id
    uint64_t base_lba = 0;
    uint64_t blocks = 0;
};

// Why a call failed: the control plane's errors are values, not crashes.
class storage_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class vsa_manager {
public:
    using program_fn = std::function<void(unsigned vsic, unsigned slot, const vsa_slot& s)>;

    // The device's blocks [first_lba, first_lba + blocks) are the kernel's to hand out.
    vsa_manager(uint64_t first_lba, uint64_t blocks, unsigned max_vsics, program_fn program);

    // A new VSA of `blocks` for `owner`, or the owner's existing VSA of that name (size unchanged).
    // Throws storage_error when the device has no contiguous extent that large.
    uint32_t acquire_vsa(uint32_t owner, const std::string& name, uint64_t blocks);
    // Grows in place or shrinks; every VSIC slot that maps it is reprogrammed. Throws when the
    // caller does not own it or the blocks after it are taken.
    void resize_vsa(uint32_t owner, uint32_t vsa, uint64_t blocks);
    // Unmaps it from every VSIC, frees its blocks and its names.
    void release_vsa(uint32_t owner, uint32_t vsa);

    // Maps the VSA into a free slot of `vsic` and returns the slot (commands name the VSA by its id). The
    // owner maps read-write; another application only read-only, when the owner shares it.
    unsigned map(uint32_t app, uint32_t vsa, unsigned vsic, bool writable);
    void unmap(unsigned vsic, unsigned slot);
    void share(uint32_t owner, uint32_t vsa, uint32_t reader);

    // VFS: `path` names the VSA (its owner binds it); resolve gives it to its owner, or a reader.
    void bind_name(uint32_t owner, const std::string& path, uint32_t vsa);
    std::optional<uint32_t> resolve(uint32_t app, const std::string& path) const;

    const vsa_info& info(uint32_t vsa) const;
    const vsa_slot& slot(unsigned vsic, unsigned slot) const { return m_slots.at(vsic).at(slot); }
    // The (vsic, slot) pairs a VSA is mapped at.
    std::vector<std::pair<unsigned, unsigned>> mappings(uint32_t vsa) const;
    uint64_t free_blocks() const;

private:
    vsa_info& owned(uint32_t owner, uint32_t vsa);
    std::optional<uint64_t> find_extent(uint64_t blocks) const;
    bool extent_free(uint64_t lba, uint64_t blocks, uint32_t except) const;
    void reprogram(uint32_t vsa);

    uint64_t m_first, m_blocks;
    program_fn m_program;
    uint32_t m_next_id = 1;
    std::map<uint32_t, vsa_info> m_vsas;
    std::map<uint32_t, std::set<uint32_t>> m_readers;               // vsa -> apps it is shared with
    std::vector<std::vector<vsa_slot>> m_slots;                     // [vsic][slot]
    std::vector<std::vector<uint32_t>> m_slot_vsa;                  // [vsic][slot] -> vsa id (0: none)
    std::map<std::string, uint32_t> m_names;                        // VFS path -> vsa
};

} // namespace iovsim::os::kernel
