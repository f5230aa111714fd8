#pragma once
// The emulated VSIC, as in the paper's prototype: software on a dedicated core that plays the VSICs
// in front of a controller that has none. Applications drive their VSIC exactly as a hardware one
// (os/dev/blk_queue over the register page the kernel gave them); this core polls those pages and
// the controller's completion ring, checks and translates each command with the VSA table the
// kernel wrote (models/storage/vsa_map.h: the same check as the hardware VSIC), forwards it on a
// queue pair of the controller's physical function, and posts the completion to the VSIC's ring.
//
// Cost: what the core runs is charged from primitives (vsic.poll, vsic.command, vsic.complete, the
// block queue's own), and each line it takes from another core (a doorbell, a command) or gives to
// one (a completion) costs a cross-core transfer (mem.c2c_line_ns). Each forwarded command is one
// request in the core's accounting, category `vsic`. Idle is cheap: the core sleeps on watches of
// the register pages (store announcements) and of the controller's completion ring.
//
// Completions: the application polls its completion ring, or, when its pair asks for interrupts
// (QCTL.IEN), the VSIC core sends the vector of the VSIC's MSI-X entry to the application's core
// as an interprocessor interrupt (a write in MSI format), a virtualized interrupt.
//
// With bounce buffers the data passes through the core (copied, its lines taken from or given to
// the application's core), as an emulation whose controller cannot reach applications' memory would.
//
// The emulated VSIC takes contiguous buffers and two-entry PRPs whose pages lie in the DMA window
// the kernel granted (EMU_DMA_*); a PRP list, which it cannot check without reading it, is refused
// as malformed.
#include <cstdint>
#include <deque>
#include <vector>

#include "models/storage/vsa_map.h"
#include "os/core/cpu_core.h"
#include "os/dev/blk_queue.h"

namespace iovsim::os::kernel {

struct vsic_emulator_params {
    uint64_t window_pa = 0;     // the emulated register pages (vsic_layout::emulated_base)
    unsigned max_vsics = storage::max_vsics;
    unsigned pf_queue = 1;      // the controller's queue pair it forwards on
    uint64_t sq_pa = 0, cq_pa = 0;   // that pair's rings (the PF's domain maps them)
    uint32_t entries = 64;
    // Bounce buffers (0 bytes: none): the core copies write data from the application into a slot
    // of its own memory before forwarding, and read data back after, so the controller's DMA never
    // reaches applications' memory. `bounce_pa`: entries slots of `bounce_slot_bytes` (the PF's
    // domain maps them); larger commands are refused.
    uint64_t bounce_pa = 0;
    uint32_t bounce_slot_bytes = 0;
};

struct vsic_emulator_stats {
    uint64_t commands = 0;      // forwarded to the controller
    uint64_t completions = 0;   // posted to VSICs (forwarded and refused)
    uint64_t refused = 0;       // bounds, rights, namespace, or outside the DMA window
    uint64_t malformed = 0;
    uint64_t interrupts = 0;    // virtualized interrupts sent to applications' cores
    uint64_t passes = 0;        // polling passes that found work (the core sleeps between them)
};

class vsic_emulator {
public:
    vsic_emulator(cpu_core& core, const vsic_emulator_params& p);
    ~vsic_emulator();

    // The dedicated core's task body: programs its queue pair, then serves until stop().
    void run();
    void stop();
    const vsic_emulator_stats& stats() const { return m_stats; }

private:
    struct vsic_state {
        bool enabled = false;
        uint64_t sq_base = 0, cq_base = 0;
        uint32_t sq_size = 0, cq_size = 0, qctl = 0;
        uint32_t sq_head = 0, cq_tail = 0;
        bool phase = true;
        uint64_t dma_base = 0, dma_len = 0;
    };
    struct pending {             // a command at the controller
        unsigned vsic = 0;
        uint16_t cid = 0;
        request_id request = no_request;
        bool busy = false;
        bool read = false;
        uint64_t prp1 = 0, prp2 = 0;   // the application's buffer (bounce: where read data goes)
        bool prp = false;
        uint32_t bytes = 0;
    };
    struct completion {          // waiting for room in a VSIC's completion ring
        unsigned vsic;
        uint16_t cid;
        storage::status code;
        request_id request;
    };

    uint32_t word(uint64_t pa) const;
    uint64_t vsic_base(unsigned v) const;
    void refresh(unsigned v);
    bool has_work();
    void serve(unsigned v);
    void reap();
    bool post(const completion& c);
    bool in_window(const vsic_state& s, uint64_t iova, uint64_t bytes) const;
    // Copies between the application's buffer (contiguous, or two PRP pages) and bounce slot `slot`.
    void bounce_copy(const pending& p, unsigned slot, bool to_bounce);

    cpu_core& m_core;
    vsic_emulator_params m_p;
    std::vector<vsic_state> m_vsics;
    storage::vsa_map m_table;
    std::vector<pending> m_pending;   // by the cid used at the controller
    std::deque<completion> m_backlog;
    unsigned m_rr = 0;
    bool m_stop = false;
    sc_core::sc_event m_wake;
    std::vector<unsigned> m_watches;
    vsic_emulator_stats m_stats;
    dev::blk_queue* m_pfq = nullptr;
};

} // namespace iovsim::os::kernel
