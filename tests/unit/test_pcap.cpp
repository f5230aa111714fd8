// pcap_writer: the file header and each record checked byte by byte, snaplen, buffering and
// closing, and errors.
#include "sim/pcap.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace iovsim::sim {
namespace {

std::string temp_path(const std::string& name)
{
    // The pid keeps concurrent runs of the suite apart.
    return ::testing::TempDir() + "iovsim_test_pcap_" + std::to_string(::getpid()) + "_" + name + ".pcap";
}

std::vector<uint8_t> read_all(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

uint32_t le32(const std::vector<uint8_t>& b, size_t at)
{
    return static_cast<uint32_t>(b.at(at)) | (static_cast<uint32_t>(b.at(at + 1)) << 8)
           | (static_cast<uint32_t>(b.at(at + 2)) << 16) | (static_cast<uint32_t>(b.at(at + 3)) << 24);
}

TEST(pcap_writer, file_header_bytes)
{
    const std::string path = temp_path("header");
    {
        pcap_writer w(path);
        EXPECT_TRUE(w.is_open());
        EXPECT_EQ(w.path(), path);
        EXPECT_EQ(w.frames_written(), 0u);
    }
    const std::vector<uint8_t> expect = {
        0x4D, 0x3C, 0xB2, 0xA1, // magic, nanosecond timestamps, little-endian
        0x02, 0x00, 0x04, 0x00, // version 2.4
        0x00, 0x00, 0x00, 0x00, // thiszone
        0x00, 0x00, 0x00, 0x00, // sigfigs
        0xFF, 0xFF, 0x00, 0x00, // snaplen 65535
        0x01, 0x00, 0x00, 0x00, // LINKTYPE_ETHERNET
    };
    EXPECT_EQ(read_all(path), expect);
    std::remove(path.c_str());
}

TEST(pcap_writer, record_layout)
{
    const std::string path = temp_path("records");
    const uint8_t frame1[] = {0xAA, 0xBB, 0xCC};
    std::vector<uint8_t> frame2(60);
    for (size_t i = 0; i < frame2.size(); ++i) {
        frame2[i] = static_cast<uint8_t>(i);
    }
    {
        pcap_writer w;
        EXPECT_FALSE(w.is_open());
        w.open(path);
        w.write(1'234'567'890, frame1, sizeof frame1); // 1 s + 234567890 ns
        w.write(5'000'000'000ull, frame2.data(), frame2.size());
        w.write(7, nullptr, 0); // an empty record is still a record
        EXPECT_EQ(w.frames_written(), 3u);
        w.close();
        EXPECT_FALSE(w.is_open());
    }
    const auto b = read_all(path);
    ASSERT_EQ(b.size(), 24u + (16 + 3) + (16 + 60) + 16);
    size_t at = 24;
    EXPECT_EQ(le32(b, at), 1u);
    EXPECT_EQ(le32(b, at + 4), 234'567'890u);
    EXPECT_EQ(le32(b, at + 8), 3u);
    EXPECT_EQ(le32(b, at + 12), 3u);
    EXPECT_EQ(b[at + 16], 0xAA);
    EXPECT_EQ(b[at + 17], 0xBB);
    EXPECT_EQ(b[at + 18], 0xCC);
    at += 16 + 3;
    EXPECT_EQ(le32(b, at), 5u);
    EXPECT_EQ(le32(b, at + 4), 0u);
    EXPECT_EQ(le32(b, at + 8), 60u);
    EXPECT_EQ(le32(b, at + 12), 60u);
    EXPECT_TRUE(std::equal(frame2.begin(), frame2.end(), b.begin() + static_cast<std::ptrdiff_t>(at + 16)));
    at += 16 + 60;
    EXPECT_EQ(le32(b, at), 0u);
    EXPECT_EQ(le32(b, at + 4), 7u);
    EXPECT_EQ(le32(b, at + 8), 0u);
    EXPECT_EQ(le32(b, at + 12), 0u);
    std::remove(path.c_str());
}

TEST(pcap_writer, frames_above_snaplen_are_cut_with_original_length_kept)
{
    const std::string path = temp_path("snaplen");
    const std::vector<uint8_t> jumbo(70000, 0x5A);
    {
        pcap_writer w(path);
        w.write(0, jumbo.data(), jumbo.size());
        EXPECT_EQ(w.frames_written(), 1u);
        EXPECT_EQ(w.frames_truncated(), 1u);
    }
    const auto b = read_all(path);
    ASSERT_EQ(b.size(), 24u + 16 + 65535);
    EXPECT_EQ(le32(b, 24 + 8), 65535u);
    EXPECT_EQ(le32(b, 24 + 12), 70000u);
    std::remove(path.c_str());
}

TEST(pcap_writer, buffered_until_flush_and_destructor_closes)
{
    const std::string path = temp_path("buffered");
    const uint8_t frame[60] = {};
    {
        pcap_writer w(path);
        w.write(1, frame, sizeof frame);
        // Small writes stay in the buffer; flush makes them visible.
        EXPECT_LT(read_all(path).size(), 24u + 16 + 60);
        w.flush();
        EXPECT_EQ(read_all(path).size(), 24u + 16 + 60);
        w.write(2, frame, sizeof frame);
    }
    EXPECT_EQ(read_all(path).size(), 24u + 2 * (16 + 60));
    std::remove(path.c_str());
}

TEST(pcap_writer, reopen_starts_a_new_file)
{
    const std::string first = temp_path("first");
    const std::string second = temp_path("second");
    const uint8_t frame[14] = {};
    pcap_writer w(first);
    w.write(0, frame, sizeof frame);
    w.open(second); // closes first
    EXPECT_EQ(w.frames_written(), 0u);
    EXPECT_EQ(read_all(first).size(), 24u + 16 + 14);
    w.close();
    w.close(); // idempotent
    EXPECT_EQ(read_all(second).size(), 24u);
    std::remove(first.c_str());
    std::remove(second.c_str());
}

TEST(pcap_writer, open_failure_names_path_and_reason)
{
    const std::string path = ::testing::TempDir() + "iovsim_no_such_dir/x/wire.pcap";
    pcap_writer w;
    try {
        w.open(path);
        FAIL() << "open did not throw";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find(path), std::string::npos) << what;
        EXPECT_NE(what.find(std::strerror(ENOENT)), std::string::npos) << what;
    }
    EXPECT_FALSE(w.is_open());
    EXPECT_THROW(pcap_writer{path}, std::runtime_error);
}

TEST(pcap_writer, misuse_is_reported)
{
    const uint8_t frame[1] = {};
    pcap_writer closed;
    EXPECT_THROW(closed.write(0, frame, 1), std::logic_error);
    EXPECT_NO_THROW(closed.flush());
    EXPECT_NO_THROW(closed.close());

    const std::string path = temp_path("misuse");
    pcap_writer w(path);
    EXPECT_THROW(w.write(0, nullptr, 1), std::invalid_argument);
    // 2^32 seconds do not fit the record's seconds field.
    EXPECT_THROW(w.write(4'294'967'296ull * 1'000'000'000ull, frame, 1), std::invalid_argument);
    EXPECT_NO_THROW(w.write(4'294'967'295ull * 1'000'000'000ull + 999'999'999ull, frame, 1));
    EXPECT_EQ(w.frames_written(), 1u);
    w.close();
    std::remove(path.c_str());
}

} // namespace
} // namespace iovsim::sim
