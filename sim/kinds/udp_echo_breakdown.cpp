#include "sim/kinds/udp_echo_breakdown.h"

#include "sim/kinds/breakdown.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
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

void check_echo_platform(const cfg::config& c, const std::string& column, const std::string& path)
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

column_setup echo_column_setup(const cfg::config& c, const std::string& column, const std::string& pcap_path)
{
    column_setup setup;
    setup.column = column;
    setup.path = parse_path(c.get_string("columns." + column + ".path"));
    setup.outstanding = static_cast<unsigned>(c.get_int("columns." + column + ".outstanding"));
    setup.think_us = c.get_real("columns." + column + ".think_us");
    setup.rate_kpps = c.get_real("columns." + column + ".rate_kpps");
    setup.seed = derive_seed(static_cast<uint64_t>(c.get_int("experiment.seed")), "client/" + column);
    setup.pcap_path = pcap_path;
    return setup;
}

column_result run_column(const cfg::config& experiment, const std::string& column, const std::string& pcap_path)
{
    const cfg::config c = column_config(experiment, column);
    testbed tb(c, echo_column_setup(c, column, pcap_path));
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
            // Categories of other paths (storage) are not rows of this table.
            if (std::find(row_order.begin(), row_order.end(), os::to_string(cat)) != row_order.end())
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

breakdown_report breakdown_of(const cfg::config& experiment, const std::vector<column_output>& results)
{
    return breakdown_of_columns(experiment, results, row_order);
}

namespace {

nlohmann::json write_report(const cfg::config& c, const std::vector<column_output>& results, const std::string& out_dir)
{
    const nlohmann::json summary = write_breakdown(c, breakdown_of(c, results), out_dir, tolerance{});
    const fs::path out(out_dir);
    if (c.get_bool("experiment.pcap")) {
        pcap_writer w((out / "wire.pcap").string());
        uint64_t t = 0;
        for (const column_output& r : results)
            t = append_pcap(w, (fs::path(r.point_dir) / "wire.pcap").string(), t) + 1'000'000;   // a millisecond between columns
        w.close();
    }
    return summary;
}

} // namespace

experiment_kind udp_echo_breakdown_kind()
{
    experiment_kind k;
    k.name = "udp_echo_breakdown";
    k.paths = {"linux", "arrakis_p", "arrakis_n"};
    k.check = [](const cfg::config& c, const std::string& column) {
        check_echo_platform(c, column, c.get_string("columns." + column + ".path"));
    };
    k.run = [](const cfg::config& c, const std::string& column, const column_context& ctx) {
        const std::string pcap_path =
            c.get_bool("experiment.pcap") ? (fs::path(ctx.point_dir) / "wire.pcap").string() : "";
        return column_to_json(run_column(c, column, pcap_path));
    };
    k.report = write_report;
    return k;
}

} // namespace iovsim::sim
