#pragma once
// Sweeps: an experiment runs each of its columns at several values of any parameters. A sweep point
// is (column, one value of each swept parameter); each point is a simulation of its own, with a seed
// derived from the root seed and the point's identity (so adding points leaves the others' seeds,
// configs and cached results alone).
//
// In an experiment file:
//   experiment:
//     sweep:
//       mode: product            # every combination of the parameters' values; zip: i-th with i-th
//       params:
//         workload.echo.processing_us: [0, 1, 2, 4]      # a list of values
//         columns.linux.outstanding: {from: 1, to: 64, factor: 2}   # 1, 2, 4, ... 64
//         os.linux.itr_us: {from: 0, to: 10, step: 2.5}  # 0, 2.5, 5, 7.5, 10
// Each value is checked as the parameter's own (type, range) before anything runs; errors name the
// file, the line of the swept key and the value at fault. A column's own overrides
// (columns.<name>.set) win over swept values: a column may pin what the others sweep.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/config.h"

namespace iovsim::sim {

// experiment.sweep.mode and experiment.sweep.params.
void declare_sweep(cfg::schema& s);

struct sweep_axis {
    std::string key;                   // the swept parameter
    std::vector<std::string> values;   // as --set takes them, in order
};

struct sweep_spec {
    bool zip = false;                  // false: cartesian product, first axis outermost
    std::vector<sweep_axis> axes;      // empty: no sweep
};

// The values of a list or a range, one line of flow YAML as the config holds it ("[0, 1]",
// "{from: 1, to: 8, factor: 2}", or a single scalar). Throws std::invalid_argument with a one-line
// reason when the text is none of these forms, or a range is empty, endless or too long.
std::vector<std::string> sweep_values(const std::string& flow_yaml);

// experiment.sweep of a loaded config, every value checked against its parameter. Throws
// cfg::config_error at the swept key's file and line.
sweep_spec parse_sweep(const cfg::config& c);

struct sweep_point {
    std::string column;
    // Swept parameter -> its value in canonical form (as effective-config.yaml writes it), in the
    // sweep's axis order.
    std::vector<std::pair<std::string, std::string>> values;
    std::string id;      // unique among the points; also the name of the point's directory
    uint64_t seed = 0;   // experiment.seed of the point's config
};

// All points, columns outermost (in the experiment's order), then the sweep's combinations.
// Without a sweep: one point per column, with the root seed (so a plain run is unchanged).
// Throws cfg::config_error as parse_sweep does.
std::vector<sweep_point> expand_sweep(const cfg::config& c);

// The config one point runs with: the experiment's with the swept values, this column alone in
// experiment.columns, no sweep, and the point's seed. Throws cfg::config_error.
cfg::config point_config(const cfg::config& c, const sweep_point& p);

// The point's config as the cache compares it: point_config without other columns' settings.
std::string point_identity(const cfg::config& point_cfg, const std::string& column);

} // namespace iovsim::sim
