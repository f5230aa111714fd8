#include "sim/kinds/vsic_overhead.h"

#include "sim/kinds/breakdown.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "models/platform/address_map.h"
#include "os/core/category.h"
#include "os/dev/blk_queue.h"
#include "os/kernel/iommu_driver.h"
#include "os/kernel/vsic_emulator.h"
#include "os/kernel/vsic_setup.h"
#include "sim/storage_testbed.h"

namespace iovsim::sim {

namespace fs = std::filesystem;
using os::category;

namespace {

const std::vector<std::string> row_order = {"app_driver", "vsic_core", "device"};
constexpr unsigned app_core = 0, vsic_core = 1;
constexpr uint16_t vsa_id = 1;
constexpr uint64_t vsa_base_lba = 1 << 20;   // where the kernel put the application's VSA

// What the VSIC core ran for one command (all of it is charged to `vsic`).
double vsic_work(const os::accounting::row& row) { return row[static_cast<unsigned>(category::vsic)]; }

// One column's software: the kernel sets up (and, emulated, starts the VSIC core); the application
// writes and waits, one write at a time.
class column_run {
public:
    column_run(const cfg::config& c, const std::string& path)
        : m_cfg(c), m_path(path), m_tb(c, 2),
          m_bytes(static_cast<uint32_t>(c.get_int("workload.blk_write.bytes"))),
          m_warmup(static_cast<uint64_t>(c.get_int("experiment.warmup"))),
          m_requests(static_cast<uint64_t>(c.get_int("experiment.requests")))
    {
        m_tb.spawn(app_core, "app", [this] { application(); });
    }

    column_result run(const std::string& column)
    {
        if (!m_tb.run() || !m_done)
            throw std::runtime_error(fmt::format("column {}: {} of {} writes completed within {} ms of simulated time", column,
                                                 m_latency_ns.size(), m_warmup + m_requests,
                                                 m_cfg.get_real("experiment.max_sim_ms")));
        column_result r;
        r.key = column;
        const os::accounting& vsic = m_tb.accounting(vsic_core);
        if (m_path == "emulated" && vsic.requests() != m_warmup + m_requests)
            throw std::runtime_error(fmt::format("column {}: the VSIC core served {} commands, not {}", column,
                                                 vsic.requests(), m_warmup + m_requests));
        for (uint64_t i = m_warmup; i < m_latency_ns.size(); ++i) {
            const double vsic_ns = m_path == "emulated" ? vsic_work(vsic.of(i + 1)) : 0.0;
            r.total_ns.add(m_latency_ns[i]);
            r.end_to_end_ns.add(m_latency_ns[i]);
            r.rows_ns["app_driver"].add(m_driver_ns[i]);
            r.rows_ns["vsic_core"].add(vsic_ns);
            r.rows_ns["device"].add(m_latency_ns[i] - m_driver_ns[i] - vsic_ns);
        }
        return r;
    }

private:
    void application()
    {
        os::cpu_core& core = m_tb.core(app_core);
        const bool emulated = m_path == "emulated";
        m_iommu = std::make_unique<os::kernel::iommu_driver>(core, m_tb.pages(), static_cast<unsigned>(m_cfg.get_int("platform.iommu.levels")));
        os::kernel::vsic_layout layout;
        layout.emulated = emulated;
        layout.bounce = m_cfg.get_bool("os.vsic.bounce");
        if (emulated)
            layout.emulated_base = m_tb.pages().alloc(os::kernel::vsic_layout::emulated_bytes);
        m_setup = std::make_unique<os::kernel::vsic_setup>(core, m_tb.pages(), *m_iommu, layout, storage::max_vsics);
        m_setup->boot(category::scheduler);
        const uint32_t entries = static_cast<uint32_t>(m_cfg.get_int("os.blk.queue_entries"));
        if (emulated)
            start_emulator();

        // The application's memory: its rings, then its write buffer.
        const uint64_t rings = uint64_t(entries) * (storage::sqe_bytes + storage::cqe_bytes);
        const uint64_t region_bytes = ((rings + 0xFFF) & ~0xFFFULL) + m_bytes;
        os::dev::blk_regs regs{&core, models::storage_pf_bar0, false};
        uint64_t region = 0;
        uint32_t nsid = storage::pf_nsid;
        uint64_t base_lba = vsa_base_lba;   // the direct path writes where the VSA would be
        const uint64_t span = uint64_t(m_warmup + m_requests) * (m_bytes / storage::block_bytes);
        if (m_path == "direct") {
            region = m_tb.pages().alloc(region_bytes);
            m_setup->map_for_pf(region, region_bytes);
        } else {
            const os::kernel::vsic_grant g = m_setup->create_vsic(category::scheduler, region_bytes);
            m_setup->map_vsa(category::scheduler, g.vsic, 0, vsa_id, vsa_base_lba, span, true, true);
            regs = g.regs;
            region = g.region_pa;
            nsid = vsa_id;
            base_lba = 0;
        }
        os::dev::blk_queue_params qp;
        qp.qid = 0;
        qp.entries = entries;
        qp.sq_pa = region;
        qp.cq_pa = region + uint64_t(entries) * storage::sqe_bytes;
        qp.wait = os::dev::blk_wait::poll;
        qp.completion_line = emulated ? os::dev::blk_line_source::remote_core : os::dev::blk_line_source::dram;
        os::dev::blk_queue q(regs, qp);
        q.init(category::scheduler);
        const uint64_t buf = region + ((rings + 0xFFF) & ~0xFFFULL);
        uint8_t* data = core.mem(buf, m_bytes);
        std::vector<os::dev::blk_completion> done;
        for (uint64_t i = 0; i < m_warmup + m_requests; ++i) {
            std::memset(data, static_cast<int>(i), m_bytes);   // the application's data (not measured)
            const os::request_id id = core.open_request();
            const sc_core::sc_time t0 = core.local_time();
            os::dev::blk_request r;
            r.op = os::dev::blk_op::write;
            r.nsid = nsid;
            r.lba = base_lba + i * (m_bytes / storage::block_bytes);
            r.blocks = m_bytes / storage::block_bytes;
            r.iova = buf;
            r.cid = static_cast<uint16_t>(i);
            if (!q.submit(category::block_io, r))
                throw std::runtime_error("block queue full with one write in flight");
            done.clear();
            while (done.empty()) {
                q.wait(category::poll);
                q.reap(category::block_io, done, 1);
            }
            if (done[0].status != 0 || done[0].cid != r.cid)
                throw std::runtime_error(fmt::format("write {} completed with status {:#x}", i, done[0].status));
            m_latency_ns.push_back((core.local_time() - t0).to_seconds() * 1e9);
            m_driver_ns.push_back(m_tb.accounting(app_core).of(id)[static_cast<unsigned>(category::block_io)]);
            core.acct().close(id);
        }
        m_done = true;
        if (m_emu)
            m_emu->stop();
        m_tb.stop();
    }

    void start_emulator()
    {
        const uint32_t bounce = static_cast<uint32_t>(m_cfg.get_int("os.vsic.bounce_slot_kb")) * 1024;
        m_emu = std::make_unique<os::kernel::vsic_emulator>(
            m_tb.core(vsic_core),
            m_setup->emulator_params(1, static_cast<uint32_t>(m_cfg.get_int("os.vsic.emulator_entries")), bounce));
        m_tb.spawn(vsic_core, "vsic_core", [this] { m_emu->run(); });
    }

    const cfg::config& m_cfg;
    std::string m_path;
    storage_testbed m_tb;
    uint32_t m_bytes;
    uint64_t m_warmup, m_requests;
    std::unique_ptr<os::kernel::iommu_driver> m_iommu;
    std::unique_ptr<os::kernel::vsic_setup> m_setup;
    std::unique_ptr<os::kernel::vsic_emulator> m_emu;
    std::vector<double> m_latency_ns, m_driver_ns;
    bool m_done = false;
};

nlohmann::json write_report(const cfg::config& c, const std::vector<column_output>& results, const std::string& out_dir)
{
    const breakdown_report report = vsic_overhead_breakdown(c, results);
    const std::vector<virtualization_cost> costs = virtualization_costs(c, results);
    nlohmann::json summary = to_summary_json(report, c.to_json());
    std::string table = to_markdown(report, nullptr, tolerance{});
    if (!costs.empty()) {
        table += "\nVirtualization cost per write (mean latency less the direct path's), us:\n\n"
                 "| column | per write | on the VSIC core | application's driver | rest |\n|---|---|---|---|---|\n";
        for (const virtualization_cost& v : costs) {
            auto round4 = [](double x) { return std::round(x * 1e4) / 1e4; };
            summary["virtualization_cost"][v.column] = {{"per_write", round4(v.per_write_us)},
                                                        {"vsic_core", round4(v.vsic_core_us)},
                                                        {"app_driver", round4(v.app_driver_us)},
                                                        {"rest", round4(v.rest_us)}};
            table += fmt::format("| {} | {:.2f} | {:.2f} | {:+.2f} | {:+.2f} |\n", v.column, v.per_write_us, v.vsic_core_us,
                                 v.app_driver_us, v.rest_us);
        }
        table += "\nPaper (emulated VSIC, 1 KB writes): about 3 us per write, 1 us of it virtualization code on the VSIC "
                 "core and 2 us cache overheads.\n";
    }
    std::ofstream(fs::path(out_dir) / "summary.json") << summary.dump(2) << "\n";
    std::ofstream(fs::path(out_dir) / "table.md") << table;
    return summary;
}

} // namespace

void declare_vsic_overhead(cfg::schema& s)
{
    s.add_int("workload.blk_write.bytes", 1024, storage::block_bytes, 1 << 20, "B",
              "bytes per write of the storage write workloads (whole 512-byte blocks)");
}

column_result run_vsic_overhead_column(const cfg::config& experiment, const std::string& column)
{
    cfg::config c = column_config(experiment, column);
    const std::string path = c.get_string("columns." + column + ".path");
    if (path != "direct")
        c.apply_override(std::string("platform.storage.vsic_mode=") + (path == "hardware" ? "hardware" : "emulated"));
    column_run run(c, path);
    return run.run(column);
}

breakdown_report vsic_overhead_breakdown(const cfg::config& experiment, const std::vector<column_output>& results)
{
    return breakdown_of_columns(experiment, results, row_order);
}

std::vector<virtualization_cost> virtualization_costs(const cfg::config& experiment, const std::vector<column_output>& results)
{
    auto path_of = [&experiment](const column_output& r) { return experiment.get_string("columns." + r.column + ".path"); };
    auto mean_us = [](const column_result& r, const char* row) {
        const auto it = r.rows_ns.find(row);
        return it == r.rows_ns.end() ? 0.0 : it->second.mean() / 1000.0;
    };
    std::vector<virtualization_cost> out;
    for (const column_output& r : results) {
        if (path_of(r) == "direct")
            continue;
        const auto d = std::find_if(results.begin(), results.end(),
                                    [&](const column_output& x) { return path_of(x) == "direct" && x.swept == r.swept; });
        if (d == results.end())
            continue;
        const column_result col = column_from_json(r.result), direct = column_from_json(d->result);
        virtualization_cost v;
        v.column = r.swept.empty() ? r.column : r.point_id;
        v.per_write_us = (col.total_ns.mean() - direct.total_ns.mean()) / 1000.0;
        v.vsic_core_us = mean_us(col, "vsic_core");
        v.app_driver_us = mean_us(col, "app_driver") - mean_us(direct, "app_driver");
        v.rest_us = v.per_write_us - v.vsic_core_us - v.app_driver_us;
        out.push_back(v);
    }
    return out;
}

experiment_kind vsic_overhead_kind()
{
    experiment_kind k;
    k.name = "vsic_overhead";
    k.paths = {"direct", "emulated", "hardware"};
    k.check = [](const cfg::config& c, const std::string&) {
        if (c.get_int("workload.blk_write.bytes") % storage::block_bytes != 0)
            throw error_at(c, "workload.blk_write.bytes",
                           std::to_string(c.get_int("workload.blk_write.bytes")) + " is not a whole number of 512-byte blocks");
    };
    k.run = [](const cfg::config& c, const std::string& column, const column_context&) {
        return column_to_json(run_vsic_overhead_column(c, column));
    };
    k.report = write_report;
    return k;
}

} // namespace iovsim::sim
