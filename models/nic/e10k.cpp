#include "models/nic/e10k.h"

#include <cstring>
#include <stdexcept>

#include "models/platform/address_map.h"
#include "models/platform/tlm_ext.h"

using namespace sc_core;

namespace iovsim::nic {

SC_HAS_PROCESS(e10k_nic);

e10k_nic::e10k_nic(sc_module_name name, const e10k_params& params)
    : sc_module(name), bar("bar"), dma("dma"), m_params(params),
      m_classifier(e10k::num_pools, e10k::queues_per_pool, e10k::num_rar, e10k::num_5tuple),
      m_mac_tx(params.line_gbps),
      m_tx_sched(e10k::num_pools, e10k::queues_per_pool, 8000.0 / params.line_gbps)
{
    if (params.num_vfs > e10k::num_pools)
        throw std::invalid_argument("e10k: at most 64 VFs");
    m_setup_time = params.cycle * params.dma_setup_cycles;
    m_parse_time = params.cycle * params.rx_parse_cycles;
    bar.register_b_transport(this, &e10k_nic::bar_b_transport);

    auto sender = [this](uint16_t rid) {
        return [this, rid](uint64_t addr, uint32_t data) {
            uint8_t bytes[4];
            std::memcpy(bytes, &data, 4);
            dma_write(rid, addr, bytes, 4, nullptr);
        };
    };
    m_pf.rid = models::nic_pf_rid;
    m_pf.irq = std::make_unique<msix_function>("pf_msix", e10k::pf_msix_vectors > 32 ? 32 : e10k::pf_msix_vectors,
                                               sender(m_pf.rid));
    m_classifier.set_virtualization(false);   // VT_CTL resets to 0
    build_pf_registers();
    for (unsigned v = 0; v < params.num_vfs; ++v) {
        auto fn = std::make_unique<function>();
        fn->rid = models::nic_vf_rid(v);
        fn->pool = v;
        fn->irq = std::make_unique<msix_function>("vf_msix", e10k::vf_msix_vectors, sender(fn->rid));
        m_vfs.push_back(std::move(fn));
        build_vf_registers(v);
    }
    sync_pool_enables();
    SC_METHOD(rx_stage);
    sensitive << m_rx_event;
    dont_initialize();
    SC_METHOD(tx_stage);
    sensitive << m_tx_event;
    dont_initialize();
    SC_METHOD(tx_mac_stage);
    sensitive << m_tx_fifo_event;
    dont_initialize();
}

e10k_nic::function* e10k_nic::function_of_queue(unsigned queue)
{
    const unsigned pool = queue / e10k::queues_per_pool;
    if ((m_vt_ctl & e10k::VT_CTL_VT_ENA) && pool < m_vfs.size() && pool != m_pf.pool)
        return m_vfs[pool].get();
    return &m_pf;
}

uint16_t e10k_nic::rid_of_queue(unsigned queue) const
{
    return const_cast<e10k_nic*>(this)->function_of_queue(queue)->rid;
}

// The MSI-X vector a queue's interrupt cause goes to (IVAR / VTIVAR), or ~0u when none is mapped.
unsigned e10k_nic::vector_of_queue(unsigned queue, bool tx, function*& fn)
{
    fn = function_of_queue(queue);
    uint8_t entry;
    if (fn == &m_pf)
        entry = tx ? m_pf_ivar_tx[queue] : m_pf_ivar_rx[queue];
    else
        entry = tx ? fn->ivar_tx[queue % e10k::queues_per_pool] : fn->ivar_rx[queue % e10k::queues_per_pool];
    if (!(entry & e10k::IVAR_ALLOC_VAL))
        return ~0u;
    return entry & 0x3F;
}

void e10k_nic::raise_queue_irq(unsigned queue, bool tx)
{
    function* fn = nullptr;
    const unsigned vec = vector_of_queue(queue, tx, fn);
    if (vec != ~0u)
        fn->irq->raise(vec);
}

tlm::tlm_response_status e10k_nic::dma_transport(tlm::tlm_command cmd, uint16_t rid, uint64_t addr, uint8_t* data,
                                                 size_t len, sc_time& delay, sc_time& sender_busy)
{
    return m_dma.transport(dma, cmd, rid, addr, data, len, delay, sender_busy);
}

bool e10k_nic::dma_read_issue(uint16_t rid, uint64_t addr, uint8_t* data, size_t len, sc_time& ready,
                              engine_clock& clk)
{
    sc_time delay = clk.ahead + m_setup_time;
    sc_time busy;
    const auto status = dma_transport(tlm::TLM_READ_COMMAND, rid, addr, data, len, delay, busy);
    ready = sc_time_stamp() + delay;
    // The engine is free again once the request headers are on the link.
    clk.advance(m_setup_time + busy);
    if (status != tlm::TLM_OK_RESPONSE) {
        ++m_stats.dma_errors;
        return false;
    }
    return true;
}

bool e10k_nic::dma_write(uint16_t rid, uint64_t addr, const uint8_t* data, size_t len, engine_clock* clk)
{
    sc_time delay = clk ? clk->ahead + m_setup_time : SC_ZERO_TIME;
    sc_time busy;
    const auto status = dma_transport(tlm::TLM_WRITE_COMMAND, rid, addr, const_cast<uint8_t*>(data), len, delay, busy);
    // Posted: the engine moves on once its TLPs are on the link.
    if (clk)
        clk->advance(m_setup_time + busy);
    if (status != tlm::TLM_OK_RESPONSE) {
        ++m_stats.dma_errors;
        return false;
    }
    return true;
}

uint32_t e10k_nic::rx_descriptors_posted() const
{
    uint32_t n = 0;
    for (const rx_queue& q : m_rxq)
        n += q.ring_size() ? (q.tail + q.ring_size() - q.head) % q.ring_size() : 0;
    return n;
}

uint32_t e10k_nic::tx_descriptors_pending() const
{
    uint32_t n = 0;
    for (const tx_queue& q : m_txq)
        n += q.ring_size() ? (q.tail + q.ring_size() - q.head) % q.ring_size() : 0;
    return n;
}

} // namespace iovsim::nic
