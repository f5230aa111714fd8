#include "sim/experiment.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <stdexcept>

#include <fmt/format.h>

#include "sim/params.h"

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
    if (!kind.check)
        return c;
    // Each column's platform (the experiment's, with the column's overrides) must hold. A fault is
    // blamed on the column's overrides when they changed the value, else where the value was set.
    const nlohmann::json base = c.to_json();
    for (const std::string& col : columns) {
        const cfg::config own = column_config(c, col);
        try {
            kind.check(own, col);
        } catch (const cfg::config_error& e) {
            const nlohmann::json::json_pointer at("/" + std::regex_replace(e.key(), std::regex("\\."), "/"));
            if (base.contains(at) && own.to_json().at(at) != base.at(at))
                throw error_at(c, "columns." + col + ".set", e.key() + ": " + e.reason());
            throw error_at(c, e.key(), e.reason());
        }
    }
    return c;
}

std::vector<column_output> run_columns(const cfg::config& c, const run_options& opt)
{
    fs::create_directories(opt.out_dir);
    const experiment_kind& kind = find_kind(c.get_string("experiment.kind"));
    const auto columns = c.get_string_list("experiment.columns");
    std::map<std::string, nlohmann::json> results;
    struct child {
        pid_t pid;
        int fd;
        std::string column;
        std::string out;
    };
    std::vector<child> running;
    size_t next = 0, done = 0;
    std::vector<std::string> failures;
    auto reap_one = [&]() {
        // Read the first child's result to the end, then wait for it.
        child ch = running.front();
        running.erase(running.begin());
        std::array<char, 65536> buf;
        for (;;) {
            const ssize_t n = ::read(ch.fd, buf.data(), buf.size());
            if (n > 0) {
                ch.out.append(buf.data(), static_cast<size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            break;
        }
        ::close(ch.fd);
        int status = 0;
        ::waitpid(ch.pid, &status, 0);
        ++done;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            results[ch.column] = nlohmann::json::parse(ch.out);
        } else {
            std::string why = ch.out.empty() ? "the simulation process failed" : ch.out;
            failures.push_back(ch.column + ": " + why);
        }
        if (opt.progress)
            std::cerr << fmt::format("\r[{}/{}] columns done", done, columns.size()) << std::flush;
    };
    const column_context ctx{opt.out_dir};
    while (next < columns.size() || !running.empty()) {
        while (next < columns.size() && running.size() < std::max(1u, opt.jobs)) {
            const std::string col = columns[next++];
            int fds[2];
            if (::pipe(fds) != 0)
                throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
            std::cout.flush();
            std::cerr.flush();
            const pid_t pid = ::fork();
            if (pid < 0)
                throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
            if (pid == 0) {
                ::close(fds[0]);
                std::string out;
                int code = 0;
                try {
                    out = kind.run(c, col, ctx).dump();
                } catch (const std::exception& e) {
                    out = e.what();
                    code = 1;
                }
                size_t off = 0;
                while (off < out.size()) {
                    const ssize_t n = ::write(fds[1], out.data() + off, out.size() - off);
                    if (n <= 0)
                        break;
                    off += static_cast<size_t>(n);
                }
                ::close(fds[1]);
                std::_Exit(code);
            }
            ::close(fds[1]);
            running.push_back({pid, fds[0], col, {}});
        }
        if (!running.empty())
            reap_one();
    }
    if (opt.progress)
        std::cerr << "\n";
    if (!failures.empty()) {
        std::string msg = "simulation failed:";
        for (const auto& f : failures)
            msg += "\n  " + f;
        throw std::runtime_error(msg);
    }
    std::vector<column_output> out;
    for (const std::string& col : columns)
        out.push_back({col, std::move(results.at(col))});
    return out;
}

nlohmann::json run_experiment(const cfg::config& c, const run_options& opt)
{
    const std::vector<column_output> results = run_columns(c, opt);
    {
        std::ofstream f(fs::path(opt.out_dir) / "effective-config.yaml");
        f << c.to_yaml();
    }
    return find_kind(c.get_string("experiment.kind")).report(c, results, opt.out_dir);
}

} // namespace iovsim::sim
