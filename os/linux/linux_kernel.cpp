#include "os/linux/linux_kernel.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "models/nic/e10k_regs.h"
#include "models/platform/address_map.h"
#include "os/kernel/pf_setup.h"
#include "sim/fast_time.h"

namespace iovsim::os::linux_path {

namespace reg = iovsim::e10k;
using net::pkt;

namespace {
constexpr uint32_t ftqf_udp = 1;   // FTQF.Protocol 01b
}

linux_kernel::linux_kernel(cpu_core& core, kernel::phys_alloc& mem, wire::mac_addr mac, wire::ipv4_addr ip,
                           const linux_params& params)
    : linux_kernel(std::vector<cpu_core*>{&core}, mem, mac, ip, params)
{
}

linux_kernel::linux_kernel(std::vector<cpu_core*> cores, kernel::phys_alloc& mem, wire::mac_addr mac,
                           wire::ipv4_addr ip, const linux_params& params)
    : m_cores(std::move(cores)), m_c(m_cores.at(0)->costs()), m_mem(mem), m_params(params),
      m_pf{m_cores[0], models::nic_pf_bar0}
{
    // The PF's register map reaches queues 0-63 at RDBAL(n)/TDBAL(n); MSI-X vectors are per queue.
    if (m_cores.empty() || m_cores.size() > reg::pf::num_eitr)
        throw std::invalid_argument("linux_kernel: 1 to 24 cores (one queue pair and EITR vector each)");
    net::stack_costs sc;
    sc.eth_rx = &m_c.l_eth_rx;
    sc.ip_rx = &m_c.l_ip_rx;
    sc.udp_rx = &m_c.l_udp_rx;
    sc.udp_tx = &m_c.l_udp_tx;
    sc.ip_tx = &m_c.l_ip_tx;
    sc.eth_tx = &m_none;   // neighbour output is part of ip_tx's path
    m_stack = std::make_unique<net::net_stack>(*m_cores[0], mac, ip, sc);
    m_stack->set_shared_by_cores(m_cores.size() > 1);
    m_stack->set_interface([this](pkt& f) { xmit(f); }, [this](pkt& p) { m_pool->free(p); },
                           [this](pkt& p) { return m_pool->alloc(p); });
    m_queues.resize(m_cores.size());
    for (size_t q = 0; q < m_cores.size(); ++q)
        m_queues[q].core = m_cores[q];
    m_timer_at.resize(m_cores.size(), sc_core::SC_ZERO_TIME);
}

cpu_core& linux_kernel::cpu() const
{
    cpu_core* here = m_cores.size() > 1 ? cpu_core::this_cpu() : nullptr;
    return here ? *here : *m_cores[0];
}

unsigned linux_kernel::queue_of(const cpu_core& c) const
{
    for (unsigned q = 0; q < m_queues.size(); ++q)
        if (m_queues[q].core == &c)
            return q;
    return 0;
}

void linux_kernel::boot()
{
    const category c = category::scheduler;   // boot work belongs to no table row; excluded by warm-up
    const auto nq = static_cast<uint32_t>(m_queues.size());
    const uint64_t pool_pa = m_mem.alloc(static_cast<uint64_t>(m_params.buffers) * nq * m_params.buf_bytes);
    m_pool = std::make_unique<net::buffer_pool>(*m_cores[0], pool_pa, m_params.buffers * nq, m_params.buf_bytes);
    kernel::e10k_set_address(m_pf, c, 0, m_stack->mac(), 0);
    // With several cores, a queue's registers are written by whichever core runs its driver code.
    const dev::dev_handle queue_regs{nq > 1 ? nullptr : m_cores[0], models::nic_pf_bar0};
    for (unsigned q = 0; q < nq; ++q) {
        queue_pair& qp = m_queues[q];
        qp.rx = std::make_unique<dev::e10k_rx_ring>(queue_regs, reg::pf::RDBAL0 + q * reg::pf::RXQ_STRIDE,
                                                    m_mem.alloc(m_params.rx_ring * reg::desc_bytes), m_params.rx_ring,
                                                    m_params.buf_bytes);
        qp.tx = std::make_unique<dev::e10k_tx_ring>(queue_regs, reg::pf::TDBAL0 + q * reg::pf::TXQ_STRIDE,
                                                    m_mem.alloc(m_params.tx_ring * reg::desc_bytes), m_params.tx_ring);
        qp.rx->init(c);
        qp.tx->init(c);
        pkt p;
        while (qp.rx->free_slots() > 0 && m_pool->alloc(p))
            qp.rx->post(p);
        qp.rx->doorbell(c);
        qp.core->claim_vectors(m_params.irq + q, 1, [this, q](unsigned v) { irq(q, v); });
        // The local timer (qdisc watchdog) once per core, served by the core's first queue.
        bool core_seen = false;
        for (unsigned other = 0; other < q; ++other)
            core_seen = core_seen || m_queues[other].core == qp.core;
        if (!core_seen)
            qp.core->claim_vectors(m_params.timer_irq, 1, [this, q](unsigned v) { irq(q, v); });
        kernel::e10k_pf_route_irq(m_pf, c, q, q, qp.core->apic_id(), m_params.irq + q, m_params.itr_us);
    }
    kernel::e10k_enable(m_pf, c);
}

void linux_kernel::steer_udp_port(uint16_t port, unsigned queue)
{
    if (queue >= m_queues.size() || m_filters >= reg::num_5tuple)
        throw std::invalid_argument("steer_udp_port: no such queue, or no 5-tuple filter left");
    const dev::dev_handle pf{&cpu(), models::nic_pf_bar0};
    const category c = category::scheduler;
    const unsigned i = m_filters++;
    pf.write_reg(c, reg::pf::SAQF0 + 4 * i, 0);
    pf.write_reg(c, reg::pf::DAQF0 + 4 * i, 0);
    pf.write_reg(c, reg::pf::SDPQF0 + 4 * i, static_cast<uint32_t>(port) << 16);
    pf.write_reg(c, reg::pf::L34T_IMIR0 + 4 * i, queue << reg::L34T_IMIR_RX_QUEUE_SHIFT);
    pf.write_reg(c, reg::pf::FTQF0 + 4 * i,
                 ftqf_udp | 1u << reg::FTQF_PRIORITY_SHIFT | reg::FTQF_MASK_SRC_ADDR |
                     reg::FTQF_MASK_DST_ADDR | reg::FTQF_MASK_SRC_PORT | reg::FTQF_POOL_MASK | reg::FTQF_QUEUE_ENABLE);
}

// ---- Driver -------------------------------------------------------------------------------------

// ixgbe_msix_clean_rings: the vector was auto-masked by the device; NAPI polls in the softirq that
// runs at interrupt exit, until the budget is not exhausted, then re-enables the vector. The
// local timer's vector runs the qdisc watchdog (hrtimer -> __netif_schedule -> net_tx_action).
void linux_kernel::irq(unsigned q, unsigned vector)
{
    cpu_core& core = *m_queues[q].core;
    if (vector == m_params.timer_irq)
        return timer_irq(core);
    ++m_stats.interrupts;
    core.run(category::net_stack_in, m_c.l_irq_entry);
    while (napi_poll(q) >= m_params.napi_budget) {
    }
    dev::dev_handle{&core, models::nic_pf_bar0}.write_reg(category::net_stack_in, reg::pf::EIMS, 1u << q);   // napi_complete
    if (m_tcp)
        arm_timer(core);   // the segments may have armed TCP timers (delayed ACK, retransmission)
    core.run(category::net_stack_in, m_c.l_irq_exit);
}

// The local APIC timer: the kernel's timer work that is due on this core (hrtimer_interrupt and
// the timer softirq): the qdisc watchdog, TCP's timers, epoll_wait timeouts. It then arms the
// timer for the earliest that remains.
void linux_kernel::timer_irq(cpu_core& core)
{
    const unsigned q = queue_of(core);
    const sc_core::sc_time now = core.local_time();
    if (m_timer_at[q] != sc_core::SC_ZERO_TIME && m_timer_at[q] <= now)
        m_timer_at[q] = sc_core::SC_ZERO_TIME;
    const bool tcp_due = m_tcp && m_tcp->next_timer_ns() <= sim::time_to_ns(now);
    const category c = m_qdisc || tcp_due ? category::net_stack_out : category::scheduler;
    ++m_stats.timer_interrupts;
    core.run(c, m_c.l_irq_entry);
    if (m_qdisc) {   // qdisc_watchdog -> __netif_schedule -> net_tx_action
        ++m_stats.qdisc_watchdogs;
        if (m_watchdog_at != sc_core::SC_ZERO_TIME && core.local_time() >= m_watchdog_at)
            m_watchdog_at = sc_core::SC_ZERO_TIME;
        core.run(category::net_stack_out, m_c.l_qdisc_watchdog);
        qdisc_run(core);
    }
    if (tcp_due)
        m_tcp->run_timers(static_cast<uint64_t>(sim::time_to_ns(core.local_time())));
    for (ep_waiter& w : m_ep_waiters)   // hrtimer_wakeup of schedule_hrtimeout_range
        if (w.waiter != nullptr && w.core == &core && w.deadline != sc_core::SC_ZERO_TIME && w.deadline <= now) {
            core.run(category::scheduler, m_c.l_wake_sleeping);
            task* t = w.waiter;
            w.waiter = nullptr;
            core.wake(*t);
        }
    arm_timer(core);
    core.run(c, m_c.l_irq_exit);
}

// Programs this core's local timer for the earliest of TCP's timers and the epoll timeouts of the
// tasks asleep on it, unless it already fires no later.
void linux_kernel::arm_timer(cpu_core& c)
{
    double earliest = -1;
    if (m_tcp) {
        const uint64_t t = m_tcp->next_timer_ns();
        if (t != UINT64_MAX)
            earliest = static_cast<double>(t);
    }
    for (const ep_waiter& w : m_ep_waiters)
        if (w.waiter != nullptr && w.core == &c && w.deadline != sc_core::SC_ZERO_TIME) {
            const double d = sim::time_to_ns(w.deadline);
            earliest = earliest < 0 ? d : std::min(earliest, d);
        }
    if (earliest < 0)
        return;
    const sc_core::sc_time at = std::max(sim::ns_to_time(earliest), c.local_time());
    sc_core::sc_time& armed = m_timer_at[queue_of(c)];
    if (armed != sc_core::SC_ZERO_TIME && armed <= at && armed >= sc_core::sc_time_stamp())
        return;
    armed = at;
    c.deliver_irq(m_params.timer_irq, at - sc_core::sc_time_stamp());
}

unsigned linux_kernel::napi_poll(unsigned q)
{
    queue_pair& qp = m_queues[q];
    cpu_core& core = *qp.core;
    ++m_stats.napi_polls;
    core.run(category::net_stack_in, m_c.l_napi_poll);
    // Transmit completions first, as ixgbe_poll does; each is work of the request it carried.
    dev::reclaim_sent(core, *qp.tx, *m_pool, m_c.l_tx_clean, m_params.dca);
    wake_queue(core, q);
    const dev::rx_driver_costs costs{&m_c.l_rx_desc, &m_c.l_rx_refill, m_params.dca};
    unsigned n = 0;
    while (n < m_params.napi_budget && qp.rx->ready()) {
        pkt p;
        const dev::rx_outcome got = dev::take_and_refill(core, *qp.rx, *m_pool, costs, p);
        ++n;
        if (got != dev::rx_outcome::frame) {
            ++(got == dev::rx_outcome::error ? m_stats.rx_errors : m_stats.rx_no_buffer);
            continue;
        }
        ++m_stats.rx_packets;
        core.run(category::net_stack_in, m_c.l_skb_alloc);
        core.touch_dma_lines(category::net_stack_in, 1, m_params.dca, false);   // the headers
        m_stack->input(p);
    }
    qp.rx->doorbell(category::net_stack_in);
    return n;
}

// ixgbe_xmit_frame_ring. A queue without a free descriptor is stopped and the frame goes back to
// the qdisc (NETDEV_TX_BUSY, dev_requeue_skb); while it is stopped the qdisc holds what comes, up to
// txqueuelen frames (pfifo_fast's limit; beyond it a drop). Nothing is lost to a full ring.
// Transmit completions are cleaned in NAPI, which runs on receive interrupts; this driver maps a
// queue's transmit cause to its vector only while the queue is stopped (as virtio-net enables its
// transmit callback when its ring fills), so the wake-up never waits for traffic to arrive, and
// a queue that is not stopped takes no transmit interrupt. Before stopping, it cleans what the
// device has already written back.
void linux_kernel::driver_xmit(cpu_core& c, unsigned txq, pkt& frame)
{
    queue_pair& qp = m_queues[txq];
    if (!qp.stopped && qp.tx->free_slots() == 0)
        dev::reclaim_sent(c, *qp.tx, *m_pool, m_c.l_tx_clean, m_params.dca);
    if (!qp.stopped && qp.tx->free_slots() == 0)
        stop_queue(c, txq);
    if (qp.stopped) {
        if (qp.held.size() >= m_params.txqueuelen) {
            ++m_stats.qdisc_drops;
            m_pool->free(frame);
            return;
        }
        frame.request = c.request();
        qp.held.push_back(frame);
        ++m_stats.tx_requeued;
        return;
    }
    ++(dev::transmit(c, *qp.tx, *m_pool, m_c.l_tx_desc, frame) ? m_stats.tx_packets : m_stats.tx_ring_full);
}

// The transmit clean found the queue stopped: once TX_WAKE_THRESHOLD descriptors are free
// (DESC_NEEDED * 2 = 42 in ixgbe, a quarter of a small ring), netif_wake_subqueue and the qdisc
// runs (net_tx_action): the held frames go to the ring, each as work of the request it carried.
void linux_kernel::wake_queue(cpu_core& c, unsigned txq)
{
    queue_pair& qp = m_queues[txq];
    const uint32_t threshold = std::min<uint32_t>(42, m_params.tx_ring / 4);
    if (!qp.stopped || qp.tx->free_slots() < threshold)
        return;
    qp.stopped = false;
    kernel::e10k_pf_route_tx_irq(dev::dev_handle{&c, models::nic_pf_bar0}, category::net_stack_out, txq, txq, false);
    const request_id current = c.request();
    while (!qp.held.empty() && qp.tx->free_slots() > 0) {
        pkt frame = qp.held.front();
        qp.held.pop_front();
        c.set_request(frame.request);
        c.run(category::net_stack_out, m_c.l_qdisc_dequeue);
        ++(dev::transmit(c, *qp.tx, *m_pool, m_c.l_tx_desc, frame) ? m_stats.tx_packets : m_stats.tx_ring_full);
    }
    c.set_request(current);
    if (!qp.held.empty())
        stop_queue(c, txq);
}

void linux_kernel::stop_queue(cpu_core& c, unsigned txq)
{
    m_queues[txq].stopped = true;
    ++m_stats.tx_queue_stops;
    kernel::e10k_pf_route_tx_irq(dev::dev_handle{&c, models::nic_pf_bar0}, category::net_stack_out, txq, txq, true);
}

// dev_queue_xmit on the sending core: its own transmit queue (XPS), through the qdisc if there is one.
void linux_kernel::xmit(pkt& frame)
{
    cpu_core& c = cpu();
    c.run(category::net_stack_out, m_c.l_dev_xmit);
    const unsigned txq = queue_of(c);
    if (!m_qdisc)
        return driver_xmit(c, txq, frame);
    if (m_qdisc_lock_owner != &c) {   // the root lock's line comes from the core that last held it
        c.run(category::net_stack_out, m_c.l_qdisc_lock_bounce);
        m_qdisc_lock_owner = &c;
    }
    c.run(category::net_stack_out, m_c.l_qdisc_enqueue);
    const unsigned len = frame.len;
    if (!m_qdisc->enqueue(classify(frame), queued{frame, txq}, len, sim::time_to_ns(c.local_time()))) {
        ++m_stats.qdisc_drops;
        m_pool->free(frame);
        return;
    }
    qdisc_run(c);
}

// __qdisc_run: hand the driver every packet the qdisc lets go now; if some wait for tokens, arm
// the watchdog for when the first may go.
void linux_kernel::qdisc_run(cpu_core& c)
{
    if (m_qdisc_lock_owner != &c) {
        c.run(category::net_stack_out, m_c.l_qdisc_lock_bounce);
        m_qdisc_lock_owner = &c;
    }
    for (;;) {
        c.run(category::net_stack_out, m_c.l_qdisc_dequeue);
        auto next = m_qdisc->dequeue(sim::time_to_ns(c.local_time()));
        if (!next)
            break;
        driver_xmit(c, next->second.txq, next->second.frame);
    }
    if (m_qdisc->backlog() > 0)
        arm_watchdog(c);
}

// qdisc_watchdog_schedule: the local APIC timer of this core fires when the first waiting packet's
// class has its tokens.
void linux_kernel::arm_watchdog(cpu_core& c)
{
    const double at_ns = m_qdisc->next_ready_ns(sim::time_to_ns(c.local_time()));
    const sc_core::sc_time at = std::max(sim::ns_to_time(at_ns), c.local_time());
    if (m_watchdog_at != sc_core::SC_ZERO_TIME && m_watchdog_at <= at && m_watchdog_at >= sc_core::sc_time_stamp())
        return;
    m_watchdog_at = at;
    c.deliver_irq(m_params.timer_irq, at - sc_core::sc_time_stamp());
}

// The tc filter: IPv4 UDP by source port (u32 match ip sport), else the default class 0.
unsigned linux_kernel::classify(const pkt& frame) const
{
    const uint8_t* b = frame.bytes();
    if (frame.len < 14 + 20 + 8 || b[12] != 0x08 || b[13] != 0x00 || b[14 + 9] != 17)
        return 0;
    const unsigned ihl = (b[14] & 0xF) * 4u;
    if (frame.len < 14 + ihl + 8)
        return 0;
    const uint16_t sport = static_cast<uint16_t>(b[14 + ihl] << 8 | b[14 + ihl + 1]);
    for (const auto& [port, cls] : m_class_of_sport)
        if (port == sport)
            return cls;
    return 0;
}

unsigned linux_kernel::add_rate_limit(uint16_t sport, double rate_bps, uint64_t burst_bytes)
{
    if (!m_qdisc) {
        m_qdisc = std::make_unique<htb<queued>>();
        m_qdisc->add_class(htb_class_params{});   // the default class: unlimited
    }
    htb_class_params p;
    p.rate_bps = rate_bps;
    p.burst_bytes = burst_bytes;
    const unsigned cls = m_qdisc->add_class(p);
    m_class_of_sport.emplace_back(sport, cls);
    return cls;
}

const htb_class_stats* linux_kernel::qdisc_class_stats(unsigned cls) const
{
    return m_qdisc && cls < m_qdisc->classes() ? &m_qdisc->stats(cls) : nullptr;
}

// ---- Sockets ------------------------------------------------------------------------------------

linux_kernel::udp_sock* linux_kernel::sock(int fd)
{
    if (fd < 0 || static_cast<size_t>(fd) >= m_socks.size())
        return nullptr;
    return m_socks[fd].get();
}

int linux_kernel::udp_socket()
{
    cpu_core& c = cpu();
    c.run(category::syscall, m_c.l_syscall_entry);
    const int fd = m_files.reserve();   // one descriptor table for every kind of socket
    if (m_socks.size() <= static_cast<size_t>(fd))
        m_socks.resize(static_cast<size_t>(fd) + 1);
    m_socks[fd] = std::make_unique<udp_sock>();
    c.run(category::kernel_return, m_c.l_syscall_exit);
    return fd;
}

int linux_kernel::bind(int fd, uint16_t port)
{
    cpu_core& c = cpu();
    c.run(category::syscall, m_c.l_syscall_entry);
    udp_sock* s = sock(fd);
    const bool ok = s && m_stack->bind_udp(port, [this, s](pkt& p, const net::udp_meta& m) { deliver(*s, p, m); });
    if (ok)
        s->port = port;
    c.run(category::kernel_return, m_c.l_syscall_exit);
    return ok ? 0 : -1;
}

// Softirq context: queue the datagram on the socket and signal the reader (sk_data_ready).
void linux_kernel::deliver(udp_sock& s, pkt& p, const net::udp_meta& meta)
{
    cpu_core& c = cpu();
    c.run(category::net_stack_in, m_c.l_sock_enqueue);
    if (s.rxq.size() >= 1024) {
        ++m_stats.sock_drops;
        m_pool->free(p);
        return;
    }
    s.rxq.emplace_back(p, meta);
    if (s.waiter != nullptr) {
        c.run(category::scheduler, m_c.l_wake_sleeping);
        task* t = s.waiter;
        s.waiter = nullptr;
        s.waiter_core->wake(*t);
    } else {
        c.run(category::scheduler, m_c.l_wake_running);
    }
}

long linux_kernel::recvfrom(int fd, uint8_t* buf, size_t len, net::sock_addr& from)
{
    cpu_core& c = cpu();
    c.run(category::syscall, m_c.l_syscall_entry);
    udp_sock* s = sock(fd);
    if (s == nullptr) {
        c.run(category::kernel_return, m_c.l_syscall_exit);
        return -1;
    }
    while (s->rxq.empty()) {
        s->waiter = c.current();
        s->waiter_core = &c;
        c.block();
    }
    auto [p, meta] = s->rxq.front();
    s->rxq.pop_front();
    c.set_request(p.request);
    c.run(category::net_stack_in, m_c.l_sock_dequeue);
    const size_t n = std::min<size_t>(len, p.len);
    c.run(category::copy_out, m_c.l_copy_user);
    c.touch_dma_lines(category::copy_out, lines_of(n), m_params.dca, true);
    c.copy(category::copy_out, n);
    std::memcpy(buf, p.bytes(), n);
    from = net::sock_addr{meta.src, meta.sport};
    c.run(category::net_stack_in, m_c.l_skb_free);
    m_pool->free(p);
    c.run(category::kernel_return, m_c.l_syscall_exit);
    return static_cast<long>(n);
}

long linux_kernel::sendto(int fd, const uint8_t* buf, size_t len, const net::sock_addr& to)
{
    cpu_core& c = cpu();
    c.run(category::syscall, m_c.l_syscall_entry);
    udp_sock* s = sock(fd);
    pkt p;
    if (s == nullptr || len > m_params.buf_bytes - net::headroom || !m_pool->alloc(p)) {
        c.run(category::kernel_return, m_c.l_syscall_exit);
        return -1;
    }
    c.run(category::net_stack_out, m_c.l_skb_alloc);
    c.run(category::copy_in, m_c.l_copy_user);
    c.copy(category::copy_in, len);
    std::memcpy(p.bytes(), buf, len);
    p.len = static_cast<uint32_t>(len);
    const bool ok = m_stack->udp_output(p, s->port, to.ip, to.port);
    c.run(category::kernel_return, m_c.l_syscall_exit);
    return ok ? static_cast<long>(len) : -1;
}

// ---- Stream sockets and epoll ----------------------------------------------------------------

void linux_kernel::enable_tcp(const net::tcp_params& params, uint64_t seed)
{
    net::tcp_costs tc;
    tc.rx_segment = &m_c.l_tcp_rx;
    tc.tx_segment = &m_c.l_tcp_tx;
    tc.ack = &m_c.l_tcp_ack;
    tc.timer = &m_c.l_tcp_timer;
    tc.state_tx_lines = m_c.l_sock_tx_lines;
    tc.state_rx_lines = m_c.l_sock_rx_lines;
    m_tcp = std::make_unique<net::tcp_layer>(*m_stack, params, tc, seed);
    m_files.attach(*m_tcp);
    m_files.set_callback([this](int epfd, bool queued) { ep_callback(epfd, queued); });
}

cpu_core& linux_kernel::syscall_enter()
{
    cpu_core& c = cpu();
    ++m_stats.syscalls;
    c.run(category::syscall, m_c.l_syscall_entry);
    return c;
}

template <typename T>
T linux_kernel::syscall_return(cpu_core& c, T result)
{
    if (m_tcp)
        arm_timer(c);   // the call may have armed TCP timers (retransmission, delayed ACK)
    c.run(category::kernel_return, m_c.l_syscall_exit);
    return result;
}

// ep_poll_callback on the socket's wait queue (softirq or process context): the socket is queued
// on the ready list (stream_files did that); a task asleep in epoll_wait on the instance is woken.
void linux_kernel::ep_callback(int epfd, bool)
{
    cpu_core& c = cpu();
    c.run(category::net_stack_in, m_c.l_ep_poll_callback);
    if (epfd < 0 || static_cast<size_t>(epfd) >= m_ep_waiters.size() || m_ep_waiters[epfd].waiter == nullptr)
        return;
    ep_waiter& w = m_ep_waiters[epfd];
    c.run(category::scheduler, m_c.l_wake_sleeping);
    ++m_stats.epoll_wakeups;
    task* t = w.waiter;
    w.waiter = nullptr;
    w.core->wake(*t);
}

int linux_kernel::tcp_socket()
{
    cpu_core& c = syscall_enter();
    c.run(category::syscall, m_c.l_socket);
    return syscall_return(c, m_files.socket());
}

int linux_kernel::tcp_bind(int fd, uint16_t port)
{
    cpu_core& c = syscall_enter();
    c.run(category::syscall, m_c.l_sock_call);
    return syscall_return(c, m_files.bind(fd, port));
}

int linux_kernel::listen(int fd, int backlog)
{
    cpu_core& c = syscall_enter();
    c.run(category::syscall, m_c.l_sock_call);
    return syscall_return(c, m_files.listen(fd, backlog));
}

int linux_kernel::accept(int fd, net::sock_addr* peer)
{
    cpu_core& c = syscall_enter();
    c.run(category::syscall, m_c.l_accept);
    return syscall_return(c, m_files.accept(fd, peer));
}

int linux_kernel::connect(int fd, const net::sock_addr& to)
{
    cpu_core& c = syscall_enter();
    c.run(category::syscall, m_c.l_sock_call);
    return syscall_return(c, m_files.connect(fd, to));
}

// read(2)/recv(2) on a TCP socket: the data is the request's whose segment brought it; the copy
// out of the socket's buffers (DMA'd by the NIC, in the LLC with DCA) crosses into user space.
long linux_kernel::recv(int fd, uint8_t* buf, size_t len)
{
    cpu_core& c = syscall_enter();
    const long n = m_files.recv(fd, buf, len);
    if (n > 0)
        c.set_request(m_files.last_request(fd));
    c.run(category::net_stack_in, m_c.l_tcp_recvmsg);
    if (n > 0) {
        c.run(category::copy_out, m_c.l_copy_user);
        c.touch_dma_lines(category::copy_out, lines_of(static_cast<size_t>(n)), m_params.dca, true);
        c.copy(category::copy_out, static_cast<size_t>(n));
    }
    return syscall_return(c, n);
}

// write(2)/send(2): tcp_sendmsg copies the user's bytes into the socket's buffers, then pushes
// what the windows allow down the stack (TCP output, IP, the device) in the same call.
long linux_kernel::send(int fd, const uint8_t* buf, size_t len)
{
    cpu_core& c = syscall_enter();
    c.run(category::net_stack_out, m_c.l_tcp_sendmsg);
    if (len > 0 && (m_files.poll(fd) & net::ep::out)) {
        c.run(category::copy_in, m_c.l_copy_user);
        c.copy(category::copy_in, len);
    }
    return syscall_return(c, m_files.send(fd, buf, len));
}

int linux_kernel::close(int fd)
{
    cpu_core& c = syscall_enter();
    c.run(category::syscall, m_c.l_sock_close);
    if (fd >= 0 && static_cast<size_t>(fd) < m_ep_waiters.size())
        m_ep_waiters[fd] = ep_waiter{};
    if (sock(fd) != nullptr) {   // a datagram socket
        if (m_socks[fd]->port != 0)
            m_stack->unbind_udp(m_socks[fd]->port);
        for (auto& [p, meta] : m_socks[fd]->rxq)
            m_pool->free(p);
        m_socks[fd].reset();
    }
    return syscall_return(c, m_files.close(fd));
}

int linux_kernel::epoll_create()
{
    cpu_core& c = syscall_enter();
    c.run(category::syscall, m_c.l_sock_call);
    const int epfd = m_files.epoll_create();
    if (m_ep_waiters.size() <= static_cast<size_t>(epfd))
        m_ep_waiters.resize(static_cast<size_t>(epfd) + 1);
    m_ep_waiters[epfd] = ep_waiter{};
    return syscall_return(c, epfd);
}

int linux_kernel::epoll_ctl(int epfd, net::epoll_op op, int fd, uint32_t events, uint64_t data)
{
    cpu_core& c = syscall_enter();
    c.run(category::syscall, op == net::epoll_op::mod ? m_c.l_epoll_ctl_mod : m_c.l_epoll_ctl);
    if (llc_stamp* w = m_files.watch_state(fd))
        c.touch_resident(category::syscall, *w, m_c.l_epitem_lines);
    return syscall_return(c, m_files.epoll_ctl(epfd, op, fd, events, data));
}

// ep_poll: report what the ready list holds; with nothing, the task sleeps on the instance's wait
// queue until ep_poll_callback wakes it or the timeout's hrtimer does.
int linux_kernel::epoll_wait(int epfd, net::epoll_event* events, int max, int64_t timeout_ns)
{
    cpu_core& c = syscall_enter();
    if (m_files.epoll(epfd) == nullptr || max <= 0)
        return syscall_return(c, m_files.is_stream(epfd) || max <= 0 ? -EINVAL : -EBADF);
    c.run(category::scheduler, m_c.l_epoll_wait);
    const sc_core::sc_time deadline =
        timeout_ns > 0 ? c.local_time() + sim::ns_to_time(static_cast<double>(timeout_ns)) : sc_core::SC_ZERO_TIME;
    for (;;) {
        const int n = m_files.harvest(epfd, events, max, [&](int fd) {   // -EBADF if closed meanwhile
            c.run(category::scheduler, m_c.l_ep_scan);
            if (llc_stamp* w = m_files.watch_state(fd))
                c.touch_resident(category::scheduler, *w, m_c.l_epitem_lines);
        });
        if (n != 0 || timeout_ns == 0)
            return syscall_return(c, n);
        if (deadline != sc_core::SC_ZERO_TIME && c.local_time() >= deadline)
            return syscall_return(c, 0);
        // On the wait queue before looking again: a callback from now on wakes this task.
        ep_waiter& w = m_ep_waiters[epfd];
        w = ep_waiter{c.current(), &c, deadline};
        if (m_files.epoll(epfd)->has_queued()) {
            w = ep_waiter{};
            continue;
        }
        if (deadline != sc_core::SC_ZERO_TIME)
            arm_timer(c);
        c.block();
        m_ep_waiters[epfd] = ep_waiter{};
    }
}

} // namespace iovsim::os::linux_path
