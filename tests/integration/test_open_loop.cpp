// The load generator in open loop: requests leave at a Poisson rate whatever is in flight, so the
// run lasts about (requests / rate), and a rate the server cannot follow builds a queue that the
// end-to-end latency shows.
#include <filesystem>

#include <gtest/gtest.h>

#include "sim/experiment.h"
#include "sim/params.h"
#include "sim/testbed.h"

using namespace iovsim;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t warmup = 50, requests = 400;

struct run_result {
    double simulated_us;
    double mean_latency_us;
    uint64_t sent;
};

run_result run_open_loop(const std::string& column, double rate_kpps)
{
    const fs::path src = sim::source_dir();
    const cfg::config c = sim::load_run_config(
        (src / "configs/experiments/udp_echo_breakdown.yaml").string(),
        {"experiment.pcap=false", "experiment.warmup=" + std::to_string(warmup),
         "experiment.requests=" + std::to_string(requests), "experiment.tail=0"},
        std::nullopt);
    sim::column_setup setup;
    setup.column = column;
    setup.path = sim::parse_path(c.get_string("columns." + column + ".path"));
    setup.outstanding = 1;
    setup.rate_kpps = rate_kpps;
    setup.seed = sim::derive_seed(1, "client/" + column);
    sim::testbed tb(c, setup);
    EXPECT_TRUE(tb.run());
    double sum = 0;
    for (double v : tb.client().latencies_ns())
        sum += v;
    EXPECT_EQ(tb.client().latencies_ns().size(), requests);
    return {tb.simulated_us(), sum / 1000.0 / static_cast<double>(requests), tb.client().sent()};
}

} // namespace

TEST(open_loop, run_lasts_requests_over_rate)
{
    // 100 kpps: a request every 10 us on average, far below what Arrakis/N serves.
    const run_result r = run_open_loop("arrakis_n", 100);
    const double expected_us = static_cast<double>(warmup + requests) / 100.0 * 1000.0;
    // A sum of 450 exponential gaps has a relative sigma of 1/sqrt(450) = 4.7%: 20% is over 4 sigma.
    EXPECT_NEAR(r.simulated_us, expected_us, 0.2 * expected_us);
    // Unloaded: about the closed-loop round trip (10.8 us), no queueing.
    EXPECT_LT(r.mean_latency_us, 15.0);
    EXPECT_EQ(r.sent, warmup + requests);
}

TEST(open_loop, overload_queues_and_latency_grows)
{
    // The Linux-like path serves about 1 / 6.2 us = 160 k requests/s with the core idling between
    // them; offered 400 kpps, requests queue in the socket and the NIC, and latency climbs far
    // above an unloaded round trip.
    const run_result r = run_open_loop("linux_idle", 400);
    EXPECT_GT(r.mean_latency_us, 50.0);
}
