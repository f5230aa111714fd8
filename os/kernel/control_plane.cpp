#include "os/kernel/control_plane.h"

#include <algorithm>
#include <stdexcept>

#include "models/iommu/iommu_regs.h"
#include "models/nic/e10k_regs.h"
#include "models/platform/address_map.h"
#include "os/dev/e10k_mbx.h"
#include "os/kernel/pf_setup.h"
#include "sim/config.h"

namespace iovsim::os::kernel {

namespace reg = iovsim::e10k;
namespace ir = iovsim::iommu::regs;

const char* refusal_name(refusal r)
{
    switch (r) {
    case refusal::none: return "none";
    case refusal::rights: return "rights";
    case refusal::flood: return "flood";
    case refusal::no_hardware: return "no_hardware";
    case refusal::bad_request: return "bad_request";
    }
    return "?";
}

uint64_t tenant_stats::refused_total() const
{
    uint64_t n = 0;
    for (unsigned i = 1; i < refusal_count; ++i)
        n += refused[i];
    return n;
}

void control_plane_params::declare(cfg::schema& s)
{
    s.add_choice("platform.nic.filters", "e82599", {"e82599", "rich"},
                 "filter hardware: the 82599's (receive 5-tuple filters, MAC anti-spoofing), or also transmit filters "
                 "on source/destination IP and port, as the Arrakis paper asks for (assumption: same 128 entries)");
    s.add_bool("os.kernel.mac_antispoof", true, "set PFVFSPOOF.MACAS for every VNIC: frames with another source MAC are dropped");
    s.add_choice("os.kernel.filter_exhaustion", "refuse", {"refuse", "software"},
                 "when the 128 receive 5-tuple filters are used up: refuse the request, or leave the demultiplexing to "
                 "the dataplane in software");
    s.add_int("os.kernel.request_burst", 64, 1, 1 << 20, "requests",
              "control-plane requests a tenant may make at once (assumption)");
    s.add_real("os.kernel.requests_per_ms", 10, 0.001, 1e6, "1/ms",
               "sustained control-plane requests per tenant (assumption)");
}

control_plane_params control_plane_params::from(const cfg::config& c)
{
    control_plane_params p;
    p.max_vfs = static_cast<unsigned>(c.get_int("platform.nic.num_vfs"));
    p.line_gbps = c.get_real("platform.nic.line_gbps");
    p.rich_filters = c.get_string("platform.nic.filters") == "rich";
    p.mac_antispoof = c.get_bool("os.kernel.mac_antispoof");
    p.on_exhaustion = c.get_string("os.kernel.filter_exhaustion") == "software" ? filter_exhaustion::software
                                                                                : filter_exhaustion::refuse;
    p.request_burst = static_cast<unsigned>(c.get_int("os.kernel.request_burst"));
    p.requests_per_ms = c.get_real("os.kernel.requests_per_ms");
    return p;
}

namespace {
control_plane_params with_vfs(unsigned max_vfs, double line_gbps)
{
    control_plane_params p;
    p.max_vfs = max_vfs;
    p.line_gbps = line_gbps;
    return p;
}
} // namespace

control_plane::control_plane(cpu_core& core, phys_alloc& mem, iommu_driver& iommu, const control_plane_params& params)
    : m_core(core), m_mem(mem), m_iommu(iommu), m_params(params), m_line_bps(params.line_gbps * 1e9),
      m_vnics(std::min(params.max_vfs, reg::num_pools - 1)), m_rx_hw_used(reg::num_5tuple, false),
      m_tx_hw_used(reg::pf::num_tx_filters, false), m_rar_used(reg::num_rar, false)
{
    // RAR 0 is the PF's, 1..63 the VNICs' station addresses; multicast entries come from 64..127.
    std::fill(m_rar_used.begin(), m_rar_used.begin() + reg::num_pools, true);
}

control_plane::control_plane(cpu_core& core, phys_alloc& mem, iommu_driver& iommu, unsigned max_vfs, double line_gbps)
    : control_plane(core, mem, iommu, with_vfs(max_vfs, line_gbps))
{
}

dev::dev_handle control_plane::pf() const { return dev::dev_handle{&m_core, models::nic_pf_bar0}; }

void control_plane::boot(category c)
{
    const unsigned pf_pool = reg::num_pools - 1;
    pf().write_reg(c, reg::pf::VT_CTL, reg::VT_CTL_VT_ENA | pf_pool << reg::VT_CTL_DEF_PL_SHIFT);
    m_iommu.attach_pass_through(models::nic_pf_rid, 1);
    m_iommu.enable(c);
    e10k_enable(pf(), c);
}

void control_plane::write_pool_mask(category c, uint32_t reg_lo, uint64_t mask)
{
    pf().write_reg(c, reg_lo, static_cast<uint32_t>(mask));
    pf().write_reg(c, reg_lo + 4, static_cast<uint32_t>(mask >> 32));
}

// ---- VICs -----------------------------------------------------------------------------------

vnic_grant control_plane::create_vnic(category c, wire::mac_addr mac, wire::ipv4_addr ip, uint64_t region_bytes)
{
    return create_vnic(c, new_tenant(), mac, ip, region_bytes);
}

vnic_grant control_plane::create_vnic(category c, tenant_id tenant, wire::mac_addr mac, wire::ipv4_addr ip,
                                      uint64_t region_bytes)
{
    const auto free_vf = std::find_if(m_vnics.begin(), m_vnics.end(), [](const vnic_state& v) { return !v.live; });
    if (free_vf == m_vnics.end())
        throw std::runtime_error("no virtual function left for a new VNIC");
    vnic_state& st = *free_vf;
    vnic_grant& g = st.grant;
    g = vnic_grant{};
    g.vf = static_cast<unsigned>(free_vf - m_vnics.begin());
    g.tenant = tenant;
    g.bar = models::nic_vf_bar_base + g.vf * models::nic_vf_bar_stride;
    g.rx_regs = reg::vf::VFRDBAL0;
    g.tx_regs = reg::vf::VFTDBAL0;
    g.region_bytes = (region_bytes + page_bytes - 1) & ~(page_bytes - 1);   // whole pages, mapped whole
    g.region_pa = m_mem.alloc(g.region_bytes);
    g.mac = mac;
    g.ip = ip;
    st.live = true;
    st.rar = g.vf + 1;   // RAR 0 is the PF's
    st.weighted = false;
    const uint16_t domain = static_cast<uint16_t>(g.vf + 2);
    m_iommu.attach(models::nic_vf_rid(g.vf), domain);
    m_iommu.map(domain, g.region_pa, g.region_pa, g.region_bytes, true, true);
    e10k_set_address(pf(), c, st.rar, mac, g.vf);
    if (m_params.mac_antispoof) {
        m_spoof[g.vf / 8] |= 1u << (g.vf % 8 + reg::PFVFSPOOF_MACAS_SHIFT);
        pf().write_reg(c, reg::pf::PFVFSPOOF0 + 4 * (g.vf / 8), m_spoof[g.vf / 8]);
    }
    m_vfre |= 1ULL << g.vf;
    write_pool_mask(c, reg::pf::PFVFRE0, m_vfre);
    write_pool_mask(c, reg::pf::PFVFTE0, m_vfre);
    m_stats[tenant];
    return g;
}

control_plane::vnic_state* control_plane::live_vnic(tenant_id caller, const vnic_grant& g)
{
    if (g.vf >= m_vnics.size())
        return nullptr;
    vnic_state& st = m_vnics[g.vf];
    if (!st.live || st.grant.tenant != caller || st.grant.region_pa != g.region_pa)
        return nullptr;
    return &st;
}

bool control_plane::delete_vnic(category c, tenant_id caller, const vnic_grant& g)
{
    if (!admit(c, caller, nullptr))
        return false;
    vnic_state* st = live_vnic(caller, g);
    if (!st) {
        refuse(caller, refusal::rights);
        return false;
    }
    const unsigned vf = g.vf;
    // Receive and transmit off first, then the queues, so the VF's DMA stops before its memory goes.
    m_vfre &= ~(1ULL << vf);
    write_pool_mask(c, reg::pf::PFVFRE0, m_vfre);
    write_pool_mask(c, reg::pf::PFVFTE0, m_vfre);
    for (unsigned i = 0; i < reg::queues_per_pool; ++i) {
        const unsigned q = vf * reg::queues_per_pool + i;
        // Disabled, and head and tail back to 0: descriptors the NIC fetched for this tenant are
        // dropped, so the VF's next owner starts clean.
        const uint32_t rx = reg::pf::rx_queue_regs(q), tx = reg::pf::TDBAL0 + q * reg::pf::TXQ_STRIDE;
        pf().write_reg(c, rx + reg::pf::RXDCTL_OFF, 0);
        pf().write_reg(c, rx + reg::pf::RDH_OFF, 0);
        pf().write_reg(c, rx + reg::pf::RDT_OFF, 0);
        pf().write_reg(c, tx + reg::pf::TXDCTL_OFF, 0);
        pf().write_reg(c, tx + reg::pf::TDH_OFF, 0);
        pf().write_reg(c, tx + reg::pf::TDT_OFF, 0);
        pf().write_reg(c, reg::pf::RTTDQSEL, q);
        pf().write_reg(c, reg::pf::RTTBCNRC, 0);
    }
    if (st->weighted) {
        pf().write_reg(c, reg::pf::RTTDQSEL, vf);
        pf().write_reg(c, reg::pf::RTTDT1C, 0);
    }
    pf().write_reg(c, reg::pf::RAH0 + 8 * st->rar, 0);
    pf().write_reg(c, reg::pf::MPSAR_LO0 + 8 * st->rar, 0);
    pf().write_reg(c, reg::pf::MPSAR_HI0 + 8 * st->rar, 0);
    if (m_spoof[vf / 8] & (1u << (vf % 8))) {
        m_spoof[vf / 8] &= ~(1u << (vf % 8));
        pf().write_reg(c, reg::pf::PFVFSPOOF0 + 4 * (vf / 8), m_spoof[vf / 8]);
    }
    for (auto it = m_filters.begin(); it != m_filters.end();) {
        if (it->second.attached && it->second.vf == vf) {
            clear_filter(c, it->second);
            it = m_filters.erase(it);
        } else {
            ++it;
        }
    }
    clear_multicast(c, *st);
    st->api = 0;
    if (m_tx_filtering & (1ULL << vf)) {
        m_tx_filtering &= ~(1ULL << vf);
        write_pool_mask(c, reg::pf::TXFCTL0, m_tx_filtering);
    }
    // The IOMMU: unmap with IOTLB invalidation, then the context entry.
    const uint16_t domain = static_cast<uint16_t>(vf + 2);
    m_iommu.unmap(c, domain, g.region_pa, g.region_bytes);
    m_iommu.detach(c, models::nic_vf_rid(vf), domain);
    for (uint64_t pa = g.region_pa; pa < g.region_pa + g.region_bytes; pa += page_bytes)
        m_mem.free_page(pa);
    st->live = false;
    return true;
}

bool control_plane::unmap_region(category c, tenant_id caller, const vnic_grant& g, uint64_t offset, uint64_t len)
{
    if (!admit(c, caller, nullptr))
        return false;
    if (!live_vnic(caller, g)) {
        refuse(caller, refusal::rights);
        return false;
    }
    if (len == 0 || offset % page_bytes || len % page_bytes || offset > g.region_bytes || len > g.region_bytes - offset) {
        refuse(caller, refusal::bad_request);
        return false;
    }
    m_iommu.unmap(c, static_cast<uint16_t>(g.vf + 2), g.region_pa + offset, len);
    return true;
}

// ---- Requests ---------------------------------------------------------------------------------

refusal control_plane::refuse(tenant_id t, refusal r)
{
    ++m_stats[t].refused[static_cast<unsigned>(r)];
    return r;
}

bool control_plane::admit(category c, tenant_id caller, refusal* why, bool syscall)
{
    if (syscall) {
        m_core.run(c, m_core.costs().l_syscall_entry);
        m_core.run(c, m_core.costs().l_syscall_exit);
    }
    ++m_stats[caller].requests;
    request_bucket& b = m_budget[caller];
    const sc_core::sc_time now = m_core.local_time();
    if (!b.primed) {
        b.tokens = m_params.request_burst;
        b.primed = true;
    } else {
        b.tokens = std::min<double>(m_params.request_burst,
                                    b.tokens + (now - b.last).to_seconds() * 1e3 * m_params.requests_per_ms);
    }
    b.last = now;
    if (b.tokens < 1.0) {
        const refusal r = refuse(caller, refusal::flood);
        if (why)
            *why = r;
        return false;
    }
    b.tokens -= 1.0;
    return true;
}

// ---- Filters ----------------------------------------------------------------------------------

std::optional<filter_cap> control_plane::create_filter(category c, tenant_id caller, const filter_spec& spec, refusal* why)
{
    if (why)
        *why = refusal::none;
    if (!admit(c, caller, why))
        return std::nullopt;
    auto fail = [&](refusal r) -> std::optional<filter_cap> {
        refuse(caller, r);
        if (why)
            *why = r;
        return std::nullopt;
    };
    // The local address must be one of the caller's VNICs'.
    const bool own_ip = std::any_of(m_vnics.begin(), m_vnics.end(), [&](const vnic_state& v) {
        return v.live && v.grant.tenant == caller && v.grant.ip.value == spec.local_ip.value;
    });
    if (!own_ip)
        return fail(refusal::rights);
    // A receive port on that address held by another tenant's filter is taken.
    for (const auto& [id, f] : m_filters) {
        if (f.tenant != caller && f.spec.dir == filter_spec::direction::receive && spec.dir == f.spec.dir &&
            f.spec.proto == spec.proto && f.spec.local_ip.value == spec.local_ip.value &&
            (f.spec.local_port == spec.local_port || f.spec.local_port == 0 || spec.local_port == 0))
            return fail(refusal::rights);
    }
    if (spec.dir == filter_spec::direction::transmit && !m_params.rich_filters)
        return fail(refusal::no_hardware);
    const uint32_t id = m_next_filter++;
    filter_state f;
    f.spec = spec;
    f.tenant = caller;
    m_filters.emplace(id, f);
    return filter_cap{id, caller};
}

namespace {
// A bank of 5-tuple filter registers: the receive filters' or the rich option's transmit filters'.
struct filter_bank {
    uint32_t saqf, daqf, sdpqf, ftqf, l34t_imir;   // l34t_imir 0: no queue register
};
constexpr filter_bank rx_bank{reg::pf::SAQF0, reg::pf::DAQF0, reg::pf::SDPQF0, reg::pf::FTQF0, reg::pf::L34T_IMIR0};
constexpr filter_bank tx_bank{reg::pf::TXSAQF0, reg::pf::TXDAQF0, reg::pf::TXSDPQF0, reg::pf::TXFTQF0, 0};

// Entry i of `bank`, in the frame's own terms (source and destination; 0 = do not compare), bound
// to the VF's pool, enabled last.
void write_filter(const dev::dev_handle& pf, category c, const filter_bank& bank, unsigned i, filter_spec::protocol proto,
                  wire::ipv4_addr src, wire::ipv4_addr dst, uint16_t sport, uint16_t dport, unsigned vf, unsigned queue)
{
    uint32_t ftqf = (proto == filter_spec::protocol::udp ? 1u : 0u) | 1u << reg::FTQF_PRIORITY_SHIFT |
                    vf << reg::FTQF_POOL_SHIFT | reg::FTQF_QUEUE_ENABLE;
    ftqf |= (src.value == 0 ? reg::FTQF_MASK_SRC_ADDR : 0) | (dst.value == 0 ? reg::FTQF_MASK_DST_ADDR : 0) |
            (sport == 0 ? reg::FTQF_MASK_SRC_PORT : 0) | (dport == 0 ? reg::FTQF_MASK_DST_PORT : 0);
    pf.write_reg(c, bank.saqf + 4 * i, src.value);
    pf.write_reg(c, bank.daqf + 4 * i, dst.value);
    pf.write_reg(c, bank.sdpqf + 4 * i, sport | static_cast<uint32_t>(dport) << 16);
    if (bank.l34t_imir)
        pf.write_reg(c, bank.l34t_imir + 4 * i, (vf * reg::queues_per_pool + queue) << reg::L34T_IMIR_RX_QUEUE_SHIFT);
    pf.write_reg(c, bank.ftqf + 4 * i, ftqf);
}
} // namespace

void control_plane::clear_filter(category c, filter_state& f)
{
    if (!f.hw_index)
        return;
    if (f.spec.dir == filter_spec::direction::receive) {
        pf().write_reg(c, rx_bank.ftqf + 4 * *f.hw_index, 0);
        m_rx_hw_used[*f.hw_index] = false;
    } else {
        pf().write_reg(c, tx_bank.ftqf + 4 * *f.hw_index, 0);
        m_tx_hw_used[*f.hw_index] = false;
    }
    f.hw_index.reset();
}

refusal control_plane::attach_filter(category c, tenant_id caller, const filter_cap& cap, const vnic_grant& g, unsigned queue)
{
    if (!admit(c, caller, nullptr))
        return refusal::flood;
    const auto it = m_filters.find(cap.id);
    if (it == m_filters.end() || queue >= reg::queues_per_pool)
        return refuse(caller, refusal::bad_request);
    filter_state& f = it->second;
    vnic_state* st = live_vnic(caller, g);
    if (f.tenant != caller || cap.tenant != caller || !st || st->grant.ip.value != f.spec.local_ip.value)
        return refuse(caller, refusal::rights);
    if (f.attached)
        clear_filter(c, f);
    std::vector<bool>& used = f.spec.dir == filter_spec::direction::receive ? m_rx_hw_used : m_tx_hw_used;
    const auto slot = std::find(used.begin(), used.end(), false);
    if (slot == used.end()) {
        if (f.spec.dir == filter_spec::direction::transmit || m_params.on_exhaustion == filter_exhaustion::refuse)
            return refuse(caller, refusal::no_hardware);
        // Software demultiplexing: the VNIC's frames arrive on its default queue by MAC, and the
        // dataplane classifies them.
        f.attached = true;
        f.vf = g.vf;
        f.software = true;
        return refusal::none;
    }
    const auto index = static_cast<unsigned>(slot - used.begin());
    *slot = true;
    f.hw_index = index;
    f.attached = true;
    f.vf = g.vf;
    f.software = false;
    if (f.spec.dir == filter_spec::direction::receive) {
        // A received frame comes from the peer to the tenant's address.
        write_filter(pf(), c, rx_bank, index, f.spec.proto, f.spec.peer_ip, f.spec.local_ip, f.spec.peer_port,
                     f.spec.local_port, g.vf, queue);
    } else {
        // A sent frame comes from the tenant's address.
        write_filter(pf(), c, tx_bank, index, f.spec.proto, f.spec.local_ip, f.spec.peer_ip, f.spec.local_port,
                     f.spec.peer_port, g.vf, 0);
        if (!(m_tx_filtering & (1ULL << g.vf))) {
            m_tx_filtering |= 1ULL << g.vf;
            write_pool_mask(c, reg::pf::TXFCTL0, m_tx_filtering);
        }
    }
    return refusal::none;
}

bool control_plane::software_demux(const vnic_grant& g) const
{
    return std::any_of(m_filters.begin(), m_filters.end(),
                       [&](const auto& e) { return e.second.attached && e.second.software && e.second.vf == g.vf; });
}

unsigned control_plane::hardware_filters_used() const
{
    return static_cast<unsigned>(std::count(m_rx_hw_used.begin(), m_rx_hw_used.end(), true));
}

// ---- Rate specifiers and shares ---------------------------------------------------------------

void control_plane::set_rate(category c, const vnic_grant& g, unsigned queue, double bits_per_s)
{
    if (queue >= reg::queues_per_pool)
        throw std::invalid_argument("set_rate: a VNIC has transmit queues 0 and 1 only");
    if (!(bits_per_s >= 0))
        throw std::invalid_argument("set_rate: the rate must be 0 (no limit) or positive");
    pf().write_reg(c, reg::pf::RTTDQSEL, g.vf * reg::queues_per_pool + queue);
    pf().write_reg(c, reg::pf::RTTBCNRC, reg::rttbcnrc_for(m_line_bps, bits_per_s));
}

void control_plane::set_weight(category c, const vnic_grant& g, uint32_t weight)
{
    if (weight == 0 || weight > reg::RTTDT1C_CRQ_MASK)
        throw std::invalid_argument("set_weight: the weight must be in 1..16383");
    pf().write_reg(c, reg::pf::RTTDQSEL, g.vf);
    pf().write_reg(c, reg::pf::RTTDT1C, weight);
    if (g.vf < m_vnics.size())
        m_vnics[g.vf].weighted = true;
    if (!m_weighted) {
        pf().write_reg(c, reg::pf::RTTDCS, reg::RTTDCS_VMPAC);
        m_weighted = true;
    }
}

// ---- PF/VF mailbox ---------------------------------------------------------------------------

void control_plane::enable_mailbox_irq(category c, unsigned vector, unsigned apic, unsigned irq)
{
    pf().write_reg(c, reg::pf::IVAR_MISC, reg::IVAR_ALLOC_VAL | vector);
    const dev::dev_handle entry{&m_core, models::nic_pf_msix_bar + vector * reg::msix_entry_bytes};
    entry.write_reg(c, reg::MSIX_ADDR_LO, static_cast<uint32_t>(models::msi_base | apic << models::msi_dest_shift));
    entry.write_reg(c, reg::MSIX_ADDR_HI, 0);
    entry.write_reg(c, reg::MSIX_DATA, irq);
    entry.write_reg(c, reg::MSIX_VECTOR_CTRL, 0);
    for (unsigned i = 0; i < reg::pf::num_pfmbicr; ++i)
        pf().write_reg(c, reg::pf::PFMBIMR0 + 4 * i, 0xFFFF);   // VFREQ of every VF
    pf().write_reg(c, reg::pf::EIMS, 1u << vector);
}

void control_plane::clear_multicast(category c, vnic_state& st)
{
    for (unsigned rar : st.multicast_rars) {
        pf().write_reg(c, reg::pf::RAH0 + 8 * rar, 0);
        pf().write_reg(c, reg::pf::MPSAR_LO0 + 8 * rar, 0);
        pf().write_reg(c, reg::pf::MPSAR_HI0 + 8 * rar, 0);
        m_rar_used[rar] = false;
    }
    st.multicast_rars.clear();
}

unsigned control_plane::answer(category c, unsigned vf, uint32_t* reply)
{
    namespace mbx = dev::mbx;
    const uint32_t base = reg::pf::PFMBMEM0 + 64 * vf;
    const uint32_t w0 = pf().read_reg(c, base);
    const uint32_t type = w0 & mbx::type_mask;
    reply[0] = type | mbx::nack;
    if (vf >= m_vnics.size() || !m_vnics[vf].live)
        return 1;
    vnic_state& st = m_vnics[vf];
    const tenant_id t = st.grant.tenant;
    if (!admit(c, t, nullptr, false))
        return 1;
    uint32_t w[reg::mbx_words] = {};
    auto read_words = [&](unsigned n) {
        for (unsigned i = 1; i <= n && i < reg::mbx_words; ++i)
            w[i] = pf().read_reg(c, base + 4 * i);
    };
    switch (type) {
    case mbx::msg_api_negotiate:
        read_words(1);
        if (w[1] > static_cast<uint32_t>(mbx::newest)) {
            refuse(t, refusal::bad_request);
            return 1;
        }
        st.api = w[1];
        reply[0] = type | mbx::ack;
        return 1;
    case mbx::msg_reset:
        clear_multicast(c, st);
        reply[0] = type | mbx::ack;
        mbx::put_mac(reply + 1, st.grant.mac);
        return 3;
    case mbx::msg_set_mac:
        read_words(2);
        if (mbx::get_mac(w + 1).bytes != st.grant.mac.bytes) {
            refuse(t, refusal::rights);   // another station address: not the tenant's to take
            return 1;
        }
        reply[0] = type | mbx::ack;
        return 1;
    case mbx::msg_set_multicast: {
        const unsigned n = (w0 & mbx::info_mask) >> mbx::info_shift;
        if (st.api < static_cast<uint32_t>(mbx::api::v1_1) || n > mbx::max_multicast) {
            refuse(t, refusal::bad_request);
            return 1;
        }
        read_words(2 * n);
        for (unsigned i = 0; i < n; ++i) {
            if (!(mbx::get_mac(w + 1 + 2 * i).bytes[0] & 1)) {
                refuse(t, refusal::rights);   // a unicast address in the multicast list
                return 1;
            }
        }
        if (static_cast<size_t>(std::count(m_rar_used.begin(), m_rar_used.end(), false)) + st.multicast_rars.size() < n) {
            refuse(t, refusal::no_hardware);
            return 1;
        }
        clear_multicast(c, st);
        for (unsigned i = 0; i < n; ++i) {
            const auto slot = std::find(m_rar_used.begin(), m_rar_used.end(), false);
            *slot = true;
            const auto rar = static_cast<unsigned>(slot - m_rar_used.begin());
            st.multicast_rars.push_back(rar);
            e10k_set_address(pf(), c, rar, mbx::get_mac(w + 1 + 2 * i), vf);
        }
        reply[0] = type | mbx::ack;
        return 1;
    }
    default:
        refuse(t, refusal::bad_request);
        return 1;
    }
}

unsigned control_plane::service_mailbox(category c)
{
    unsigned answered = 0;
    for (unsigned g = 0; g < reg::pf::num_pfmbicr; ++g) {
        const uint32_t cause = pf().read_reg(c, reg::pf::PFMBICR0 + 4 * g);
        if (!cause)
            continue;
        pf().write_reg(c, reg::pf::PFMBICR0 + 4 * g, cause);   // write 1 to clear
        for (unsigned i = 0; i < 16; ++i) {
            if (!(cause & (1u << i)))
                continue;
            const unsigned vf = g * 16 + i;
            const uint32_t mailbox = reg::pf::PFMAILBOX0 + 4 * vf;
            pf().write_reg(c, mailbox, reg::PFMAILBOX_PFU);
            if (!(pf().read_reg(c, mailbox) & reg::PFMAILBOX_PFU))
                continue;   // the VF holds the memory: it has not finished its message
            uint32_t reply[reg::mbx_words] = {};
            const unsigned n = answer(c, vf, reply);
            for (unsigned k2 = 0; k2 < n; ++k2)
                pf().write_reg(c, reg::pf::PFMBMEM0 + 64 * vf + 4 * k2, reply[k2]);
            pf().write_reg(c, mailbox, reg::PFMAILBOX_STS | reg::PFMAILBOX_ACK);   // and release
            ++answered;
        }
    }
    return answered;
}

// ---- IOMMU faults -----------------------------------------------------------------------------

void control_plane::enable_fault_irq(category c, unsigned apic, unsigned irq)
{
    dev::dev_handle u{&m_core, models::iommu_reg_base};
    u.write_reg(c, ir::FEADDR_REG, static_cast<uint32_t>(models::msi_base | apic << models::msi_dest_shift));
    u.write_reg(c, ir::FEDATA_REG, irq);
    u.write_reg(c, ir::FECTL_REG, 0);
}

std::vector<fault_report> control_plane::collect_faults(category c)
{
    dev::dev_handle u{&m_core, models::iommu_reg_base};
    std::vector<fault_report> out;
    while (u.read_reg(c, ir::FSTS_REG) & ir::FSTS_PPF) {
        fault_report f;
        f.address = u.read_reg(c, ir::FRCD_ADDR_LO) | static_cast<uint64_t>(u.read_reg(c, ir::FRCD_ADDR_HI)) << 32;
        const uint32_t info = u.read_reg(c, ir::FRCD_INFO);
        u.write_reg(c, ir::FRCD_INFO, ir::FRCD_F);   // pop the record
        f.requester = static_cast<uint16_t>(info & 0xFFFF);
        f.reason = (info >> 16) & 0xFF;
        f.read = info & ir::FRCD_T_READ;
        for (const vnic_state& v : m_vnics) {
            // A deleted VNIC's tenant still owns the faults its device causes on the way out.
            if (models::nic_vf_rid(v.grant.vf) == f.requester && (v.live || v.grant.region_bytes != 0))
                f.tenant = v.grant.tenant;
        }
        if (f.tenant) {
            tenant_stats& s = m_stats[*f.tenant];
            ++s.iommu_faults;
            ++s.faults_by_reason[f.reason];
        }
        out.push_back(f);
    }
    return out;
}

const tenant_stats& control_plane::stats(tenant_id t) const
{
    static const tenant_stats none;
    const auto it = m_stats.find(t);
    return it == m_stats.end() ? none : it->second;
}

} // namespace iovsim::os::kernel
