// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), as iSCSI (RFC 3720 B.4),
// ext4 metadata and NVMe end-to-end protection use it. The storage dataplane's persistent log seals
// each entry and its VSA header with it, so a torn or stale block is recognised on recovery.
#pragma once

#include <cstddef>
#include <cstdint>

namespace iovsim::wire {

// CRC of `len` bytes continuing from `crc` (0 to start). crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const uint8_t* data, size_t len, uint32_t crc = 0);

} // namespace iovsim::wire
