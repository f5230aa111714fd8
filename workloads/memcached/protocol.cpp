#include "workloads/memcached/protocol.h"

#include <cstring>

namespace iovsim::workloads::mc {

namespace {

uint64_t get_be64(const uint8_t* p) { return static_cast<uint64_t>(get_be32(p)) << 32 | get_be32(p + 4); }
void put_be64(uint8_t* p, uint64_t v)
{
    put_be32(p, static_cast<uint32_t>(v >> 32));
    put_be32(p + 4, static_cast<uint32_t>(v));
}

void put_udp(uint8_t* p, uint16_t request_id)
{
    put_be16(p, request_id);
    put_be16(p + 2, 0);
    put_be16(p + 4, 1);
    put_be16(p + 6, 0);
}

void put_header(uint8_t* p, const header& h)
{
    p[0] = h.magic;
    p[1] = h.op;
    put_be16(p + 2, h.key_len);
    p[4] = h.extras_len;
    p[5] = h.data_type;
    put_be16(p + 6, h.vbucket_or_status);
    put_be32(p + 8, h.body_len);
    put_be32(p + 12, h.opaque);
    put_be64(p + 16, h.cas);
}

parse_error parse(const uint8_t* bytes, size_t len, uint8_t magic, message& m)
{
    if (len < udp_header_len + header_len)
        return parse_error::too_short;
    m = message{};
    m.udp.request_id = get_be16(bytes);
    m.udp.sequence = get_be16(bytes + 2);
    m.udp.total = get_be16(bytes + 4);
    m.udp.reserved = get_be16(bytes + 6);
    if (m.udp.total != 1 || m.udp.sequence != 0)
        return parse_error::multi_datagram;
    const uint8_t* p = bytes + udp_header_len;
    header& h = m.h;
    h.magic = p[0];
    h.op = p[1];
    h.key_len = get_be16(p + 2);
    h.extras_len = p[4];
    h.data_type = p[5];
    h.vbucket_or_status = get_be16(p + 6);
    h.body_len = get_be32(p + 8);
    h.opaque = get_be32(p + 12);
    h.cas = get_be64(p + 16);
    if (h.magic != magic)
        return parse_error::bad_magic;
    if (h.data_type != 0)
        return parse_error::bad_data_type;
    const size_t rest = len - udp_header_len - header_len;
    if (h.body_len != rest || static_cast<size_t>(h.extras_len) + h.key_len > h.body_len)
        return parse_error::bad_length;
    if (h.key_len > max_key_len)
        return parse_error::key_too_long;
    const uint8_t* body = p + header_len;
    m.extras = body;
    m.key = body + h.extras_len;
    m.value = m.key + h.key_len;
    m.value_len = h.body_len - h.extras_len - h.key_len;
    return parse_error::none;
}

} // namespace

const char* to_string(parse_error e)
{
    switch (e) {
    case parse_error::none: return "none";
    case parse_error::too_short: return "too_short";
    case parse_error::multi_datagram: return "multi_datagram";
    case parse_error::bad_magic: return "bad_magic";
    case parse_error::bad_data_type: return "bad_data_type";
    case parse_error::bad_length: return "bad_length";
    case parse_error::bad_extras: return "bad_extras";
    case parse_error::key_too_long: return "key_too_long";
    }
    return "?";
}

parse_error parse_request(const uint8_t* bytes, size_t len, message& out)
{
    const parse_error e = parse(bytes, len, magic_request, out);
    if (e != parse_error::none)
        return e;
    // Extras the opcodes define (a request for another opcode is answered unknown_command).
    if (out.h.op == static_cast<uint8_t>(opcode::set) && out.h.extras_len != set_extras_len)
        return parse_error::bad_extras;
    if (out.h.op == static_cast<uint8_t>(opcode::get) && (out.h.extras_len != 0 || out.value_len != 0))
        return parse_error::bad_extras;
    return parse_error::none;
}

parse_error parse_response(const uint8_t* bytes, size_t len, message& out)
{
    return parse(bytes, len, magic_response, out);
}

size_t build_get_request(uint8_t* out, size_t cap, uint16_t request_id, uint32_t opaque, const uint8_t* key,
                         size_t key_len)
{
    const size_t n = udp_header_len + header_len + key_len;
    if (n > cap || key_len > max_key_len)
        return 0;
    header h;
    h.op = static_cast<uint8_t>(opcode::get);
    h.key_len = static_cast<uint16_t>(key_len);
    h.body_len = static_cast<uint32_t>(key_len);
    h.opaque = opaque;
    put_udp(out, request_id);
    put_header(out + udp_header_len, h);
    std::memcpy(out + udp_header_len + header_len, key, key_len);
    return n;
}

size_t build_set_request(uint8_t* out, size_t cap, uint16_t request_id, uint32_t opaque, const uint8_t* key,
                         size_t key_len, uint32_t flags, uint32_t exptime, const uint8_t* value, size_t value_len)
{
    const size_t body = set_extras_len + key_len + value_len;
    const size_t n = udp_header_len + header_len + body;
    if (n > cap || key_len > max_key_len)
        return 0;
    header h;
    h.op = static_cast<uint8_t>(opcode::set);
    h.key_len = static_cast<uint16_t>(key_len);
    h.extras_len = set_extras_len;
    h.body_len = static_cast<uint32_t>(body);
    h.opaque = opaque;
    put_udp(out, request_id);
    put_header(out + udp_header_len, h);
    uint8_t* p = out + udp_header_len + header_len;
    put_be32(p, flags);
    put_be32(p + 4, exptime);
    std::memcpy(p + set_extras_len, key, key_len);
    std::memcpy(p + set_extras_len + key_len, value, value_len);
    return n;
}

size_t build_response(uint8_t* out, size_t cap, const message& req, status st, uint64_t cas, const uint8_t* extras,
                      size_t extras_len, const uint8_t* value, size_t value_len)
{
    const size_t body = extras_len + value_len;
    const size_t n = udp_header_len + header_len + body;
    if (n > cap || extras_len > 255)
        return 0;
    header h;
    h.magic = magic_response;
    h.op = req.h.op;
    h.extras_len = static_cast<uint8_t>(extras_len);
    h.vbucket_or_status = static_cast<uint16_t>(st);
    h.body_len = static_cast<uint32_t>(body);
    h.opaque = req.h.opaque;
    h.cas = cas;
    put_udp(out, req.udp.request_id);
    put_header(out + udp_header_len, h);
    uint8_t* p = out + udp_header_len + header_len;
    if (extras_len)
        std::memcpy(p, extras, extras_len);
    if (value_len)
        std::memcpy(p + extras_len, value, value_len);
    return n;
}

} // namespace iovsim::workloads::mc
