#include "sim/kinds/redis_breakdown.h"

#include "sim/kinds/breakdown.h"

#include <stdexcept>

#include <fmt/format.h>

namespace iovsim::sim {

using workloads::redis::phase;
using workloads::redis::request_kind;

namespace {

std::vector<std::string> row_order()
{
    std::vector<std::string> rows;
    for (unsigned p = 0; p < workloads::redis::phase_count; ++p)
        rows.emplace_back(workloads::redis::to_string(static_cast<phase>(p)));
    return rows;
}

// The requests a column measures: its mix's kind (GETs for a read column, SETs for a write one).
bool measured_kind(double get_fraction, request_kind k)
{
    if (get_fraction >= 1.0)
        return k == request_kind::get;
    if (get_fraction <= 0.0)
        return k == request_kind::set;
    return k == request_kind::get || k == request_kind::set;
}

} // namespace

redis_setup redis_column_setup(const cfg::config& c, const std::string& column)
{
    redis_setup s;
    s.path = parse_redis_path(c.get_string("columns." + column + ".path"));
    s.warmup = static_cast<uint64_t>(c.get_int("experiment.warmup"));
    s.requests = static_cast<uint64_t>(c.get_int("experiment.requests"));
    s.tail = static_cast<uint64_t>(c.get_int("experiment.tail"));
    s.seed = derive_seed(static_cast<uint64_t>(c.get_int("experiment.seed")), "redis/" + column);
    return s;
}

void check_redis_column(const cfg::config& c, const std::string& column)
{
    redis_testbed::check(c, parse_redis_path(c.get_string("columns." + column + ".path")));
}

column_result run_redis_breakdown_column(const cfg::config& experiment, const std::string& column, nlohmann::json* counters)
{
    const cfg::config c = column_config(experiment, column);
    const redis_setup setup = redis_column_setup(c, column);
    redis_testbed tb(c, setup);
    if (!tb.run())
        throw std::runtime_error(fmt::format("column {}: the clients did not get their replies within {} ms of simulated time "
                                             "({} replies from the server)",
                                             column, c.get_real("experiment.max_sim_ms"), tb.app().stats().finished));
    const double get_fraction = c.get_real("workload.redis.get_fraction");
    column_result r;
    r.key = column;
    uint64_t seen = 0, taken = 0;
    for (const workloads::redis::request_record& rec : tb.app().records()) {
        if (!measured_kind(get_fraction, rec.kind))
            continue;
        if (seen++ < setup.warmup)
            continue;
        if (taken == setup.requests)
            break;
        ++taken;
        for (unsigned p = 0; p < workloads::redis::phase_count; ++p)
            r.rows_ns[workloads::redis::to_string(static_cast<phase>(p))].add(rec.ns[p]);
        r.total_ns.add(rec.total_ns);
    }
    if (taken < setup.requests)
        throw std::runtime_error(fmt::format("column {}: only {} measured requests completed on the server", column, taken));
    for (unsigned i = 0; i < tb.clients(); ++i)
        for (double v : tb.client(i).latencies_ns())
            r.end_to_end_ns.add(v);
    if (counters)
        *counters = tb.counters();
    return r;
}

breakdown_report redis_breakdown_of(const cfg::config& experiment, const std::vector<column_output>& results)
{
    return breakdown_of_columns(experiment, results, row_order());
}

experiment_kind redis_breakdown_kind()
{
    experiment_kind k;
    k.name = "redis_breakdown";
    k.paths = {"linux", "arrakis_p"};
    k.check = check_redis_column;
    k.run = [](const cfg::config& c, const std::string& column, const column_context&) {
        nlohmann::json counters;
        nlohmann::json j = column_to_json(run_redis_breakdown_column(c, column, &counters));
        j["counters"] = counters;
        return j;
    };
    k.report = [](const cfg::config& c, const std::vector<column_output>& results, const std::string& out_dir) {
        return write_breakdown(c, redis_breakdown_of(c, results), out_dir, tolerance{});
    };
    return k;
}

} // namespace iovsim::sim
