#include "workloads/redis/aof_direct.h"

#include <algorithm>

#include "workloads/redis/aof_log.h"

namespace iovsim::workloads::redis {

using os::dataplane::persistent_log;

aof_direct::aof_direct(os::linux_path::direct_log& log) : m_log(log) {}

bool aof_direct::write(const uint8_t* data, size_t len)
{
    ++m_stats.writes;
    m_stats.bytes += len;
    const uint32_t most = m_log.log().max_payload();
    for (size_t done = 0; done < len;) {
        const auto part = static_cast<uint32_t>(std::min<size_t>(len - done, most));
        uint64_t seq = 0;
        auto st = m_log.append(data + done, part, seq);
        if (st == persistent_log::append_status::full) {
            // Full of durable entries: all but the newest go (the experiments size the log so
            // that this does not happen).
            persistent_log& log = m_log.log();
            if (log.durable_seq() >= log.head_seq()) {
                log.truncate(log.durable_seq());
                ++m_stats.truncations;
            }
            st = m_log.append(data + done, part, seq);
        }
        if (st != persistent_log::append_status::ok) {
            ++m_stats.errors;
            return false;
        }
        ++m_stats.appends;
        m_last_seq = seq;
        done += part;
    }
    return true;
}

bool aof_direct::sync()
{
    ++m_stats.syncs;
    if (!m_log.wait_durable(m_last_seq)) {
        ++m_stats.errors;
        return false;
    }
    return true;
}

std::vector<uint8_t> aof_direct::durable_bytes() const { return log_contents(m_log.log()); }

} // namespace iovsim::workloads::redis
