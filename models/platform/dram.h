#pragma once
// Host DRAM: a byte array with an access latency and a bandwidth. Devices reach it by TLM
// transactions (DMA, after the IOMMU); cores reach it directly (DMI), their cost charged by the
// software's cost model. A DMA write lands at the time its annotated delay says (a posted write in
// flight is not yet visible to cores). The controller serves accesses in the order they arrive, so
// a DMA read sees every write before it, landed or still in flight (PCIe: a read does not pass a
// posted write).
//
// Landing is applied lazily: a process runs at a write's landing time only if someone asked to be
// told (a watch on the range, or anyone holding dma_write_event()); everyone else catches up when
// they look (catch_up(), called by cores whenever they resume, and by host_ptr()). The memory seen
// at any instant is the same as if every write had been applied at its landing time.
#include <cstdint>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "models/platform/address_map.h"

namespace iovsim::models {

struct dram_params {
    uint64_t size_bytes = 256ULL << 20;
    sc_core::sc_time access_latency = sc_core::sc_time(80, sc_core::SC_NS);
    double bandwidth_gbps = 10.6 * 8;  // bits per ns
};

class dram : public sc_core::sc_module {
public:
    tlm_utils::simple_target_socket<dram> target;

    dram(sc_core::sc_module_name name, const dram_params& params);

    // Direct access for software running on cores (the DMI view). Bounds-checked.
    uint8_t* host_ptr(uint64_t pa, uint64_t len);
    uint64_t size() const { return m_params.size_bytes; }

    // Notified when any DMA write becomes visible. Asking for it turns on a notification per write.
    const sc_core::sc_event& dma_write_event()
    {
        m_notify_every_write = true;
        return m_write_event;
    }
    // Applies every write that has landed by now (a reader that resumes calls this before looking).
    void catch_up();
    // An event notified when a DMA write to [base, base+len) becomes visible: a poller sleeps on
    // the memory it polls (a descriptor ring), not on every write. Returns the watch's id.
    unsigned watch(uint64_t base, uint64_t len, sc_core::sc_event& ev);
    void unwatch(unsigned id);
    // A core's store to [base, base+len) that another core may be polling (cache coherence: the
    // poller's copy of the line is invalidated and its next load misses): wakes the watches on that
    // range at `when` (absolute; now if earlier). The bytes are already in memory (cores use DMI).
    void announce_store(uint64_t base, uint64_t len, const sc_core::sc_time& when);

    uint64_t bytes_read() const { return m_bytes_read; }
    uint64_t bytes_written() const { return m_bytes_written; }
    uint64_t errors() const { return m_errors; }

private:
    struct pending_write {
        sc_core::sc_time when;
        uint64_t seq;
        uint64_t addr;
        std::vector<uint8_t> data;
    };
    struct later {
        bool operator()(const pending_write& a, const pending_write& b) const
        {
            return a.when != b.when ? a.when > b.when : a.seq > b.seq;
        }
    };

    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
    void apply_writes();
    sc_core::sc_time occupy(uint64_t bytes, const sc_core::sc_time& start);

    dram_params m_params;
    struct free_deleter { void operator()(uint8_t* p) const; };
    std::unique_ptr<uint8_t, free_deleter> m_bytes;  // calloc'ed: pages are backed on first touch
    void overlay_pending(uint64_t addr, uint64_t len, uint8_t* out) const;

    std::vector<pending_write> m_pending;   // a heap under `later`: earliest landing on top
    std::vector<std::vector<uint8_t>> m_spare;   // buffers of landed writes, for reuse
    struct watch_range {
        uint64_t base, len;
        sc_core::sc_event* ev;   // null: removed
    };
    std::vector<watch_range> m_watches;
    struct notification {
        sc_core::sc_time when;
        sc_core::sc_event* ev;
        bool operator>(const notification& o) const { return when > o.when; }
    };
    std::vector<notification> m_notify;       // a min-heap: who is told when
    bool m_notify_every_write = false;
    sc_core::sc_event m_apply_event;
    sc_core::sc_event m_write_event;
    sc_core::sc_time m_busy_until;
    uint64_t m_seq = 0;
    uint64_t m_bytes_read = 0;
    uint64_t m_bytes_written = 0;
    uint64_t m_errors = 0;
};

} // namespace iovsim::models
