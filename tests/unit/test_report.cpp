#include "sim/report.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

namespace iovsim::sim {
namespace {

const std::string reference_path = std::string(IOVSIM_SOURCE_DIR) + "/results/reference/arrakis_table1.json";

// n requests, each charging `us` microseconds to the set.
void fill(sample_set& s, double us, int n = 10)
{
    for (int i = 0; i < n; ++i)
        s.add(us * 1000.0);
}

column_result make_column(const std::string& key, const std::map<std::string, double>& rows_us,
                          double total_us, double end_to_end_us, int n = 10)
{
    column_result c;
    c.key = key;
    for (const auto& [row, v] : rows_us)
        fill(c.rows_ns[row], v, n);
    fill(c.total_ns, total_us, n);
    fill(c.end_to_end_ns, end_to_end_us, n);
    return c;
}

reference_table make_reference()
{
    reference_table t;
    t.source = "hand-made";
    t.rows["col"] = {
        {"in", {1.00, 20.0}},        {"just_in", {1.00, 20.0}},   {"out", {1.00, 20.0}},
        {"small_abs_in", {0.10, 2.0}}, {"small_abs_out", {0.10, 2.0}}, {"big_rel_in", {2.00, 40.0}},
        {"missing_big", {0.17, 3.0}}, {"missing_small", {0.04, 1.0}},
    };
    t.totals["col"] = {5.00, 100.0};
    t.total_sigma["col"] = 0.5;
    t.rows["paper_only"] = {{"in", {1.0, 100.0}}};
    t.totals["paper_only"] = {1.0, 100.0};
    t.total_sigma["paper_only"] = 0.01;
    t.sigma_upper_bound.insert("paper_only");
    return t;
}

breakdown_report make_report(double total_us = 5.20)
{
    breakdown_report r;
    r.experiment = "hand_made";
    r.seed = 7;
    r.row_order = {"out", "in", "just_in"};
    r.columns.push_back(make_column("col",
                                    {{"in", 1.05},
                                     {"just_in", 1.10},
                                     {"out", 1.12},
                                     {"small_abs_in", 0.14},
                                     {"small_abs_out", 0.16},
                                     {"big_rel_in", 2.18},
                                     {"extra_big", 0.30},
                                     {"extra_small", 0.04},
                                     {"extra_noise", 0.003}},
                                    total_us, 9.0));
    r.columns.push_back(make_column("ours_only", {{"in", 1.0}}, 1.0, 2.0));
    return r;
}

const cell_check& find(const std::vector<cell_check>& checks, const std::string& column, const std::string& row)
{
    for (const auto& c : checks)
        if (c.column == column && c.row == row)
            return c;
    throw std::logic_error("no check for " + column + "/" + row);
}

bool has(const std::vector<cell_check>& checks, const std::string& column, const std::string& row)
{
    for (const auto& c : checks)
        if (c.column == column && c.row == row)
            return true;
    return false;
}

std::string write_temp(const std::string& name, const std::string& text)
{
    const std::string path = ::testing::TempDir() + name;
    std::ofstream(path) << text;
    return path;
}

// --- check_against --------------------------------------------------------------------------------

TEST(report_check_against, within_and_just_within_relative_tolerance)
{
    const auto checks = check_against(make_report(), make_reference(), tolerance{});
    const auto& in = find(checks, "col", "in");
    EXPECT_TRUE(in.ok);
    EXPECT_NEAR(in.rel_err, 0.05, 1e-12);
    EXPECT_NEAR(in.ours_us, 1.05, 1e-12);
    EXPECT_EQ(in.ref_us, 1.00);
    // Exactly 10% off: on the boundary, which passes although 1.10 - 1.00 > 0.1 in binary.
    const auto& just_in = find(checks, "col", "just_in");
    EXPECT_TRUE(just_in.ok);
    EXPECT_NEAR(just_in.rel_err, 0.10, 1e-12);
}

TEST(report_check_against, out_of_tolerance)
{
    const auto checks = check_against(make_report(), make_reference(), tolerance{});
    const auto& out = find(checks, "col", "out");
    EXPECT_FALSE(out.ok);
    EXPECT_NEAR(out.rel_err, 0.12, 1e-12);
}

TEST(report_check_against, absolute_tolerance_rescues_small_cells_and_relative_large_ones)
{
    const auto checks = check_against(make_report(), make_reference(), tolerance{});
    // 0.14 vs 0.10 is 40% off but only 0.04 us: within the absolute bound.
    EXPECT_TRUE(find(checks, "col", "small_abs_in").ok);
    EXPECT_NEAR(find(checks, "col", "small_abs_in").rel_err, 0.4, 1e-12);
    // 0.16 vs 0.10: 0.06 us and 60%, outside both.
    EXPECT_FALSE(find(checks, "col", "small_abs_out").ok);
    // 2.18 vs 2.00: 0.18 us exceeds the absolute bound, 9% is within the relative one.
    EXPECT_TRUE(find(checks, "col", "big_rel_in").ok);

    tolerance strict;
    strict.cell_abs_us = 0.0;
    strict.cell_rel = 0.05;
    const auto strict_checks = check_against(make_report(), make_reference(), strict);
    EXPECT_FALSE(find(strict_checks, "col", "small_abs_in").ok);
    EXPECT_FALSE(find(strict_checks, "col", "big_rel_in").ok);
    EXPECT_TRUE(find(strict_checks, "col", "in").ok);
}

TEST(report_check_against, reference_rows_we_did_not_measure_count_as_zero)
{
    const auto checks = check_against(make_report(), make_reference(), tolerance{});
    const auto& big = find(checks, "col", "missing_big");
    EXPECT_EQ(big.ours_us, 0.0);
    EXPECT_EQ(big.rel_err, -1.0);
    EXPECT_FALSE(big.ok);
    // 0.04 us missing is within the absolute bound.
    EXPECT_TRUE(find(checks, "col", "missing_small").ok);
}

TEST(report_check_against, measured_rows_the_reference_lacks_have_ref_zero)
{
    const auto checks = check_against(make_report(), make_reference(), tolerance{});
    const auto& big = find(checks, "col", "extra_big");
    EXPECT_EQ(big.ref_us, 0.0);
    EXPECT_TRUE(std::isinf(big.rel_err));
    EXPECT_FALSE(big.ok);
    EXPECT_TRUE(find(checks, "col", "extra_small").ok);
    // Below 0.005 us: noise, not a cell.
    EXPECT_FALSE(has(checks, "col", "extra_noise"));
}

TEST(report_check_against, totals_use_the_total_tolerance)
{
    auto checks = check_against(make_report(5.20), make_reference(), tolerance{});
    const auto& total = find(checks, "col", "total");
    EXPECT_TRUE(total.ok); // +4%
    EXPECT_NEAR(total.rel_err, 0.04, 1e-12);
    checks = check_against(make_report(5.30), make_reference(), tolerance{});
    EXPECT_FALSE(find(checks, "col", "total").ok); // +6%, though a row would pass at 10%
    checks = check_against(make_report(4.75), make_reference(), tolerance{});
    EXPECT_TRUE(find(checks, "col", "total").ok); // exactly -5%
}

TEST(report_check_against, columns_on_one_side_only_are_skipped_and_order_is_stable)
{
    const auto checks = check_against(make_report(), make_reference(), tolerance{});
    for (const auto& c : checks)
        EXPECT_EQ(c.column, "col");
    // 8 reference rows + 2 extra measured rows + total.
    ASSERT_EQ(checks.size(), 11u);
    EXPECT_EQ(checks[0].row, "out"); // row_order first
    EXPECT_EQ(checks[1].row, "in");
    EXPECT_EQ(checks[2].row, "just_in");
    EXPECT_EQ(checks[3].row, "big_rel_in"); // then key order
    EXPECT_EQ(checks.back().row, "total");
}

TEST(report_check_against, real_reference_against_its_own_values_passes_everywhere)
{
    const reference_table ref = load_reference(reference_path);
    breakdown_report r;
    r.experiment = "udp_echo_breakdown";
    for (const auto& [column, rows] : ref.rows) {
        std::map<std::string, double> values;
        for (const auto& [row, cell] : rows)
            values[row] = cell.mean;
        r.columns.push_back(make_column(column, values, ref.totals.at(column).mean, 10.0));
    }
    const auto checks = check_against(r, ref, tolerance{});
    EXPECT_EQ(checks.size(), 7u + 1 + 7 + 1 + 4 + 1 + 2 + 1);
    for (const auto& c : checks) {
        EXPECT_TRUE(c.ok) << c.column << "/" << c.row;
        EXPECT_NEAR(c.rel_err, 0.0, 1e-12);
    }
}

// --- summary.json ---------------------------------------------------------------------------------

TEST(report_summary_json, shape_follows_the_design)
{
    breakdown_report r = make_report();
    const nlohmann::json config = {{"platform", "x"}, {"requests", 10}};
    const nlohmann::json j = to_summary_json(r, config);
    EXPECT_EQ(j.at("experiment"), "hand_made");
    EXPECT_EQ(j.at("seed"), 7);
    EXPECT_EQ(j.at("units"), "us");
    EXPECT_EQ(j.at("config"), config);
    ASSERT_EQ(j.at("columns").size(), 2u);
    const auto& col = j.at("columns").at("col");
    EXPECT_EQ(col.at("requests"), 10);
    EXPECT_EQ(col.at("rows").size(), 9u);
    for (const auto& [row, cell] : col.at("rows").items()) {
        EXPECT_EQ(cell.size(), 4u) << row;
        for (const char* key : {"mean", "sigma", "pct", "p99"})
            EXPECT_TRUE(cell.at(key).is_number()) << row << "." << key;
    }
    for (const char* part : {"total", "end_to_end"}) {
        EXPECT_EQ(col.at(part).size(), 3u);
        for (const char* key : {"mean", "sigma", "p99"})
            EXPECT_TRUE(col.at(part).at(key).is_number()) << part << "." << key;
    }
    EXPECT_DOUBLE_EQ(col.at("rows").at("in").at("mean").get<double>(), 1.05);
    EXPECT_DOUBLE_EQ(col.at("rows").at("in").at("pct").get<double>(), 20.1923); // 1.05 / 5.2
    EXPECT_DOUBLE_EQ(col.at("total").at("mean").get<double>(), 5.2);
    EXPECT_DOUBLE_EQ(col.at("end_to_end").at("p99").get<double>(), 9.0);
    EXPECT_FALSE(col.contains("invalid_samples"));
}

TEST(report_summary_json, values_are_rounded_to_four_decimals_and_byte_stable)
{
    breakdown_report r;
    r.experiment = "rounding";
    r.seed = 1;
    column_result c;
    c.key = "k";
    for (int i = 1; i <= 100; ++i) {
        c.total_ns.add(1234.56789 + i);          // mean 1285.06789 ns
        c.rows_ns["a"].add(i % 2 ? 100.0 : 200.0); // mean 150, sigma 50
        c.end_to_end_ns.add(i * 1000.0);
    }
    r.columns.push_back(c);
    const nlohmann::json j = to_summary_json(r, nlohmann::json::object());
    const auto& col = j.at("columns").at("k");
    EXPECT_EQ(col.at("total").at("mean").get<double>(), 1.2851);
    EXPECT_EQ(col.at("total").at("p99").get<double>(), 1.3336); // 1234.56789 + 99 ns
    EXPECT_EQ(col.at("rows").at("a").at("mean").get<double>(), 0.15);
    EXPECT_EQ(col.at("rows").at("a").at("sigma").get<double>(), 0.05);
    EXPECT_EQ(col.at("rows").at("a").at("pct").get<double>(), 11.6725); // 150 / 1285.06789 = 11.67254
    EXPECT_EQ(col.at("end_to_end").at("p99").get<double>(), 99.0);
    const std::string text = j.dump();
    EXPECT_NE(text.find("\"mean\":1.2851"), std::string::npos) << text;
    EXPECT_EQ(text, to_summary_json(r, nlohmann::json::object()).dump());
}

TEST(report_summary_json, empty_and_invalid_samples_stay_printable_and_are_counted)
{
    breakdown_report r;
    r.experiment = "empty";
    column_result c;
    c.key = "nothing";
    c.rows_ns["a"];
    c.rows_ns["b"].add(std::numeric_limits<double>::quiet_NaN());
    c.end_to_end_ns.add(std::numeric_limits<double>::infinity());
    r.columns.push_back(c);
    const nlohmann::json j = to_summary_json(r, nullptr);
    const auto& col = j.at("columns").at("nothing");
    EXPECT_EQ(col.at("requests"), 0);
    EXPECT_EQ(col.at("rows").at("a").at("pct"), 0.0);
    EXPECT_EQ(col.at("total").at("p99"), 0.0);
    EXPECT_EQ(col.at("invalid_samples"), 2);
    EXPECT_EQ(col.dump().find("null"), std::string::npos) << col.dump();
}

// --- table.md ---------------------------------------------------------------------------------------

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

size_t width(const std::string& s)
{
    size_t n = 0;
    for (unsigned char ch : s)
        if ((ch & 0xC0) != 0x80)
            ++n;
    return n;
}

TEST(report_markdown, cells_marks_and_footer)
{
    const reference_table ref = make_reference();
    const std::string md = to_markdown(make_report(), &ref, tolerance{});
    EXPECT_NE(md.find("col (n=10)"), std::string::npos) << md;
    EXPECT_NE(md.find("1.05 (20.2%)"), std::string::npos) << md;
    EXPECT_NE(md.find("1.00 (20.0%)"), std::string::npos) << md;
    EXPECT_NE(md.find("+5.0% ✓"), std::string::npos) << md;
    EXPECT_NE(md.find("+10.0% ✓"), std::string::npos) << md;
    EXPECT_NE(md.find("+12.0% ✗"), std::string::npos) << md;
    EXPECT_NE(md.find("-100.0% ✗"), std::string::npos) << md; // missing_big
    EXPECT_NE(md.find("n/a ✗"), std::string::npos) << md;     // extra_big
    EXPECT_NE(md.find("5.20 (σ 0.00)"), std::string::npos) << md;
    EXPECT_NE(md.find("5.00 (σ 0.50)"), std::string::npos) << md;
    EXPECT_NE(md.find("+4.0% ✓"), std::string::npos) << md;
    // 11 checks: in, just_in, small_abs_in, big_rel_in, missing_small, extra_small, total pass.
    EXPECT_NE(md.find("7 of 11 cells within tolerance"), std::string::npos) << md;
    EXPECT_NE(md.find("hand-made"), std::string::npos);
}

TEST(report_markdown, row_order_then_other_rows_then_total_and_end_to_end)
{
    const reference_table ref = make_reference();
    const std::string md = to_markdown(make_report(), &ref, tolerance{});
    const auto at = [&](const std::string& row) { return md.find("| " + row + " "); };
    EXPECT_LT(at("out"), at("in"));
    EXPECT_LT(at("in"), at("just_in"));
    EXPECT_LT(at("just_in"), at("big_rel_in"));
    EXPECT_LT(at("big_rel_in"), at("missing_big"));
    EXPECT_LT(at("small_abs_out"), at("total"));
    EXPECT_LT(at("total"), at("end_to_end"));
    EXPECT_NE(at("extra_noise"), std::string::npos); // printed, though not checked
}

TEST(report_markdown, dash_where_neither_side_has_a_value_and_columns_align)
{
    const reference_table ref = make_reference();
    const std::string md = to_markdown(make_report(), &ref, tolerance{});
    size_t table_width = 0;
    for (const auto& line : lines_of(md)) {
        if (line.empty() || line[0] != '|')
            continue;
        if (table_width == 0)
            table_width = width(line);
        EXPECT_EQ(width(line), table_width) << line;
        if (line.rfind("| missing_big ", 0) == 0) {
            // Column "ours_only" has neither a value nor a reference there: ours, paper, err all "–".
            EXPECT_NE(line.find("| –   "), std::string::npos) << line;
        }
        if (line.rfind("| end_to_end ", 0) == 0) {
            EXPECT_NE(line.find("9.00 (σ 0.00)"), std::string::npos) << line;
        }
    }
    EXPECT_GT(table_width, 0u);
}

TEST(report_markdown, without_reference_only_our_values)
{
    const std::string md = to_markdown(make_report(), nullptr, tolerance{});
    EXPECT_EQ(md.find("paper"), std::string::npos) << md;
    EXPECT_EQ(md.find("✓"), std::string::npos);
    EXPECT_NE(md.find("ours_only (n=10)"), std::string::npos);
    EXPECT_NE(md.find("No reference table: 0 cells checked."), std::string::npos);
    EXPECT_EQ(md, to_markdown(make_report(), nullptr, tolerance{}));
}

TEST(report_markdown, real_reference_prints_upper_bound_sigma)
{
    const reference_table ref = load_reference(reference_path);
    breakdown_report r;
    r.experiment = "udp_echo_breakdown";
    r.row_order = {"net_stack_in", "net_stack_out", "scheduler", "copy_in", "copy_out", "kernel_return", "syscall"};
    r.columns.push_back(make_column("arrakis_n", {{"net_stack_in", 0.21}, {"net_stack_out", 0.17}}, 0.38, 5.0));
    const std::string md = to_markdown(r, &ref, tolerance{});
    EXPECT_NE(md.find("0.38 (σ <0.01)"), std::string::npos) << md;
    EXPECT_NE(md.find("0.21 (55.3%)"), std::string::npos) << md;
    EXPECT_NE(md.find("3 of 3 cells within tolerance"), std::string::npos) << md;
}

// --- load_reference -------------------------------------------------------------------------------

TEST(report_load_reference, figure_two_with_row_sigmas)
{
    const reference_table t = load_reference(std::string(IOVSIM_SOURCE_DIR) + "/results/reference/arrakis_fig2.json");
    ASSERT_EQ(t.rows.size(), 8u);
    EXPECT_EQ(t.rows.at("ext3_1k").at("write").mean, 5.99);
    EXPECT_EQ(t.rows.at("btrfs_64").at("fsync").mean, 62.79);
    EXPECT_EQ(t.row_sigma.at("ext4_1k").at("fsync"), 0.85);
    EXPECT_EQ(t.row_sigma.at("ext4_1k").count("write"), 0u);
    EXPECT_EQ(t.totals.at("ext2_64").mean, 3.52);
}

TEST(report_load_reference, real_table_one)
{
    const reference_table t = load_reference(reference_path);
    EXPECT_NE(t.source.find("OSDI 2014"), std::string::npos);
    ASSERT_EQ(t.rows.size(), 4u);
    EXPECT_EQ(t.rows.at("linux_running").at("net_stack_in").mean, 1.26);
    EXPECT_EQ(t.rows.at("linux_running").at("net_stack_in").pct, 37.6);
    EXPECT_EQ(t.rows.at("linux_idle").at("scheduler").mean, 2.40);
    EXPECT_EQ(t.rows.at("linux_running").size(), 7u);
    EXPECT_EQ(t.rows.at("arrakis_p").size(), 4u);
    EXPECT_EQ(t.rows.at("arrakis_n").size(), 2u);
    EXPECT_EQ(t.rows.at("arrakis_n").count("scheduler"), 0u); // "–" in the paper
    EXPECT_EQ(t.totals.at("linux_idle").mean, 6.19);
    EXPECT_EQ(t.total_sigma.at("linux_running"), 0.66);
    EXPECT_EQ(t.total_sigma.at("arrakis_p"), 0.01);
    EXPECT_EQ(t.sigma_upper_bound, (std::set<std::string>{"arrakis_n", "arrakis_p"}));
    // The paper's rows add up to its totals and its percentages to 100, to its rounding.
    for (const auto& [column, rows] : t.rows) {
        double sum = 0.0;
        double pct = 0.0;
        for (const auto& [row, cell] : rows) {
            sum += cell.mean;
            pct += cell.pct.value_or(0.0);
        }
        EXPECT_NEAR(sum, t.totals.at(column).mean, 0.011) << column;
        EXPECT_NEAR(pct, 100.0, 0.25) << column;
    }
}

TEST(report_load_reference, missing_file_names_the_path)
{
    const std::string path = ::testing::TempDir() + "no_such_reference.json";
    try {
        load_reference(path);
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
}

TEST(report_load_reference, corrupt_file_names_the_path)
{
    const std::string path = write_temp("corrupt_reference.json", "{\"source\": \"x\", \"columns\": {");
    try {
        load_reference(path);
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()).rfind(path, 0), 0u) << e.what();
        EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
    }
}

TEST(report_load_reference, schema_violations_are_rejected_with_the_key)
{
    const std::string good_total = R"("total": {"mean": 1.0, "sigma": 0.1})";
    const auto doc = [&](const std::string& columns, const std::string& units = "us") {
        return R"({"source": "s", "units": ")" + units + R"(", "columns": {)" + columns + "}}";
    };
    const std::vector<std::pair<std::string, std::string>> cases = {
        {doc(R"("c": {"rows": {"r": {"mean": 1.0}}, )" + good_total + "}", "ms"), "units"},
        {doc(R"("c": {"rows": {"r": {"mean": 1.0, "pcts": 3}}, )" + good_total + "}"), "pcts"},
        {doc(R"("c": {"rows": {"r": {"pct": 3}}, )" + good_total + "}"), "mean"},
        {doc(R"("c": {"rows": {"r": {"mean": "1.0"}}, )" + good_total + "}"), "columns.c.rows.r.mean"},
        {doc(R"("c": {"rows": {"r": {"mean": 1.0, "pct": 130}}, )" + good_total + "}"), "pct"},
        {doc(R"("c": {"rows": {"r": {"mean": -1.0}}, )" + good_total + "}"), "mean"},
        {doc(R"("c": {"rows": {}, "total": {"mean": 1.0, "sigma": 0.1, "sigma_bound": "lower"}})"), "sigma_bound"},
        {doc(R"("c": {"rows": {}})"), "total"},
        {doc(R"("c": {"rows": [], )" + good_total + "}"), "columns.c.rows"},
        {doc(""), "columns"},
        {"[1, 2]", "top level"},
    };
    for (const auto& [text, needle] : cases) {
        const std::string path = write_temp("bad_reference.json", text);
        try {
            load_reference(path);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const std::runtime_error& e) {
            const std::string what = e.what();
            EXPECT_EQ(what.rfind(path, 0), 0u) << what;
            EXPECT_NE(what.find(needle), std::string::npos) << what;
        }
    }
    // The minimal valid document loads.
    const reference_table t = load_reference(write_temp("ok_reference.json", doc(R"("c": {"rows": {}, )" + good_total + "}")));
    EXPECT_EQ(t.totals.at("c").mean, 1.0);
    EXPECT_TRUE(t.rows.at("c").empty());
}

// ---- Series (throughput) reports ----------------------------------------------------------------

series_report two_series()
{
    series_report r;
    r.experiment = "udp_echo_throughput";
    r.seed = 3;
    r.x_key = "processing_us";
    r.y_key = "ktps";
    r.series.push_back({"linux", {{0, 250.123456, std::nullopt}, {1, 210, std::nullopt}}});
    r.series.push_back({"arrakis_n", {{0, 1000, 2.5}}});
    return r;
}

TEST(series_report, summary_json_follows_the_design_schema)
{
    const nlohmann::json j = to_summary_json(two_series(), nlohmann::json::object());
    EXPECT_EQ(j.at("experiment"), "udp_echo_throughput");
    EXPECT_EQ(j.at("x"), "processing_us");
    EXPECT_EQ(j.at("y"), "ktps");
    EXPECT_EQ(j.at("seed"), 3);
    ASSERT_EQ(j.at("series").at("linux").size(), 2u);
    EXPECT_DOUBLE_EQ(j.at("series").at("linux")[0].at("y").get<double>(), 250.1235);   // rounded to 4 decimals
    EXPECT_FALSE(j.at("series").at("linux")[0].contains("sigma"));
    EXPECT_DOUBLE_EQ(j.at("series").at("arrakis_n")[0].at("sigma").get<double>(), 2.5);
}

TEST(series_report, markdown_has_a_line_per_x_and_a_dash_where_a_series_has_no_point)
{
    const std::string md = to_markdown(two_series());
    EXPECT_NE(md.find("processing_us"), std::string::npos);
    EXPECT_NE(md.find("250.12"), std::string::npos);
    EXPECT_NE(md.find("1000.00 (σ 2.50)"), std::string::npos);
    // x = 1: linux has 210, arrakis_n has nothing.
    const auto line = md.find("\n| 1 ");
    ASSERT_NE(line, std::string::npos) << md;
    const std::string one = md.substr(line + 1, md.find('\n', line + 1) - line - 1);
    EXPECT_NE(one.find("210.00"), std::string::npos) << one;
    EXPECT_NE(one.find("–"), std::string::npos) << one;
}

} // namespace
} // namespace iovsim::sim
