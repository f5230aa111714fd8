// Sweep expansion and seed derivation: lists and ranges, product and zip, point identities and
// seeds that do not move when points are added, and errors that name the file, line and key.
#include "sim/sweep.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "sim/experiment.h"
#include "sim/params.h"

namespace {

namespace fs = std::filesystem;
using iovsim::cfg::config;
using iovsim::cfg::config_error;
using namespace iovsim::sim;
using strings = std::vector<std::string>;

class sweep_test : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_dir = fs::temp_directory_path() /
                ("iovsim_sweep_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(m_dir);
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }

    // An experiment of two columns, then `sweep` (YAML lines under experiment.sweep).
    config load(const std::string& sweep, const std::string& name = "exp.yaml")
    {
        const fs::path p = m_dir / name;
        std::ofstream(p) << "experiment:\n  kind: udp_echo_breakdown\n  columns: [lin, nat]\n  seed: 7\n  sweep:\n" << sweep
                         << "columns:\n  lin:\n    path: linux\n  nat:\n    path: arrakis_n\n";
        config c(parameters());
        c.load_file(p.string());
        return c;
    }

    config_error expand_error(const std::string& sweep)
    {
        try {
            expand_sweep(load(sweep));
        } catch (const config_error& e) {
            return e;
        }
        ADD_FAILURE() << "no error for:\n" << sweep;
        return config_error("", 0, "", "");
    }

    fs::path m_dir;
};

TEST(sweep_values, lists_and_ranges)
{
    EXPECT_EQ(sweep_values("[0, 1, 2.5, x]"), (strings{"0", "1", "2.5", "x"}));
    EXPECT_EQ(sweep_values("3"), strings{"3"});
    EXPECT_EQ(sweep_values("{from: 0, to: 1, step: 0.1}"),
              (strings{"0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1"}));
    EXPECT_EQ(sweep_values("{from: 1, to: 64, factor: 2}"), (strings{"1", "2", "4", "8", "16", "32", "64"}));
    EXPECT_EQ(sweep_values("{from: 1, to: 100, factor: 10}"), (strings{"1", "10", "100"}));
    EXPECT_EQ(sweep_values("{from: 5, to: 5, step: 1}"), strings{"5"});
    EXPECT_EQ(sweep_values("{from: 0, to: 9, step: 4}"), (strings{"0", "4", "8"}));
    for (const char* bad : {"[]", "[[1, 2]]", "{from: 2, to: 1, step: 1}", "{from: 0, to: 1, step: 0}",
                            "{from: 0, to: 4, step: 1, factor: 2}", "{from: 0, to: 4}", "{from: 1, to: 4, factor: 1}",
                            "{from: 0, to: 4, factor: 2}", "{from: a, to: 4, step: 1}", "{to: 4, step: 1}",
                            "{from: 0, to: 1, by: 1}", "{from: 0, to: 1e9, step: 1}"})
        EXPECT_THROW(sweep_values(bad), std::invalid_argument) << bad;
}

TEST_F(sweep_test, no_sweep_is_one_point_per_column_with_the_root_seed)
{
    const auto points = expand_sweep(load(""));
    ASSERT_EQ(points.size(), 2u);
    EXPECT_EQ(points[0].id, "lin");
    EXPECT_EQ(points[1].id, "nat");
    EXPECT_TRUE(points[0].values.empty());
    EXPECT_EQ(points[0].seed, 7u);
    EXPECT_EQ(points[1].seed, 7u);
}

TEST_F(sweep_test, product_is_every_combination_columns_outermost)
{
    const auto points = expand_sweep(load("    params:\n      workload.echo.payload_bytes: [64, 1024]\n"
                                          "      columns.lin.outstanding: {from: 1, to: 4, factor: 2}\n"));
    ASSERT_EQ(points.size(), 2u * 2u * 3u);
    EXPECT_EQ(points[0].id, "lin,payload_bytes=64,outstanding=1");
    EXPECT_EQ(points[1].id, "lin,payload_bytes=64,outstanding=2");
    EXPECT_EQ(points[3].id, "lin,payload_bytes=1024,outstanding=1");
    EXPECT_EQ(points[6].id, "nat,payload_bytes=64,outstanding=1");
    EXPECT_EQ(points[11].values, (std::vector<std::pair<std::string, std::string>>{
                                     {"workload.echo.payload_bytes", "1024"}, {"columns.lin.outstanding", "4"}}));
    std::set<std::string> ids;
    std::set<uint64_t> seeds;
    for (const auto& p : points) {
        ids.insert(p.id);
        seeds.insert(p.seed);
        EXPECT_LE(p.seed, static_cast<uint64_t>(INT64_MAX));
    }
    EXPECT_EQ(ids.size(), points.size());
    EXPECT_EQ(seeds.size(), points.size());
}

TEST_F(sweep_test, zip_takes_values_together_and_needs_equal_lengths)
{
    const auto points = expand_sweep(load("    mode: zip\n    params:\n      workload.echo.payload_bytes: [64, 128, 256]\n"
                                          "      os.linux.itr_us: {from: 0, to: 10, step: 5}\n"));
    ASSERT_EQ(points.size(), 6u);
    EXPECT_EQ(points[1].id, "lin,payload_bytes=128,itr_us=5");
    const config_error e = expand_error("    mode: zip\n    params:\n      workload.echo.payload_bytes: [64, 128]\n"
                                        "      os.linux.itr_us: [1]\n");
    EXPECT_EQ(e.key(), "experiment.sweep.mode");
    EXPECT_EQ(e.line(), 6);
    EXPECT_NE(e.reason().find("one length"), std::string::npos) << e.what();
}

// A point's seed depends on the root seed and its own identity only: more values, another order of
// the swept parameters, or more columns leave it alone.
TEST_F(sweep_test, seeds_follow_the_point_not_the_sweep)
{
    auto seed_of = [](const std::vector<sweep_point>& pts, const std::string& id) {
        for (const auto& p : pts)
            if (p.id == id)
                return p.seed;
        ADD_FAILURE() << "no point " << id;
        return uint64_t{0};
    };
    const auto small = expand_sweep(load("    params:\n      workload.echo.payload_bytes: [64, 1024]\n"
                                         "      os.linux.itr_us: [0]\n", "a.yaml"));
    const auto big = expand_sweep(load("    params:\n      os.linux.itr_us: [0, 2]\n"
                                       "      workload.echo.payload_bytes: [32, 64, 512, 1024]\n", "b.yaml"));
    EXPECT_EQ(seed_of(small, "lin,payload_bytes=64,itr_us=0"), seed_of(big, "lin,itr_us=0,payload_bytes=64"));
    EXPECT_EQ(seed_of(small, "nat,payload_bytes=1024,itr_us=0"), seed_of(big, "nat,itr_us=0,payload_bytes=1024"));
    EXPECT_NE(seed_of(small, "lin,payload_bytes=64,itr_us=0"), seed_of(small, "nat,payload_bytes=64,itr_us=0"));
    // Another root seed moves every point.
    config other = load("    params:\n      workload.echo.payload_bytes: [64, 1024]\n      os.linux.itr_us: [0]\n", "c.yaml");
    other.apply_override("experiment.seed=8");
    EXPECT_NE(seed_of(expand_sweep(other), "lin,payload_bytes=64,itr_us=0"), seed_of(small, "lin,payload_bytes=64,itr_us=0"));
    // Values are canonical: 1.0 and 1 are the same point of a real parameter.
    const auto a = expand_sweep(load("    params:\n      os.linux.itr_us: [1.0]\n", "d.yaml"));
    const auto b = expand_sweep(load("    params:\n      os.linux.itr_us: [1]\n", "e.yaml"));
    EXPECT_EQ(a[0].id, "lin,itr_us=1");
    EXPECT_EQ(a[0].seed, b[0].seed);
}

TEST_F(sweep_test, errors_name_file_line_key_and_value)
{
    config_error e = expand_error("    params:\n      workload.echo.payload_bytes: [64, 9000]\n");
    EXPECT_EQ(e.line(), 7);
    EXPECT_EQ(e.key(), "experiment.sweep.params.workload.echo.payload_bytes");
    EXPECT_NE(e.reason().find("9000"), std::string::npos) << e.what();
    EXPECT_NE(e.reason().find("outside"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("exp.yaml:7"), std::string::npos) << e.what();

    e = expand_error("    params:\n      workload.echo.payload_byte: [64]\n");
    EXPECT_EQ(e.line(), 7);
    EXPECT_NE(e.reason().find("not a parameter"), std::string::npos) << e.what();
    e = expand_error("    params:\n      os.linux.dca: [true, maybe]\n");
    EXPECT_NE(e.reason().find("maybe"), std::string::npos) << e.what();
    e = expand_error("    params:\n      experiment.seed: [1, 2]\n");
    EXPECT_NE(e.reason().find("cannot be swept"), std::string::npos) << e.what();
    e = expand_error("    params:\n      columns.lin.set: [a]\n");
    EXPECT_NE(e.reason().find("overrides"), std::string::npos) << e.what();
    e = expand_error("    params:\n      columns.other.outstanding: [1]\n");
    EXPECT_NE(e.reason().find("experiment.columns"), std::string::npos) << e.what();
    e = expand_error("    params:\n      workload.echo.payload_bytes: {from: 64, to: 32, step: 1}\n");
    EXPECT_NE(e.reason().find("below"), std::string::npos) << e.what();
}

TEST_F(sweep_test, point_config_applies_the_values_to_one_column)
{
    const config c = load("    params:\n      workload.echo.payload_bytes: [64, 1024]\n");
    const auto points = expand_sweep(c);
    const config p = point_config(c, points[1]);
    EXPECT_EQ(p.get_int("workload.echo.payload_bytes"), 1024);
    EXPECT_EQ(p.get_string_list("experiment.columns"), strings{"lin"});
    EXPECT_TRUE(p.get_map("experiment.sweep.params").empty());
    EXPECT_EQ(static_cast<uint64_t>(p.get_int("experiment.seed")), points[1].seed);
    // The identity of a point leaves out the other columns: adding a column keeps cached results.
    const std::string id = point_identity(p, "lin");
    EXPECT_EQ(id.find("arrakis_n"), std::string::npos);
    EXPECT_NE(id.find("\"linux\""), std::string::npos);
    EXPECT_NE(id, point_identity(point_config(c, points[0]), "lin"));
    // Reloading the point's effective config gives the same identity (a point reproduces alone).
    std::ofstream(m_dir / "point.yaml") << p.to_yaml();
    config again(parameters());
    again.load_file((m_dir / "point.yaml").string());
    EXPECT_EQ(point_identity(again, "lin"), id);
}

} // namespace
