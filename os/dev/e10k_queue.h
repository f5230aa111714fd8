#pragma once
// Receive and transmit descriptor rings of an e10k queue, as a driver keeps them: descriptors in
// host memory, the driver's own view of which buffer sits in which slot, and the doorbell (the tail
// register write) kept apart from the ring logic. Shared by the kernel's PF driver and the user-level
// VF driver; both reach the device only through dev_handle (MMIO) and memory.
#include <cstdint>
#include <vector>

#include "models/nic/e10k_regs.h"
#include "os/core/cpu_core.h"
#include "os/net/buffer_pool.h"
#include "os/net/pkt.h"

namespace iovsim::os::dev {

// A device's register window as the driver sees it: read_reg/write_reg at offsets in its BAR.
// Without a core, the access is made by whichever core runs the driver (cpu_core::this_cpu): a
// multi-queue kernel driver whose queues are served by several cores.
struct dev_handle {
    cpu_core* core = nullptr;
    uint64_t bar = 0;
    cpu_core& cpu() const { return core ? *core : *cpu_core::this_cpu(); }
    void write_reg(category c, uint32_t off, uint32_t v) const { cpu().mmio_write32(c, bar + off, v); }
    uint32_t read_reg(category c, uint32_t off) const { return cpu().mmio_read32(c, bar + off); }
};

class e10k_rx_ring {
public:
    // `regs`: offset of this queue's RDBAL in the BAR (RDBAH, RDLEN, ... follow at e10k offsets).
    e10k_rx_ring(dev_handle dev, uint32_t regs, uint64_t ring_pa, uint32_t size, uint32_t buf_bytes);

    // Programs base, length, buffer size and enables the queue (head = tail = 0).
    void init(category c);
    // Puts a buffer in the next free slot; the device sees it after doorbell(). False when full.
    bool post(const net::pkt& p);
    // Writes the tail register if slots were posted since the last doorbell.
    void doorbell(category c);
    // The next descriptor has been written back (DD): a frame, or an error, is there.
    bool ready() const;
    // Takes the written-back slot's buffer: len set to the frame length, off 0. `error` is set
    // when the device reported an error for it (the buffer is still returned, for reuse).
    net::pkt take(bool& error);
    uint32_t free_slots() const;
    uint32_t size() const { return m_size; }
    uint32_t pending_doorbell() const { return m_unannounced; }

private:
    dev_handle m_dev;
    uint32_t m_regs;
    uint64_t m_ring_pa;
    uint8_t* m_ring;
    uint32_t m_size;
    uint32_t m_buf_bytes;
    uint32_t m_next_to_use = 0;     // next slot software fills
    uint32_t m_next_to_clean = 0;   // next slot the device completes
    uint32_t m_unannounced = 0;
    std::vector<net::pkt> m_slots;
};

class e10k_tx_ring {
public:
    e10k_tx_ring(dev_handle dev, uint32_t regs, uint64_t ring_pa, uint32_t size);

    void init(category c);
    // One frame in one buffer, with report-status so it can be reclaimed. False when full.
    bool post(const net::pkt& frame);
    void doorbell(category c);
    // The oldest sent buffer, if the device has written its descriptor back.
    bool reclaim(net::pkt& out);
    bool reclaim_ready() const;
    uint32_t free_slots() const;
    uint32_t in_flight() const { return m_in_flight; }

private:
    dev_handle m_dev;
    uint32_t m_regs;
    uint64_t m_ring_pa;
    uint8_t* m_ring;
    uint32_t m_size;
    uint32_t m_next_to_use = 0;
    uint32_t m_next_to_clean = 0;
    uint32_t m_in_flight = 0;
    uint32_t m_unannounced = 0;
    std::vector<net::pkt> m_slots;
};

// What the drivers share per completed receive descriptor: take the frame, open the request it
// starts, pay for reading the descriptor (a line the device wrote: in the LLC with DCA) and the
// driver's own work, and put a fresh buffer in the slot. Without a fresh buffer the frame's own
// goes back to the ring and the frame is dropped.
enum class rx_outcome { frame, error, no_buffer };
struct rx_driver_costs {
    const primitive* desc;      // per descriptor
    const primitive* refill;    // per buffer returned to the ring
    bool dca;                   // DMA'd lines land in the LLC
};
// (These helpers are inline: they run per packet on every path.)
inline rx_outcome take_and_refill(cpu_core& core, e10k_rx_ring& ring, net::buffer_pool& pool,
                                  const rx_driver_costs& costs, net::pkt& out)
{
    bool error = false;
    out = ring.take(error);
    out.request = core.open_request();
    core.touch_dma_lines(category::net_stack_in, 1, costs.dca, false);   // the written-back descriptor
    core.run(category::net_stack_in, *costs.desc);
    net::pkt fresh;
    if (!pool.alloc(fresh)) {
        ring.post(out);
        return rx_outcome::no_buffer;
    }
    ring.post(fresh);
    core.run(category::net_stack_in, *costs.refill);
    if (error) {
        pool.free(out);
        return rx_outcome::error;
    }
    return rx_outcome::frame;
}

// Reclaims every sent buffer whose descriptor the device has written back; each reclaim is work
// of the request the buffer carried. Returns how many.
inline unsigned reclaim_sent(cpu_core& core, e10k_tx_ring& ring, net::buffer_pool& pool, const primitive& clean, bool dca)
{
    const request_id current = core.request();
    unsigned n = 0;
    net::pkt done;
    while (ring.reclaim_ready()) {
        ring.reclaim(done);
        core.set_request(done.request);
        core.touch_dma_lines(category::net_stack_out, 1, dca, false);   // the written-back descriptor
        core.run(category::net_stack_out, clean);
        pool.free(done);
        ++n;
    }
    core.set_request(current);
    return n;
}

// Hands a frame to the transmit ring for the current request and rings the doorbell; when the
// ring is full the frame is dropped (its buffer freed) and false returned.
inline bool transmit(cpu_core& core, e10k_tx_ring& ring, net::buffer_pool& pool, const primitive& desc, net::pkt& frame)
{
    frame.request = core.request();
    if (!ring.post(frame)) {
        pool.free(frame);
        return false;
    }
    core.run(category::net_stack_out, desc);
    ring.doorbell(category::net_stack_out);
    return true;
}

} // namespace iovsim::os::dev
