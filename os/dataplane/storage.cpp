#include "os/dataplane/storage.h"

#include <stdexcept>

namespace iovsim::os::dataplane {

constexpr uint32_t lba_bytes = 512;
constexpr size_t max_commands = 65536;   // command ids are 16 bits

storage_dataplane::storage_dataplane(cpu_core& core, dev::blk_queue& queue)
    : m_core(core), m_q(queue), m_tags(max_commands, 0), m_busy(max_commands, false)
{
}

bool storage_dataplane::submit(dev::blk_op op, uint32_t nsid, uint64_t lba, uint32_t blocks, uint64_t iova, uint64_t tag)
{
    if (m_inflight >= max_commands || m_busy[m_next_cid]) {
        ++m_stats.ring_full;
        return false;
    }
    dev::blk_request r{};
    r.op = op;
    r.nsid = nsid;
    r.lba = lba;
    r.blocks = blocks;
    r.iova = iova;
    r.cid = m_next_cid;
    if (!m_q.submit(category::block_io, r)) {
        ++m_stats.ring_full;
        return false;
    }
    m_tags[r.cid] = tag;
    m_busy[r.cid] = true;
    ++m_next_cid;
    ++m_inflight;
    return true;
}

bool storage_dataplane::read(uint32_t nsid, uint64_t lba, uint32_t blocks, uint64_t iova, uint64_t tag)
{
    const bool ok = submit(dev::blk_op::read, nsid, lba, blocks, iova, tag);
    m_stats.reads += ok;
    return ok;
}

bool storage_dataplane::write(uint32_t nsid, uint64_t lba, uint32_t blocks, uint64_t iova, uint64_t tag)
{
    const bool ok = submit(dev::blk_op::write, nsid, lba, blocks, iova, tag);
    m_stats.writes += ok;
    return ok;
}

bool storage_dataplane::flush(uint32_t nsid, uint64_t tag)
{
    const bool ok = submit(dev::blk_op::flush, nsid, 0, 0, 0, tag);
    m_stats.flushes += ok;
    return ok;
}

unsigned storage_dataplane::poll()
{
    ++m_stats.polls;
    m_reaped.clear();
    m_q.reap(category::block_io, m_reaped, 64);
    for (const dev::blk_completion& c : m_reaped) {
        ++m_stats.completions;
        if (c.status != 0)
            ++m_stats.errors;
        if (!m_busy[c.cid])
            continue;   // not a command of ours: counted above, nothing to finish
        m_busy[c.cid] = false;
        --m_inflight;
        if (m_done_fn)
            m_done_fn(m_tags[c.cid], c.status);
    }
    return static_cast<unsigned>(m_reaped.size());
}

void storage_dataplane::wait()
{
    m_q.wait(category::poll);
}

// ---- The persistent log on a VSA ------------------------------------------------------------------

namespace {
constexpr uint64_t read_tag = 1ULL << 62;   // the log's own tokens never set this bit
}

vsa_log::vsa_log(storage_dataplane& dp, uint32_t nsid, uint8_t* image, uint64_t image_iova, uint64_t image_bytes,
                 uint32_t mtu)
    : m_dp(dp), m_nsid(nsid), m_image(image), m_iova(image_iova), m_bytes(image_bytes), m_mtu(mtu),
      m_log(image, image_bytes, mtu, *this)
{
    m_dp.on_completion([this](uint64_t tag, uint16_t status) { completed(tag, status); });
}

void vsa_log::completed(uint64_t tag, uint16_t status)
{
    if (tag & read_tag) {
        --m_reads_pending;
        m_read_failed |= status != 0;
        return;
    }
    m_log.complete(tag, status == 0);
}

bool vsa_log::write(uint64_t offset, uint32_t bytes, uint64_t token)
{
    return m_dp.write(m_nsid, offset / lba_bytes, bytes / lba_bytes, m_iova + offset, token);
}

bool vsa_log::open()
{
    // The whole VSA, in transfers of at most the device's MTU.
    uint64_t off = 0;
    while (off < m_bytes || m_reads_pending > 0) {
        while (off < m_bytes) {
            const uint32_t chunk = static_cast<uint32_t>(std::min<uint64_t>(m_mtu, m_bytes - off));
            if (!m_dp.read(m_nsid, off / lba_bytes, chunk / lba_bytes, m_iova + off, read_tag | off))
                break;
            ++m_reads_pending;
            off += chunk;
        }
        if (m_dp.poll() == 0)
            m_dp.wait();
    }
    if (m_read_failed)
        return false;
    return m_log.open();
}

void vsa_log::format(uint64_t log_id)
{
    m_log.format(log_id);
}

bool vsa_log::make_progress()
{
    if (m_log.idle())
        return false;
    if (m_dp.poll() == 0)
        m_dp.wait();
    return true;
}

bool vsa_log::wait_durable(uint64_t seq)
{
    while (m_log.durable_seq() < seq && !m_log.failed()) {
        if (m_dp.poll() == 0)
            m_dp.wait();
    }
    return !m_log.failed();
}

void vsa_log::drain()
{
    while (!m_log.idle() && !m_log.failed()) {
        if (m_dp.poll() == 0)
            m_dp.wait();
    }
}

} // namespace iovsim::os::dataplane
