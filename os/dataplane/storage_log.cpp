#include "os/dataplane/storage_log.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "sim/wire/crc32c.h"

namespace iovsim::os::dataplane {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the log's on-device layout is little-endian, as the host's");

namespace {

uint32_t header_crc(const log_header& h)
{
    log_header copy = h;
    copy.crc = 0;
    return wire::crc32c(reinterpret_cast<const uint8_t*>(&copy), offsetof(log_header, crc));
}

uint32_t entry_crc(const log_entry_header& h, const uint8_t* payload)
{
    log_entry_header copy = h;
    copy.crc = 0;
    const uint32_t c = wire::crc32c(reinterpret_cast<const uint8_t*>(&copy), sizeof copy);
    return wire::crc32c(payload, h.length, c);
}

} // namespace

void seal_log_header(log_header& h)
{
    h.crc = header_crc(h);
}

bool read_log_header(const uint8_t* image, uint64_t capacity, unsigned copy, log_header& out)
{
    if (capacity < log_data_start + log_block_bytes || copy > 1)
        return false;
    std::memcpy(&out, image + copy * log_block_bytes, sizeof out);
    if (out.magic != log_header_magic || out.version != log_version || out.block_bytes != log_block_bytes)
        return false;
    if (out.crc != header_crc(out))
        return false;
    // A sealed header with impossible fields is not trusted either.
    return out.capacity <= capacity && out.capacity >= log_data_start + log_block_bytes &&
           out.head >= log_data_start && out.head <= out.capacity && out.head % log_block_bytes == 0 &&
           out.mtu >= log_block_bytes;
}

bool valid_log_entry(const uint8_t* image, uint64_t capacity, uint64_t offset, uint64_t log_id, uint64_t seq,
                     uint32_t max_epoch, log_entry_header& out)
{
    if (offset < log_data_start || offset % log_block_bytes != 0 || offset + log_block_bytes > capacity)
        return false;
    std::memcpy(&out, image + offset, sizeof out);
    if (out.magic != log_entry_magic || out.log_id != log_id || out.seq != seq || out.epoch > max_epoch)
        return false;
    if (offset + log_entry_bytes(out.length) > capacity)
        return false;
    return out.crc == entry_crc(out, image + offset + sizeof out);
}

log_recovery recover_log(const uint8_t* image, uint64_t capacity)
{
    log_recovery r;
    log_header h[2];
    const bool valid[2] = {read_log_header(image, capacity, 0, h[0]), read_log_header(image, capacity, 1, h[1])};
    if (!valid[0] && !valid[1]) {
        r.error = "no valid VSA header (not a log, or its format never completed)";
        return r;
    }
    r.header = (valid[0] && valid[1]) ? (h[0].generation > h[1].generation ? h[0] : h[1]) : (valid[0] ? h[0] : h[1]);
    const log_header& hd = r.header;
    uint64_t pos = hd.head;
    uint64_t seq = hd.head_seq;
    uint32_t prev_epoch = 0;
    const uint64_t max_entries = hd.capacity / log_block_bytes;
    while (r.entries.size() < max_entries) {
        log_entry_header eh{};
        bool found = false;
        for (const uint64_t at : {pos, log_data_start}) {
            if (valid_log_entry(image, hd.capacity, at, hd.log_id, seq, hd.epoch, eh) && eh.epoch >= prev_epoch) {
                r.entries.push_back({seq, at, eh.length, eh.epoch});
                pos = at + log_entry_bytes(eh.length);
                prev_epoch = eh.epoch;
                found = true;
                break;
            }
            if (pos == log_data_start)
                break;
        }
        if (!found)
            break;
        ++seq;
    }
    r.tail = pos;
    r.next_seq = seq;
    r.ok = true;
    return r;
}

// ---- persistent_log ------------------------------------------------------------------------------

persistent_log::persistent_log(uint8_t* image, uint64_t capacity, uint32_t mtu, log_io& io)
    : m_image(image), m_capacity(capacity), m_mtu(mtu), m_io(io)
{
    if (capacity % log_block_bytes != 0 || capacity < log_data_start + log_block_bytes)
        throw std::invalid_argument("persistent_log: the VSA must be whole 512-byte blocks, at least three");
    if (mtu < log_block_bytes)
        throw std::invalid_argument("persistent_log: the device MTU must hold at least one block");
}

uint32_t persistent_log::max_payload() const
{
    const uint64_t limit = std::min<uint64_t>(m_mtu, m_capacity - log_data_start) / log_block_bytes * log_block_bytes;
    return static_cast<uint32_t>(limit - sizeof(log_entry_header));
}

void persistent_log::format(uint64_t log_id)
{
    m_log_id = log_id;
    m_epoch = 1;
    m_generation = 0;
    m_entries.clear();
    m_open.clear();
    m_done.clear();
    m_tail = m_space_head = log_data_start;
    m_next_seq = m_space_head_seq = 1;
    m_durable_seq = 0;
    m_header_durable = false;
    // Copy 0 is cleared in the same write as copy 1 gets generation 1: an older log's header in
    // either block must not outrank the new one.
    std::memset(m_image, 0, log_data_start);
    write_header();
}

bool persistent_log::open()
{
    const log_recovery r = recover_log(m_image, m_capacity);
    if (!r.ok) {
        m_error = r.error;
        return false;
    }
    m_log_id = r.header.log_id;
    m_capacity = r.header.capacity;
    m_mtu = r.header.mtu;
    m_epoch = r.header.epoch + 1;
    m_generation = r.header.generation;
    m_entries.assign(r.entries.begin(), r.entries.end());
    m_open.clear();
    m_done.assign(m_entries.size(), true);
    m_tail = r.tail;
    m_next_seq = r.next_seq;
    m_durable_seq = r.next_seq - 1;
    m_space_head = r.header.head;
    m_space_head_seq = r.header.head_seq;
    m_header_durable = false;   // the new epoch is in force once its header is on the device
    write_header();
    return true;
}

bool persistent_log::place(uint64_t bytes, uint64_t& at) const
{
    const uint64_t occupied = m_next_seq - m_space_head_seq;   // entries the device may still need
    if (occupied == 0 || m_tail > m_space_head) {
        if (m_tail + bytes <= m_capacity) {
            at = m_tail;
            return true;
        }
        const uint64_t limit = occupied == 0 ? m_capacity : m_space_head;
        if (log_data_start + bytes <= limit) {
            at = log_data_start;
            return true;
        }
        return false;
    }
    // Wrapped: the free space runs from the tail to the head.
    if (m_tail + bytes <= m_space_head) {
        at = m_tail;
        return true;
    }
    return false;
}

persistent_log::append_status persistent_log::append(const uint8_t* data, uint32_t len, uint64_t& seq)
{
    if (!m_open.empty())
        throw std::logic_error("persistent_log::append: entry " + std::to_string(m_open.front().seq) +
                               " is reserved and not committed (an append would commit after it)");
    const append_status st = reserve(len, seq);
    if (st != append_status::ok)
        return st;
    fill(seq, data, len);
    return commit(seq);
}

persistent_log::append_status persistent_log::reserve(uint32_t len, uint64_t& seq)
{
    if (m_failed)
        return append_status::failed;
    if (len > max_payload()) {
        ++m_stats.rejected_size;
        return append_status::too_large;
    }
    const uint64_t bytes = log_entry_bytes(len);
    uint64_t at = 0;
    if (!place(bytes, at)) {
        ++m_stats.rejected_full;
        return append_status::full;
    }
    log_entry_header h{};
    h.magic = log_entry_magic;
    h.length = len;
    h.seq = m_next_seq;
    h.log_id = m_log_id;
    h.epoch = m_epoch;
    h.crc = 0;
    uint8_t* p = m_image + at;
    // The header as it will be sealed but for its CRC: the bytes recovery checks, none of which
    // changes before the commit, so the CRC starts over them now and runs on over the payload.
    std::memcpy(p, &h, sizeof h);
    std::memset(p + sizeof h + len, 0, bytes - sizeof h - len);
    m_open.push_back({h.seq, at, len, 0, wire::crc32c(p, sizeof h)});
    // The entry holds its place in the chain from now on: space, sequence number, and (never
    // completed until its write does) the durable order.
    m_entries.push_back({h.seq, at, len, m_epoch});
    m_done.push_back(false);
    m_tail = at + bytes;
    seq = m_next_seq++;
    return append_status::ok;
}

const persistent_log::open_entry& persistent_log::open_at(uint64_t seq, const char* what) const
{
    if (m_open.empty() || seq < m_open.front().seq || seq > m_open.back().seq)
        throw std::logic_error(std::string("persistent_log::") + what + ": entry " + std::to_string(seq) +
                               " is not reserved (or already committed)");
    return m_open[seq - m_open.front().seq];
}

void persistent_log::fill(uint64_t seq, const uint8_t* data, uint32_t len)
{
    open_at(seq, "fill");   // throws when it is not open
    open_entry& e = m_open[seq - m_open.front().seq];
    if (len > e.length - e.filled)
        throw std::logic_error("persistent_log::fill: " + std::to_string(len) + " bytes beyond the " +
                               std::to_string(e.length - e.filled) + " left in entry " + std::to_string(seq));
    uint8_t* to = m_image + e.offset + sizeof(log_entry_header) + e.filled;
    std::memcpy(to, data, len);
    e.crc = wire::crc32c(to, len, e.crc);
    e.filled += len;
}

uint8_t* persistent_log::payload(uint64_t seq)
{
    return m_image + open_at(seq, "payload").offset + sizeof(log_entry_header);
}

uint32_t persistent_log::unfilled(uint64_t seq) const
{
    const open_entry& e = open_at(seq, "unfilled");
    return e.length - e.filled;
}

persistent_log::append_status persistent_log::commit(uint64_t seq)
{
    open_at(seq, "commit");
    if (seq != m_open.front().seq)
        throw std::logic_error("persistent_log::commit: entry " + std::to_string(seq) + " before entry " +
                               std::to_string(m_open.front().seq) + " (entries are committed in sequence order)");
    const open_entry e = m_open.front();
    m_open.pop_front();
    if (m_failed)
        return append_status::failed;
    uint8_t* p = m_image + e.offset;
    const uint32_t crc = wire::crc32c(p + sizeof(log_entry_header) + e.filled, e.length - e.filled, e.crc);
    std::memcpy(p + offsetof(log_entry_header, crc), &crc, sizeof crc);
    ++m_stats.appends;
    m_stats.appended_bytes += e.length;
    issue({e.offset, static_cast<uint32_t>(log_entry_bytes(e.length)), e.seq});
    return append_status::ok;
}

void persistent_log::write_header()
{
    if (m_header_inflight_gen != 0) {
        m_header_wanted = true;
        return;
    }
    m_header_wanted = false;
    log_header h{};
    h.magic = log_header_magic;
    h.version = log_version;
    h.block_bytes = log_block_bytes;
    h.mtu = m_mtu;
    h.epoch = m_epoch;
    h.log_id = m_log_id;
    h.generation = ++m_generation;
    h.capacity = m_capacity;
    // The head: the oldest entry kept (in flight or not), else where the next one goes.
    if (!m_entries.empty()) {
        h.head = m_entries.front().offset;
        h.head_seq = m_entries.front().seq;
    } else {
        h.head = m_tail;
        h.head_seq = m_next_seq;
    }
    h.tail_seq = m_durable_seq + 1;
    h.tail = h.head;
    for (const log_entry_ref& e : m_entries)
        if (e.seq <= m_durable_seq)
            h.tail = e.offset + log_entry_bytes(e.length);
    h.entry_count = h.tail_seq - h.head_seq;
    seal_log_header(h);
    const unsigned copy = static_cast<unsigned>(h.generation % 2);
    uint8_t* block = m_image + copy * log_block_bytes;
    std::memset(block, 0, log_block_bytes);
    std::memcpy(block, &h, sizeof h);
    m_inflight_header = h;
    m_header_inflight_gen = h.generation;
    ++m_stats.header_writes;
    // At format (generation 1) both blocks go in one write.
    if (h.generation == 1)
        issue({0, 2 * log_block_bytes, header_token | h.generation});
    else
        issue({copy * log_block_bytes, log_block_bytes, header_token | h.generation});
}

void persistent_log::issue(const pending_write& w)
{
    m_unissued.push_back(w);
    pump();
}

void persistent_log::pump()
{
    while (!m_unissued.empty()) {
        const pending_write& w = m_unissued.front();
        if (!m_io.write(w.offset, w.bytes, w.token)) {
            ++m_stats.deferred_writes;
            return;
        }
        ++m_inflight;
        m_unissued.pop_front();
    }
}

void persistent_log::complete(uint64_t token, bool ok)
{
    if (m_inflight > 0)
        --m_inflight;
    if (!ok) {
        ++m_stats.write_errors;
        m_failed = true;
        m_error = (token & header_token) ? "a header write failed" : "an entry write failed";
    }
    if (token & header_token) {
        if ((token & ~header_token) == m_header_inflight_gen) {
            m_header_inflight_gen = 0;
            if (ok) {
                m_header_durable = true;
                m_space_head = m_inflight_header.head;
                m_space_head_seq = m_inflight_header.head_seq;
            }
            if (m_header_wanted && !m_failed)
                write_header();
        }
    } else if (ok && !m_entries.empty() && token >= m_entries.front().seq) {
        const uint64_t i = token - m_entries.front().seq;
        if (i < m_done.size())
            m_done[i] = true;
    }
    advance_durable();
    pump();
}

void persistent_log::advance_durable()
{
    if (!m_header_durable || m_failed || m_entries.empty())
        return;
    const uint64_t first = m_entries.front().seq;
    while (m_durable_seq + 1 >= first && m_durable_seq + 1 - first < m_done.size() && m_done[m_durable_seq + 1 - first])
        ++m_durable_seq;
}

size_t persistent_log::entries() const
{
    if (m_entries.empty() || m_entries.front().seq > m_durable_seq)
        return 0;
    return static_cast<size_t>(m_durable_seq - m_entries.front().seq + 1);
}

const uint8_t* persistent_log::read(uint64_t seq, uint32_t& len, uint32_t* epoch) const
{
    len = 0;
    if (m_entries.empty() || seq < m_entries.front().seq || seq > m_durable_seq)
        return nullptr;
    const log_entry_ref& e = m_entries[seq - m_entries.front().seq];
    len = e.length;
    if (epoch)
        *epoch = e.epoch;
    return m_image + e.offset + sizeof(log_entry_header);
}

void persistent_log::iterate(uint64_t from_seq, const std::function<bool(uint64_t, const uint8_t*, uint32_t)>& fn) const
{
    if (m_entries.empty())
        return;
    for (uint64_t s = std::max(from_seq, m_entries.front().seq); s <= m_durable_seq; ++s) {
        uint32_t len = 0;
        const uint8_t* p = read(s, len);
        if (!fn(s, p, len))
            return;
    }
}

void persistent_log::truncate(uint64_t upto_seq)
{
    upto_seq = std::min(upto_seq, m_durable_seq);
    bool dropped = false;
    while (!m_entries.empty() && m_entries.front().seq <= upto_seq) {
        m_entries.pop_front();
        m_done.pop_front();
        dropped = true;
    }
    if (dropped)
        write_header();
}

} // namespace iovsim::os::dataplane
