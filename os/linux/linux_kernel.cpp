#include "os/linux/linux_kernel.h"

#include <algorithm>
#include <cstring>

#include "models/nic/e10k_regs.h"
#include "models/platform/address_map.h"
#include "os/kernel/pf_setup.h"

namespace iovsim::os::linux_path {

namespace reg = iovsim::e10k;
using net::pkt;

linux_kernel::linux_kernel(cpu_core& core, kernel::phys_alloc& mem, wire::mac_addr mac, wire::ipv4_addr ip,
                           const linux_params& params)
    : m_core(core), m_c(core.costs()), m_mem(mem), m_params(params), m_pf{&core, models::nic_pf_bar0}
{
    net::stack_costs sc;
    sc.eth_rx = &m_c.l_eth_rx;
    sc.ip_rx = &m_c.l_ip_rx;
    sc.udp_rx = &m_c.l_udp_rx;
    sc.udp_tx = &m_c.l_udp_tx;
    sc.ip_tx = &m_c.l_ip_tx;
    sc.eth_tx = &m_none;   // neighbour output is part of ip_tx's path
    m_stack = std::make_unique<net::net_stack>(core, mac, ip, sc);
    m_stack->set_interface([this](pkt& f) { xmit(f); }, [this](pkt& p) { m_pool->free(p); },
                           [this](pkt& p) { return m_pool->alloc(p); });
}

void linux_kernel::boot()
{
    const category c = category::scheduler;   // boot work belongs to no table row; excluded by warm-up
    const uint64_t pool_pa = m_mem.alloc(static_cast<uint64_t>(m_params.buffers) * m_params.buf_bytes);
    m_pool = std::make_unique<net::buffer_pool>(m_core, pool_pa, m_params.buffers, m_params.buf_bytes);
    m_rx = std::make_unique<dev::e10k_rx_ring>(m_pf, reg::pf::RDBAL0, m_mem.alloc(m_params.rx_ring * reg::desc_bytes),
                                               m_params.rx_ring, m_params.buf_bytes);
    m_tx = std::make_unique<dev::e10k_tx_ring>(m_pf, reg::pf::TDBAL0, m_mem.alloc(m_params.tx_ring * reg::desc_bytes),
                                               m_params.tx_ring);
    kernel::e10k_set_address(m_pf, c, 0, m_stack->mac(), 0);
    m_rx->init(c);
    m_tx->init(c);
    pkt p;
    while (m_rx->free_slots() > 0 && m_pool->alloc(p))
        m_rx->post(p);
    m_rx->doorbell(c);
    m_core.set_irq_handler([this](unsigned v) { irq(v); });
    kernel::e10k_pf_route_irq(m_pf, c, 0, 0, m_core.apic_id(), m_params.irq, m_params.itr_us);
    kernel::e10k_enable(m_pf, c);
}

// ---- Driver -------------------------------------------------------------------------------------

// ixgbe_msix_clean_rings: the vector was auto-masked by the device; NAPI polls in the softirq that
// runs at interrupt exit, until the budget is not exhausted, then re-enables the vector.
void linux_kernel::irq(unsigned vector)
{
    if (vector != m_params.irq)
        return;
    ++m_stats.interrupts;
    m_core.run(category::net_stack_in, m_c.l_irq_entry);
    while (napi_poll() >= m_params.napi_budget) {
    }
    m_pf.write_reg(category::net_stack_in, reg::pf::EIMS, 1u);   // napi_complete: unmask
    m_core.run(category::net_stack_in, m_c.l_irq_exit);
}

unsigned linux_kernel::napi_poll()
{
    ++m_stats.napi_polls;
    m_core.run(category::net_stack_in, m_c.l_napi_poll);
    // Transmit completions first, as ixgbe_poll does; each is work of the request it carried.
    dev::reclaim_sent(m_core, *m_tx, *m_pool, m_c.l_tx_clean, m_params.dca);
    const dev::rx_driver_costs costs{&m_c.l_rx_desc, &m_c.l_rx_refill, m_params.dca};
    unsigned n = 0;
    while (n < m_params.napi_budget && m_rx->ready()) {
        pkt p;
        const dev::rx_outcome got = dev::take_and_refill(m_core, *m_rx, *m_pool, costs, p);
        ++n;
        if (got != dev::rx_outcome::frame) {
            ++(got == dev::rx_outcome::error ? m_stats.rx_errors : m_stats.rx_no_buffer);
            continue;
        }
        ++m_stats.rx_packets;
        m_core.run(category::net_stack_in, m_c.l_skb_alloc);
        m_core.touch_dma_lines(category::net_stack_in, 1, m_params.dca, false);   // the headers
        m_stack->input(p);
    }
    m_rx->doorbell(category::net_stack_in);
    return n;
}

void linux_kernel::xmit(pkt& frame)
{
    m_core.run(category::net_stack_out, m_c.l_dev_xmit);
    ++(dev::transmit(m_core, *m_tx, *m_pool, m_c.l_tx_desc, frame) ? m_stats.tx_packets : m_stats.tx_ring_full);
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
    m_core.run(category::syscall, m_c.l_syscall_entry);
    m_socks.push_back(std::make_unique<udp_sock>());
    m_core.run(category::kernel_return, m_c.l_syscall_exit);
    return static_cast<int>(m_socks.size() - 1);
}

int linux_kernel::bind(int fd, uint16_t port)
{
    m_core.run(category::syscall, m_c.l_syscall_entry);
    udp_sock* s = sock(fd);
    const bool ok = s && m_stack->bind_udp(port, [this, s](pkt& p, const net::udp_meta& m) { deliver(*s, p, m); });
    if (ok)
        s->port = port;
    m_core.run(category::kernel_return, m_c.l_syscall_exit);
    return ok ? 0 : -1;
}

// Softirq context: queue the datagram on the socket and signal the reader (sk_data_ready).
void linux_kernel::deliver(udp_sock& s, pkt& p, const net::udp_meta& meta)
{
    m_core.run(category::net_stack_in, m_c.l_sock_enqueue);
    if (s.rxq.size() >= 1024) {
        ++m_stats.sock_drops;
        m_pool->free(p);
        return;
    }
    s.rxq.emplace_back(p, meta);
    if (s.waiter != nullptr) {
        m_core.run(category::scheduler, m_c.l_wake_sleeping);
        task* t = s.waiter;
        s.waiter = nullptr;
        m_core.wake(*t);
    } else {
        m_core.run(category::scheduler, m_c.l_wake_running);
    }
}

long linux_kernel::recvfrom(int fd, uint8_t* buf, size_t len, net::sock_addr& from)
{
    m_core.run(category::syscall, m_c.l_syscall_entry);
    udp_sock* s = sock(fd);
    if (s == nullptr) {
        m_core.run(category::kernel_return, m_c.l_syscall_exit);
        return -1;
    }
    while (s->rxq.empty()) {
        s->waiter = m_core.current();
        m_core.block();
    }
    auto [p, meta] = s->rxq.front();
    s->rxq.pop_front();
    m_core.set_request(p.request);
    m_core.run(category::net_stack_in, m_c.l_sock_dequeue);
    const size_t n = std::min<size_t>(len, p.len);
    m_core.run(category::copy_out, m_c.l_copy_user);
    m_core.touch_dma_lines(category::copy_out, lines_of(n), m_params.dca, true);
    m_core.copy(category::copy_out, n);
    std::memcpy(buf, p.bytes(), n);
    from = net::sock_addr{meta.src, meta.sport};
    m_core.run(category::net_stack_in, m_c.l_skb_free);
    m_pool->free(p);
    m_core.run(category::kernel_return, m_c.l_syscall_exit);
    return static_cast<long>(n);
}

long linux_kernel::sendto(int fd, const uint8_t* buf, size_t len, const net::sock_addr& to)
{
    m_core.run(category::syscall, m_c.l_syscall_entry);
    udp_sock* s = sock(fd);
    pkt p;
    if (s == nullptr || len > m_params.buf_bytes - net::headroom || !m_pool->alloc(p)) {
        m_core.run(category::kernel_return, m_c.l_syscall_exit);
        return -1;
    }
    m_core.run(category::net_stack_out, m_c.l_skb_alloc);
    m_core.run(category::copy_in, m_c.l_copy_user);
    m_core.copy(category::copy_in, len);
    std::memcpy(p.bytes(), buf, len);
    p.len = static_cast<uint32_t>(len);
    const bool ok = m_stack->udp_output(p, s->port, to.ip, to.port);
    m_core.run(category::kernel_return, m_c.l_syscall_exit);
    return ok ? static_cast<long>(len) : -1;
}

} // namespace iovsim::os::linux_path
