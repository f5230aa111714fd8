// iovsim: the command line. `iovsim run`, `iovsim list`, `iovsim plot`, `iovsim params`, `iovsim bench`.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <fstream>
#include <optional>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <systemc>

#include "bench/echo_bench.h"
#include "bench/redis_bench.h"
#include "sim/experiment.h"
#include "sim/params.h"
#include "sim/plot.h"

namespace fs = std::filesystem;
using namespace iovsim;

namespace {

constexpr int exit_config_error = 2;

// SystemC prints its banner from its own main(), before sc_main; asking it not to must happen in
// static initialization. A user's own setting of the variable wins.
const bool banner_off = ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0) == 0;

std::string default_platform()
{
    return (fs::path(sim::source_dir()) / "configs" / "platforms" / "arrakis_e5_2430.yaml").string();
}

int cmd_list()
{
    const fs::path dir = fs::path(sim::source_dir()) / "configs" / "experiments";
    std::vector<fs::path> files;
    if (fs::exists(dir))
        for (const auto& e : fs::directory_iterator(dir))
            if (e.path().extension() == ".yaml")
                files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        std::cerr << "no experiments found in " << dir.string() << "\n";
        return 1;
    }
    for (const fs::path& f : files) {
        try {
            cfg::config c(sim::parameters());
            c.load_file(f.string());
            std::cout << fmt::format("{:<28} {}\n    {}\n", c.get_string("experiment.name"),
                                     c.get_string("experiment.description"), f.string());
        } catch (const std::exception& e) {
            std::cout << fmt::format("{:<28} (invalid: {})\n", f.stem().string(), e.what());
        }
    }
    return 0;
}

int cmd_run(const std::string& config, const std::string& out, std::optional<uint64_t> seed,
            const std::vector<std::string>& sets, unsigned jobs, bool quiet, bool force)
{
    cfg::config c(sim::parameters());
    try {
        c = sim::load_run_config(config, sets, seed);
    } catch (const cfg::config_error& e) {
        std::cerr << "iovsim: config error: " << e.what() << "\n";
        return exit_config_error;
    }
    sim::run_options opt;
    opt.out_dir = out;
    opt.jobs = jobs;
    opt.progress = !quiet && isatty(STDERR_FILENO);
    opt.force = force;
    std::string failed;
    size_t reused = 0;
    try {
        sim::run_experiment(c, opt, &reused);
    } catch (const std::exception& e) {
        failed = e.what();
    }
    // The points that completed are reported even when others failed.
    const bool any = fs::exists(fs::path(out) / "summary.json");
    if (!quiet && any) {
        std::ifstream t(fs::path(out) / "table.md");
        std::cout << t.rdbuf();
        std::cout << fmt::format("\nresults in {}/ (summary.json, table.md, points.csv, effective-config.yaml{}, points/)\n", out,
                                 c.get_bool("experiment.pcap") ? ", wire.pcap" : "");
    }
    if (!quiet && reused > 0)
        std::cout << fmt::format("{} point{} taken from an earlier run (same config and binary; --force to redo)\n", reused,
                                 reused == 1 ? "" : "s");
    if (!failed.empty()) {
        std::cerr << "iovsim: " << failed << "\n";
        return 1;
    }
    return 0;
}

} // namespace

int sc_main(int argc, char* argv[])
{
    CLI::App app{"iovsim: a full-system simulator of I/O virtualization hardware (SR-IOV NIC, IOMMU) and the\n"
                 "Arrakis operating system's control plane and dataplanes, beside a Linux-like kernel path."};
    app.require_subcommand(1);
    app.footer("run options: CONFIG --out DIR [--seed N] [--set key=value]... [-j N] [--force] [--quiet]\n"
               "  --out DIR        where summary.json, table.md, points.csv, effective-config.yaml, wire.pcap\n"
               "                   and points/<point>/ (each point's config and result) go\n"
               "  --seed N         root seed of every random stream (overrides experiment.seed)\n"
               "  --set key=value  override any parameter (see 'iovsim params'); repeatable\n"
               "  -j N             points simulated in parallel;  --quiet  print only errors\n"
               "  --force          simulate every point again, even those whose result matches config and binary\n"
               "Traces per point: --set experiment.trace.timeline=true (timeline.json, Perfetto),\n"
               "  --set experiment.trace.vcd=true (trace.vcd, GTKWave). Figures: iovsim plot DIR.\n"
               "Config errors (unknown key, wrong type, out of range) exit with code 2.");

    auto* run = app.add_subcommand("run", "run an experiment: one simulation per column, results in --out");
    std::string config, out = "out";
    std::optional<uint64_t> seed;
    std::vector<std::string> sets;
    unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
    bool quiet = false, force = false;
    run->add_option("config", config, "experiment file, e.g. configs/experiments/udp_echo_breakdown.yaml")->required();
    run->add_option("--out,-o", out, "directory for summary.json, table.md, effective-config.yaml and wire.pcap");
    run->add_option("--seed", seed, "root seed of the random streams (overrides experiment.seed)");
    run->add_option("--set", sets, "override any parameter: --set key=value (repeatable); see effective-config.yaml for keys");
    run->add_option("-j,--jobs", jobs, "points (columns, sweep values) simulated in parallel (default: all cores)")->check(CLI::Range(1u, 4096u));
    run->add_flag("--quiet,-q", quiet, "print nothing but errors");
    run->add_flag("--force,-f", force, "simulate every point again (default: reuse results of the same config and binary)");
    run->footer("Config errors (unknown key, wrong type, out of range) exit with code 2; see 'iovsim params'.");

    auto* list = app.add_subcommand("list", "list the experiments in configs/experiments");
    auto* plot = app.add_subcommand("plot", "render a run's results as plot.png and plot.svg (gnuplot): curves or stacked bars");
    std::string plot_dir;
    plot->add_option("dir", plot_dir, "a run's output directory (holding summary.json)")->required();
    auto* params = app.add_subcommand("params", "print every parameter with its default, unit and provenance (YAML)");

    auto* bench = app.add_subcommand("bench", "benchmarks of the simulator itself");
    auto* bench_echo = bench->add_subcommand("echo", "Arrakis/N UDP echo: simulated round trips per wall second, peak memory");
    uint64_t requests = 100000;
    std::string platform = default_platform();
    bench_echo->add_option("--requests,-n", requests, "round trips to simulate")->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
    bench_echo->add_option("--platform", platform, "platform file");
    auto* bench_redis = bench->add_subcommand(
        "redis", "Redis-like server under 1,600 connections (TCP, epoll, AOF): simulated requests per wall second, peak memory");
    uint64_t redis_requests = 20000;
    std::string redis_path = "arrakis_p";
    std::string redis_config = (fs::path(sim::source_dir()) / "configs" / "experiments" / "redis_throughput.yaml").string();
    std::vector<std::string> redis_sets;
    bench_redis->add_option("--requests,-n", redis_requests, "measured replies to simulate")->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
    bench_redis->add_option("--path", redis_path, "server path: linux or arrakis_p")->check(CLI::IsMember({"linux", "arrakis_p"}));
    bench_redis->add_option("--config", redis_config, "experiment file whose platform and workload settings are used");
    bench_redis->add_option("--set", redis_sets, "override a parameter: key=value (repeatable)");
    bench->require_subcommand(1);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : exit_config_error;
    }
    sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
    if (*run)
        return cmd_run(config, out, seed, sets, jobs, quiet, force);
    if (*list)
        return cmd_list();
    if (*plot) {
        try {
            for (const std::string& f : sim::plot_results(plot_dir))
                std::cout << f << "\n";
        } catch (const std::exception& e) {
            std::cerr << "iovsim: plot: " << e.what() << "\n";
            return 1;
        }
        return 0;
    }
    if (*params) {
        std::cout << cfg::config(sim::parameters()).to_yaml();
        return 0;
    }
    // A benchmark's errors: a config error exits 2, any other failure 1.
    auto guarded = [](const std::function<int()>& body) {
        try {
            return body();
        } catch (const cfg::config_error& e) {
            std::cerr << "iovsim: config error: " << e.what() << "\n";
            return exit_config_error;
        } catch (const std::exception& e) {
            std::cerr << "iovsim: " << e.what() << "\n";
            return 1;
        }
    };
    if (*bench_redis)
        return guarded([&] { return bench::redis(redis_requests, redis_path, redis_config, redis_sets); });
    if (*bench_echo)
        return guarded([&] { return bench::echo(requests, platform); });
    return 0;
}
