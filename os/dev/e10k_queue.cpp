#include "os/dev/e10k_queue.h"

#include <stdexcept>

#include "models/nic/ring.h"

namespace iovsim::os::dev {

using iovsim::nic::ring_index;
namespace reg = iovsim::e10k;

e10k_rx_ring::e10k_rx_ring(dev_handle dev, uint32_t regs, uint64_t ring_pa, uint32_t size, uint32_t buf_bytes)
    : m_dev(dev), m_regs(regs), m_ring_pa(ring_pa), m_ring(dev.cpu().mem(ring_pa, size * reg::desc_bytes)),
      m_size(size), m_buf_bytes(buf_bytes), m_slots(size)
{
    if (!ring_index::is_valid_size(size))
        throw std::invalid_argument("rx ring size must be a non-zero multiple of 8");
}

void e10k_rx_ring::init(category c)
{
    m_dev.write_reg(c, m_regs + reg::pf::RDBAL_OFF, static_cast<uint32_t>(m_ring_pa));
    m_dev.write_reg(c, m_regs + reg::pf::RDBAH_OFF, static_cast<uint32_t>(m_ring_pa >> 32));
    m_dev.write_reg(c, m_regs + reg::pf::RDLEN_OFF, m_size * reg::desc_bytes);
    m_dev.write_reg(c, m_regs + reg::pf::SRRCTL_OFF, m_buf_bytes / 1024);
    m_dev.write_reg(c, m_regs + reg::pf::RDH_OFF, 0);
    m_dev.write_reg(c, m_regs + reg::pf::RDT_OFF, 0);
    m_dev.write_reg(c, m_regs + reg::pf::RXDCTL_OFF, reg::RXDCTL_ENABLE);
}

bool e10k_rx_ring::post(const net::pkt& p)
{
    if (free_slots() == 0)
        return false;
    reg::rx_desc_read{p.pa, 0}.encode(m_ring + m_next_to_use * reg::desc_bytes);
    m_slots[m_next_to_use] = p;
    m_next_to_use = ring_index::advance(m_next_to_use, 1, m_size);
    ++m_unannounced;
    return true;
}

void e10k_rx_ring::doorbell(category c)
{
    if (m_unannounced == 0)
        return;
    m_unannounced = 0;
    m_dev.write_reg(c, m_regs + reg::pf::RDT_OFF, m_next_to_use);
}

bool e10k_rx_ring::ready() const
{
    if (m_next_to_clean == m_next_to_use)
        return false;
    const auto wb = reg::rx_desc_wb::decode(m_ring + m_next_to_clean * reg::desc_bytes);
    return wb.status_error & reg::RXD_STAT_DD;
}

net::pkt e10k_rx_ring::take(bool& error)
{
    uint8_t* d = m_ring + m_next_to_clean * reg::desc_bytes;
    const auto wb = reg::rx_desc_wb::decode(d);
    net::pkt p = m_slots[m_next_to_clean];
    error = (wb.status_error & reg::RXD_ERR_RXE) || !(wb.status_error & reg::RXD_STAT_EOP);
    p.off = 0;
    p.len = error ? 0 : wb.length;
    std::fill(d, d + reg::desc_bytes, 0);
    m_next_to_clean = ring_index::advance(m_next_to_clean, 1, m_size);
    return p;
}

uint32_t e10k_rx_ring::free_slots() const
{
    // Slots between next_to_use and next_to_clean, one kept empty (head == tail means empty).
    return ring_index::free_slots(m_next_to_clean, m_next_to_use, m_size);
}

e10k_tx_ring::e10k_tx_ring(dev_handle dev, uint32_t regs, uint64_t ring_pa, uint32_t size)
    : m_dev(dev), m_regs(regs), m_ring_pa(ring_pa), m_ring(dev.cpu().mem(ring_pa, size * reg::desc_bytes)),
      m_size(size), m_slots(size)
{
    if (!ring_index::is_valid_size(size))
        throw std::invalid_argument("tx ring size must be a non-zero multiple of 8");
}

void e10k_tx_ring::init(category c)
{
    m_dev.write_reg(c, m_regs + reg::pf::TDBAL_OFF, static_cast<uint32_t>(m_ring_pa));
    m_dev.write_reg(c, m_regs + reg::pf::TDBAH_OFF, static_cast<uint32_t>(m_ring_pa >> 32));
    m_dev.write_reg(c, m_regs + reg::pf::TDLEN_OFF, m_size * reg::desc_bytes);
    m_dev.write_reg(c, m_regs + reg::pf::TDH_OFF, 0);
    m_dev.write_reg(c, m_regs + reg::pf::TDT_OFF, 0);
    m_dev.write_reg(c, m_regs + reg::pf::TXDCTL_OFF, reg::TXDCTL_ENABLE);
}

bool e10k_tx_ring::post(const net::pkt& frame)
{
    if (free_slots() == 0)
        return false;
    const reg::tx_desc d{frame.bytes_pa(),
                         reg::TXD_DTYP_DATA | reg::TXD_CMD_DEXT | reg::TXD_CMD_EOP | reg::TXD_CMD_IFCS |
                             reg::TXD_CMD_RS | (frame.len & reg::TXD_DTALEN_MASK),
                         frame.len << reg::TXD_PAYLEN_SHIFT};
    d.encode(m_ring + m_next_to_use * reg::desc_bytes);
    m_slots[m_next_to_use] = frame;
    m_next_to_use = ring_index::advance(m_next_to_use, 1, m_size);
    ++m_in_flight;
    ++m_unannounced;
    return true;
}

void e10k_tx_ring::doorbell(category c)
{
    if (m_unannounced == 0)
        return;
    m_unannounced = 0;
    m_dev.write_reg(c, m_regs + reg::pf::TDT_OFF, m_next_to_use);
}

bool e10k_tx_ring::reclaim_ready() const
{
    if (m_in_flight == 0)
        return false;
    const auto d = reg::tx_desc::decode(m_ring + m_next_to_clean * reg::desc_bytes);
    return d.olinfo_status & reg::TXD_STAT_DD;
}

bool e10k_tx_ring::reclaim(net::pkt& out)
{
    if (!reclaim_ready())
        return false;
    out = m_slots[m_next_to_clean];
    m_next_to_clean = ring_index::advance(m_next_to_clean, 1, m_size);
    --m_in_flight;
    return true;
}

uint32_t e10k_tx_ring::free_slots() const
{
    return ring_index::free_slots(m_next_to_clean, m_next_to_use, m_size);
}

} // namespace iovsim::os::dev
