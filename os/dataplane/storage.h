#pragma once
// The Arrakis storage dataplane of one application: it drives the queue pair of the VSIC it was
// granted, from user level: asynchronous read, write and flush on a VSA (the command's namespace
// id is the VSA's mapping slot in the VSIC; block addresses are VSA-relative, the VSIC adds the
// base and checks the bounds), completions taken by polling the completion ring (or sleeping on
// its memory until the device writes it). No system call on the data path.
//
// The persistent log (storage_log.h) runs on it through vsa_log: the log's image is a buffer in the
// application's DMA region, and each append's write DMAs the entry straight from it.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "os/core/cpu_core.h"
#include "os/dataplane/log_writer.h"
#include "os/dataplane/storage_log.h"
#include "os/dev/blk_queue.h"

namespace iovsim::os::dataplane {

struct storage_stats {
    uint64_t reads = 0, writes = 0, flushes = 0, completions = 0, errors = 0, ring_full = 0, polls = 0;
};

class storage_dataplane {
public:
    using completion_fn = std::function<void(uint64_t tag, uint16_t status)>;

    // `queue` is the VSIC's queue pair (rings in the application's region, doorbells in the VSIC's BAR).
    storage_dataplane(cpu_core& core, dev::blk_queue& queue);

    void on_completion(completion_fn fn) { m_done_fn = std::move(fn); }

    // Start an operation on VSA slot `nsid`; `tag` comes back with its completion. False when the
    // submission ring is full (poll, then retry).
    bool read(uint32_t nsid, uint64_t lba, uint32_t blocks, uint64_t iova, uint64_t tag);
    bool write(uint32_t nsid, uint64_t lba, uint32_t blocks, uint64_t iova, uint64_t tag);
    bool flush(uint32_t nsid, uint64_t tag);

    // Takes the completions posted so far and calls the completion function for each. Returns how many.
    unsigned poll();
    // Sleeps (no host time) until a completion can have arrived; the time goes to `poll`.
    void wait();
    unsigned in_flight() const { return static_cast<unsigned>(m_inflight); }

    cpu_core& core() { return m_core; }
    const storage_stats& stats() const { return m_stats; }

private:
    bool submit(dev::blk_op op, uint32_t nsid, uint64_t lba, uint32_t blocks, uint64_t iova, uint64_t tag);

    cpu_core& m_core;
    dev::blk_queue& m_q;
    completion_fn m_done_fn;
    std::vector<uint64_t> m_tags;          // by command id
    std::vector<bool> m_busy;
    uint16_t m_next_cid = 0;
    uint64_t m_inflight = 0;
    std::vector<dev::blk_completion> m_reaped;
    storage_stats m_stats;
};

// The persistent log on a VSA of the dataplane: the log's image is `image_bytes` at `image_iova`
// (host pointer `image`) in the application's DMA region, mapped at VSA slot `nsid` from block 0.
class vsa_log : public log_io, public log_writer {
public:
    vsa_log(storage_dataplane& dp, uint32_t nsid, uint8_t* image, uint64_t image_iova, uint64_t image_bytes, uint32_t mtu);

    // Reads the whole VSA into the image (recovery needs it all), then opens the log found there.
    // False when there is none (error() says why) or a read failed.
    bool open();
    void format(uint64_t log_id);
    // append, reserve, fill, commit: log_writer.h. While the log is full of undurable entries,
    // reserve polls the VSIC's completions (sleeping on the ring when none has arrived); a
    // commit's write goes into the submission ring with its doorbell (the dataplane's write).

    // Polls until entry `seq` is durable. False when the log failed.
    bool wait_durable(uint64_t seq) override;
    // Polls until every write started so far has completed.
    void drain();

    persistent_log& log() override { return m_log; }
    bool write(uint64_t offset, uint32_t bytes, uint64_t token) override;

private:
    void completed(uint64_t tag, uint16_t status);
    cpu_core& writer_core() override { return m_dp.core(); }
    bool make_progress() override;

    storage_dataplane& m_dp;
    uint32_t m_nsid;
    uint8_t* m_image;
    uint64_t m_iova;
    uint64_t m_bytes;
    uint32_t m_mtu;
    persistent_log m_log;
    unsigned m_reads_pending = 0;
    bool m_read_failed = false;
};

} // namespace iovsim::os::dataplane
