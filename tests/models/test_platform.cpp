// Model tests of the platform: DRAM, the PCIe link and the root complex, wired as on the host
// (device -> link -> root complex -> DRAM or MSI; core MMIO -> root complex -> link -> device).
// Every simulated time here follows from the parameters and is asserted exactly.
//
// SystemC elaborates once per process: each TEST builds its own bench and runs sc_start once;
// run them one per process (ctest does; by hand use --gtest_filter).
#include <gtest/gtest.h>

#include "tests/support/model_bench.h"

#include <cstring>
#include <functional>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "models/platform/address_map.h"
#include "models/platform/dram.h"
#include "models/platform/pcie_link.h"
#include "models/platform/root_complex.h"
#include "models/platform/tlm_ext.h"

using namespace sc_core;
using namespace iovsim::models;

using iovsim::testing::ns;
using iovsim::testing::master;
using iovsim::testing::strict_reports;

namespace {


// The device end of the link: answers MMIO, records what it saw.
struct fake_device : sc_module {
    tlm_utils::simple_target_socket<fake_device> bar;
    std::vector<std::pair<uint64_t, uint32_t>> writes;
    std::vector<sc_time> write_times;   // local time the write reached the device
    uint32_t read_value = 0xC0FFEE;

    explicit fake_device(sc_module_name n) : sc_module(n), bar("bar")
    {
        bar.register_b_transport(this, &fake_device::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_time& delay)
    {
        uint32_t v = 0;
        if (t.is_write()) {
            std::memcpy(&v, t.get_data_ptr(), 4);
            writes.emplace_back(t.get_address(), v);
            write_times.push_back(sc_time_stamp() + delay);
        } else {
            std::memcpy(t.get_data_ptr(), &read_value, 4);
        }
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

struct fake_irq : irq_sink {
    std::vector<std::pair<unsigned, sc_time>> got;   // vector, arrival time
    void deliver_irq(unsigned vector, const sc_time& delay) override
    {
        got.emplace_back(vector, sc_time_stamp() + delay);
    }
};

// Round numbers: DRAM 1 byte/ns with 50 ns latency; PCIe 4 lanes x 5 GT/s x 8b/10b = 2 bytes/ns,
// 24-byte TLP overhead, 128-byte MPS, 256-byte MRRS, 100 ns one way.
dram_params test_dram()
{
    dram_params p;
    p.size_bytes = 1 << 20;
    p.access_latency = ns(50);
    p.bandwidth_gbps = 8.0;
    return p;
}
pcie_params test_pcie()
{
    pcie_params p;
    p.lane_gtps = 5.0;
    p.lanes = 4;
    p.encoding = 0.8;
    p.tlp_overhead_bytes = 24;
    p.max_payload_bytes = 128;
    p.max_read_request_bytes = 256;
    p.one_way_latency = ns(100);
    return p;
}
constexpr double pcie_ns_per_byte = 0.5;
constexpr uint64_t dev_bar = 0xE000'0000;

struct platform_bench {
    dram mem{"mem", test_dram()};
    root_complex rc{"rc", test_dram().size_bytes};
    pcie_link link{"link", test_pcie()};
    master dev_dma{"dev_dma"};
    fake_device dev{"dev"};
    master cpu{"cpu"};
    fake_irq core0, core2;
    std::function<void()> body;

    platform_bench()
    {
        strict_reports();
        dev_dma.socket.bind(link.up_target);
        link.up_init.bind(rc.dma_target);
        rc.mem_init.bind(mem.target);
        rc.mmio_init.bind(link.down_target);
        link.down_init.bind(dev.bar);
        cpu.socket.bind(rc.cpu_target);
        rc.map_mmio(dev_bar, 0x1000, 0, "dev");
        rc.attach_core(0, core0);
        rc.attach_core(2, core2);
    }
    // Runs `f` as a thread from time 0 and simulates until nothing is left to do.
    void run(std::function<void()> f)
    {
        body = std::move(f);
        sc_spawn([this] { body(); }, "test_driver");
        sc_start();
    }
};

// ---- DRAM ---------------------------------------------------------------------------------

TEST(platform_dram, latency_and_bandwidth_exact)
{
    platform_bench b;
    b.run([&] {
        uint8_t buf[256] = {};
        sc_time d = SC_ZERO_TIME;
        // Straight into DRAM through the root complex's memory port: no link in between.
        tlm::tlm_generic_payload t;
        auto read = [&](uint64_t addr, unsigned len, sc_time& delay) {
            t.set_command(tlm::TLM_READ_COMMAND);
            t.set_address(addr);
            t.set_data_ptr(buf);
            t.set_data_length(len);
            t.set_streaming_width(len);
            t.set_byte_enable_ptr(nullptr);
            t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
            b.mem.target.get_base_export()->b_transport(t, delay);
            return t.get_response_status();
        };
        // 64 bytes at 1 byte/ns + 50 ns latency.
        EXPECT_EQ(read(0x100, 64, d), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(d, ns(64 + 50));
        // A second access issued at the same local time queues behind the first transfer.
        sc_time d2 = SC_ZERO_TIME;
        EXPECT_EQ(read(0x200, 128, d2), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(d2, ns(64 + 128 + 50));
        // One issued later than the controller is busy pays only its own time.
        sc_time d3 = ns(500);
        EXPECT_EQ(read(0x300, 16, d3), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(d3, ns(500 + 16 + 50));
        EXPECT_EQ(b.mem.bytes_read(), 64u + 128u + 16u);
        // After real time passes, the controller is idle again.
        wait(ns(1000));
        sc_time d4 = SC_ZERO_TIME;
        EXPECT_EQ(read(0x0, 8, d4), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(d4, ns(8 + 50));
    });
}

TEST(platform_dram, bad_accesses_error_and_counted)
{
    platform_bench b;
    b.run([&] {
        uint8_t buf[16] = {};
        uint8_t be[16];
        std::memset(be, 0xFF, sizeof be);
        auto access = [&](uint64_t addr, unsigned len, bool use_be) {
            tlm::tlm_generic_payload t;
            t.set_command(tlm::TLM_WRITE_COMMAND);
            t.set_address(addr);
            t.set_data_ptr(buf);
            t.set_data_length(len);
            t.set_streaming_width(len);
            if (use_be) {
                t.set_byte_enable_ptr(be);
                t.set_byte_enable_length(len);
            }
            t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
            sc_time d = SC_ZERO_TIME;
            b.mem.target.get_base_export()->b_transport(t, d);
            return t.get_response_status();
        };
        EXPECT_EQ(access(b.mem.size(), 4, false), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(access(b.mem.size() - 8, 16, false), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(access(0x10, 16, true), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.mem.errors(), 3u);
        EXPECT_EQ(b.mem.bytes_written(), 0u);
        EXPECT_EQ(access(b.mem.size() - 16, 16, false), tlm::TLM_OK_RESPONSE);
        EXPECT_THROW(b.mem.host_ptr(b.mem.size() - 4, 8), std::out_of_range);
    });
}

// ---- PCIe link: posted writes, reads, MMIO --------------------------------------------------

TEST(platform_link, dma_write_is_posted_and_visible_at_arrival)
{
    platform_bench b;
    sc_time event_at;
    unsigned events = 0;
    sc_spawn([&] {
        wait(b.mem.dma_write_event());
        event_at = sc_time_stamp();
        ++events;
    });
    b.run([&] {
        std::vector<uint8_t> data(200);
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<uint8_t>(i + 1);
        pcie_ext ext;
        ext.requester_id = 0x100;
        sc_time d = SC_ZERO_TIME;
        EXPECT_EQ(b.dev_dma.access(tlm::TLM_WRITE_COMMAND, 0x4000, data.data(), 200, d, &ext),
                  tlm::TLM_OK_RESPONSE);
        // Two TLPs (128 + 72 bytes) with 24 bytes overhead each at 2 bytes/ns: 124 ns on the link.
        const sc_time wire = ns((200 + 2 * 24) * pcie_ns_per_byte);
        EXPECT_EQ(wire, ns(124));
        EXPECT_EQ(ext.sender_busy, wire);
        // Lands after the link, one way, and the DRAM write.
        const sc_time lands = wire + ns(100) + ns(200) + ns(50);
        EXPECT_EQ(d, lands);
        EXPECT_EQ(b.link.tlps_up(), 2u);
        // Not visible before its arrival time, visible at it.
        const uint8_t* mem = b.mem.host_ptr(0x4000, 200);
        EXPECT_EQ(mem[0], 0);
        wait(lands - sc_time(1, SC_PS));
        EXPECT_EQ(mem[0], 0);
        EXPECT_EQ(events, 0u);
        wait(sc_time(1, SC_PS));
        wait(SC_ZERO_TIME);   // the write applies in the delta cycle of its arrival
        EXPECT_EQ(std::memcmp(mem, data.data(), 200), 0);
        EXPECT_EQ(b.mem.bytes_written(), 200u);
    });
    EXPECT_EQ(events, 1u);
    EXPECT_EQ(event_at, ns(124 + 100 + 200 + 50));
}

TEST(platform_link, back_to_back_writes_serialize_on_the_link)
{
    platform_bench b;
    b.run([&] {
        uint8_t data[100] = {};
        pcie_ext e1, e2;
        sc_time d1 = SC_ZERO_TIME, d2 = SC_ZERO_TIME;
        b.dev_dma.access(tlm::TLM_WRITE_COMMAND, 0x1000, data, 100, d1, &e1);
        b.dev_dma.access(tlm::TLM_WRITE_COMMAND, 0x2000, data, 100, d2, &e2);
        // (100 + 24) / 2 = 62 ns each; the second waits for the first's TLP.
        EXPECT_EQ(e1.sender_busy, ns(62));
        EXPECT_EQ(e2.sender_busy, ns(124));
        EXPECT_EQ(d1, ns(62 + 100 + 100 + 50));
        // At 1 byte/ns DRAM is the slower stage: the second write arrives at 224 ns but the
        // controller is busy with the first until 262 ns.
        EXPECT_EQ(d2, ns(62 + 100 + 100 + 100 + 50));
    });
}

TEST(platform_link, dma_read_delay_is_request_two_one_ways_dram_and_completions)
{
    platform_bench b;
    b.run([&] {
        uint8_t* mem = b.mem.host_ptr(0x8000, 300);
        for (int i = 0; i < 300; ++i)
            mem[i] = static_cast<uint8_t>(0xA0 ^ i);
        std::vector<uint8_t> got(300);
        pcie_ext ext;
        sc_time d = SC_ZERO_TIME;
        EXPECT_EQ(b.dev_dma.access(tlm::TLM_READ_COMMAND, 0x8000, got.data(), 300, d, &ext),
                  tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(std::memcmp(got.data(), mem, 300), 0);
        // 2 read requests (MRRS 256), header only: 2 x 24 bytes = 24 ns.
        const sc_time request = ns(2 * 24 * pcie_ns_per_byte);
        const sc_time dram = ns(300 + 50);
        // 3 completions (MPS 128): (300 + 3 x 24) bytes = 186 ns.
        const sc_time completions = ns((300 + 3 * 24) * pcie_ns_per_byte);
        EXPECT_EQ(d, request + 2 * ns(100) + dram + completions);
        EXPECT_EQ(d, ns(760));
        EXPECT_EQ(b.link.tlps_up(), 2u);
        EXPECT_EQ(b.link.tlps_down(), 3u);
    });
}

TEST(platform_link, dma_read_after_posted_write_sees_the_write)
{
    // PCIe ordering: a read must not pass a posted write ahead of it.
    platform_bench b;
    b.run([&] {
        uint32_t v = 0x12345678, got = 0;
        pcie_ext e1, e2;
        sc_time d1 = SC_ZERO_TIME, d2 = SC_ZERO_TIME;
        b.dev_dma.access(tlm::TLM_WRITE_COMMAND, 0x3000, &v, 4, d1, &e1);
        b.dev_dma.access(tlm::TLM_READ_COMMAND, 0x3000, &got, 4, d2, &e2);
        EXPECT_EQ(got, 0x12345678u);
        EXPECT_GT(d2, d1);
    });
}

TEST(platform_link, mmio_write_posted_and_read_round_trip)
{
    platform_bench b;
    b.run([&] {
        uint32_t v = 0xAB;
        sc_time d = SC_ZERO_TIME;
        EXPECT_EQ(b.cpu.access(tlm::TLM_WRITE_COMMAND, dev_bar + 0x10, &v, 4, d), tlm::TLM_OK_RESPONSE);
        // One TLP of 4 + 24 bytes, then one way.
        EXPECT_EQ(d, ns(14 + 100));
        ASSERT_EQ(b.dev.writes.size(), 1u);
        EXPECT_EQ(b.dev.writes[0].first, dev_bar + 0x10);
        EXPECT_EQ(b.dev.writes[0].second, 0xABu);
        EXPECT_EQ(b.dev.write_times[0], ns(114));
        wait(ns(1000));
        uint32_t r = 0;
        sc_time dr = SC_ZERO_TIME;
        EXPECT_EQ(b.cpu.access(tlm::TLM_READ_COMMAND, dev_bar + 0x20, &r, 4, dr), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(r, 0xC0FFEEu);
        // Request header 24 bytes, one way, completion 4 + 24 bytes, one way.
        EXPECT_EQ(dr, ns(12 + 100 + 14 + 100));
        EXPECT_EQ(b.link.tlps_down(), 2u);
        EXPECT_EQ(b.link.tlps_up(), 1u);
    });
}

// ---- Root complex: MSI and routing -----------------------------------------------------------

TEST(platform_rc, msi_reaches_destination_core_with_vector)
{
    platform_bench b;
    b.run([&] {
        uint32_t vector = 0x41;
        pcie_ext ext;
        sc_time d = SC_ZERO_TIME;
        EXPECT_EQ(b.dev_dma.access(tlm::TLM_WRITE_COMMAND, msi_base | (2u << msi_dest_shift), &vector, 4, d, &ext),
                  tlm::TLM_OK_RESPONSE);
        ASSERT_EQ(b.core2.got.size(), 1u);
        EXPECT_TRUE(b.core0.got.empty());
        EXPECT_EQ(b.core2.got[0].first, 0x41u);
        // The message is a 4-byte posted write: one TLP and one way.
        EXPECT_EQ(b.core2.got[0].second, ns(14 + 100));
        EXPECT_EQ(b.rc.msis(), 1u);
        // Only the low 8 bits of the data are the vector.
        uint32_t v2 = 0x122;
        b.dev_dma.access(tlm::TLM_WRITE_COMMAND, msi_base, &v2, 4, d, &ext);
        ASSERT_EQ(b.core0.got.size(), 1u);
        EXPECT_EQ(b.core0.got[0].first, 0x22u);
    });
}

TEST(platform_rc, msi_does_not_overtake_earlier_posted_write)
{
    // The interrupt handler must find the data a device wrote before signalling.
    platform_bench b;
    b.run([&] {
        uint8_t data[64];
        std::memset(data, 0x5A, sizeof data);
        pcie_ext ext;
        sc_time dw = SC_ZERO_TIME;
        b.dev_dma.access(tlm::TLM_WRITE_COMMAND, 0x6000, data, 64, dw, &ext);
        uint32_t vector = 7;
        sc_time dm = SC_ZERO_TIME;
        b.dev_dma.access(tlm::TLM_WRITE_COMMAND, msi_base, &vector, 4, dm, &ext);
        ASSERT_EQ(b.core0.got.size(), 1u);
        EXPECT_GE(b.core0.got[0].second, dw);
        wait(b.core0.got[0].second);
        EXPECT_EQ(b.mem.host_ptr(0x6000, 1)[0], 0x5A);
    });
}

TEST(platform_rc, bad_msi_and_unrouted_addresses_error_and_counted)
{
    platform_bench b;
    b.run([&] {
        uint32_t v = 1;
        pcie_ext ext;
        sc_time d = SC_ZERO_TIME;
        // No core with APIC id 5.
        EXPECT_EQ(b.dev_dma.access(tlm::TLM_WRITE_COMMAND, msi_base | (5u << msi_dest_shift), &v, 4, d, &ext),
                  tlm::TLM_ADDRESS_ERROR_RESPONSE);
        // A read of the MSI window, and a message that is not 4 bytes.
        EXPECT_EQ(b.dev_dma.access(tlm::TLM_READ_COMMAND, msi_base, &v, 4, d, &ext), tlm::TLM_COMMAND_ERROR_RESPONSE);
        uint64_t wide = 1;
        EXPECT_EQ(b.dev_dma.access(tlm::TLM_WRITE_COMMAND, msi_base, &wide, 8, d, &ext), tlm::TLM_COMMAND_ERROR_RESPONSE);
        EXPECT_EQ(b.rc.msis(), 0u);
        EXPECT_TRUE(b.core0.got.empty());
        // DMA beyond DRAM, below the MSI window.
        EXPECT_EQ(b.dev_dma.access(tlm::TLM_WRITE_COMMAND, 0x1000'0000, &v, 4, d, &ext), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        // A read of an unrouted address costs the request, two one-ways and an error completion.
        sc_time dr = SC_ZERO_TIME;
        EXPECT_EQ(b.dev_dma.access(tlm::TLM_READ_COMMAND, 0x2000'0000, &v, 4, dr, &ext), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.rc.unrouted(), 5u);
        EXPECT_EQ(b.mem.bytes_written(), 0u);
        // Core MMIO to an address no window maps.
        sc_time dc = SC_ZERO_TIME;
        EXPECT_EQ(b.cpu.access(tlm::TLM_READ_COMMAND, dev_bar + 0x1000, &v, 4, dc), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.cpu.access(tlm::TLM_WRITE_COMMAND, 0xF000'0000, &v, 4, dc), tlm::TLM_ADDRESS_ERROR_RESPONSE);
        EXPECT_EQ(b.rc.unrouted(), 7u);
        EXPECT_TRUE(b.dev.writes.empty());
    });
}

TEST(platform_rc, overlapping_mmio_windows_refused)
{
    platform_bench b;
    EXPECT_THROW(b.rc.map_mmio(dev_bar + 0x800, 0x1000, 0, "other"), std::logic_error);
    EXPECT_THROW(b.rc.map_mmio(dev_bar - 0x10, 0x20, 0, "other"), std::logic_error);
    b.rc.map_mmio(dev_bar + 0x1000, 0x1000, 0, "adjacent");
    b.run([&] {
        uint32_t v = 3;
        sc_time d = SC_ZERO_TIME;
        EXPECT_EQ(b.cpu.access(tlm::TLM_WRITE_COMMAND, dev_bar + 0x1004, &v, 4, d), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(b.dev.writes.size(), 1u);
    });
}

} // namespace
