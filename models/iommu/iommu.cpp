#include "models/iommu/iommu.h"

#include <cstring>

#include "models/iommu/iommu_regs.h"
#include "models/platform/address_map.h"
#include "models/platform/tlm_ext.h"

using namespace sc_core;
using iovsim::models::reg_access;

namespace iovsim::iommu {

iommu::iommu(sc_module_name name, const iommu_params& params)
    : sc_module(name), dma_in("dma_in"), mem_out("mem_out"), reg_target("reg_target"), m_params(params),
      m_translator(params.translator, *this)
{
    dma_in.register_b_transport(this, &iommu::dma_b_transport);
    reg_target.register_b_transport(this, &iommu::reg_b_transport);
    build_registers();
}

bool iommu::read_table(uint64_t pa, uint8_t* bytes, unsigned len)
{
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_READ_COMMAND);
    t.set_address(pa);
    t.set_data_ptr(bytes);
    t.set_data_length(len);
    t.set_streaming_width(len);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    mem_out->b_transport(t, m_walk_delay);   // each read waits for the one before (a walk is serial)
    return t.get_response_status() == tlm::TLM_OK_RESPONSE;
}

namespace {
uint64_t le64(const uint8_t* p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}
} // namespace

uint64_t iommu::read_u64(uint64_t pa)
{
    uint8_t bytes[8] = {};
    if (!read_table(pa, bytes, 8))
        return 0;                            // reads as not-present: the walk faults
    return le64(bytes);
}

void iommu::read_u128(uint64_t pa, uint64_t& lo, uint64_t& hi)
{
    uint8_t bytes[16] = {};
    if (!read_table(pa, bytes, 16)) {
        lo = hi = 0;
        return;
    }
    lo = le64(bytes);
    hi = le64(bytes + 8);
}

void iommu::dma_b_transport(int, tlm::tlm_generic_payload& trans, sc_time& delay)
{
    const uint64_t addr = trans.get_address();
    const uint64_t len = trans.get_data_length();
    // Interrupt messages are not remapped; with translation off the unit is not in the path.
    if ((addr >= models::msi_base && addr - models::msi_base < models::msi_size) || !m_translator.translating()) {
        mem_out->b_transport(trans, delay);
        return;
    }
    models::pcie_ext* ext = nullptr;
    trans.get_extension(ext);
    const uint16_t rid = ext ? ext->requester_id : 0;
    const access acc = trans.is_write() ? access::write : access::read;

    // Translate every page the transaction touches before any byte moves.
    m_chunks.clear();
    m_walk_delay = delay;
    for (uint64_t off = 0; off < len;) {
        const uint64_t iova = addr + off;
        const uint64_t in_page = std::min<uint64_t>(len - off, page_size - (iova & (page_size - 1)));
        m_walk_delay += m_params.lookup_latency;
        const translation t = m_translator.translate(rid, iova, acc);
        if (!t.ok) {
            ++m_blocked;
            if (ext)
                ext->iommu_fault = true;
            delay = m_walk_delay;
            trans.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
            fault_event(delay);
            return;
        }
        if (!m_chunks.empty() && m_chunks.back().first + m_chunks.back().second == t.pa)
            m_chunks.back().second += in_page;
        else
            m_chunks.emplace_back(t.pa, in_page);
        off += in_page;
    }
    delay = m_walk_delay;
    if (m_chunks.size() == 1) {
        trans.set_address(m_chunks[0].first);
        mem_out->b_transport(trans, delay);
        trans.set_address(addr);
        return;
    }
    // Pages not contiguous in memory: one memory access per run, each from its part of the buffer.
    unsigned char* data = trans.get_data_ptr();
    uint64_t done = 0;
    sc_time latest = delay;
    for (const auto& [pa, bytes] : m_chunks) {
        tlm::tlm_generic_payload part;
        part.set_command(trans.get_command());
        part.set_address(pa);
        part.set_data_ptr(data + done);
        part.set_data_length(static_cast<unsigned>(bytes));
        part.set_streaming_width(static_cast<unsigned>(bytes));
        part.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        if (ext)
            part.set_extension(ext);   // the requester id travels on (MSI ordering needs it)
        sc_time d = delay;
        mem_out->b_transport(part, d);
        if (ext)
            part.clear_extension(ext);
        latest = std::max(latest, d);
        if (part.get_response_status() != tlm::TLM_OK_RESPONSE) {
            trans.set_response_status(part.get_response_status());
            delay = latest;
            return;
        }
        done += bytes;
    }
    delay = latest;
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

void iommu::build_registers()
{
    using namespace regs;
    auto& r = m_regs;
    r.add({"VER_REG", VER_REG, 0x10, reg_access::ro, 1, 4, {}, {}});
    // CAP: SAGAW 3- and 4-level (bits 12:8 = 0b00110), FRO at 0x200/16 (bits 33:24), NFR 0.
    r.add({"CAP_REG", CAP_REG, 0x06u << 8, reg_access::ro, 1, 4, {}, {}});
    r.add({"CAP_REG_HI", CAP_REG + 4, 0x20u >> 8, reg_access::ro, 1, 4, {}, {}});
    r.add({"ECAP_REG", ECAP_REG, (0x10u << 8) | (m_params.translator.pass_through ? 1u << 6 : 0), reg_access::ro, 1, 4, {}, {}});
    r.add({"ECAP_REG_HI", ECAP_REG + 4, 0, reg_access::ro, 1, 4, {}, {}});
    m_id_rtaddr_lo = r.add({"RTADDR_REG", RTADDR_REG, 0, reg_access::rw, 1, 4, {}, {}});
    m_id_rtaddr_hi = r.add({"RTADDR_REG_HI", RTADDR_REG + 4, 0, reg_access::rw, 1, 4, {}, {}});
    r.add({"GCMD_REG", GCMD_REG, 0, reg_access::wo, 1, 4,
           [this](unsigned, uint32_t, uint32_t v) {
               if (v & GCMD_SRTP) {
                   const uint64_t rta = m_regs.get(m_id_rtaddr_lo) | static_cast<uint64_t>(m_regs.get(m_id_rtaddr_hi)) << 32;
                   m_translator.set_root_table(rta & ~0xFFFULL);
                   m_gsts |= GSTS_RTPS;
               }
               m_translator.set_translation_enabled(v & GCMD_TE);
               m_gsts = (m_gsts & ~GSTS_TES) | (v & GCMD_TE ? GSTS_TES : 0);
           },
           {}});
    r.add({"GSTS_REG", GSTS_REG, 0, reg_access::ro, 1, 4, {}, [this](unsigned, uint32_t) { return m_gsts; }});
    r.add({"CCMD_REG", CCMD_REG, 0, reg_access::rw, 1, 4, {}, {}});
    r.add({"CCMD_REG_HI", CCMD_REG + 4, 0, reg_access::rw, 1, 4,
           [this](unsigned, uint32_t, uint32_t v) {
               if (v & CCMD_ICC_HI)
                   m_translator.invalidate_context_cache();
           },
           [](unsigned, uint32_t v) { return v & ~CCMD_ICC_HI; }});  // ICC reads 0: done at once
    // Fault events (VT-d 7.3.1): an interrupt message per recorded fault while unmasked; one that
    // came while masked is sent when the mask is cleared.
    r.add({"FECTL_REG", FECTL_REG, FECTL_IM, reg_access::rw, 1, 4,
           [this](unsigned, uint32_t, uint32_t v) {
               const bool pending = m_fectl & FECTL_IP;
               m_fectl = v & FECTL_IM;
               if (pending && !(m_fectl & FECTL_IM))
                   fault_event(sc_core::SC_ZERO_TIME);
               else if (pending)
                   m_fectl |= FECTL_IP;
           },
           [this](unsigned, uint32_t) { return m_fectl; }});
    r.add({"FEDATA_REG", FEDATA_REG, 0, reg_access::rw, 1, 4, [this](unsigned, uint32_t, uint32_t v) { m_fedata = v; }, {}});
    r.add({"FEADDR_REG", FEADDR_REG, 0, reg_access::rw, 1, 4, [this](unsigned, uint32_t, uint32_t v) { m_feaddr = v & ~3u; }, {}});
    auto show = [this]() {
        if (!m_shown_valid)
            m_shown_valid = m_translator.pop_fault(m_shown);
    };
    r.add({"FSTS_REG", FSTS_REG, 0, reg_access::ro, 1, 4, {},
           [this, show](unsigned, uint32_t) { show(); return m_shown_valid ? FSTS_PPF : 0u; }});
    m_id_iva_lo = r.add({"IVA_REG", IVA_REG, 0, reg_access::rw, 1, 4, {}, {}});
    m_id_iva_hi = r.add({"IVA_REG_HI", IVA_REG + 4, 0, reg_access::rw, 1, 4, {}, {}});
    m_id_iotlb_lo = r.add({"IOTLB_REG", IOTLB_REG, 0, reg_access::rw, 1, 4, {}, {}});
    r.add({"IOTLB_REG_HI", IOTLB_REG + 4, 0, reg_access::rw, 1, 4,
           [this](unsigned, uint32_t, uint32_t v) {
               if (!(v & IOTLB_IVT_HI))
                   return;
               const unsigned granularity = (v >> IOTLB_IIRG_SHIFT_HI) & 3;
               const uint16_t did = static_cast<uint16_t>(v & IOTLB_DID_MASK_HI);
               const uint64_t iva = m_regs.get(m_id_iva_lo) | static_cast<uint64_t>(m_regs.get(m_id_iva_hi)) << 32;
               if (granularity == 1)
                   m_translator.invalidate_iotlb_all();
               else if (granularity == 2)
                   m_translator.invalidate_iotlb_domain(did);
               else if (granularity == 3)
                   m_translator.invalidate_iotlb_page(did, iva & ~0xFFFULL);
           },
           [](unsigned, uint32_t v) { return v & ~IOTLB_IVT_HI; }});
    r.add({"FRCD_ADDR_LO", FRCD_ADDR_LO, 0, reg_access::ro, 1, 4, {},
           [this, show](unsigned, uint32_t) { show(); return m_shown_valid ? static_cast<uint32_t>(m_shown.iova) : 0u; }});
    r.add({"FRCD_ADDR_HI", FRCD_ADDR_HI, 0, reg_access::ro, 1, 4, {},
           [this, show](unsigned, uint32_t) { show(); return m_shown_valid ? static_cast<uint32_t>(m_shown.iova >> 32) : 0u; }});
    r.add({"FRCD_INFO", FRCD_INFO, 0, reg_access::rw, 1, 4,
           [this](unsigned, uint32_t, uint32_t v) {
               if (v & FRCD_F)
                   m_shown_valid = false;   // software acknowledged the record
           },
           [this, show](unsigned, uint32_t) {
               show();
               if (!m_shown_valid)
                   return 0u;
               return FRCD_F | (m_shown.acc == access::read ? FRCD_T_READ : 0u) |
                      static_cast<uint32_t>(m_shown.reason) << 16 | m_shown.requester_id;
           }});
}

void iommu::fault_event(const sc_time& delay)
{
    if (m_fectl & regs::FECTL_IM) {
        m_fectl |= regs::FECTL_IP;
        return;
    }
    uint32_t data = m_fedata;
    tlm::tlm_generic_payload msg;
    msg.set_command(tlm::TLM_WRITE_COMMAND);
    msg.set_address(m_feaddr);
    msg.set_data_ptr(reinterpret_cast<unsigned char*>(&data));
    msg.set_data_length(4);
    msg.set_streaming_width(4);
    msg.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time d = delay;
    mem_out->b_transport(msg, d);
    ++m_fault_events;
}

void iommu::reg_b_transport(tlm::tlm_generic_payload& trans, sc_time& delay)
{
    const uint64_t off = trans.get_address() - models::iommu_reg_base;
    const unsigned len = trans.get_data_length();
    uint32_t v = 0;
    bool ok = false;
    if (off < models::iommu_reg_size && trans.get_byte_enable_ptr() == nullptr) {
        if (trans.is_write()) {
            if (len == 4)
                std::memcpy(&v, trans.get_data_ptr(), 4);
            ok = m_regs.write(static_cast<uint32_t>(off), len, v);
        } else {
            ok = m_regs.read(static_cast<uint32_t>(off), len, v);
            if (ok)
                std::memcpy(trans.get_data_ptr(), &v, 4);
        }
    }
    if (!ok)
        ++m_bad_register_accesses;
    delay += sc_time(10, SC_NS);   // chipset register access
    trans.set_response_status(ok ? tlm::TLM_OK_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

} // namespace iovsim::iommu
