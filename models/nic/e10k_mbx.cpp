// The PF/VF mailbox of the e10k (82599 datasheet 7.9.2.2): 16 dwords of memory per VF that both
// sides see (PFMBMEM(n) in the PF's BAR, VFMBMEM in VF n's), an ownership semaphore (PFU, VFU) so
// that one side writes at a time, and doorbells each way: the PF's STS and ACK set the VF's
// PFSTS and PFACK and raise the VF's mailbox cause (VTIVAR_MISC's vector); the VF's REQ and ACK set
// its VFREQ and VFACK bits in PFMBICR and, where PFMBIMR enables them, the PF's other cause
// (IVAR_MISC's vector). What the words mean is the drivers' protocol (os/dev/e10k_mbx.h).
#include "models/nic/e10k.h"

using iovsim::models::reg_access;
using iovsim::models::reg_file;

namespace iovsim::nic {

void e10k_nic::raise_misc_irq(function& fn)
{
    if (fn.ivar_misc & e10k::IVAR_ALLOC_VAL)
        fn.irq->raise(fn.ivar_misc & 0x3F);
}

void e10k_nic::mailbox_to_pf(unsigned vf, uint32_t bits)
{
    m_pfmbicr[vf / 16] |= bits;
    if (m_pfmbimr[vf / 16] & bits)
        raise_misc_irq(m_pf);
}

void e10k_nic::build_mailbox_registers()
{
    using namespace e10k;
    reg_file& r = m_pf.regs;
    r.add({"IVAR_MISC", pf::IVAR_MISC, 0, reg_access::rw, 1, 4,
           [this](unsigned, uint32_t, uint32_t v) { m_pf.ivar_misc = static_cast<uint8_t>(v); }, {}});
    r.add({"PFMBICR", pf::PFMBICR0, 0, reg_access::rw, pf::num_pfmbicr, 4,
           [this](unsigned i, uint32_t, uint32_t v) { m_pfmbicr[i] &= ~v; },   // write 1 to clear
           [this](unsigned i, uint32_t) { return m_pfmbicr[i]; }});
    r.add({"PFMBIMR", pf::PFMBIMR0, 0, reg_access::rw, pf::num_pfmbicr, 4,
           [this](unsigned i, uint32_t, uint32_t v) { m_pfmbimr[i] = v; }, {}});
    r.add({"PFMAILBOX", pf::PFMAILBOX0, 0, reg_access::rw, num_pools, 4,
           [this](unsigned i, uint32_t, uint32_t v) {
               if (i >= m_vfs.size())
                   return;
               function& fn = *m_vfs[i];
               if (v & PFMAILBOX_RVFU)
                   fn.vfu = false;
               fn.pfu = (v & PFMAILBOX_PFU) && !fn.vfu;
               if (v & (PFMAILBOX_STS | PFMAILBOX_ACK)) {
                   fn.pfsts |= (v & PFMAILBOX_STS) != 0;
                   fn.pfack |= (v & PFMAILBOX_ACK) != 0;
                   raise_misc_irq(fn);
               }
           },
           [this](unsigned i, uint32_t) {
               if (i >= m_vfs.size())
                   return 0u;
               const function& fn = *m_vfs[i];
               return (fn.vfu ? PFMAILBOX_VFU : 0u) | (fn.pfu ? PFMAILBOX_PFU : 0u);
           }});
    r.add({"PFMBMEM", pf::PFMBMEM0, 0, reg_access::rw, num_pools * mbx_words, 4,
           [this](unsigned i, uint32_t, uint32_t v) {
               const unsigned vf = i / mbx_words;
               if (vf < m_vfs.size() && m_vfs[vf]->pfu)
                   m_vfs[vf]->mbx[i % mbx_words] = v;
               else
                   ++m_stats.mbx_refused_writes;
           },
           [this](unsigned i, uint32_t) {
               const unsigned vf = i / mbx_words;
               return vf < m_vfs.size() ? m_vfs[vf]->mbx[i % mbx_words] : 0u;
           }});
}

void e10k_nic::build_vf_mailbox_registers(unsigned v)
{
    using namespace e10k;
    function& fn = *m_vfs[v];
    reg_file& r = fn.regs;
    r.add({"VTIVAR_MISC", vf::VTIVAR_MISC, 0, reg_access::rw, 1, 4,
           [&fn](unsigned, uint32_t, uint32_t val) { fn.ivar_misc = static_cast<uint8_t>(val); }, {}});
    r.add({"VFMAILBOX", vf::VFMAILBOX, 0, reg_access::rw, 1, 4,
           [this, &fn, v](unsigned, uint32_t, uint32_t val) {
               fn.vfu = (val & VFMAILBOX_VFU) && !fn.pfu;
               if (val & VFMAILBOX_REQ)
                   mailbox_to_pf(v, 1u << (v % 16));
               if (val & VFMAILBOX_ACK)
                   mailbox_to_pf(v, 1u << (16 + v % 16));
           },
           [&fn](unsigned, uint32_t) {
               const uint32_t value = (fn.vfu ? VFMAILBOX_VFU : 0u) | (fn.pfu ? VFMAILBOX_PFU : 0u) |
                                      (fn.pfsts ? VFMAILBOX_PFSTS : 0u) | (fn.pfack ? VFMAILBOX_PFACK : 0u) |
                                      (fn.rstd ? VFMAILBOX_RSTD : 0u);
               fn.pfsts = fn.pfack = fn.rstd = false;   // read to clear
               return value;
           }});
    r.add({"VFMBMEM", vf::VFMBMEM, 0, reg_access::rw, mbx_words, 4,
           [this, &fn](unsigned i, uint32_t, uint32_t val) {
               if (fn.vfu)
                   fn.mbx[i] = val;
               else
                   ++m_stats.mbx_refused_writes;
           },
           [&fn](unsigned i, uint32_t) { return fn.mbx[i]; }});
}

} // namespace iovsim::nic
