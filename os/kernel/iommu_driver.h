#pragma once
// The kernel's driver for the DMA-remapping unit: it keeps the I/O page tables in host memory
// (io_page_tables) and talks to the unit only through its registers (iommu_regs.h): root table
// pointer, translation enable, and IOTLB invalidation after an unmap.
#include <cstdint>
#include <memory>

#include "os/core/cpu_core.h"
#include "os/kernel/io_page_tables.h"
#include "os/kernel/phys_alloc.h"

namespace iovsim::os::kernel {

class iommu_driver : public phys_mem, public page_source {
public:
    iommu_driver(cpu_core& core, phys_alloc& mem, unsigned levels);

    void enable(category c);
    void attach_pass_through(uint16_t rid, uint16_t domain) { m_tables->attach_pass_through(rid, domain); }
    void attach(uint16_t rid, uint16_t domain) { m_tables->attach(rid, domain); }
    void map(uint16_t domain, uint64_t iova, uint64_t pa, uint64_t len, bool read, bool write)
    {
        m_tables->map(domain, iova, pa, len, read, write);
    }
    // Removes the mappings and invalidates each page in the IOTLB before returning.
    void unmap(category c, uint16_t domain, uint64_t iova, uint64_t len);
    // Clears the requester's context entry, invalidates the context cache and the domain's IOTLB
    // entries: the device's DMA faults from then on.
    void detach(category c, uint16_t rid, uint16_t domain);
    io_page_tables& tables() { return *m_tables; }

    // The tables' view of memory and of the page allocator.
    uint64_t read_u64(uint64_t pa) override;
    void write_u64(uint64_t pa, uint64_t v) override;
    uint64_t alloc_zeroed_page() override;

private:

    cpu_core& m_core;
    phys_alloc& m_mem;
    std::unique_ptr<io_page_tables> m_tables;
};

} // namespace iovsim::os::kernel
