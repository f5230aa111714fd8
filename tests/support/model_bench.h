#pragma once
// Pieces the device model tests share: a bus master with a blocking access helper, the kernel's
// view of a DRAM model's bytes and a page source for IOMMU tables, and SystemC reports that fail
// the test.
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <gtest/gtest.h>

#include "models/platform/dram.h"
#include "models/platform/root_complex.h"
#include "models/platform/tlm_ext.h"
#include "os/kernel/io_page_tables.h"

namespace iovsim::testing {

inline sc_core::sc_time ns(double v) { return sc_core::sc_time(v, sc_core::SC_NS); }

// A bus master: an initiator socket and a blocking access that returns the response status.
struct master : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<master> socket;
    explicit master(sc_core::sc_module_name n) : sc_module(n), socket("socket") {}

    tlm::tlm_response_status access(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len,
                                    sc_core::sc_time& delay, models::pcie_ext* ext = nullptr)
    {
        tlm::tlm_generic_payload t;
        t.set_command(cmd);
        t.set_address(addr);
        t.set_data_ptr(static_cast<unsigned char*>(data));
        t.set_data_length(len);
        t.set_streaming_width(len);
        t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        if (ext)
            t.set_extension(ext);
        socket->b_transport(t, delay);
        if (ext)
            t.clear_extension(ext);
        return t.get_response_status();
    }

    // 32-bit MMIO as a core does it: waits for reads and for posted writes to reach the device.
    tlm::tlm_response_status raw(tlm::tlm_command cmd, uint64_t addr, uint32_t& v)
    {
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        const auto st = access(cmd, addr, &v, 4, d);
        sc_core::wait(d);
        return st;
    }
    // Reads and writes that must succeed (a failure is a test failure).
    uint32_t rd(uint64_t addr)
    {
        uint32_t v = 0;
        EXPECT_EQ(raw(tlm::TLM_READ_COMMAND, addr, v), tlm::TLM_OK_RESPONSE) << std::hex << addr;
        return v;
    }
    void wr(uint64_t addr, uint32_t v)
    {
        EXPECT_EQ(raw(tlm::TLM_WRITE_COMMAND, addr, v), tlm::TLM_OK_RESPONSE) << std::hex << addr;
    }
};

// The test's driver: runs `f` as a thread of its own and the simulation until nothing is left to do.
struct driver_thread {
    std::function<void()> body;
    void run(std::function<void()> f)
    {
        body = std::move(f);
        sc_core::sc_spawn([this] { body(); }, "test_driver");
        sc_core::sc_start();
    }
};

// A core's interrupt controller that records what arrives: (vector, arrival time).
struct fake_irq : models::irq_sink {
    std::vector<std::pair<unsigned, sc_core::sc_time>> got;
    void deliver_irq(unsigned vector, const sc_core::sc_time& delay) override
    {
        got.emplace_back(vector, sc_core::sc_time_stamp() + delay);
    }
    size_t count(unsigned vector) const
    {
        size_t n = 0;
        for (const auto& g : got)
            n += g.first == vector;
        return n;
    }
};

// Bytes of a recognizable pattern, different for each seed.
inline void fill_pattern(uint8_t* p, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; ++i)
        p[i] = static_cast<uint8_t>(seed + 13 * i);
}

// The kernel's view of physical memory: the DRAM model's host bytes (as cores see them).
struct dram_phys_mem : os::kernel::phys_mem {
    models::dram& mem;
    explicit dram_phys_mem(models::dram& m) : mem(m) {}
    uint64_t read_u64(uint64_t pa) override
    {
        uint64_t v = 0;
        std::memcpy(&v, mem.host_ptr(pa, 8), 8);
        return v;
    }
    void write_u64(uint64_t pa, uint64_t v) override { std::memcpy(mem.host_ptr(pa, 8), &v, 8); }
};

// Table pages handed out upwards from `next`, a region the test's DMAs do not touch.
struct bump_pages : os::kernel::page_source {
    uint64_t next;
    explicit bump_pages(uint64_t first) : next(first) {}
    uint64_t alloc_zeroed_page() override
    {
        const uint64_t pa = next;
        next += 0x1000;
        return pa;
    }
};

// SystemC warnings and errors throw, so they fail the test.
inline void strict_reports()
{
    sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_DISPLAY | sc_core::SC_THROW);
    sc_core::sc_report_handler::set_actions(sc_core::SC_ERROR, sc_core::SC_DISPLAY | sc_core::SC_THROW);
}

} // namespace iovsim::testing
