#pragma once
// The Linux-like kernel path of one host: an ixgbe-like driver for the e10k's physical function
// (MSI-X interrupt, NAPI polling with a budget, receive buffers refilled as they are used, DCA),
// the in-kernel protocol stack, UDP sockets with a receive queue and a wait queue, and the
// recvfrom/sendto system calls with their kernel crossings and copies. The scheduler is the core's:
// a receiver with nothing queued blocks, and the softirq that queues a datagram wakes it.
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "os/core/cpu_core.h"
#include "os/dev/e10k_queue.h"
#include "os/kernel/phys_alloc.h"
#include "os/net/buffer_pool.h"
#include "os/net/socket_api.h"
#include "os/net/stack.h"

namespace iovsim::os::linux_path {

struct linux_params {
    uint32_t rx_ring = 512;
    uint32_t tx_ring = 512;
    uint32_t buffers = 2048;
    uint32_t buf_bytes = 2048;
    unsigned napi_budget = 64;
    double itr_us = 0;            // interrupt throttling interval (EITR)
    bool dca = true;              // the driver enables DCA: DMA'd lines land in the LLC
    unsigned irq = 0x40;          // host interrupt number of the queue's vector
};

struct linux_stats {
    uint64_t interrupts = 0, napi_polls = 0, rx_packets = 0, rx_errors = 0, rx_no_buffer = 0,
             tx_packets = 0, tx_ring_full = 0, sock_drops = 0;
};

class linux_kernel : public net::socket_api {
public:
    linux_kernel(cpu_core& core, kernel::phys_alloc& mem, wire::mac_addr mac, wire::ipv4_addr ip,
                 const linux_params& params);

    // Driver probe and interface up; runs on the core (kernel code, MMIO).
    void boot();

    net::net_stack& stack() { return *m_stack; }
    const linux_stats& stats() const { return m_stats; }

    // socket_api: system calls
    int udp_socket() override;
    int bind(int fd, uint16_t port) override;
    long recvfrom(int fd, uint8_t* buf, size_t len, net::sock_addr& from) override;
    long sendto(int fd, const uint8_t* buf, size_t len, const net::sock_addr& to) override;

private:
    struct udp_sock : net::udp_socket_state {
        task* waiter = nullptr;   // the task asleep in recvfrom
    };
    void irq(unsigned vector);
    unsigned napi_poll();
    void xmit(net::pkt& frame);
    void deliver(udp_sock& s, net::pkt& p, const net::udp_meta& meta);
    udp_sock* sock(int fd);

    cpu_core& m_core;
    const cost_model& m_c;
    kernel::phys_alloc& m_mem;
    linux_params m_params;
    dev::dev_handle m_pf;
    std::unique_ptr<net::buffer_pool> m_pool;
    std::unique_ptr<dev::e10k_rx_ring> m_rx;
    std::unique_ptr<dev::e10k_tx_ring> m_tx;
    std::unique_ptr<net::net_stack> m_stack;
    std::vector<std::unique_ptr<udp_sock>> m_socks;
    primitive m_none{};
    linux_stats m_stats;
};

} // namespace iovsim::os::linux_path
