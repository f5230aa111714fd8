#pragma once
// A server host for storage experiments: DRAM, a root complex, an IOMMU, the storage controller
// (models/storage) behind its PCIe link, with hardware VSIC functions or none (emulated VSICs are
// software on one of the cores), and N cores with the cost model and an accounting each. Configured
// from the platform file (platform.storage.*, and the shared platform.dram/pcie/iommu keys). Tests
// and experiment kinds run their software as tasks on its cores.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/iommu/iommu.h"
#include "models/platform/dram.h"
#include "models/platform/pcie_link.h"
#include "models/platform/root_complex.h"
#include "models/storage/storage_ctrl.h"
#include "os/core/cpu_core.h"
#include "os/kernel/iommu_driver.h"
#include "os/kernel/phys_alloc.h"
#include "sim/config.h"

namespace iovsim::sim {

enum class vsic_mode { hardware, emulated };

// What the storage software (sim/storage_stacks) needs of a host with the storage controller: its
// cores, memory allocator, the controller, how VSICs are provided, and the kernel's one IOMMU driver
// (a host with a NIC as well shares it with the NIC's control plane: one set of tables).
class storage_host {
public:
    virtual ~storage_host() = default;
    virtual const cfg::config& host_config() const = 0;
    virtual os::cpu_core& host_core(unsigned i) = 0;
    virtual os::kernel::phys_alloc& host_pages() = 0;
    virtual storage::storage_ctrl& storage_controller() = 0;
    virtual vsic_mode storage_mode() const = 0;
    // The kernel's IOMMU driver, created on core 0 at the first call (from a task of the host).
    virtual os::kernel::iommu_driver& kernel_iommu() = 0;
    // A task on core `i` (started when the simulation runs).
    virtual void spawn_on(unsigned i, const std::string& name, std::function<void()> body) = 0;
};

class storage_testbed : public storage_host {
public:
    // `cores`: simulated cores on the host (apic ids 0..cores-1).
    storage_testbed(const cfg::config& c, unsigned cores);
    ~storage_testbed() override;

    // Declares platform.storage.* and os.storage.* (one call in sim/params.cpp).
    static void declare(cfg::schema& s);
    // The controller's parameters for the configured device kind (platform.storage.device).
    static storage::ctrl_params controller_params(const cfg::config& c);
    static vsic_mode mode_of(const cfg::config& c);

    unsigned cores() const { return static_cast<unsigned>(m_cores.size()); }
    os::cpu_core& core(unsigned i) { return *m_cores.at(i); }
    os::accounting& accounting(unsigned i) { return *m_accts.at(i); }
    models::dram& memory() { return *m_mem; }
    storage::storage_ctrl& controller() { return *m_ctrl; }
    iommu::iommu& mmu() { return *m_mmu; }
    models::root_complex& root() { return *m_rc; }
    os::kernel::phys_alloc& pages() { return *m_pages; }
    const os::cost_model& costs() const { return m_costs; }
    vsic_mode mode() const { return m_mode; }
    const cfg::config& config() const { return m_cfg; }

    // A task on core `i` (started when the simulation runs).
    void spawn(unsigned i, const std::string& name, std::function<void()> body);

    // storage_host
    const cfg::config& host_config() const override { return m_cfg; }
    os::cpu_core& host_core(unsigned i) override { return core(i); }
    os::kernel::phys_alloc& host_pages() override { return pages(); }
    storage::storage_ctrl& storage_controller() override { return controller(); }
    vsic_mode storage_mode() const override { return m_mode; }
    os::kernel::iommu_driver& kernel_iommu() override;
    void spawn_on(unsigned i, const std::string& name, std::function<void()> body) override { spawn(i, name, std::move(body)); }
    // Runs until stop() or experiment.max_sim_ms of simulated time; true when stopped.
    bool run();
    void stop();
    double simulated_us() const;

private:
    const cfg::config& m_cfg;
    os::cost_model m_costs;
    vsic_mode m_mode;
    std::unique_ptr<models::dram> m_mem;
    std::unique_ptr<models::root_complex> m_rc;
    std::unique_ptr<models::pcie_link> m_link;
    std::unique_ptr<iommu::iommu> m_mmu;
    std::unique_ptr<storage::storage_ctrl> m_ctrl;
    std::vector<std::unique_ptr<os::accounting>> m_accts;
    std::vector<std::unique_ptr<os::cpu_core>> m_cores;
    std::unique_ptr<os::kernel::phys_alloc> m_pages;
    std::unique_ptr<os::kernel::iommu_driver> m_iommu_drv;
    bool m_stopped = false;
};

} // namespace iovsim::sim
