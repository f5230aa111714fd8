// TCP sequence-number arithmetic modulo 2^32 and the segment acceptability test
// (RFC 9293 sections 3.4 and 3.10.7.4), wraparound at 0xFFFFFFFF -> 0 included.
#include <gtest/gtest.h>

#include "os/net/tcp_seq.h"

using namespace iovsim::os::net;

TEST(TcpSeq, OrderWithoutWrap)
{
    EXPECT_TRUE(seq_lt(1, 2));
    EXPECT_FALSE(seq_lt(2, 2));
    EXPECT_TRUE(seq_leq(2, 2));
    EXPECT_TRUE(seq_gt(3, 2));
    EXPECT_FALSE(seq_gt(2, 2));
    EXPECT_TRUE(seq_geq(2, 2));
    EXPECT_FALSE(seq_geq(1, 2));
}

TEST(TcpSeq, OrderAcrossWrap)
{
    const tcp_seq last = 0xFFFFFFFFu;
    EXPECT_TRUE(seq_lt(last, 0));
    EXPECT_TRUE(seq_gt(0, last));
    EXPECT_TRUE(seq_leq(last, 0));
    EXPECT_TRUE(seq_geq(0, last));
    EXPECT_FALSE(seq_lt(0, last));
    EXPECT_TRUE(seq_lt(0xFFFFFFF0u, 0x10));
    EXPECT_EQ(seq_diff(0x10, 0xFFFFFFF0u), 0x20);
    EXPECT_EQ(seq_diff(0xFFFFFFF0u, 0x10), -0x20);
    EXPECT_EQ(seq_max(last, 5), 5u);
    EXPECT_EQ(seq_min(last, 5), last);
    // Plain unsigned comparison gets this wrong, which is why the helpers exist.
    EXPECT_GT(last, 5u);
}

TEST(TcpSeq, HalfTheSpaceApart)
{
    // Just under 2^31 apart the order is still defined; at exactly 2^31 it is ambiguous.
    EXPECT_TRUE(seq_lt(0, 0x7FFFFFFFu));
    EXPECT_FALSE(seq_lt(0x7FFFFFFFu, 0));
    EXPECT_TRUE(seq_lt(0x80000000u, 0x80000000u + 0x7FFFFFFFu));
}

TEST(TcpSeq, BetweenAndWindowAcrossWrap)
{
    // The window [0xFFFFFFF0, 0x10) straddles zero.
    EXPECT_TRUE(seq_between(0xFFFFFFF0u, 0xFFFFFFF0u, 0x10));
    EXPECT_TRUE(seq_between(0xFFFFFFFFu, 0xFFFFFFF0u, 0x10));
    EXPECT_TRUE(seq_between(0, 0xFFFFFFF0u, 0x10));
    EXPECT_TRUE(seq_between(0xF, 0xFFFFFFF0u, 0x10));
    EXPECT_FALSE(seq_between(0x10, 0xFFFFFFF0u, 0x10));
    EXPECT_FALSE(seq_between(0xFFFFFFEFu, 0xFFFFFFF0u, 0x10));
    EXPECT_FALSE(seq_between(5, 5, 5)); // empty window

    EXPECT_TRUE(seq_in_window(0, 0xFFFFFFFFu, 2));
    EXPECT_FALSE(seq_in_window(1, 0xFFFFFFFFu, 2));
    EXPECT_FALSE(seq_in_window(0xFFFFFFFEu, 0xFFFFFFFFu, 2));
    EXPECT_FALSE(seq_in_window(7, 7, 0));
    // A window wider than 2^31, where seq_lt alone would mislead.
    EXPECT_TRUE(seq_in_window(0xC0000000u, 0, 0xF0000000u));
}

TEST(TcpSeq, SegmentAcceptabilityFourCases)
{
    const tcp_seq nxt = 0xFFFFFFFEu; // RCV.NXT two short of the wrap
    // Zero length, zero window: only RCV.NXT.
    EXPECT_TRUE(segment_acceptable(nxt, 0, nxt, 0));
    EXPECT_FALSE(segment_acceptable(nxt + 1, 0, nxt, 0));
    // Zero length, open window: RCV.NXT =< SEG.SEQ < RCV.NXT + RCV.WND.
    EXPECT_TRUE(segment_acceptable(1, 0, nxt, 4));
    EXPECT_FALSE(segment_acceptable(2, 0, nxt, 4));
    EXPECT_FALSE(segment_acceptable(nxt - 1, 0, nxt, 4));
    // Data into a zero window: never.
    EXPECT_FALSE(segment_acceptable(nxt, 10, nxt, 0));
    // Data, open window: the first or the last byte inside, or the window inside the segment.
    EXPECT_TRUE(segment_acceptable(nxt - 2, 4, nxt, 4));   // last byte, across the wrap, inside
    EXPECT_TRUE(segment_acceptable(nxt - 2, 3, nxt, 4));   // last byte is RCV.NXT
    EXPECT_TRUE(segment_acceptable(nxt - 5, 10, nxt, 4));  // spans the whole window
    EXPECT_FALSE(segment_acceptable(nxt - 5, 5, nxt, 4));  // ends just before RCV.NXT: a duplicate
    EXPECT_TRUE(segment_acceptable(1, 100, nxt, 4));       // starts on the window's last byte
    EXPECT_FALSE(segment_acceptable(2, 100, nxt, 4));      // starts past it
}

TEST(TcpSeq, AckOfNewData)
{
    // SND.UNA < SEG.ACK =< SND.NXT with SND.UNA = 0xFFFFFFFC, SND.NXT = 4.
    EXPECT_FALSE(ack_acks_new_data(0xFFFFFFFCu, 0xFFFFFFFCu, 4));
    EXPECT_TRUE(ack_acks_new_data(0xFFFFFFFDu, 0xFFFFFFFCu, 4));
    EXPECT_TRUE(ack_acks_new_data(0, 0xFFFFFFFCu, 4));
    EXPECT_TRUE(ack_acks_new_data(4, 0xFFFFFFFCu, 4));
    EXPECT_FALSE(ack_acks_new_data(5, 0xFFFFFFFCu, 4));
}
