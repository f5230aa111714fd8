#pragma once
// The software on the storage host (sim/storage_testbed), assembled for experiments and tests:
// - linux_storage: the Linux-like kernel's path: the controller's PF queue with interrupts, the
//   block layer, one file system with one file (os/linux), or instead the persistent log on the
//   raw device written with direct I/O (os/linux/direct_log);
// - arrakis_storage: the Arrakis control plane giving an application a VSIC and a VSA (and, for
//   emulated VSICs, the emulating core's software), the application's storage dataplane polling
//   its VSIC, and the persistent log on the VSA (os/dataplane/storage).
// Each boots from a task on core 0 (the emulated VSIC runs on core 1) of a storage_host: the
// storage-only host (sim/storage_testbed) or a host with a NIC too (sim/testbed's host).
#include <cstdint>
#include <memory>

#include "os/dataplane/storage.h"
#include "os/dev/blk_queue.h"
#include "os/kernel/iommu_driver.h"
#include "os/kernel/storage_cp.h"
#include "os/kernel/vsic_emulator.h"
#include "os/linux/block_layer.h"
#include "os/linux/direct_io.h"
#include "os/linux/direct_log.h"
#include "os/linux/fs.h"
#include "sim/config.h"
#include "sim/storage_testbed.h"

namespace iovsim::sim {

// Cores a storage host needs for `c`: one, and one more for an emulated VSIC.
unsigned storage_cores(const cfg::config& c);

// The file-system geometry for `kind` from os.linux.fs.*.
os::linux_path::fs_geometry fs_geometry_of(const cfg::config& c, os::linux_path::fs_kind kind);

struct linux_storage {
    os::kernel::iommu_driver* iommu = nullptr;   // the host's
    std::unique_ptr<os::kernel::vsic_setup> setup;
    std::unique_ptr<os::dev::blk_queue> queue;
    std::unique_ptr<os::linux_path::block_layer> block;
    std::unique_ptr<os::linux_path::file_system> fs;
    os::linux_path::fs_inode* file = nullptr;

    // The persistent log on a region of the raw device instead (Caladan on Linux): pwrite with
    // O_DIRECT|O_DSYNC from the log's image in the process's memory (no file system).
    std::unique_ptr<os::linux_path::direct_io> dio;
    std::unique_ptr<os::linux_path::direct_log> log;
    uint64_t log_base_lba = 0;   // where the log's region is on the device

    // On the running task of core 0: the controller on, its PF queue 0 with MSI-X to core 0, the
    // interrupt handler, and a file system of `kind` with one empty file.
    void boot(storage_host& tb, os::linux_path::fs_kind kind);
    // The same kernel with no file system: a log of `log_bytes` on the device past its first MiB,
    // its image in memory the kernel maps for the controller (the user pages direct I/O DMAs
    // from); the log not yet formatted.
    void boot_raw_log(storage_host& tb, uint64_t log_bytes);
    // The log's image: the region as the process holds it in memory.
    uint8_t* image() { return m_core->mem(m_image_pa, m_image_bytes); }
    // Where the image is, as the controller's DMA sees it (the kernel maps it 1:1 for the PF).
    uint64_t image_iova() const { return m_image_pa; }

private:
    void boot_queue(storage_host& tb, const os::linux_path::fs_geometry& g);

    os::cpu_core* m_core = nullptr;
    uint64_t m_image_pa = 0, m_image_bytes = 0;
};

struct arrakis_storage {
    os::kernel::iommu_driver* iommu = nullptr;   // the host's
    std::unique_ptr<os::kernel::storage_control_plane> cp;
    std::unique_ptr<os::kernel::vsic_emulator> emulator;
    os::kernel::vsic_grant grant;
    uint32_t vsa = 0;
    std::unique_ptr<os::dev::blk_queue> queue;
    std::unique_ptr<os::dataplane::storage_dataplane> dp;
    std::unique_ptr<os::dataplane::vsa_log> log;
    uint64_t vsa_base_lba = 0;   // where the VSA is on the device

    // On the running task of core 0: the control plane boots the controller, gives application 1 a
    // VSIC and a VSA of `vsa_bytes` named `name` (bound in the VFS at /vsa/<name>), maps it; the
    // dataplane's queue and the log (not yet formatted or opened) over it.
    void boot(storage_host& tb, const std::string& name, uint64_t vsa_bytes);
    // The application starts over: a new log instance over the same VSA and image (not opened yet).
    void restart_log();
    // The log's image: the VSA as the application holds it in memory.
    uint8_t* image() { return m_core->mem(m_image_pa, m_image_bytes); }

private:
    uint32_t m_nsid = 0;
    uint64_t m_image_pa = 0, m_image_bytes = 0;
    uint32_t m_mtu = 0;
    os::cpu_core* m_core = nullptr;
};

} // namespace iovsim::sim
