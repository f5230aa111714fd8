// SYN options (MSS, window scale) and the receive window a receiver offers.
#include <gtest/gtest.h>

#include "os/net/tcp.h"
#include "os/net/tcp_options.h"
#include "sim/config.h"
#include "sim/params.h"

using namespace iovsim;
using namespace iovsim::os::net;

TEST(tcp_options, mss_and_window_scale_round_trip)
{
    wire::tcp_header h;
    put_syn_options(h, {1460, 7});
    ASSERT_EQ(h.options_length, 8);
    // MSS (2, 4, 0x05B4), NOP, window scale (3, 3, 7): the layout every stack sends.
    const uint8_t want[8] = {2, 4, 0x05, 0xB4, 1, 3, 3, 7};
    for (unsigned i = 0; i < 8; ++i)
        EXPECT_EQ(h.options[i], want[i]) << i;
    const tcp_syn_options o = parse_syn_options(h);
    EXPECT_EQ(o.mss, 1460);
    EXPECT_EQ(o.wscale, 7);
}

TEST(tcp_options, without_window_scale_only_mss)
{
    wire::tcp_header h;
    put_syn_options(h, {536, -1});
    EXPECT_EQ(h.options_length, 4);
    const tcp_syn_options o = parse_syn_options(h);
    EXPECT_EQ(o.mss, 536);
    EXPECT_EQ(o.wscale, -1);
}

TEST(tcp_options, unknown_options_are_skipped_and_large_shift_capped)
{
    wire::tcp_header h;
    // SACK permitted (4, 2), timestamps (8, 10, ...), window scale 15, end of list.
    const uint8_t opts[] = {4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 3, 3, 15, 0};
    std::copy(std::begin(opts), std::end(opts), h.options.begin());
    h.options_length = sizeof opts;
    const tcp_syn_options o = parse_syn_options(h);
    EXPECT_EQ(o.mss, 0);
    EXPECT_EQ(o.wscale, tcp_max_wscale);
}

TEST(tcp_options, malformed_list_ends_the_parse)
{
    wire::tcp_header h;
    const uint8_t opts[] = {2, 4, 0x02, 0x18, 9, 0, 3, 3};   // MSS 536, then a length of 0
    std::copy(std::begin(opts), std::end(opts), h.options.begin());
    h.options_length = sizeof opts;
    const tcp_syn_options o = parse_syn_options(h);
    EXPECT_EQ(o.mss, 536);
    EXPECT_EQ(o.wscale, -1);
    const uint8_t past_end[] = {1, 1, 2, 8, 0, 0, 0, 0};   // MSS claiming 8 bytes from offset 2
    std::copy(std::begin(past_end), std::end(past_end), h.options.begin());
    EXPECT_EQ(parse_syn_options(h).mss, 0);
}

TEST(tcp_window, small_increases_are_not_offered)
{
    // 256 KiB buffer, MSS 1460, no scaling: the offer grows only by >= one MSS.
    EXPECT_EQ(choose_rcv_window(60'000, 59'000, 262'144, 1460, 0).window, 59'000u);
    EXPECT_EQ(choose_rcv_window(60'460, 59'000, 262'144, 1460, 0).window, 60'460u);
    // A 2 KiB buffer: half the buffer is the step, even from a closed window.
    EXPECT_EQ(choose_rcv_window(1'000, 0, 2'048, 1460, 0).window, 0u);
    EXPECT_EQ(choose_rcv_window(1'024, 0, 2'048, 1460, 0).window, 1'024u);
    EXPECT_EQ(choose_rcv_window(900, 200, 2'048, 1460, 0).window, 200u);
}

TEST(tcp_window, the_offer_never_shrinks_when_space_is_taken)
{
    // Data arrived: free space fell below the offer; the right edge stays.
    const tcp_window_choice w = choose_rcv_window(10'000, 30'000, 262'144, 1460, 0);
    EXPECT_EQ(w.window, 30'000u);
    EXPECT_EQ(w.field, 30'000);
}

TEST(tcp_window, scaled_offers_are_whole_units)
{
    const tcp_window_choice w = choose_rcv_window(262'144, 0, 262'144, 1460, 7);
    EXPECT_EQ(w.window, 262'144u);
    EXPECT_EQ(w.field, 2048);
    // A kept offer is rounded up, never down: its right edge stays, even past the free space.
    const tcp_window_choice up = choose_rcv_window(100'500, 100'001, 262'144, 1460, 7);
    EXPECT_EQ(up.window, 100'096u);
    const tcp_window_choice full = choose_rcv_window(50'000, 100'001, 262'144, 1460, 7);
    EXPECT_EQ(full.window, 100'096u);
    // The field saturates at 65535 units.
    EXPECT_EQ(choose_rcv_window(1u << 30, 0, 1u << 30, 1460, 7).field, 0xFFFF);
}

TEST(tcp_window, unscaled_window_is_capped_at_65535)
{
    const tcp_window_choice w = choose_rcv_window(262'144, 0, 262'144, 1460, 0);
    EXPECT_EQ(w.window, 65'535u);
    EXPECT_EQ(w.field, 0xFFFF);
}

TEST(tcp_params, read_from_config_and_checked)
{
    cfg::config c(sim::parameters());
    const tcp_params d = tcp_layer::params_of(c);
    EXPECT_EQ(d.mss, 1460);
    EXPECT_EQ(d.rto.min_rto_ns, 200'000'000u);
    EXPECT_EQ(d.time_wait_ns, 60'000'000'000u);
    c.apply_override("os.tcp.rto_min_ms=5000");
    EXPECT_THROW(tcp_layer::params_of(c), cfg::config_error);   // above the initial RTO
    cfg::config w(sim::parameters());
    w.apply_override("os.tcp.wscale=0");
    EXPECT_THROW(tcp_layer::params_of(w), cfg::config_error);   // 256 KiB needs a scale
    EXPECT_THROW(w.apply_override("os.tcp.mss=20"), cfg::config_error);
}
