#pragma once
// A store-and-forward Ethernet switch with MAC learning: a frame is forwarded once it has been
// received whole, after a fixed forwarding latency, onto the output port's serializer (whose queue
// is bounded: a frame that would wait longer than the buffer drains is dropped).
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include <systemc>

#include "models/net/eth.h"

namespace iovsim::models::net {

struct switch_params {
    unsigned ports = 8;
    double port_gbps = 10.0;
    sc_core::sc_time forwarding_latency = sc_core::sc_time(1, sc_core::SC_US);
    uint64_t port_buffer_bytes = 1 << 20;
};

class eth_switch : public sc_core::sc_module {
public:
    eth_switch(sc_core::sc_module_name name, const switch_params& params);

    // The endpoint of port i, to connect a link to; and its transmitter's attachment.
    eth_endpoint& port(unsigned i);
    void attach(unsigned i, eth_link& link, unsigned side);

    uint64_t forwarded() const { return m_forwarded; }
    uint64_t flooded() const { return m_flooded; }
    uint64_t dropped() const { return m_dropped; }

private:
    struct port_state : eth_endpoint {
        eth_switch* sw = nullptr;
        unsigned index = 0;
        std::unique_ptr<eth_tx_port> tx;
        void frame_arrived(const frame_ptr& frame) override { sw->ingress(index, frame, sc_core::sc_time_stamp()); }
        bool takes_early_delivery() const override { return true; }
        void frame_arriving(const frame_ptr& frame, const sc_core::sc_time& at) override { sw->ingress(index, frame, at); }
    };
    void ingress(unsigned in_port, const frame_ptr& frame, const sc_core::sc_time& at);
    void emit(unsigned out_port, const frame_ptr& frame, const sc_core::sc_time& when);

    switch_params m_params;
    std::vector<std::unique_ptr<port_state>> m_ports;
    std::map<std::array<uint8_t, 6>, unsigned> m_fdb;  // learned: MAC -> port
    uint64_t m_forwarded = 0;
    uint64_t m_flooded = 0;
    uint64_t m_dropped = 0;
};

} // namespace iovsim::models::net
