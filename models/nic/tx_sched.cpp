#include "models/nic/tx_sched.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/nic/e10k_regs.h"

namespace iovsim::nic {

namespace {
// A maximum tagged frame on the wire: preamble and SFD, 1518 bytes, FCS, inter-frame gap.
constexpr uint64_t max_frame_wire_bytes = 8 + 1518 + 4 + 12;
} // namespace

unsigned next_queue(const uint64_t (&mask)[2], unsigned start)
{
    for (unsigned k = 0; k < 3; ++k) {
        const unsigned word = ((start / 64) + k) % 2;
        uint64_t bits = mask[word];
        if (k == 0)
            bits &= ~0ULL << (start % 64);
        else if (k == 2)
            bits &= (start % 64) ? ~(~0ULL << (start % 64)) : 0;
        if (bits)
            return word * 64 + static_cast<unsigned>(__builtin_ctzll(bits));
    }
    return tx_scheduler::num_queues;
}

// ---- token_bucket ----------------------------------------------------------------------------

void token_bucket::configure(uint64_t cost_q14, uint64_t depth_bytes)
{
    m_cost = cost_q14;
    m_tau = std::max<uint64_t>(depth_bytes, 1) * cost_q14;
}

uint64_t token_bucket::eligible_ps() const
{
    if (!enabled() || m_tat <= m_tau)
        return 0;
    // Round up: a frame may not start before the bucket holds credit.
    return (m_tat - m_tau + (1u << frac_bits) - 1) >> frac_bits;
}

void token_bucket::charge(uint64_t bytes, uint64_t now_ps)
{
    if (!enabled())
        return;
    m_tat = std::max(m_tat, now_ps << frac_bits) + bytes * m_cost;
}

// ---- rate factor -----------------------------------------------------------------------------

uint64_t rate_factor_q14(uint32_t rttbcnrc)
{
    const uint64_t rf = rttbcnrc & (e10k::RTTBCNRC_RF_INT_MASK | e10k::RTTBCNRC_RF_DEC_MASK);
    return std::max<uint64_t>(rf, 1u << token_bucket::frac_bits);
}


// ---- wrr_arbiter -----------------------------------------------------------------------------

wrr_arbiter::wrr_arbiter(unsigned pools, unsigned queues_per_pool)
    : m_pools(pools), m_qpp(queues_per_pool), m_quantum(pools, 1), m_deficit(pools, 0), m_next_in_pool(pools, 0)
{
    if (pools == 0 || queues_per_pool == 0 || pools * queues_per_pool > tx_scheduler::num_queues)
        throw std::invalid_argument("wrr_arbiter: pools x queues per pool must fit 128 queues");
}

void wrr_arbiter::set_quantum(unsigned pool, uint32_t bytes) { m_quantum.at(pool) = std::max(bytes, 1u); }

bool wrr_arbiter::pool_has(const uint64_t (&mask)[2], unsigned pool) const
{
    for (unsigned i = 0; i < m_qpp; ++i) {
        const unsigned q = pool * m_qpp + i;
        if ((mask[q / 64] >> (q % 64)) & 1)
            return true;
    }
    return false;
}

unsigned wrr_arbiter::queue_in_pool(const uint64_t (&mask)[2], unsigned pool)
{
    for (unsigned k = 0; k < m_qpp; ++k) {
        const unsigned i = (m_next_in_pool[pool] + k) % m_qpp;
        const unsigned q = pool * m_qpp + i;
        if ((mask[q / 64] >> (q % 64)) & 1) {
            m_next_in_pool[pool] = (i + 1) % m_qpp;
            return q;
        }
    }
    return tx_scheduler::num_queues;
}

unsigned wrr_arbiter::pick(const uint64_t (&eligible)[2])
{
    if (!eligible[0] && !eligible[1])
        return tx_scheduler::num_queues;
    // Each pass over the pools adds a quantum to every pool with work, so a pool in debt (at most
    // one frame's worth) gets back to credit within a bounded number of passes.
    for (;;) {
        const unsigned p = m_current;
        if (pool_has(eligible, p)) {
            if (!m_topped) {
                m_deficit[p] += m_quantum[p];
                m_topped = true;
            }
            if (m_deficit[p] > 0)
                return queue_in_pool(eligible, p);
        } else if (m_deficit[p] > 0) {
            m_deficit[p] = 0;   // idle pools do not hoard credit
        }
        m_current = (p + 1) % m_pools;
        m_topped = false;
    }
}

void wrr_arbiter::charge(unsigned queue, uint64_t bytes)
{
    m_deficit.at(queue / m_qpp) -= static_cast<int64_t>(bytes);
}

// ---- tx_scheduler ----------------------------------------------------------------------------

tx_scheduler::tx_scheduler(unsigned pools, unsigned queues_per_pool, double byte_ps)
    : m_byte_ps(byte_ps), m_burst_bytes(4 * 1024), m_wrr(pools, queues_per_pool)
{
    for (unsigned p = 0; p < pools; ++p)
        set_pool_credit(p, 0);
}

void tx_scheduler::reconfigure(unsigned q)
{
    const uint32_t reg = m_rttbcnrc[q];
    const bool on = reg & e10k::RTTBCNRC_RS_ENA;
    // One byte at the queue's rate takes RF byte times of the link.
    const uint64_t cost = on ? static_cast<uint64_t>(std::llround(m_byte_ps * static_cast<double>(rate_factor_q14(reg)))) : 0;
    // The burst credit is at least a whole maximum frame, so a limited queue can always send.
    m_bucket[q].configure(cost, std::max<uint64_t>(m_burst_bytes, max_frame_wire_bytes));
    if (on)
        m_limited[q / 64] |= 1ULL << (q % 64);
    else
        m_limited[q / 64] &= ~(1ULL << (q % 64));
}

void tx_scheduler::set_rate(unsigned queue, uint32_t rttbcnrc)
{
    m_rttbcnrc.at(queue) = rttbcnrc;
    reconfigure(queue);
}

void tx_scheduler::set_burst_kb(uint32_t mmw_kb)
{
    m_burst_bytes = static_cast<uint64_t>(mmw_kb) * 1024;
    for (unsigned q = 0; q < num_queues; ++q)
        reconfigure(q);
}

void tx_scheduler::set_pool_credit(unsigned pool, uint32_t crq)
{
    m_wrr.set_quantum(pool, std::max(crq & e10k::RTTDT1C_CRQ_MASK, 1u) * 64);
}

unsigned tx_scheduler::pick(const uint64_t (&pending)[2], uint64_t now_ps, uint64_t& wake_ps)
{
    wake_ps = 0;
    uint64_t eligible[2] = {pending[0], pending[1]};
    for (unsigned w = 0; w < 2; ++w) {
        uint64_t held = pending[w] & m_limited[w];
        while (held) {
            const unsigned q = w * 64 + static_cast<unsigned>(__builtin_ctzll(held));
            held &= held - 1;
            if (!m_bucket[q].may_send(now_ps)) {
                eligible[w] &= ~(1ULL << (q % 64));
                const uint64_t at = m_bucket[q].eligible_ps();
                wake_ps = wake_ps == 0 ? at : std::min(wake_ps, at);
                ++m_rate_holds;
            }
        }
    }
    if (m_vm_arb)
        return m_wrr.pick(eligible);
    const unsigned q = next_queue(eligible, m_rr);
    if (q < num_queues)
        m_rr = (q + 1) % num_queues;
    return q;
}

void tx_scheduler::charge(unsigned queue, uint64_t wire_bytes, uint64_t now_ps)
{
    m_bucket.at(queue).charge(wire_bytes, now_ps);
    if (m_vm_arb)
        m_wrr.charge(queue, wire_bytes);
}

} // namespace iovsim::nic
