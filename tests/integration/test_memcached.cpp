// The memcached-like server and its load generator, end to end on the Linux-like path and on
// Arrakis/P: every response is checked by the client (its opaque, opcode, status, and a GET's value
// is the key's), all keys are stored before the mix, and the server's counters agree with the
// client's. With two servers on Linux, each one's traffic reaches its own core's queue.
#include <filesystem>

#include <gtest/gtest.h>

#include "sim/experiment.h"
#include "sim/params.h"
#include "sim/tenant_testbed.h"

using namespace iovsim;
namespace fs = std::filesystem;

namespace {

cfg::config small_config(unsigned servers)
{
    const fs::path src = sim::source_dir();
    return sim::load_run_config((src / "configs/experiments/udp_echo_breakdown.yaml").string(),
                                {"experiment.pcap=false", "workload.memcached.servers=" + std::to_string(servers),
                                 "workload.memcached.warmup_us=100", "workload.memcached.measure_us=600"},
                                std::nullopt);
}

void check_tenant(sim::tenant_testbed& tb, unsigned i)
{
    const auto& load = tb.client(i);
    const auto& st = load.stats();
    EXPECT_TRUE(load.finished());
    EXPECT_EQ(st.bad, 0u) << "server " << i;
    // Requests sent before the server was up are lost (given up after the timeout); no others.
    EXPECT_LE(st.lost, 4u) << "server " << i;
    EXPECT_LE(st.received + st.lost, st.sent);
    EXPECT_EQ(st.misses, 0u) << "every key was stored first";
    EXPECT_GT(st.hits, 0u);
    EXPECT_GT(st.window_transactions, 50u);
    // The server answered what the client counted (plus what is still in flight at the end).
    const auto& srv = tb.server_app(i)->stats();
    EXPECT_GE(srv.requests, st.received);
    EXPECT_LE(srv.requests, st.sent);
    EXPECT_EQ(srv.malformed, 0u);
    EXPECT_EQ(srv.gets + srv.sets, srv.requests);
    EXPECT_EQ(tb.server_app(i)->table().size(), 128u);
    // 90% GETs, give or take the sampling: over ~hundreds of requests, within 10 points.
    const double gets = static_cast<double>(st.gets) / static_cast<double>(st.gets + st.sets - 128 - st.lost);
    EXPECT_NEAR(gets, 0.9, 0.1);
}

sim::tenant_setup setup_of(sim::server_path path, unsigned servers)
{
    sim::tenant_setup s;
    s.path = path;
    s.servers = servers;
    s.outstanding = 4;
    return s;
}

// A run of `servers` tenants on `path`, every tenant checked.
struct memcached_run {
    cfg::config c;
    sim::tenant_testbed tb;
    memcached_run(sim::server_path path, unsigned servers) : c(small_config(servers)), tb(c, setup_of(path, servers))
    {
        EXPECT_TRUE(tb.run());
        for (unsigned i = 0; i < servers; ++i)
            check_tenant(tb, i);
    }
};

} // namespace

TEST(memcached, linux_one_server) { memcached_run r(sim::server_path::linux_kernel, 1); }

TEST(memcached, arrakis_p_one_server) { memcached_run r(sim::server_path::arrakis_p, 1); }

TEST(memcached, linux_two_servers_each_on_its_core)
{
    memcached_run r(sim::server_path::linux_kernel, 2);
    // Each server's queue interrupts its own core.
    EXPECT_GT(r.tb.server_host().cpu(0).interrupts_taken(), 0u);
    EXPECT_GT(r.tb.server_host().cpu(1).interrupts_taken(), 0u);
    EXPECT_GT(r.tb.server_host().nic->queue_rx_packets(1), r.tb.client(1).stats().received);
}

TEST(memcached, arrakis_p_two_servers_each_with_its_vnic)
{
    memcached_run r(sim::server_path::arrakis_p, 2);
    EXPECT_GT(r.tb.tenant_dataplane(0)->stats().rx_packets, r.tb.client(0).stats().received);
    EXPECT_GT(r.tb.tenant_dataplane(1)->stats().rx_packets, r.tb.client(1).stats().received);
}
