#pragma once
// The interrupt side of one PCIe function of the NIC (the PF or a VF): an MSI-X table, extended
// interrupt cause and mask registers, auto-masking, and per-vector interrupt throttling (EITR,
// 82599 datasheet 7.3.2.1: after an interrupt, the next one on that vector waits for the interval).
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <systemc>

namespace iovsim::nic {

class msix_function {
public:
    // Sends a message: a posted write of `data` to `addr` on behalf of the function.
    using send_fn = std::function<void(uint64_t addr, uint32_t data)>;

    msix_function(const char* name, unsigned vectors, send_fn send);

    unsigned vectors() const { return static_cast<unsigned>(m_vec.size()); }

    // A cause for `vector` (a queue wrote back descriptors, a mailbox message...).
    void raise(unsigned vector);

    // Register semantics (EICR/EICS/EIMS/EIMC/EIAM, EITR, the MSI-X table).
    uint32_t cause() const { return m_cause; }
    void clear_cause(uint32_t bits) { m_cause &= ~bits; }
    void set_cause(uint32_t bits);
    uint32_t mask() const { return m_enabled; }   // EIMS reads 1 for enabled vectors
    void enable(uint32_t bits);                   // EIMS write
    void disable(uint32_t bits) { m_enabled &= ~bits; }  // EIMC write
    void set_auto_mask(uint32_t bits) { m_auto_mask = bits; }
    void set_interval(unsigned vector, sc_core::sc_time interval);
    uint32_t table_read(uint32_t offset) const;
    void table_write(uint32_t offset, uint32_t value);

    uint64_t messages() const { return m_messages; }

private:
    struct vector_state {
        uint32_t addr_lo = 0, addr_hi = 0, data = 0, ctrl = 1;  // masked at reset
        sc_core::sc_time interval;
        sc_core::sc_time last_fire;
        bool fired_once = false;
        bool timer_armed = false;
        std::unique_ptr<sc_core::sc_event> timer;
    };
    void try_fire(unsigned vector);

    send_fn m_send;
    std::vector<vector_state> m_vec;
    uint32_t m_cause = 0;
    uint32_t m_enabled = 0;
    uint32_t m_auto_mask = 0;
    uint64_t m_messages = 0;
};

} // namespace iovsim::nic
