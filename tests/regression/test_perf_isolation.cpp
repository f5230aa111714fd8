// The performance-isolation experiment: five memcached tenants, server 0 limited to 100 Mb/s. On
// both paths the limited server's send rate is the limit (what each limiter counts: Linux's HTB
// counts frames without FCS, as skb->len; the NIC's rate specifier counts bits on the wire), and
// every other server keeps at least the throughput it had without the limit (within 3%).
#include <filesystem>

#include <unistd.h>

#include <gtest/gtest.h>

#include "sim/experiment.h"

namespace fs = std::filesystem;
using namespace iovsim;

TEST(perf_isolation, limit_holds_and_others_keep_their_throughput)
{
    const fs::path src = sim::source_dir();
    const cfg::config c = sim::load_run_config((src / "configs/experiments/perf_isolation.yaml").string(),
                                               {"workload.memcached.measure_us=10000"}, std::nullopt);
    sim::run_options opt;
    opt.out_dir = (fs::path(::testing::TempDir()) / ("iovsim_perf_isolation_" + std::to_string(::getpid()))).string();
    opt.jobs = 2;
    const nlohmann::json summary = sim::run_experiment(c, opt);
    const auto& series = summary.at("series");
    const auto& cols = summary.at("columns");
    ASSERT_EQ(series.size(), 4u);
    for (const char* path : {"linux", "arrakis_p"}) {
        const std::string nolimit = std::string(path) + "_nolimit", limit = std::string(path) + "_limit";
        ASSERT_EQ(series.at(nolimit).size(), 5u);
        ASSERT_EQ(series.at(limit).size(), 5u);
        const auto& limited = cols.at(limit).at("servers").at(0);
        const double counted = std::string(path) == "linux" ? limited.at("l2_mbps").get<double>() : limited.at("wire_mbps").get<double>();
        EXPECT_NEAR(counted, 100.0, 3.0) << limit;
        // Unlimited, the same server sends far more.
        EXPECT_GT(cols.at(nolimit).at("servers").at(0).at("l2_mbps").get<double>(), 1000.0) << nolimit;
        for (unsigned i = 1; i < 5; ++i) {
            const double before = series.at(nolimit).at(i).at("y").get<double>();
            const double after = series.at(limit).at(i).at("y").get<double>();
            EXPECT_GE(after, 0.97 * before) << limit << " server " << i;
            EXPECT_EQ(cols.at(limit).at("servers").at(i).at("bad").get<uint64_t>(), 0u);
        }
    }
    fs::remove_all(opt.out_dir);
}
