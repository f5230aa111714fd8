// Transmit pipeline of the e10k, two stages joined by the transmit packet buffer.
// Fetch stage (tx_thread): a tail write rings the queue's doorbell; queues are served round-robin,
// one frame per turn; descriptors are prefetched into the queue's cache and each frame's buffers
// are read, both as split transactions, so the fetch of later frames overlaps earlier frames'
// completions. MAC stage (tx_mac_stage, a method): takes frames in order once their data has arrived, sends
// them at line rate, then writes back the descriptors that asked for status (RS) and raises the
// queue's interrupt cause.
#include <algorithm>
#include <vector>

#include "models/nic/e10k.h"
#include "models/nic/ring.h"
#include "sim/trace.h"
#include "sim/fast_time.h"

using namespace sc_core;

namespace iovsim::nic {

namespace {
// The transmit scheduler keeps time in picoseconds.
uint64_t to_ps(const sc_time& t)
{
    static const double ps_per_step = sc_get_time_resolution().to_seconds() * 1e12;
    return static_cast<uint64_t>(static_cast<double>(t.value()) * ps_per_step + 0.5);
}
sc_time from_ps(uint64_t ps) { return sim::ns_to_time(static_cast<double>(ps) / 1000.0); }
} // namespace

void e10k_nic::tx_doorbell(unsigned queue, const sc_time& delay)
{
    m_tx_pending_mask[queue / 64] |= 1ULL << (queue % 64);
    m_tx_event.notify(delay);
}

// One activation of the fetch stage (a method, on its own clock): gathers one frame from the queue
// the transmit scheduler picks (round robin, or weighted between pools; queues held by their rate
// limiter wait), then re-arms itself for when the engine is free again. It waits for room in the
// transmit packet buffer before starting a frame, so gathering never blocks.
void e10k_nic::tx_stage()
{
    const sc_time now = sc_time_stamp();
    m_tx_clk.ahead = m_tx_busy_until > now ? m_tx_busy_until - now : SC_ZERO_TIME;
    if (!m_tx_pending_mask[0] && !m_tx_pending_mask[1]) {
        next_trigger();   // idle until a tail write (m_tx_event)
        return;
    }
    if (!m_tx_fifo.empty() && m_tx_fifo_bytes + models::net::max_tagged_frame_bytes > m_params.tx_packet_buffer_bytes) {
        next_trigger(m_tx_space_event);
        return;
    }
    uint64_t wake_ps = 0;
    const unsigned q = m_tx_sched.pick(m_tx_pending_mask, to_ps(m_tx_clk.now()), wake_ps);
    if (q >= e10k::num_queues) {
        // Every queue with work is held by its rate limiter: look again when the first may send,
        // or at a tail write.
        const sc_time wake = from_ps(wake_ps);
        next_trigger(wake > now ? wake - now : SC_ZERO_TIME, m_tx_event);
        return;
    }
    const tx_queue& tq = m_txq[q];
    if (!tx_service(q) || (tq.cache.empty() && tq.assembling.empty() && tq.fetch == tq.tail))
        m_tx_pending_mask[q / 64] &= ~(1ULL << (q % 64));   // nothing left to gather there
    m_tx_busy_until = now + m_tx_clk.ahead;
    if (!m_tx_pending_mask[0] && !m_tx_pending_mask[1])
        next_trigger();   // nothing more: the next tail write finds the engine's clock in m_tx_busy_until
    else
        next_trigger(m_tx_clk.ahead);
}

// Issues reads for descriptors software has handed over, a batch at a time, while the cache has
// room for a whole batch or is empty. A batch stops at the ring's end.
void e10k_nic::tx_prefetch(unsigned queue)
{
    tx_queue& q = m_txq[queue];
    prefetch(q, queue, m_params.tx_desc_cache, m_params.tx_desc_fetch_batch, m_tx_clk,
             [&q](uint32_t index, const uint8_t* d, const sc_time& ready) {
                 q.cache.push_back({index, e10k::tx_desc::decode(d), ready});
             });
}

// Hands what the queue gathered (a frame, or nothing for a dropped one) with its descriptors to
// the MAC stage, waiting while the transmit packet buffer is full.
void e10k_nic::tx_finish_frame(unsigned queue, models::net::frame_ptr frame)
{
    tx_queue& q = m_txq[queue];
    const uint64_t bytes = frame ? frame->bytes.size() : 0;
    if (frame)
        m_tx_sched.charge(queue, models::net::wire_bytes(bytes), to_ps(m_tx_clk.now()));
    m_tx_fifo.push_back({std::move(frame), q.assembling_ready, queue, std::move(q.consumed), bytes});
    m_tx_fifo_bytes += bytes;
    q.consumed.clear();
    q.assembling.clear();
    q.assembling_ready = SC_ZERO_TIME;
    // The MAC stage looks when this frame's data is in (an earlier pending look is kept).
    const sc_time now = sc_time_stamp();
    m_tx_fifo_event.notify(m_tx_fifo.back().ready > now ? m_tx_fifo.back().ready - now : SC_ZERO_TIME);
}

// Gathers at most one frame from the queue into the transmit packet buffer. Returns false when the
// queue has nothing more to send. A bad descriptor or a failed read drops the frame it belongs to,
// up to its EOP; its descriptors still complete.
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
        tx_prefetch(queue);
        if (q.cache.empty())
            return false;
        const tx_cached c = q.cache.front();
        q.cache.pop_front();
        m_tx_clk.at_least(c.ready);
        q.consumed.emplace_back(c.index, c.desc);
        const uint32_t cmd = c.desc.cmd_type_len;
        const uint32_t len = cmd & e10k::TXD_DTALEN_MASK;
        const bool eop = cmd & e10k::TXD_CMD_EOP;
        const bool advanced = cmd & e10k::TXD_CMD_DEXT;
        const bool data_desc = advanced && (cmd & e10k::TXD_DTYP_MASK) == e10k::TXD_DTYP_DATA;
        if (advanced && (cmd & e10k::TXD_DTYP_MASK) == e10k::TXD_DTYP_CTXT)
            continue;   // offload context for the frames after it: no offloads are modelled
        if (q.discarding) {
            if (eop) {
                q.discarding = false;
                tx_finish_frame(queue, nullptr);
                return true;
            }
            continue;
        }
        if (!data_desc || len == 0 || q.assembling.size() + len > models::net::max_tagged_frame_bytes) {
            ++m_stats.tx_malformed_descriptors;
            if (eop) {
                tx_finish_frame(queue, nullptr);
                return true;
            }
            q.discarding = true;
            continue;
        }
        const size_t at = q.assembling.size();
        q.assembling.resize(at + len);
        sc_time ready;
        if (!dma_read_issue(rid, c.desc.buf_addr, q.assembling.data() + at, len, ready, m_tx_clk)) {
            if (eop) {
                tx_finish_frame(queue, nullptr);
                return true;
            }
            q.discarding = true;
            continue;
        }
        q.assembling_ready = std::max(q.assembling_ready, ready);
        if (!eop)
            continue;
        if (q.assembling.size() < 14) {
            ++m_stats.tx_bad_frames;
            tx_finish_frame(queue, nullptr);
            return true;
        }
        if (!tx_allowed(queue, q.assembling)) {
            tx_finish_frame(queue, nullptr);
            return true;
        }
        auto frame = models::net::new_frame();
        frame->bytes.swap(q.assembling);   // the recycled frame's storage becomes the next assembly buffer
        if (frame->bytes.size() < models::net::min_frame_bytes)
            frame->bytes.resize(models::net::min_frame_bytes, 0);   // the MAC pads short frames
        tx_finish_frame(queue, std::move(frame));
        return true;
    }
}

// The transmit switch's security checks on a frame a VF sends (82599 7.10.3.9.2): with MACAS set for
// its pool, the source MAC must be one of the pool's receive addresses (RAL/RAH with the pool's
// MPSAR bit); with the rich filters and TXFCTL set for the pool, an IPv4 frame must match one of
// the pool's transmit filters. The PF's own queues are not checked. A refused frame is dropped and
// counted for the pool.
bool e10k_nic::tx_allowed(unsigned queue, const std::vector<uint8_t>& bytes)
{
    if (function_of_queue(queue) == &m_pf)
        return true;
    const unsigned pool = queue / e10k::queues_per_pool;
    const uint64_t bit = 1ULL << pool;
    if (m_mac_antispoof & bit) {
        mac_address src;
        std::copy(bytes.begin() + 6, bytes.begin() + 12, src.begin());
        if (!(m_classifier.addresses().lookup(src) & bit)) {
            ++m_stats.tx_spoofed[pool];
            return false;
        }
    }
    if (m_tx_filtering & bit) {
        const frame_fields ff = parse_frame(bytes.data(), bytes.size());
        if (ff.ipv4 && !m_tx_filters.match(ff, pool)) {
            ++m_stats.tx_filtered[pool];
            return false;
        }
    }
    return true;
}

// A method rather than a thread: each activation sends what is due and re-arms itself for the
// next frame's start, or waits for the fetch stage to queue one.
void e10k_nic::tx_mac_stage()
{
    while (!m_tx_fifo.empty()) {
        tx_entry& head = m_tx_fifo.front();
        // The frame leaves the buffer when its data is in and the MAC can start it (line-rate
        // backpressure).
        sc_time start = head.ready;
        if (head.frame && m_mac_tx.busy_until() > start)
            start = m_mac_tx.busy_until();
        if (start > sc_time_stamp()) {
            next_trigger(start - sc_time_stamp());
            return;
        }
        tx_entry e = std::move(head);
        m_tx_fifo.pop_front();
        if (e.frame) {
            m_stats.tx_bytes += e.frame->bytes.size();
            ++m_stats.tx_frames;
            ++m_txq[e.queue].packets;
            const sc_time out = m_mac_tx.send(e.frame);
            if (trace::timeline* t = trace::active_timeline) {
                const sc_time wire = m_mac_tx.serialization(e.frame->bytes.size());
                t->slice(t->module_lane(name(), " tx"), "MAC", out - wire, wire, 0, e.frame->bytes.size());
            }
        }
        m_tx_fifo_bytes -= e.bytes;
        m_tx_space_event.notify(SC_ZERO_TIME);
        tx_queue& q = m_txq[e.queue];
        const uint32_t wthresh = (q.txdctl & e10k::TXDCTL_WTHRESH_MASK) >> e10k::TXDCTL_WTHRESH_SHIFT;
        if (wthresh == 0) {
            // Write-back of each descriptor that asked for status (RS), as it completes.
            const uint16_t rid = rid_of_queue(e.queue);
            bool report = false;
            for (const auto& [index, desc] : e.done) {
                if (desc.cmd_type_len & e10k::TXD_CMD_RS) {
                    uint8_t wb[e10k::desc_bytes];
                    e10k::tx_desc done = desc;
                    done.olinfo_status |= e10k::TXD_STAT_DD;
                    done.encode(wb);
                    dma_write(rid, q.base + index * e10k::desc_bytes, wb, sizeof wb, nullptr);
                    report = true;
                }
                q.head = ring_index::advance(index, 1, q.ring_size());
            }
            if (report)
                raise_queue_irq(e.queue, true);
        } else {
            // Write-back batching (82599 7.2.3.5.1): completed descriptors accumulate until
            // WTHRESH of them are waiting, or the queue has nothing more to send.
            for (const auto& d : e.done)
                q.writeback.push_back(d);
            const bool queue_idle = !((m_tx_pending_mask[e.queue / 64] >> (e.queue % 64)) & 1) &&
                                    std::none_of(m_tx_fifo.begin(), m_tx_fifo.end(),
                                                 [&e](const tx_entry& o) { return o.queue == e.queue; });
            if (q.writeback.size() >= wthresh || queue_idle)
                tx_write_back(e.queue);
        }
    }
    next_trigger(m_tx_fifo_event);
}

// Writes the waiting descriptors back, each run of consecutive ring slots as one DMA, every one
// with DD set (with WTHRESH in use, the 82599 writes back all descriptors, not only RS ones).
void e10k_nic::tx_write_back(unsigned queue)
{
    tx_queue& q = m_txq[queue];
    if (q.writeback.empty())
        return;
    const uint16_t rid = rid_of_queue(queue);
    const uint32_t n = q.ring_size();
    std::vector<uint8_t>& run = m_desc_scratch;
    size_t i = 0;
    while (i < q.writeback.size()) {
        const uint32_t first = q.writeback[i].first;
        run.clear();
        size_t j = i;
        while (j < q.writeback.size() && q.writeback[j].first == ring_index::advance(first, j - i, n) &&
               (j == i || q.writeback[j].first != 0)) {
            e10k::tx_desc done = q.writeback[j].second;
            done.olinfo_status |= e10k::TXD_STAT_DD;
            run.resize(run.size() + e10k::desc_bytes);
            done.encode(run.data() + run.size() - e10k::desc_bytes);
            ++j;
        }
        dma_write(rid, q.base + first * e10k::desc_bytes, run.data(), run.size(), nullptr);
        ++m_stats.tx_writeback_bursts;
        i = j;
    }
    q.head = ring_index::advance(q.writeback.back().first, 1, n);
    q.writeback.clear();
    raise_queue_irq(queue, true);
}

} // namespace iovsim::nic
