#pragma once
// The Intel 82599 ("e10k") register map and descriptor formats: the one source of truth shared by
// the NIC model (models/nic) and its drivers (os/). Names and offsets follow the 82599 10 GbE
// Controller Datasheet (rev. 3.x): section 8.2.3 (PF registers), 8.3.5 (VF registers), 7.1.6
// (advanced receive descriptors), 7.2.3.2.4 (advanced transmit data descriptor). The model
// implements the subset listed here; an access to any other offset is answered with an error
// response and counted.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace iovsim::e10k {

constexpr unsigned num_pools = 64;          // virtualization pools (VFs), 7.10.1
constexpr unsigned queues_per_pool = 2;     // 64-pool mode: 2 RX and 2 TX queues per pool
constexpr unsigned num_queues = num_pools * queues_per_pool;  // 128
constexpr unsigned num_rar = 128;           // receive address registers (RAL/RAH)
constexpr unsigned num_5tuple = 128;        // L3/L4 5-tuple filters (FTQF...), 7.1.2.5
constexpr unsigned pf_msix_vectors = 64;
constexpr unsigned vf_msix_vectors = 3;     // 2 queue vectors + mailbox/misc
constexpr unsigned msix_entry_bytes = 16;   // Msg Addr Lo, Msg Addr Hi, Msg Data, Vector Control

// ---- PF BAR0 (8.2.3) -----------------------------------------------------------------------
namespace pf {
constexpr uint32_t CTRL = 0x00000;
constexpr uint32_t STATUS = 0x00008;
constexpr uint32_t EICR = 0x00800;          // extended interrupt cause (write 1 to clear)
constexpr uint32_t EICS = 0x00808;          // cause set
constexpr uint32_t EITR0 = 0x00820;         // EITR(n) = 0x820 + 4n, n < 24
constexpr unsigned num_eitr = 24;
constexpr uint32_t EIMS = 0x00880;          // mask set / read
constexpr uint32_t EIMC = 0x00888;          // mask clear
constexpr uint32_t EIAM = 0x00890;          // auto-mask on interrupt
constexpr uint32_t GPIE = 0x00898;
constexpr uint32_t IVAR0 = 0x00900;         // IVAR(n) = 0x900 + 4n, n < 64: queues 2n, 2n+1
constexpr uint32_t IVAR_MISC = 0x00A00;     // bits 7:0: vector of the other causes (the mailbox here)
constexpr uint32_t PFMBICR0 = 0x00710;      // mailbox interrupt cause, 4 x 16 VFs: VFREQ 15:0, VFACK 31:16 (w1c)
constexpr uint32_t PFMBIMR0 = 0x00720;      // mailbox interrupt mask, 4 x 16 VFs (1 = enabled)
constexpr unsigned num_pfmbicr = 4;
constexpr uint32_t PFMAILBOX0 = 0x04B00;    // PFMAILBOX(n) = 0x4B00 + 4n, n < 64
constexpr uint32_t PFMBMEM0 = 0x13000;      // PFMBMEM(n) = 0x13000 + 64n: VF n's 16-dword mailbox memory
constexpr uint32_t RDBAL0 = 0x01000;        // RX queue n < 64 at 0x1000 + 0x40 n
constexpr uint32_t RXQ_STRIDE = 0x40;
constexpr uint32_t RDBAL_OFF = 0x00, RDBAH_OFF = 0x04, RDLEN_OFF = 0x08, RDH_OFF = 0x10,
                   SRRCTL_OFF = 0x14, RDT_OFF = 0x18, RXDCTL_OFF = 0x28;
constexpr uint32_t RDBAL64 = 0x0D000;       // RX queues 64..127 at 0xD000 + 0x40 (n - 64)
// The PF's register block of RX queue n (< 128).
constexpr uint32_t rx_queue_regs(unsigned n) { return n < 64 ? RDBAL0 + n * RXQ_STRIDE : RDBAL64 + (n - 64) * RXQ_STRIDE; }
constexpr uint32_t RXCTRL = 0x03000;        // bit 0 RXEN
constexpr uint32_t CRCERRS = 0x04000;       // statistics (read-only here)
constexpr uint32_t RLEC = 0x04040;          // receive length errors
constexpr uint32_t GPRC = 0x04074;          // good packets received
constexpr uint32_t GPTC = 0x04080;          // good packets transmitted
constexpr uint32_t RUC = 0x040A4;           // receive undersize
constexpr uint32_t ROC = 0x040AC;           // receive oversize
constexpr uint32_t MNGDROP = 0x040B4;       // here: frames dropped for no matching pool
constexpr uint32_t RTTDCS = 0x04900;        // DCB transmit descriptor plane control; bit 1 VMPAC
constexpr uint32_t RTTDQSEL = 0x04904;      // selects the queue (RTTBCNRC) or pool (RTTDT1C) below
constexpr uint32_t RTTDT1C = 0x04908;       // descriptor plane T1 config: the selected pool's credits
constexpr uint32_t RTTBCNRM = 0x04980;      // rate-scheduler MMW_SIZE: burst credit, KB
constexpr uint32_t RTTBCNRC = 0x04984;      // rate-scheduler config of the selected queue
constexpr uint32_t DMATXCTL = 0x04A80;      // bit 0 TE
constexpr uint32_t VT_CTL = 0x051B0;        // bit 0 VT_Ena, bits 12:7 DEF_PL, bit 29 DIS_DEF_POOL
constexpr uint32_t PFVFRE0 = 0x051E0;       // VF receive enable, 2 x 32 bits
constexpr uint32_t TDBAL0 = 0x06000;        // TX queue n at 0x6000 + 0x40 n
constexpr uint32_t TXQ_STRIDE = 0x40;
constexpr uint32_t TDBAL_OFF = 0x00, TDBAH_OFF = 0x04, TDLEN_OFF = 0x08, TDH_OFF = 0x10,
                   TDT_OFF = 0x18, TXDCTL_OFF = 0x28;
constexpr uint32_t PFVFTE0 = 0x08110;       // VF transmit enable, 2 x 32 bits
constexpr uint32_t PFVFSPOOF0 = 0x08200;    // anti-spoofing, 8 registers of 8 VFs each (8.2.3.27.x)
constexpr unsigned num_pfvfspoof = 8;
constexpr uint32_t SSVPC = 0x08780;         // switch security violation packet count (spoofed frames)
constexpr uint32_t RAL0 = 0x0A200;          // RAL(n) = 0xA200 + 8n, RAH(n) = 0xA204 + 8n
constexpr uint32_t RAH0 = 0x0A204;
constexpr uint32_t MPSAR_LO0 = 0x0A600;     // pool select per RAR: pools 31:0 and 63:32
constexpr uint32_t MPSAR_HI0 = 0x0A604;
constexpr uint32_t SAQF0 = 0x0E000;         // 5-tuple source address
constexpr uint32_t DAQF0 = 0x0E200;         // 5-tuple destination address
constexpr uint32_t SDPQF0 = 0x0E400;        // source port 15:0, destination port 31:16
constexpr uint32_t FTQF0 = 0x0E600;         // 5-tuple control
constexpr uint32_t L34T_IMIR0 = 0x0E800;    // 5-tuple immediate interrupt / RX queue
constexpr uint32_t VMOLR0 = 0x0F000;        // VM offload per pool; bit 27 BAM (accept broadcast)
// Not 82599 registers: the richer transmit filters the Arrakis paper asks for, present only with
// the platform option platform.nic.filters = rich. Each of the 128 entries has the layout of the
// receive 5-tuple filters (SAQF, DAQF, SDPQF, FTQF; L34T_IMIR's queue is not used); a frame a
// pool sends with TXFCTL's bit for that pool set leaves only if it is not IPv4 or it matches an
// enabled entry for the pool (FTQF.Pool; an entry with the pool mask set applies to every pool).
constexpr uint32_t TXSAQF0 = 0x0F400;
constexpr uint32_t TXDAQF0 = 0x0F600;
constexpr uint32_t TXSDPQF0 = 0x0F800;
constexpr uint32_t TXFTQF0 = 0x0FA00;
constexpr uint32_t TXFCTL0 = 0x0FC00;       // transmit filtering on, a bit per pool, 2 x 32 bits
constexpr unsigned num_tx_filters = 128;
constexpr uint32_t QPRC0 = 0x01030;         // per-queue packets received, 0x1030 + 0x40 n, n < 16
constexpr uint32_t QPRDC0 = 0x01430;        // per-queue receive drops, 0x1430 + 0x40 n, n < 16
constexpr unsigned num_queue_counters = 16; // QPRC/QPRDC count queues 0-15 here
}  // namespace pf

// ---- VF BAR0 (8.3.5) -----------------------------------------------------------------------
namespace vf {
constexpr uint32_t VFCTRL = 0x00000;        // bit 26 RST
constexpr uint32_t VFSTATUS = 0x00008;      // bit 1 LU
constexpr uint32_t VTEICR = 0x00100;
constexpr uint32_t VTEICS = 0x00104;
constexpr uint32_t VTEIMS = 0x00108;
constexpr uint32_t VTEIMC = 0x0010C;
constexpr uint32_t VTEIAM = 0x00114;
constexpr uint32_t VTIVAR0 = 0x00120;       // queue pair 0
constexpr uint32_t VTIVAR_MISC = 0x00140;   // bits 7:0: vector of the mailbox cause
constexpr uint32_t VFMBMEM = 0x00200;       // the 16-dword mailbox memory (PFMBMEM of this VF)
constexpr uint32_t VFMAILBOX = 0x002FC;
constexpr uint32_t VTEITR0 = 0x00820;       // VTEITR(n) = 0x820 + 4n, n < 3
constexpr uint32_t VFRDBAL0 = 0x01000;      // queue i at + 0x40 i, offsets as in pf::
constexpr uint32_t VFTDBAL0 = 0x02000;
constexpr uint32_t VFGPRC = 0x0101C;        // good packets received by this VF
constexpr uint32_t VFGPTC = 0x0201C;        // good packets transmitted by this VF
}  // namespace vf

// ---- Bit fields ---------------------------------------------------------------------------
constexpr uint32_t CTRL_RST = 1u << 26;
constexpr uint32_t STATUS_LU = 1u << 1;
constexpr uint32_t RXCTRL_RXEN = 1u << 0;
constexpr uint32_t DMATXCTL_TE = 1u << 0;
constexpr uint32_t VT_CTL_VT_ENA = 1u << 0;
constexpr unsigned VT_CTL_DEF_PL_SHIFT = 7;
constexpr uint32_t VT_CTL_DEF_PL_MASK = 0x3Fu << VT_CTL_DEF_PL_SHIFT;
constexpr uint32_t VT_CTL_DIS_DEF_POOL = 1u << 29;
// Transmit arbitration and rate limiting (7.7.2, 8.2.3.10)
constexpr uint32_t RTTDCS_VMPAC = 1u << 1;          // weighted round robin between pools (VMs)
constexpr uint32_t RTTDQSEL_MASK = 0x7F;
constexpr uint32_t RTTDT1C_CRQ_MASK = 0x3FFF;       // credit refill quantum, 64-byte units
constexpr uint32_t RTTBCNRM_MMW_MASK = 0x3FF;
constexpr uint32_t RTTBCNRC_RS_ENA = 1u << 31;      // rate scheduler enable
constexpr unsigned RTTBCNRC_RF_INT_SHIFT = 14;      // rate factor = link rate / queue rate:
constexpr uint32_t RTTBCNRC_RF_INT_MASK = 0x3FFFu << RTTBCNRC_RF_INT_SHIFT;   // integer part
constexpr uint32_t RTTBCNRC_RF_DEC_MASK = 0x3FFF;   // and 14 bits of fraction

// RTTBCNRC for a queue limited to rate_bps on a link of line_bps (RS_ENA with the rate factor
// rounded to the register's 14 fraction bits); 0, the limiter off, when the rate is not below the
// link's. What a driver writes and what a test expects to read back.
inline uint32_t rttbcnrc_for(double line_bps, double rate_bps)
{
    if (!(rate_bps > 0) || rate_bps >= line_bps)
        return 0;
    const double rf = std::ldexp(line_bps / rate_bps, static_cast<int>(RTTBCNRC_RF_INT_SHIFT));
    const double max_rf = static_cast<double>(RTTBCNRC_RF_INT_MASK | RTTBCNRC_RF_DEC_MASK);
    return RTTBCNRC_RS_ENA | static_cast<uint32_t>(std::min(std::llround(rf), static_cast<long long>(max_rf)));
}
constexpr unsigned PFVFSPOOF_MACAS_SHIFT = 0;  // bits 7:0 MAC anti-spoof, VF 8n+i at bit i
constexpr unsigned PFVFSPOOF_VLANAS_SHIFT = 8; // bits 15:8 VLAN anti-spoof (stored, not enforced here)
// PF/VF mailbox (7.9.2.2, 8.2.3.x PFMAILBOX, 8.3.5.x VFMAILBOX). The memory belongs to whichever
// side holds its ownership bit; a write by the other side is ignored.
constexpr unsigned mbx_words = 16;
constexpr uint32_t PFMAILBOX_STS = 1u << 0;   // write 1: a message for the VF is in the memory
constexpr uint32_t PFMAILBOX_ACK = 1u << 1;   // write 1: the VF's message was taken
constexpr uint32_t PFMAILBOX_VFU = 1u << 2;   // read only: the VF owns the memory
constexpr uint32_t PFMAILBOX_PFU = 1u << 3;   // the PF owns the memory (set only while VFU is clear)
constexpr uint32_t PFMAILBOX_RVFU = 1u << 4;  // write 1: take ownership away from a stuck VF
constexpr uint32_t VFMAILBOX_REQ = 1u << 0;   // write 1: a message for the PF is in the memory
constexpr uint32_t VFMAILBOX_ACK = 1u << 1;   // write 1: the PF's message was taken
constexpr uint32_t VFMAILBOX_VFU = 1u << 2;   // the VF owns the memory (set only while PFU is clear)
constexpr uint32_t VFMAILBOX_PFU = 1u << 3;   // read only
constexpr uint32_t VFMAILBOX_PFSTS = 1u << 4; // the PF wrote a message (clears on read)
constexpr uint32_t VFMAILBOX_PFACK = 1u << 5; // the PF took the VF's message (clears on read)
constexpr uint32_t VFMAILBOX_RSTI = 1u << 6;  // reset in progress
constexpr uint32_t VFMAILBOX_RSTD = 1u << 7;  // reset done (clears on read)
constexpr uint32_t RAH_AV = 1u << 31;       // address valid
constexpr uint32_t VMOLR_BAM = 1u << 27;    // broadcast accept mode
constexpr uint32_t RXDCTL_ENABLE = 1u << 25;
constexpr uint32_t TXDCTL_ENABLE = 1u << 25;
constexpr unsigned TXDCTL_WTHRESH_SHIFT = 16;  // write-back threshold, bits 22:16
constexpr uint32_t TXDCTL_WTHRESH_MASK = 0x7Fu << TXDCTL_WTHRESH_SHIFT;
constexpr unsigned SRRCTL_BSIZEPKT_SHIFT = 0;  // packet buffer size in 1 KB units, bits 4:0
constexpr uint32_t SRRCTL_BSIZEPKT_MASK = 0x1F;
constexpr uint32_t IVAR_ALLOC_VAL = 0x80;   // per 8-bit IVAR entry: valid, vector in bits 5:0
constexpr unsigned EITR_ITR_SHIFT = 3;      // ITR interval bits 11:3, in 2 us units (10 GbE link)
constexpr uint32_t EITR_ITR_MASK = 0x1FFu << EITR_ITR_SHIFT;
constexpr double EITR_UNIT_NS = 2048.0;     // 2.048 us per ITR unit, 7.3.2.1.1
// FTQF (8.2.3.7.19)
constexpr uint32_t FTQF_PROTOCOL_MASK = 0x3;  // 00 TCP, 01 UDP, 10 SCTP, 11 other
constexpr unsigned FTQF_PRIORITY_SHIFT = 2;   // bits 4:2
constexpr unsigned FTQF_POOL_SHIFT = 8;       // bits 13:8
constexpr uint32_t FTQF_MASK_SRC_ADDR = 1u << 25;  // 1 = do not compare
constexpr uint32_t FTQF_MASK_DST_ADDR = 1u << 26;
constexpr uint32_t FTQF_MASK_SRC_PORT = 1u << 27;
constexpr uint32_t FTQF_MASK_DST_PORT = 1u << 28;
constexpr uint32_t FTQF_MASK_PROTOCOL = 1u << 29;
constexpr uint32_t FTQF_POOL_MASK = 1u << 30;      // 1 = pool field not compared
constexpr uint32_t FTQF_QUEUE_ENABLE = 1u << 31;
constexpr unsigned L34T_IMIR_RX_QUEUE_SHIFT = 21;  // bits 27:21
constexpr uint32_t L34T_IMIR_RX_QUEUE_MASK = 0x7Fu << L34T_IMIR_RX_QUEUE_SHIFT;
// MSI-X table entry, 16 bytes (PCI Local Bus Spec. 3.0, 6.8.2)
constexpr uint32_t MSIX_ADDR_LO = 0x0, MSIX_ADDR_HI = 0x4, MSIX_DATA = 0x8, MSIX_VECTOR_CTRL = 0xC;
constexpr uint32_t MSIX_VECTOR_MASKED = 1u << 0;

// ---- Descriptors (16 bytes, little endian) ------------------------------------------------
constexpr unsigned desc_bytes = 16;

inline void put_le64(uint8_t* p, uint64_t v) { for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i)); }
inline void put_le32(uint8_t* p, uint32_t v) { for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i)); }
inline uint64_t get_le64(const uint8_t* p) { uint64_t v = 0; for (int i = 7; i >= 0; --i) v = (v << 8) | p[i]; return v; }
inline uint32_t get_le32(const uint8_t* p) { uint32_t v = 0; for (int i = 3; i >= 0; --i) v = (v << 8) | p[i]; return v; }

// Advanced receive descriptor (7.1.6). Read format, written by software.
struct rx_desc_read {
    uint64_t pkt_addr;   // packet buffer address
    uint64_t hdr_addr;   // header buffer address; bit 0 must be 0 (it becomes DD)
    void encode(uint8_t* p) const { put_le64(p, pkt_addr); put_le64(p + 8, hdr_addr); }
    static rx_desc_read decode(const uint8_t* p) { return {get_le64(p), get_le64(p + 8)}; }
};
// Write-back format, written by hardware.
constexpr uint32_t RXD_STAT_DD = 1u << 0;    // descriptor done
constexpr uint32_t RXD_STAT_EOP = 1u << 1;   // end of packet
constexpr uint32_t RXD_ERR_RXE = 1u << 29;   // (error field bit 9) receive error
struct rx_desc_wb {
    uint32_t pkt_info;       // packet type, header length (unused here)
    uint32_t rss_hash;
    uint32_t status_error;   // extended status 19:0, extended error 31:20
    uint16_t length;         // PKT_LEN
    uint16_t vlan;
    void encode(uint8_t* p) const
    {
        put_le32(p, pkt_info);
        put_le32(p + 4, rss_hash);
        put_le32(p + 8, status_error);
        put_le32(p + 12, static_cast<uint32_t>(length) | static_cast<uint32_t>(vlan) << 16);
    }
    static rx_desc_wb decode(const uint8_t* p)
    {
        const uint32_t w3 = get_le32(p + 12);
        return {get_le32(p), get_le32(p + 4), get_le32(p + 8), static_cast<uint16_t>(w3),
                static_cast<uint16_t>(w3 >> 16)};
    }
};

// Advanced transmit data descriptor (7.2.3.2.4). Read format, written by software.
constexpr uint32_t TXD_DTYP_CTXT = 0x2u << 20;   // advanced context descriptor (7.2.3.2.3)
constexpr uint32_t TXD_DTYP_DATA = 0x3u << 20;
constexpr uint32_t TXD_DTYP_MASK = 0xFu << 20;
constexpr uint32_t TXD_CMD_EOP = 1u << 24;
constexpr uint32_t TXD_CMD_IFCS = 1u << 25;  // insert FCS
constexpr uint32_t TXD_CMD_RS = 1u << 27;    // report status
constexpr uint32_t TXD_CMD_DEXT = 1u << 29;  // descriptor extension (advanced format)
constexpr uint32_t TXD_DTALEN_MASK = 0xFFFF;
constexpr unsigned TXD_PAYLEN_SHIFT = 14;
constexpr uint32_t TXD_STAT_DD = 1u << 0;    // in olinfo_status on write-back
struct tx_desc {
    uint64_t buf_addr;
    uint32_t cmd_type_len;
    uint32_t olinfo_status;
    void encode(uint8_t* p) const { put_le64(p, buf_addr); put_le32(p + 8, cmd_type_len); put_le32(p + 12, olinfo_status); }
    static tx_desc decode(const uint8_t* p) { return {get_le64(p), get_le32(p + 8), get_le32(p + 12)}; }
};

}  // namespace iovsim::e10k
