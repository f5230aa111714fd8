#include "os/net/tcp_options.h"

#include <algorithm>

namespace iovsim::os::net {

namespace {
constexpr uint8_t opt_end = 0, opt_nop = 1, opt_mss = 2, opt_wscale = 3;
}

void put_syn_options(wire::tcp_header& h, const tcp_syn_options& o)
{
    uint8_t* b = h.options.data();
    b[0] = opt_mss;
    b[1] = 4;
    wire::store_be16(b + 2, o.mss);
    h.options_length = 4;
    if (o.wscale >= 0) {
        b[4] = opt_nop;   // aligns the 3-byte option to a word, as every stack does
        b[5] = opt_wscale;
        b[6] = 3;
        b[7] = static_cast<uint8_t>(std::min(o.wscale, tcp_max_wscale));
        h.options_length = 8;
    }
}

tcp_syn_options parse_syn_options(const wire::tcp_header& h)
{
    tcp_syn_options o;
    const uint8_t* b = h.options.data();
    const size_t n = std::min<size_t>(h.options_length, h.options.size());
    size_t i = 0;
    while (i < n) {
        const uint8_t kind = b[i];
        if (kind == opt_end)
            break;
        if (kind == opt_nop) {
            ++i;
            continue;
        }
        if (i + 1 >= n || b[i + 1] < 2 || i + b[i + 1] > n)
            break;
        const uint8_t len = b[i + 1];
        if (kind == opt_mss && len == 4)
            o.mss = wire::load_be16(b + i + 2);
        else if (kind == opt_wscale && len == 3)
            o.wscale = std::min<int>(b[i + 2], tcp_max_wscale);
        i += len;
    }
    return o;
}

tcp_window_choice choose_rcv_window(uint32_t free_space, uint32_t offered, uint32_t buffer, uint32_t mss,
                                    unsigned wscale)
{
    const uint32_t cap = 0xFFFFu << wscale;
    const uint32_t unit = 1u << wscale;
    free_space = std::min(free_space, cap);
    // A new offer from the free space, rounded down to what the scale expresses; only a
    // worthwhile step (or a window that was closed and can open fully).
    const uint32_t fresh = free_space & ~(unit - 1);
    if (fresh > offered && (fresh - offered >= std::min(buffer / 2, mss) || (offered == 0 && fresh >= buffer / 2)))
        return {fresh, static_cast<uint16_t>(fresh >> wscale)};
    // Otherwise the current offer stands, its right edge kept by rounding up, even past the free
    // space (as Linux's tcp_select_window does): pulling it back, even by less than one scale unit,
    // would leave a sender that used the old edge with a SND.MAX beyond our window, and its ACKs
    // (sent at SND.MAX) unacceptable to us.
    offered = std::min(offered, cap);
    const uint32_t field = (offered + unit - 1) >> wscale;
    return {field << wscale, static_cast<uint16_t>(field)};
}

} // namespace iovsim::os::net
