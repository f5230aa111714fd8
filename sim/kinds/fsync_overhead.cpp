#include "sim/kinds/fsync_overhead.h"

#include "sim/kinds/breakdown.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "sim/storage_stacks.h"
#include "sim/storage_testbed.h"

namespace iovsim::sim {

namespace fs = std::filesystem;
using os::category;

namespace {

const std::vector<std::string> row_order = {"write", "fsync"};

double ns_between(const sc_core::sc_time& a, const sc_core::sc_time& b) { return (b - a).to_seconds() * 1e9; }

struct fsync_setup {
    std::string column;
    std::string path;
    os::linux_path::fs_kind fs = os::linux_path::fs_kind::ext2;
    uint32_t bytes = 64;
    uint64_t iterations = 0, warmup = 0;
};

fsync_setup setup_of(const cfg::config& c, const std::string& column)
{
    fsync_setup s;
    s.column = column;
    s.path = c.get_string("columns." + column + ".path");
    s.fs = os::linux_path::parse_fs_kind(c.get_string("workload.fsync.fs"));
    s.bytes = static_cast<uint32_t>(c.get_int("workload.fsync.bytes"));
    s.iterations = static_cast<uint64_t>(c.get_int("workload.fsync.iterations"));
    s.warmup = static_cast<uint64_t>(c.get_int("workload.fsync.warmup"));
    return s;
}

void add_sample(column_result& r, double write_ns, double fsync_ns)
{
    r.rows_ns["write"].add(write_ns);
    r.rows_ns["fsync"].add(fsync_ns);
    r.total_ns.add(write_ns + fsync_ns);
}

// The Linux-like path: write(fd, buf, n) then fsync(fd), appending to one file.
void linux_iterations(storage_testbed& tb, const fsync_setup& s, column_result& r)
{
    linux_storage ls;
    ls.boot(tb, s.fs);
    os::cpu_core& core = tb.core(0);
    uint64_t offset = 0;
    for (uint64_t i = 0; i < s.warmup + s.iterations; ++i) {
        const os::request_id id = core.open_request();
        const sc_core::sc_time t0 = core.local_time();
        ls.block->sys_write(*ls.fs, *ls.file, offset, s.bytes);
        const sc_core::sc_time t1 = core.local_time();
        ls.block->sys_fsync(*ls.fs, *ls.file);
        const sc_core::sc_time t2 = core.local_time();
        tb.accounting(0).close(id);
        offset += s.bytes;
        if (i >= s.warmup)
            add_sample(r, ns_between(t0, t1), ns_between(t1, t2));
    }
    if (ls.block->stats().errors != 0)
        throw std::runtime_error(fmt::format("column {}: {} block requests failed", s.column, ls.block->stats().errors));
}

// Arrakis: an append to the persistent log on the application's VSA, then waiting until it is durable.
void arrakis_iterations(storage_testbed& tb, const fsync_setup& s, column_result& r)
{
    const cfg::config& c = tb.config();
    arrakis_storage as;
    as.boot(tb, "fsync_log", static_cast<uint64_t>(c.get_int("os.storage.log_vsa_kb")) * 1024);
    os::cpu_core& core = tb.core(0);
    as.log->format(derive_seed(static_cast<uint64_t>(c.get_int("experiment.seed")), "log_id/" + s.column));
    as.log->drain();
    std::vector<uint8_t> payload(s.bytes, 0xA5);
    for (uint64_t i = 0; i < s.warmup + s.iterations; ++i) {
        const os::request_id id = core.open_request();
        const sc_core::sc_time t0 = core.local_time();
        uint64_t seq = 0;
        auto st = as.log->append(payload.data(), s.bytes, seq);
        if (st == os::dataplane::persistent_log::append_status::full) {
            // A full log: the application keeps the newest entry and truncates the rest.
            as.log->log().truncate(as.log->log().durable_seq());
            st = as.log->append(payload.data(), s.bytes, seq);
        }
        if (st != os::dataplane::persistent_log::append_status::ok)
            throw std::runtime_error(fmt::format("column {}: log append failed ({})", s.column, as.log->log().error()));
        const sc_core::sc_time t1 = core.local_time();
        if (!as.log->wait_durable(seq))
            throw std::runtime_error(fmt::format("column {}: log write failed: {}", s.column, as.log->log().error()));
        const sc_core::sc_time t2 = core.local_time();
        tb.accounting(0).close(id);
        if (i >= s.warmup)
            add_sample(r, ns_between(t0, t1), ns_between(t1, t2));
    }
    if (as.emulator)
        as.emulator->stop();
}

nlohmann::json write_report(const cfg::config& c, const std::vector<column_output>& results, const std::string& out_dir)
{
    return write_breakdown(c, fsync_breakdown_of(c, results), out_dir, fsync_tolerance());
}

} // namespace

tolerance fsync_tolerance()
{
    tolerance t;
    t.cell_rel = 0.15;     // the figure's bars, read off the plot: within 15% each
    t.cell_abs_us = 0.0;
    t.total_rel = 0.15;
    return t;
}

void declare_fsync_overhead(cfg::schema& s)
{
    s.add_int("workload.fsync.iterations", 10000, 1, 100'000'000, "", "write+fsync iterations measured per column (Arrakis Fig. 2: 10,000)");
    s.add_int("workload.fsync.warmup", 20, 0, 100'000'000, "", "iterations before measuring (first allocations, cold paths)");
    s.add_choice("workload.fsync.fs", "ext2", {"ext2", "ext3", "ext4", "btrfs"}, "the file system a linux column writes through");
    s.add_int("workload.fsync.bytes", 64, 1, 1 << 20, "B", "bytes per write() or log append (Fig. 2: 64 B and 1 KB)");
    s.add_int("os.linux.fs.block_bytes", 1024, 1024, 4096, "B",
              "ext2/3/4 block size: mke2fs's 'small' type for a device under 512 MiB, as a RAM disk is (mke2fs.conf(5))");
    s.add_int("os.linux.fs.size_mb", 256, 8, 1 << 20, "MiB", "file-system size (a RAM disk of that size, assumption)");
    s.add_int("os.linux.fs.inode_table_blocks", 256, 1, 1 << 20, "", "inode-table blocks per group ('small': 128-byte inodes, 2048 per group)");
    s.add_int("os.linux.fs.journal_kb", 4096, 64, 1 << 22, "KiB", "ext3/ext4 journal size (mke2fs: 4 MiB for a small file system)");
    s.add_int("os.linux.fs.btrfs_tree_depth", 2, 1, 8, "", "btrfs log tree levels from the root to a leaf for one file (assumption)");
    s.add_int("os.linux.fs.btrfs_leaf_items", 100, 2, 10000, "", "items a 4 KiB btrfs leaf holds before it splits (~40-byte items, assumption)");
    s.add_bool("os.linux.blk_poll", false,
               "the block layer completes requests by polling in the submitter's context (a RAM disk, brd: bios complete "
               "inside submit_bio) instead of sleeping until the interrupt");
    s.add_int("os.storage.log_vsa_kb", 32768, 4, 1 << 22, "KiB", "the persistent log's VSA (and its image in the application's memory)");
    s.add_int("os.storage.log_mtu_kb", 64, 1, 1024, "KiB", "the largest transfer the log issues (the device takes 1 MiB, MDTS)");
}

column_result run_fsync_column(const cfg::config& experiment, const std::string& column)
{
    const cfg::config c = column_config(experiment, column);
    const fsync_setup s = setup_of(c, column);
    storage_testbed tb(c, storage_cores(c));
    column_result r;
    r.key = column;
    std::string failure;
    tb.spawn(0, "app", [&] {
        try {
            if (s.path == "linux")
                linux_iterations(tb, s, r);
            else
                arrakis_iterations(tb, s, r);
        } catch (const std::exception& e) {
            failure = e.what();
        }
        tb.stop();
    });
    if (!tb.run())
        throw std::runtime_error(fmt::format("column {}: not done within {} ms of simulated time ({} iterations measured)",
                                             column, c.get_real("experiment.max_sim_ms"), r.total_ns.count()));
    if (!failure.empty())
        throw std::runtime_error(failure);
    return r;
}

breakdown_report fsync_breakdown_of(const cfg::config& experiment, const std::vector<column_output>& results)
{
    return breakdown_of_columns(experiment, results, row_order);
}

experiment_kind fsync_overhead_kind()
{
    experiment_kind k;
    k.name = "fsync_overhead";
    k.paths = {"linux", "arrakis"};
    k.run = [](const cfg::config& c, const std::string& column, const column_context&) {
        return column_to_json(run_fsync_column(c, column));
    };
    k.report = write_report;
    return k;
}

} // namespace iovsim::sim
