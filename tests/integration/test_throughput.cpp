// The UDP echo throughput experiment, small: four series at two processing times. The figures are
// checked against bounds the mechanisms set (the line rate, the processing time itself, the order
// of the paths' costs), never against a curve; and the counters behind each point are reported.
#include <gtest/gtest.h>

#include "tests/support/test_files.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/experiment.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using iovsim::testing::read_file;

class throughput : public iovsim::testing::binary_test {
protected:
    throughput() : binary_test("iovsim_thr") {}

    static std::string experiment_file()
    {
        return (fs::path(iovsim::sim::source_dir()) / "configs" / "experiments" / "udp_echo_throughput.yaml").string();
    }
    static std::string small()
    {
        return "--set experiment.throughput.warmup_us=500 --set experiment.throughput.window_us=2000 "
               "--set 'experiment.sweep.params={workload.echo.processing_us: [0, 8]}'";
    }
};

// 1 KB payloads: 1066-byte frames, 1090 bytes on the wire with FCS, preamble and gap.
constexpr double line_rate_ktps = 10e9 / 8 / 1090 / 1000;

} // namespace

TEST_F(throughput, four_series_against_processing_time)
{
    const auto r = iovsim("run " + experiment_file() + " --out out -j 2 " + small());
    ASSERT_EQ(r.code, 0) << r.err;
    const json s = json::parse(read_file(m_dir / "out" / "summary.json"));
    EXPECT_EQ(s.at("experiment"), "udp_echo_throughput");
    EXPECT_EQ(s.at("x"), "processing_us");
    EXPECT_EQ(s.at("y"), "ktps");
    const std::vector<std::string> series = {"linux", "arrakis_p", "arrakis_n", "driver"};
    ASSERT_EQ(s.at("series").size(), series.size());
    std::map<std::string, std::vector<double>> y;
    for (const auto& name : series) {
        SCOPED_TRACE(name);
        const json& pts = s.at("series").at(name);
        ASSERT_EQ(pts.size(), 2u);
        EXPECT_EQ(pts[0].at("x"), 0.0);
        EXPECT_EQ(pts[1].at("x"), 8.0);
        for (const json& p : pts) {
            y[name].push_back(p.at("y").get<double>());
            EXPECT_GE(p.at("sigma").get<double>(), 0.0);
        }
        // Nothing goes faster than the wire; 8 us of work per request allow at most 125 ktps.
        EXPECT_LE(y[name][0], line_rate_ktps + 0.5);
        EXPECT_LT(y[name][1], 125.0);
        EXPECT_GT(y[name][1], 1000.0 / (8 + 5));   // every path's own cost is below 5 us a request
        EXPECT_GT(y[name][0], y[name][1]);
        const json& k = s.at("counters").at(name);
        ASSERT_EQ(k.size(), 2u);
        // At 8 us per request the server's core is the limit, and it is busy the whole window.
        EXPECT_GT(k[1].at("server_core_util").get<double>(), 0.95);
        EXPECT_LE(k[1].at("server_core_util").get<double>(), 1.05);
        for (const json& p : k) {
            EXPECT_EQ(p.at("nic_drops"), 0);
            EXPECT_EQ(p.at("switch_drops"), 0);
            EXPECT_EQ(p.at("dataplane_drops"), 0);
            // Every reply the client counted was served in the window (closed loop: within 64).
            EXPECT_NEAR(p.at("server_ktps").get<double>(), p.at("ktps").get<double>(), 64 / 2.0);
            EXPECT_LT(p.at("pcie_up_util").get<double>(), 1.0);
        }
    }
    // Fewer layers, less work: the driver echo at least as fast as Arrakis/N, then /P, then Linux.
    // Where both fill the link (no processing) they differ only by where the window's edges fall
    // (within a tenth of a percent).
    for (size_t i = 0; i < 2; ++i) {
        EXPECT_GE(y["driver"][i], y["arrakis_n"][i] * (i == 0 ? 0.999 : 1.0) - 0.01) << i;
        EXPECT_GT(y["arrakis_n"][i], y["arrakis_p"][i]) << i;
        EXPECT_GT(y["arrakis_p"][i], y["linux"][i]) << i;
    }
    // Without processing, Arrakis/N and the driver echo fill the link; the server's core is not busy.
    for (const char* name : {"arrakis_n", "driver"}) {
        const json& k = s.at("counters").at(name)[0];
        EXPECT_GT(k.at("server_link_tx_util").get<double>(), 0.95) << name;
        EXPECT_LT(k.at("server_core_util").get<double>(), 0.9) << name;
        EXPECT_GT(y[name][0], 0.99 * line_rate_ktps) << name;
    }

    // series.csv and table.md carry the same points; the table says what limits each.
    const std::string csv = read_file(m_dir / "out" / "series.csv");
    EXPECT_EQ(csv.substr(0, csv.find('\n')), "series,processing_us,ktps,sigma");
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 9);
    const std::string table = read_file(m_dir / "out" / "table.md");
    EXPECT_NE(table.find("| link "), std::string::npos) << table;
    EXPECT_NE(table.find("| server core "), std::string::npos) << table;
    const std::string points = read_file(m_dir / "out" / "points.csv");
    EXPECT_NE(points.find("\"driver,processing_us=8\",driver,8,"), std::string::npos) << points;
}
