#pragma once
// Where the Redis-like server's append-only file goes (appendfsync always: a write is durable
// before its reply). The Linux-like path writes the file with write(2) and makes it durable with
// fsync(2) through a file system; Arrakis appends to the persistent log on the application's VSA
// and waits until the log says the entry is durable. Both run on the server's core and block it
// (the task sleeps; the core may take interrupts meanwhile).
#include <cstddef>
#include <cstdint>

namespace iovsim::workloads::redis {

class aof_backend {
public:
    virtual ~aof_backend() = default;
    // Appends `len` bytes (one or more marshaled commands) after what was written before; false
    // when the medium refuses (full, I/O error).
    virtual bool write(const uint8_t* data, size_t len) = 0;
    // Takes `len` bytes that the next write() will start with (after those staged before) into the
    // medium's own memory now, so that the caller need not buffer them: Arrakis/P's log entry is
    // the AOF buffer. False (the default: no such memory) when it does not; the bytes then reach
    // the medium with the write, and so do those of every later stage before that write.
    virtual bool stage(const uint8_t* data, size_t len)
    {
        (void)data;
        (void)len;
        return false;
    }
    // Returns once everything written so far is durable; false on an I/O error.
    virtual bool sync() = 0;
};

} // namespace iovsim::workloads::redis
