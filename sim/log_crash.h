#pragma once
// The judge of the persistent log's crash consistency. A workload tells it what it appended (the
// payload of each (epoch, sequence number) is a function of both, so nothing is stored per byte),
// what the log acknowledged as durable and what it truncated; given the image a power loss left
// on the device, it runs recovery and says whether the log opens, whether every acknowledged
// append is there and intact, and whether any entry returned is torn or garbage.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "os/dataplane/storage_log.h"

namespace iovsim::sim {

// The bytes a crash workload appends as entry `seq` in `epoch`.
void crash_payload(uint32_t epoch, uint64_t seq, uint8_t* out, uint32_t len);

class log_oracle {
public:
    void appended(uint32_t epoch, uint64_t seq, uint32_t len) { m_written[{epoch, seq}] = len; }
    // Every entry up to `durable_seq` of the log now running in `epoch` is acknowledged.
    void acknowledged(uint32_t epoch, uint64_t durable_seq);
    // Entries up to `upto_seq` may be gone after a crash from now on.
    void truncated(uint64_t upto_seq);
    // A log was opened after a crash or a restart: what it recovered is the log's content from now
    // on. Returns the first violation (an acknowledged append it lacks or holds from another
    // epoch), empty when none.
    std::string reopened(const os::dataplane::persistent_log& log);

    struct verdict {
        bool ok = false;
        std::string why;          // the first violation
        uint64_t entries = 0;     // entries recovered
        uint64_t acknowledged = 0;   // acknowledged entries that had to be there
    };
    verdict check(const uint8_t* image, uint64_t capacity) const;

    uint64_t acked_count() const { return m_acked.size(); }

private:
    std::map<std::pair<uint32_t, uint64_t>, uint32_t> m_written;   // (epoch, seq) -> length
    std::map<uint64_t, uint32_t> m_acked;                            // seq -> epoch it was acknowledged in
    uint64_t m_floor = 0;                                            // truncated up to here
};

} // namespace iovsim::sim
