#pragma once
// What every benchmark reports of a run besides its own figures: the wall-clock time it took and the
// process's peak resident memory.
#include <sys/resource.h>

#include <chrono>

namespace iovsim::bench {

struct measured {
    bool ok = false;
    double wall_s = 0;
    double peak_rss_mb = 0;
};

template <typename Run>
measured measure(Run&& run)
{
    const auto start = std::chrono::steady_clock::now();
    measured m;
    m.ok = run();
    m.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    m.peak_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;
    return m;
}

} // namespace iovsim::bench
