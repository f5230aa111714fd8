#pragma once
// The storage controller and its VSICs: register maps, command and completion formats, status codes.
// The one header shared by the device model (models/storage) and its drivers (os/).
//
// The physical controller is modelled after the paper's RAID controller (a MegaRAID with a
// flash-backed DRAM write cache in front of an SSD). Its host interface is a queue interface in the
// style of NVMe 1.x (NVM Express base specification, sections cited below): submission queues of
// 64-byte commands and completion queues of 16-byte entries in host memory, a tail doorbell per
// submission queue, a head doorbell per completion queue, a phase tag in each completion, MSI-X.
// A VSIC (virtual storage interface controller) speaks exactly the same queue format, so one driver
// queue (os/dev/blk_queue) serves the physical controller and a VSIC alike.
//
// Registers are 32 bits wide and 32-bit aligned; any other access is answered with an error
// response and counted.
#include <cstdint>
#include <cstring>

namespace iovsim::storage {

constexpr unsigned block_bytes = 512;       // logical block (LBA) size
constexpr unsigned sqe_bytes = 64;          // submission queue entry (NVMe 4.2)
constexpr unsigned cqe_bytes = 16;          // completion queue entry (NVMe 4.6)
constexpr unsigned page_bytes = 4096;       // memory page size for PRP entries (CC.MPS = 0)
constexpr unsigned pf_queues = 4;           // I/O queue pairs of the physical controller
constexpr unsigned vsic_queues = 1;         // queue pairs per VSIC
constexpr unsigned max_vsics = 64;          // VSICs the controller exposes (paper: 64)
constexpr unsigned vsas_per_vsic = 4;       // VSA mappings per VSIC (paper: up to 4)
constexpr unsigned msix_entry_bytes = 16;   // Msg Addr Lo, Msg Addr Hi, Msg Data, Vector Control
constexpr unsigned pf_msix_vectors = pf_queues;
constexpr unsigned vsic_msix_vectors = vsic_queues;
constexpr uint32_t max_queue_entries = 4096;   // CAP.MQES + 1
constexpr uint32_t pf_nsid = 1;             // the physical controller's one namespace
constexpr uint32_t max_transfer_blocks = (1u << 20) / 512;   // MDTS: 1 MiB per command

// ---- Commands ----------------------------------------------------------------------------------

// Opcodes (NVMe NVM command set 6: Flush 00h, Write 01h, Read 02h).
enum class opcode : uint8_t { flush = 0x00, write = 0x01, read = 0x02 };

// sqe.flags: where the data pointer points (NVMe CDW0.PSDT, simplified).
constexpr uint8_t SQE_DPTR_CONTIG = 0x00;   // prp1: IOVA of one contiguous buffer of nlb * 512 bytes
constexpr uint8_t SQE_DPTR_PRP = 0x01;      // PRP: prp1 first page (may carry an offset); prp2 the
                                            // second page when the data spans exactly two pages, else
                                            // the IOVA of a PRP list of 8-byte page addresses
constexpr uint8_t SQE_FLAGS_KNOWN = SQE_DPTR_PRP;

// 64-byte submission queue entry. Byte offsets as in NVMe figure 105 where a field exists there.
struct sqe {
    opcode op = opcode::flush;    // byte 0
    uint8_t flags = 0;            // byte 1: SQE_DPTR_*
    uint16_t cid = 0;             // bytes 2-3: command identifier, echoed in the completion
    uint32_t nsid = 0;            // bytes 4-7: namespace; on a VSIC the VSA id the kernel mapped
    uint64_t prp1 = 0;            // bytes 24-31: data pointer
    uint64_t prp2 = 0;            // bytes 32-39: second page or PRP list
    uint64_t slba = 0;            // bytes 40-47: starting LBA (512-byte blocks), VSA-relative on a VSIC
    uint32_t nlb = 0;             // bytes 48-51: number of blocks (not 0-based); 0 for flush
    // bytes 8-23, 52-63 reserved (must be zero: a command with any set is malformed)

    static constexpr unsigned OP = 0, FLAGS = 1, CID = 2, NSID = 4, PRP1 = 24, PRP2 = 32, SLBA = 40, NLB = 48;

    void encode(uint8_t* d) const
    {
        std::memset(d, 0, sqe_bytes);
        d[OP] = static_cast<uint8_t>(op);
        d[FLAGS] = flags;
        std::memcpy(d + CID, &cid, 2);
        std::memcpy(d + NSID, &nsid, 4);
        std::memcpy(d + PRP1, &prp1, 8);
        std::memcpy(d + PRP2, &prp2, 8);
        std::memcpy(d + SLBA, &slba, 8);
        std::memcpy(d + NLB, &nlb, 4);
    }
    static sqe decode(const uint8_t* d)
    {
        sqe s;
        s.op = static_cast<opcode>(d[OP]);
        s.flags = d[FLAGS];
        std::memcpy(&s.cid, d + CID, 2);
        std::memcpy(&s.nsid, d + NSID, 4);
        std::memcpy(&s.prp1, d + PRP1, 8);
        std::memcpy(&s.prp2, d + PRP2, 8);
        std::memcpy(&s.slba, d + SLBA, 8);
        std::memcpy(&s.nlb, d + NLB, 4);
        return s;
    }
    // Reserved bytes all zero (a device rejects the command otherwise).
    static bool reserved_clear(const uint8_t* d)
    {
        for (unsigned i = 8; i < 24; ++i)
            if (d[i])
                return false;
        for (unsigned i = 52; i < sqe_bytes; ++i)
            if (d[i])
                return false;
        return true;
    }
};

// Status codes (NVMe generic command status, 4.6.1.2.1, where one exists).
enum class status : uint16_t {
    success = 0x00,
    invalid_opcode = 0x01,
    invalid_field = 0x02,          // malformed: reserved bits set, nlb 0 for read/write, bad flags
    data_transfer_error = 0x04,    // a DMA of the command's data or PRP list failed (IOMMU fault)
    aborted_power_loss = 0x05,     // never posted in practice: the device stops
    invalid_namespace = 0x0B,      // nsid names no namespace / VSA mapped on this VSIC
    lba_out_of_range = 0x80,       // beyond the namespace or the VSA's bounds: nothing touched
    access_denied = 0x86,          // VSA mapped without the right (read-only, write-only)
};

// 16-byte completion queue entry (NVMe figure 107): DW0 command specific (unused), DW1 reserved,
// DW2 SQ head pointer (15:0) and SQ id (31:16), DW3 command id (15:0), phase tag (16), status (31:17).
struct cqe {
    uint16_t sq_head = 0;
    uint16_t sq_id = 0;
    uint16_t cid = 0;
    status code = status::success;
    bool phase = false;

    void encode(uint8_t* d) const
    {
        std::memset(d, 0, cqe_bytes);
        const uint32_t dw2 = sq_head | static_cast<uint32_t>(sq_id) << 16;
        const uint32_t dw3 = cid | (phase ? 1u : 0u) << 16 | static_cast<uint32_t>(code) << 17;
        std::memcpy(d + 8, &dw2, 4);
        std::memcpy(d + 12, &dw3, 4);
    }
    static cqe decode(const uint8_t* d)
    {
        uint32_t dw2, dw3;
        std::memcpy(&dw2, d + 8, 4);
        std::memcpy(&dw3, d + 12, 4);
        cqe c;
        c.sq_head = static_cast<uint16_t>(dw2);
        c.sq_id = static_cast<uint16_t>(dw2 >> 16);
        c.cid = static_cast<uint16_t>(dw3);
        c.phase = (dw3 >> 16) & 1;
        c.code = static_cast<status>(dw3 >> 17);
        return c;
    }
    // The phase tag alone, for pollers (one load of DW3).
    static bool phase_of(const uint8_t* d) { return (d[14] & 1) != 0; }
};

// ---- Register map of one function (the physical controller, or a VSIC) --------------------------
// Controller registers (NVMe 3.1, simplified), then queue registers, doorbells and the MSI-X table.
// A VSIC window has the same layout (its CAP says 1 queue pair and its namespace size is 0: the
// VSAs are its namespaces).
namespace reg {
constexpr uint32_t CAP = 0x0000;      // RO: MQES (15:0, max entries - 1), NQP (23:16, queue pairs)
constexpr uint32_t VS = 0x0008;       // RO: version 1.0 (0x00010000)
constexpr uint32_t CC = 0x0014;       // RW: EN (bit 0)
constexpr uint32_t CSTS = 0x001C;     // RO: RDY (bit 0), CFS (bit 1, fatal: power lost)
constexpr uint32_t NSZE_LO = 0x0020;  // RO: namespace size in blocks (physical controller)
constexpr uint32_t NSZE_HI = 0x0024;
constexpr uint32_t BSZ = 0x0028;      // RO: logical block size in bytes
constexpr uint32_t MALFORMED = 0x0030;  // RO: commands rejected as malformed (counter)
constexpr uint32_t DMAERR = 0x0034;   // RO: commands failed by a DMA error (counter)
constexpr uint32_t BOUNDS = 0x0038;   // RO: commands refused by a bounds or rights check (counter)

constexpr uint32_t CAP_MQES_MASK = 0xFFFF;
constexpr uint32_t CAP_NQP_SHIFT = 16;
constexpr uint32_t CC_EN = 1u << 0;
constexpr uint32_t CSTS_RDY = 1u << 0;
constexpr uint32_t CSTS_CFS = 1u << 1;
constexpr uint32_t VS_1_0 = 0x0001'0000;

// Queue pair q at Q0 + q * Q_STRIDE.
constexpr uint32_t Q0 = 0x1000;
constexpr uint32_t Q_STRIDE = 0x40;
constexpr uint32_t SQBAL_OFF = 0x00, SQBAH_OFF = 0x04, SQSZ_OFF = 0x08,   // SQ base (64-byte aligned), entries
                   CQBAL_OFF = 0x10, CQBAH_OFF = 0x14, CQSZ_OFF = 0x18,   // CQ base (16-byte aligned), entries
                   QCTL_OFF = 0x20;
// QCTL: EN (bit 0) enables the pair (heads and tails reset to 0, phase to 1 on enable); IEN (bit 1)
// interrupts on completion; IV (15:8) the MSI-X vector.
constexpr uint32_t QCTL_EN = 1u << 0;
constexpr uint32_t QCTL_IEN = 1u << 1;
constexpr uint32_t QCTL_IV_SHIFT = 8;
constexpr uint32_t QCTL_IV_MASK = 0xFF00;
constexpr uint32_t min_queue_entries = 2;

// Doorbells of pair q (NVMe 3.1.16/17 with DSTRD = 0): SQ tail at DB0 + 8q, CQ head at DB0 + 8q + 4.
constexpr uint32_t DB0 = 0x2000;
constexpr uint32_t SQTDBL_OFF = 0x0, CQHDBL_OFF = 0x4, DB_STRIDE = 0x8;

constexpr uint32_t queue_reg(unsigned q, uint32_t off) { return Q0 + q * Q_STRIDE + off; }
constexpr uint32_t sq_tail_doorbell(unsigned q) { return DB0 + q * DB_STRIDE + SQTDBL_OFF; }
constexpr uint32_t cq_head_doorbell(unsigned q) { return DB0 + q * DB_STRIDE + CQHDBL_OFF; }

// MSI-X table (PCI 3.0 6.8.2): vector v at MSIX0 + 16 v.
constexpr uint32_t MSIX0 = 0x3000;
constexpr uint32_t MSIX_ADDR_LO = 0x0, MSIX_ADDR_HI = 0x4, MSIX_DATA = 0x8, MSIX_CTRL = 0xC;
constexpr uint32_t MSIX_VECTOR_MASKED = 1u << 0;

constexpr uint32_t function_window = 0x4000;   // one function's registers, as above

// Emulated VSICs only (the register page in memory that the emulating core polls): the DMA window
// the kernel granted the VSIC's application. Hardware VSICs need none: their own requester id puts
// their DMA in the application's IOMMU domain.
constexpr uint32_t EMU_DMA_BASE_LO = 0x0100, EMU_DMA_BASE_HI = 0x0104, EMU_DMA_LEN_LO = 0x0108,
                   EMU_DMA_LEN_HI = 0x010C;

// ---- The VSA mapping table, in the physical controller's (PF's) window only ----------------------
// The kernel writes it; applications never see it. Entry (vsic v, slot s) at VSA0 + (4v + s) * 32.
// A command on VSIC v naming VSA id n uses the valid slot whose VSA id is n; LBA l of that VSA is
// physical LBA BASE + l, allowed when l + nlb <= LEN and the command's right is granted.
constexpr uint32_t VSA0 = 0x10000;
constexpr uint32_t VSA_STRIDE = 0x20;
constexpr uint32_t VSA_BASE_LO_OFF = 0x00, VSA_BASE_HI_OFF = 0x04, VSA_LEN_LO_OFF = 0x08, VSA_LEN_HI_OFF = 0x0C,
                   VSA_CTL_OFF = 0x10;
// VSA_CTL: V (bit 0) valid, R (bit 1) read allowed, W (bit 2) write and flush allowed, ID (31:16).
constexpr uint32_t VSA_CTL_V = 1u << 0;
constexpr uint32_t VSA_CTL_R = 1u << 1;
constexpr uint32_t VSA_CTL_W = 1u << 2;
constexpr uint32_t VSA_CTL_ID_SHIFT = 16;
constexpr uint32_t vsa_entry(unsigned vsic, unsigned slot, uint32_t off)
{
    return VSA0 + (vsic * vsas_per_vsic + slot) * VSA_STRIDE + off;
}
// VSIC enables, one bit each (VSICEN0: VSICs 0-31, VSICEN1: 32-63): a disabled VSIC's doorbells
// are ignored and its commands never fetched.
constexpr uint32_t VSICEN0 = 0x0040;
constexpr uint32_t VSICEN1 = 0x0044;
constexpr uint32_t pf_window = 0x20000;    // PF BAR size: function registers + VSA table
} // namespace reg

} // namespace iovsim::storage
