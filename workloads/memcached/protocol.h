#pragma once
// The memcached binary protocol as memcached's UDP mode carries it: each datagram starts with the
// 8-byte UDP frame header (request id, sequence number, datagram count, reserved; memcached
// protocol.txt "UDP protocol"), then one binary-protocol message: a 24-byte header (magic 0x80 for a
// request, 0x81 for a response; opcode; key length; extras length; data type; vbucket id in a
// request, status in a response; total body length; opaque; CAS), then extras, key and value
// (memcached wiki "BinaryProtocolRevamped"). All fields are big endian. Only what the workload
// uses is here: GET (0x00) and SET (0x01); a request fits one datagram.
#include <cstddef>
#include <cstdint>

namespace iovsim::workloads::mc {

constexpr uint8_t magic_request = 0x80;
constexpr uint8_t magic_response = 0x81;
constexpr size_t udp_header_len = 8;
constexpr size_t header_len = 24;
constexpr size_t set_extras_len = 8;   // flags, expiration
constexpr size_t get_extras_len = 4;   // flags, in a GET response
constexpr size_t max_key_len = 250;    // memcached's KEY_MAX_LENGTH

enum class opcode : uint8_t { get = 0x00, set = 0x01 };

enum class status : uint16_t {
    ok = 0x0000,
    key_not_found = 0x0001,
    value_too_large = 0x0003,
    invalid_arguments = 0x0004,
    unknown_command = 0x0081,
};

struct udp_frame_header {
    uint16_t request_id = 0;
    uint16_t sequence = 0;   // this datagram's number within the message
    uint16_t total = 1;      // datagrams in the message
    uint16_t reserved = 0;
};

struct header {
    uint8_t magic = magic_request;
    uint8_t op = 0;
    uint16_t key_len = 0;
    uint8_t extras_len = 0;
    uint8_t data_type = 0;          // 0x00: raw bytes, the only type defined
    uint16_t vbucket_or_status = 0;
    uint32_t body_len = 0;          // extras + key + value
    uint32_t opaque = 0;            // copied into the response: the client's tag
    uint64_t cas = 0;
};

// A parsed datagram: pointers into the caller's bytes.
struct message {
    udp_frame_header udp;
    header h;
    const uint8_t* extras = nullptr;
    const uint8_t* key = nullptr;
    const uint8_t* value = nullptr;
    size_t value_len = 0;
};

enum class parse_error {
    none,
    too_short,        // shorter than the UDP frame header plus a message header
    multi_datagram,   // a message spread over several datagrams (not served over UDP here)
    bad_magic,        // not 0x80 (request) / 0x81 (response) where one was expected
    bad_data_type,
    bad_length,       // extras + key exceed the body, or the body is not the rest of the datagram
    bad_extras,       // the opcode's extras length is wrong (SET: 8, GET request: 0)
    key_too_long,
};
const char* to_string(parse_error e);

// Never reads outside [bytes, bytes + len).
parse_error parse_request(const uint8_t* bytes, size_t len, message& out);
parse_error parse_response(const uint8_t* bytes, size_t len, message& out);

// Builders: write one datagram into out[0, cap) and return its length, or 0 when it does not fit
// (or the key is longer than max_key_len).
size_t build_get_request(uint8_t* out, size_t cap, uint16_t request_id, uint32_t opaque, const uint8_t* key,
                         size_t key_len);
size_t build_set_request(uint8_t* out, size_t cap, uint16_t request_id, uint32_t opaque, const uint8_t* key,
                         size_t key_len, uint32_t flags, uint32_t exptime, const uint8_t* value, size_t value_len);
// A response to `req` (its request id, opcode and opaque): status, CAS, extras and value.
size_t build_response(uint8_t* out, size_t cap, const message& req, status st, uint64_t cas, const uint8_t* extras,
                      size_t extras_len, const uint8_t* value, size_t value_len);

// Big-endian field access, shared by the codec and its tests.
inline uint16_t get_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t get_be32(const uint8_t* p)
{
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}
inline void put_be16(uint8_t* p, uint16_t v) { p[0] = static_cast<uint8_t>(v >> 8); p[1] = static_cast<uint8_t>(v); }
inline void put_be32(uint8_t* p, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

} // namespace iovsim::workloads::mc
