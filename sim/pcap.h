// Capture files in the classic libpcap format with nanosecond timestamps, readable by Wireshark
// and tshark: the run's wire.pcap. Frames are written as they cross a link, without FCS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace iovsim::sim {

class pcap_writer {
public:
    // The libpcap "nanosecond" magic: readers take ts_frac as nanoseconds, not microseconds.
    static constexpr uint32_t magic_nanosecond = 0xA1B23C4D;
    static constexpr uint16_t version_major = 2;
    static constexpr uint16_t version_minor = 4;
    static constexpr uint32_t snaplen = 65535;
    static constexpr uint32_t linktype_ethernet = 1; // LINKTYPE_ETHERNET
    static constexpr size_t file_header_len = 24;
    static constexpr size_t record_header_len = 16;

    pcap_writer() = default;
    // Opens path at once; see open().
    explicit pcap_writer(const std::string& path);
    ~pcap_writer(); // closes; a failure there is reported on stderr, since it cannot throw
    pcap_writer(const pcap_writer&) = delete;
    pcap_writer& operator=(const pcap_writer&) = delete;

    // Creates or truncates path and writes the file header. A writer already open is closed first.
    // Throws std::runtime_error naming the path and the errno text when the file cannot be opened.
    void open(const std::string& path);
    // One record; time_ns is simulated time since the start of the run. Frames above snaplen are
    // cut to it, with their original length kept in the record. All fields little-endian, so the
    // file is byte-identical on any host. Throws std::logic_error when not open,
    // std::invalid_argument for null data with len > 0, std::runtime_error on a write failure.
    void write(uint64_t time_ns, const uint8_t* data, size_t len);
    // Pushes buffered records to the file; throws std::runtime_error on failure.
    void flush();
    // Flushes and closes; no-op when not open. Throws std::runtime_error on failure.
    void close();

    bool is_open() const { return m_file != nullptr; }
    const std::string& path() const { return m_path; }
    uint64_t frames_written() const { return m_frames; }
    uint64_t frames_truncated() const { return m_truncated; } // cut to snaplen

private:
    struct file_closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };

    [[noreturn]] void fail(const char* what, int error) const;

    std::unique_ptr<std::FILE, file_closer> m_file;
    std::vector<char> m_buffer; // stdio's buffer, given to setvbuf; outlives m_file
    std::string m_path;
    uint64_t m_frames = 0;
    uint64_t m_truncated = 0;
};

} // namespace iovsim::sim
