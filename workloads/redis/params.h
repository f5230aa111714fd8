#pragma once
// The Redis workload's parameters (workload.redis.*): the server's and the load generator's. The
// server's address, the measured counts and the seed are the experiment's to fill in.
#include "workloads/redis/client.h"
#include "workloads/redis/server.h"

namespace iovsim::cfg {
class schema;
class config;
}

namespace iovsim::workloads::redis {

void declare(cfg::schema& s);
server_params server_params_of(const cfg::config& c);
client_params client_params_of(const cfg::config& c);

} // namespace iovsim::workloads::redis
