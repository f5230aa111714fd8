#pragma once
// The storage controller, after the paper's RAID controller (an LSI MegaRAID with a 1 GB
// flash-backed DRAM write cache in front of an Intel DC S3700 SSD), with optional hardware VSICs.
// Register map and formats: models/storage/storage_regs.h.
//
// Functions: the physical function (PF) with pf_queues queue pairs and the VSA table, and up to 64
// VSIC functions of one queue pair each, each with its own requester id (so its DMA goes through the
// IOMMU in its application's domain) and its own MSI-X table. In "emulated" VSIC mode the device has
// no VSIC functions; software on a dedicated core plays the VSIC (os/kernel/vsic_emulator).
//
// Pipeline (two SystemC threads, so every DMA waits its real time):
//   fetch:    doorbell -> round-robin over enabled queue pairs (the VSIC core's arbitration) ->
//             SQE read (DMA) -> firmware decode -> [VSIC: VSA lookup, bounds and rights check,
//             LBA translation] -> checks (opcode, reserved fields, namespace range) -> PRP list and
//             data reads for a write (DMA) -> service
//   service:  `parallel` commands at once, each for its device time (write into the cache, read from
//             the cache or the SSD, flush)
//   complete: at the end of service the write's blocks are in the (flash-backed) cache: durable;
//             read data written to host memory (DMA) -> CQE written (DMA, posted after the data) ->
//             MSI-X (the root complex holds it until the writes before it landed)
// With a timeline trace (experiment.trace.timeline) each command's fetch and service are slices on
// the controller's lanes ("fetch", one per service slot).
// A command that fails a check completes at once with its status and touches neither data nor the
// media; a DMA fault fails that command only.
//
// Power loss (power_fail_at): the device stops at that time (power_restore brings it back). Writes whose service ended are in the
// durable image; a write in service has a prefix of its blocks there (block granularity, in
// proportion to the service time passed); nothing else changes, and no further completion, DMA or
// interrupt happens.
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "models/common/reg_file.h"
#include "models/platform/dma_port.h"
#include "models/storage/media.h"
#include "models/storage/prp.h"
#include "models/storage/storage_regs.h"
#include "models/storage/vsa_map.h"

namespace iovsim::storage {

// One device kind's service times (inside the device, after the data has arrived).
struct device_timing {
    sc_core::sc_time write;       // a write into the write cache, per command
    sc_core::sc_time read_hit;    // a read served from the cache
    sc_core::sc_time read_miss;   // a read that goes to the SSD
    sc_core::sc_time flush;       // a flush (the cache is non-volatile: firmware work only)
    sc_core::sc_time per_block;   // moving one block between the cache and the host interface
    // Variation of a command's service time (write, read, flush; not per_block): its coefficient
    // of variation, the time gamma-distributed around the mean above (0: fixed).
    double cv = 0;
};

struct ctrl_params {
    uint64_t capacity_blocks = 100ULL * 1000 * 1000 * 1000 / block_bytes;   // 100 GB SSD
    uint64_t cache_blocks = (1ULL << 30) / block_bytes;                     // 1 GB write cache
    unsigned num_vsics = 0;          // hardware VSIC functions
    sc_core::sc_time cycle = sc_core::sc_time(1, sc_core::SC_NS);   // firmware / VSIC core clock
    unsigned command_cycles = 500;   // firmware: decode and dispatch a command
    unsigned vsic_cycles = 100;      // hardware VSIC core: arbitration, table lookup, checks, forward
    unsigned parallel = 1;           // commands in service at once
    unsigned max_outstanding = 64;   // commands fetched and not yet completed
    device_timing timing;
    // Power loss in the middle of a write's service: the blocks already in the cache are a prefix
    // (in proportion to the service time passed), or, when `torn_any_blocks`, any subset (each block
    // independently, with that proportion as its chance; seeded), the harsher adversary for
    // crash-consistency tests.
    bool torn_any_blocks = false;
    uint64_t torn_seed = 1;
    uint64_t service_seed = 1;       // the service-time variation's stream
};

struct ctrl_stats {
    uint64_t fetched = 0, completed = 0;
    uint64_t reads = 0, writes = 0, flushes = 0;
    uint64_t read_hits = 0, read_misses = 0;
    uint64_t bytes_read = 0, bytes_written = 0;     // host data moved by successful commands
    uint64_t malformed = 0;          // invalid opcode or field
    uint64_t bounds_errors = 0;      // LBA out of range, VSA not mapped, right not granted
    uint64_t dma_errors = 0;         // commands failed by a DMA error (IOMMU fault)
    uint64_t mmio_errors = 0;
    uint64_t lost_completions = 0;   // commands fetched but not completed when power was lost
    uint64_t torn_writes = 0;        // writes partly in the durable image at power loss
};

class storage_ctrl : public sc_core::sc_module {
public:
    tlm_utils::simple_target_socket<storage_ctrl> bar;      // MMIO: PF and VSIC BARs (full addresses)
    tlm_utils::simple_initiator_socket<storage_ctrl> dma;   // upstream to the PCIe link

    storage_ctrl(sc_core::sc_module_name name, const ctrl_params& params);
    ~storage_ctrl() override;

    const ctrl_stats& stats() const { return m_stats; }
    const ctrl_params& params() const { return m_params; }

    // Power is lost at absolute simulated time `at` (not before now).
    void power_fail_at(const sc_core::sc_time& at);
    bool powered() const { return m_powered; }
    // Power comes back (call from a process, at the time it does): the durable image is as the loss
    // left it, every register at its reset value (queues disabled, VSA table empty), nothing in
    // flight. Crash trials run one after another in one simulation this way.
    void power_restore();
    // What survives: read it after power loss (or at any time) to see the durable image.
    const block_store& durable() const { return m_store; }
    // Contents before the simulation starts (a formatted device, a test's data).
    void preload(uint64_t lba, uint32_t n, const uint8_t* data) { m_store.write(lba, n, data); }
    const vsa_map& vsas() const { return m_vsas; }

private:
    struct function;
    struct queue_pair;
    struct command;

    void build_registers(function& fn);
    void bar_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    void fetch_thread();
    void complete_thread();
    void power_off();
    queue_pair* next_queue();
    void admit(queue_pair& q);
    void finish(command& c);
    void post_completion(queue_pair& q, uint16_t cid, status code, const sc_core::sc_time& after);
    void fail(queue_pair& q, uint16_t cid, status code);
    sc_core::sc_time vary(const sc_core::sc_time& mean);
    sc_core::sc_time service_time(const command& c);
    tlm::tlm_response_status transport(tlm::tlm_command cmd, uint16_t rid, uint64_t addr, uint8_t* data, size_t len,
                                       sc_core::sc_time& delay, sc_core::sc_time& busy);

    ctrl_params m_params;
    std::mt19937_64 m_service_rng;
    ctrl_stats m_stats;
    block_store m_store;
    write_cache m_cache;
    vsa_map m_vsas;
    std::vector<std::unique_ptr<function>> m_functions;   // [0] the PF, [1 + v] VSIC v
    std::vector<std::unique_ptr<queue_pair>> m_queues;    // PF pairs, then one per VSIC
    uint64_t m_vsic_enabled = 0;                          // VSICEN
    unsigned m_rr = 0;                                    // round-robin position
    std::deque<std::unique_ptr<command>> m_in_service;    // ordered by end of service
    std::vector<sc_core::sc_time> m_slot_free;            // per service slot: when it is free
    unsigned m_outstanding = 0;
    bool m_powered = true;
    uint64_t m_epoch = 0;              // power cycles: work begun before one is abandoned
    sc_core::sc_event m_power_on;
    sc_core::sc_event m_doorbell;      // a submission tail moved (or a slot / CQ space freed)
    sc_core::sc_event m_serviced;      // a command entered service
    sc_core::sc_event m_power_event;
    sc_core::sc_time m_mmio_delay;     // annotated delay of the MMIO access in progress
    models::dma_port m_dma;            // reused by every DMA
};

} // namespace iovsim::storage
