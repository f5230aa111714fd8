// Benchmark of the simulator itself on the Redis workload: simulated requests per wall-clock second
// and peak resident memory, the whole system busy (two hosts' NICs, the switch, TCP on both ends,
// the server's sockets and epoll, and for SETs the file system or persistent log and the storage
// controller). Memory must stay flat as the request count grows: the run keeps no per-request rows
// or records.
#include "bench/redis_bench.h"

#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "bench/measure.h"
#include "sim/experiment.h"
#include "sim/redis_testbed.h"

namespace iovsim::bench {

int redis(uint64_t requests, const std::string& path, const std::string& config, const std::vector<std::string>& sets)
{
    std::vector<std::string> all = {"experiment.pcap=false", "experiment.max_sim_ms=1e9"};
    all.insert(all.end(), sets.begin(), sets.end());
    const cfg::config c = sim::load_run_config(config, all, std::nullopt);
    sim::redis_setup setup;
    setup.path = sim::parse_redis_path(path);
    const uint64_t connections = static_cast<uint64_t>(c.get_int("workload.redis.connections"));
    setup.warmup = connections;   // one round: the connections are open and every one has been served
    setup.requests = requests;
    setup.tail = 0;
    setup.seed = sim::derive_seed(1, "bench");
    setup.keep_records = false;
    sim::redis_testbed::check(c, setup.path);
    sim::redis_testbed tb(c, setup);
    tb.server_accounting().set_keep_rows(false);
    for (unsigned i = 0; i < tb.clients(); ++i)
        tb.client_host(i).acct->set_keep_rows(false);
    const measured m = measure([&] { return tb.run(); });
    const uint64_t done = tb.app().stats().finished;
    std::cout << fmt::format("path={} connections={} get_fraction={} served={} simulated_us={:.1f} wall_s={:.3f} "
                             "simulated_ktps={:.1f}\n",
                             path, connections, c.get_real("workload.redis.get_fraction"), done, tb.simulated_us(), m.wall_s,
                             tb.measured_ktps());
    std::cout << fmt::format("requests_per_s={:.0f} peak_rss_mb={:.1f}\n", static_cast<double>(done) / m.wall_s, m.peak_rss_mb);
    return m.ok ? 0 : 1;
}

} // namespace iovsim::bench
