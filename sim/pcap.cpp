#include "sim/pcap.h"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>

namespace iovsim::sim {

namespace {

constexpr size_t buffer_size = 1 << 16;

void store_le16(uint8_t* p, uint16_t v)
{
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
}

void store_le32(uint8_t* p, uint32_t v)
{
    for (int i = 0; i < 4; ++i) {
        p[i] = static_cast<uint8_t>(v >> (8 * i));
    }
}

} // namespace

pcap_writer::pcap_writer(const std::string& path)
{
    open(path);
}

pcap_writer::~pcap_writer()
{
    try {
        close();
    } catch (const std::exception& e) {
        std::cerr << "pcap_writer: " << e.what() << '\n';
    }
}

void pcap_writer::fail(const char* what, int error) const
{
    // A short fwrite need not set errno; say so rather than print "Success".
    const char* reason = error != 0 ? std::strerror(error) : "short write";
    throw std::runtime_error("pcap: cannot " + std::string(what) + " '" + m_path + "': " + reason);
}

void pcap_writer::open(const std::string& path)
{
    close();
    m_path = path;
    m_frames = 0;
    m_truncated = 0;
    errno = 0;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) {
        fail("open", errno);
    }
    m_file.reset(f);
    m_buffer.resize(buffer_size);
    std::setvbuf(m_file.get(), m_buffer.data(), _IOFBF, m_buffer.size());

    uint8_t header[file_header_len];
    store_le32(header, magic_nanosecond);
    store_le16(header + 4, version_major);
    store_le16(header + 6, version_minor);
    store_le32(header + 8, 0);   // thiszone: timestamps are UTC
    store_le32(header + 12, 0);  // sigfigs: always 0 in practice
    store_le32(header + 16, snaplen);
    store_le32(header + 20, linktype_ethernet);
    errno = 0;
    if (std::fwrite(header, 1, sizeof header, m_file.get()) != sizeof header) {
        const int error = errno;
        m_file.reset();
        fail("write", error);
    }
}

void pcap_writer::write(uint64_t time_ns, const uint8_t* data, size_t len)
{
    if (!m_file) {
        throw std::logic_error("pcap: write to a writer that is not open");
    }
    if (data == nullptr && len > 0) {
        throw std::invalid_argument("pcap: null frame data of non-zero length");
    }
    const uint64_t seconds = time_ns / 1'000'000'000u;
    if (seconds > UINT32_MAX) {
        throw std::invalid_argument("pcap: timestamp beyond the format's 32-bit seconds");
    }
    if (len > UINT32_MAX) {
        throw std::invalid_argument("pcap: frame length beyond the format's 32-bit length");
    }
    const size_t captured = len < snaplen ? len : snaplen;
    if (captured < len) {
        ++m_truncated;
    }
    uint8_t record[record_header_len];
    store_le32(record, static_cast<uint32_t>(seconds));
    store_le32(record + 4, static_cast<uint32_t>(time_ns % 1'000'000'000u));
    store_le32(record + 8, static_cast<uint32_t>(captured));
    store_le32(record + 12, static_cast<uint32_t>(len));
    errno = 0;
    if (std::fwrite(record, 1, sizeof record, m_file.get()) != sizeof record
        || (captured > 0 && std::fwrite(data, 1, captured, m_file.get()) != captured)) {
        fail("write", errno);
    }
    ++m_frames;
}

void pcap_writer::flush()
{
    if (!m_file) {
        return;
    }
    errno = 0;
    if (std::fflush(m_file.get()) != 0) {
        fail("flush", errno);
    }
}

void pcap_writer::close()
{
    if (!m_file) {
        return;
    }
    errno = 0;
    // fclose flushes; release first so the file is closed exactly once, failure or not.
    const int rc = std::fclose(m_file.release());
    const int error = errno;
    m_buffer.clear();
    m_buffer.shrink_to_fit();
    if (rc != 0) {
        fail("close", error);
    }
}

} // namespace iovsim::sim
