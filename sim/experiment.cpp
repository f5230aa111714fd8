#include "sim/experiment.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
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

#include "os/core/category.h"
#include "sim/params.h"
#include "sim/pcap.h"
#include "sim/testbed.h"
#include "sim/wire/wire.h"

namespace iovsim::sim {

namespace fs = std::filesystem;

namespace {

// The rows of the breakdown, in Table 1's order; "app" is the echo application's own work.
const std::vector<std::string> row_order = {"net_stack_in", "net_stack_out", "scheduler", "copy_in",
                                            "copy_out",     "kernel_return", "syscall",   "app"};

cfg::config_error error_at(const cfg::config& c, const std::string& key, const std::string& reason)
{
    const std::string origin = c.origin(key);
    const auto colon = origin.rfind(':');
    if (colon != std::string::npos && colon + 1 < origin.size() && std::isdigit(static_cast<unsigned char>(origin[colon + 1])))
        return cfg::config_error(origin.substr(0, colon), std::stoi(origin.substr(colon + 1)), key, reason);
    return cfg::config_error(origin, 0, key, reason);
}

nlohmann::json to_json(const column_result& r)
{
    nlohmann::json j;
    j["key"] = r.key;
    j["total"] = r.total_ns.samples();
    j["end_to_end"] = r.end_to_end_ns.samples();
    for (const auto& [row, s] : r.rows_ns)
        j["rows"][row] = s.samples();
    return j;
}

column_result from_json(const nlohmann::json& j)
{
    column_result r;
    r.key = j.at("key").get<std::string>();
    for (double v : j.at("total"))
        r.total_ns.add(v);
    for (double v : j.at("end_to_end"))
        r.end_to_end_ns.add(v);
    for (const auto& [row, arr] : j.at("rows").items())
        for (double v : arr)
            r.rows_ns[row].add(v);
    return r;
}

// Appends the frames of one capture to another, shifted by `offset_ns`; returns the last time.
uint64_t append_pcap(pcap_writer& out, const std::string& path, uint64_t offset_ns)
{
    std::ifstream in(path, std::ios::binary);
    std::array<uint8_t, 24> file_header{};
    if (!in.read(reinterpret_cast<char*>(file_header.data()), file_header.size()))
        return offset_ns;
    uint64_t last = offset_ns;
    std::vector<uint8_t> data;
    for (;;) {
        std::array<uint8_t, 16> h{};
        if (!in.read(reinterpret_cast<char*>(h.data()), h.size()))
            break;
        auto le32 = [&h](size_t o) { return uint32_t(h[o]) | uint32_t(h[o + 1]) << 8 | uint32_t(h[o + 2]) << 16 | uint32_t(h[o + 3]) << 24; };
        const uint64_t t = uint64_t(le32(0)) * 1'000'000'000ULL + le32(4);
        data.resize(le32(8));
        if (!in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size())))
            break;
        last = offset_ns + t;
        out.write(last, data.data(), data.size());
    }
    return last;
}

} // namespace

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

namespace {

// What the hardware and the drivers need of a configuration, beyond each value's own range.
// `path` is the column's software path.
void check_platform(const cfg::config& c, const std::string& column, const std::string& path)
{
    for (const char* key : {"platform.server.ip", "platform.server.vnic_ip", "platform.client.ip"})
        if (!wire::ipv4_addr::parse(c.get_string(key)))
            throw error_at(c, key, "'" + c.get_string(key) + "' is not an IPv4 address (dotted quad)");
    for (const char* key : {"platform.server.mac", "platform.server.vnic_mac", "platform.client.mac"}) {
        const auto mac = wire::mac_addr::parse(c.get_string(key));
        if (!mac || mac->is_multicast())
            throw error_at(c, key, "'" + c.get_string(key) + "' is not a unicast MAC address (aa:bb:cc:dd:ee:ff)");
    }
    // The 82599 takes rings of a multiple of 8 descriptors (RDLEN/TDLEN in 128-byte units).
    for (const char* key : {"os.linux.rx_ring", "os.linux.tx_ring", "os.dataplane.rx_ring", "os.dataplane.tx_ring"})
        if (c.get_int(key) % 8 != 0)
            throw error_at(c, key, std::to_string(c.get_int(key)) + " is not a multiple of 8 descriptors (82599 RDLEN/TDLEN)");
    // The drivers fill their receive ring at start; the rest of the buffers carry what is sent.
    for (const char* os : {"os.linux", "os.dataplane"}) {
        const std::string p(os);
        const int64_t need = c.get_int(p + ".rx_ring") + c.get_int(p + ".tx_ring");
        if (c.get_int(p + ".buffers") < need)
            throw error_at(c, p + ".buffers",
                           std::to_string(c.get_int(p + ".buffers")) + " buffers cannot fill the receive ring and still transmit (need " +
                               std::to_string(need) + ": rx_ring + tx_ring)");
    }
    if (path != "linux" && c.get_int("platform.nic.num_vfs") == 0)
        throw error_at(c, "platform.nic.num_vfs", "column " + column + " runs Arrakis, which needs at least one VF");
}

} // namespace

cfg::config load_run_config(const std::string& path, const std::vector<std::string>& sets, std::optional<uint64_t> seed)
{
    cfg::config c(parameters());
    c.load_file(path);
    for (const std::string& s : sets)
        c.apply_override(s);
    if (seed)
        c.apply_override("experiment.seed=" + std::to_string(*seed));
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
        if (sw != "linux" && sw != "arrakis_p" && sw != "arrakis_n")
            throw error_at(c, sw.empty() ? "experiment.columns" : path_key,
                           sw.empty() ? "column '" + col + "' has no " + path_key + " (linux, arrakis_p or arrakis_n)"
                                      : "'" + sw + "' is not a path (linux, arrakis_p or arrakis_n)");
    }
    // Each column's platform (the experiment's, with the column's overrides) must hold. A fault is
    // blamed on the column's overrides when they changed the value, else where the value was set.
    const nlohmann::json base = c.to_json();
    for (const std::string& col : columns) {
        const cfg::config own = column_config(c, col);
        try {
            check_platform(own, col, c.get_string("columns." + col + ".path"));
        } catch (const cfg::config_error& e) {
            const nlohmann::json::json_pointer at("/" + std::regex_replace(e.key(), std::regex("\\."), "/"));
            if (own.to_json().at(at) != base.at(at))
                throw error_at(c, "columns." + col + ".set", e.key() + ": " + e.reason());
            throw error_at(c, e.key(), e.reason());
        }
    }
    return c;
}

column_result run_column(const cfg::config& experiment, const std::string& column, const std::string& pcap_path)
{
    const cfg::config c = column_config(experiment, column);
    column_setup setup;
    setup.column = column;
    setup.path = parse_path(c.get_string("columns." + column + ".path"));
    setup.outstanding = static_cast<unsigned>(c.get_int("columns." + column + ".outstanding"));
    setup.think_us = c.get_real("columns." + column + ".think_us");
    setup.rate_kpps = c.get_real("columns." + column + ".rate_kpps");
    setup.seed = derive_seed(static_cast<uint64_t>(c.get_int("experiment.seed")), "client/" + column);
    setup.pcap_path = pcap_path;
    testbed tb(c, setup);
    if (!tb.run())
        throw std::runtime_error(fmt::format("column {}: the client did not get its replies within {} ms of simulated time "
                                             "({} sent, {} received)",
                                             column, c.get_real("experiment.max_sim_ms"), tb.client().sent(),
                                             tb.client().received()));
    const auto warmup = static_cast<uint64_t>(c.get_int("experiment.warmup"));
    const auto requests = static_cast<uint64_t>(c.get_int("experiment.requests"));
    const os::accounting& acct = tb.server_accounting();
    column_result r;
    r.key = column;
    uint64_t closed = 0, taken = 0;
    for (os::request_id id = 1; id <= acct.requests() && taken < requests; ++id) {
        if (!acct.closed(id))
            continue;
        if (closed++ < warmup)
            continue;
        ++taken;
        const auto& row = acct.of(id);
        double total = 0;
        for (unsigned k = 0; k < os::category_count; ++k) {
            const auto cat = static_cast<os::category>(k);
            if (!os::is_request_work(cat))
                continue;
            total += row[k];
            r.rows_ns[os::to_string(cat)].add(row[k]);
        }
        r.total_ns.add(total);
    }
    if (taken < requests)
        throw std::runtime_error(fmt::format("column {}: only {} measured requests completed on the server", column, taken));
    for (double v : tb.client().latencies_ns())
        r.end_to_end_ns.add(v);
    return r;
}

breakdown_report run_experiment(const cfg::config& c, const run_options& opt)
{
    fs::create_directories(opt.out_dir);
    const auto columns = c.get_string_list("experiment.columns");
    const bool pcap = c.get_bool("experiment.pcap");
    std::map<std::string, column_result> results;
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
            results[ch.column] = from_json(nlohmann::json::parse(ch.out));
        } else {
            std::string why = ch.out.empty() ? "the simulation process failed" : ch.out;
            failures.push_back(ch.column + ": " + why);
        }
        if (opt.progress)
            std::cerr << fmt::format("\r[{}/{}] columns done", done, columns.size()) << std::flush;
    };
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
                    const std::string pcap_path = pcap ? (fs::path(opt.out_dir) / ("wire-" + col + ".pcap")).string() : "";
                    out = to_json(run_column(c, col, pcap_path)).dump();
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

    breakdown_report report;
    report.experiment = c.get_string("experiment.name");
    report.seed = static_cast<uint64_t>(c.get_int("experiment.seed"));
    report.row_order = row_order;
    for (const std::string& col : columns)
        report.columns.push_back(results.at(col));

    const fs::path out(opt.out_dir);
    {
        std::ofstream f(out / "effective-config.yaml");
        f << c.to_yaml();
    }
    {
        std::ofstream f(out / "summary.json");
        f << to_summary_json(report, c.to_json()).dump(2) << "\n";
    }
    std::optional<reference_table> ref;
    const std::string ref_path = c.get_string("experiment.reference");
    if (!ref_path.empty())
        ref = load_reference((fs::path(source_dir()) / ref_path).string());
    {
        std::ofstream f(out / "table.md");
        f << to_markdown(report, ref ? &*ref : nullptr, tolerance{});
    }
    if (pcap) {
        pcap_writer w((out / "wire.pcap").string());
        uint64_t t = 0;
        for (const std::string& col : columns) {
            const fs::path p = out / ("wire-" + col + ".pcap");
            t = append_pcap(w, p.string(), t) + 1'000'000;   // a millisecond between columns
            fs::remove(p);
        }
        w.close();
    }
    return report;
}

} // namespace iovsim::sim
