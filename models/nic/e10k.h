#pragma once
// The SR-IOV NIC, after the Intel 82599: one physical function and up to 64 virtual functions
// sharing 128 receive and 128 transmit queues (2 per pool), a 10 GbE MAC, and a DMA engine behind
// one PCIe link. Register map and descriptor formats: models/nic/e10k_regs.h.
//
// Pipeline, each stage in its own file:
//   e10k_regs.cpp  register files of the PF and the VFs (typed registers, declared once)
//   e10k_rx.cpp    MAC receive -> packet buffer -> classify (pool, queue) -> descriptor fetch ->
//                  data DMA -> descriptor write-back -> interrupt
//   e10k_tx.cpp    tail doorbell -> descriptor fetch -> data fetch -> transmit packet buffer ->
//                  MAC transmit -> write-back -> interrupt
// Descriptor and data reads are split transactions, as PCIe reads are: the DMA engine issues a read
// and goes on while the completion travels, so descriptor prefetch and data fetch overlap the MAC
// sending earlier frames, and back-to-back frames leave at line rate.
//   msix_function  interrupt causes, masks, throttling and MSI-X messages per function
#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "models/common/reg_file.h"
#include "models/net/eth.h"
#include "models/nic/e10k_regs.h"
#include "models/nic/msix_function.h"
#include "models/nic/ring.h"
#include "models/nic/rx_classifier.h"
#include "models/nic/tx_sched.h"
#include "models/platform/dma_port.h"
#include "models/platform/tlm_ext.h"

namespace iovsim::nic {

struct e10k_params {
    unsigned num_vfs = 0;                 // VFs the PF enables at reset (SR-IOV NumVFs)
    double line_gbps = 10.0;
    sc_core::sc_time cycle = sc_core::sc_time(6.4, sc_core::SC_NS);  // 156.25 MHz XGMII clock
    unsigned rx_parse_cycles = 8;         // header parse and filter lookup per frame
    unsigned dma_setup_cycles = 4;        // building a DMA request (per descriptor or buffer)
    unsigned rx_desc_fetch_batch = 8;     // descriptors read per fetch (up to what is available)
    unsigned tx_desc_fetch_batch = 8;
    unsigned rx_desc_cache = 32;          // on-die descriptor cache per queue: prefetch depth
    unsigned tx_desc_cache = 40;          // 82599: 40 transmit descriptors per queue (7.2.3.3)
    uint64_t rx_packet_buffer_bytes = 512 * 1024;  // 82599: 512 KB receive packet buffer
    uint64_t tx_packet_buffer_bytes = 160 * 1024;  // 82599: 160 KB transmit packet buffer
    bool rich_filters = false;            // the transmit filters on IP and port (TXFTQF...) exist
};

struct e10k_stats {
    uint64_t rx_frames = 0, rx_bytes = 0, tx_frames = 0, tx_bytes = 0;
    uint64_t rx_crc_errors = 0, rx_undersize = 0, rx_oversize = 0;
    uint64_t rx_buffer_overflow = 0;     // packet buffer full
    uint64_t rx_mac_disabled = 0;        // arrived while RXCTRL.RXEN was clear
    uint64_t rx_no_descriptor = 0;       // queue had no free descriptor
    uint64_t rx_queue_disabled = 0;
    uint64_t rx_buffer_too_small = 0;
    uint64_t tx_malformed_descriptors = 0;
    uint64_t tx_bad_frames = 0;          // assembled frame too short or too long
    uint64_t tx_writeback_bursts = 0;    // batched write-backs (TXDCTL.WTHRESH > 0)
    uint64_t dma_errors = 0;             // a DMA answered with an error (IOMMU fault, bad address)
    uint64_t mmio_errors = 0;
    uint64_t bad_filter_writes = 0;      // FTQF enabled with an invalid priority: ignored
    uint64_t mbx_refused_writes = 0;     // mailbox memory written by the side that did not own it
    // Frames a VF sent that its pool may not (dropped, their descriptors completed): a source MAC
    // not the pool's (PFVFSPOOF.MACAS; SSVPC counts them all), or no transmit filter allowing them.
    std::array<uint64_t, e10k::num_pools> tx_spoofed{};
    std::array<uint64_t, e10k::num_pools> tx_filtered{};
};

// A pipeline stage's own clock: within one activation it runs ahead of SystemC time by `ahead`
// (loosely-timed TLM with temporal decoupling: its DMAs carry the offset as annotated delay); the
// stage, a method, re-arms itself for when its clock says the work is done, and what the outside
// must see at its own moment (head moves, interrupt causes) happens then.
struct engine_clock {
    sc_core::sc_time ahead;
    sc_core::sc_time now() const { return sc_core::sc_time_stamp() + ahead; }
    void advance(const sc_core::sc_time& t) { ahead += t; }
    void at_least(const sc_core::sc_time& when)
    {
        if (when > now())
            ahead = when - sc_core::sc_time_stamp();
    }
};

class e10k_nic : public sc_core::sc_module, public models::net::eth_endpoint {
public:
    tlm_utils::simple_target_socket<e10k_nic> bar;       // MMIO: PF and VF BARs (full addresses)
    tlm_utils::simple_initiator_socket<e10k_nic> dma;    // upstream to the PCIe link

    e10k_nic(sc_core::sc_module_name name, const e10k_params& params);

    void attach(models::net::eth_link& link, unsigned side) { m_mac_tx.attach(link, side); }
    void frame_arrived(const models::net::frame_ptr& frame) override;  // MAC receive
    bool takes_early_delivery() const override { return true; }
    void frame_arriving(const models::net::frame_ptr& frame, const sc_core::sc_time& at) override;

    const e10k_stats& stats() const { return m_stats; }
    const tx_scheduler& tx_sched() const { return m_tx_sched; }
    const rx_classifier& classifier() const { return m_classifier; }
    // Per-queue counters (also readable as QPRC/QPRDC).
    uint64_t queue_rx_packets(unsigned q) const { return m_rxq.at(q).packets; }
    uint64_t queue_rx_drops(unsigned q) const { return m_rxq.at(q).drops; }
    // Occupancy, for traces: bytes in the packet buffers; receive descriptors software has posted
    // that the device has not used, and transmit descriptors it has not sent, over all queues.
    uint64_t rx_buffer_bytes() const { return m_rx_fifo_bytes; }
    uint64_t tx_buffer_bytes() const { return m_tx_fifo_bytes; }
    uint32_t rx_descriptors_posted() const;
    uint32_t tx_descriptors_pending() const;

private:
    struct rx_cached {
        e10k::rx_desc_read desc;
        sc_core::sc_time ready;              // when its read completion arrives
    };
    struct rx_queue {
        uint64_t base = 0;
        uint32_t len_bytes = 0, head = 0, tail = 0, srrctl = 2, rxdctl = 0;
        uint32_t fetch = 0;                  // next descriptor index to fetch
        uint32_t epoch = 0;                  // bumped by a head write: drops fetches in flight
        std::deque<rx_cached> cache;         // fetched, in ring order from head
        uint64_t packets = 0, drops = 0;
        uint32_t ring_size() const { return len_bytes / e10k::desc_bytes; }
    };
    struct tx_cached {
        uint32_t index;
        e10k::tx_desc desc;
        sc_core::sc_time ready;
    };
    using tx_done_list = std::vector<std::pair<uint32_t, e10k::tx_desc>>;   // (index, descriptor)
    struct tx_queue {
        uint64_t base = 0;
        uint32_t len_bytes = 0, head = 0, tail = 0, txdctl = 0;
        uint32_t fetch = 0;
        uint32_t epoch = 0;
        std::deque<tx_cached> cache;
        std::vector<uint8_t> assembling;     // frame being gathered from buffers until EOP
        sc_core::sc_time assembling_ready;   // when the last of its data arrives
        tx_done_list consumed;               // descriptors of that frame, for write-back
        bool discarding = false;             // dropping the rest of a bad frame up to its EOP
        tx_done_list writeback;              // completed, waiting for TXDCTL.WTHRESH to be reached
        uint64_t packets = 0;
        uint32_t ring_size() const { return len_bytes / e10k::desc_bytes; }
    };
    // An entry of the transmit packet buffer: a frame (or none, for descriptors of a dropped one)
    // and the descriptors to complete once the MAC has it.
    struct tx_entry {
        models::net::frame_ptr frame;
        sc_core::sc_time ready;
        unsigned queue;
        tx_done_list done;
        uint64_t bytes;
    };
    struct function {
        models::reg_file regs;
        std::unique_ptr<msix_function> irq;
        uint16_t rid = 0;
        unsigned pool = 0;                   // VF: its pool; PF: the default pool (VT_CTL.DEF_PL)
        std::array<uint8_t, e10k::queues_per_pool> ivar_rx{}, ivar_tx{};  // VF: VTIVAR entries
        uint8_t ivar_misc = 0;               // VF: VTIVAR_MISC; PF: IVAR_MISC
        // VF: its mailbox (PFMBMEM / VFMBMEM and the PFMAILBOX / VFMAILBOX state).
        std::array<uint32_t, e10k::mbx_words> mbx{};
        bool vfu = false, pfu = false, pfsts = false, pfack = false, rstd = true;
    };
    struct filter_ids {
        unsigned saqf, daqf, sdpqf, ftqf, l34t_imir;   // l34t_imir: none for transmit filters
    };
    struct register_ids {
        unsigned ral, rah, mpsar_lo, mpsar_hi;
        filter_ids rx, tx;
    };

    // e10k_regs.cpp
    void build_pf_registers();
    void build_vf_registers(unsigned vf);
    void add_rx_queue_registers(models::reg_file& regs, uint32_t base, unsigned first_queue, unsigned count);
    void add_tx_queue_registers(models::reg_file& regs, uint32_t base, unsigned first_queue, unsigned count);
    void bar_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    void add_filter_registers(filter_ids& ids, uint32_t saqf, uint32_t daqf, uint32_t sdpqf, uint32_t ftqf, uint32_t l34t_imir,
                                    five_tuple_table& table);
    void sync_filter(const filter_ids& ids, five_tuple_table& table, unsigned idx);
    void sync_address(unsigned idx);
    void sync_pool_enables();
    void build_mailbox_registers();
    void build_vf_mailbox_registers(unsigned vf);
    void mailbox_to_pf(unsigned vf, uint32_t bits);   // PFMBICR bits (VFREQ, VFACK) and the PF's interrupt
    void raise_misc_irq(function& fn);

    // e10k_rx.cpp
    void rx_stage();
    bool rx_deliver(unsigned queue, const models::net::eth_frame& frame);
    void rx_prefetch(unsigned queue);
    void rx_doorbell(unsigned queue);
    void raise_queue_irq(unsigned queue, bool tx);

    // e10k_tx.cpp
    void tx_stage();
    void tx_mac_stage();    // MAC stage: frames out at line rate, then write-back
    void tx_write_back(unsigned queue);
    bool tx_service(unsigned queue);
    void tx_prefetch(unsigned queue);
    void tx_finish_frame(unsigned queue, models::net::frame_ptr frame);
    bool tx_allowed(unsigned queue, const std::vector<uint8_t>& frame);   // anti-spoof, transmit filters
    void tx_doorbell(unsigned queue, const sc_core::sc_time& delay);

    // DMA on behalf of a function. dma_read_issue sends the request at the stage's clock and
    // advances it while the request is on the link; the data is in `data` and `ready` says when its
    // completion arrives. Writes are posted: a stage's clock advances while the link serializes
    // them; without a clock (an interrupt message) nothing waits. False when the path answered with
    // an error (counted in dma_errors).
    // Issues reads for descriptors software has handed over (fetch pointer up to tail), a batch at
    // a time, while the queue's cache has room for a whole batch or is empty; a batch stops at the
    // ring's end. `take(index, bytes, ready)` caches each descriptor read. A faulting read stops
    // the prefetch until the next doorbell; a head rewritten meanwhile (epoch) makes it stale.
    template <typename Queue, typename Take>
    void prefetch(Queue& q, unsigned queue, uint32_t cache_size, uint32_t fetch_batch, engine_clock& clk, Take take)
    {
        const uint32_t n = q.ring_size();
        const uint32_t capacity = std::max(1u, cache_size);
        const uint32_t batch = std::max(1u, std::min(fetch_batch, capacity));
        const uint16_t rid = rid_of_queue(queue);
        for (;;) {
            const uint32_t avail = ring_index::available(q.fetch, q.tail, n);
            const uint32_t room = capacity > q.cache.size() ? capacity - static_cast<uint32_t>(q.cache.size()) : 0;
            if (avail == 0 || room == 0 || (room < batch && !q.cache.empty()))
                return;
            const uint32_t count = std::min({avail, batch, n - q.fetch, room});
            m_desc_scratch.resize(count * e10k::desc_bytes);
            sc_core::sc_time ready;
            const uint32_t epoch = q.epoch;
            if (!dma_read_issue(rid, q.base + q.fetch * e10k::desc_bytes, m_desc_scratch.data(), m_desc_scratch.size(),
                                ready, clk))
                return;
            if (epoch != q.epoch)
                return;
            for (uint32_t i = 0; i < count; ++i)
                take(ring_index::advance(q.fetch, i, n), m_desc_scratch.data() + i * e10k::desc_bytes, ready);
            q.fetch = ring_index::advance(q.fetch, count, n);
        }
    }
    tlm::tlm_response_status dma_transport(tlm::tlm_command cmd, uint16_t rid, uint64_t addr, uint8_t* data,
                                           size_t len, sc_core::sc_time& delay, sc_core::sc_time& sender_busy);
    bool dma_read_issue(uint16_t rid, uint64_t addr, uint8_t* data, size_t len, sc_core::sc_time& ready,
                        engine_clock& clk);
    bool dma_write(uint16_t rid, uint64_t addr, const uint8_t* data, size_t len, engine_clock* clk);
    uint16_t rid_of_queue(unsigned queue) const;
    unsigned vector_of_queue(unsigned queue, bool tx, function*& fn);
    function* function_of_queue(unsigned queue);

    e10k_params m_params;
    e10k_stats m_stats;
    rx_classifier m_classifier;
    function m_pf;
    std::vector<std::unique_ptr<function>> m_vfs;
    std::array<rx_queue, e10k::num_queues> m_rxq;
    std::array<tx_queue, e10k::num_queues> m_txq;
    std::array<uint8_t, e10k::num_queues> m_pf_ivar_rx{}, m_pf_ivar_tx{};  // 8-bit IVAR entries
    uint64_t m_vf_rx_enabled = 0, m_vf_tx_enabled = 0;   // PFVFRE, PFVFTE
    uint32_t m_pfmbicr[e10k::pf::num_pfmbicr] = {};       // PFMBICR
    uint32_t m_pfmbimr[e10k::pf::num_pfmbicr] = {};       // PFMBIMR
    uint64_t m_mac_antispoof = 0;                        // PFVFSPOOF.MACAS, a bit per pool
    uint64_t m_tx_filtering = 0;                         // TXFCTL, a bit per pool (rich filters)
    five_tuple_table m_tx_filters{e10k::pf::num_tx_filters};
    uint32_t m_vt_ctl = 0;
    bool m_rx_enabled = false, m_tx_enabled = false;     // RXCTRL.RXEN, DMATXCTL.TE

    models::net::eth_tx_port m_mac_tx;
    std::deque<models::net::frame_ptr> m_rx_fifo;         // the receive packet buffer
    uint64_t m_rx_fifo_bytes = 0;
    sc_core::sc_event m_rx_event;
    struct rx_completion {
        unsigned queue;
        uint32_t bytes;
    };
    std::vector<rx_completion> m_rx_done;
    std::deque<std::pair<sc_core::sc_time, models::net::frame_ptr>> m_rx_incoming;   // on the wire, in order                 // frames whose write-back is on its way
    sc_core::sc_time m_rx_busy_until;                     // the receive engine's clock
    sc_core::sc_time m_tx_busy_until;                     // the transmit fetch engine's clock
    uint64_t m_rx_prefetch_mask[2] = {0, 0};             // queues whose tail moved
    sc_core::sc_event m_tx_event;
    uint64_t m_tx_pending_mask[2] = {0, 0};              // queues whose tail moved
    std::deque<tx_entry> m_tx_fifo;                       // the transmit packet buffer
    uint64_t m_tx_fifo_bytes = 0;
    sc_core::sc_event m_tx_fifo_event;                    // an entry was queued
    sc_core::sc_event m_tx_space_event;                   // an entry left
    tx_scheduler m_tx_sched;                              // arbitration and rate limiters
    uint32_t m_rttdqsel = 0;                              // RTTDQSEL: the queue or pool selected
    register_ids m_id{};
    models::dma_port m_dma;                               // reused by every DMA
    std::vector<uint8_t> m_desc_scratch;                  // descriptor fetch buffer
    engine_clock m_rx_clk, m_tx_clk;                      // the RX and TX fetch threads' clocks
    sc_core::sc_time m_setup_time, m_parse_time;          // dma_setup_cycles and rx_parse_cycles in time
    sc_core::sc_time m_mmio_delay;                        // annotated delay of the access in progress
};

} // namespace iovsim::nic
