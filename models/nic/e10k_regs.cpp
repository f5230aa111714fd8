// Register files of the e10k's physical function and virtual functions. Each register is declared
// once here; queue registers alias the shared queue state, so the PF's view of queue 2v and VF v's
// view of its queue 0 are the same hardware.
#include <cstring>
#include <string>

#include "models/nic/e10k.h"
#include "models/platform/address_map.h"

using namespace sc_core;
using iovsim::models::reg_access;
using iovsim::models::reg_file;
using iovsim::models::set_hi;
using iovsim::models::set_lo;

namespace iovsim::nic {
void e10k_nic::add_rx_queue_registers(reg_file& regs, uint32_t base, unsigned first, unsigned count)
{
    using namespace e10k;
    const uint32_t stride = pf::RXQ_STRIDE;
    auto q = [this, first](unsigned i) -> rx_queue& { return m_rxq[first + i]; };
    regs.add({"RDBAL", base + pf::RDBAL_OFF, 0, reg_access::rw, count, stride,
              [q](unsigned i, uint32_t, uint32_t v) { q(i).base = set_lo(q(i).base, v & ~0x7Fu); }, {}});
    regs.add({"RDBAH", base + pf::RDBAH_OFF, 0, reg_access::rw, count, stride,
              [q](unsigned i, uint32_t, uint32_t v) { q(i).base = set_hi(q(i).base, v); }, {}});
    regs.add({"RDLEN", base + pf::RDLEN_OFF, 0, reg_access::rw, count, stride,
              [q](unsigned i, uint32_t, uint32_t v) { q(i).len_bytes = v & 0xFFF80; }, {}});
    regs.add({"RDH", base + pf::RDH_OFF, 0, reg_access::rw, count, stride,
              [q](unsigned i, uint32_t, uint32_t v) {
                  q(i).head = q(i).fetch = v & 0xFFFF;
                  q(i).cache.clear();
                  ++q(i).epoch;
              },
              [q](unsigned i, uint32_t) { return q(i).head; }});
    regs.add({"SRRCTL", base + pf::SRRCTL_OFF, 2, reg_access::rw, count, stride,
              [q](unsigned i, uint32_t, uint32_t v) { q(i).srrctl = v; }, {}});
    regs.add({"RDT", base + pf::RDT_OFF, 0, reg_access::rw, count, stride,
              [this, q, first](unsigned i, uint32_t, uint32_t v) {
                  q(i).tail = v & 0xFFFF;
                  rx_doorbell(first + i);
              },
              {}});
    regs.add({"RXDCTL", base + pf::RXDCTL_OFF, 0, reg_access::rw, count, stride,
              [q](unsigned i, uint32_t, uint32_t v) { q(i).rxdctl = v; }, {}});
}

void e10k_nic::add_tx_queue_registers(reg_file& regs, uint32_t base, unsigned first, unsigned count)
{
    using namespace e10k;
    const uint32_t stride = pf::TXQ_STRIDE;
    auto q = [this, first](unsigned i) -> tx_queue& { return m_txq[first + i]; };
    regs.add({"TDBAL", base + pf::TDBAL_OFF, 0, reg_access::rw, count, stride,
              [q](unsigned i, uint32_t, uint32_t v) { q(i).base = set_lo(q(i).base, v & ~0x7Fu); }, {}});
    regs.add({"TDBAH", base + pf::TDBAH_OFF, 0, reg_access::rw, count, stride,
              [q](unsigned i, uint32_t, uint32_t v) { q(i).base = set_hi(q(i).base, v); }, {}});
    regs.add({"TDLEN", base + pf::TDLEN_OFF, 0, reg_access::rw, count, stride,
              [q](unsigned i, uint32_t, uint32_t v) { q(i).len_bytes = v & 0xFFF80; }, {}});
    regs.add({"TDH", base + pf::TDH_OFF, 0, reg_access::rw, count, stride,
              [q](unsigned i, uint32_t, uint32_t v) {
                  tx_queue& t = q(i);
                  t.head = t.fetch = v & 0xFFFF;
                  t.cache.clear();
                  t.assembling.clear();   // a frame half gathered is abandoned with its descriptors
                  t.consumed.clear();
                  t.discarding = false;
                  ++t.epoch;
              },
              [q](unsigned i, uint32_t) { return q(i).head; }});
    regs.add({"TDT", base + pf::TDT_OFF, 0, reg_access::rw, count, stride,
              [this, q, first](unsigned i, uint32_t, uint32_t v) {
                  q(i).tail = v & 0xFFFF;
                  tx_doorbell(first + i, m_mmio_delay);
              },
              {}});
    regs.add({"TXDCTL", base + pf::TXDCTL_OFF, 0, reg_access::rw, count, stride,
              [q](unsigned i, uint32_t, uint32_t v) { q(i).txdctl = v; }, {}});
}

void e10k_nic::build_pf_registers()
{
    using namespace e10k;
    reg_file& r = m_pf.regs;
    msix_function& irq = *m_pf.irq;
    r.add({"CTRL", pf::CTRL, 0, reg_access::rw, 1, 4, {}, {}});
    r.add({"STATUS", pf::STATUS, STATUS_LU, reg_access::ro, 1, 4, {}, {}});
    r.add({"EICR", pf::EICR, 0, reg_access::rw, 1, 4,
           [&irq](unsigned, uint32_t, uint32_t v) { irq.clear_cause(v); },   // write 1 to clear
           [&irq](unsigned, uint32_t) { return irq.cause(); }});
    r.add({"EICS", pf::EICS, 0, reg_access::wo, 1, 4, [&irq](unsigned, uint32_t, uint32_t v) { irq.set_cause(v); }, {}});
    r.add({"EITR", pf::EITR0, 0, reg_access::rw, pf::num_eitr, 4,
           [&irq](unsigned i, uint32_t, uint32_t v) {
               irq.set_interval(i, sc_time(((v & EITR_ITR_MASK) >> EITR_ITR_SHIFT) * EITR_UNIT_NS, SC_NS));
           },
           {}});
    r.add({"EIMS", pf::EIMS, 0, reg_access::rw, 1, 4, [&irq](unsigned, uint32_t, uint32_t v) { irq.enable(v); },
           [&irq](unsigned, uint32_t) { return irq.mask(); }});
    r.add({"EIMC", pf::EIMC, 0, reg_access::wo, 1, 4, [&irq](unsigned, uint32_t, uint32_t v) { irq.disable(v); }, {}});
    r.add({"EIAM", pf::EIAM, 0, reg_access::rw, 1, 4, [&irq](unsigned, uint32_t, uint32_t v) { irq.set_auto_mask(v); }, {}});
    r.add({"GPIE", pf::GPIE, 0, reg_access::rw, 1, 4, {}, {}});
    r.add({"IVAR", pf::IVAR0, 0, reg_access::rw, num_queues / 2, 4,
           [this](unsigned i, uint32_t, uint32_t v) {
               m_pf_ivar_rx[2 * i] = static_cast<uint8_t>(v);
               m_pf_ivar_tx[2 * i] = static_cast<uint8_t>(v >> 8);
               m_pf_ivar_rx[2 * i + 1] = static_cast<uint8_t>(v >> 16);
               m_pf_ivar_tx[2 * i + 1] = static_cast<uint8_t>(v >> 24);
           },
           {}});
    add_rx_queue_registers(r, pf::RDBAL0, 0, 64);
    add_rx_queue_registers(r, pf::RDBAL64, 64, 64);
    add_tx_queue_registers(r, pf::TDBAL0, 0, num_queues);
    r.add({"RXCTRL", pf::RXCTRL, 0, reg_access::rw, 1, 4,
           [this](unsigned, uint32_t, uint32_t v) { m_rx_enabled = v & RXCTRL_RXEN; }, {}});
    // Transmit arbitration and rate limiters (8.2.3.10): RTTDQSEL selects which queue's RTTBCNRC,
    // or which pool's RTTDT1C, the next access reaches.
    r.add({"RTTDCS", pf::RTTDCS, 0, reg_access::rw, 1, 4,
           [this](unsigned, uint32_t, uint32_t v) { m_tx_sched.set_vm_arbitration(v & RTTDCS_VMPAC); }, {}});
    r.add({"RTTDQSEL", pf::RTTDQSEL, 0, reg_access::rw, 1, 4,
           [this](unsigned, uint32_t, uint32_t v) { m_rttdqsel = v & RTTDQSEL_MASK; }, {}});
    r.add({"RTTDT1C", pf::RTTDT1C, 0, reg_access::rw, 1, 4,
           [this](unsigned, uint32_t, uint32_t v) {
               if (m_rttdqsel < num_pools)
                   m_tx_sched.set_pool_credit(m_rttdqsel, v & RTTDT1C_CRQ_MASK);
           },
           {}});
    r.add({"RTTBCNRM", pf::RTTBCNRM, 4, reg_access::rw, 1, 4,
           [this](unsigned, uint32_t, uint32_t v) { m_tx_sched.set_burst_kb(v & RTTBCNRM_MMW_MASK); }, {}});
    r.add({"RTTBCNRC", pf::RTTBCNRC, 0, reg_access::rw, 1, 4,
           [this](unsigned, uint32_t, uint32_t v) { m_tx_sched.set_rate(m_rttdqsel, v); },
           [this](unsigned, uint32_t) { return m_tx_sched.rate_reg(m_rttdqsel); }});
    r.add({"DMATXCTL", pf::DMATXCTL, 0, reg_access::rw, 1, 4,
           [this](unsigned, uint32_t, uint32_t v) { m_tx_enabled = v & DMATXCTL_TE; }, {}});
    // Statistics (the 82599 clears them on read; these count from reset).
    auto stat = [&r](const char* name, uint32_t off, std::function<uint64_t()> f) {
        r.add({name, off, 0, reg_access::ro, 1, 4, {}, [f](unsigned, uint32_t) { return static_cast<uint32_t>(f()); }});
    };
    stat("CRCERRS", pf::CRCERRS, [this] { return m_stats.rx_crc_errors; });
    stat("RLEC", pf::RLEC, [this] { return m_stats.rx_undersize + m_stats.rx_oversize; });
    stat("GPRC", pf::GPRC, [this] { return m_stats.rx_frames; });
    stat("GPTC", pf::GPTC, [this] { return m_stats.tx_frames; });
    stat("RUC", pf::RUC, [this] { return m_stats.rx_undersize; });
    stat("ROC", pf::ROC, [this] { return m_stats.rx_oversize; });
    stat("MNGDROP", pf::MNGDROP, [this] { return m_classifier.stats().dropped(drop_reason::no_pool); });
    // 16 per-queue counters each (8.2.3.23.x), here wired to queues 0-15 (no RQSMR mapping).
    r.add({"QPRC", pf::QPRC0, 0, reg_access::ro, pf::num_queue_counters, pf::RXQ_STRIDE, {},
           [this](unsigned i, uint32_t) { return static_cast<uint32_t>(m_rxq[i].packets); }});
    r.add({"QPRDC", pf::QPRDC0, 0, reg_access::ro, pf::num_queue_counters, pf::RXQ_STRIDE, {},
           [this](unsigned i, uint32_t) { return static_cast<uint32_t>(m_rxq[i].drops); }});
    // Virtualization and filtering.
    r.add({"VT_CTL", pf::VT_CTL, 0, reg_access::rw, 1, 4,
           [this](unsigned, uint32_t, uint32_t v) {
               m_vt_ctl = v;
               m_classifier.set_virtualization(v & VT_CTL_VT_ENA);
               m_pf.pool = (v & VT_CTL_DEF_PL_MASK) >> VT_CTL_DEF_PL_SHIFT;
               if (v & VT_CTL_DIS_DEF_POOL)
                   m_classifier.set_default_pool(std::nullopt);
               else
                   m_classifier.set_default_pool(m_pf.pool);
               sync_pool_enables();
           },
           {}});
    r.add({"PFVFRE", pf::PFVFRE0, 0, reg_access::rw, 2, 4,
           [this](unsigned i, uint32_t, uint32_t v) {
               m_vf_rx_enabled = i ? set_hi(m_vf_rx_enabled, v) : set_lo(m_vf_rx_enabled, v);
               sync_pool_enables();
           },
           {}});
    r.add({"PFVFTE", pf::PFVFTE0, 0, reg_access::rw, 2, 4,
           [this](unsigned i, uint32_t, uint32_t v) {
               m_vf_tx_enabled = i ? set_hi(m_vf_tx_enabled, v) : set_lo(m_vf_tx_enabled, v);
           },
           {}});
    auto addr_hook = [this](unsigned i, uint32_t, uint32_t) { sync_address(i); };
    m_id.ral = r.add({"RAL", pf::RAL0, 0, reg_access::rw, num_rar, 8, addr_hook, {}});
    m_id.rah = r.add({"RAH", pf::RAH0, 0, reg_access::rw, num_rar, 8, addr_hook, {}});
    m_id.mpsar_lo = r.add({"MPSAR_LO", pf::MPSAR_LO0, 0, reg_access::rw, num_rar, 8, addr_hook, {}});
    m_id.mpsar_hi = r.add({"MPSAR_HI", pf::MPSAR_HI0, 0, reg_access::rw, num_rar, 8, addr_hook, {}});
    add_filter_registers(m_id.rx, pf::SAQF0, pf::DAQF0, pf::SDPQF0, pf::FTQF0, pf::L34T_IMIR0, m_classifier.filters());
    // Anti-spoofing (7.10.3.9.2): a VF's frames must carry one of its pool's MAC addresses.
    r.add({"PFVFSPOOF", pf::PFVFSPOOF0, 0, reg_access::rw, pf::num_pfvfspoof, 4,
           [this](unsigned i, uint32_t, uint32_t v) {
               const uint64_t bits = static_cast<uint64_t>((v >> PFVFSPOOF_MACAS_SHIFT) & 0xFF) << (8 * i);
               m_mac_antispoof = (m_mac_antispoof & ~(0xFFULL << (8 * i))) | bits;
           },
           {}});
    r.add({"SSVPC", pf::SSVPC, 0, reg_access::ro, 1, 4, {}, [this](unsigned, uint32_t) {
               uint64_t n = 0;
               for (uint64_t c : m_stats.tx_spoofed)
                   n += c;
               return static_cast<uint32_t>(n);
           }});
    if (m_params.rich_filters) {
        add_filter_registers(m_id.tx, pf::TXSAQF0, pf::TXDAQF0, pf::TXSDPQF0, pf::TXFTQF0, 0, m_tx_filters);
        r.add({"TXFCTL", pf::TXFCTL0, 0, reg_access::rw, 2, 4,
               [this](unsigned i, uint32_t, uint32_t v) {
                   m_tx_filtering = i ? set_hi(m_tx_filtering, v) : set_lo(m_tx_filtering, v);
               },
               {}});
    }
    build_mailbox_registers();
    r.add({"VMOLR", pf::VMOLR0, 0, reg_access::rw, num_pools, 4,
           [this](unsigned i, uint32_t, uint32_t v) { m_classifier.set_accept_broadcast(i, v & VMOLR_BAM); }, {}});
}

void e10k_nic::build_vf_registers(unsigned v)
{
    using namespace e10k;
    function& fn = *m_vfs[v];
    reg_file& r = fn.regs;
    msix_function& irq = *fn.irq;
    const unsigned first = v * queues_per_pool;
    r.add({"VFCTRL", vf::VFCTRL, 0, reg_access::rw, 1, 4, {}, {}});
    r.add({"VFSTATUS", vf::VFSTATUS, STATUS_LU, reg_access::ro, 1, 4, {}, {}});
    r.add({"VTEICR", vf::VTEICR, 0, reg_access::rw, 1, 4,
           [&irq](unsigned, uint32_t, uint32_t val) { irq.clear_cause(val); },   // write 1 to clear
           [&irq](unsigned, uint32_t) { return irq.cause(); }});
    r.add({"VTEICS", vf::VTEICS, 0, reg_access::wo, 1, 4, [&irq](unsigned, uint32_t, uint32_t val) { irq.set_cause(val); }, {}});
    r.add({"VTEIMS", vf::VTEIMS, 0, reg_access::rw, 1, 4, [&irq](unsigned, uint32_t, uint32_t val) { irq.enable(val); },
           [&irq](unsigned, uint32_t) { return irq.mask(); }});
    r.add({"VTEIMC", vf::VTEIMC, 0, reg_access::wo, 1, 4, [&irq](unsigned, uint32_t, uint32_t val) { irq.disable(val); }, {}});
    r.add({"VTEIAM", vf::VTEIAM, 0, reg_access::rw, 1, 4, [&irq](unsigned, uint32_t, uint32_t val) { irq.set_auto_mask(val); }, {}});
    r.add({"VTIVAR", vf::VTIVAR0, 0, reg_access::rw, 1, 4,
           [&fn](unsigned, uint32_t, uint32_t val) {
               fn.ivar_rx[0] = static_cast<uint8_t>(val);
               fn.ivar_tx[0] = static_cast<uint8_t>(val >> 8);
               fn.ivar_rx[1] = static_cast<uint8_t>(val >> 16);
               fn.ivar_tx[1] = static_cast<uint8_t>(val >> 24);
           },
           {}});
    r.add({"VTEITR", vf::VTEITR0, 0, reg_access::rw, vf_msix_vectors, 4,
           [&irq](unsigned i, uint32_t, uint32_t val) {
               irq.set_interval(i, sc_time(((val & EITR_ITR_MASK) >> EITR_ITR_SHIFT) * EITR_UNIT_NS, SC_NS));
           },
           {}});
    add_rx_queue_registers(r, vf::VFRDBAL0, first, queues_per_pool);
    add_tx_queue_registers(r, vf::VFTDBAL0, first, queues_per_pool);
    build_vf_mailbox_registers(v);
    r.add({"VFGPRC", vf::VFGPRC, 0, reg_access::ro, 1, 4, {},
           [this, first](unsigned, uint32_t) { return static_cast<uint32_t>(m_rxq[first].packets + m_rxq[first + 1].packets); }});
    r.add({"VFGPTC", vf::VFGPTC, 0, reg_access::ro, 1, 4, {},
           [this, first](unsigned, uint32_t) { return static_cast<uint32_t>(m_txq[first].packets + m_txq[first + 1].packets); }});
}

void e10k_nic::sync_address(unsigned i)
{
    const reg_file& r = m_pf.regs;
    const uint32_t ral = r.get(m_id.ral, i), rah = r.get(m_id.rah, i);
    const mac_address mac{static_cast<uint8_t>(ral), static_cast<uint8_t>(ral >> 8), static_cast<uint8_t>(ral >> 16),
                          static_cast<uint8_t>(ral >> 24), static_cast<uint8_t>(rah), static_cast<uint8_t>(rah >> 8)};
    const uint64_t pools = r.get(m_id.mpsar_lo, i) | static_cast<uint64_t>(r.get(m_id.mpsar_hi, i)) << 32;
    if (rah & e10k::RAH_AV)
        m_classifier.addresses().set_entry(i, mac, pools);
    else
        m_classifier.addresses().clear_entry(i);
}

// A bank of 5-tuple filter registers (receive: FTQF and friends; transmit: the rich option's), each
// write decoded into `table`. l34t_imir 0: the bank has no queue register.
void e10k_nic::add_filter_registers(filter_ids& ids, uint32_t saqf, uint32_t daqf, uint32_t sdpqf, uint32_t ftqf,
                                    uint32_t l34t_imir, five_tuple_table& table)
{
    reg_file& r = m_pf.regs;
    const unsigned n = static_cast<unsigned>(table.capacity());
    auto hook = [this, &ids, &table](unsigned i, uint32_t, uint32_t) { sync_filter(ids, table, i); };
    const char* prefix = l34t_imir ? "" : "TX";
    ids.saqf = r.add({std::string(prefix) + "SAQF", saqf, 0, reg_access::rw, n, 4, hook, {}});
    ids.daqf = r.add({std::string(prefix) + "DAQF", daqf, 0, reg_access::rw, n, 4, hook, {}});
    ids.sdpqf = r.add({std::string(prefix) + "SDPQF", sdpqf, 0, reg_access::rw, n, 4, hook, {}});
    ids.ftqf = r.add({std::string(prefix) + "FTQF", ftqf, 0, reg_access::rw, n, 4, hook, {}});
    ids.l34t_imir = l34t_imir ? r.add({"L34T_IMIR", l34t_imir, 0, reg_access::rw, n, 4, hook, {}}) : ~0u;
}

void e10k_nic::sync_filter(const filter_ids& ids, five_tuple_table& table, unsigned i)
{
    using namespace e10k;
    const reg_file& r = m_pf.regs;
    const uint32_t ftqf = r.get(ids.ftqf, i), sdpqf = r.get(ids.sdpqf, i);
    five_tuple_filter f;
    f.enabled = ftqf & FTQF_QUEUE_ENABLE;
    f.src_ip = r.get(ids.saqf, i);
    f.dst_ip = r.get(ids.daqf, i);
    f.sport = static_cast<uint16_t>(sdpqf);
    f.dport = static_cast<uint16_t>(sdpqf >> 16);
    f.proto = static_cast<ftqf_protocol>(ftqf & FTQF_PROTOCOL_MASK);
    f.mask_src_ip = ftqf & FTQF_MASK_SRC_ADDR;
    f.mask_dst_ip = ftqf & FTQF_MASK_DST_ADDR;
    f.mask_sport = ftqf & FTQF_MASK_SRC_PORT;
    f.mask_dport = ftqf & FTQF_MASK_DST_PORT;
    f.mask_proto = ftqf & FTQF_MASK_PROTOCOL;
    f.priority = static_cast<uint8_t>((ftqf >> FTQF_PRIORITY_SHIFT) & 0x7);
    f.pool_valid = !(ftqf & FTQF_POOL_MASK);
    f.pool = static_cast<uint8_t>((ftqf >> FTQF_POOL_SHIFT) & 0x3F);
    if (ids.l34t_imir != ~0u)
        f.rx_queue = static_cast<uint16_t>((r.get(ids.l34t_imir, i) & L34T_IMIR_RX_QUEUE_MASK) >> L34T_IMIR_RX_QUEUE_SHIFT);
    try {
        table.set(i, f);
    } catch (const std::invalid_argument&) {
        // An enabled filter with priority 0: the hardware ignores it until it is valid.
        ++m_stats.bad_filter_writes;
        f.enabled = false;
        table.set(i, f);
    }
}

// A pool receives when its VF is enabled (PFVFRE) or, with VT on, it is the PF's default pool; with
// VT off the PF owns pool 0 alone.
void e10k_nic::sync_pool_enables()
{
    const bool vt = m_vt_ctl & e10k::VT_CTL_VT_ENA;
    for (unsigned p = 0; p < e10k::num_pools; ++p) {
        const bool on = vt ? ((m_vf_rx_enabled >> p) & 1) || p == m_pf.pool : p == 0;
        m_classifier.set_pool_enabled(p, on);
    }
}

// MMIO: decode which function's BAR the address falls in, then its register file or MSI-X table.
void e10k_nic::bar_b_transport(tlm::tlm_generic_payload& trans, sc_time& delay)
{
    const uint64_t addr = trans.get_address();
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    if (trans.get_data_length() != 4 || trans.get_byte_enable_ptr() != nullptr) {
        ++m_stats.mmio_errors;
        return;
    }
    function* fn = nullptr;
    uint64_t off = 0;
    bool msix = false;
    if (addr >= models::nic_pf_bar0 && addr < models::nic_pf_bar0 + models::nic_pf_bar0_size) {
        fn = &m_pf;
        off = addr - models::nic_pf_bar0;
    } else if (addr >= models::nic_pf_msix_bar && addr < models::nic_pf_msix_bar + e10k::pf_msix_vectors * e10k::msix_entry_bytes) {
        fn = &m_pf;
        off = addr - models::nic_pf_msix_bar;
        msix = true;
    } else if (addr >= models::nic_vf_bar_base && addr < models::nic_vf_bar_base + m_vfs.size() * models::nic_vf_bar_stride) {
        const unsigned v = static_cast<unsigned>((addr - models::nic_vf_bar_base) / models::nic_vf_bar_stride);
        fn = m_vfs[v].get();
        off = (addr - models::nic_vf_bar_base) % models::nic_vf_bar_stride;
        if (off >= models::nic_vf_msix_offset) {
            off -= models::nic_vf_msix_offset;
            msix = true;
        }
    }
    if (fn == nullptr) {
        ++m_stats.mmio_errors;
        return;
    }
    uint32_t value = 0;
    if (trans.is_write())
        std::memcpy(&value, trans.get_data_ptr(), 4);
    bool ok = true;
    m_mmio_delay = delay;
    if (msix) {
        if (off >= fn->irq->vectors() * e10k::msix_entry_bytes)
            ok = false;
        else if (trans.is_write())
            fn->irq->table_write(static_cast<uint32_t>(off), value);
        else
            value = fn->irq->table_read(static_cast<uint32_t>(off));
    } else {
        ok = trans.is_write() ? fn->regs.write(static_cast<uint32_t>(off), value)
                              : fn->regs.read(static_cast<uint32_t>(off), value);
    }
    if (!ok) {
        ++m_stats.mmio_errors;
        return;
    }
    if (trans.is_read())
        std::memcpy(trans.get_data_ptr(), &value, 4);
    delay += m_params.cycle;   // one register-access cycle in the device
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
}
} // namespace iovsim::nic
