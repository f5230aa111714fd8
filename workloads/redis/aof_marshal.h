#pragma once
// The append-only file's contents, as Redis writes and reads them (aof.c). Each write command
// that changed the keyspace is appended to the AOF buffer as its RESP multibulk, the form the
// client sent it in (catAppendOnlyGenericCommand), preceded once by a SELECT of database 0 (Redis
// writes a SELECT whenever the database differs from the last one logged; there is one database
// here). The buffer is handed to the backend (aof.h) with write, then sync, before the replies of
// the commands in it go out (appendfsync always).
//
// load_aof replays such a byte image into a store, as loadAppendOnlyFile does at start-up: only
// multibulk commands; SELECT, SET and DEL are known. A tail cut short by a crash is reported (the
// valid prefix is loaded), as Redis's aof-load-truncated does.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "workloads/redis/aof.h"
#include "workloads/redis/store.h"

namespace iovsim::workloads::redis {

class aof_buffer {
public:
    // Appends one command (its arguments as received); returns the bytes it added.
    size_t append(const std::vector<std::string_view>& args);
    bool empty() const { return m_buf.empty(); }
    size_t size() const { return m_buf.size(); }
    const std::string& bytes() const { return m_buf; }
    // Offers the last `n` bytes appended to the backend's stage (aof.h), when every byte before
    // them was staged too; true when the backend took them.
    bool stage_last(aof_backend& backend, size_t n);
    // Bytes the backend has staged since the last write.
    size_t staged() const { return m_staged; }
    // write + sync of what is buffered; the buffer is emptied either way. False when the backend
    // refused either (the caller decides what the clients hear).
    bool write_to(aof_backend& backend);
    bool sync(aof_backend& backend);
    uint64_t written_bytes() const { return m_written; }

private:
    std::string m_buf;
    size_t m_staged = 0;   // the first m_staged bytes of m_buf are in the backend's memory already
    bool m_selected = false;
    uint64_t m_written = 0;
};

struct aof_load_result {
    bool ok = false;            // the whole image (or its valid prefix, when truncated) was replayed
    bool truncated = false;     // the image ends within a command
    size_t commands = 0;        // commands replayed (SELECT included)
    size_t valid_bytes = 0;     // bytes of whole commands
    std::string error;          // why not ok, in Redis's words
};

aof_load_result load_aof(const uint8_t* data, size_t len, store& into);

} // namespace iovsim::workloads::redis
