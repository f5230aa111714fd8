#pragma once
// The append-only file as the persistent log (os/dataplane/storage_log, through a log_writer):
// each write appends its bytes as entries built in place in the log's image; sync waits until the
// log's durable sequence number covers the last append. Arrakis/P's log is on the application's
// VSA (vsa_log: the device write starts at once; the wait polls the VSIC's completion queue and
// blocks on it when nothing has arrived, so an idle wait costs no host time). The Linux-like path's
// (os/linux/direct_log, Caladan on Linux) is on a region of the raw device: sync issues the queued
// writes as pwrite(2) with O_DIRECT|O_DSYNC and sleeps in the kernel until they are durable.
//
// The bytes may be staged (aof.h) before their write: each stage reserves an entry of the log and
// copies the bytes into it (the second of Redis's two copies lands in the entry: on Arrakis/P the
// AOF buffer is the log's memory, laid out as on the device), and the write that follows seals
// and posts the staged entries in order, then appends whatever it holds beyond them the normal
// way. A stage is refused, and the bytes go the normal way, when they exceed one entry, when the
// log has no room, or when an earlier stage since the last write was refused (order).
//
// A write larger than the log's largest entry is split. When the log is full of durable entries the
// oldest are dropped (counted): a replay then covers only what is left, as if the AOF had been
// rewritten; size the VSA (os.storage.log_vsa_kb) for what a run appends.
#include <cstdint>
#include <vector>

#include "os/dataplane/log_writer.h"
#include "workloads/redis/aof.h"

namespace iovsim::workloads::redis {

struct aof_log_stats {
    uint64_t writes = 0, bytes = 0, appends = 0, syncs = 0, truncations = 0, errors = 0, staged = 0,
             stage_refused = 0;
};

class aof_log : public aof_backend {
public:
    explicit aof_log(os::dataplane::log_writer& log);

    bool write(const uint8_t* data, size_t len) override;
    bool sync() override;
    bool stage(const uint8_t* data, size_t len) override;

    // The payloads of the durable entries still in the log, in order.
    std::vector<uint8_t> durable_bytes() const;
    // Everything written is durable.
    bool synced() const { return m_log.log().durable_seq() >= m_last_seq; }
    const aof_log_stats& stats() const { return m_stats; }

private:
    struct staged_entry { uint64_t seq; uint32_t bytes; };
    // Reserves an entry; when the log is full of durable entries, drops them first.
    os::dataplane::persistent_log::append_status reserve(uint32_t len, uint64_t& seq);
    // Seals and posts the staged entries, which hold the first bytes of `data`; false when the
    // log failed.
    bool commit_staged(const uint8_t* data, size_t len);

    os::dataplane::log_writer& m_log;
    std::vector<staged_entry> m_staged;   // since the last write, in sequence order
    size_t m_staged_bytes = 0;
    bool m_stage_refused = false;         // since the last write
    uint64_t m_last_seq = 0;
    aof_log_stats m_stats;
};

// The bytes of every entry of `log` from its head, oldest first.
std::vector<uint8_t> log_contents(const os::dataplane::persistent_log& log);

} // namespace iovsim::workloads::redis
