#include "sim/log_crash.h"

#include <cstring>

#include <fmt/format.h>

namespace iovsim::sim {

using os::dataplane::log_entry_header;
using os::dataplane::log_recovery;

void crash_payload(uint32_t epoch, uint64_t seq, uint8_t* out, uint32_t len)
{
    uint64_t x = (seq * 0x9E3779B97F4A7C15ULL) ^ (uint64_t(epoch) << 32) ^ len;
    for (uint32_t i = 0; i < len; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = static_cast<uint8_t>(x);
    }
}

void log_oracle::acknowledged(uint32_t epoch, uint64_t durable_seq)
{
    const uint64_t from = m_acked.empty() ? 1 : m_acked.rbegin()->first + 1;
    for (uint64_t s = std::max(from, m_floor + 1); s <= durable_seq; ++s)
        m_acked[s] = epoch;
}

void log_oracle::truncated(uint64_t upto_seq)
{
    m_floor = std::max(m_floor, upto_seq);
    m_acked.erase(m_acked.begin(), m_acked.upper_bound(m_floor));
}

std::string log_oracle::reopened(const os::dataplane::persistent_log& log)
{
    std::string why;
    for (const auto& [seq, epoch] : m_acked) {
        uint32_t len = 0, found = 0;
        if (!log.read(seq, len, &found) || found != epoch) {
            why = fmt::format("reopened log lacks acknowledged append seq {} (epoch {})", seq, epoch);
            break;
        }
    }
    // Unacknowledged entries that made it become part of the log.
    m_acked.clear();
    log.iterate(0, [&](uint64_t seq, const uint8_t*, uint32_t) {
        uint32_t len = 0, epoch = 0;
        log.read(seq, len, &epoch);
        if (seq > m_floor)
            m_acked[seq] = epoch;
        return true;
    });
    return why;
}

log_oracle::verdict log_oracle::check(const uint8_t* image, uint64_t capacity) const
{
    verdict v;
    const log_recovery r = os::dataplane::recover_log(image, capacity);
    if (!r.ok) {
        v.why = "the log does not open: " + r.error;
        return v;
    }
    v.entries = r.entries.size();
    std::map<uint64_t, uint32_t> found;   // seq -> epoch
    std::vector<uint8_t> expect;
    for (const auto& e : r.entries) {
        const auto w = m_written.find({e.epoch, e.seq});
        if (w == m_written.end() || w->second != e.length) {
            v.why = fmt::format("garbage entry: seq {} epoch {} length {} was never appended", e.seq, e.epoch, e.length);
            return v;
        }
        expect.resize(e.length);
        crash_payload(e.epoch, e.seq, expect.data(), e.length);
        if (std::memcmp(expect.data(), image + e.offset + sizeof(log_entry_header), e.length) != 0) {
            v.why = fmt::format("torn entry returned: seq {} epoch {}", e.seq, e.epoch);
            return v;
        }
        found[e.seq] = e.epoch;
    }
    for (const auto& [seq, epoch] : m_acked) {
        ++v.acknowledged;
        const auto f = found.find(seq);
        if (f == found.end()) {
            v.why = fmt::format("acknowledged append lost: seq {} (epoch {}); recovered {} entries from seq {}", seq, epoch,
                                r.entries.size(), r.entries.empty() ? 0 : r.entries.front().seq);
            return v;
        }
        if (f->second != epoch) {
            v.why = fmt::format("acknowledged append replaced: seq {} epoch {} came back as epoch {}", seq, epoch, f->second);
            return v;
        }
    }
    v.ok = true;
    return v;
}

} // namespace iovsim::sim
