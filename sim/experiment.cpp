#include "sim/experiment.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <systemc>

#include "sim/child_pool.h"
#include "sim/params.h"
#include "sim/sweep.h"
#include "sim/trace.h"

namespace iovsim::sim {

namespace fs = std::filesystem;

cfg::config_error error_at(const cfg::config& c, const std::string& key, const std::string& reason)
{
    const std::string origin = c.origin(key);
    const auto colon = origin.rfind(':');
    if (colon != std::string::npos && colon + 1 < origin.size() && std::isdigit(static_cast<unsigned char>(origin[colon + 1])))
        return cfg::config_error(origin.substr(0, colon), std::stoi(origin.substr(colon + 1)), key, reason);
    return cfg::config_error(origin, 0, key, reason);
}

std::vector<std::string> experiment_kind_names()
{
    std::vector<std::string> names;
    for (const experiment_kind& k : experiment_kinds())
        names.push_back(k.name);
    return names;
}

const experiment_kind& find_kind(const std::string& name)
{
    for (const experiment_kind& k : experiment_kinds())
        if (k.name == name)
            return k;
    throw std::invalid_argument("unknown experiment kind " + name);
}

cfg::config load_platform(const std::vector<std::string>& sets)
{
    cfg::config c(parameters());
    c.load_file((fs::path(source_dir()) / "configs" / "platforms" / "arrakis_e5_2430.yaml").string());
    for (const std::string& s : sets)
        c.apply_override(s);
    return c;
}

std::string source_dir()
{
    if (const char* env = std::getenv("IOVSIM_SOURCE_DIR"))
        return env;
    return IOVSIM_SOURCE_DIR;
}

uint64_t derive_seed(uint64_t root, const std::string& stream)
{
    uint64_t h = 1469598103934665603ULL;   // FNV-1a of the stream name
    for (unsigned char ch : stream)
        h = (h ^ ch) * 1099511628211ULL;
    uint64_t z = root + h + 0x9E3779B97F4A7C15ULL;   // splitmix64 finalizer
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

cfg::config column_config(const cfg::config& c, const std::string& column)
{
    const std::string key = "columns." + column + ".set";
    cfg::config own = c;
    for (const std::string& assignment : c.get_string_list(key)) {
        if (assignment.rfind("columns.", 0) == 0 || assignment.rfind("experiment.", 0) == 0)
            throw error_at(c, key, "'" + assignment + "': a column may override the platform, the OS and the workload only");
        try {
            own.apply_override(assignment);
        } catch (const cfg::config_error& e) {
            throw error_at(c, key, "'" + assignment + "': " + e.reason());
        }
    }
    return own;
}

cfg::config load_run_config(const std::string& path, const std::vector<std::string>& sets, std::optional<uint64_t> seed)
{
    cfg::config c(parameters());
    c.load_file(path);
    for (const std::string& s : sets)
        c.apply_override(s);
    if (seed)
        c.apply_override("experiment.seed=" + std::to_string(*seed));
    const experiment_kind& kind = find_kind(c.get_string("experiment.kind"));
    std::string path_list;
    for (const std::string& p : kind.paths)
        path_list += (path_list.empty() ? "" : ", ") + p;
    const auto columns = c.get_string_list("experiment.columns");
    if (columns.empty())
        throw error_at(c, "experiment.columns", "no column to run");
    for (const std::string& col : columns) {
        try {
            c.instantiate("columns", col, "experiment.columns");
        } catch (const cfg::config_error& e) {
            throw error_at(c, "experiment.columns", e.reason());
        }
        const std::string path_key = "columns." + col + ".path";
        const std::string sw = c.get_string(path_key);
        if (std::find(kind.paths.begin(), kind.paths.end(), sw) == kind.paths.end())
            throw error_at(c, sw.empty() ? "experiment.columns" : path_key,
                           sw.empty() ? "column '" + col + "' has no " + path_key + " (" + path_list + ")"
                                      : "'" + sw + "' is not a path of a " + kind.name + " experiment (" + path_list + ")");
    }
    // Every point's sweep values must be ones the parameters take (file:line of the swept key).
    const std::vector<sweep_point> points = expand_sweep(c);
    if (!kind.check)
        return c;
    // Each point's platform (the experiment's, with the sweep's values and the column's overrides)
    // must hold. A fault is blamed on the column's overrides when they changed the value, on the
    // sweep when it set the value, else on where the value was set.
    const nlohmann::json base = c.to_json();
    for (const sweep_point& p : points) {
        const cfg::config own = column_config(point_config(c, p), p.column);
        try {
            kind.check(own, p.column);
        } catch (const cfg::config_error& e) {
            const nlohmann::json::json_pointer at("/" + std::regex_replace(e.key(), std::regex("\\."), "/"));
            const cfg::config without_column_set = point_config(c, p);
            if (base.contains(at) && own.to_json().at(at) != without_column_set.to_json().at(at))
                throw error_at(c, "columns." + p.column + ".set", e.key() + ": " + e.reason());
            for (const cfg::map_entry& m : c.get_map("experiment.sweep.params")) {
                if (m.key != e.key())
                    continue;
                const cfg::config_error where = error_at(c, "experiment.sweep.params", "");
                throw cfg::config_error(where.file(), m.line > 0 ? m.line : where.line(), "experiment.sweep.params." + m.key,
                                        "at point " + p.id + ": " + e.reason());
            }
            throw error_at(c, e.key(), e.reason());
        }
    }
    return c;
}

namespace {

constexpr uint64_t fnv_offset = 1469598103934665603ULL;
constexpr uint64_t fnv_prime = 1099511628211ULL;

uint64_t fnv1a(uint64_t h, const char* data, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        h = (h ^ static_cast<unsigned char>(data[i])) * fnv_prime;
    return h;
}

std::string hex64(uint64_t v) { return fmt::format("{:016x}", v); }

// Writes a file whole or not at all (an interrupted run leaves no half-written result).
void write_atomically(const fs::path& p, const std::string& text)
{
    const fs::path tmp = p.string() + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary);
        f << text;
        if (!f)
            throw std::runtime_error("cannot write " + tmp.string());
    }
    fs::rename(tmp, p);
}

std::string read_whole(const fs::path& p)
{
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

std::string csv_field(const std::string& s)
{
    if (s.find_first_of(",\"\n") == std::string::npos)
        return s;
    std::string out = "\"";
    for (const char ch : s)
        out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return out + "\"";
}

std::string csv_value(const nlohmann::json& v)
{
    if (v.is_string())
        return csv_field(v.get<std::string>());
    if (v.is_number_float())
        return fmt::format("{:.6g}", v.get<double>());
    return csv_field(v.dump());
}

std::string format_duration(double seconds)
{
    const auto s = static_cast<long>(seconds + 0.5);
    return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

// What a point needs to run or be reused.
struct planned_point {
    sweep_point point;
    cfg::config cfg;
    std::string config_hash;
    fs::path dir;
};

// The child's side: simulate, then hand the result (or the error) back through `fd`.
// What a point's child process sends back: the kind's result and the simulated time it took.
std::string run_point(const experiment_kind& kind, const planned_point& p, const column_context& ctx)
{
    trace::begin(p.cfg, p.dir.string());
    nlohmann::json env;
    env["result"] = kind.run(p.cfg, p.point.column, ctx);
    env["sim_us"] = std::round(sc_core::sc_time_stamp().to_seconds() * 1e9) / 1e3;
    trace::finish(p.dir.string());
    return env.dump();
}

} // namespace

const std::string& binary_hash()
{
    static const std::string hash = [] {
        std::ifstream f("/proc/self/exe", std::ios::binary);
        uint64_t h = fnv_offset;
        std::array<char, 1 << 16> buf;
        while (f.read(buf.data(), buf.size()) || f.gcount() > 0)
            h = fnv1a(h, buf.data(), static_cast<size_t>(f.gcount()));
        return hex64(h);
    }();
    return hash;
}

run_outcome run_points(const cfg::config& c, const run_options& opt)
{
    const fs::path out_dir(opt.out_dir);
    fs::create_directories(out_dir / "points");
    const experiment_kind& kind = find_kind(c.get_string("experiment.kind"));

    std::vector<planned_point> plan;
    for (sweep_point& p : expand_sweep(c)) {
        planned_point pp{p, point_config(c, p), "", out_dir / "points" / p.id};
        const std::string identity = point_identity(pp.cfg, p.column);
        pp.config_hash = hex64(fnv1a(fnv_offset, identity.data(), identity.size()));
        plan.push_back(std::move(pp));
    }

    std::vector<std::optional<column_output>> done_results(plan.size());
    std::vector<std::optional<point_failure>> done_failures(plan.size());
    run_outcome outcome;
    auto output_of = [&](size_t i, nlohmann::json result) {
        const planned_point& p = plan[i];
        return column_output{p.point.column, std::move(result), p.point.id, p.point.values, p.dir.string()};
    };

    // Points with a matching result are taken as they are; the others are queued.
    std::vector<size_t> queue;
    for (size_t i = 0; i < plan.size(); ++i) {
        const planned_point& p = plan[i];
        fs::create_directories(p.dir);
        write_atomically(p.dir / "effective-config.yaml", p.cfg.to_yaml());
        const fs::path result_path = p.dir / "result.json";
        if (!opt.force && fs::exists(result_path)) {
            const nlohmann::json old = nlohmann::json::parse(read_whole(result_path), nullptr, false);
            if (old.is_object() && old.value("config_hash", "") == p.config_hash && old.value("binary", "") == binary_hash() &&
                old.contains("result")) {
                done_results[i] = output_of(i, old.at("result"));
                ++outcome.reused;
                continue;
            }
        }
        fs::remove(result_path);
        fs::remove(p.dir / "error.txt");
        queue.push_back(i);
    }

    size_t finished = 0;
    const auto started = std::chrono::steady_clock::now();
    auto show_progress = [&](const planned_point& p, double sim_us) {
        if (!opt.progress)
            return;
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const size_t left = queue.size() - finished;
        std::string line = fmt::format("[{}/{} points{}] {}: {:.2f} ms simulated", finished + outcome.reused, plan.size(),
                                       outcome.reused ? fmt::format(", {} reused", outcome.reused) : "", p.point.id,
                                       sim_us / 1000.0);
        if (left > 0)
            line += ", ETA " + format_duration(wall / static_cast<double>(finished) * static_cast<double>(left));
        std::cerr << "\r\x1b[K" << line << std::flush;
    };
    auto finish = [&](size_t queued, int status, const std::string& answer) {
        ++finished;
        const size_t index = queue[queued];
        const planned_point& p = plan[index];
        std::string error;
        nlohmann::json env;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            env = nlohmann::json::parse(answer, nullptr, false);
            if (env.is_discarded() || !env.contains("result"))
                error = "the simulation process returned no result";
        } else if (WIFSIGNALED(status)) {
            error = fmt::format("the simulation process died of signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
        } else {
            error = answer.empty() ? "the simulation process failed" : answer;
        }
        if (!error.empty()) {
            write_atomically(p.dir / "error.txt", error + "\n");
            done_failures[index] = point_failure{p.point.id, (p.dir / "effective-config.yaml").string(), error};
            show_progress(p, 0);
            return;
        }
        nlohmann::json saved;
        saved["column"] = p.point.column;
        saved["point"] = nlohmann::json::object();
        for (const auto& [k, v] : p.point.values)
            saved["point"][k] = v;
        saved["seed"] = p.point.seed;
        saved["config_hash"] = p.config_hash;
        saved["binary"] = binary_hash();
        saved["sim_us"] = env.at("sim_us");
        saved["result"] = env.at("result");
        write_atomically(p.dir / "result.json", saved.dump(1) + "\n");
        done_results[index] = output_of(index, std::move(env.at("result")));
        show_progress(p, saved["sim_us"].get<double>());
    };

    run_in_children(
        queue.size(), opt.jobs,
        [&](size_t queued) {
            const planned_point& p = plan[queue[queued]];
            return run_point(kind, p, column_context{opt.out_dir, p.dir.string(), p.point.values});
        },
        finish);
    if (opt.progress && !queue.empty())
        std::cerr << "\n";
    for (size_t i = 0; i < plan.size(); ++i) {
        if (done_results[i])
            outcome.results.push_back(std::move(*done_results[i]));
        if (done_failures[i])
            outcome.failures.push_back(std::move(*done_failures[i]));
    }
    return outcome;
}

namespace {

std::string failure_text(const std::vector<point_failure>& failures)
{
    std::string msg = fmt::format("{} point{} failed:", failures.size(), failures.size() == 1 ? "" : "s");
    for (const point_failure& f : failures)
        msg += fmt::format("\n  {} (config {}): {}", f.point_id, f.config_path, f.error);
    return msg;
}

// points.csv: a line per point of the plan, completed or not, with the result's scalar fields.
void write_points_csv(const cfg::config& c, const run_outcome& outcome, const fs::path& out_dir)
{
    const std::vector<sweep_point> points = expand_sweep(c);
    std::map<std::string, const column_output*> by_id;
    for (const column_output& r : outcome.results)
        by_id[r.point_id] = &r;
    std::map<std::string, const point_failure*> failed;
    for (const point_failure& f : outcome.failures)
        failed[f.point_id] = &f;
    std::set<std::string> fields;
    for (const column_output& r : outcome.results)
        if (r.result.is_object())
            for (const auto& [k, v] : r.result.items())
                if (v.is_primitive())
                    fields.insert(k);
    std::string csv = "point,column";
    if (!points.empty())
        for (const auto& [k, v] : points.front().values)
            csv += "," + csv_field(k);
    csv += ",seed,status";
    for (const std::string& f : fields)
        csv += "," + csv_field(f);
    csv += "\n";
    for (const sweep_point& p : points) {
        csv += csv_field(p.id) + "," + csv_field(p.column);
        for (const auto& [k, v] : p.values)
            csv += "," + csv_field(v);
        const auto r = by_id.find(p.id);
        csv += fmt::format(",{},{}", p.seed, r != by_id.end() ? "ok" : failed.count(p.id) ? "failed" : "missing");
        for (const std::string& f : fields)
            csv += "," + (r != by_id.end() && r->second->result.contains(f) ? csv_value(r->second->result.at(f)) : "");
        csv += "\n";
    }
    write_atomically(out_dir / "points.csv", csv);
}

} // namespace

std::vector<column_output> run_columns(const cfg::config& c, const run_options& opt)
{
    run_outcome o = run_points(c, opt);
    if (!o.failures.empty())
        throw std::runtime_error("simulation failed: " + failure_text(o.failures));
    return std::move(o.results);
}

nlohmann::json run_experiment(const cfg::config& c, const run_options& opt, size_t* reused)
{
    const run_outcome outcome = run_points(c, opt);
    if (reused)
        *reused = outcome.reused;
    const fs::path out(opt.out_dir);
    write_atomically(out / "effective-config.yaml", c.to_yaml());
    write_points_csv(c, outcome, out);
    nlohmann::json summary;
    // No stale report of an earlier run: the summary is of this run's points or absent.
    fs::remove(out / "summary.json");
    fs::remove(out / "table.md");
    if (!outcome.results.empty())
        summary = find_kind(c.get_string("experiment.kind")).report(c, outcome.results, opt.out_dir);
    if (!outcome.failures.empty())
        throw std::runtime_error(failure_text(outcome.failures));
    return summary;
}

} // namespace iovsim::sim
