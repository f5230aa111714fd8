#pragma once
// A driver-side queue pair of the storage controller or of a VSIC (both speak the format of
// models/storage/storage_regs.h): a submission ring of 64-byte commands and a completion ring of
// 16-byte entries in simulated memory, and the pair's registers and doorbells.
//
// The registers are either a BAR (the physical controller, a hardware VSIC: MMIO) or a page of
// memory at the same offsets (an emulated VSIC, whose core polls that page: a store there is
// announced to whoever watches it, as a coherent cache would invalidate the poller's copy).
//
// Waiting: with interrupts (Linux-like path), wait() blocks the task and the owner's interrupt
// handler calls interrupt(); with polling (the Arrakis dataplane), wait() sleeps on a watch of the
// completion ring (dram::watch, or the store announcements of an emulated VSIC). Idle is cheap.
#include <cstdint>
#include <vector>

#include "models/storage/storage_regs.h"
#include "os/core/cpu_core.h"

namespace iovsim::os::dev {

enum class blk_op : uint8_t { read, write, flush };

struct blk_request {
    blk_op op = blk_op::read;
    uint32_t nsid = 0;       // the controller's namespace (storage::pf_nsid) or a VSA id on a VSIC
    uint64_t lba = 0;        // 512-byte blocks, VSA-relative on a VSIC
    uint32_t blocks = 0;     // 0 for flush
    uint64_t iova = 0;       // contiguous data buffer (or the first PRP entry when prp is set)
    uint16_t cid = 0;        // echoed in the completion; the caller keeps them unique in flight
    bool prp = false;        // iova/iova2 are PRP entries (storage::SQE_DPTR_PRP)
    uint64_t iova2 = 0;      // PRP entry 2 or PRP list
};

struct blk_completion {
    uint16_t cid = 0;
    uint16_t status = 0;     // storage::status
};

// Where the pair's registers are.
struct blk_regs {
    cpu_core* core = nullptr;
    uint64_t base = 0;          // BAR address, or physical address of the emulated register page
    bool in_memory = false;     // emulated VSIC: registers are memory words, stores are announced

    void write(category c, uint32_t off, uint32_t v) const;
    uint32_t read(category c, uint32_t off) const;
};

enum class blk_wait { poll, interrupt };

// Where a completion's line is when the driver reads it: written by the device (DMA, in DRAM, or in
// the LLC with DCA), or by another core (an emulated VSIC).
enum class blk_line_source { dram, llc, remote_core };

struct blk_queue_params {
    unsigned qid = 0;               // queue pair index in the function
    uint64_t sq_pa = 0;             // rings the caller allocated (IOVA == PA in the device's domain)
    uint64_t cq_pa = 0;
    uint32_t entries = 64;          // both rings
    blk_wait wait = blk_wait::poll;
    unsigned msix_entry = 0;        // interrupt: the function's MSI-X table entry the pair signals
    unsigned apic_id = 0;           // interrupt: the core it goes to, and its vector there
    unsigned irq_vector = 0;
    blk_line_source completion_line = blk_line_source::dram;
    // What the driver's own work per command costs; null: the lean user-level driver's
    // (arrakis.blk_submit, arrakis.blk_reap). A path whose layer above already prices the driver
    // (Linux's block layer) passes its own.
    const primitive* submit_cost = nullptr;
    const primitive* reap_cost = nullptr;
    // Polling: the event a completion's arrival notifies; null: the queue's own. A poller of several
    // queues gives them one event and sleeps on it (cpu_core::wait_until).
    sc_core::sc_event* completion_event = nullptr;
};

class blk_queue {
public:
    blk_queue(blk_regs regs, const blk_queue_params& p);
    ~blk_queue();

    // Programs the pair (bases, sizes, the MSI-X entry when interrupting) and enables it. The
    // function must be enabled (CC.EN) by whoever owns it.
    void init(category c);
    // Writes the command and rings the tail doorbell (charged). False when the ring is full.
    bool submit(category c, const blk_request& r);
    // Completions posted so far (phase tag), at most `max`; one head doorbell for all. Returns how many.
    size_t reap(category c, std::vector<blk_completion>& out, size_t max);
    // Sleeps until a completion can have arrived (returns at once if one is there). Idle is cheap.
    void wait(category c);
    // The owner's interrupt handler: the pair's vector fired.
    void interrupt();

    bool completion_ready() const;
    // What a completion's arrival notifies (polling queues).
    const sc_core::sc_event& completion_event() const { return m_p.completion_event ? *m_p.completion_event : m_cq_written; }
    // The next completion without taking it (no charge: the caller pays when it reaps); false if none.
    bool peek(blk_completion& c) const;
    uint32_t in_flight() const { return m_in_flight; }
    uint32_t entries() const { return m_p.entries; }

private:
    blk_regs m_regs;
    blk_queue_params m_p;
    uint8_t* m_sq;
    uint8_t* m_cq;
    uint32_t m_sq_tail = 0;
    uint32_t m_sq_head = 0;          // as the device last reported it (CQE SQ head)
    uint32_t m_cq_head = 0;
    bool m_phase = true;
    uint32_t m_in_flight = 0;
    task* m_waiter = nullptr;
    sc_core::sc_event m_cq_written;
    unsigned m_watch = ~0u;
};

} // namespace iovsim::os::dev
