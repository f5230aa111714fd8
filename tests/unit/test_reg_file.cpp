// Unit tests of the typed register file (models/common/reg_file): access policies, arrays with a
// stride, refused declarations, and the accesses a device must answer with an error.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "models/common/reg_file.h"

using iovsim::models::reg_access;
using iovsim::models::reg_file;

namespace {

reg_file::reg_def reg(const char* name, uint32_t offset, uint32_t reset, reg_access access,
                      unsigned count = 1, uint32_t stride = 4)
{
    reg_file::reg_def d;
    d.name = name;
    d.offset = offset;
    d.reset = reset;
    d.access = access;
    d.count = count;
    d.stride = stride;
    return d;
}

uint32_t read_ok(reg_file& r, uint32_t offset)
{
    uint32_t v = 0xDEADBEEF;
    EXPECT_TRUE(r.read(offset, v)) << "offset " << offset;
    return v;
}

TEST(reg_file, read_write_register_keeps_value_and_resets)
{
    reg_file r;
    const unsigned id = r.add(reg("CTRL", 0x10, 0x55, reg_access::rw));
    EXPECT_EQ(read_ok(r, 0x10), 0x55u);
    EXPECT_TRUE(r.write(0x10, 0x1234'5678));
    EXPECT_EQ(read_ok(r, 0x10), 0x1234'5678u);
    EXPECT_EQ(r.get(id), 0x1234'5678u);
    r.reset();
    EXPECT_EQ(read_ok(r, 0x10), 0x55u);
    EXPECT_EQ(r.bad_accesses(), 0u);
}

TEST(reg_file, read_only_ignores_writes_and_counts_them)
{
    reg_file r;
    const unsigned id = r.add(reg("STATUS", 0x8, 0x2, reg_access::ro));
    EXPECT_TRUE(r.write(0x8, 0xFFFF'FFFF));   // accepted on the bus, without effect
    EXPECT_EQ(read_ok(r, 0x8), 0x2u);
    EXPECT_EQ(r.bad_accesses(), 1u);
    r.set(id, 0x3);                           // the device itself may update it
    EXPECT_EQ(read_ok(r, 0x8), 0x3u);
}

TEST(reg_file, write_only_reads_zero_but_stores)
{
    reg_file r;
    std::vector<uint32_t> seen;
    auto d = reg("CMD", 0x0, 0, reg_access::wo);
    d.on_write = [&seen](unsigned, uint32_t, uint32_t v) { seen.push_back(v); };
    d.on_read = [](unsigned, uint32_t) { return 0xFFu; };   // never consulted for wo
    const unsigned id = r.add(d);
    EXPECT_TRUE(r.write(0x0, 0xABCD));
    EXPECT_EQ(read_ok(r, 0x0), 0u);
    EXPECT_EQ(r.get(id), 0xABCDu);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0], 0xABCDu);
}

TEST(reg_file, write_one_to_clear_clears_only_written_bits)
{
    reg_file r;
    uint32_t hook_old = 0, hook_value = 0;
    auto d = reg("ICR", 0x800, 0xF0F0, reg_access::w1c);
    d.on_write = [&](unsigned, uint32_t old, uint32_t v) { hook_old = old; hook_value = v; };
    r.add(d);
    EXPECT_TRUE(r.write(0x800, 0x0030));
    EXPECT_EQ(read_ok(r, 0x800), 0xF0C0u);
    EXPECT_EQ(hook_old, 0xF0F0u);
    EXPECT_EQ(hook_value, 0x0030u);   // the bits written, not the result
    EXPECT_TRUE(r.write(0x800, 0));   // writing 0 changes nothing
    EXPECT_EQ(read_ok(r, 0x800), 0xF0C0u);
    EXPECT_TRUE(r.write(0x800, 0xFFFF'FFFF));
    EXPECT_EQ(read_ok(r, 0x800), 0u);
}

TEST(reg_file, write_one_to_set_sets_only_written_bits)
{
    reg_file r;
    r.add(reg("IMS", 0x880, 0x1, reg_access::w1s));
    EXPECT_TRUE(r.write(0x880, 0x4));
    EXPECT_EQ(read_ok(r, 0x880), 0x5u);
    EXPECT_TRUE(r.write(0x880, 0));
    EXPECT_EQ(read_ok(r, 0x880), 0x5u);
}

TEST(reg_file, read_hook_sees_stored_value)
{
    reg_file r;
    auto d = reg("CNT", 0x40, 7, reg_access::rw);
    d.on_read = [](unsigned, uint32_t stored) { return stored * 2; };
    r.add(d);
    EXPECT_EQ(read_ok(r, 0x40), 14u);
}

TEST(reg_file, array_with_stride_decodes_each_element)
{
    reg_file r;
    std::vector<std::pair<unsigned, uint32_t>> writes;
    auto d = reg("RDT", 0x1018, 0, reg_access::rw, 4, 0x40);
    d.on_write = [&writes](unsigned i, uint32_t, uint32_t v) { writes.emplace_back(i, v); };
    d.on_read = [](unsigned i, uint32_t stored) { return stored + i * 0x100; };
    const unsigned id = r.add(d);
    for (unsigned i = 0; i < 4; ++i)
        EXPECT_TRUE(r.write(0x1018 + 0x40 * i, 10 + i));
    ASSERT_EQ(writes.size(), 4u);
    for (unsigned i = 0; i < 4; ++i) {
        EXPECT_EQ(writes[i].first, i);
        EXPECT_EQ(writes[i].second, 10 + i);
        EXPECT_EQ(r.get(id, i), 10 + i);
        EXPECT_EQ(read_ok(r, 0x1018 + 0x40 * i), 10 + i + i * 0x100);
    }
    EXPECT_EQ(r.name_at(0x1018 + 0x40 * 2), "RDT[2]");
    // Between elements and past the last: nothing there.
    uint32_t v = 1;
    EXPECT_FALSE(r.read(0x1018 + 0x20, v));
    EXPECT_EQ(v, 0u);
    EXPECT_FALSE(r.write(0x1018 + 0x40 * 4, 1));
    EXPECT_EQ(r.bad_accesses(), 2u);
    r.set(id, 3, 99);
    EXPECT_EQ(r.get(id, 3), 99u);
    EXPECT_EQ(r.get(id, 0), 10u);
}

TEST(reg_file, interleaved_arrays_coexist)
{
    // RAL/RAH style: two arrays with stride 8, four bytes apart.
    reg_file r;
    const unsigned lo = r.add(reg("RAL", 0xA200, 0, reg_access::rw, 128, 8));
    const unsigned hi = r.add(reg("RAH", 0xA204, 0, reg_access::rw, 128, 8));
    EXPECT_TRUE(r.write(0xA200 + 8 * 127, 0x1111));
    EXPECT_TRUE(r.write(0xA204 + 8 * 127, 0x2222));
    EXPECT_EQ(r.get(lo, 127), 0x1111u);
    EXPECT_EQ(r.get(hi, 127), 0x2222u);
    EXPECT_EQ(r.name_at(0xA204), "RAH[0]");
}

TEST(reg_file, overlap_is_refused_and_leaves_file_unchanged)
{
    reg_file r;
    r.add(reg("A", 0x100, 1, reg_access::rw));
    // An array whose third element lands on A.
    EXPECT_THROW(r.add(reg("B", 0xF8, 2, reg_access::rw, 4, 4)), std::logic_error);
    // Nothing of B was declared: its first elements still decode to nothing.
    uint32_t v = 0;
    EXPECT_FALSE(r.read(0xF8, v));
    EXPECT_FALSE(r.read(0xFC, v));
    EXPECT_EQ(read_ok(r, 0x100), 1u);
    EXPECT_EQ(r.name_at(0xF8), "");
    // Exact duplicate refused too; a neighbour is fine afterwards, and ids stay dense.
    EXPECT_THROW(r.add(reg("A2", 0x100, 0, reg_access::rw)), std::logic_error);
    const unsigned c = r.add(reg("C", 0x104, 3, reg_access::rw));
    EXPECT_EQ(c, 1u);
    EXPECT_EQ(r.name(c), "C");
    EXPECT_EQ(read_ok(r, 0x104), 3u);
}

TEST(reg_file, bad_geometry_is_refused)
{
    reg_file r;
    EXPECT_THROW(r.add(reg("odd", 0x2, 0, reg_access::rw)), std::logic_error);
    EXPECT_THROW(r.add(reg("none", 0x0, 0, reg_access::rw, 0)), std::logic_error);
    EXPECT_THROW(r.add(reg("stride", 0x0, 0, reg_access::rw, 2, 2)), std::logic_error);
    EXPECT_THROW(r.add(reg("stride6", 0x0, 0, reg_access::rw, 2, 6)), std::logic_error);
    // An array running past the 32-bit offset space would wrap onto low offsets.
    EXPECT_THROW(r.add(reg("wrap", 0xFFFF'FFF0, 0, reg_access::rw, 8, 4)), std::logic_error);
    uint32_t v = 0;
    EXPECT_FALSE(r.read(0x0, v));
    // The last 4-byte slot is usable.
    r.add(reg("top", 0xFFFF'FFFC, 9, reg_access::rw));
    EXPECT_EQ(read_ok(r, 0xFFFF'FFFC), 9u);
}

TEST(reg_file, unknown_offset_is_an_error_and_counted)
{
    reg_file r;
    r.add(reg("A", 0x0, 5, reg_access::rw));
    uint32_t v = 7;
    EXPECT_FALSE(r.read(0x4, v));
    EXPECT_EQ(v, 0u);
    EXPECT_FALSE(r.write(0x1000, 1));
    EXPECT_FALSE(r.read(0x2, v));   // unaligned: inside A, but not its offset
    EXPECT_EQ(r.bad_accesses(), 3u);
    EXPECT_EQ(read_ok(r, 0x0), 5u);
}

TEST(reg_file, bad_width_is_an_error_and_counted)
{
    reg_file r;
    bool hook_called = false;
    auto d = reg("A", 0x0, 5, reg_access::rw);
    d.on_write = [&hook_called](unsigned, uint32_t, uint32_t) { hook_called = true; };
    r.add(d);
    uint32_t v = 7;
    EXPECT_FALSE(r.read(0x0, 2, v));
    EXPECT_EQ(v, 0u);
    EXPECT_FALSE(r.read(0x0, 8, v));
    EXPECT_FALSE(r.write(0x0, 1, 0xFF));
    EXPECT_FALSE(hook_called);
    EXPECT_EQ(r.bad_accesses(), 3u);
    EXPECT_TRUE(r.read(0x0, 4, v));
    EXPECT_EQ(v, 5u);
    EXPECT_TRUE(r.write(0x0, 4, 6));
    EXPECT_TRUE(hook_called);
}

TEST(reg_file, many_registers_decode_quickly)
{
    // A device declares thousands of registers; every one must decode to itself.
    reg_file r;
    const unsigned a = r.add(reg("Q", 0x1000, 0, reg_access::rw, 2048, 0x40));
    const unsigned b = r.add(reg("P", 0x1004, 0, reg_access::rw, 2048, 0x40));
    for (unsigned i = 0; i < 2048; i += 97) {
        EXPECT_TRUE(r.write(0x1000 + 0x40 * i, i));
        EXPECT_TRUE(r.write(0x1004 + 0x40 * i, i + 1));
        EXPECT_EQ(r.get(a, i), i);
        EXPECT_EQ(r.get(b, i), i + 1);
    }
}

} // namespace
