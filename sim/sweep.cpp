#include "sim/sweep.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

#include "sim/experiment.h"

namespace iovsim::sim {

namespace {

constexpr size_t max_axis_values = 10'000;
constexpr size_t max_points = 100'000;

// Parameters a sweep may not touch: what makes the experiment what it is, and the sweep itself.
const std::set<std::string> unsweepable = {"experiment.kind",      "experiment.columns",   "experiment.name",
                                           "experiment.description", "experiment.reference", "experiment.seed",
                                           "experiment.sweep.mode", "experiment.sweep.params"};

double number(const YAML::Node& n, const std::string& what)
{
    if (!n || !n.IsScalar())
        throw std::invalid_argument(what + " must be a number");
    const std::string& t = n.Scalar();
    double v = 0;
    const auto res = std::from_chars(t.data(), t.data() + t.size(), v);
    if (res.ec != std::errc() || res.ptr != t.data() + t.size() || !std::isfinite(v))
        throw std::invalid_argument(what + " must be a number, got '" + t + "'");
    return v;
}

// Shortest text of a range value, after rounding off the error that repeated steps accumulate
// (0.1 * 3 is 0.30000000000000004): twelve significant digits are kept.
std::string range_value(double v)
{
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 12);
    double snapped = 0;
    std::from_chars(buf, res.ptr, snapped);
    if (snapped == 0)
        snapped = 0;   // no "-0"
    res = std::to_chars(buf, buf + sizeof buf, snapped);
    return std::string(buf, res.ptr);
}

std::vector<std::string> range_values(const YAML::Node& n)
{
    for (const auto& pair : n) {
        const std::string k = pair.first.Scalar();
        if (k != "from" && k != "to" && k != "step" && k != "factor")
            throw std::invalid_argument("a range has from, to and step or factor; '" + k + "' is none of these");
    }
    if (!n["from"] || !n["to"])
        throw std::invalid_argument("a range needs from and to");
    if (static_cast<bool>(n["step"]) == static_cast<bool>(n["factor"]))
        throw std::invalid_argument("a range needs either step or factor");
    const double from = number(n["from"], "from");
    const double to = number(n["to"], "to");
    if (to < from)
        throw std::invalid_argument("a range's to is below its from");
    std::vector<std::string> out;
    // A value within a millionth of a step of `to` still counts as reaching it.
    if (n["step"]) {
        const double step = number(n["step"], "step");
        if (!(step > 0))
            throw std::invalid_argument("step must be above 0");
        const double count = std::floor((to - from) / step + 1e-6) + 1;
        if (count > static_cast<double>(max_axis_values))
            throw std::invalid_argument("the range has more than " + std::to_string(max_axis_values) + " values");
        for (size_t i = 0; i < static_cast<size_t>(count); ++i)
            out.push_back(range_value(from + static_cast<double>(i) * step));
        return out;
    }
    const double factor = number(n["factor"], "factor");
    if (!(factor > 1))
        throw std::invalid_argument("factor must be above 1");
    if (!(from > 0))
        throw std::invalid_argument("a range by factor needs from above 0");
    double v = from;
    while (v <= to * (1 + 1e-9)) {
        if (out.size() == max_axis_values)
            throw std::invalid_argument("the range has more than " + std::to_string(max_axis_values) + " values");
        out.push_back(range_value(v));
        v *= factor;
    }
    return out;
}

// The file and line where an entry of experiment.sweep.params was written.
cfg::config_error entry_error(const cfg::config& c, const cfg::map_entry& e, const std::string& reason)
{
    const cfg::config_error at = error_at(c, "experiment.sweep.params", reason);
    return cfg::config_error(at.file(), e.line > 0 ? e.line : at.line(), "experiment.sweep.params." + e.key, reason);
}

std::string last_component(const std::string& key)
{
    const size_t dot = key.rfind('.');
    return dot == std::string::npos ? key : key.substr(dot + 1);
}

std::string file_safe(const std::string& s)
{
    std::string out;
    for (const char ch : s) {
        const bool ok = std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-' || ch == '+' ||
                        ch == '=' || ch == ',';
        out += ok ? ch : '_';
    }
    return out;
}

} // namespace

void declare_sweep(cfg::schema& s)
{
    s.add_choice("experiment.sweep.mode", "product", {"product", "zip"},
                 "how swept parameters combine: every combination, or the i-th values together");
    s.add_map("experiment.sweep.params", "swept parameter -> [values] or {from, to, step|factor}; see sim/sweep.h");
}

std::vector<std::string> sweep_values(const std::string& flow_yaml)
{
    YAML::Node n;
    try {
        n = YAML::Load(flow_yaml);
    } catch (const YAML::Exception& e) {
        throw std::invalid_argument("not a list or a range: " + e.msg);
    }
    if (n.IsScalar())
        return {n.Scalar()};
    if (n.IsMap())
        return range_values(n);
    if (!n.IsSequence())
        throw std::invalid_argument("expected a list of values or a range {from, to, step|factor}");
    std::vector<std::string> out;
    for (const auto& item : n) {
        if (!item.IsScalar())
            throw std::invalid_argument("each swept value must be a single value, not a list or a map");
        out.push_back(item.Scalar());
    }
    if (out.empty())
        throw std::invalid_argument("no value to sweep over");
    if (out.size() > max_axis_values)
        throw std::invalid_argument("more than " + std::to_string(max_axis_values) + " values");
    return out;
}

sweep_spec parse_sweep(const cfg::config& c)
{
    sweep_spec spec;
    spec.zip = c.get_string("experiment.sweep.mode") == "zip";
    for (const cfg::map_entry& e : c.get_map("experiment.sweep.params")) {
        if (e.key.rfind("columns.", 0) == 0) {
            const std::string col = e.key.substr(8, e.key.find('.', 8) - 8);
            const auto cols = c.get_string_list("experiment.columns");
            if (std::find(cols.begin(), cols.end(), col) == cols.end())
                throw entry_error(c, e, "'" + col + "' is not one of experiment.columns");
        }
        if (!c.get_schema().find(e.key))
            throw entry_error(c, e, "not a parameter (see 'iovsim params')");
        if (unsweepable.count(e.key) || e.key.rfind("experiment.sweep.", 0) == 0 || e.key.rfind("experiment.trace.", 0) == 0)
            throw entry_error(c, e, "defines the experiment itself and cannot be swept");
        if (e.key.rfind("columns.", 0) == 0 && e.key.size() > 4 && e.key.compare(e.key.size() - 4, 4, ".set") == 0)
            throw entry_error(c, e, "a column's overrides cannot be swept; sweep the parameters they set");
        sweep_axis axis{e.key, {}};
        try {
            axis.values = sweep_values(e.value);
        } catch (const std::invalid_argument& ex) {
            throw entry_error(c, e, ex.what());
        }
        // Each value must be one the parameter takes.
        for (const std::string& v : axis.values) {
            cfg::config probe = c;
            try {
                probe.apply_override(e.key + "=" + v);
            } catch (const cfg::config_error& ex) {
                throw entry_error(c, e, "value '" + v + "': " + ex.reason());
            }
        }
        spec.axes.push_back(std::move(axis));
    }
    if (spec.zip && !spec.axes.empty()) {
        for (const sweep_axis& a : spec.axes)
            if (a.values.size() != spec.axes.front().values.size())
                throw error_at(c, "experiment.sweep.mode",
                               "zip needs lists of one length: " + spec.axes.front().key + " has " +
                                   std::to_string(spec.axes.front().values.size()) + " values, " + a.key + " has " +
                                   std::to_string(a.values.size()));
    }
    return spec;
}

std::vector<sweep_point> expand_sweep(const cfg::config& c)
{
    const sweep_spec spec = parse_sweep(c);
    const auto columns = c.get_string_list("experiment.columns");
    const auto root = static_cast<uint64_t>(c.get_int("experiment.seed"));

    // The combinations, as indices into each axis.
    std::vector<std::vector<size_t>> combos;
    if (spec.axes.empty()) {
        combos.emplace_back();
    } else if (spec.zip) {
        for (size_t i = 0; i < spec.axes.front().values.size(); ++i)
            combos.emplace_back(spec.axes.size(), i);
    } else {
        size_t total = 1;
        for (const sweep_axis& a : spec.axes) {
            total *= a.values.size();
            if (total * columns.size() > max_points)
                throw error_at(c, "experiment.sweep.params", "more than " + std::to_string(max_points) + " points");
        }
        for (size_t n = 0; n < total; ++n) {
            std::vector<size_t> idx(spec.axes.size());
            size_t rest = n;
            for (size_t a = spec.axes.size(); a-- > 0;) {
                idx[a] = rest % spec.axes[a].values.size();
                rest /= spec.axes[a].values.size();
            }
            combos.push_back(std::move(idx));
        }
    }
    if (combos.size() * columns.size() > max_points)
        throw error_at(c, "experiment.sweep.params", "more than " + std::to_string(max_points) + " points");

    // A point's directory names each swept parameter by its last component, unless two share it.
    std::map<std::string, int> last_count;
    for (const sweep_axis& a : spec.axes)
        ++last_count[last_component(a.key)];

    std::vector<sweep_point> points;
    std::set<std::string> ids;
    for (const std::string& col : columns) {
        for (const auto& idx : combos) {
            sweep_point p;
            p.column = col;
            cfg::config probe = c;
            for (size_t a = 0; a < spec.axes.size(); ++a)
                probe.apply_override(spec.axes[a].key + "=" + spec.axes[a].values[idx[a]]);
            std::string id = col;
            for (size_t a = 0; a < spec.axes.size(); ++a) {
                const std::string& key = spec.axes[a].key;
                p.values.emplace_back(key, probe.value_text(key));
                id += "," + (last_count[last_component(key)] > 1 ? key : last_component(key)) + "=" + p.values.back().second;
            }
            p.id = file_safe(id);
            for (int n = 2; ids.count(p.id); ++n)
                p.id = file_safe(id) + "~" + std::to_string(n);
            ids.insert(p.id);
            if (spec.axes.empty()) {
                p.seed = root;
            } else {
                // The identity: the column and the values, in key order (the sweep's order does not matter).
                auto sorted = p.values;
                std::sort(sorted.begin(), sorted.end());
                std::string identity = "point/" + col;
                for (const auto& [k, v] : sorted)
                    identity += "/" + k + "=" + v;
                p.seed = derive_seed(root, identity) >> 1;   // experiment.seed is a non-negative int64
            }
            points.push_back(std::move(p));
        }
    }
    return points;
}

cfg::config point_config(const cfg::config& c, const sweep_point& p)
{
    cfg::config own = c;
    for (const auto& [key, value] : p.values)
        own.apply_override(key + "=" + value);
    own.apply_override("experiment.columns=[" + p.column + "]");
    own.apply_override("experiment.sweep.params={}");
    own.apply_override("experiment.sweep.mode=product");
    own.apply_override("experiment.seed=" + std::to_string(p.seed));
    return own;
}

std::string point_identity(const cfg::config& point_cfg, const std::string& column)
{
    nlohmann::json j = point_cfg.to_json();
    if (j.contains("columns")) {
        nlohmann::json& cols = j["columns"];
        for (auto it = cols.begin(); it != cols.end();)
            it = it.key() == column ? std::next(it) : cols.erase(it);
    }
    return j.dump();
}

} // namespace iovsim::sim
