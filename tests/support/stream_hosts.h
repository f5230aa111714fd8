#pragma once
// Two hosts through a switch for the stream-socket tests: a server host whose software runs one of
// the paths' stream_api (the Linux-like kernel's system calls, or Arrakis/P's library over a VNIC
// granted by the control plane), and a client host whose load generator runs a native TCP on the
// PF queue's dataplane. Each side's body runs as the task of its host's core 0.
#include <functional>
#include <memory>
#include <string>

#include <systemc>

#include "os/kernel/pf_setup.h"
#include "sim/experiment.h"
#include "sim/testbed.h"

namespace iovsim::testing {

struct stream_hosts {
    cfg::config c;
    os::cost_model costs = os::cost_model::from(c);
    sim::host server{"server", c, costs, static_cast<uint64_t>(c.get_int("platform.server.dram_mb")) << 20,
                     static_cast<unsigned>(c.get_int("platform.nic.num_vfs")), c.get_bool("platform.iommu.pass_through")};
    sim::host client{"client", c, costs, static_cast<uint64_t>(c.get_int("platform.client.dram_mb")) << 20, 0, true};
    std::unique_ptr<models::net::eth_switch> sw;
    std::unique_ptr<models::net::eth_link> server_cable, client_cable;
    // server software
    std::unique_ptr<os::linux_path::linux_kernel> linux_k;
    std::unique_ptr<os::kernel::iommu_driver> iommu_drv;
    std::unique_ptr<os::kernel::control_plane> cp;
    std::unique_ptr<os::dataplane::dataplane> server_dp;
    std::unique_ptr<os::dataplane::posix_sockets> posix;
    // client software
    std::unique_ptr<os::dataplane::dataplane> client_dp;
    wire::ipv4_addr server_ip;
    os::net::tcp_params tcp = os::net::tcp_layer::params_of(c);

    static wire::mac_addr mac_of(const cfg::config& c, const std::string& k) { return *wire::mac_addr::parse(c.get_string(k)); }
    static wire::ipv4_addr ip_of(const cfg::config& c, const std::string& k) { return *wire::ipv4_addr::parse(c.get_string(k)); }

    explicit stream_hosts(cfg::config cfg) : c(std::move(cfg))
    {
        using sc_core::sc_time;
        sw = sim::make_switch(c, 2);
        server_cable = sim::plug_into_switch(c, server, *sw, 0, "server_cable");
        client_cable = sim::plug_into_switch(c, client, *sw, 1, "client_cable");
    }

    // Starts the server's software on `path` and runs `body` over its stream_api.
    void spawn_server(sim::server_path path, std::function<void(os::net::stream_api&)> body)
    {
        server_ip = ip_of(c, path == sim::server_path::linux_kernel ? "platform.server.ip" : "platform.server.vnic_ip");
        server.core->spawn("server_main", [this, path, body = std::move(body)] {
            os::cpu_core& core = *server.core;
            if (path == sim::server_path::linux_kernel) {
                linux_k = std::make_unique<os::linux_path::linux_kernel>(core, *server.pages, mac_of(c, "platform.server.mac"),
                                                                         server_ip, sim::linux_params_of(c));
                linux_k->boot();
                linux_k->enable_tcp(tcp, 11);
                body(*linux_k);
                return;
            }
            iommu_drv = std::make_unique<os::kernel::iommu_driver>(core, *server.pages,
                                                                   static_cast<unsigned>(c.get_int("platform.iommu.levels")));
            cp = std::make_unique<os::kernel::control_plane>(core, *server.pages, *iommu_drv,
                                                             os::kernel::control_plane_params::from(c));
            cp->boot(os::category::scheduler);
            const os::dataplane::dataplane_params dpp = sim::dataplane_params_of(c);
            const auto grant = cp->create_vnic(os::category::scheduler, mac_of(c, "platform.server.vnic_mac"), server_ip,
                                               sim::dataplane_region_bytes(dpp));
            server_dp = std::make_unique<os::dataplane::dataplane>(core, grant, dpp);
            server_dp->init();
            server_dp->enable_tcp(tcp, 11);
            posix = std::make_unique<os::dataplane::posix_sockets>(*server_dp);
            body(*posix);
        });
    }

    // Starts the client's dataplane with a native TCP and runs `body` on it.
    void spawn_client(std::function<void(os::dataplane::dataplane&, os::net::tcp_layer&)> body)
    {
        client.core->spawn("client_main", [this, body = std::move(body)] {
            client_dp = sim::start_client_dataplane(client, mac_of(c, "platform.client.mac"), ip_of(c, "platform.client.ip"));
            os::net::tcp_layer& t = client_dp->enable_tcp(tcp, 22);
            body(*client_dp, t);
        });
    }
};

} // namespace iovsim::testing
