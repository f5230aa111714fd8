#pragma once
// The message protocol the kernel's PF driver and an application's VF driver speak over the e10k's
// mailbox (the memory and its doorbells: models/nic/e10k_regs.h, PFMAILBOX / VFMAILBOX). After
// ixgbe's: word 0 holds the message type (15:0), a small argument (MSGINFO, 23:16) and, in a
// reply, ACK or NACK; the payload follows. The VF first negotiates an API version; versions are
// append-only, and a request the negotiated version does not know is refused.
#include <cstdint>

#include "sim/wire/wire.h"

namespace iovsim::os::dev::mbx {

enum msg_type : uint32_t {
    msg_reset = 0x01,          // VF -> PF: reset me; reply: ACK, words 1-2 the VNIC's MAC address
    msg_set_mac = 0x02,        // words 1-2: the station address the VF wants (only its own is granted)
    msg_set_multicast = 0x03,  // MSGINFO: count; words 1..: 2 words per address (API 1.1)
    msg_api_negotiate = 0x08,  // word 1: the API version the VF speaks
};
constexpr uint32_t type_mask = 0xFFFF;
constexpr unsigned info_shift = 16;
constexpr uint32_t info_mask = 0xFFu << info_shift;
constexpr uint32_t ack = 1u << 31;
constexpr uint32_t nack = 1u << 30;
constexpr unsigned max_multicast = 7;   // 2 words each after word 0, in 16 words

// API versions, append-only: a new one only adds messages.
enum class api : uint32_t {
    v1_0 = 0,   // reset, set_mac
    v1_1 = 1,   // + set_multicast
};
constexpr api newest = api::v1_1;

inline void put_mac(uint32_t* w, const wire::mac_addr& m)
{
    const auto& b = m.bytes;
    w[0] = b[0] | b[1] << 8 | b[2] << 16 | static_cast<uint32_t>(b[3]) << 24;
    w[1] = b[4] | b[5] << 8;
}
inline wire::mac_addr get_mac(const uint32_t* w)
{
    return wire::mac_addr{{static_cast<uint8_t>(w[0]), static_cast<uint8_t>(w[0] >> 8), static_cast<uint8_t>(w[0] >> 16),
                           static_cast<uint8_t>(w[0] >> 24), static_cast<uint8_t>(w[1]), static_cast<uint8_t>(w[1] >> 8)}};
}

} // namespace iovsim::os::dev::mbx
