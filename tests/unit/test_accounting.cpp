// A request that turns out to serve no one (a pure TCP ACK) folds into the core's carry: its work
// goes to the next request opened, nothing is lost or counted twice.
#include <gtest/gtest.h>

#include "os/core/accounting.h"

using namespace iovsim::os;

TEST(accounting, folded_request_moves_its_work_to_the_next_request)
{
    accounting a;
    accounting::row carry{};
    carry[static_cast<unsigned>(category::net_stack_in)] = 5;   // e.g. the poll that found the frame
    const request_id ack = a.open(carry);
    a.charge(ack, category::net_stack_in, 100);
    a.charge(ack, category::net_stack_out, 30);
    a.fold(ack, carry);
    EXPECT_EQ(a.folded(), 1u);
    EXPECT_EQ(a.of(ack)[static_cast<unsigned>(category::net_stack_in)], 0.0);
    EXPECT_EQ(carry[static_cast<unsigned>(category::net_stack_in)], 105.0);
    EXPECT_EQ(carry[static_cast<unsigned>(category::net_stack_out)], 30.0);
    EXPECT_EQ(a.totals()[static_cast<unsigned>(category::net_stack_in)], 0.0);
    const request_id next = a.open(carry);
    a.charge(next, category::net_stack_in, 50);
    EXPECT_EQ(a.of(next)[static_cast<unsigned>(category::net_stack_in)], 155.0);
    EXPECT_EQ(a.of(next)[static_cast<unsigned>(category::net_stack_out)], 30.0);
    a.fold(no_request, carry);   // nothing to fold
    EXPECT_EQ(a.folded(), 1u);
}

TEST(accounting, merged_request_joins_the_other)
{
    accounting a;
    accounting::row carry{};
    const request_id first = a.open(carry);
    const request_id second = a.open(carry);
    a.charge(first, category::net_stack_in, 70);
    a.charge(second, category::net_stack_in, 30);
    a.merge(first, second);
    EXPECT_EQ(a.of(first)[static_cast<unsigned>(category::net_stack_in)], 0.0);
    EXPECT_EQ(a.of(second)[static_cast<unsigned>(category::net_stack_in)], 100.0);
    EXPECT_EQ(a.totals()[static_cast<unsigned>(category::net_stack_in)], 100.0);
    EXPECT_EQ(a.folded(), 1u);
    a.merge(second, second);   // nothing
    EXPECT_EQ(a.folded(), 1u);
}
