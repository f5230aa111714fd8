#include "sim/report.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace iovsim::sim {

namespace {

using nlohmann::json;

// Reference values are decimal and not exact in binary: 1.10 against 1.00 at 10% must pass.
constexpr double compare_slack = 1e-9;
// A measured row below this mean (us) that the paper does not list is noise, not a finding.
constexpr double measured_row_floor_us = 0.005;

double us(double ns) { return ns / 1000.0; }

// Four decimals of a microsecond (0.1 ns) is below anything the models resolve; rounding makes
// summary.json byte-stable across compilers' last-bit differences. "+ 0.0" turns -0 into 0.
double round4(double v) { return std::round(v * 1e4) / 1e4 + 0.0; }

[[noreturn]] void schema_error(const std::string& path, const std::string& where, const std::string& why)
{
    throw std::runtime_error(path + ": " + where + ": " + why);
}

void check_keys(const std::string& path, const std::string& where, const json& object,
                std::initializer_list<const char*> allowed)
{
    if (!object.is_object())
        schema_error(path, where, "expected an object");
    for (const auto& item : object.items()) {
        const bool known = std::any_of(allowed.begin(), allowed.end(),
                                       [&](const char* key) { return item.key() == key; });
        if (!known)
            schema_error(path, where, "unknown key \"" + item.key() + "\"");
    }
}

double read_number(const std::string& path, const std::string& where, const json& object,
                   const char* key, double max)
{
    const auto it = object.find(key);
    if (it == object.end())
        schema_error(path, where, std::string("missing \"") + key + "\"");
    if (!it->is_number())
        schema_error(path, where + "." + key, "expected a number");
    const double v = it->get<double>();
    if (!std::isfinite(v) || v < 0.0 || v > max)
        schema_error(path, where + "." + key, fmt::format("value {} out of range [0, {}]", v, max));
    return v;
}

reference_cell read_cell(const std::string& path, const std::string& where, const json& cell)
{
    check_keys(path, where, cell, {"mean", "pct", "sigma"});
    reference_cell out;
    out.mean = read_number(path, where, cell, "mean", 1e9);
    if (cell.contains("pct"))
        out.pct = read_number(path, where, cell, "pct", 100.0);
    return out;
}

bool has_reference_column(const reference_table& ref, const std::string& key)
{
    return ref.rows.count(key) != 0 || ref.totals.count(key) != 0;
}

// A row counts as measured in a column when it holds at least one sample.
std::optional<double> measured_mean_us(const column_result& column, const std::string& row)
{
    const auto it = column.rows_ns.find(row);
    if (it == column.rows_ns.end() || it->second.count() == 0)
        return std::nullopt;
    return us(it->second.mean());
}

std::optional<reference_cell> reference_row(const reference_table& ref, const std::string& column,
                                            const std::string& row)
{
    const auto col = ref.rows.find(column);
    if (col == ref.rows.end())
        return std::nullopt;
    const auto cell = col->second.find(row);
    if (cell == col->second.end())
        return std::nullopt;
    return cell->second;
}

// row_order (without repeats), then every other row key in `extra`, in key order.
std::vector<std::string> ordered_rows(const std::vector<std::string>& row_order,
                                      const std::set<std::string>& extra)
{
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& r : row_order)
        if (seen.insert(r).second)
            out.push_back(r);
    for (const auto& r : extra)
        if (seen.insert(r).second)
            out.push_back(r);
    return out;
}

cell_check judge(const std::string& column, const std::string& row, double ours, double ref,
                 double rel_tol, double abs_tol)
{
    cell_check c;
    c.column = column;
    c.row = row;
    c.ours_us = ours;
    c.ref_us = ref;
    const double diff = std::fabs(ours - ref);
    if (ref != 0.0)
        c.rel_err = (ours - ref) / ref;
    else
        c.rel_err = ours == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
    c.ok = diff <= abs_tol + compare_slack || diff <= rel_tol * std::fabs(ref) + compare_slack;
    return c;
}

json stat_json(const sample_set& s, bool with_p99)
{
    json j = json::object();
    j["mean"] = round4(us(s.mean()));
    j["sigma"] = round4(us(s.sigma()));
    if (with_p99)
        j["p99"] = round4(us(s.count() ? s.percentile(99.0) : 0.0));
    return j;
}

// ---- Markdown ----------------------------------------------------------------------------------

// Display width of UTF-8 text: every character used here (µ, σ, –, ✓, ✗) is one column wide.
size_t display_width(const std::string& s)
{
    size_t n = 0;
    for (unsigned char ch : s)
        if ((ch & 0xC0) != 0x80)
            ++n;
    return n;
}

std::string two_decimals(double v)
{
    // Keep "-0.00" out of the table.
    const double r = std::round(v * 100.0) / 100.0;
    return fmt::format("{:.2f}", r == 0.0 ? 0.0 : r);
}

std::string one_decimal(double v)
{
    const double r = std::round(v * 10.0) / 10.0;
    return fmt::format("{:.1f}", r == 0.0 ? 0.0 : r);
}

std::string signed_percent(double rel)
{
    const double r = std::round(rel * 1000.0) / 10.0;
    return fmt::format("{:+.1f}%", r == 0.0 ? 0.0 : r);
}

const char* const no_value = "–";

std::string error_text(const cell_check& c)
{
    const char* mark = c.ok ? "✓" : "✗";
    if (std::isinf(c.rel_err))
        return fmt::format("n/a {}", mark); // the paper has no such row
    return signed_percent(c.rel_err) + " " + mark;
}


} // namespace

reference_table load_reference(const std::string& json_path)
{
    std::ifstream in(json_path);
    if (!in)
        throw std::runtime_error(json_path + ": cannot open reference table");
    json doc;
    try {
        doc = json::parse(in);
    } catch (const json::parse_error& e) {
        throw std::runtime_error(json_path + ": not valid JSON: " + e.what());
    }

    check_keys(json_path, "top level", doc, {"source", "units", "columns"});
    reference_table table;
    const auto source = doc.find("source");
    if (source == doc.end() || !source->is_string())
        schema_error(json_path, "top level", "\"source\" must be a string citing the paper");
    table.source = source->get<std::string>();
    const auto units = doc.find("units");
    if (units == doc.end() || *units != "us")
        schema_error(json_path, "top level", "\"units\" must be \"us\"");
    const auto columns = doc.find("columns");
    if (columns == doc.end() || !columns->is_object() || columns->empty())
        schema_error(json_path, "top level", "\"columns\" must be a non-empty object");

    for (const auto& [key, column] : columns->items()) {
        const std::string where = "columns." + key;
        check_keys(json_path, where, column, {"rows", "total"});
        if (!column.contains("rows") || !column.contains("total"))
            schema_error(json_path, where, "needs \"rows\" and \"total\"");
        if (!column["rows"].is_object())
            schema_error(json_path, where + ".rows", "expected an object");
        auto& rows = table.rows[key];
        for (const auto& [row, cell] : column["rows"].items()) {
            rows[row] = read_cell(json_path, where + ".rows." + row, cell);
            if (cell.contains("sigma"))
                table.row_sigma[key][row] = read_number(json_path, where + ".rows." + row, cell, "sigma", 1e9);
        }

        const json& total = column["total"];
        const std::string total_where = where + ".total";
        check_keys(json_path, total_where, total, {"mean", "sigma", "sigma_bound", "p99"});
        table.totals[key] = reference_cell{read_number(json_path, total_where, total, "mean", 1e9), 100.0};
        table.total_sigma[key] = read_number(json_path, total_where, total, "sigma", 1e9);
        if (total.contains("p99"))
            table.total_p99[key] = read_number(json_path, total_where, total, "p99", 1e9);
        if (total.contains("sigma_bound")) {
            if (total["sigma_bound"] != "upper")
                schema_error(json_path, total_where + ".sigma_bound", "the only bound is \"upper\"");
            table.sigma_upper_bound.insert(key);
        }
    }
    return table;
}

std::vector<cell_check> check_against(const breakdown_report& report, const reference_table& ref,
                                      const tolerance& tol)
{
    std::vector<cell_check> out;
    for (const auto& column : report.columns) {
        if (!has_reference_column(ref, column.key))
            continue;
        std::set<std::string> keys;
        if (const auto it = ref.rows.find(column.key); it != ref.rows.end())
            for (const auto& [row, cell] : it->second)
                keys.insert(row);
        for (const auto& [row, samples] : column.rows_ns)
            keys.insert(row);

        for (const auto& row : ordered_rows(report.row_order, keys)) {
            const auto ours = measured_mean_us(column, row);
            const auto paper = reference_row(ref, column.key, row);
            if (paper)
                out.push_back(judge(column.key, row, ours.value_or(0.0), paper->mean, tol.cell_rel,
                                    tol.cell_abs_us));
            else if (ours && *ours > measured_row_floor_us)
                out.push_back(judge(column.key, row, *ours, 0.0, tol.cell_rel, tol.cell_abs_us));
        }
        if (const auto total = ref.totals.find(column.key); total != ref.totals.end())
            out.push_back(judge(column.key, "total", us(column.total_ns.mean()), total->second.mean,
                                tol.total_rel, 0.0));
    }
    return out;
}

nlohmann::json column_to_json(const column_result& r)
{
    nlohmann::json j;
    j["key"] = r.key;
    j["total"] = r.total_ns.samples();
    j["end_to_end"] = r.end_to_end_ns.samples();
    j["rows"] = nlohmann::json::object();
    for (const auto& [row, s] : r.rows_ns)
        j["rows"][row] = s.samples();
    return j;
}

column_result column_from_json(const nlohmann::json& j)
{
    column_result r;
    r.key = j.at("key").get<std::string>();
    for (double v : j.at("total"))
        r.total_ns.add(v);
    for (double v : j.at("end_to_end"))
        r.end_to_end_ns.add(v);
    for (const auto& [row, arr] : j.at("rows").items())
        for (double v : arr)
            r.rows_ns[row].add(v);
    return r;
}

nlohmann::json to_summary_json(const breakdown_report& report, const nlohmann::json& effective_config)
{
    json doc = json::object();
    doc["experiment"] = report.experiment;
    doc["seed"] = report.seed;
    doc["units"] = "us";
    doc["config"] = effective_config;
    json columns = json::object();
    for (const auto& column : report.columns) {
        json c = json::object();
        c["requests"] = column.total_ns.count();
        const double total_mean = column.total_ns.mean();
        json rows = json::object();
        size_t invalid = column.total_ns.rejected() + column.end_to_end_ns.rejected();
        for (const auto& [row, samples] : column.rows_ns) {
            json r = stat_json(samples, true);
            r["pct"] = total_mean > 0.0 ? round4(samples.mean() / total_mean * 100.0) : 0.0;
            rows[row] = r;
            invalid += samples.rejected();
        }
        c["rows"] = rows;
        c["total"] = stat_json(column.total_ns, true);
        c["end_to_end"] = stat_json(column.end_to_end_ns, true);
        if (invalid != 0)
            c["invalid_samples"] = invalid;
        columns[column.key] = c;
    }
    doc["columns"] = columns;
    return doc;
}

std::string to_markdown(const breakdown_report& report, const reference_table* ref, const tolerance& tol)
{
    std::vector<cell_check> checks;
    if (ref)
        checks = check_against(report, *ref, tol);
    auto find_check = [&](const std::string& column, const std::string& row) -> const cell_check* {
        for (const auto& c : checks)
            if (c.column == column && c.row == row)
                return &c;
        return nullptr;
    };

    std::set<std::string> extra;
    for (const auto& column : report.columns) {
        for (const auto& [row, samples] : column.rows_ns)
            extra.insert(row);
        if (ref)
            if (const auto it = ref->rows.find(column.key); it != ref->rows.end())
                for (const auto& [row, cell] : it->second)
                    extra.insert(row);
    }
    const std::vector<std::string> rows = ordered_rows(report.row_order, extra);

    std::vector<std::vector<std::string>> cells;
    std::vector<std::string> header{"row"};
    for (const auto& column : report.columns) {
        header.push_back(fmt::format("{} (n={})", column.key, column.total_ns.count()));
        if (ref) {
            header.push_back("paper");
            header.push_back("err");
        }
    }
    cells.push_back(header);

    auto paper_and_error = [&](std::vector<std::string>& line, const std::string& column,
                               const std::string& row, const std::string& paper_text) {
        if (!ref)
            return;
        line.push_back(paper_text);
        const cell_check* c = find_check(column, row);
        line.push_back(c ? error_text(*c) : no_value);
    };

    for (const auto& row : rows) {
        std::vector<std::string> line{row};
        for (const auto& column : report.columns) {
            const auto ours = measured_mean_us(column, row);
            const double total_us = us(column.total_ns.mean());
            if (ours)
                line.push_back(fmt::format("{} ({}%)", two_decimals(*ours),
                                           one_decimal(total_us > 0.0 ? *ours / total_us * 100.0 : 0.0)));
            else
                line.push_back(no_value);
            std::string paper_text = no_value;
            if (ref) {
                if (const auto cell = reference_row(*ref, column.key, row)) {
                    paper_text = two_decimals(cell->mean);
                    if (cell->pct)
                        paper_text += fmt::format(" ({}%)", one_decimal(*cell->pct));
                }
            }
            paper_and_error(line, column.key, row, paper_text);
        }
        cells.push_back(line);
    }

    std::vector<std::string> total_line{"total"};
    std::vector<std::string> p99_line{"p99"};
    std::vector<std::string> e2e_line{"end_to_end"};
    for (const auto& column : report.columns) {
        total_line.push_back(column.total_ns.count() == 0
                                 ? std::string(no_value)
                                 : fmt::format("{} (σ {})", two_decimals(us(column.total_ns.mean())),
                                               two_decimals(us(column.total_ns.sigma()))));
        std::string paper_text = no_value;
        if (ref) {
            if (const auto it = ref->totals.find(column.key); it != ref->totals.end()) {
                const auto sigma = ref->total_sigma.find(column.key);
                paper_text = two_decimals(it->second.mean);
                if (sigma != ref->total_sigma.end())
                    paper_text += fmt::format(" (σ {}{})", ref->sigma_upper_bound.count(column.key) ? "<" : "",
                                              two_decimals(sigma->second));
            }
        }
        paper_and_error(total_line, column.key, "total", paper_text);

        p99_line.push_back(column.total_ns.count() == 0 ? std::string(no_value) : two_decimals(us(column.total_ns.percentile(99.0))));
        std::string paper_p99 = no_value;
        if (ref)
            if (const auto it = ref->total_p99.find(column.key); it != ref->total_p99.end())
                paper_p99 = two_decimals(it->second);
        paper_and_error(p99_line, column.key, "p99", paper_p99);

        e2e_line.push_back(column.end_to_end_ns.count() == 0
                               ? std::string(no_value)
                               : fmt::format("{} (σ {})", two_decimals(us(column.end_to_end_ns.mean())),
                                             two_decimals(us(column.end_to_end_ns.sigma()))));
        paper_and_error(e2e_line, column.key, "end_to_end", no_value);
    }
    cells.push_back(total_line);
    if (ref && !ref->total_p99.empty())
        cells.push_back(p99_line);
    cells.push_back(e2e_line);

    std::string out = fmt::format("{}, seed {}: time per request on the server in µs (% of total)\n\n",
                                  report.experiment, report.seed);
    out += render_table(cells);
    out += "\n";
    if (ref) {
        const auto ok = std::count_if(checks.begin(), checks.end(), [](const cell_check& c) { return c.ok; });
        out += fmt::format("{} of {} cells within tolerance (rows: ±{:g}% or ±{:g} µs; totals: ±{:g}%)\n"
                           "Paper: {}\n",
                           ok, checks.size(), tol.cell_rel * 100.0, tol.cell_abs_us, tol.total_rel * 100.0,
                           ref->source);
    } else {
        out += "No reference table: 0 cells checked.\n";
    }
    return out;
}

nlohmann::json to_summary_json(const series_report& report, const nlohmann::json& effective_config)
{
    json doc = json::object();
    doc["experiment"] = report.experiment;
    doc["seed"] = report.seed;
    doc["x"] = report.x_key;
    doc["y"] = report.y_key;
    doc["config"] = effective_config;
    json series = json::object();
    for (const auto& [name, points] : report.series) {
        json list = json::array();
        for (const series_point& p : points) {
            json point = {{"x", round4(p.x)}, {"y", round4(p.y)}};
            if (p.sigma)
                point["sigma"] = round4(*p.sigma);
            list.push_back(point);
        }
        series[name] = list;
    }
    doc["series"] = series;
    return doc;
}

std::string to_markdown(const series_report& report)
{
    std::vector<double> xs;
    for (const auto& [name, points] : report.series)
        for (const series_point& p : points)
            if (std::find(xs.begin(), xs.end(), p.x) == xs.end())
                xs.push_back(p.x);
    std::vector<std::vector<std::string>> cells;
    std::vector<std::string> header{report.x_key};
    for (const auto& [name, points] : report.series)
        header.push_back(name);
    cells.push_back(header);
    for (double x : xs) {
        std::vector<std::string> line{fmt::format("{:g}", x)};
        for (const auto& [name, points] : report.series) {
            const auto it = std::find_if(points.begin(), points.end(), [x](const series_point& p) { return p.x == x; });
            if (it == points.end())
                line.push_back(no_value);
            else if (it->sigma)
                line.push_back(fmt::format("{} (σ {})", two_decimals(it->y), two_decimals(*it->sigma)));
            else
                line.push_back(two_decimals(it->y));
        }
        cells.push_back(line);
    }
    std::string out = fmt::format("{}, seed {}: {} against {}\n\n", report.experiment, report.seed, report.y_key, report.x_key);
    out += render_table(cells);
    return out;
}

std::string render_table(const std::vector<std::vector<std::string>>& cells)
{
    if (cells.empty())
        return {};
    std::vector<size_t> widths(cells.front().size(), 3);
    for (const auto& line : cells)
        for (size_t i = 0; i < line.size(); ++i)
            widths[i] = std::max(widths[i], display_width(line[i]));
    std::string out;
    auto emit = [&](const std::vector<std::string>& line) {
        out += "|";
        for (size_t i = 0; i < line.size(); ++i)
            out += " " + line[i] + std::string(widths[i] - display_width(line[i]), ' ') + " |";
        out += "\n";
    };
    emit(cells.front());
    out += "|";
    for (size_t w : widths)
        out += std::string(w + 2, '-') + "|";
    out += "\n";
    for (size_t i = 1; i < cells.size(); ++i)
        emit(cells[i]);
    return out;
}

std::string to_csv(const series_report& report)
{
    std::string out = "series," + report.x_key + "," + report.y_key + ",sigma\n";
    for (const auto& [name, points] : report.series)
        for (const series_point& p : points)
            out += fmt::format("{},{},{},{}\n", name, round4(p.x), round4(p.y), p.sigma ? fmt::format("{}", round4(*p.sigma)) : "");
    return out;
}

} // namespace iovsim::sim
