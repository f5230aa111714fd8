#pragma once
// The persistent log (os/dataplane/storage_log: the same format, the same recovery) kept on a region
// of a raw block device on the Linux-like path, as Caladan ran on Linux: the log's image is in the
// process's memory laid out as on the device, an append builds its entry there, and the entry
// reaches the device by pwrite(2) of the image's bytes with O_DIRECT|O_DSYNC (os/linux/direct_io):
// no file system, no page cache, but a system call, the kernel's block layer and a sleep until the
// completion interrupt for every write.
//
// An append only places the entry (the log's writes are queued here); flush() issues them, one
// system call for each run of writes adjacent in the image, in the log's order, and reports each
// to the log as it returns (durable, or failed on -EIO). The calling task sleeps in the kernel
// meanwhile; nothing else is in flight, so the log never has more than one call outstanding.
#include <cstdint>
#include <deque>

#include "os/core/cpu_core.h"
#include "os/dataplane/log_writer.h"
#include "os/dataplane/storage_log.h"
#include "os/linux/direct_io.h"

namespace iovsim::os::linux_path {

struct direct_log_stats {
    uint64_t writes = 0, pwrites = 0, failed_pwrites = 0, preads = 0, failed_preads = 0;
};

class direct_log : public dataplane::log_io, public dataplane::log_writer {
public:
    // `image` (host pointer) is `image_bytes` of user memory at `image_iova` as the controller sees
    // it; the log occupies the first `image_bytes` of the region `dio` writes to.
    direct_log(direct_io& dio, uint8_t* image, uint64_t image_iova, uint64_t image_bytes, uint32_t mtu);

    void format(uint64_t log_id) { m_log.format(log_id); }
    // Reads the whole region into the image (pread, O_DIRECT: recovery needs it all), then opens
    // the log found there (a new epoch, durably). False when a read failed or there is no log
    // (log().error() says why).
    bool open();
    // append, reserve, fill, commit: log_writer.h (an entry is only placed and queued; while the
    // log is full of entries not yet written, reserve writes the queue first).
    // Writes what is queued until entry `seq` is durable. False when the log failed.
    bool wait_durable(uint64_t seq) override;
    // Writes everything queued.
    void flush();

    dataplane::persistent_log& log() override { return m_log; }
    const dataplane::persistent_log& log() const { return m_log; }
    const direct_log_stats& stats() const { return m_stats; }

    // log_io: the write is queued for the next flush (never refused).
    bool write(uint64_t offset, uint32_t bytes, uint64_t token) override;

private:
    cpu_core& writer_core() override { return m_core; }
    bool make_progress() override;

    struct queued { uint64_t offset; uint32_t bytes; uint64_t token; };

    direct_io& m_dio;
    cpu_core& m_core;
    uint64_t m_iova;
    uint64_t m_bytes;
    dataplane::persistent_log m_log;
    std::deque<queued> m_queue;
    direct_log_stats m_stats;
};

} // namespace iovsim::os::linux_path
