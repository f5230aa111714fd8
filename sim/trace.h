#pragma once
// Traces for debugging a model, off by default and switched on per run:
//   experiment.trace.timeline: a per-request timeline as Chrome trace-event JSON (Perfetto,
//     chrome://tracing): each core's work as slices named by category with the request they were
//     charged to, the NIC's receive (parse and DMA) and transmit (serialization) of each frame, each on
//     a lane of its host;
//   experiment.trace.vcd: a VCD of hardware signals (GTKWave), sampled every vcd_period_ns:
//     packet-buffer and descriptor occupancy, the transmit rate limiters' wait, interrupts taken,
//     frames, and IOTLB hits and misses.
// When off, a trace point costs one null-pointer check. The files go into the point's directory.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

namespace iovsim::cfg {
class schema;
class config;
}

namespace iovsim::trace {

class timeline {
public:
    explicit timeline(size_t max_events) : m_max_events(max_events) {}

    // A lane of `process` (a host); the same names give the same lane.
    unsigned lane(const std::string& process, const std::string& thread);
    // The lane of a module named "<host>_<part>" (e.g. server_core0), thread "<part><suffix>".
    unsigned module_lane(const std::string& module_name, const std::string& suffix = "");
    // Work on a lane from `begin` for `dur`; `request` 0 when none. A slice that continues the lane's
    // last one (same name and request, starting where it ended) extends it. `name` must outlive the
    // timeline (a string literal or a category name).
    void slice(unsigned lane, const char* name, const sc_core::sc_time& begin, const sc_core::sc_time& dur, uint64_t request = 0,
               uint64_t bytes = 0);
    size_t events() const { return m_events.size(); }
    bool truncated() const { return m_dropped > 0; }
    // {"traceEvents": [...], "displayTimeUnit": "ns", "otherData": {...}}; times in us (to the ps).
    void write(const std::string& path) const;

private:
    struct event {
        unsigned lane;
        const char* name;
        uint64_t begin_ps, dur_ps, request, bytes;
    };
    struct lane_info {
        unsigned pid, tid;
        std::string process, thread;
        long last = -1;   // index of its last event
    };
    size_t m_max_events;
    uint64_t m_dropped = 0;
    std::vector<event> m_events;
    std::vector<lane_info> m_lanes;
    std::vector<std::string> m_processes;
};

// Samples named values every period into variables traced by sc_trace.
class vcd_probes : public sc_core::sc_module {
public:
    SC_HAS_PROCESS(vcd_probes);
    vcd_probes(sc_core::sc_module_name name, const std::string& path_without_ext, const sc_core::sc_time& period);
    ~vcd_probes() override;
    // Before the simulation starts (sc_trace's rule). `width` in bits.
    void add(const std::string& name, unsigned width, std::function<uint64_t()> read);
    void close();

private:
    void sample();
    struct probe {
        std::function<uint64_t()> read;
        sc_dt::uint64 value = 0;
    };
    sc_core::sc_trace_file* m_file;
    std::string m_path;
    sc_core::sc_time m_period;
    std::vector<std::unique_ptr<probe>> m_probes;
};

// What this process traces; set by the runner from the point's config before the kind runs.
struct session {
    std::unique_ptr<timeline> events;   // when experiment.trace.timeline
    std::string vcd_path;               // point_dir/trace (".vcd" added), when experiment.trace.vcd
    sc_core::sc_time vcd_period;
    vcd_probes* vcd = nullptr;          // the model's probes, made by the testbed when vcd_path is set
};

// The trace points' one check: nullptr unless a timeline is recorded.
inline timeline* active_timeline = nullptr;

session& current();
// experiment.trace.*.
void declare(cfg::schema& s);
// Starts what `c` asks for, files in `dir`.
void begin(const cfg::config& c, const std::string& dir);
// Writes the timeline and closes the VCD.
void finish(const std::string& dir);

} // namespace iovsim::trace
