#include "sim/storage_stacks.h"

#include <stdexcept>

#include "models/platform/address_map.h"
#include "models/storage/storage_regs.h"

namespace iovsim::sim {

using os::category;

namespace {

constexpr unsigned storage_irq_vector = 0x50;
constexpr uint64_t lba_bytes = storage::block_bytes;
constexpr uint64_t page_cache_bytes = 1 << 20;   // the window of page-cache pages writes DMA from
constexpr category boot_category = category::scheduler;   // set-up work: no row of any table

uint32_t queue_entries(const cfg::config& c) { return static_cast<uint32_t>(c.get_int("os.blk.queue_entries")); }

// The kernel's IOMMU driver and, for emulated VSICs, the register pages they live in.
os::kernel::vsic_layout layout_of(storage_host& tb)
{
    os::kernel::vsic_layout layout;
    layout.emulated = tb.storage_mode() == vsic_mode::emulated;
    if (layout.emulated)
        layout.emulated_base = tb.host_pages().alloc(os::kernel::vsic_layout::emulated_bytes);
    return layout;
}

} // namespace

unsigned storage_cores(const cfg::config& c) { return storage_testbed::mode_of(c) == vsic_mode::emulated ? 2 : 1; }

os::linux_path::fs_geometry fs_geometry_of(const cfg::config& c, os::linux_path::fs_kind kind)
{
    os::linux_path::fs_geometry g;
    // btrfs's sector is the page size whatever the device.
    g.block_bytes = kind == os::linux_path::fs_kind::btrfs ? 4096 : static_cast<uint32_t>(c.get_int("os.linux.fs.block_bytes"));
    g.blocks = static_cast<uint64_t>(c.get_int("os.linux.fs.size_mb")) * (1 << 20) / g.block_bytes;
    g.blocks_per_group = g.block_bytes * 8;
    g.inode_table_blocks = static_cast<uint32_t>(c.get_int("os.linux.fs.inode_table_blocks"));
    g.journal_blocks = static_cast<uint32_t>(c.get_int("os.linux.fs.journal_kb") * 1024 / g.block_bytes);
    g.btrfs_tree_depth = static_cast<uint32_t>(c.get_int("os.linux.fs.btrfs_tree_depth"));
    g.btrfs_leaf_items = static_cast<uint32_t>(c.get_int("os.linux.fs.btrfs_leaf_items"));
    return g;
}

void linux_storage::boot_queue(storage_host& tb, const os::linux_path::fs_geometry& g)
{
    os::cpu_core& core = tb.host_core(0);
    const cfg::config& c = tb.host_config();
    m_core = &core;
    iommu = &tb.kernel_iommu();
    setup = std::make_unique<os::kernel::vsic_setup>(core, tb.host_pages(), *iommu, layout_of(tb), 1);
    setup->boot(boot_category);
    const uint32_t entries = queue_entries(c);
    os::dev::blk_queue_params qp;
    qp.qid = 0;
    qp.entries = entries;
    qp.sq_pa = tb.host_pages().alloc(uint64_t(entries) * storage::sqe_bytes);
    qp.cq_pa = tb.host_pages().alloc(uint64_t(entries) * storage::cqe_bytes);
    const bool poll = c.get_bool("os.linux.blk_poll");
    qp.wait = poll ? os::dev::blk_wait::poll : os::dev::blk_wait::interrupt;
    qp.msix_entry = 0;
    qp.apic_id = core.apic_id();
    qp.irq_vector = storage_irq_vector;
    qp.completion_line = os::dev::blk_line_source::dram;
    qp.submit_cost = &core.costs().l_blk_submit;   // the block layer prices its driver with itself
    qp.reap_cost = &core.costs().l_blk_complete;
    setup->map_for_pf(qp.sq_pa, uint64_t(entries) * storage::sqe_bytes);
    setup->map_for_pf(qp.cq_pa, uint64_t(entries) * storage::cqe_bytes);
    const uint64_t pages = tb.host_pages().alloc(page_cache_bytes);
    setup->map_for_pf(pages, page_cache_bytes);
    queue = std::make_unique<os::dev::blk_queue>(os::dev::blk_regs{&core, models::storage_pf_bar0, false}, qp);
    os::linux_path::block_params bp;
    bp.nsid = storage::pf_nsid;
    bp.buffer_pa = pages;
    bp.buffer_bytes = page_cache_bytes;
    bp.poll = poll;
    bp.write_cache = tb.host_config().get_bool("os.blk.write_cache");
    block = std::make_unique<os::linux_path::block_layer>(core, *queue, g, bp);
    core.claim_vectors(storage_irq_vector, 1, [this](unsigned v) { block->irq(v); });
    queue->init(boot_category);
}

void linux_storage::boot(storage_host& tb, os::linux_path::fs_kind kind)
{
    const os::linux_path::fs_geometry g = fs_geometry_of(tb.host_config(), kind);
    boot_queue(tb, g);
    fs = os::linux_path::make_file_system(kind, g, os::linux_path::fs_costs::from(m_core->costs()));
    file = &fs->create();
}

void linux_storage::boot_raw_log(storage_host& tb, uint64_t log_bytes)
{
    const cfg::config& c = tb.host_config();
    boot_queue(tb, fs_geometry_of(c, os::linux_path::fs_kind::ext4));
    // The log's region: past the device's first MiB, as the Arrakis control plane places VSAs.
    log_base_lba = (1 << 20) / lba_bytes;
    if (log_bytes % lba_bytes != 0 || log_base_lba + log_bytes / lba_bytes > tb.storage_controller().params().capacity_blocks)
        throw std::invalid_argument("linux_storage: the log does not fit the device in whole sectors");
    // The image is the process's buffer the device reads: the kernel maps it for the controller
    // once, as it maps the block layer's page-cache window (the IOMMU translates every DMA).
    m_image_bytes = log_bytes;
    m_image_pa = tb.host_pages().alloc(log_bytes);
    setup->map_for_pf(m_image_pa, log_bytes);
    dio = std::make_unique<os::linux_path::direct_io>(
        *m_core, *block, os::linux_path::direct_io_params{log_base_lba, log_bytes / lba_bytes});
    log = std::make_unique<os::linux_path::direct_log>(*dio, image(), m_image_pa, m_image_bytes,
                                                       static_cast<uint32_t>(c.get_int("os.storage.log_mtu_kb") * 1024));
}

void arrakis_storage::boot(storage_host& tb, const std::string& name, uint64_t vsa_bytes)
{
    os::cpu_core& core = tb.host_core(0);
    const cfg::config& c = tb.host_config();
    iommu = &tb.kernel_iommu();
    const os::kernel::vsic_layout layout = layout_of(tb);
    // VSAs come from the device's blocks past the first MiB (the kernel's own).
    const uint64_t first = (1 << 20) / lba_bytes;
    cp = std::make_unique<os::kernel::storage_control_plane>(core, tb.host_pages(), *iommu, layout, 8, first,
                                                             tb.storage_controller().params().capacity_blocks - first);
    cp->boot();
    const uint32_t entries = queue_entries(c);
    if (layout.emulated) {
        os::kernel::vsic_emulator_params ep;
        ep.window_pa = layout.emulated_base;
        ep.max_vsics = 8;
        ep.pf_queue = 1;
        ep.entries = entries;
        ep.sq_pa = tb.host_pages().alloc(uint64_t(entries) * storage::sqe_bytes);
        ep.cq_pa = tb.host_pages().alloc(uint64_t(entries) * storage::cqe_bytes);
        cp->setup().map_for_pf(ep.sq_pa, uint64_t(entries) * storage::sqe_bytes);
        cp->setup().map_for_pf(ep.cq_pa, uint64_t(entries) * storage::cqe_bytes);
        emulator = std::make_unique<os::kernel::vsic_emulator>(tb.host_core(1), ep);
        tb.spawn_on(1, "vsic_core", [this] { emulator->run(); });
    }
    // The application's memory: its rings, then the log's image (the VSA as in memory).
    const uint64_t rings = uint64_t(entries) * (storage::sqe_bytes + storage::cqe_bytes);
    const uint64_t ring_area = (rings + 4095) & ~4095ULL;
    grant = cp->create_vsic(1, ring_area + vsa_bytes);
    vsa = cp->acquire_vsa(1, name, vsa_bytes);
    cp->bind_name(1, "/vsa/" + name, vsa);
    const uint32_t nsid = cp->map_vsa(1, vsa, grant.vsic, true);
    vsa_base_lba = cp->vsas().info(vsa).base_lba;
    os::dev::blk_queue_params qp;
    qp.qid = 0;
    qp.entries = entries;
    qp.sq_pa = grant.region_pa;
    qp.cq_pa = grant.region_pa + uint64_t(entries) * storage::sqe_bytes;
    qp.wait = os::dev::blk_wait::poll;
    qp.completion_line = grant.emulated ? os::dev::blk_line_source::remote_core : os::dev::blk_line_source::dram;
    queue = std::make_unique<os::dev::blk_queue>(grant.regs, qp);
    queue->init(boot_category);
    dp = std::make_unique<os::dataplane::storage_dataplane>(core, *queue);
    m_nsid = nsid;
    m_image_pa = grant.region_pa + ring_area;
    m_image_bytes = vsa_bytes;
    m_mtu = static_cast<uint32_t>(c.get_int("os.storage.log_mtu_kb") * 1024);
    m_core = &core;
    restart_log();
}

void arrakis_storage::restart_log()
{
    log.reset();
    log = std::make_unique<os::dataplane::vsa_log>(*dp, m_nsid, m_core->mem(m_image_pa, m_image_bytes), m_image_pa,
                                                   m_image_bytes, m_mtu);
}

} // namespace iovsim::sim
