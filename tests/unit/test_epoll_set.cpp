// epoll's interest and ready lists (os/net/epoll_set.h): registration errors, wakeups queue only
// what is of interest, level-triggered re-reporting, not-ready entries leaving the list, the
// `max` bound keeping the rest queued in order, EPOLLERR/EPOLLHUP always reported.
#include <map>

#include <gtest/gtest.h>

#include "os/net/epoll_set.h"

using namespace iovsim::os::net;

namespace {

struct files {
    std::map<int, uint32_t> ready;
    epoll_set::poll_fn poll() { return [this](int fd) { return ready[fd]; }; }
};

} // namespace

TEST(epoll_set, registration_errors_as_epoll_ctl)
{
    epoll_set ep;
    EXPECT_EQ(ep.ctl(epoll_op::add, 3, ep::in, 33, 0), 0);
    EXPECT_EQ(ep.ctl(epoll_op::add, 3, ep::in, 33, 0), -EEXIST);
    EXPECT_EQ(ep.ctl(epoll_op::mod, 4, ep::in, 44, 0), -ENOENT);
    EXPECT_EQ(ep.ctl(epoll_op::del, 4, 0, 0, 0), -ENOENT);
    EXPECT_EQ(ep.ctl(epoll_op::del, 3, 0, 0, 0), 0);
    EXPECT_FALSE(ep.registered(3));
    EXPECT_EQ(ep.size(), 0u);
}

TEST(epoll_set, wakeup_queues_only_conditions_of_interest_once)
{
    epoll_set ep;
    ep.ctl(epoll_op::add, 5, ep::in, 55, 0);
    EXPECT_FALSE(ep.has_queued());
    EXPECT_FALSE(ep.wakeup(5, ep::out));         // writable: not asked for
    EXPECT_FALSE(ep.wakeup(6, ep::in));          // not registered
    EXPECT_TRUE(ep.wakeup(5, ep::in | ep::out));
    EXPECT_FALSE(ep.wakeup(5, ep::in));          // already queued
    EXPECT_EQ(ep.queued_count(), 1u);
}

TEST(epoll_set, add_of_a_ready_descriptor_queues_it_at_once)
{
    epoll_set ep;
    ep.ctl(epoll_op::add, 3, ep::in, 1, ep::in);
    EXPECT_TRUE(ep.queued(3));
    ep.ctl(epoll_op::add, 4, ep::in, 2, ep::out);
    EXPECT_FALSE(ep.queued(4));
    ep.ctl(epoll_op::mod, 4, ep::in | ep::out, 2, ep::out);   // now of interest
    EXPECT_TRUE(ep.queued(4));
}

TEST(epoll_set, level_triggered_reports_again_until_not_ready)
{
    files f;
    epoll_set ep;
    ep.ctl(epoll_op::add, 3, ep::in, 30, 0);
    f.ready[3] = ep::in | ep::out;
    ep.wakeup(3, f.ready[3]);
    epoll_event ev[4];
    unsigned polled = 0;
    ASSERT_EQ(ep.harvest(ev, 4, f.poll(), polled), 1);
    EXPECT_EQ(ev[0].events, ep::in);   // only what was asked for
    EXPECT_EQ(ev[0].data, 30u);
    EXPECT_EQ(polled, 1u);
    // Still readable, no new wakeup: reported again.
    ASSERT_EQ(ep.harvest(ev, 4, f.poll(), polled), 1);
    EXPECT_TRUE(ep.queued(3));
    // Drained: the next scan polls it once, reports nothing and drops it.
    f.ready[3] = ep::out;
    EXPECT_EQ(ep.harvest(ev, 4, f.poll(), polled), 0);
    EXPECT_EQ(polled, 1u);
    EXPECT_FALSE(ep.has_queued());
    EXPECT_EQ(ep.harvest(ev, 4, f.poll(), polled), 0);
    EXPECT_EQ(polled, 0u);
}

TEST(epoll_set, max_bounds_the_report_and_keeps_the_rest_ahead)
{
    files f;
    epoll_set ep;
    for (int fd = 10; fd < 14; ++fd) {
        ep.ctl(epoll_op::add, fd, ep::in, static_cast<uint64_t>(fd), 0);
        f.ready[fd] = ep::in;
        ep.wakeup(fd, ep::in);
    }
    epoll_event ev[2];
    unsigned polled = 0;
    ASSERT_EQ(ep.harvest(ev, 2, f.poll(), polled), 2);
    EXPECT_EQ(ev[0].data, 10u);
    EXPECT_EQ(ev[1].data, 11u);
    // 12 and 13 were not looked at: they come first now, the reported ones after them.
    ASSERT_EQ(ep.harvest(ev, 2, f.poll(), polled), 2);
    EXPECT_EQ(ev[0].data, 12u);
    EXPECT_EQ(ev[1].data, 13u);
    ASSERT_EQ(ep.harvest(ev, 2, f.poll(), polled), 2);
    EXPECT_EQ(ev[0].data, 10u);
}

TEST(epoll_set, error_and_hangup_are_reported_unasked)
{
    files f;
    epoll_set ep;
    ep.ctl(epoll_op::add, 3, ep::out, 3, 0);
    f.ready[3] = ep::err | ep::hup | ep::in;
    EXPECT_TRUE(ep.wakeup(3, f.ready[3]));
    epoll_event ev[1];
    unsigned polled = 0;
    ASSERT_EQ(ep.harvest(ev, 1, f.poll(), polled), 1);
    EXPECT_EQ(ev[0].events, ep::err | ep::hup);
}

TEST(epoll_set, removal_takes_a_queued_descriptor_off_the_list)
{
    files f;
    epoll_set ep;
    ep.ctl(epoll_op::add, 3, ep::in, 3, 0);
    ep.ctl(epoll_op::add, 4, ep::in, 4, 0);
    f.ready[3] = f.ready[4] = ep::in;
    ep.wakeup(3, ep::in);
    ep.wakeup(4, ep::in);
    ep.remove(3);
    epoll_event ev[4];
    unsigned polled = 0;
    ASSERT_EQ(ep.harvest(ev, 4, f.poll(), polled), 1);
    EXPECT_EQ(ev[0].data, 4u);
    EXPECT_EQ(polled, 1u);
}
