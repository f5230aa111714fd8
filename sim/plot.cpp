#include "sim/plot.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/experiment.h"
#include "sim/report.h"

namespace iovsim::sim {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A string as a gnuplot string literal (single quotes; a quote doubled).
std::string gp_quote(const std::string& s)
{
    std::string out = "'";
    for (const char ch : s)
        out += ch == '\'' ? std::string("''") : std::string(1, ch);
    return out + "'";
}

// A string as a quoted field of a gnuplot data file.
std::string data_quote(const std::string& s)
{
    std::string out = "\"";
    for (const char ch : s)
        out += ch == '"' ? '\'' : ch;
    return out + "\"";
}

std::string shell_quote(const std::string& s)
{
    std::string out = "'";
    for (const char ch : s)
        out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return out + "'";
}

json read_json(const fs::path& p, const std::string& what)
{
    std::ifstream in(p);
    if (!in)
        throw std::runtime_error(p.string() + ": cannot open " + what);
    try {
        return json::parse(in);
    } catch (const json::parse_error& e) {
        throw std::runtime_error(p.string() + ": not valid JSON: " + e.what());
    }
}

// The reference file a summary's experiment names, if any (relative to the source tree).
std::optional<fs::path> reference_of(const json& summary)
{
    const json* ref = nullptr;
    if (summary.contains("config") && summary["config"].contains("experiment") &&
        summary["config"]["experiment"].contains("reference"))
        ref = &summary["config"]["experiment"]["reference"];
    if (!ref || !ref->is_string() || ref->get<std::string>().empty())
        return std::nullopt;
    return fs::path(source_dir()) / ref->get<std::string>();
}

// The two terminals every figure is rendered on; `body` is the plot command.
std::string render_both(const std::string& setup, const std::string& body)
{
    return "set terminal pngcairo size 1000,640 enhanced font 'sans,10'\nset output 'plot.png'\n" + setup + body +
           "\nset terminal svg size 1000,640 enhanced font 'sans,10' background rgb 'white'\nset output 'plot.svg'\nreplot\n"
           "unset output\n";
}

// Throughput: a data block per series (ours, then the reference's), one curve each.
void series_script(const json& summary, std::string& script, std::string& data)
{
    const std::string x = summary.at("x").get<std::string>(), y = summary.at("y").get<std::string>();
    std::vector<std::string> plots;
    size_t block = 0;
    auto add_block = [&](const json& points, const std::string& title, const std::string& style) {
        data += "# " + title + "\n";
        for (const json& p : points)
            data += fmt::format("{} {}\n", p.at("x").get<double>(), p.at("y").get<double>());
        data += "\n\n";
        plots.push_back(fmt::format("'plot.dat' index {} using 1:2 {} title {}", block++, style, gp_quote(title)));
    };
    size_t color = 1;
    json ref_series;
    std::string source;
    if (const auto ref = reference_of(summary)) {
        const json doc = read_json(*ref, "reference");
        if (doc.contains("series"))
            ref_series = doc["series"];
        source = doc.value("source", "");
    }
    for (const auto& [name, points] : summary.at("series").items()) {
        add_block(points, name, fmt::format("with linespoints lw 2 pt 7 lc {}", color));
        if (ref_series.contains(name))
            add_block(ref_series[name], name + " (reference)", fmt::format("with linespoints lw 1 dt 2 pt 6 lc {}", color));
        ++color;
    }
    std::string setup = fmt::format("set title {} noenhanced\nset xlabel {} noenhanced\nset ylabel {} noenhanced\n"
                                    "set grid\nset key outside right top noenhanced\nset yrange [0:*]\n",
                                    gp_quote(fmt::format("{} (seed {})", summary.value("experiment", "?"), summary.value("seed", 0))),
                                    gp_quote(x), gp_quote(y));
    if (!source.empty())
        setup += "set label 1 " + gp_quote("reference: " + source.substr(0, 120)) + " at screen 0.01,0.02 font ',7' noenhanced\n";
    std::string body = "plot ";
    for (size_t i = 0; i < plots.size(); ++i)
        body += (i ? ", \\\n     " : "") + plots[i];
    script = render_both(setup, body);
}

// Breakdown: a stacked bar per column (rows in the order of the first column), the paper's beside it.
void breakdown_script(const json& summary, std::string& script, std::string& data)
{
    std::optional<reference_table> ref;
    if (const auto p = reference_of(summary))
        ref = load_reference(p->string());
    std::vector<std::string> rows;
    for (const auto& [col, c] : summary.at("columns").items())
        for (const auto& [row, cell] : c.at("rows").items())
            if (std::find(rows.begin(), rows.end(), row) == rows.end())
                rows.push_back(row);
    if (ref)
        for (const auto& [col, cells] : ref->rows)
            for (const auto& [row, cell] : cells)
                if (std::find(rows.begin(), rows.end(), row) == rows.end())
                    rows.push_back(row);
    data += "# bar";
    for (const auto& r : rows)
        data += " " + r;
    data += "\n";
    for (const auto& [col, c] : summary.at("columns").items()) {
        data += data_quote(col);
        for (const auto& r : rows)
            data += fmt::format(" {}", c.at("rows").contains(r) ? c.at("rows").at(r).at("mean").get<double>() : 0.0);
        data += "\n";
        if (ref && ref->rows.count(col)) {
            data += data_quote(col + " (paper)");
            for (const auto& r : rows) {
                const auto it = ref->rows.at(col).find(r);
                data += fmt::format(" {}", it == ref->rows.at(col).end() ? 0.0 : it->second.mean);
            }
            data += "\n";
        }
    }
    const std::string setup =
        fmt::format("set title {} noenhanced\nset ylabel {} noenhanced\nset style data histograms\n"
                    "set style histogram rowstacked\nset style fill solid 0.85 border -1\nset boxwidth 0.75\n"
                    "set xtics rotate by -30 noenhanced\nset key outside right top noenhanced\nset grid ytics\nset yrange [0:*]\n",
                    gp_quote(fmt::format("{} (seed {}): time per request", summary.value("experiment", "?"), summary.value("seed", 0))),
                    gp_quote(summary.value("units", "us")));
    std::string body = "plot ";
    for (size_t i = 0; i < rows.size(); ++i)
        body += (i ? ", \\\n     " : "") +
                fmt::format("'plot.dat' using {}{} title {}", i + 2, i == 0 ? ":xtic(1)" : "", gp_quote(rows[i]));
    script = render_both(setup, body);
}

} // namespace

std::string gnuplot_program()
{
    if (const char* env = std::getenv("IOVSIM_GNUPLOT"))
        return env;
    return "gnuplot";
}

std::vector<std::string> plot_results(const std::string& dir_text)
{
    const fs::path dir(dir_text);
    const json summary = read_json(dir / "summary.json", "summary (run an experiment into this directory first)");
    std::string script, data;
    if (summary.contains("series"))
        series_script(summary, script, data);
    else if (summary.contains("columns"))
        breakdown_script(summary, script, data);
    else
        throw std::runtime_error((dir / "summary.json").string() + ": neither series nor columns: nothing to plot");
    std::ofstream(dir / "plot.dat") << data;
    std::ofstream(dir / "plot.gp") << script;
    for (const char* f : {"plot.png", "plot.svg"})
        fs::remove(dir / f);
    const std::string cmd = "cd " + shell_quote(dir.string()) + " && " + shell_quote(gnuplot_program()) + " plot.gp 2>plot.log";
    const int status = std::system(cmd.c_str());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            throw std::runtime_error("plotting needs gnuplot (Debian: apt-get install gnuplot-nox; see scripts/install-deps.sh)");
        std::ifstream log(dir / "plot.log");
        std::string first;
        std::getline(log, first);
        throw std::runtime_error("gnuplot failed on " + (dir / "plot.gp").string() + (first.empty() ? "" : ": " + first));
    }
    fs::remove(dir / "plot.log");
    std::vector<std::string> out;
    for (const char* f : {"plot.png", "plot.svg"}) {
        if (!fs::exists(dir / f) || fs::file_size(dir / f) == 0)
            throw std::runtime_error("gnuplot wrote no " + (dir / f).string());
        out.push_back((dir / f).string());
    }
    return out;
}

} // namespace iovsim::sim
