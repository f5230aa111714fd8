// Pure logic of the storage controller and VSICs: command and completion formats, the format
// checks, the VSA mapping table and its bounds and rights checks, PRP walks, the durable image and
// the write cache's bookkeeping.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <vector>

#include "models/storage/media.h"
#include "models/storage/prp.h"
#include "models/storage/storage_regs.h"
#include "models/storage/vsa_map.h"

using namespace iovsim::storage;

namespace {

sqe command(opcode op, uint32_t nsid, uint64_t lba, uint32_t nlb)
{
    sqe s;
    s.op = op;
    s.cid = 0x1234;
    s.nsid = nsid;
    s.slba = lba;
    s.nlb = nlb;
    s.prp1 = 0x10000;
    return s;
}

TEST(StorageFormat, SqeRoundTripAndOffsets)
{
    sqe s = command(opcode::write, 7, 0x1122334455ULL, 9);
    s.flags = SQE_DPTR_PRP;
    s.prp2 = 0xABC000;
    uint8_t raw[sqe_bytes];
    s.encode(raw);
    EXPECT_EQ(raw[0], 0x01);   // NVMe Write
    EXPECT_EQ(raw[2], 0x34);
    EXPECT_EQ(raw[3], 0x12);
    EXPECT_TRUE(sqe::reserved_clear(raw));
    const sqe d = sqe::decode(raw);
    EXPECT_EQ(d.op, opcode::write);
    EXPECT_EQ(d.flags, SQE_DPTR_PRP);
    EXPECT_EQ(d.cid, 0x1234);
    EXPECT_EQ(d.nsid, 7u);
    EXPECT_EQ(d.slba, 0x1122334455ULL);
    EXPECT_EQ(d.nlb, 9u);
    EXPECT_EQ(d.prp1, 0x10000u);
    EXPECT_EQ(d.prp2, 0xABC000u);
    raw[8] = 1;
    EXPECT_FALSE(sqe::reserved_clear(raw));
    raw[8] = 0;
    raw[63] = 1;
    EXPECT_FALSE(sqe::reserved_clear(raw));
}

TEST(StorageFormat, CqeRoundTripAndPhase)
{
    cqe c;
    c.sq_head = 17;
    c.sq_id = 3;
    c.cid = 0xBEEF;
    c.code = status::lba_out_of_range;
    c.phase = true;
    uint8_t raw[cqe_bytes];
    c.encode(raw);
    EXPECT_TRUE(cqe::phase_of(raw));
    const cqe d = cqe::decode(raw);
    EXPECT_EQ(d.sq_head, 17);
    EXPECT_EQ(d.sq_id, 3);
    EXPECT_EQ(d.cid, 0xBEEF);
    EXPECT_EQ(d.code, status::lba_out_of_range);
    EXPECT_TRUE(d.phase);
    c.phase = false;
    c.encode(raw);
    EXPECT_FALSE(cqe::phase_of(raw));
    EXPECT_EQ(cqe::decode(raw).code, status::lba_out_of_range);
}

TEST(StorageFormat, CheckFormat)
{
    uint8_t raw[sqe_bytes];
    auto check = [&](const sqe& s) {
        s.encode(raw);
        return check_format(raw, s, max_transfer_blocks);
    };
    EXPECT_EQ(check(command(opcode::read, 1, 0, 1)), status::success);
    EXPECT_EQ(check(command(opcode::flush, 1, 0, 0)), status::success);
    EXPECT_EQ(check(command(opcode::write, 1, 0, 0)), status::invalid_field);
    EXPECT_EQ(check(command(opcode::write, 1, 0, max_transfer_blocks + 1)), status::invalid_field);
    EXPECT_EQ(check(command(static_cast<opcode>(9), 1, 0, 1)), status::invalid_opcode);
    sqe f = command(opcode::read, 1, 0, 1);
    f.flags = 0x80;
    EXPECT_EQ(check(f), status::invalid_field);
}

TEST(VsaMap, RangeWithinHasNoOverflow)
{
    EXPECT_TRUE(range_within(0, 10, 10));
    EXPECT_FALSE(range_within(1, 10, 10));
    EXPECT_FALSE(range_within(~0ULL, 2, 100));
    EXPECT_FALSE(range_within(5, ~0ULL, 100));
    EXPECT_TRUE(range_within(100, 0, 100));
}

TEST(VsaMap, TranslateChecksBoundsRightsAndId)
{
    vsa_map m;
    // VSIC 3, slot 2: VSA 77 = blocks [1000, 1100), read/write. Slot 0: VSA 5, read-only.
    m.write_reg((3 * vsas_per_vsic + 2) * reg::VSA_STRIDE + reg::VSA_BASE_LO_OFF, 1000);
    m.write_reg((3 * vsas_per_vsic + 2) * reg::VSA_STRIDE + reg::VSA_LEN_LO_OFF, 100);
    m.write_reg((3 * vsas_per_vsic + 2) * reg::VSA_STRIDE + reg::VSA_CTL_OFF,
                reg::VSA_CTL_V | reg::VSA_CTL_R | reg::VSA_CTL_W | 77u << reg::VSA_CTL_ID_SHIFT);
    m.write_reg((3 * vsas_per_vsic) * reg::VSA_STRIDE + reg::VSA_LEN_LO_OFF, 8);
    m.write_reg((3 * vsas_per_vsic) * reg::VSA_STRIDE + reg::VSA_CTL_OFF, reg::VSA_CTL_V | reg::VSA_CTL_R | 5u << reg::VSA_CTL_ID_SHIFT);
    EXPECT_EQ(m.at(3, 2).base, 1000u);
    EXPECT_EQ(m.at(3, 2).id, 77);

    vsa_translation t = m.translate(3, command(opcode::write, 77, 10, 4));
    EXPECT_EQ(t.code, status::success);
    EXPECT_EQ(t.phys_lba, 1010u);
    EXPECT_EQ(t.slot, 2u);
    EXPECT_EQ(m.translate(3, command(opcode::write, 77, 96, 4)).code, status::success);       // ends at the last block
    EXPECT_EQ(m.translate(3, command(opcode::write, 77, 97, 4)).code, status::lba_out_of_range);
    EXPECT_EQ(m.translate(3, command(opcode::read, 77, ~0ULL - 1, 4)).code, status::lba_out_of_range);   // wraps
    EXPECT_EQ(m.translate(3, command(opcode::read, 5, 7, 1)).code, status::success);
    EXPECT_EQ(m.translate(3, command(opcode::write, 5, 0, 1)).code, status::access_denied);
    EXPECT_EQ(m.translate(3, command(opcode::flush, 5, 0, 0)).code, status::access_denied);
    EXPECT_EQ(m.translate(3, command(opcode::flush, 77, 0, 0)).code, status::success);
    EXPECT_EQ(m.translate(3, command(opcode::read, 6, 0, 1)).code, status::invalid_namespace);
    EXPECT_EQ(m.translate(2, command(opcode::read, 77, 0, 1)).code, status::invalid_namespace);   // another VSIC's
    EXPECT_EQ(m.translate(max_vsics, command(opcode::read, 77, 0, 1)).code, status::invalid_namespace);

    // Cleared valid bit: gone.
    m.write_reg((3 * vsas_per_vsic + 2) * reg::VSA_STRIDE + reg::VSA_CTL_OFF, 77u << reg::VSA_CTL_ID_SHIFT);
    EXPECT_EQ(m.translate(3, command(opcode::read, 77, 0, 1)).code, status::invalid_namespace);
}

TEST(VsaMap, RegistersReadBackAndRejectBadOffsets)
{
    vsa_map m;
    const uint32_t e = (63 * vsas_per_vsic + 3) * reg::VSA_STRIDE;
    EXPECT_TRUE(m.write_reg(e + reg::VSA_BASE_HI_OFF, 2));
    EXPECT_TRUE(m.write_reg(e + reg::VSA_LEN_HI_OFF, 1));
    EXPECT_EQ(m.at(63, 3).base, 2ULL << 32);
    EXPECT_EQ(m.at(63, 3).length, 1ULL << 32);
    uint32_t v = 0;
    EXPECT_TRUE(m.read_reg(e + reg::VSA_BASE_HI_OFF, v));
    EXPECT_EQ(v, 2u);
    EXPECT_FALSE(m.write_reg(e + 0x14, 1));                          // a reserved word
    EXPECT_FALSE(m.write_reg(e + 2, 1));                             // unaligned
    EXPECT_FALSE(m.write_reg(max_vsics * vsas_per_vsic * reg::VSA_STRIDE, 1));   // beyond the table
}

TEST(VsaMap, LoadFromMemoryLayout)
{
    std::vector<uint8_t> table(max_vsics * vsas_per_vsic * reg::VSA_STRIDE, 0);
    auto put = [&](unsigned v, unsigned s, uint32_t off, uint32_t val) {
        std::memcpy(table.data() + (v * vsas_per_vsic + s) * reg::VSA_STRIDE + off, &val, 4);
    };
    put(9, 1, reg::VSA_BASE_LO_OFF, 300);
    put(9, 1, reg::VSA_LEN_LO_OFF, 30);
    put(9, 1, reg::VSA_CTL_OFF, reg::VSA_CTL_V | reg::VSA_CTL_R | 4u << reg::VSA_CTL_ID_SHIFT);
    vsa_map m;
    m.load(9, table.data());
    const vsa_translation t = m.translate(9, command(opcode::read, 4, 29, 1));
    EXPECT_EQ(t.code, status::success);
    EXPECT_EQ(t.phys_lba, 329u);
    EXPECT_EQ(m.translate(8, command(opcode::read, 4, 0, 1)).code, status::invalid_namespace);
}

// A fake memory of PRP list pages for the walk.
struct lists {
    std::map<uint64_t, uint64_t> entries;   // iova -> entry
    unsigned reads = 0;
    prp_list_reader reader()
    {
        return [this](uint64_t iova, uint64_t* out, unsigned n) {
            ++reads;
            for (unsigned i = 0; i < n; ++i) {
                auto it = entries.find(iova + 8 * i);
                if (it == entries.end())
                    return false;
                out[i] = it->second;
            }
            return true;
        };
    }
};

TEST(Prp, ContiguousAndShortForms)
{
    lists l;
    std::vector<dma_segment> segs;
    sqe s = command(opcode::write, 1, 0, 16);
    s.prp1 = 0x1000 + 0x200;
    EXPECT_EQ(data_segments(s, 8192, l.reader(), segs), status::success);
    ASSERT_EQ(segs.size(), 1u);
    EXPECT_EQ(segs[0].bytes, 8192u);

    s.flags = SQE_DPTR_PRP;
    EXPECT_EQ(data_segments(s, 1024, l.reader(), segs), status::success);   // fits the first page
    ASSERT_EQ(segs.size(), 1u);
    s.prp2 = 0x9000;
    EXPECT_EQ(data_segments(s, 4096, l.reader(), segs), status::success);   // two pages
    ASSERT_EQ(segs.size(), 2u);
    EXPECT_EQ(segs[0].bytes, 4096u - 0x200);
    EXPECT_EQ(segs[1].iova, 0x9000u);
    EXPECT_EQ(segs[1].bytes, 0x200u);
    s.prp2 = 0x9100;   // a second page not aligned
    EXPECT_EQ(data_segments(s, 4096, l.reader(), segs), status::invalid_field);
    s.prp1 = 0;
    EXPECT_EQ(data_segments(s, 4096, l.reader(), segs), status::invalid_field);
    EXPECT_EQ(l.reads, 0u);
}

TEST(Prp, ListMergesAdjacentAndChains)
{
    lists l;
    // 3 pages after the first; the list starts 16 bytes before its page's end, so it chains.
    const uint64_t list = 0x20000 + 4096 - 16;
    l.entries[list] = 0x5000;
    l.entries[list + 8] = 0x30000;        // chain to the next list page
    l.entries[0x30000] = 0x6000;          // adjacent to 0x5000: merged
    l.entries[0x30008] = 0x8000;
    sqe s = command(opcode::write, 1, 0, 0);
    s.flags = SQE_DPTR_PRP;
    s.prp1 = 0x4000;
    s.prp2 = list;
    std::vector<dma_segment> segs;
    ASSERT_EQ(data_segments(s, 4 * 4096, l.reader(), segs), status::success);
    ASSERT_EQ(segs.size(), 2u);
    EXPECT_EQ(segs[0].iova, 0x4000u);
    EXPECT_EQ(segs[0].bytes, 3u * 4096);
    EXPECT_EQ(segs[1].iova, 0x8000u);
    EXPECT_EQ(l.reads, 2u);
    // A list entry that is not page aligned, and a list that cannot be read.
    l.entries[0x30008] = 0x8010;
    EXPECT_EQ(data_segments(s, 4 * 4096, l.reader(), segs), status::invalid_field);
    s.prp2 = 0x70000;
    EXPECT_EQ(data_segments(s, 4 * 4096, l.reader(), segs), status::data_transfer_error);
}

TEST(Media, BlockStoreIsSparseAndZeroFilled)
{
    block_store st(1000);
    std::vector<uint8_t> in(3 * block_bytes), out(3 * block_bytes, 0xFF);
    for (size_t i = 0; i < in.size(); ++i)
        in[i] = static_cast<uint8_t>(i * 3);
    st.write(6, 3, in.data());   // crosses a 4 KiB chunk boundary
    st.read(6, 3, out.data());
    EXPECT_EQ(in, out);
    st.read(500, 1, out.data());
    for (unsigned i = 0; i < block_bytes; ++i)
        ASSERT_EQ(out[i], 0);
    EXPECT_EQ(st.blocks_written(), 3u);
    EXPECT_THROW(st.write(999, 2, in.data()), std::out_of_range);
    EXPECT_THROW(st.read(~0ULL, 2, out.data()), std::out_of_range);
}

TEST(Media, WriteCacheEvictsLeastRecent)
{
    write_cache c(4);
    c.insert(0, 2);
    c.insert(10, 2);
    EXPECT_TRUE(c.holds(0, 2));
    EXPECT_TRUE(c.holds(10, 2));
    c.insert(0, 1);          // 0 is most recent now
    c.insert(20, 1);         // evicts 1 (the oldest)
    EXPECT_TRUE(c.holds(0, 1));
    EXPECT_FALSE(c.holds(0, 2));
    EXPECT_EQ(c.size(), 4u);
    EXPECT_EQ(c.destaged(), 1u);
}

} // namespace
