// Transmit pipeline of the e10k: a tail write rings the queue's doorbell; the engine serves queues
// round-robin, fetches descriptors, gathers each frame's buffers, hands it to the MAC (waiting while
// the MAC is busy: line rate backpressure) and writes back the descriptors that asked for status.
#include <algorithm>

#include "models/nic/e10k.h"
#include "models/nic/ring.h"

using namespace sc_core;

namespace iovsim::nic {

void e10k_nic::tx_doorbell(unsigned queue, const sc_time& delay)
{
    m_tx_pending_mask[queue / 64] |= 1ULL << (queue % 64);
    m_tx_event.notify(delay);
}

void e10k_nic::tx_thread()
{
    for (;;) {
        if (!m_tx_pending_mask[0] && !m_tx_pending_mask[1]) {
            wait(m_tx_event);
            continue;
        }
        // Round robin over queues with work, one frame per turn.
        for (unsigned i = 0; i < e10k::num_queues; ++i) {
            const unsigned q = (m_tx_rr + i) % e10k::num_queues;
            if (!((m_tx_pending_mask[q / 64] >> (q % 64)) & 1))
                continue;
            if (!tx_service(q))
                m_tx_pending_mask[q / 64] &= ~(1ULL << (q % 64));
            m_tx_rr = (q + 1) % e10k::num_queues;
            break;
        }
    }
}

// Sends at most one frame from the queue. Returns false when the queue has nothing more to send.
bool e10k_nic::tx_service(unsigned queue)
{
    tx_queue& q = m_txq[queue];
    const uint32_t n = q.ring_size();
    const unsigned pool = queue / e10k::queues_per_pool;
    const bool vf_queue = function_of_queue(queue) != &m_pf;
    if (!m_tx_enabled || !(q.txdctl & e10k::TXDCTL_ENABLE) || !ring_index::is_valid_size(n) ||
        (vf_queue && !((m_vf_tx_enabled >> pool) & 1)))
        return false;
    const uint16_t rid = rid_of_queue(queue);
    for (;;) {
        if (q.cache.empty()) {
            const uint32_t avail = ring_index::available(q.fetch, q.tail, n);
            if (avail == 0)
                return false;
            const uint32_t count = std::min({avail, m_params.tx_desc_fetch_batch, n - q.fetch});
            uint8_t buf[e10k::desc_bytes * 64];
            if (!dma_read(rid, q.base + q.fetch * e10k::desc_bytes, buf, count * e10k::desc_bytes))
                return false;   // a faulting ring stops the queue
            for (uint32_t i = 0; i < count; ++i)
                q.cache.emplace_back(ring_index::advance(q.fetch, i, n), e10k::tx_desc::decode(buf + i * e10k::desc_bytes));
            q.fetch = ring_index::advance(q.fetch, count, n);
        }
        const auto [index, desc] = q.cache.front();
        q.cache.pop_front();
        const uint32_t len = desc.cmd_type_len & e10k::TXD_DTALEN_MASK;
        const bool data_desc = (desc.cmd_type_len & e10k::TXD_CMD_DEXT) &&
                               (desc.cmd_type_len & e10k::TXD_DTYP_MASK) == e10k::TXD_DTYP_DATA;
        bool frame_done = false;
        if (!data_desc || len == 0 || q.assembling.size() + len > models::net::max_tagged_frame_bytes) {
            ++m_stats.tx_malformed_descriptors;
            q.assembling.clear();
        } else {
            const size_t at = q.assembling.size();
            q.assembling.resize(at + len);
            wait(m_params.cycle * m_params.dma_setup_cycles);
            if (!dma_read(rid, desc.buf_addr, q.assembling.data() + at, len)) {
                q.assembling.clear();
            } else if (desc.cmd_type_len & e10k::TXD_CMD_EOP) {
                frame_done = true;
            }
        }
        if (frame_done) {
            auto frame = std::make_shared<models::net::eth_frame>();
            frame->bytes.swap(q.assembling);
            if (frame->bytes.size() < 14) {
                ++m_stats.tx_bad_frames;
            } else {
                if (frame->bytes.size() < models::net::min_frame_bytes)
                    frame->bytes.resize(models::net::min_frame_bytes, 0);   // the MAC pads short frames
                const sc_time now = sc_time_stamp();
                if (m_mac_tx.busy_until() > now)
                    wait(m_mac_tx.busy_until() - now);
                m_stats.tx_bytes += frame->bytes.size();
                ++m_stats.tx_frames;
                ++q.packets;
                m_mac_tx.send(frame);
            }
        }
        if (desc.cmd_type_len & e10k::TXD_CMD_RS) {
            uint8_t wb[e10k::desc_bytes];
            e10k::tx_desc done = desc;
            done.olinfo_status |= e10k::TXD_STAT_DD;
            done.encode(wb);
            dma_write(rid, q.base + index * e10k::desc_bytes, wb, sizeof wb, true);
        }
        q.head = ring_index::advance(index, 1, n);
        if (desc.cmd_type_len & e10k::TXD_CMD_RS)
            raise_queue_irq(queue, true);
        if (frame_done || !data_desc)
            return true;
    }
}

} // namespace iovsim::nic
