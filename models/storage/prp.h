#pragma once
// The data pointer of a command as a list of DMA segments (pure logic, no SystemC): one contiguous
// buffer, or a PRP chain after NVMe 1.x 4.3 (first entry may carry a page offset; every further
// entry is page aligned; a PRP list that does not fit in its page chains to the next list page
// through its last entry).
#include <cstdint>
#include <functional>
#include <vector>

#include "models/storage/storage_regs.h"

namespace iovsim::storage {

struct dma_segment {
    uint64_t iova = 0;
    uint32_t bytes = 0;
};

// Reads `count` 8-byte PRP entries at `iova` (a DMA of a list page); false when the read failed.
using prp_list_reader = std::function<bool(uint64_t iova, uint64_t* entries, unsigned count)>;

// Segments covering `bytes` of the command's data, adjacent pages merged. Returns success,
// invalid_field (an unknown pointer kind, a misaligned entry, a zero pointer) or
// data_transfer_error (a list read failed).
status data_segments(const sqe& cmd, uint64_t bytes, const prp_list_reader& read_list, std::vector<dma_segment>& out);

} // namespace iovsim::storage
