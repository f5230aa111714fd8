#pragma once
// The Linux-like kernel path of one host: an ixgbe-like driver for the e10k's physical function
// (MSI-X interrupt, NAPI polling with a budget, receive buffers refilled as they are used, DCA),
// the in-kernel protocol stack, UDP sockets with a receive queue and a wait queue, and the
// recvfrom/sendto system calls with their kernel crossings and copies. The scheduler is the core's:
// a receiver with nothing queued blocks, and the softirq that queues a datagram wakes it.
//
// With several cores, the driver gives each core a queue pair and an interrupt vector, as ixgbe
// does (one MSI-X vector per queue pair, affinity one per CPU); a socket's traffic reaches a core's
// queue by a 5-tuple filter (`ethtool -N ... action q`: steer_udp_port) and leaves by the sending
// core's transmit queue (XPS). The stack and the sockets are shared; each piece of code charges the
// core that runs it. An HTB-like queueing discipline can be put on the device (add_rate_limit):
// then every transmitted packet goes through it, under its one root lock, and a class over its
// rate waits for the qdisc watchdog (a timer interrupt on the core that armed it).
//
// TCP (enable_tcp): the kernel's tcp_layer, one per host and shared by the cores, behind stream
// sockets and epoll as system calls (stream_api). The NAPI softirq hands segments to it; a socket's
// readiness runs ep_poll_callback on each epoll instance watching it, which queues the socket on
// the ready list and wakes the task asleep in epoll_wait. The kernel's timers (TCP's, epoll_wait's
// timeout, the qdisc watchdog) share the core's local APIC timer vector and its one handler.
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "os/core/cpu_core.h"
#include "os/dev/e10k_queue.h"
#include "os/kernel/phys_alloc.h"
#include "os/linux/htb.h"
#include "os/net/buffer_pool.h"
#include "os/net/socket_api.h"
#include "os/net/stack.h"
#include "os/net/stream_api.h"
#include "os/net/stream_files.h"
#include "os/net/tcp.h"

namespace iovsim::os::linux_path {

struct linux_params {
    uint32_t rx_ring = 512;
    uint32_t tx_ring = 512;
    uint32_t buffers = 2048;      // per queue pair
    uint32_t buf_bytes = 2048;
    unsigned napi_budget = 64;
    uint32_t txqueuelen = 1000;   // frames the default qdisc holds while the driver's queue is stopped
    double itr_us = 0;            // interrupt throttling interval (EITR)
    bool dca = true;              // the driver enables DCA: DMA'd lines land in the LLC
    unsigned irq = 0x40;          // host interrupt number of queue 0's vector (queue q: irq + q)
    unsigned timer_irq = 0xEF;    // the local APIC timer's vector (qdisc watchdog, TCP timers, epoll timeouts)
};

struct linux_stats {
    uint64_t interrupts = 0, napi_polls = 0, rx_packets = 0, rx_errors = 0, rx_no_buffer = 0,
             tx_packets = 0, tx_ring_full = 0, sock_drops = 0;
    uint64_t tx_queue_stops = 0, tx_requeued = 0;   // netif_stop_subqueue, frames held meanwhile
    uint64_t qdisc_drops = 0, qdisc_watchdogs = 0;
    uint64_t syscalls = 0, timer_interrupts = 0, epoll_wakeups = 0;
};

class linux_kernel : public net::socket_api, public net::stream_api {
public:
    linux_kernel(cpu_core& core, kernel::phys_alloc& mem, wire::mac_addr mac, wire::ipv4_addr ip,
                 const linux_params& params);
    // A queue pair and an interrupt vector per core; cores[0] boots the kernel.
    linux_kernel(std::vector<cpu_core*> cores, kernel::phys_alloc& mem, wire::mac_addr mac, wire::ipv4_addr ip,
                 const linux_params& params);

    // Driver probe and interface up; runs on cores[0] (kernel code, MMIO).
    void boot();
    // `ethtool -N <dev> flow-type udp4 dst-port <port> action <queue>`: a 5-tuple filter (82599
    // 7.1.2.5) steers the port's datagrams to the queue of core `queue`. Runs on the calling core.
    void steer_udp_port(uint16_t port, unsigned queue);
    // `tc`: an HTB root qdisc on the device (made on first use, with an unlimited default class)
    // and a class limiting what UDP source port `sport` sends to `rate_bps` with a `burst_bytes`
    // bucket. Returns the class.
    unsigned add_rate_limit(uint16_t sport, double rate_bps, uint64_t burst_bytes);
    const htb_class_stats* qdisc_class_stats(unsigned cls) const;
    // The kernel's TCP (registers protocol 6 with the stack). `seed` chooses initial sequence numbers.
    void enable_tcp(const net::tcp_params& params, uint64_t seed);
    net::tcp_layer* tcp() { return m_tcp.get(); }

    net::net_stack& stack() { return *m_stack; }
    const linux_stats& stats() const { return m_stats; }
    unsigned queues() const { return static_cast<unsigned>(m_queues.size()); }

    // socket_api: system calls
    int udp_socket() override;
    int bind(int fd, uint16_t port) override;
    long recvfrom(int fd, uint8_t* buf, size_t len, net::sock_addr& from) override;
    long sendto(int fd, const uint8_t* buf, size_t len, const net::sock_addr& to) override;

    // stream_api: system calls (sockets are non-blocking; epoll_wait blocks the task)
    int tcp_socket() override;
    int tcp_bind(int fd, uint16_t port) override;
    int listen(int fd, int backlog) override;
    int accept(int fd, net::sock_addr* peer) override;
    int connect(int fd, const net::sock_addr& to) override;
    long recv(int fd, uint8_t* buf, size_t len) override;
    long send(int fd, const uint8_t* buf, size_t len) override;
    int close(int fd) override;
    int epoll_create() override;
    int epoll_ctl(int epfd, net::epoll_op op, int fd, uint32_t events, uint64_t data) override;
    int epoll_wait(int epfd, net::epoll_event* events, int max, int64_t timeout_ns) override;

private:
    struct udp_sock : net::udp_socket_state {
        task* waiter = nullptr;        // the task asleep in recvfrom
        cpu_core* waiter_core = nullptr;
    };
    // The task asleep in epoll_wait on an instance (ep->wq), and its timeout (SC_ZERO_TIME: none).
    struct ep_waiter {
        task* waiter = nullptr;
        cpu_core* core = nullptr;
        sc_core::sc_time deadline;
    };
    struct queue_pair {
        cpu_core* core = nullptr;
        std::unique_ptr<dev::e10k_rx_ring> rx;
        std::unique_ptr<dev::e10k_tx_ring> tx;
        // The driver stopped the queue (too few free descriptors): frames wait in the default
        // qdisc, oldest first, until a transmit clean frees enough (ixgbe's TX_WAKE_THRESHOLD).
        bool stopped = false;
        std::deque<net::pkt> held;
    };
    struct queued {
        net::pkt frame;
        unsigned txq;
    };
    cpu_core& cpu() const;                 // the core running the caller
    unsigned queue_of(const cpu_core& c) const;
    void irq(unsigned q, unsigned vector);
    unsigned napi_poll(unsigned q);
    void xmit(net::pkt& frame);
    void driver_xmit(cpu_core& c, unsigned txq, net::pkt& frame);
    void wake_queue(cpu_core& c, unsigned txq);
    void stop_queue(cpu_core& c, unsigned txq);
    void qdisc_run(cpu_core& c);
    void arm_watchdog(cpu_core& c);
    void timer_irq(cpu_core& c);
    void arm_timer(cpu_core& c);
    cpu_core& syscall_enter();
    template <typename T> T syscall_return(cpu_core& c, T result);
    void ep_callback(int epfd, bool queued);
    unsigned classify(const net::pkt& frame) const;
    void deliver(udp_sock& s, net::pkt& p, const net::udp_meta& meta);
    udp_sock* sock(int fd);

    std::vector<cpu_core*> m_cores;
    const cost_model& m_c;
    kernel::phys_alloc& m_mem;
    linux_params m_params;
    dev::dev_handle m_pf;
    std::unique_ptr<net::buffer_pool> m_pool;
    std::vector<queue_pair> m_queues;
    std::unique_ptr<net::net_stack> m_stack;
    std::vector<std::unique_ptr<udp_sock>> m_socks;
    unsigned m_filters = 0;                // 5-tuple filters in use
    // The HTB qdisc, its classifier (source port -> class) and its root lock's last holder.
    std::unique_ptr<htb<queued>> m_qdisc;
    std::vector<std::pair<uint16_t, unsigned>> m_class_of_sport;
    const cpu_core* m_qdisc_lock_owner = nullptr;
    sc_core::sc_time m_watchdog_at;        // armed watchdog (SC_ZERO_TIME: none)
    // TCP and its sockets; the kernel's own timer armed per core (TCP, epoll timeouts)
    std::unique_ptr<net::tcp_layer> m_tcp;
    net::stream_files m_files;
    std::vector<ep_waiter> m_ep_waiters;   // by epoll descriptor
    std::vector<sc_core::sc_time> m_timer_at;   // per queue's core (SC_ZERO_TIME: none)
    primitive m_none{};
    linux_stats m_stats;
};

} // namespace iovsim::os::linux_path
