#pragma once
// The Arrakis dataplane of one application: a library OS instance that drives the VNIC it was
// granted directly: the VF's receive and transmit rings in the application's own DMA region, polled
// from user level, and a user-level protocol stack. No system call and no kernel crossing is on the
// data path. The same driver serves a client host's PF queue (the register offsets differ).
#include <cstdint>
#include <functional>
#include <memory>

#include "os/core/cpu_core.h"
#include "os/dataplane/doorbell.h"
#include "os/dev/e10k_queue.h"
#include "os/kernel/control_plane.h"
#include "os/net/buffer_pool.h"
#include "os/net/stack.h"
#include "os/net/tcp.h"

namespace iovsim::os::dataplane {

struct dataplane_params {
    uint32_t rx_ring = 512;
    uint32_t tx_ring = 512;
    uint32_t buffers = 2048;
    uint32_t buf_bytes = 2048;
    uint32_t rx_doorbell_batch = 32;   // buffers returned before the tail register is written
    unsigned poll_batch = 32;          // frames taken per poll
    bool software_demux = false;       // the control plane left some of the VNIC's filters to software
    bool tcp_software_checksum = true; // the library's TCP sums its segments itself (no checksum offload)
};

struct dataplane_stats {
    uint64_t rx_packets = 0, rx_errors = 0, rx_no_buffer = 0, tx_packets = 0, tx_ring_full = 0, polls = 0;
};

class dataplane {
public:
    // Where the VF's DMA writes land: DRAM. This path has no DCA (the paper's Linux had it, Arrakis
    // did not), so a DMA'd line the library touches first comes from memory.
    static constexpr bool dca = false;

    dataplane(cpu_core& core, const kernel::vnic_grant& grant, const dataplane_params& params);

    // Rings and buffers in the grant's region; queue registers through the VF's BAR.
    void init();
    // Takes up to poll_batch received frames through the stack, and runs the TCP timers that are
    // due. Returns how many frames.
    unsigned poll();
    // Sleeps (no host time) until a frame is ready; the time waits as 'poll' for no request. With
    // TCP on, it returns at the next TCP timer at the latest (then by polling the ring's memory,
    // not on the doorbell set: a doorbell wait has no deadline).
    void wait_rx();
    // As wait_rx, but returns at `deadline` (absolute) at the latest, or at the next TCP timer.
    void wait_rx_until(const sc_core::sc_time& deadline);

    // TCP in the library's stack, with the Arrakis primitives (a_tcp_*); its timers run from
    // poll(). `seed` chooses initial sequence numbers. Once only.
    net::tcp_layer& enable_tcp(const net::tcp_params& params, uint64_t seed = 1);
    net::tcp_layer* tcp() { return m_tcp.get(); }
    bool rx_ready() const { return m_rx->ready(); }
    // Adds the receive queue's doorbell to `db` as descriptor `fd`; from then on the blocking waits
    // of the POSIX and native APIs (wait_rx) wait on the doorbell set: by interrupt, the kernel
    // waking the task, instead of sleeping on the ring's memory.
    void attach_doorbell(doorbell_set& db, int fd);

    // Frames go to `take` first; those it does not take (returns false) go on to the protocol stack.
    // The driver echo (workloads/udp_echo) answers in the driver this way.
    void set_driver_hook(std::function<bool(net::pkt&)> take) { m_driver_hook = std::move(take); }
    // Hands a whole frame (off at its Ethernet header) to the transmit ring, as the stack does.
    void send_frame(net::pkt& frame) { xmit(frame); }

    net::net_stack& stack() { return *m_stack; }
    net::buffer_pool& pool() { return *m_pool; }
    cpu_core& core() { return m_core; }
    const dataplane_params& params() const { return m_params; }
    const dataplane_stats& stats() const { return m_stats; }

private:
    void xmit(net::pkt& frame);
    void run_tcp_timers();
    // The next TCP timer as an absolute time; SC_ZERO_TIME when none is armed.
    sc_core::sc_time tcp_deadline() const;

    cpu_core& m_core;
    const cost_model& m_c;
    kernel::vnic_grant m_grant;
    dataplane_params m_params;
    dev::dev_handle m_dev;
    std::unique_ptr<net::buffer_pool> m_pool;
    std::unique_ptr<dev::e10k_rx_ring> m_rx;
    std::unique_ptr<dev::e10k_tx_ring> m_tx;
    std::unique_ptr<net::net_stack> m_stack;
    std::unique_ptr<net::tcp_layer> m_tcp;   // after the stack and the pool: gone before them
    dataplane_stats m_stats;
    sc_core::sc_event m_rx_written;   // a write-back landed in the receive ring
    doorbell_set* m_doorbells = nullptr;
    std::function<bool(net::pkt&)> m_driver_hook;
};

} // namespace iovsim::os::dataplane
