#pragma once
// The VF driver's side of the PF/VF mailbox (protocol: os/dev/e10k_mbx.h): an application's
// library OS asks the kernel's PF driver for what only the PF may do (its station address, a reset,
// multicast addresses). Each request takes the mailbox memory (VFU), writes the message, rings
// the PF (REQ, releasing the memory), then sleeps until the PF's reply raises the VF's mailbox
// interrupt, and reads the reply. No host time is spent waiting.
#include <cstdint>
#include <optional>
#include <vector>

#include <systemc>

#include "os/core/cpu_core.h"
#include "os/dev/e10k_mbx.h"
#include "os/dev/e10k_queue.h"

namespace iovsim::os::dataplane {

class vf_mailbox {
public:
    // `vf`: the VF's register window. Its mailbox cause goes to MSI-X `vector` of the VF, delivered
    // to this core as host interrupt `irq`; the object installs the core's interrupt handler.
    vf_mailbox(cpu_core& core, dev::dev_handle vf, unsigned vector, unsigned irq);

    // Each returns whether the PF granted it (ACK). The negotiated version governs what may follow.
    bool negotiate(dev::mbx::api version);
    // The PF's reply carries the VNIC's station address.
    std::optional<wire::mac_addr> reset();
    bool set_mac(const wire::mac_addr& mac);
    bool set_multicast(const std::vector<wire::mac_addr>& groups);

    uint64_t interrupts() const { return m_irqs; }

private:
    // Sends words [0, n) of `msg` and returns the reply's words (word 0 first).
    std::vector<uint32_t> request(const uint32_t* msg, unsigned n, unsigned reply_words);

    cpu_core& m_core;
    dev::dev_handle m_vf;
    unsigned m_irq;
    bool m_reply = false;   // set by the mailbox interrupt
    uint64_t m_irqs = 0;
};

} // namespace iovsim::os::dataplane
