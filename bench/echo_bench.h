#pragma once
#include <cstdint>
#include <string>

namespace iovsim::bench {

// The Arrakis/N echo for `requests` round trips in this process; prints one line
// "roundtrips_per_s=<n> peak_rss_mb=<n>" (and details before it). Returns the exit code.
int echo(uint64_t requests, const std::string& platform_file);

} // namespace iovsim::bench
