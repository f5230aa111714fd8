#include "workloads/redis/aof_log.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace iovsim::workloads::redis {

using os::dataplane::persistent_log;

aof_log::aof_log(os::dataplane::log_writer& log) : m_log(log) {}

persistent_log::append_status aof_log::reserve(uint32_t len, uint64_t& seq)
{
    auto st = m_log.reserve(len, seq);
    if (st == persistent_log::append_status::full) {
        // Full of durable entries: drop them all but the newest (an AOF rewrite would keep the
        // store's state instead; the experiments size the VSA so that this does not happen).
        persistent_log& log = m_log.log();
        if (log.durable_seq() >= log.head_seq()) {
            log.truncate(log.durable_seq());
            ++m_stats.truncations;
        }
        st = m_log.reserve(len, seq);
    }
    return st;
}

bool aof_log::stage(const uint8_t* data, size_t len)
{
    if (m_stage_refused || len == 0 || len > m_log.log().max_payload()) {
        m_stage_refused = true;
        ++m_stats.stage_refused;
        return false;
    }
    uint64_t seq = 0;
    if (reserve(static_cast<uint32_t>(len), seq) != persistent_log::append_status::ok) {
        m_stage_refused = true;
        ++m_stats.stage_refused;
        return false;
    }
    m_log.fill(seq, data, static_cast<uint32_t>(len));
    m_staged.push_back({seq, static_cast<uint32_t>(len)});
    m_staged_bytes += len;
    ++m_stats.staged;
    return true;
}

bool aof_log::commit_staged(const uint8_t* data, size_t len)
{
    if (m_staged_bytes > len)
        throw std::logic_error("aof_log::write: " + std::to_string(len) + " bytes, fewer than the " +
                               std::to_string(m_staged_bytes) + " staged before it");
    bool ok = true;
    size_t at = 0;
    for (const staged_entry& e : m_staged) {
        // The write's bytes are what was staged: the AOF's content does not depend on the path.
        if (std::memcmp(m_log.log().payload(e.seq), data + at, e.bytes) != 0)
            throw std::logic_error("aof_log::write: its bytes differ from those staged before it");
        at += e.bytes;
        if (m_log.commit(e.seq) != persistent_log::append_status::ok) {
            ok = false;   // the log failed: the rest are committed only to close them
            continue;
        }
        ++m_stats.appends;
        m_last_seq = e.seq;
    }
    m_staged.clear();
    m_staged_bytes = 0;
    m_stage_refused = false;
    return ok;
}

bool aof_log::write(const uint8_t* data, size_t len)
{
    ++m_stats.writes;
    m_stats.bytes += len;
    const size_t staged = m_staged_bytes;
    if (!commit_staged(data, len)) {
        ++m_stats.errors;
        return false;
    }
    const uint32_t most = m_log.log().max_payload();
    for (size_t done = staged; done < len;) {
        const auto part = static_cast<uint32_t>(std::min<size_t>(len - done, most));
        uint64_t seq = 0;
        if (reserve(part, seq) != persistent_log::append_status::ok) {
            ++m_stats.errors;
            return false;
        }
        m_log.fill(seq, data + done, part);
        if (m_log.commit(seq) != persistent_log::append_status::ok) {
            ++m_stats.errors;
            return false;
        }
        ++m_stats.appends;
        m_last_seq = seq;
        done += part;
    }
    return true;
}

bool aof_log::sync()
{
    ++m_stats.syncs;
    if (!m_log.wait_durable(m_last_seq)) {
        ++m_stats.errors;
        return false;
    }
    return true;
}

std::vector<uint8_t> log_contents(const persistent_log& log)
{
    std::vector<uint8_t> out;
    log.iterate(log.head_seq(), [&](uint64_t, const uint8_t* data, uint32_t len) {
        out.insert(out.end(), data, data + len);
        return true;
    });
    return out;
}

std::vector<uint8_t> aof_log::durable_bytes() const { return log_contents(m_log.log()); }

} // namespace iovsim::workloads::redis
