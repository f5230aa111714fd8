#pragma once
// The Arrakis control plane for networking (the kernel "sets up and protects", after the paper's
// interface, reference/arrakis.md): it turns on the NIC's virtualization and, for each application
// (a tenant), creates and deletes VNICs: a virtual function with its own MAC address steered to its
// pool, enabled for receive and transmit, with MAC anti-spoofing, and an IOMMU domain that maps
// exactly the application's DMA region. The application then drives the VF's queues itself.
// Filters, rate specifiers and link shares are requests a tenant makes; the kernel checks its
// rights, bounds how many requests it may make, programs the NIC through the PF's registers and
// keeps count of what it refused. IOMMU faults are read from the unit's fault records and charged
// to the tenant whose device caused them.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "os/core/cpu_core.h"
#include "os/dev/e10k_queue.h"
#include "os/kernel/iommu_driver.h"
#include "os/kernel/phys_alloc.h"
#include "sim/wire/wire.h"

namespace iovsim::cfg {
class schema;
class config;
}

namespace iovsim::os::kernel {

using tenant_id = unsigned;

struct vnic_grant {
    unsigned vf = 0;
    tenant_id tenant = 0;
    uint64_t bar = 0;          // the VF's register window, mapped into the application
    uint32_t rx_regs = 0;      // offsets of queue 0's RX and TX registers in that window
    uint32_t tx_regs = 0;
    uint64_t region_pa = 0;    // the application's DMA-able memory (iova == pa)
    uint64_t region_bytes = 0;
    wire::mac_addr mac;
    wire::ipv4_addr ip;
};

// What happens when the NIC's receive 5-tuple filters are all in use.
enum class filter_exhaustion { refuse, software };

struct control_plane_params {
    unsigned max_vfs = 8;
    double line_gbps = 10.0;              // the link's rate, which rate factors are relative to
    bool rich_filters = false;            // the NIC has transmit filters on IP and port
    bool mac_antispoof = true;            // PFVFSPOOF.MACAS for every VF created
    filter_exhaustion on_exhaustion = filter_exhaustion::refuse;
    // Requests a tenant may make: a token bucket of `request_burst` requests refilled at
    // `requests_per_ms` (in simulated time); beyond it a request is refused and counted.
    unsigned request_burst = 64;
    double requests_per_ms = 10.0;

    static void declare(cfg::schema& s);
    static control_plane_params from(const cfg::config& c);
};

// create_filter's predicate, on the tenant's own side ("services": local address and port) and
// the other side ("peers"); 0 means any. A receive filter steers matching frames to the queue it is
// attached to; a transmit filter (rich filter hardware only) is what the VNIC may send: once a VNIC
// has one, IPv4 frames no transmit filter allows are dropped by the NIC.
struct filter_spec {
    enum class direction { receive, transmit };
    enum class protocol { udp, tcp };
    direction dir = direction::receive;
    protocol proto = protocol::udp;
    wire::ipv4_addr local_ip{};            // must be the tenant's VNIC address
    uint16_t local_port = 0;
    wire::ipv4_addr peer_ip{};
    uint16_t peer_port = 0;
};

// A filter capability: what create_filter hands the application, to attach to a queue of its VNIC.
struct filter_cap {
    uint32_t id = 0;
    tenant_id tenant = 0;
};

// Why the control plane refused a request.
enum class refusal {
    none,
    rights,             // the address or port is not the tenant's, or the VNIC or capability is not
    flood,              // over the tenant's request budget
    no_hardware,        // no filter hardware for it (transmit filters on the 82599), none left
    bad_request,        // malformed: unknown capability, queue out of range, bad rate
};
constexpr unsigned refusal_count = 5;
const char* refusal_name(refusal r);

struct tenant_stats {
    uint64_t requests = 0;
    std::array<uint64_t, refusal_count> refused{};
    uint64_t iommu_faults = 0;
    std::map<unsigned, uint64_t> faults_by_reason;   // VT-d fault reason -> count
    uint64_t refused_total() const;
};

// An IOMMU fault as the control plane read it from the fault record.
struct fault_report {
    uint16_t requester = 0;
    uint64_t address = 0;
    unsigned reason = 0;
    bool read = false;
    std::optional<tenant_id> tenant;   // nullopt: a requester no VNIC owns
};

class control_plane {
public:
    control_plane(cpu_core& core, phys_alloc& mem, iommu_driver& iommu, const control_plane_params& params);
    control_plane(cpu_core& core, phys_alloc& mem, iommu_driver& iommu, unsigned max_vfs, double line_gbps = 10.0);

    // VT mode on, the PF in its own pool, the IOMMU on (the PF passes through).
    void boot(category c);

    // ---- VICs -------------------------------------------------------------------------------
    // A VNIC for a tenant (a new tenant when none is given): throws std::runtime_error when no VF is
    // left.
    vnic_grant create_vnic(category c, wire::mac_addr mac, wire::ipv4_addr ip, uint64_t region_bytes);
    vnic_grant create_vnic(category c, tenant_id tenant, wire::mac_addr mac, wire::ipv4_addr ip, uint64_t region_bytes);
    // Frees the VF for reuse: receive and transmit off, its address, filters, rate limits and share
    // cleared, its IOMMU mappings removed with IOTLB invalidation, the context entry cleared with a
    // context-cache invalidation. A DMA the VF still has in flight afterwards faults. False (and
    // counted) when the grant is not the tenant's live VNIC.
    bool delete_vnic(category c, tenant_id caller, const vnic_grant& g);
    tenant_id new_tenant() { return m_next_tenant++; }
    // The tenant gives back [offset, offset + len) of its VNIC's region (whole pages): unmapped, each
    // page invalidated in the IOTLB before this returns, so a DMA the device still makes there
    // faults. False (and counted) when the grant is not the caller's or the range not in its region.
    bool unmap_region(category c, tenant_id caller, const vnic_grant& g, uint64_t offset, uint64_t len);

    // ---- Filters ----------------------------------------------------------------------------
    // Checks the caller's rights (its own VNIC address; a port another VNIC's filter holds on that
    // address is taken) and its request budget. On success the capability; otherwise nullopt and
    // `why` says which refusal (counted for the tenant).
    std::optional<filter_cap> create_filter(category c, tenant_id caller, const filter_spec& spec, refusal* why = nullptr);
    // Programs the NIC: a receive filter steers to `queue` (0 or 1) of the caller's VNIC `g`, a
    // transmit filter restricts what `g` sends. Refused when the capability or the VNIC is not the
    // caller's, the hardware has no such filter, or (receive, with on_exhaustion = refuse) all 128
    // are in use; with on_exhaustion = software the frames reach the VNIC's queue 0 and
    // `software_demux()` tells the dataplane to classify them itself.
    refusal attach_filter(category c, tenant_id caller, const filter_cap& cap, const vnic_grant& g, unsigned queue);
    // Whether a receive filter of the VNIC could not get hardware and is left to the dataplane.
    bool software_demux(const vnic_grant& g) const;
    // Receive 5-tuple filters programmed in the NIC.
    unsigned hardware_filters_used() const;

    // ---- Rate specifiers and shares ---------------------------------------------------------
    // Transmit queue `queue` of the VNIC (0 or 1) may send at most bits_per_s, counted on the wire
    // (preamble to inter-frame gap); 0, or the line rate or more, lifts the limit. The NIC's
    // per-queue rate scheduler enforces it (RTTDQSEL, RTTBCNRC). Throws std::invalid_argument for a
    // queue the VNIC does not have or a negative rate. (The kernel's own call: no budget.)
    void set_rate(category c, const vnic_grant& g, unsigned queue, double bits_per_s);
    // Share of the link between VNICs whose queues all have work: weighted round robin between the
    // NIC's pools, `weight` x 64 bytes a turn (RTTDT1C); weights apply to every VNIC once one is
    // set (RTTDCS.VMPAC), and a VNIC without one gets weight 1. weight in 1..16383.
    void set_weight(category c, const vnic_grant& g, uint32_t weight);

    // ---- IOMMU faults -----------------------------------------------------------------------
    // Reads and clears every pending fault record (FSTS, FRCD), charges each to the tenant owning
    // the requester and returns them.
    std::vector<fault_report> collect_faults(category c);
    // The IOMMU's fault event interrupt to `apic` as host interrupt `irq` (FEADDR, FEDATA, FECTL.IM
    // cleared); the kernel's handler for `irq` calls collect_faults.
    void enable_fault_irq(category c, unsigned apic, unsigned irq);

    // ---- PF/VF mailbox ----------------------------------------------------------------------
    // The PF's mailbox cause to MSI-X `vector`, delivered to `apic` as host interrupt `irq`
    // (IVAR_MISC, PFMBIMR for every VF); the kernel's handler for `irq` calls service_mailbox.
    void enable_mailbox_irq(category c, unsigned vector, unsigned apic, unsigned irq);
    // Answers every VF request waiting in the mailbox (PFMBICR.VFREQ): API negotiation, reset
    // (the reply carries the VNIC's MAC), set-MAC (only the VNIC's own address is granted),
    // set-multicast (API 1.1: RAR entries for the VF's pool). A request is the tenant's: it draws
    // on its budget, and what is refused is counted. Returns how many it answered.
    unsigned service_mailbox(category c);
    // The API version VF `vf` negotiated (v1_0 until it asks).
    uint32_t mailbox_api(unsigned vf) const { return vf < m_vnics.size() ? m_vnics[vf].api : 0; }

    // ---- Accounting -------------------------------------------------------------------------
    const tenant_stats& stats(tenant_id t) const;
    const control_plane_params& params() const { return m_params; }

private:
    struct vnic_state {
        vnic_grant grant;
        bool live = false;
        unsigned rar = 0;
        bool weighted = false;
        uint32_t api = 0;                   // negotiated mailbox API (dev::mbx::api)
        std::vector<unsigned> multicast_rars;
    };
    struct filter_state {
        filter_spec spec;
        tenant_id tenant = 0;
        bool attached = false;
        unsigned vf = 0;
        std::optional<unsigned> hw_index;   // RX: 5-tuple filter; TX: transmit filter
        bool software = false;
    };
    struct request_bucket {
        double tokens = 0;
        sc_core::sc_time last;
        bool primed = false;
    };

    dev::dev_handle pf() const;
    // Counts a request of `caller`; false (and counted as refused) when over its budget. A system
    // call's entry and exit are charged unless the request came by the mailbox.
    bool admit(category c, tenant_id caller, refusal* why, bool syscall = true);
    refusal refuse(tenant_id t, refusal r);
    vnic_state* live_vnic(tenant_id caller, const vnic_grant& g);
    void clear_filter(category c, filter_state& f);
    void write_pool_mask(category c, uint32_t reg, uint64_t mask);
    // One mailbox request of VF `vf`: reads it, fills `reply` (word 0 and payload), returns its length.
    unsigned answer(category c, unsigned vf, uint32_t* reply);
    void clear_multicast(category c, vnic_state& st);

    cpu_core& m_core;
    phys_alloc& m_mem;
    iommu_driver& m_iommu;
    control_plane_params m_params;
    double m_line_bps;
    bool m_weighted = false;
    std::vector<vnic_state> m_vnics;          // by VF
    uint64_t m_vfre = 0;                      // PFVFRE = PFVFTE: the live VFs
    uint64_t m_tx_filtering = 0;              // TXFCTL: VFs with transmit filters
    uint32_t m_spoof[8] = {};                 // PFVFSPOOF
    std::map<uint32_t, filter_state> m_filters;
    uint32_t m_next_filter = 1;
    std::vector<bool> m_rx_hw_used, m_tx_hw_used;
    std::vector<bool> m_rar_used;             // receive address entries held for multicast
    std::map<tenant_id, tenant_stats> m_stats;
    std::map<tenant_id, request_bucket> m_budget;
    tenant_id m_next_tenant = 1;
};

} // namespace iovsim::os::kernel
