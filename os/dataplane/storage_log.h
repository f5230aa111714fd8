#pragma once
// The Arrakis persistent log (the paper's Caladan-style log on a VSA): append, read back, iterate,
// truncate; an append is durable when it completes. The log lives in the application's memory laid
// out exactly as on the device, so an append writes its entry into that image and the device
// DMAs the same bytes: no marshaling.
//
// Layout of the VSA (little-endian, offsets in bytes, 512-byte logical blocks):
//   block 0, block 1   two copies of the VSA header (log_header); the valid one with the higher
//                      generation wins, so a torn header write leaves the previous one in force
//   block 2 ...        entries, each starting on a block boundary: log_entry_header, payload,
//                      zero padding to the next block. An entry goes at the tail if it fits before
//                      the end of the VSA, else at the first data block (the log is circular).
//
// Recovery never trusts a pointer beyond the header's head: it walks the chain from the head,
// taking an entry only when its magic, log id, sequence number (the next expected), epoch (not
// older than its predecessor's, not newer than the header's) and CRC-32C over header and payload
// all agree. A torn write fails the CRC; a stale entry from before a wrap has an older sequence
// number; a stale entry from before a crash, beyond the recovered tail, has an older epoch (each
// open durably starts a new epoch before it acknowledges an append). Appends are acknowledged in
// sequence order, so every acknowledged entry lies on the chain. Space freed by truncate is reused
// only once the header that moves the head is durable.
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace iovsim::os::dataplane {

constexpr uint32_t log_block_bytes = 512;
constexpr uint32_t log_header_magic = 0x474F4C41;   // "ALOG"
constexpr uint32_t log_entry_magic = 0x544E454C;    // "LENT"
constexpr uint16_t log_version = 1;
constexpr uint64_t log_data_start = 2 * log_block_bytes;

// The VSA header (the paper's: version, entry count, device MTU, head and tail pointers).
struct log_header {
    uint32_t magic;
    uint16_t version;
    uint16_t block_bytes;
    uint32_t mtu;            // the device's largest transfer in bytes: an entry never exceeds it
    uint32_t epoch;          // incarnation: bumped durably by every open
    uint64_t log_id;         // chosen at format; entries of another log never match
    uint64_t generation;     // header writes so far; the higher valid copy wins
    uint64_t capacity;       // bytes of the VSA the log uses, headers included
    uint64_t entry_count;    // entries from head to tail when this header was written
    uint64_t head;           // offset of the oldest entry
    uint64_t head_seq;       // its sequence number
    uint64_t tail;           // offset past the newest durable entry when this header was written
    uint64_t tail_seq;       // the sequence number the next entry takes
    uint32_t crc;            // CRC-32C of the bytes above, this field zero
    uint32_t reserved;
};
static_assert(sizeof(log_header) == 88, "log_header is an on-device layout");

struct log_entry_header {
    uint32_t magic;
    uint32_t length;         // payload bytes
    uint64_t seq;
    uint64_t log_id;
    uint32_t epoch;
    uint32_t crc;            // CRC-32C of this header (crc zero) and the payload
};
static_assert(sizeof(log_entry_header) == 32, "log_entry_header is an on-device layout");

// Bytes an entry of `payload` bytes occupies on the device (whole blocks).
constexpr uint64_t log_entry_bytes(uint64_t payload)
{
    return (sizeof(log_entry_header) + payload + log_block_bytes - 1) / log_block_bytes * log_block_bytes;
}

struct log_entry_ref {
    uint64_t seq = 0;
    uint64_t offset = 0;     // of its log_entry_header in the image
    uint32_t length = 0;
    uint32_t epoch = 0;
};

// What recovery finds in an image of the VSA.
struct log_recovery {
    bool ok = false;
    std::string error;                  // why not, when !ok
    log_header header{};                // the header in force
    std::vector<log_entry_ref> entries; // the chain from the head, oldest first
    uint64_t tail = 0;                  // offset past the last entry of the chain
    uint64_t next_seq = 0;
};

// Pure: reads the image, changes nothing.
log_recovery recover_log(const uint8_t* image, uint64_t capacity);
// The header copy at `copy` (0 or 1), if its magic, version, size fields and CRC hold.
bool read_log_header(const uint8_t* image, uint64_t capacity, unsigned copy, log_header& out);
void seal_log_header(log_header& h);
// True when the entry at `offset` is sealed, belongs to `log_id`, carries `seq`, and fits.
bool valid_log_entry(const uint8_t* image, uint64_t capacity, uint64_t offset, uint64_t log_id, uint64_t seq,
                     uint32_t max_epoch, log_entry_header& out);

// The device I/O the log needs of its VSA. Writes go from the image at the same offset (the image
// is the DMA buffer). `token` comes back in persistent_log::complete().
struct log_io {
    virtual ~log_io() = default;
    // Starts writing image[offset, offset + bytes) to the VSA; false when no queue slot is free now
    // (the log retries on its next completion or append).
    virtual bool write(uint64_t offset, uint32_t bytes, uint64_t token) = 0;
};

struct log_stats {
    uint64_t appends = 0, appended_bytes = 0, rejected_full = 0, rejected_size = 0, header_writes = 0,
             write_errors = 0, deferred_writes = 0;
};

class persistent_log {
public:
    // `image` is `capacity` bytes (a multiple of the block size, at least 3 blocks): the VSA as in
    // memory. `mtu`: the device's largest transfer.
    persistent_log(uint8_t* image, uint64_t capacity, uint32_t mtu, log_io& io);

    // An empty log with a fresh header (both copies written). Appends made before the header is
    // durable are acknowledged only once it is.
    void format(uint64_t log_id);
    // The log found in the image (read from the VSA beforehand); starts a new epoch, durably. False
    // (with error()) when the image holds no valid header.
    bool open();

    enum class append_status { ok, too_large, full, failed };
    // Places the entry in the image and starts its write. `seq` is set on ok. The same as
    // reserve, fill with `data`, commit.
    append_status append(const uint8_t* data, uint32_t len, uint64_t& seq);

    // Building an entry in place: the application writes its record straight into the log's
    // image (the paper's "laid out in memory as on disk"), then seals it.
    //   reserve  places an entry of `len` payload bytes at the tail (the space rules and refusals
    //            of append), writes its header (crc not yet valid) and zero padding, and starts its
    //            CRC-32C over the header; `seq` is set on ok. The entry takes its sequence number
    //            now: later reservations follow it.
    //   fill     copies bytes to the payload at its fill point and folds them into the entry's CRC
    //            as it goes (the record is checksummed while it is built).
    //   commit   folds what the payload holds beyond the fill point (bytes the caller wrote
    //            through payload() itself), seals the header and starts the entry's write.
    // Several reservations may be open at once; they are committed in sequence order. A reserved
    // entry is never written before its commit, so it is neither durable nor visible to read,
    // iterate or recovery (its header's CRC does not hold); entries reserved after it wait for it
    // (durability is in sequence order). Misuse (an entry not open, committed out of order, filled
    // past its length, an append while an entry is open) throws std::logic_error. format() and
    // open() drop open reservations.
    append_status reserve(uint32_t len, uint64_t& seq);
    void fill(uint64_t seq, const uint8_t* data, uint32_t len);
    // Where the payload of open entry `seq` goes (its `len` bytes).
    uint8_t* payload(uint64_t seq);
    // ok, or failed when the log has failed (the entry is then not written; nothing of it will
    // be durable).
    append_status commit(uint64_t seq);
    // Payload bytes of open entry `seq` not yet folded into its CRC (commit folds them).
    uint32_t unfilled(uint64_t seq) const;
    size_t open_reservations() const { return m_open.size(); }
    // Every append with a sequence number <= this has completed and is durable.
    uint64_t durable_seq() const { return m_durable_seq; }
    // The sequence number the next append takes.
    uint64_t next_seq() const { return m_next_seq; }
    bool idle() const { return m_inflight == 0 && m_unissued.empty(); }
    bool failed() const { return m_failed; }

    // The device finished the write of `token` (ok: durable).
    void complete(uint64_t token, bool ok);

    // Read back: the durable entries still in the log.
    uint64_t head_seq() const { return m_entries.empty() ? m_durable_seq + 1 : m_entries.front().seq; }
    size_t entries() const;
    // Payload of entry `seq`; null (len 0) when it is not a durable entry of the log.
    const uint8_t* read(uint64_t seq, uint32_t& len, uint32_t* epoch = nullptr) const;
    // Calls fn(seq, data, len) for each durable entry from `from_seq` on, oldest first, until fn
    // returns false.
    void iterate(uint64_t from_seq, const std::function<bool(uint64_t, const uint8_t*, uint32_t)>& fn) const;
    // Drops the durable entries up to and including `upto_seq`; their space is reused once the
    // header recording the new head is durable.
    void truncate(uint64_t upto_seq);

    const log_stats& stats() const { return m_stats; }
    const std::string& error() const { return m_error; }
    uint32_t epoch() const { return m_epoch; }
    uint64_t capacity() const { return m_capacity; }
    // The largest payload one append takes.
    uint32_t max_payload() const;

private:
    static constexpr uint64_t header_token = 1ULL << 63;
    struct pending_write { uint64_t offset; uint32_t bytes; uint64_t token; };
    // An entry between reserve and commit.
    struct open_entry { uint64_t seq; uint64_t offset; uint32_t length; uint32_t filled; uint32_t crc; };

    bool place(uint64_t bytes, uint64_t& at) const;
    void write_header();
    void issue(const pending_write& w);
    void pump();
    void advance_durable();
    // Open entry `seq`; throws std::logic_error (naming `what`) when there is none.
    const open_entry& open_at(uint64_t seq, const char* what) const;

    uint8_t* m_image;
    uint64_t m_capacity;
    uint32_t m_mtu;
    log_io& m_io;

    uint64_t m_log_id = 0;
    uint32_t m_epoch = 0;
    uint64_t m_generation = 0;
    bool m_header_durable = false;   // the current epoch's header has reached the device
    uint64_t m_header_inflight_gen = 0;
    bool m_header_wanted = false;    // another header write is due once the one in flight ends
    log_header m_inflight_header{};

    std::deque<log_entry_ref> m_entries;   // from the logical head to the newest (some in flight)
    std::deque<bool> m_done;               // per m_entries element: its write completed
    uint64_t m_tail = log_data_start;      // where the next entry goes (or wraps from)
    uint64_t m_next_seq = 1;
    uint64_t m_durable_seq = 0;
    uint64_t m_space_head = log_data_start;   // the durable header's head: space from here is in use
    uint64_t m_space_head_seq = 1;

    std::deque<open_entry> m_open;         // reserved, not yet committed, in sequence order
    std::deque<pending_write> m_unissued;
    unsigned m_inflight = 0;
    bool m_failed = false;
    std::string m_error;
    log_stats m_stats;
};

} // namespace iovsim::os::dataplane
