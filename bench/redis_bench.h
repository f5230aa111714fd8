#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace iovsim::bench {

// The Redis-like server under its load generators (1,600 connections by default: TCP, stream
// sockets and epoll on the chosen path, the AOF to the storage model for SETs) for `requests`
// replies in this process; prints one line "requests_per_s=<n> peak_rss_mb=<n>" (and details
// before it). `config` is an experiment file whose platform and workload settings are used;
// `sets` are overrides. Returns the exit code.
int redis(uint64_t requests, const std::string& path, const std::string& config, const std::vector<std::string>& sets);

} // namespace iovsim::bench
