#include "os/dataplane/vf_mailbox.h"

#include "models/nic/e10k_regs.h"
#include "models/platform/address_map.h"

namespace iovsim::os::dataplane {

namespace reg = iovsim::e10k;
namespace mbx = dev::mbx;

namespace {
constexpr category cat = category::net_stack_out;   // control work of the library OS
}

vf_mailbox::vf_mailbox(cpu_core& core, dev::dev_handle vf, unsigned vector, unsigned irq)
    : m_core(core), m_vf(vf), m_irq(irq)
{
    const dev::dev_handle entry{vf.core, vf.bar + models::nic_vf_msix_offset + vector * reg::msix_entry_bytes};
    entry.write_reg(cat, reg::MSIX_ADDR_LO, static_cast<uint32_t>(models::msi_base | core.apic_id() << models::msi_dest_shift));
    entry.write_reg(cat, reg::MSIX_ADDR_HI, 0);
    entry.write_reg(cat, reg::MSIX_DATA, irq);
    entry.write_reg(cat, reg::MSIX_VECTOR_CTRL, 0);
    m_vf.write_reg(cat, reg::vf::VTIVAR_MISC, reg::IVAR_ALLOC_VAL | vector);
    m_vf.write_reg(cat, reg::vf::VTEIMS, 1u << vector);
    m_core.claim_vectors(m_irq, 1, [this](unsigned) {
        ++m_irqs;
        m_reply = true;
    });
}

std::vector<uint32_t> vf_mailbox::request(const uint32_t* msg, unsigned n, unsigned reply_words)
{
    m_vf.write_reg(cat, reg::vf::VFMAILBOX, reg::VFMAILBOX_VFU);
    if (!(m_vf.read_reg(cat, reg::vf::VFMAILBOX) & reg::VFMAILBOX_VFU))
        return {msg[0] | mbx::nack};   // the PF holds the memory
    for (unsigned i = 0; i < n; ++i)
        m_vf.write_reg(cat, reg::vf::VFMBMEM + 4 * i, msg[i]);
    m_reply = false;
    m_vf.write_reg(cat, reg::vf::VFMAILBOX, reg::VFMAILBOX_REQ);   // and release the memory
    m_core.wait_until(category::poll, [this] { return m_reply; });
    std::vector<uint32_t> reply(reply_words);
    for (unsigned i = 0; i < reply_words; ++i)
        reply[i] = m_vf.read_reg(cat, reg::vf::VFMBMEM + 4 * i);
    m_vf.write_reg(cat, reg::vf::VFMAILBOX, reg::VFMAILBOX_ACK);
    return reply;
}

bool vf_mailbox::negotiate(mbx::api version)
{
    const uint32_t msg[2] = {mbx::msg_api_negotiate, static_cast<uint32_t>(version)};
    return request(msg, 2, 1)[0] & mbx::ack;
}

std::optional<wire::mac_addr> vf_mailbox::reset()
{
    const uint32_t msg[1] = {mbx::msg_reset};
    const auto r = request(msg, 1, 3);
    if (!(r[0] & mbx::ack))
        return std::nullopt;
    return mbx::get_mac(r.data() + 1);
}

bool vf_mailbox::set_mac(const wire::mac_addr& mac)
{
    uint32_t msg[3] = {mbx::msg_set_mac};
    mbx::put_mac(msg + 1, mac);
    return request(msg, 3, 1)[0] & mbx::ack;
}

bool vf_mailbox::set_multicast(const std::vector<wire::mac_addr>& groups)
{
    if (groups.size() > mbx::max_multicast)
        return false;
    uint32_t msg[reg::mbx_words] = {mbx::msg_set_multicast | static_cast<uint32_t>(groups.size()) << mbx::info_shift};
    for (size_t i = 0; i < groups.size(); ++i)
        mbx::put_mac(msg + 1 + 2 * i, groups[i]);
    return request(msg, static_cast<unsigned>(1 + 2 * groups.size()), 1)[0] & mbx::ack;
}

} // namespace iovsim::os::dataplane
