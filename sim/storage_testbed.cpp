#include "sim/storage_testbed.h"

#include "models/platform/address_map.h"
#include "sim/experiment.h"
#include "sim/testbed.h"

using namespace sc_core;

namespace iovsim::sim {

namespace {

sc_time us(double v) { return sc_time(v, SC_US); }
constexpr uint64_t kernel_reserved = 1 << 20;   // low memory the kernel keeps for itself

struct kind_defaults {
    const char* kind;
    double write_us, read_hit_us, read_miss_us, flush_us, per_block_ns, service_cv;
    const char* why;
    const char* cv_why;
};

// Service times inside the device per kind; `why` is the provenance shown by 'iovsim params'.
const kind_defaults kinds[] = {
    {"raid", 22.55, 10, 60, 32.55, 50, 0.084,
     "the paper's RAID controller (MegaRAID, 1 GB flash-backed write cache, DC S3700 SSD): a write into the cache "
     "took 25 us end to end on the paper's machine; the device's share is that less what the model adds around it "
     "for a 1 KB write (firmware, blocks, link, DMA, IOMMU, driver: 2.45 us; calibrated with vsic_overhead's direct "
     "column); reads that miss go to the SSD (DC S3700 datasheet: 50 us typical random read, plus the controller's "
     "path, estimate)",
     "calibrated: Arrakis Table 2's arrakis_write column, whose one variable part is the device's write (sigma of the "
     "total 1.91 us on 31.51; 0.15 us from the rest of the model)"},
    {"fast", 12.55, 8, 50, 3, 50, 0.084, "the paper's what-if of a faster device: 15 us per 1 KB write end to end (same split as raid)",
     "as raid (assumption)"},
    {"ramdisk", 0.1, 0.1, 0.1, 0.1, 0, 0, "a RAM disk: near-zero device time (estimate: a firmware pass of ~100 ns)",
     "a memory copy: fixed"},
};

} // namespace

void storage_testbed::declare(cfg::schema& s)
{
    s.add_choice("platform.storage.device", "raid", {"raid", "fast", "ramdisk"},
                 "storage device kind: the paper's RAID controller, its faster what-if, or a RAM disk");
    s.add_choice("platform.storage.vsic_mode", "emulated", {"hardware", "emulated"},
                 "VSICs as device functions of the controller (hardware) or as software on a dedicated core, as in the paper's prototype (emulated)");
    s.add_int("platform.storage.num_vsics", 64, 0, storage::max_vsics, "",
              "hardware VSIC functions the controller exposes (paper: 64; ignored in emulated mode)");
    s.add_int("platform.storage.capacity_gb", 100, 1, 100000, "GB", "device capacity (Intel DC S3700 100 GB)");
    s.add_int("platform.storage.cache_mb", 1024, 1, 1 << 20, "MiB", "flash-backed DRAM write cache (MegaRAID RS3DC040: 1 GB)");
    s.add_real("platform.storage.cycle_ns", 0.833, 0.01, 1000, "ns",
               "controller firmware clock: LSI SAS3108 RAID-on-chip, PowerPC 476 at 1.2 GHz (product brief)");
    s.add_int("platform.storage.command_cycles", 500, 0, 1'000'000, "cycles", "firmware: decode and dispatch one command (estimate)");
    s.add_int("platform.storage.vsic_cycles", 200, 0, 1'000'000, "cycles",
              "hardware VSIC core per command: arbitration, VSA table lookup, bounds and rights check, translation (estimate)");
    s.add_int("platform.storage.parallel", 4, 1, 1024, "", "commands the device serves at once (estimate)");
    s.add_int("platform.storage.max_outstanding", 64, 1, 65536, "", "commands fetched and not yet completed (estimate)");
    for (const kind_defaults& k : kinds) {
        const std::string p = std::string("platform.storage.") + k.kind;
        s.add_real(p + ".write_us", k.write_us, 0, 1e6, "us", std::string("write into the cache; ") + k.why);
        s.add_real(p + ".read_hit_us", k.read_hit_us, 0, 1e6, "us", "read served from the cache (estimate)");
        s.add_real(p + ".read_miss_us", k.read_miss_us, 0, 1e6, "us", "read that goes to the SSD (see write_us)");
        s.add_real(p + ".flush_us", k.flush_us, 0, 1e6, "us",
                   k.kind == std::string("raid")
                       ? "flush (SYNCHRONIZE CACHE): a command's round trip through the controller as long as a write's "
                         "(write_us), plus the flush the controller passes on to the SSD, short behind its capacitor-backed "
                         "cache; the flush time is not published: calibrated against Arrakis Table 2's linux_write fsync "
                         "(137.84 us; ext4's fdatasync waits for one flush, jbd2's commit preflush)"
                       : "flush: the cache is non-volatile, firmware work only (estimate)");
        s.add_real(p + ".per_block_ns", k.per_block_ns, 0, 1e6, "ns",
                   "moving one 512-byte block inside the device (~10 GB/s cache DRAM path, estimate)");
        s.add_real(p + ".service_cv", k.service_cv, 0, 10, "",
                   std::string("coefficient of variation of a command's service time (gamma-distributed, mean as above); ") + k.cv_why);
    }
    s.add_choice("platform.storage.torn_writes", "prefix", {"prefix", "any"},
                 "blocks of a write in service at power loss that survive: a prefix, in proportion to the service time passed, "
                 "or any subset with that chance each (seeded from experiment.seed; the harsher case for crash tests)");
    s.add_real("platform.storage.pcie.lane_gtps", 8.0, 0.1, 64, "GT/s",
               "the controller's link: PCIe 3.0 (MegaRAID RS3DC040 / SAS3108: PCIe 3.0 x8, product brief); the rest of platform.pcie.* is shared");
    s.add_int("platform.storage.pcie.lanes", 8, 1, 32, "", "the controller's link width (x8)");
    s.add_real("platform.storage.pcie.encoding", 128.0 / 130.0, 0.1, 1.0, "", "line code efficiency: 128b/130b for Gen3");
    s.add_bool("os.vsic.bounce", false,
               "emulated VSICs copy data through the VSIC core's own buffers (the controller never reaches applications' memory) "
               "instead of letting the controller DMA to applications' buffers");
    s.add_int("os.vsic.bounce_slot_kb", 64, 1, 1024, "KiB", "bounce buffer per command in flight (larger commands are refused)");
    s.add_int("os.vsic.emulator_entries", 64, 2, storage::max_queue_entries, "",
              "entries of the emulating core's queue pair on the controller (its commands in flight)");
    s.add_int("os.blk.queue_entries", 64, 2, storage::max_queue_entries, "", "entries of each block queue's rings");
    s.add_bool("os.blk.write_cache", true,
               "the Linux-like kernel sees the device's write cache as volatile (the disk reports WCE): flush requests "
               "(jbd2's commit, O_DSYNC) reach the device; false: Linux 3.8 ends them at submission "
               "(generic_make_request_checks). Checked against Table 2's linux_write fsync (137.84 us: data, journal, "
               "preflush and commit, each a device round trip, plus the file system's work; without the flush it would be ~25 us shorter)");
}

vsic_mode storage_testbed::mode_of(const cfg::config& c)
{
    return c.get_string("platform.storage.vsic_mode") == "hardware" ? vsic_mode::hardware : vsic_mode::emulated;
}

storage::ctrl_params storage_testbed::controller_params(const cfg::config& c)
{
    storage::ctrl_params p;
    p.capacity_blocks = static_cast<uint64_t>(c.get_int("platform.storage.capacity_gb")) * 1000 * 1000 * 1000 / storage::block_bytes;
    p.cache_blocks = static_cast<uint64_t>(c.get_int("platform.storage.cache_mb")) * (1 << 20) / storage::block_bytes;
    p.num_vsics = mode_of(c) == vsic_mode::hardware ? static_cast<unsigned>(c.get_int("platform.storage.num_vsics")) : 0;
    p.cycle = sc_time(c.get_real("platform.storage.cycle_ns"), SC_NS);
    p.command_cycles = static_cast<unsigned>(c.get_int("platform.storage.command_cycles"));
    p.vsic_cycles = static_cast<unsigned>(c.get_int("platform.storage.vsic_cycles"));
    p.parallel = static_cast<unsigned>(c.get_int("platform.storage.parallel"));
    p.max_outstanding = static_cast<unsigned>(c.get_int("platform.storage.max_outstanding"));
    const std::string k = "platform.storage." + c.get_string("platform.storage.device");
    p.timing.write = us(c.get_real(k + ".write_us"));
    p.timing.read_hit = us(c.get_real(k + ".read_hit_us"));
    p.timing.read_miss = us(c.get_real(k + ".read_miss_us"));
    p.timing.flush = us(c.get_real(k + ".flush_us"));
    p.timing.per_block = sc_time(c.get_real(k + ".per_block_ns"), SC_NS);
    p.timing.cv = c.get_real(k + ".service_cv");
    p.service_seed = derive_seed(static_cast<uint64_t>(c.get_int("experiment.seed")), "storage/service");
    p.torn_any_blocks = c.get_string("platform.storage.torn_writes") == "any";
    p.torn_seed = derive_seed(static_cast<uint64_t>(c.get_int("experiment.seed")), "storage/torn");
    return p;
}

storage_testbed::storage_testbed(const cfg::config& c, unsigned cores)
    : m_cfg(c), m_costs(os::cost_model::from(c)), m_mode(mode_of(c))
{
    const uint64_t dram_bytes = static_cast<uint64_t>(c.get_int("platform.server.dram_mb")) << 20;
    m_mem = std::make_unique<models::dram>("storage_host_dram", dram_params_of(c, dram_bytes));
    m_rc = std::make_unique<models::root_complex>("storage_host_rc", dram_bytes);
    models::pcie_params pp = pcie_params_of(c);
    pp.lane_gtps = c.get_real("platform.storage.pcie.lane_gtps");
    pp.lanes = static_cast<unsigned>(c.get_int("platform.storage.pcie.lanes"));
    pp.encoding = c.get_real("platform.storage.pcie.encoding");
    m_link = std::make_unique<models::pcie_link>("storage_pcie", pp);
    m_mmu = std::make_unique<iommu::iommu>("storage_host_iommu", iommu_params_of(c, c.get_bool("platform.iommu.pass_through")));
    m_ctrl = std::make_unique<storage::storage_ctrl>("storage_ctrl", controller_params(c));
    m_pages = std::make_unique<os::kernel::phys_alloc>(kernel_reserved, dram_bytes);
    const sc_time quantum(c.get_real("experiment.quantum_ns"), SC_NS);
    for (unsigned i = 0; i < cores; ++i) {
        m_accts.push_back(std::make_unique<os::accounting>());
        m_cores.push_back(std::make_unique<os::cpu_core>(("storage_host_core" + std::to_string(i)).c_str(), i, m_costs,
                                                         *m_mem, *m_accts.back(), quantum));
        m_cores.back()->bus.bind(m_rc->cpu_target);
        m_rc->attach_core(i, *m_cores.back());
    }
    // Cores -> root complex -> {storage link, IOMMU registers}; controller -> link -> IOMMU -> root complex -> DRAM.
    m_rc->mmio_init.bind(m_link->down_target);
    m_rc->mmio_init.bind(m_mmu->reg_target);
    m_rc->map_mmio(models::storage_pf_bar0, models::storage_mmio_end - models::storage_pf_bar0, 0, "storage");
    m_rc->map_mmio(models::iommu_reg_base, models::iommu_reg_size, 1, "iommu");
    m_link->down_init.bind(m_ctrl->bar);
    m_ctrl->dma.bind(m_link->up_target);
    m_link->up_init.bind(m_mmu->dma_in);
    m_mmu->mem_out.bind(m_rc->dma_target);
    m_rc->mem_init.bind(m_mem->target);
}

storage_testbed::~storage_testbed() = default;

os::kernel::iommu_driver& storage_testbed::kernel_iommu()
{
    if (!m_iommu_drv)
        m_iommu_drv = std::make_unique<os::kernel::iommu_driver>(core(0), pages(), static_cast<unsigned>(m_cfg.get_int("platform.iommu.levels")));
    return *m_iommu_drv;
}

void storage_testbed::spawn(unsigned i, const std::string& name, std::function<void()> body)
{
    core(i).spawn(name, std::move(body));
}

bool storage_testbed::run()
{
    sc_report_handler::set_actions("/OSCI/SystemC", SC_INFO, SC_DO_NOTHING);
    sc_start(sc_time(m_cfg.get_real("experiment.max_sim_ms"), SC_MS));
    return m_stopped;
}

void storage_testbed::stop()
{
    m_stopped = true;
    sc_stop();
}

double storage_testbed::simulated_us() const { return sc_time_stamp().to_seconds() * 1e6; }

} // namespace iovsim::sim
