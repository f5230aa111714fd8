#pragma once
// The append-only file as the persistent log on the raw block device, from the Linux-like path
// (os/linux/direct_log: Caladan on Linux). Each write appends its bytes to the log's image (entries
// as Arrakis/P's, split when larger than one entry); sync writes the appended entries to the device
// with pwrite(2), O_DIRECT|O_DSYNC, and returns once they are durable: the server's task sleeps in
// the system call until the controller's interrupt (the core may take other interrupts meanwhile).
//
// When the log is full of durable entries the oldest are dropped (counted), as aof_log does; size
// the log (workload.redis.log_vsa_kb) for what a run appends.
#include <cstdint>
#include <vector>

#include "os/linux/direct_log.h"
#include "workloads/redis/aof.h"

namespace iovsim::workloads::redis {

struct aof_direct_stats {
    uint64_t writes = 0, bytes = 0, appends = 0, syncs = 0, truncations = 0, errors = 0;
};

class aof_direct : public aof_backend {
public:
    explicit aof_direct(os::linux_path::direct_log& log);

    bool write(const uint8_t* data, size_t len) override;
    bool sync() override;

    // The payloads of the durable entries still in the log, in order.
    std::vector<uint8_t> durable_bytes() const;
    // Everything written is durable.
    bool synced() const { return m_log.log().durable_seq() >= m_last_seq; }
    const aof_direct_stats& stats() const { return m_stats; }

private:
    os::linux_path::direct_log& m_log;
    uint64_t m_last_seq = 0;
    aof_direct_stats m_stats;
};

} // namespace iovsim::workloads::redis
