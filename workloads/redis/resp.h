#pragma once
// RESP2, the Redis protocol (redis.io "Redis serialization protocol specification"), as Redis 2.8
// reads it (networking.c: processMultibulkBuffer, processInlineBuffer) and writes it (addReply*).
//
// Requests: a multibulk `*<n>\r\n` followed by n bulk strings `$<len>\r\n<bytes>\r\n`, or an inline
// command (a line of space-separated words, as typed into telnet). Several may follow one another
// in a connection's input (pipelining); the parser takes one complete command at a time from the
// front of the buffer and says when more bytes are needed. It never reads outside the buffer.
// Limits and error texts are Redis's: a malformed command gives "ERR Protocol error: ...", after
// which Redis replies and closes the connection.
//
// Replies: simple string `+OK`, error `-ERR ...`, integer `:<n>`, bulk `$<len>\r\n<bytes>`, null
// bulk `$-1`. Clients parse them with parse_reply.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace iovsim::workloads::redis {

struct resp_limits {
    size_t max_bulk_len = 512ull << 20;   // proto-max-bulk-len: 512 MB (Redis 2.8: fixed)
    size_t max_args = 1024 * 1024;        // a multibulk count above this is invalid (Redis 2.8)
    size_t max_inline = 64 * 1024;        // REDIS_INLINE_MAX_SIZE: an inline line or a count string
};

// One parsed command: its arguments point into the parsed buffer (multibulk) or into the
// command's own storage (inline, where quotes may have been unescaped). Valid until the buffer
// changes or the next parse into the same command.
struct command {
    std::vector<std::string_view> args;
    size_t bytes = 0;        // bytes of input it took (headers included)
    bool inline_form = false;
    std::string storage;     // inline arguments, unescaped
};

enum class parse_status {
    command,     // one command taken (it may have no argument: an empty line or `*0`, to be skipped)
    need_more,   // the buffer ends within a command; nothing was taken
    error,       // malformed: error_text() says why, as Redis replies it
};

class resp_parser {
public:
    explicit resp_parser(const resp_limits& limits = {}) : m_limits(limits) {}

    // Parses the command at the front of [buf, buf + len).
    parse_status next(const uint8_t* buf, size_t len, command& out);
    // The error reply's text, without the leading '-' and the CRLF ("ERR Protocol error: ...").
    const std::string& error_text() const { return m_error; }
    const resp_limits& limits() const { return m_limits; }

private:
    parse_status multibulk(const uint8_t* buf, size_t len, command& out);
    parse_status inline_command(const uint8_t* buf, size_t len, command& out);
    parse_status fail(const std::string& why);

    resp_limits m_limits;
    std::string m_error;
};

// A command name compared as Redis looks commands up: case-insensitively. `lower` is lower case.
inline bool name_is(std::string_view arg, std::string_view lower)
{
    if (arg.size() != lower.size())
        return false;
    for (size_t i = 0; i < arg.size(); ++i) {
        const char c = arg[i] >= 'A' && arg[i] <= 'Z' ? static_cast<char>(arg[i] - 'A' + 'a') : arg[i];
        if (c != lower[i])
            return false;
    }
    return true;
}

// ---- Encoders (append to `out`) ----------------------------------------------------------
void append_simple(std::string& out, std::string_view s);   // +s
void append_error(std::string& out, std::string_view s);    // -s
void append_integer(std::string& out, int64_t v);           // :v
void append_bulk(std::string& out, std::string_view s);     // $len s
void append_null_bulk(std::string& out);                    // $-1
// A command as a multibulk of bulk strings: what clients send and what the AOF stores (Redis's
// catAppendOnlyGenericCommand writes exactly this form).
void append_command(std::string& out, const std::vector<std::string_view>& args);
// Bytes append_command would write.
size_t command_bytes(const std::vector<std::string_view>& args);

// ---- Replies, as a client reads them -------------------------------------------------------
enum class reply_type { simple, error, integer, bulk, null_bulk };

struct reply {
    reply_type type = reply_type::simple;
    std::string_view text;   // simple, error, bulk: into the parsed buffer
    int64_t integer = 0;
    size_t bytes = 0;        // bytes it took
};

enum class reply_status { reply, need_more, error };
// Parses the reply at the front of [buf, buf + len). Multibulk replies are not used by the
// workload and count as malformed.
reply_status parse_reply(const uint8_t* buf, size_t len, size_t max_bulk, reply& out);

} // namespace iovsim::workloads::redis
