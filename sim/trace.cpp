#include "sim/trace.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/config.h"

namespace iovsim::trace {

namespace fs = std::filesystem;

unsigned timeline::lane(const std::string& process, const std::string& thread)
{
    for (unsigned i = 0; i < m_lanes.size(); ++i)
        if (m_lanes[i].process == process && m_lanes[i].thread == thread)
            return i;
    unsigned pid = 0;
    while (pid < m_processes.size() && m_processes[pid] != process)
        ++pid;
    if (pid == m_processes.size())
        m_processes.push_back(process);
    unsigned tid = 0;
    for (const lane_info& l : m_lanes)
        tid += l.pid == pid + 1;
    m_lanes.push_back({pid + 1, tid + 1, process, thread});
    return static_cast<unsigned>(m_lanes.size() - 1);
}

unsigned timeline::module_lane(const std::string& module_name, const std::string& suffix)
{
    const auto us = module_name.find('_');
    if (us == std::string::npos)
        return lane(module_name, module_name + suffix);
    return lane(module_name.substr(0, us), module_name.substr(us + 1) + suffix);
}

void timeline::slice(unsigned lane, const char* name, const sc_core::sc_time& begin, const sc_core::sc_time& dur, uint64_t request,
                     uint64_t bytes)
{
    const uint64_t b = begin.value(), d = dur.value();   // ps
    lane_info& l = m_lanes.at(lane);
    if (l.last >= 0) {
        event& e = m_events[static_cast<size_t>(l.last)];
        if (e.name == name && e.request == request && e.begin_ps + e.dur_ps == b && bytes == 0) {
            e.dur_ps += d;
            return;
        }
    }
    if (m_events.size() >= m_max_events) {
        ++m_dropped;
        return;
    }
    l.last = static_cast<long>(m_events.size());
    m_events.push_back({lane, name, b, d, request, bytes});
}

void timeline::write(const std::string& path) const
{
    // Written by hand, one event a line: large files stay streamable and diff well.
    std::ofstream f(path);
    f << "{\"displayTimeUnit\": \"ns\", \"otherData\": {\"events\": " << m_events.size() << ", \"dropped\": " << m_dropped
      << "},\n\"traceEvents\": [\n";
    bool first = true;
    auto sep = [&]() -> const char* {
        const char* s = first ? "" : ",\n";
        first = false;
        return s;
    };
    for (unsigned p = 0; p < m_processes.size(); ++p)
        f << sep() << fmt::format(R"({{"ph": "M", "name": "process_name", "pid": {}, "args": {{"name": {}}}}})", p + 1,
                                  nlohmann::json(m_processes[p]).dump());
    for (const lane_info& l : m_lanes)
        f << sep() << fmt::format(R"({{"ph": "M", "name": "thread_name", "pid": {}, "tid": {}, "args": {{"name": {}}}}})", l.pid,
                                  l.tid, nlohmann::json(l.thread).dump());
    for (const event& e : m_events) {
        const lane_info& l = m_lanes[e.lane];
        std::string args;
        if (e.request)
            args += fmt::format("\"request\": {}", e.request);
        if (e.bytes)
            args += fmt::format("{}\"bytes\": {}", args.empty() ? "" : ", ", e.bytes);
        f << sep()
          << fmt::format(R"({{"name": "{}", "ph": "X", "ts": {}.{:06}, "dur": {}.{:06}, "pid": {}, "tid": {}, "args": {{{}}}}})", e.name,
                         e.begin_ps / 1'000'000, e.begin_ps % 1'000'000, e.dur_ps / 1'000'000, e.dur_ps % 1'000'000, l.pid, l.tid,
                         args);
    }
    f << "\n]}\n";
}

vcd_probes::vcd_probes(sc_core::sc_module_name name, const std::string& path_without_ext, const sc_core::sc_time& period)
    : sc_module(name), m_file(sc_core::sc_create_vcd_trace_file(path_without_ext.c_str())), m_path(path_without_ext + ".vcd"),
      m_period(period)
{
    // Picoseconds, the kernel's resolution, so that every sample time is representable; SystemC's
    // note that it set the unit is not news.
    sc_core::sc_report_handler::set_actions("tracing timescale unit set", sc_core::SC_DO_NOTHING);
    m_file->set_time_unit(1, sc_core::SC_PS);
    SC_METHOD(sample);
}

vcd_probes::~vcd_probes() { close(); }

void vcd_probes::add(const std::string& name, unsigned width, std::function<uint64_t()> read)
{
    m_probes.push_back(std::make_unique<probe>());
    m_probes.back()->read = std::move(read);
    sc_core::sc_trace(m_file, m_probes.back()->value, name, static_cast<int>(width));
}

void vcd_probes::sample()
{
    for (auto& p : m_probes)
        p->value = p->read();
    next_trigger(m_period);
}

void vcd_probes::close()
{
    if (!m_file)
        return;
    sc_core::sc_close_vcd_trace_file(m_file);
    m_file = nullptr;
    // SystemC stamps the file with the wall-clock date; blank it (same length, in place) so that a
    // run's outputs stay byte-identical (DESIGN.md rule 6).
    std::fstream f(m_path, std::ios::in | std::ios::out | std::ios::binary);
    std::string head(256, '\0');
    f.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(f.gcount()));
    const size_t from = head.find("$date\n"), to = head.find("\n$end");
    if (from == std::string::npos || to == std::string::npos || to < from + 6)
        return;
    f.clear();
    f.seekp(static_cast<std::streamoff>(from + 6));
    f << std::string(to - from - 6, ' ');
}

session& current()
{
    static session s;
    return s;
}

void declare(cfg::schema& s)
{
    s.add_bool("experiment.trace.timeline", false,
               "write timeline.json per point: each request's stages on core and NIC lanes (Chrome trace events, Perfetto)");
    s.add_int("experiment.trace.max_events", 1'000'000, 1, 100'000'000, "", "timeline events kept (later ones are counted, not kept)");
    s.add_bool("experiment.trace.vcd", false,
               "write trace.vcd per point: queue occupancy, rate-limiter wait, interrupts, IOTLB hits (GTKWave)");
    s.add_real("experiment.trace.vcd_period_ns", 100, 1, 1e9, "ns", "sampling period of the VCD signals");
}

void begin(const cfg::config& c, const std::string& dir)
{
    session& s = current();
    if (c.get_bool("experiment.trace.timeline")) {
        s.events = std::make_unique<timeline>(static_cast<size_t>(c.get_int("experiment.trace.max_events")));
        active_timeline = s.events.get();
    }
    if (c.get_bool("experiment.trace.vcd")) {
        s.vcd_path = (fs::path(dir) / "trace").string();
        s.vcd_period = sc_core::sc_time(c.get_real("experiment.trace.vcd_period_ns"), sc_core::SC_NS);
    }
}

void finish(const std::string& dir)
{
    session& s = current();
    if (s.events)
        s.events->write((fs::path(dir) / "timeline.json").string());
    if (s.vcd)
        s.vcd->close();
}

} // namespace iovsim::trace
