// Receive pipeline of the e10k: MAC -> packet buffer -> classification -> descriptor fetch ->
// data DMA -> descriptor write-back -> interrupt cause.
#include <algorithm>
#include <vector>

#include "models/nic/e10k.h"
#include "models/nic/ring.h"
#include "sim/trace.h"

using namespace sc_core;
using iovsim::models::net::eth_frame;
using iovsim::models::net::frame_ptr;

namespace iovsim::nic {

void e10k_nic::frame_arrived(const frame_ptr& frame)
{
    const size_t len = frame->bytes.size();
    if (!frame->fcs_ok) {
        ++m_stats.rx_crc_errors;
        return;
    }
    if (len < models::net::min_frame_bytes) {
        ++m_stats.rx_undersize;
        return;
    }
    if (len > models::net::max_tagged_frame_bytes) {
        ++m_stats.rx_oversize;
        return;
    }
    if (!m_rx_enabled) {
        ++m_stats.rx_mac_disabled;
        return;
    }
    if (m_rx_fifo_bytes + len > m_params.rx_packet_buffer_bytes) {
        ++m_stats.rx_buffer_overflow;
        return;
    }
    m_rx_fifo.push_back(frame);
    m_rx_fifo_bytes += len;
    m_rx_event.notify(SC_ZERO_TIME);
}

// The link hands a frame over while it is still on the wire; the MAC receives it at `at`.
void e10k_nic::frame_arriving(const frame_ptr& frame, const sc_time& at)
{
    m_rx_incoming.emplace_back(at, frame);
    m_rx_event.notify(at - sc_time_stamp());
}

// A tail write: the engine prefetches the new descriptors when it is next idle.
void e10k_nic::rx_doorbell(unsigned queue)
{
    m_rx_prefetch_mask[queue / 64] |= 1ULL << (queue % 64);
    m_rx_event.notify(SC_ZERO_TIME);
}

// One activation of the receive engine (a method: the engine never blocks). It first completes the
// frames it handled last time, whose write-backs have now gone out (their head moves and interrupt
// causes are due now), then takes the next frame from the packet buffer, or else prefetches
// descriptors for a queue whose tail moved. That work runs on the engine's own clock; the method
// re-arms itself for when it is done.
void e10k_nic::rx_stage()
{
    const sc_time now = sc_time_stamp();
    while (!m_rx_incoming.empty() && m_rx_incoming.front().first <= now) {
        frame_ptr f = std::move(m_rx_incoming.front().second);
        m_rx_incoming.pop_front();
        frame_arrived(f);
    }
    for (const rx_completion& c : m_rx_done) {
        rx_queue& q = m_rxq[c.queue];
        q.head = ring_index::advance(q.head, 1, q.ring_size());
        ++q.packets;
        m_stats.rx_bytes += c.bytes;
        raise_queue_irq(c.queue, false);
    }
    m_rx_done.clear();
    m_rx_clk.ahead = m_rx_busy_until > now ? m_rx_busy_until - now : SC_ZERO_TIME;
    if (!m_rx_fifo.empty()) {
        frame_ptr frame = m_rx_fifo.front();
        const sc_time began = m_rx_clk.now();
        m_rx_clk.advance(m_parse_time);
        const rx_decision d = m_classifier.classify(frame->bytes.data(), frame->bytes.size());
        if (d.delivered()) {
            for (uint64_t pools = d.pools; pools != 0; pools &= pools - 1) {
                const unsigned pool = static_cast<unsigned>(__builtin_ctzll(pools));
                const unsigned q = *d.queue_for(pool);
                if (rx_deliver(q, *frame))
                    ++m_stats.rx_frames;
            }
        }
        m_rx_fifo.pop_front();
        m_rx_fifo_bytes -= frame->bytes.size();
        if (trace::timeline* t = trace::active_timeline)
            t->slice(t->module_lane(name(), " rx"), "parse, DMA", began, m_rx_clk.now() - began, 0, frame->bytes.size());
    } else {
        const unsigned q = next_queue(m_rx_prefetch_mask, 0);
        if (q == e10k::num_queues) {
            // Idle until a frame or a tail write (m_rx_event), or the next frame on the wire.
            if (!m_rx_incoming.empty())
                next_trigger(m_rx_incoming.front().first - now, m_rx_event);
            else
                next_trigger();
            return;
        }
        m_rx_prefetch_mask[q / 64] &= ~(1ULL << (q % 64));
        const rx_queue& rq = m_rxq[q];
        if ((rq.rxdctl & e10k::RXDCTL_ENABLE) && ring_index::is_valid_size(rq.ring_size()))
            rx_prefetch(q);
    }
    m_rx_busy_until = now + m_rx_clk.ahead;
    next_trigger(m_rx_clk.ahead);
}

// Issues reads for descriptors software has handed over (fetch pointer up to tail), a batch at a
// time, while the cache has room for a whole batch or is empty; does not wait for them to arrive.
// A batch stops at the ring's end (the next one continues from index 0).
void e10k_nic::rx_prefetch(unsigned queue)
{
    rx_queue& q = m_rxq[queue];
    prefetch(q, queue, m_params.rx_desc_cache, m_params.rx_desc_fetch_batch, m_rx_clk,
             [&q](uint32_t, const uint8_t* d, const sc_time& ready) {
                 q.cache.push_back({e10k::rx_desc_read::decode(d), ready});
             });
}

bool e10k_nic::rx_deliver(unsigned queue, const eth_frame& frame)
{
    rx_queue& q = m_rxq[queue];
    const uint32_t n = q.ring_size();
    if (!(q.rxdctl & e10k::RXDCTL_ENABLE) || !ring_index::is_valid_size(n)) {
        ++m_stats.rx_queue_disabled;
        ++q.drops;
        return false;
    }
    rx_prefetch(queue);
    if (q.cache.empty()) {
        ++m_stats.rx_no_descriptor;
        ++q.drops;
        return false;
    }
    const rx_cached front = q.cache.front();
    q.cache.pop_front();
    m_rx_clk.at_least(front.ready);
    const e10k::rx_desc_read& desc = front.desc;
    const uint32_t index = q.head;
    const uint32_t buf_bytes = ((q.srrctl & e10k::SRRCTL_BSIZEPKT_MASK) >> e10k::SRRCTL_BSIZEPKT_SHIFT) * 1024;
    e10k::rx_desc_wb wb{};
    wb.status_error = e10k::RXD_STAT_DD | e10k::RXD_STAT_EOP;
    const uint16_t rid = rid_of_queue(queue);
    if (frame.bytes.size() > buf_bytes) {
        // One buffer per frame in this model: a frame that does not fit completes with an error.
        ++m_stats.rx_buffer_too_small;
        wb.status_error |= e10k::RXD_ERR_RXE;
    } else {
        wb.length = static_cast<uint16_t>(frame.bytes.size());
        if (!dma_write(rid, desc.pkt_addr, frame.bytes.data(), frame.bytes.size(), &m_rx_clk))
            wb.status_error |= e10k::RXD_ERR_RXE;
    }
    uint8_t wb_bytes[e10k::desc_bytes];
    wb.encode(wb_bytes);
    dma_write(rid, q.base + index * e10k::desc_bytes, wb_bytes, sizeof wb_bytes, &m_rx_clk);
    // The head move and the interrupt cause are seen from outside: they happen when the engine's
    // clock gets there (the next activation of rx_stage).
    m_rx_done.push_back({queue, static_cast<uint32_t>(frame.bytes.size())});
    rx_prefetch(queue);   // top the cache up while the next frame is parsed
    return !(wb.status_error & e10k::RXD_ERR_RXE);
}

} // namespace iovsim::nic
