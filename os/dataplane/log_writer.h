#pragma once
// An application's side of a persistent log (storage_log.h), whatever carries the log's writes to
// the device: the VSIC driven from user level (storage.h: vsa_log) or the Linux kernel's direct
// I/O (os/linux/direct_log). Entries are built in place, each step charged to the application's
// core for what it does:
//   reserve  placement, header and bookkeeping (arrakis.log_append) and the CRC of the header;
//            while the log is full of entries not yet durable, lets the carrier make progress
//            (space comes back only as earlier writes, a truncate's header, complete)
//   fill     the copy into the payload and its CRC, per byte
//   commit   the CRC of payload bytes written other than by fill; the write itself is the
//            carrier's (a command into the VSIC's ring, or a write queued for the next system call)
// An AOF (workloads/redis/aof_log) appends through this and waits for durability through it.
#include <cstdint>

#include "os/core/cpu_core.h"
#include "os/dataplane/storage_log.h"

namespace iovsim::os::dataplane {

class log_writer {
public:
    virtual ~log_writer() = default;

    virtual persistent_log& log() = 0;
    // Returns once entry `seq` is durable; false when the log failed.
    virtual bool wait_durable(uint64_t seq) = 0;

    persistent_log::append_status reserve(uint32_t len, uint64_t& seq);
    void fill(uint64_t seq, const uint8_t* data, uint32_t len);
    persistent_log::append_status commit(uint64_t seq);
    // reserve, fill with `data`, commit; costs what they do.
    persistent_log::append_status append(const uint8_t* data, uint32_t len, uint64_t& seq);

protected:
    // The core the application runs on.
    virtual cpu_core& writer_core() = 0;
    // Lets writes already issued or queued complete (at least one, or some progress); false when
    // there are none, so that waiting cannot free space.
    virtual bool make_progress() = 0;

private:
    void charge_crc(uint64_t bytes);
};

} // namespace iovsim::os::dataplane
