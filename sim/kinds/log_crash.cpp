#include "sim/kinds/log_crash.h"

#include <sys/wait.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "sim/child_pool.h"
#include "sim/log_crash.h"
#include "sim/storage_stacks.h"
#include "sim/storage_testbed.h"

namespace iovsim::sim {

namespace fs = std::filesystem;
using os::dataplane::persistent_log;

void declare_log_crash(cfg::schema& s)
{
    s.add_int("workload.crash.trials", 2000, 1, 10'000'000, "", "power-loss trials per column, each a fresh simulation");
    s.add_real("workload.crash.window_us", 400, 1, 1e9, "us",
               "the power fails at a uniformly random time this long after the log is formatted");
    s.add_int("workload.crash.in_flight", 4, 1, 1024, "", "appends the application keeps in flight");
    s.add_int("workload.crash.max_bytes", 2000, 1, 1 << 20, "B", "appends are 1 to this many bytes (uniform)");
    s.add_int("workload.crash.vsa_kb", 64, 4, 1 << 20, "KiB", "the log's VSA: small, so that trials wrap and truncate");
    s.add_real("workload.crash.in_place", 0, 0, 1, "",
               "share of appends built in place (reserve, half filled, left open across a wait, then finished and committed)");
}

nlohmann::json run_crash_trial(const cfg::config& c, const std::string& column, uint64_t trial)
{
    std::mt19937_64 rng(derive_seed(static_cast<uint64_t>(c.get_int("experiment.seed")),
                                    fmt::format("crash/{}/{}", column, trial)));
    const uint64_t vsa_bytes = static_cast<uint64_t>(c.get_int("workload.crash.vsa_kb")) * 1024;
    const unsigned depth = static_cast<unsigned>(c.get_int("workload.crash.in_flight"));
    const uint32_t max_bytes = static_cast<uint32_t>(c.get_int("workload.crash.max_bytes"));
    storage_testbed tb(c, storage_cores(c));
    arrakis_storage as;
    log_oracle oracle;
    const double in_place = c.get_real("workload.crash.in_place");
    uint64_t appends = 0, built_in_place = 0;
    bool open_at_power_loss = false;
    double crash_us = 0;
    // An entry built in place: reserved and half filled on one turn, finished and committed on the
    // next, so that a power loss or a restart can find it open. Only a committed entry may ever be
    // recovered.
    struct {
        bool open = false;
        uint64_t seq = 0;
        uint32_t len = 0, filled = 0;
        double since_us = 0;
    } building;
    const auto us_now = [&tb] { return tb.core(0).local_time().to_seconds() * 1e6; };
    // The entry open since `since_us` is closed (committed, or dropped by a restart) now.
    const auto closed = [&] { open_at_power_loss |= building.since_us <= crash_us && us_now() >= crash_us; };
    std::string failure;
    tb.spawn(0, "app", [&] {
        try {
            os::cpu_core& core = tb.core(0);
            as.boot(tb, "crash_log", vsa_bytes);
            as.log->format(rng());
            as.log->drain();
            // The power fails at a random time from here on; the device then stops answering.
            const double now_us = core.local_time().to_seconds() * 1e6;
            crash_us = now_us + std::uniform_real_distribution<double>(0, c.get_real("workload.crash.window_us"))(rng);
            tb.controller().power_fail_at(sc_core::sc_time(crash_us, sc_core::SC_US));
            std::vector<uint8_t> buf(max_bytes);
            const sc_core::sc_time give_up(crash_us + 50, sc_core::SC_US);
            // In half the trials the application restarts first (its writes drained): the new
            // instance reads the VSA through its VSIC, recovers, and appends in a new epoch.
            const bool restart = std::bernoulli_distribution(0.5)(rng);
            const sc_core::sc_time restart_at(now_us + std::uniform_real_distribution<double>(0, crash_us - now_us)(rng),
                                              sc_core::SC_US);
            bool restarted = false;
            while (core.local_time() < give_up) {
                if (restart && !restarted && core.local_time() >= restart_at) {
                    restarted = true;
                    if (building.open) {   // the instance's half-built entry dies with it
                        building.open = false;
                        closed();
                    }
                    as.log->drain();
                    oracle.acknowledged(as.log->log().epoch(), as.log->log().durable_seq());
                    as.restart_log();
                    if (!as.log->open())
                        throw std::runtime_error("the log does not open after a restart: " + as.log->log().error());
                    const std::string why = oracle.reopened(as.log->log());
                    if (!why.empty())
                        throw std::runtime_error(why);
                }
                persistent_log& log = as.log->log();
                oracle.acknowledged(log.epoch(), log.durable_seq());
                const uint64_t outstanding = log.next_seq() - 1 - log.durable_seq();
                if (building.open) {
                    building.open = false;
                    closed();
                    crash_payload(log.epoch(), building.seq, buf.data(), building.len);
                    log.fill(building.seq, buf.data() + building.filled, building.len - building.filled);
                    if (log.commit(building.seq) == persistent_log::append_status::ok) {
                        oracle.appended(log.epoch(), building.seq, building.len);
                        ++appends;
                        ++built_in_place;
                    }
                    continue;
                }
                if (outstanding < depth) {
                    const uint32_t len = std::uniform_int_distribution<uint32_t>(1, max_bytes)(rng);
                    crash_payload(log.epoch(), log.next_seq(), buf.data(), len);
                    uint64_t seq = 0;
                    const bool reserve = in_place > 0 && std::bernoulli_distribution(in_place)(rng);
                    const auto st = reserve ? log.reserve(len, seq) : log.append(buf.data(), len, seq);
                    if (st == persistent_log::append_status::ok && reserve) {
                        log.fill(seq, buf.data(), len / 2);
                        building = {true, seq, len, len / 2, us_now()};   // left open while the loop waits
                        if (log.idle())
                            continue;   // no write in flight to wait for: finish it at once
                    } else if (st == persistent_log::append_status::ok) {
                        oracle.appended(log.epoch(), seq, len);
                        ++appends;
                        continue;
                    }
                    if (st == persistent_log::append_status::full && log.durable_seq() > 2) {
                        const uint64_t upto = log.durable_seq() - 2;
                        log.truncate(upto);
                        oracle.truncated(upto);
                    }
                }
                // After the power loss nothing completes: the simulation ends when nothing is left
                // to happen (or at experiment.max_sim_ms).
                if (as.dp->poll() == 0)
                    as.dp->wait();
            }
            oracle.acknowledged(as.log->log().epoch(), as.log->log().durable_seq());
        } catch (const std::exception& e) {
            failure = e.what();
        }
        tb.stop();
    });
    tb.run();
    if (!failure.empty())
        throw std::runtime_error(failure);
    open_at_power_loss |= building.open && building.since_us <= crash_us;   // still open when the run ended
    // What the device kept of the VSA.
    std::vector<uint8_t> image(vsa_bytes);
    tb.controller().durable().read(as.vsa_base_lba, static_cast<uint32_t>(vsa_bytes / storage::block_bytes), image.data());
    const log_oracle::verdict v = oracle.check(image.data(), vsa_bytes);
    nlohmann::json j;
    j["ok"] = v.ok;
    j["why"] = v.why;
    j["acknowledged"] = v.acknowledged;
    j["entries"] = v.entries;
    j["appends"] = appends;
    j["built_in_place"] = built_in_place;
    j["open_at_power_loss"] = open_at_power_loss ? 1 : 0;
    j["torn_writes"] = tb.controller().stats().torn_writes;
    j["lost_completions"] = tb.controller().stats().lost_completions;
    j["crash_us"] = crash_us;
    return j;
}

nlohmann::json run_crash_trials(const cfg::config& experiment, const std::string& column, unsigned jobs)
{
    const cfg::config c = column_config(experiment, column);
    const uint64_t trials = static_cast<uint64_t>(c.get_int("workload.crash.trials"));
    nlohmann::json totals = {{"trials", 0},       {"failures", 0},          {"acknowledged", 0},
                             {"entries", 0},      {"appends", 0},           {"built_in_place", 0},
                             {"open_at_power_loss", 0}, {"torn_writes", 0}, {"lost_completions", 0},
                             {"failures_seen", nlohmann::json::array()}};
    auto finish = [&](size_t trial, int status, const std::string& answer) {
        totals["trials"] = totals["trials"].get<uint64_t>() + 1;
        nlohmann::json r = nlohmann::json::parse(answer, nullptr, false);
        const bool ran = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !r.is_discarded();
        if (!ran || !r.at("ok").get<bool>()) {
            totals["failures"] = totals["failures"].get<uint64_t>() + 1;
            if (totals["failures_seen"].size() < 10)
                totals["failures_seen"].push_back(fmt::format("trial {}: {}", trial, ran ? r.at("why").get<std::string>() : answer));
        }
        if (!ran)
            return;
        for (const char* k : {"acknowledged", "entries", "appends", "built_in_place", "open_at_power_loss", "torn_writes",
                              "lost_completions"})
            totals[k] = totals[k].get<uint64_t>() + r.at(k).get<uint64_t>();
    };
    run_in_children(
        trials, jobs, [&](size_t trial) { return run_crash_trial(c, column, trial).dump(); }, finish);
    return totals;
}

namespace {

nlohmann::json write_report(const cfg::config& c, const std::vector<column_output>& results, const std::string& out_dir)
{
    nlohmann::json summary;
    summary["experiment"] = c.get_string("experiment.name");
    summary["seed"] = c.get_int("experiment.seed");
    summary["columns"] = nlohmann::json::object();
    std::string md = "| column | trials | failures | acknowledged appends checked | entries recovered | torn writes | "
                     "built in place (trials with one open at the power loss) |\n"
                     "|---|---|---|---|---|---|---|\n";
    for (const column_output& r : results) {
        summary["columns"][r.column] = r.result;
        md += fmt::format("| {} | {} | {} | {} | {} | {} | {} ({}) |\n", r.column, r.result.at("trials").get<uint64_t>(),
                          r.result.at("failures").get<uint64_t>(), r.result.at("acknowledged").get<uint64_t>(),
                          r.result.at("entries").get<uint64_t>(), r.result.at("torn_writes").get<uint64_t>(),
                          r.result.at("built_in_place").get<uint64_t>(), r.result.at("open_at_power_loss").get<uint64_t>());
        for (const auto& f : r.result.at("failures_seen"))
            md += "\n- " + r.column + ": " + f.get<std::string>();
    }
    summary["config"] = c.to_json();
    const fs::path out(out_dir);
    std::ofstream(out / "summary.json") << summary.dump(2) << "\n";
    std::ofstream(out / "table.md") << md;
    return summary;
}

} // namespace

experiment_kind log_crash_kind()
{
    experiment_kind k;
    k.name = "log_crash";
    k.paths = {"arrakis"};
    k.run = [](const cfg::config& c, const std::string& column, const column_context&) {
        return run_crash_trials(c, column, 1);
    };
    k.report = write_report;
    return k;
}

} // namespace iovsim::sim
