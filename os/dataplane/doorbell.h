#pragma once
// Doorbells, after the Arrakis paper: one per queue of a VNIC, pollable like file descriptors. A
// doorbell is ready when its queue has work (a received frame written back). An application that
// is running sees that directly when it polls (no interrupt, no kernel). One that waits with
// nothing ready arms the queues' interrupts (the VF's VTIVAR vector per queue, VTEIMS) and blocks:
// the interrupt goes to its core, the kernel's handler wakes the task and the scheduler switches
// to it (the costs of block, wake-up and switch are charged where the core model puts them); the
// interrupts are disarmed again once it runs. select/epoll in one call: wait() returns every
// ready descriptor.
#include <cstdint>
#include <functional>
#include <vector>

#include "os/core/cpu_core.h"
#include "os/dev/e10k_queue.h"

namespace iovsim::os::dataplane {

class doorbell_set {
public:
    // `vf`: the VNIC's register window; queue q's doorbell interrupt is the VF's MSI-X vector q,
    // delivered to this core as host interrupt irq_base + q. Installs the core's interrupt handler
    // (one user of it per core: the mailbox's VF driver cannot share the core).
    doorbell_set(cpu_core& core, dev::dev_handle vf, unsigned irq_base);

    // Adds queue `queue`'s doorbell as descriptor `fd`; `ready` says whether the queue has work.
    void add(int fd, unsigned queue, std::function<bool()> ready);
    // The descriptors ready now (a poll: never blocks, never arms an interrupt).
    std::vector<int> poll();
    // As poll, but with nothing ready: arms the interrupts and blocks until a doorbell rings.
    std::vector<int> wait();

    uint64_t direct() const { return m_direct; }        // waits answered without blocking
    uint64_t interrupts() const { return m_irqs; }      // doorbell interrupts taken
    uint64_t blocked_waits() const { return m_blocked; }

private:
    struct entry {
        int fd;
        unsigned queue;
        std::function<bool()> ready;
    };
    void arm(bool on);

    cpu_core& m_core;
    dev::dev_handle m_vf;
    unsigned m_irq_base;
    std::vector<entry> m_entries;
    task* m_waiter = nullptr;
    bool m_rang = false;
    uint64_t m_direct = 0, m_irqs = 0, m_blocked = 0;
};

} // namespace iovsim::os::dataplane
