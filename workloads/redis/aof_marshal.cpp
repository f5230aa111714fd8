#include "workloads/redis/aof_marshal.h"

#include "workloads/redis/resp.h"

namespace iovsim::workloads::redis {

size_t aof_buffer::append(const std::vector<std::string_view>& args)
{
    const size_t before = m_buf.size();
    if (!m_selected) {
        append_command(m_buf, {"SELECT", "0"});
        m_selected = true;
    }
    append_command(m_buf, args);
    return m_buf.size() - before;
}

bool aof_buffer::stage_last(aof_backend& backend, size_t n)
{
    if (n == 0 || n > m_buf.size() || m_staged != m_buf.size() - n)
        return false;   // bytes before these went unstaged: the backend takes them in order or not at all
    if (!backend.stage(reinterpret_cast<const uint8_t*>(m_buf.data()) + m_staged, n))
        return false;
    m_staged += n;
    return true;
}

bool aof_buffer::write_to(aof_backend& backend)
{
    if (m_buf.empty())
        return true;
    const bool ok = backend.write(reinterpret_cast<const uint8_t*>(m_buf.data()), m_buf.size());
    if (ok)
        m_written += m_buf.size();
    m_buf.clear();
    m_staged = 0;
    return ok;
}

bool aof_buffer::sync(aof_backend& backend) { return backend.sync(); }

aof_load_result load_aof(const uint8_t* data, size_t len, store& into)
{
    aof_load_result r;
    resp_parser parser;
    command cmd;
    size_t pos = 0;
    while (pos < len) {
        if (data[pos] != '*') {
            r.error = "Bad file format reading the append only file";
            return r;
        }
        const parse_status st = parser.next(data + pos, len - pos, cmd);
        if (st == parse_status::need_more) {
            r.truncated = true;
            break;
        }
        if (st == parse_status::error) {
            r.error = "Bad file format reading the append only file";
            return r;
        }
        const auto& a = cmd.args;
        if (a.empty()) {
            r.error = "Bad file format reading the append only file";
            return r;
        }
        const bool select0 = name_is(a[0], "select") && a.size() == 2 && a[1] == "0";   // the only database
        if (name_is(a[0], "set") && a.size() == 3) {
            into.set(a[1], a[2]);
        } else if (name_is(a[0], "del") && a.size() >= 2) {
            for (size_t i = 1; i < a.size(); ++i)
                into.del(a[i]);
        } else if (!select0) {
            r.error = "Unknown command '" + std::string(a[0]) + "' reading the append only file";
            return r;
        }
        ++r.commands;
        pos += cmd.bytes;
        r.valid_bytes = pos;
    }
    r.ok = true;
    return r;
}

} // namespace iovsim::workloads::redis
