#pragma once
// Ethernet frames as they travel between MACs, links and switches, and the transmit side of a port:
// a serializer at line rate (preamble + SFD, FCS and the inter-frame gap are on the wire too).
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include <systemc>

#include "sim/fast_time.h"

namespace iovsim::models::net {

struct eth_frame {
    std::vector<uint8_t> bytes;  // destination MAC .. payload (padded), without FCS
    bool fcs_ok = true;          // false: the frame was corrupted on the wire
};
using frame_ptr = std::shared_ptr<const eth_frame>;

// A new, empty frame for a transmitter to fill. Frames are recycled when the last holder lets go,
// with their byte storage, so a steady stream of frames allocates nothing.
std::shared_ptr<eth_frame> new_frame();

constexpr unsigned preamble_sfd_bytes = 8;
constexpr unsigned fcs_bytes = 4;
constexpr unsigned ifg_bytes = 12;
constexpr unsigned min_frame_bytes = 60;    // without FCS
constexpr unsigned max_frame_bytes = 1514;  // without FCS, untagged, standard MTU
constexpr unsigned max_tagged_frame_bytes = 1518;

// Something that receives frames: a MAC or a switch port.
class eth_endpoint {
public:
    virtual ~eth_endpoint() = default;
    // Called when the frame's last bit has arrived.
    virtual void frame_arrived(const frame_ptr& frame) = 0;
    // An endpoint that keeps its own schedule may be told as soon as the frame is on the wire, with
    // the time its last bit will arrive (>= now); the link then runs no process for the frame.
    virtual bool takes_early_delivery() const { return false; }
    virtual void frame_arriving(const frame_ptr& frame, const sc_core::sc_time& at) { (void)frame, (void)at; }
};

// Bytes a frame occupies on the wire, preamble to the end of the inter-frame gap.
inline uint64_t wire_bytes(size_t frame_bytes)
{
    const size_t padded = frame_bytes < min_frame_bytes ? min_frame_bytes : frame_bytes;
    return preamble_sfd_bytes + padded + fcs_bytes + ifg_bytes;
}

// Faults a test puts on a cable, each frame independently: dropped, carried twice, or held back
// (delayed past the frames behind it: reordered). Drawn from a seeded stream; off by default.
struct link_impairment {
    double loss = 0;         // probability a frame is lost
    double duplicate = 0;    // probability a frame arrives twice
    double reorder = 0;      // probability a frame is delayed by reorder_delay
    sc_core::sc_time reorder_delay = sc_core::sc_time(20, sc_core::SC_US);
    uint64_t seed = 0;
    bool active() const { return loss > 0 || duplicate > 0 || reorder > 0; }
};

struct link_impairment_stats {
    uint64_t dropped = 0, duplicated = 0, reordered = 0;
};

// A point-to-point cable. Each direction delivers frames in order after the propagation delay;
// the transmitter (eth_tx_port) has already spent the serialization time.
class eth_link : public sc_core::sc_module {
public:
    eth_link(sc_core::sc_module_name name, sc_core::sc_time propagation);

    void connect(eth_endpoint& a, eth_endpoint& b);
    // Frame whose last bit leaves side `from` (0 or 1) at `sent` (absolute, >= now).
    void carry(unsigned from, const frame_ptr& frame, const sc_core::sc_time& sent);
    // Optional tap: sees every frame with the time its transmission ended.
    void set_tap(std::function<void(const frame_ptr&, const sc_core::sc_time&)> tap) { m_tap = std::move(tap); }
    // Faults on both directions (the tap still sees every frame as sent). With faults on, frames
    // are handed over when they have arrived, in order of arrival, never early.
    void set_impairment(const link_impairment& imp);
    const link_impairment_stats& impairment_stats() const { return m_imp_stats; }

private:
    struct direction {
        std::deque<std::pair<sc_core::sc_time, frame_ptr>> in_flight;
        sc_core::sc_event arrive;
        eth_endpoint* to = nullptr;
    };
    void deliver(direction& d);
    void enqueue(direction& d, const sc_core::sc_time& at, const frame_ptr& frame);
    double draw() { return static_cast<double>(m_rng() >> 11) * 0x1.0p-53; }

    sc_core::sc_time m_propagation;
    direction m_dir[2];
    std::function<void(const frame_ptr&, const sc_core::sc_time&)> m_tap;
    link_impairment m_imp;
    link_impairment_stats m_imp_stats;
    std::mt19937_64 m_rng;
};

// The transmit side of a port: serializes one frame after another at the line rate.
class eth_tx_port {
public:
    eth_tx_port(double gbps, eth_link* link = nullptr, unsigned side = 0)
        : m_ns_per_byte(8.0 / gbps), m_link(link), m_side(side) {}
    void attach(eth_link& link, unsigned side) { m_link = &link; m_side = side; }
    // Queues a frame behind the ones already being sent, ready to go at `ready` (absolute, >= now;
    // now when omitted); returns the time its last bit is out.
    sc_core::sc_time send(const frame_ptr& frame, const sc_core::sc_time& ready);
    sc_core::sc_time send(const frame_ptr& frame) { return send(frame, sc_core::sc_time_stamp()); }
    // When the serializer is free again (absolute).
    const sc_core::sc_time& busy_until() const { return m_busy_until; }
    sc_core::sc_time serialization(size_t frame_bytes) const
    {
        return sim::ns_to_time(static_cast<double>(wire_bytes(frame_bytes)) * m_ns_per_byte);
    }
    uint64_t frames() const { return m_frames; }

private:
    double m_ns_per_byte;
    eth_link* m_link;
    unsigned m_side;
    sc_core::sc_time m_busy_until;
    uint64_t m_frames = 0;
};

} // namespace iovsim::models::net
