#include "os/linux/direct_log.h"

#include <algorithm>

namespace iovsim::os::linux_path {

using dataplane::persistent_log;

direct_log::direct_log(direct_io& dio, uint8_t* image, uint64_t image_iova, uint64_t image_bytes, uint32_t mtu)
    : m_dio(dio), m_core(dio.core()), m_iova(image_iova), m_bytes(image_bytes), m_log(image, image_bytes, mtu, *this)
{
}

bool direct_log::open()
{
    flush();
    // The region in calls of at most 1 GiB (the kernel caps one call at MAX_RW_COUNT, under 2 GiB).
    for (uint64_t off = 0; off < m_bytes;) {
        const auto chunk = static_cast<uint32_t>(std::min<uint64_t>(m_bytes - off, 1ULL << 30));
        ++m_stats.preads;
        if (m_dio.sys_pread(m_iova + off, off, chunk) != static_cast<int64_t>(chunk)) {
            ++m_stats.failed_preads;
            return false;
        }
        off += chunk;
    }
    if (!m_log.open())
        return false;
    flush();   // the new epoch's header
    return !m_log.failed();
}

bool direct_log::write(uint64_t offset, uint32_t bytes, uint64_t token)
{
    ++m_stats.writes;
    m_queue.push_back({offset, bytes, token});
    return true;
}

void direct_log::flush()
{
    while (!m_queue.empty()) {
        if (m_log.failed()) {
            // Nothing after a failed write can become durable (recovery stops at the gap): what
            // is queued is reported failed without I/O.
            const queued q = m_queue.front();
            m_queue.pop_front();
            m_log.complete(q.token, false);
            continue;
        }
        // One call for the run of writes that follow each other in the image (a group of entries,
        // or the format's header and the first entries): the device gets one contiguous write.
        size_t n = 1;
        uint64_t end = m_queue.front().offset + m_queue.front().bytes;
        while (n < m_queue.size() && m_queue[n].offset == end) {
            end += m_queue[n].bytes;
            ++n;
        }
        const uint64_t offset = m_queue.front().offset;
        std::deque<queued> run(m_queue.begin(), m_queue.begin() + static_cast<std::ptrdiff_t>(n));
        m_queue.erase(m_queue.begin(), m_queue.begin() + static_cast<std::ptrdiff_t>(n));
        ++m_stats.pwrites;
        const int64_t r = m_dio.sys_pwrite(m_iova + offset, offset, static_cast<uint32_t>(end - offset));
        const bool ok = r == static_cast<int64_t>(end - offset);
        if (!ok)
            ++m_stats.failed_pwrites;
        // The log may queue more (a header after its predecessor completed): the loop takes it.
        for (const queued& q : run)
            m_log.complete(q.token, ok);
    }
}

bool direct_log::make_progress()
{
    if (m_queue.empty())
        return false;
    flush();
    return true;
}

bool direct_log::wait_durable(uint64_t seq)
{
    while (m_log.durable_seq() < seq && !m_log.failed() && !m_queue.empty())
        flush();
    return !m_log.failed() && m_log.durable_seq() >= seq;
}

} // namespace iovsim::os::linux_path
