#pragma once
// Transmit scheduling of the NIC, after the Intel 82599 (datasheet 7.7.2 "Transmit arbitration"):
// which queue the descriptor fetch engine serves next. Pure logic, no SystemC; times are in
// picoseconds, sizes in bytes on the wire (preamble to the end of the inter-frame gap), so a rate
// is a share of the link's time.
//
//   token_bucket   the per-queue rate scheduler (7.7.2.2.2): RTTBCNRC.RS_ENA and the rate factor
//                  RF = link rate / queue rate, with MMW_SIZE (RTTBCNRM) of burst credit.
//   wrr_arbiter    arbitration between pools (VMs), weighted by RTTDT1C credits (7.7.2.3,
//                  RTTDCS.VMPAC), as deficit round robin in bytes; queues within a pool and all
//                  queues when VM arbitration is off: plain round robin, one frame per turn.
//   tx_scheduler   both together over the 128 queues: the fetch stage asks pick() for a queue and
//                  reports each frame it gathered with charge().
#include <array>
#include <cstdint>
#include <vector>

namespace iovsim::nic {

// The first queue at or after `start` (wrapping) whose bit is set in the 128-bit mask, or 128 when
// none is.
unsigned next_queue(const uint64_t (&mask)[2], unsigned start);

// A token bucket kept in the time domain (the generic cell-rate algorithm): `tat` is when the
// bucket would be full again. A frame may start while the bucket is not in debt, at or after
// tat - depth; sending it moves tat on by its cost (so a frame may overdraw it). Over a backlogged run the bucket yields exactly
// one byte per byte cost; after idling it allows `depth` bytes at once. Costs are in 1/2^14 ps, the
// resolution of the 82599's rate factor (14 fraction bits), so a rate is kept without drift.
class token_bucket {
public:
    static constexpr unsigned frac_bits = 14;

    // cost_q14: time per byte at the limited rate, in 1/2^14 ps; 0 turns the limit off.
    // depth_bytes: burst credit (at least one byte is always allowed).
    void configure(uint64_t cost_q14, uint64_t depth_bytes);
    bool enabled() const { return m_cost != 0; }
    uint64_t cost_q14() const { return m_cost; }

    // Earliest time a frame may start, in ps (0 when the bucket allows one now whatever `now` is).
    uint64_t eligible_ps() const;
    bool may_send(uint64_t now_ps) const { return !enabled() || now_ps >= eligible_ps(); }
    // A frame of `bytes` started at now_ps.
    void charge(uint64_t bytes, uint64_t now_ps);

private:
    uint64_t m_cost = 0;   // per byte, 1/2^14 ps
    uint64_t m_tau = 0;    // depth * cost
    uint64_t m_tat = 0;    // 1/2^14 ps
};

// The 82599's rate factor from RTTBCNRC: RF_INT (bits 27:14) and RF_DEC (13:0), a fixed-point ratio
// of link rate to queue rate, returned as a Q14 number; a factor below 1 (faster than the link) is
// taken as 1.
uint64_t rate_factor_q14(uint32_t rttbcnrc);

// Deficit round robin between pools, in bytes on the wire. A pool's turn lasts while its deficit is
// positive; each turn adds its quantum; a frame's bytes are charged after it is gathered (the
// engine does not know a frame's size before it reads its descriptors), so a turn may overdraw by
// one frame and the next turns repay it. A pool with nothing to send keeps no credit.
class wrr_arbiter {
public:
    wrr_arbiter(unsigned pools, unsigned queues_per_pool);

    void set_quantum(unsigned pool, uint32_t bytes);   // at least 1 byte
    uint32_t quantum(unsigned pool) const { return m_quantum.at(pool); }

    // The next queue to serve among `eligible` (bit per queue), 128 when none is.
    unsigned pick(const uint64_t (&eligible)[2]);
    void charge(unsigned queue, uint64_t bytes);
    int64_t deficit(unsigned pool) const { return m_deficit.at(pool); }

private:
    bool pool_has(const uint64_t (&mask)[2], unsigned pool) const;
    unsigned queue_in_pool(const uint64_t (&mask)[2], unsigned pool);

    unsigned m_pools, m_qpp;
    std::vector<uint32_t> m_quantum;
    std::vector<int64_t> m_deficit;
    std::vector<unsigned> m_next_in_pool;   // round robin within each pool
    unsigned m_current = 0;
    bool m_topped = false;                  // the current pool got its quantum for this turn
};

class tx_scheduler {
public:
    static constexpr unsigned num_queues = 128;

    // byte_ps: time of one byte at line rate (800 ps at 10 Gb/s).
    tx_scheduler(unsigned pools, unsigned queues_per_pool, double byte_ps);

    // RTTBCNRC of a queue (RS_ENA, RF), and MMW_SIZE (RTTBCNRM, in KB) for all queues.
    void set_rate(unsigned queue, uint32_t rttbcnrc);
    uint32_t rate_reg(unsigned queue) const { return m_rttbcnrc.at(queue); }
    void set_burst_kb(uint32_t mmw_kb);
    // RTTDCS.VMPAC: weighted arbitration between pools; RTTDT1C.CRQ of a pool, in 64-byte units.
    void set_vm_arbitration(bool on) { m_vm_arb = on; }
    bool vm_arbitration() const { return m_vm_arb; }
    void set_pool_credit(unsigned pool, uint32_t crq);

    // The queue to serve next among `pending` at now_ps, or num_queues when none may send now; then
    // `wake_ps` is the earliest time a rate-limited pending queue may (0 when none is limited).
    unsigned pick(const uint64_t (&pending)[2], uint64_t now_ps, uint64_t& wake_ps);
    // A frame of `wire_bytes` gathered from `queue` at now_ps.
    void charge(unsigned queue, uint64_t wire_bytes, uint64_t now_ps);

    const token_bucket& bucket(unsigned queue) const { return m_bucket.at(queue); }
    // Times pick() found a pending queue held back by its rate limiter.
    uint64_t rate_holds() const { return m_rate_holds; }

private:
    void reconfigure(unsigned queue);

    double m_byte_ps;
    std::array<token_bucket, num_queues> m_bucket{};
    std::array<uint32_t, num_queues> m_rttbcnrc{};
    uint64_t m_limited[2] = {0, 0};
    uint64_t m_burst_bytes;
    bool m_vm_arb = false;
    wrr_arbiter m_wrr;
    unsigned m_rr = 0;
    uint64_t m_rate_holds = 0;
};

} // namespace iovsim::nic
