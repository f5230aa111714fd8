// `iovsim plot DIR` on real runs: a throughput curve with a reference curve, and the breakdown's
// stacked bars beside the paper's. Checks that PNG and SVG files are written and hold what they
// should. Skipped only when gnuplot is not installed (scripts/install-deps.sh installs it).
#include <gtest/gtest.h>

#include "tests/support/test_files.h"

#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "sim/experiment.h"

namespace fs = std::filesystem;

namespace {

using iovsim::testing::read_file;

class plot : public iovsim::testing::binary_test {
protected:
    plot() : binary_test("iovsim_plot") {}

    void SetUp() override
    {
        binary_test::SetUp();
        if (std::system("command -v gnuplot >/dev/null 2>&1") != 0)
            GTEST_SKIP() << "gnuplot is not installed";
    }

    static std::string experiment(const std::string& name)
    {
        return (fs::path(iovsim::sim::source_dir()) / "configs" / "experiments" / (name + ".yaml")).string();
    }

    // A PNG of gnuplot's canvas: the signature, then IHDR with the size the script asks for.
    static void expect_png(const std::string& png)
    {
        ASSERT_GT(png.size(), 1000u);
        EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
        EXPECT_EQ(png.substr(12, 4), "IHDR");
        auto be32 = [&png](size_t o) {
            return uint32_t(uint8_t(png[o])) << 24 | uint32_t(uint8_t(png[o + 1])) << 16 | uint32_t(uint8_t(png[o + 2])) << 8 |
                   uint8_t(png[o + 3]);
        };
        EXPECT_EQ(be32(16), 1000u);
        EXPECT_EQ(be32(20), 640u);
    }
};

} // namespace

TEST_F(plot, throughput_curves_with_a_reference_curve)
{
    // A reference curve for one series (absolute path: experiment.reference is relative to the
    // source tree otherwise).
    std::ofstream(m_dir / "ref.json") << R"({"source": "a made-up curve for this test",
        "series": {"arrakis_n": [{"x": 0, "y": 900}, {"x": 8, "y": 100}]}})";
    const auto run = iovsim("run " + experiment("udp_echo_throughput") + " --out out --quiet -j 2 "
                            "--set experiment.throughput.warmup_us=300 --set experiment.throughput.window_us=500 "
                            "--set 'experiment.columns=[arrakis_n, linux]' --set experiment.reference=" + (m_dir / "ref.json").string() +
                            " --set 'experiment.sweep.params={workload.echo.processing_us: [0, 8]}'");
    ASSERT_EQ(run.code, 0) << run.err;
    const auto r = iovsim("plot out");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("out/plot.png"), std::string::npos) << r.out;
    expect_png(read_file(m_dir / "out" / "plot.png"));
    const std::string svg = read_file(m_dir / "out" / "plot.svg");
    EXPECT_NE(svg.find("<svg"), std::string::npos);
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
    for (const char* text : {"arrakis_n", "arrakis_n (reference)", "linux", "processing_us", "ktps", "a made-up curve"})
        EXPECT_NE(svg.find(text), std::string::npos) << text;
    // Three curves of two points: ours for both series, and the reference's.
    const std::string dat = read_file(m_dir / "out" / "plot.dat");
    EXPECT_NE(dat.find("# arrakis_n (reference)\n0 900\n8 100\n"), std::string::npos) << dat;
    EXPECT_EQ(std::count(dat.begin(), dat.end(), '#'), 3);
}

TEST_F(plot, breakdown_bars_beside_the_papers)
{
    const auto run = iovsim("run " + experiment("udp_echo_breakdown") + " --out out --quiet -j 2 "
                            "--set experiment.requests=50 --set experiment.warmup=10 --set experiment.pcap=false "
                            "--set 'experiment.columns=[linux_running, arrakis_n]'");
    ASSERT_EQ(run.code, 0) << run.err;
    const auto r = iovsim("plot out");
    ASSERT_EQ(r.code, 0) << r.err;
    expect_png(read_file(m_dir / "out" / "plot.png"));
    const std::string svg = read_file(m_dir / "out" / "plot.svg");
    for (const char* text : {"linux_running", "linux_running (paper)", "arrakis_n (paper)", "net_stack_in", "syscall"})
        EXPECT_NE(svg.find(text), std::string::npos) << text;
    // A bar per column and per paper column, with every row's mean.
    const std::string dat = read_file(m_dir / "out" / "plot.dat");
    EXPECT_EQ(std::count(dat.begin(), dat.end(), '\n'), 5) << dat;
    EXPECT_NE(dat.find("\"linux_running (paper)\""), std::string::npos) << dat;
}

TEST_F(plot, errors_say_what_is_missing)
{
    const auto none = iovsim("plot nowhere");
    EXPECT_EQ(none.code, 1);
    EXPECT_NE(none.err.find("summary"), std::string::npos) << none.err;
    fs::create_directories(m_dir / "d");
    std::ofstream(m_dir / "d" / "summary.json") << R"({"series": {"a": [{"x": 1, "y": 2}]}, "x": "x", "y": "y"})";
    EXPECT_EQ(iovsim("plot d").code, 0);
    ::setenv("IOVSIM_GNUPLOT", "/no/such/gnuplot", 1);
    const auto missing = iovsim("plot d");
    ::unsetenv("IOVSIM_GNUPLOT");
    EXPECT_EQ(missing.code, 1);
    EXPECT_NE(missing.err.find("needs gnuplot"), std::string::npos) << missing.err;
}
