// Benchmark of the simulator itself: simulated round trips per wall-clock second and peak resident
// memory for the Arrakis/N echo (the full path: client stack and NIC, switch, server NIC, IOMMU,
// VF driver, user-level stack). Memory must stay flat as the request count grows: the run keeps no
// per-request rows.
#include "bench/echo_bench.h"

#include <iostream>

#include <fmt/format.h>

#include "bench/measure.h"
#include "sim/experiment.h"
#include "sim/params.h"
#include "sim/testbed.h"

namespace iovsim::bench {

int echo(uint64_t requests, const std::string& platform_file)
{
    cfg::config c(sim::parameters());
    c.load_file(platform_file);
    c.apply_override("experiment.pcap=false");
    c.apply_override("experiment.warmup=" + std::to_string(requests > 0 ? requests - 1 : 0));
    c.apply_override("experiment.requests=1");
    c.apply_override("experiment.tail=0");
    c.apply_override("experiment.max_sim_ms=1e9");
    sim::column_setup setup;
    setup.column = "arrakis_n";
    setup.path = sim::server_path::arrakis_n;
    setup.outstanding = 1;
    setup.seed = sim::derive_seed(1, "bench");
    sim::testbed tb(c, setup);
    tb.server_accounting().set_keep_rows(false);
    tb.client_host().acct->set_keep_rows(false);
    const measured m = measure([&] { return tb.run(); });
    const uint64_t done = tb.client().received();
    std::cout << fmt::format("requests={} simulated_us={:.1f} wall_s={:.3f} mean_rtt_us={:.3f}\n", done,
                             tb.simulated_us(), m.wall_s, done ? tb.simulated_us() / static_cast<double>(done) : 0.0);
    std::cout << fmt::format("roundtrips_per_s={:.0f} peak_rss_mb={:.1f}\n", static_cast<double>(done) / m.wall_s, m.peak_rss_mb);
    return m.ok ? 0 : 1;
}

} // namespace iovsim::bench
