#include "os/dataplane/dataplane.h"

#include <algorithm>
#include <stdexcept>

#include "models/nic/e10k_regs.h"
#include "sim/fast_time.h"

namespace iovsim::os::dataplane {

namespace reg = iovsim::e10k;
using net::pkt;

dataplane::dataplane(cpu_core& core, const kernel::vnic_grant& grant, const dataplane_params& params)
    : m_core(core), m_c(core.costs()), m_grant(grant), m_params(params), m_dev{&core, grant.bar}
{
    net::stack_costs sc;
    sc.eth_rx = &m_c.a_eth_rx;
    sc.ip_rx = &m_c.a_ip_rx;
    sc.udp_rx = &m_c.a_udp_rx;
    sc.udp_tx = &m_c.a_udp_tx;
    sc.ip_tx = &m_c.a_ip_tx;
    sc.eth_tx = &m_c.a_eth_tx;
    m_stack = std::make_unique<net::net_stack>(core, grant.mac, grant.ip, sc);
    m_stack->set_interface([this](pkt& f) { xmit(f); }, [this](pkt& p) { m_pool->free(p); },
                           [this](pkt& p) { return m_pool->alloc(p); });
}

void dataplane::init()
{
    const uint64_t rx_bytes = static_cast<uint64_t>(m_params.rx_ring) * reg::desc_bytes;
    const uint64_t tx_bytes = static_cast<uint64_t>(m_params.tx_ring) * reg::desc_bytes;
    const uint64_t pool_bytes = static_cast<uint64_t>(m_params.buffers) * m_params.buf_bytes;
    if (rx_bytes + tx_bytes + pool_bytes > m_grant.region_bytes)
        throw std::runtime_error("dataplane: the VNIC's DMA region is too small for its rings and buffers");
    const uint64_t rx_pa = m_grant.region_pa;
    const uint64_t tx_pa = rx_pa + rx_bytes;
    const uint64_t pool_pa = (tx_pa + tx_bytes + 4095) & ~4095ULL;
    m_pool = std::make_unique<net::buffer_pool>(m_core, pool_pa, m_params.buffers, m_params.buf_bytes);
    m_rx = std::make_unique<dev::e10k_rx_ring>(m_dev, m_grant.rx_regs, rx_pa, m_params.rx_ring, m_params.buf_bytes);
    m_tx = std::make_unique<dev::e10k_tx_ring>(m_dev, m_grant.tx_regs, tx_pa, m_params.tx_ring);
    const category c = category::net_stack_in;
    m_rx->init(c);
    m_tx->init(c);
    m_core.memory().watch(rx_pa, rx_bytes, m_rx_written);
    pkt p;
    while (m_rx->free_slots() > 0 && m_pool->alloc(p))
        m_rx->post(p);
    m_rx->doorbell(c);
}

unsigned dataplane::poll()
{
    ++m_stats.polls;
    run_tcp_timers();
    // The descriptor and the headers were written by the device.
    const dev::rx_driver_costs costs{&m_c.a_rx_desc, &m_c.a_rx_refill, dca};
    unsigned n = 0;
    while (n < m_params.poll_batch && m_rx->ready()) {
        pkt p;
        const dev::rx_outcome got = dev::take_and_refill(m_core, *m_rx, *m_pool, costs, p);
        ++n;
        // Batch the tail writes, but never hold back more than half the ring from the device.
        if (m_rx->pending_doorbell() >= std::max(1u, std::min(m_params.rx_doorbell_batch, m_params.rx_ring / 2)))
            m_rx->doorbell(category::net_stack_in);
        if (got != dev::rx_outcome::frame) {
            ++(got == dev::rx_outcome::error ? m_stats.rx_errors : m_stats.rx_no_buffer);
            continue;
        }
        ++m_stats.rx_packets;
        m_core.touch_dma_lines(category::net_stack_in, 1, dca, false);   // the headers
        if (m_params.software_demux)
            m_core.run(category::net_stack_in, m_c.a_sw_demux);   // what a hardware filter would have done
        if (m_driver_hook && m_driver_hook(p))
            continue;
        m_stack->input(p);
    }
    return n;
}

void dataplane::attach_doorbell(doorbell_set& db, int fd)
{
    db.add(fd, 0, [this] { return m_rx->ready(); });
    m_doorbells = &db;
}

void dataplane::wait_rx()
{
    const sc_core::sc_time timer = tcp_deadline();
    if (timer != sc_core::SC_ZERO_TIME)
        return wait_rx_until(timer);
    if (m_doorbells)
        m_doorbells->wait();
    else
        m_core.wait_until(category::poll, [this] { return m_rx->ready(); }, &m_rx_written);
    m_core.run(category::net_stack_in, m_c.a_poll_empty);   // the iteration that finds it
}

void dataplane::wait_rx_until(const sc_core::sc_time& deadline)
{
    const sc_core::sc_time timer = tcp_deadline();
    const sc_core::sc_time until = timer != sc_core::SC_ZERO_TIME && timer < deadline ? timer : deadline;
    m_core.wait_until(category::poll, [this] { return m_rx->ready(); }, &m_rx_written, until);
    if (m_rx->ready())
        m_core.run(category::net_stack_in, m_c.a_poll_empty);   // the iteration that finds it, as in wait_rx
}

net::tcp_layer& dataplane::enable_tcp(const net::tcp_params& params, uint64_t seed)
{
    if (m_tcp)
        throw std::logic_error("dataplane: TCP enabled twice");
    net::tcp_costs tc{category::net_stack_in, category::net_stack_out, &m_c.a_tcp_rx, &m_c.a_tcp_tx,
                      &m_c.a_tcp_timer, &m_c.a_tcp_ack, m_params.tcp_software_checksum, dca};
    tc.state_tx_lines = m_c.a_pcb_tx_lines;
    tc.state_rx_lines = m_c.a_pcb_rx_lines;
    net::tcp_params tp = params;
    tp.adaptive_ack = false;   // the library's lwIP-like TCP delays every ACK it does not owe at once
    m_tcp = std::make_unique<net::tcp_layer>(*m_stack, tp, tc, seed);
    return *m_tcp;
}

void dataplane::run_tcp_timers()
{
    if (!m_tcp)
        return;
    const uint64_t now = static_cast<uint64_t>(sim::time_to_ns(m_core.local_time()));
    if (m_tcp->next_timer_ns() <= now)
        m_tcp->run_timers(now);
}

sc_core::sc_time dataplane::tcp_deadline() const
{
    if (!m_tcp || m_tcp->next_timer_ns() == UINT64_MAX)
        return sc_core::SC_ZERO_TIME;
    // Never zero: a timer due at time 0 would read as "none".
    return sim::ns_to_time(static_cast<double>(std::max<uint64_t>(m_tcp->next_timer_ns(), 1)));
}

void dataplane::xmit(pkt& frame)
{
    dev::reclaim_sent(m_core, *m_tx, *m_pool, m_c.a_tx_clean, dca);
    ++(dev::transmit(m_core, *m_tx, *m_pool, m_c.a_tx_desc, frame) ? m_stats.tx_packets : m_stats.tx_ring_full);
}

} // namespace iovsim::os::dataplane
