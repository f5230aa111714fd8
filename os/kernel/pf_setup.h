#pragma once
// Bring-up of the e10k's physical function by the kernel: the station address, broadcast accept,
// receive and transmit enable. Shared by the Linux-like driver, the Arrakis control plane and the
// client hosts' drivers.
#include "os/dev/e10k_queue.h"
#include "sim/wire/wire.h"

namespace iovsim::os::kernel {

// Programs receive-address entry `rar` with `mac` for `pool`, accepts broadcast in that pool.
void e10k_set_address(const dev::dev_handle& pf, category c, unsigned rar, const wire::mac_addr& mac, unsigned pool);
// RXCTRL.RXEN and DMATXCTL.TE.
void e10k_enable(const dev::dev_handle& pf, category c);
// Routes queue `q`'s receive cause to MSI-X `vector` of the PF, points the vector at `apic` with
// the host interrupt number `irq`, sets its throttling interval, auto-masks and enables it.
void e10k_pf_route_irq(const dev::dev_handle& pf, category c, unsigned q, unsigned vector, unsigned apic,
                       unsigned irq, double interval_us);
// Maps (or unmaps) the transmit cause of PF queue `q` to MSI-X `vector`: IVAR(q/2) bits 15:8 for an
// even queue, 31:24 for an odd one, read-modify-write so the receive entries stay.
void e10k_pf_route_tx_irq(const dev::dev_handle& pf, category c, unsigned q, unsigned vector, bool on);

} // namespace iovsim::os::kernel
