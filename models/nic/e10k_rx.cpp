// Receive pipeline of the e10k: MAC -> packet buffer -> classification -> descriptor fetch ->
// data DMA -> descriptor write-back -> interrupt cause.
#include <algorithm>

#include "models/nic/e10k.h"
#include "models/nic/ring.h"

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
    if (!m_rx_enabled || m_rx_fifo_bytes + len > m_params.rx_packet_buffer_bytes) {
        ++m_stats.rx_buffer_overflow;
        return;
    }
    m_rx_fifo.push_back(frame);
    m_rx_fifo_bytes += len;
    m_rx_event.notify(SC_ZERO_TIME);
}

void e10k_nic::rx_thread()
{
    for (;;) {
        while (m_rx_fifo.empty())
            wait(m_rx_event);
        frame_ptr frame = m_rx_fifo.front();
        wait(m_params.cycle * m_params.rx_parse_cycles);
        const rx_decision d = m_classifier.classify(frame->bytes.data(), frame->bytes.size());
        if (d.delivered()) {
            for (unsigned pool = 0; pool < e10k::num_pools; ++pool) {
                if (!((d.pools >> pool) & 1))
                    continue;
                const unsigned q = *d.queue_for(pool);
                if (rx_deliver(q, *frame))
                    ++m_stats.rx_frames;
            }
        }
        m_rx_fifo.pop_front();
        m_rx_fifo_bytes -= frame->bytes.size();
    }
}

// Refills the queue's descriptor cache from host memory: up to the batch size, stopping at the
// ring's end (the next fetch continues from index 0).
bool e10k_nic::rx_fetch(unsigned queue)
{
    rx_queue& q = m_rxq[queue];
    const uint32_t n = q.ring_size();
    const uint32_t avail = ring_index::available(q.fetch, q.tail, n);
    if (avail == 0)
        return false;
    const uint32_t count = std::min({avail, m_params.rx_desc_fetch_batch, n - q.fetch});
    uint8_t buf[e10k::desc_bytes * 64];
    const uint32_t bytes = count * e10k::desc_bytes;
    if (!dma_read(rid_of_queue(queue), q.base + q.fetch * e10k::desc_bytes, buf, bytes))
        return false;
    for (uint32_t i = 0; i < count; ++i)
        q.cache.push_back(e10k::rx_desc_read::decode(buf + i * e10k::desc_bytes));
    q.fetch = ring_index::advance(q.fetch, count, n);
    return true;
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
    if (q.cache.empty() && !rx_fetch(queue)) {
        ++m_stats.rx_no_descriptor;
        ++q.drops;
        return false;
    }
    const e10k::rx_desc_read desc = q.cache.front();
    q.cache.pop_front();
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
        if (!dma_write(rid, desc.pkt_addr, frame.bytes.data(), frame.bytes.size(), true))
            wb.status_error |= e10k::RXD_ERR_RXE;
    }
    uint8_t wb_bytes[e10k::desc_bytes];
    wb.encode(wb_bytes);
    dma_write(rid, q.base + index * e10k::desc_bytes, wb_bytes, sizeof wb_bytes, true);
    q.head = ring_index::advance(q.head, 1, n);
    ++q.packets;
    m_stats.rx_bytes += frame.bytes.size();
    raise_queue_irq(queue, false);
    return !(wb.status_error & e10k::RXD_ERR_RXE);
}

} // namespace iovsim::nic
