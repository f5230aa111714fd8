#include "models/net/eth.h"

#include <algorithm>
#include <stdexcept>

#include <sysc/kernel/sc_spawn.h>

using namespace sc_core;

namespace iovsim::models::net {

eth_link::eth_link(sc_module_name name, sc_time propagation) : sc_module(name), m_propagation(propagation)
{
    for (direction& d : m_dir) {
        sc_spawn_options opts;
        opts.spawn_method();
        opts.set_sensitivity(&d.arrive);
        opts.dont_initialize();
        sc_spawn([this, &d] { deliver(d); }, sc_gen_unique_name("deliver"), &opts);
    }
}

void eth_link::connect(eth_endpoint& a, eth_endpoint& b)
{
    m_dir[0].to = &b;   // side 0 sends to b
    m_dir[1].to = &a;
}

void eth_link::carry(unsigned from, const frame_ptr& frame, const sc_time& sent)
{
    direction& d = m_dir[from & 1];
    if (d.to == nullptr)
        throw std::logic_error(std::string(name()) + ": link not connected");
    if (m_tap)
        m_tap(frame, sent);
    sc_time at = sent + m_propagation;
    if (m_imp.active()) {
        if (draw() < m_imp.loss) {
            ++m_imp_stats.dropped;
            return;
        }
        if (draw() < m_imp.reorder) {
            ++m_imp_stats.reordered;
            at += m_imp.reorder_delay;
        }
        enqueue(d, at, frame);
        if (draw() < m_imp.duplicate) {
            ++m_imp_stats.duplicated;
            enqueue(d, at, frame);
        }
        return;
    }
    if (d.to->takes_early_delivery()) {
        d.to->frame_arriving(frame, at);
        return;
    }
    d.in_flight.emplace_back(at, frame);
    if (d.in_flight.size() == 1)
        d.arrive.notify(at - sc_time_stamp());
}

void eth_link::set_impairment(const link_impairment& imp)
{
    m_imp = imp;
    m_rng.seed(imp.seed);
}

// In order of arrival: a frame held back goes behind those that overtake it.
void eth_link::enqueue(direction& d, const sc_time& at, const frame_ptr& frame)
{
    auto pos = std::upper_bound(d.in_flight.begin(), d.in_flight.end(), at,
                                [](const sc_time& t, const std::pair<sc_time, frame_ptr>& e) { return t < e.first; });
    const bool first = pos == d.in_flight.begin();
    d.in_flight.emplace(pos, at, frame);
    if (first)
        d.arrive.notify(at - sc_time_stamp());   // an earlier notification wins over a later one
}

void eth_link::deliver(direction& d)
{
    const sc_time now = sc_time_stamp();
    while (!d.in_flight.empty() && d.in_flight.front().first <= now) {
        frame_ptr f = std::move(d.in_flight.front().second);
        d.in_flight.pop_front();
        d.to->frame_arrived(f);
    }
    if (!d.in_flight.empty())
        d.arrive.notify(d.in_flight.front().first - now);
}

namespace {

// Frames whose holders have all let go, kept for reuse (the simulation kernel is single-threaded;
// each process has its own pool).
std::vector<std::unique_ptr<eth_frame>>& frame_pool()
{
    static std::vector<std::unique_ptr<eth_frame>> pool;
    return pool;
}

} // namespace

std::shared_ptr<eth_frame> new_frame()
{
    std::unique_ptr<eth_frame> f;
    auto& pool = frame_pool();
    if (!pool.empty()) {
        f = std::move(pool.back());
        pool.pop_back();
        f->bytes.clear();
        f->fcs_ok = true;
    } else {
        f = std::make_unique<eth_frame>();
    }
    return std::shared_ptr<eth_frame>(f.release(), [](eth_frame* p) {
        auto& pool = frame_pool();
        if (pool.size() < 4096)
            pool.emplace_back(p);
        else
            delete p;
    });
}

sc_time eth_tx_port::send(const frame_ptr& frame, const sc_time& ready)
{
    const sc_time start = std::max(ready, m_busy_until);
    m_busy_until = start + serialization(frame->bytes.size());
    ++m_frames;
    // The frame's last bit (FCS) leaves before the inter-frame gap.
    const sc_time last_bit = m_busy_until - sim::ns_to_time(ifg_bytes * m_ns_per_byte);
    if (m_link)
        m_link->carry(m_side, frame, last_bit);
    return m_busy_until;
}

} // namespace iovsim::models::net
