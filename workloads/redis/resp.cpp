#include "workloads/redis/resp.h"

#include <cstring>

namespace iovsim::workloads::redis {

namespace {

// Redis's string2ll: an optional '-', then digits without a leading zero (except "0" itself),
// nothing else, within int64.
bool to_ll(const uint8_t* p, size_t n, int64_t& out)
{
    if (n == 0 || n > 20)
        return false;
    size_t i = 0;
    bool neg = false;
    if (p[0] == '-') {
        neg = true;
        if (++i == n)
            return false;
    }
    if (p[i] == '0')
        return n == i + 1 && !neg ? (out = 0, true) : false;
    uint64_t v = 0;
    for (; i < n; ++i) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        const uint64_t d = p[i] - '0';
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (neg ? v > uint64_t{1} << 63 : v > static_cast<uint64_t>(INT64_MAX))
        return false;
    out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
    return true;
}

const uint8_t* find(const uint8_t* from, const uint8_t* end, uint8_t c)
{
    return static_cast<const uint8_t*>(std::memchr(from, c, static_cast<size_t>(end - from)));
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Redis's sdssplitargs: words separated by white space; "double quotes" with C escapes (\n \r \t
// \b \a \\ \" \xHH) and 'single quotes' (only \' escaped); a closing quote must end the word.
// Appends each word to `storage`, returning the words' (offset, length); false when a quote is
// unbalanced.
bool split_args(const char* p, const char* end, std::string& storage, std::vector<std::pair<size_t, size_t>>& words)
{
    for (;;) {
        while (p < end && is_space(*p))
            ++p;
        if (p == end)
            return true;
        const size_t start = storage.size();
        bool in_dq = false, in_sq = false, done = false;
        while (!done) {
            if (in_dq) {
                if (p == end)
                    return false;
                if (*p == '\\' && end - p >= 4 && p[1] == 'x' && hex_digit(p[2]) >= 0 && hex_digit(p[3]) >= 0) {
                    storage.push_back(static_cast<char>(hex_digit(p[2]) * 16 + hex_digit(p[3])));
                    p += 3;
                } else if (*p == '\\' && end - p >= 2) {
                    ++p;
                    const char c = *p;
                    storage.push_back(c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c == 'b' ? '\b' : c == 'a' ? '\a' : c);
                } else if (*p == '"') {
                    if (p + 1 < end && !is_space(p[1]))
                        return false;   // closing quote must be followed by a space or nothing
                    done = true;
                } else {
                    storage.push_back(*p);
                }
            } else if (in_sq) {
                if (p == end)
                    return false;
                if (*p == '\\' && end - p >= 2 && p[1] == '\'') {
                    ++p;
                    storage.push_back('\'');
                } else if (*p == '\'') {
                    if (p + 1 < end && !is_space(p[1]))
                        return false;
                    done = true;
                } else {
                    storage.push_back(*p);
                }
            } else {
                if (p == end || is_space(*p)) {
                    done = true;
                    words.emplace_back(start, storage.size() - start);
                    break;
                }
                if (*p == '"')
                    in_dq = true;
                else if (*p == '\'')
                    in_sq = true;
                else
                    storage.push_back(*p);
            }
            if (p < end)
                ++p;
            if (done && (in_dq || in_sq))
                words.emplace_back(start, storage.size() - start);
        }
    }
}

} // namespace

parse_status resp_parser::fail(const std::string& why)
{
    m_error = "ERR Protocol error: " + why;
    return parse_status::error;
}

parse_status resp_parser::next(const uint8_t* buf, size_t len, command& out)
{
    out.args.clear();
    out.storage.clear();
    out.bytes = 0;
    if (len == 0)
        return parse_status::need_more;
    out.inline_form = buf[0] != '*';
    return out.inline_form ? inline_command(buf, len, out) : multibulk(buf, len, out);
}

parse_status resp_parser::multibulk(const uint8_t* buf, size_t len, command& out)
{
    const uint8_t* const end = buf + len;
    const uint8_t* nl = find(buf, end, '\r');
    if (nl == nullptr)
        return len > m_limits.max_inline ? fail("too big mbulk count string") : parse_status::need_more;
    if (nl + 1 >= end)   // the '\n' is not here yet
        return parse_status::need_more;
    int64_t count = 0;
    if (!to_ll(buf + 1, static_cast<size_t>(nl - buf - 1), count) || count > static_cast<int64_t>(m_limits.max_args))
        return fail("invalid multibulk length");
    const uint8_t* p = nl + 2;
    // count <= 0: an empty command, skipped (Redis resets the client and goes on).
    for (int64_t i = 0; i < count; ++i) {
        nl = p < end ? find(p, end, '\r') : nullptr;
        if (nl == nullptr)
            return len > m_limits.max_inline ? fail("too big bulk count string") : parse_status::need_more;
        if (nl + 1 >= end)
            return parse_status::need_more;
        if (*p != '$')
            return fail(std::string("expected '$', got '") + static_cast<char>(*p) + "'");
        int64_t blen = 0;
        if (!to_ll(p + 1, static_cast<size_t>(nl - p - 1), blen) || blen < 0 ||
            static_cast<uint64_t>(blen) > m_limits.max_bulk_len)
            return fail("invalid bulk length");
        p = nl + 2;
        // The bulk and its CRLF (Redis skips the two bytes after the bulk without looking at them).
        if (static_cast<uint64_t>(end - p) < static_cast<uint64_t>(blen) + 2)
            return parse_status::need_more;
        out.args.emplace_back(reinterpret_cast<const char*>(p), static_cast<size_t>(blen));
        p += blen + 2;
    }
    out.bytes = static_cast<size_t>(p - buf);
    return parse_status::command;
}

parse_status resp_parser::inline_command(const uint8_t* buf, size_t len, command& out)
{
    const uint8_t* nl = find(buf, buf + len, '\n');
    if (nl == nullptr)
        return len > m_limits.max_inline ? fail("too big inline request") : parse_status::need_more;
    const uint8_t* line_end = nl != buf && nl[-1] == '\r' ? nl - 1 : nl;
    std::vector<std::pair<size_t, size_t>> words;
    if (!split_args(reinterpret_cast<const char*>(buf), reinterpret_cast<const char*>(line_end), out.storage, words))
        return fail("unbalanced quotes in request");
    for (const auto& [off, n] : words)
        out.args.emplace_back(out.storage.data() + off, n);
    out.bytes = static_cast<size_t>(nl + 1 - buf);
    return parse_status::command;
}

// ---- Encoders ------------------------------------------------------------------------------

namespace {

void append_len_line(std::string& out, char type, int64_t v)
{
    char tmp[32];
    int n = 0;
    tmp[n++] = type;
    char digits[24];
    int d = 0;
    uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do {
        digits[d++] = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        tmp[n++] = '-';
    while (d > 0)
        tmp[n++] = digits[--d];
    tmp[n++] = '\r';
    tmp[n++] = '\n';
    out.append(tmp, static_cast<size_t>(n));
}

size_t digits_of(size_t v)
{
    size_t d = 1;
    while (v >= 10) {
        v /= 10;
        ++d;
    }
    return d;
}

} // namespace

void append_simple(std::string& out, std::string_view s)
{
    out.push_back('+');
    out.append(s);
    out.append("\r\n");
}

void append_error(std::string& out, std::string_view s)
{
    out.push_back('-');
    out.append(s);
    out.append("\r\n");
}

void append_integer(std::string& out, int64_t v) { append_len_line(out, ':', v); }

void append_bulk(std::string& out, std::string_view s)
{
    append_len_line(out, '$', static_cast<int64_t>(s.size()));
    out.append(s);
    out.append("\r\n");
}

void append_null_bulk(std::string& out) { out.append("$-1\r\n"); }

void append_command(std::string& out, const std::vector<std::string_view>& args)
{
    out.reserve(out.size() + command_bytes(args));
    append_len_line(out, '*', static_cast<int64_t>(args.size()));
    for (std::string_view a : args)
        append_bulk(out, a);
}

size_t command_bytes(const std::vector<std::string_view>& args)
{
    size_t n = 1 + digits_of(args.size()) + 2;
    for (std::string_view a : args)
        n += 1 + digits_of(a.size()) + 2 + a.size() + 2;
    return n;
}

// ---- Replies -------------------------------------------------------------------------------

reply_status parse_reply(const uint8_t* buf, size_t len, size_t max_bulk, reply& out)
{
    if (len == 0)
        return reply_status::need_more;
    const uint8_t* const end = buf + len;
    const uint8_t* nl = find(buf, end, '\r');
    if (nl == nullptr || nl + 1 >= end)
        return reply_status::need_more;
    if (nl[1] != '\n')
        return reply_status::error;
    const auto line = std::string_view(reinterpret_cast<const char*>(buf + 1), static_cast<size_t>(nl - buf - 1));
    switch (buf[0]) {
    case '+':
    case '-':
        out.type = buf[0] == '+' ? reply_type::simple : reply_type::error;
        out.text = line;
        out.bytes = static_cast<size_t>(nl + 2 - buf);
        return reply_status::reply;
    case ':':
        if (!to_ll(buf + 1, line.size(), out.integer))
            return reply_status::error;
        out.type = reply_type::integer;
        out.bytes = static_cast<size_t>(nl + 2 - buf);
        return reply_status::reply;
    case '$': {
        int64_t n = 0;
        if (!to_ll(buf + 1, line.size(), n) || n < -1 || (n >= 0 && static_cast<uint64_t>(n) > max_bulk))
            return reply_status::error;
        const uint8_t* p = nl + 2;
        if (n == -1) {
            out.type = reply_type::null_bulk;
            out.text = {};
            out.bytes = static_cast<size_t>(p - buf);
            return reply_status::reply;
        }
        if (static_cast<uint64_t>(end - p) < static_cast<uint64_t>(n) + 2)
            return reply_status::need_more;
        if (p[n] != '\r' || p[n + 1] != '\n')
            return reply_status::error;
        out.type = reply_type::bulk;
        out.text = std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
        out.bytes = static_cast<size_t>(p + n + 2 - buf);
        return reply_status::reply;
    }
    default:
        return reply_status::error;
    }
}

} // namespace iovsim::workloads::redis
