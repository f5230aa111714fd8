#include "sim/config.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using iovsim::cfg::config;
using iovsim::cfg::config_error;
using iovsim::cfg::schema;
using iovsim::cfg::value_kind;

schema make_schema()
{
    schema s;
    s.add_real("platform.cpu.freq_ghz", 2.2, 0.1, 10.0, "GHz", "Intel Xeon E5-2430 nominal clock")
        .add_int("platform.cpu.cores", 6, 1, 64, "", "cores per socket")
        .add_int("platform.dram.latency_ns", 80, 0, 100000, "ns", "load-to-use latency")
        .add_bool("platform.iommu.enabled", true, "DMA remapping on")
        .add_string("run.label", "baseline", "free-form name of the run")
        .add_choice("run.path", "linux", {"linux", "arrakis_p", "arrakis_n"}, "I/O path under test")
        .add_string_list("run.workloads", {"udp_echo"}, "workloads to start")
        .add_int("seed", 1, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), "",
                 "root of every random stream");
    return s;
}

// Each test gets its own directory for the YAML files it writes.
class config_test : public ::testing::Test {
protected:
    void SetUp() override
    {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        m_dir = fs::temp_directory_path() /
                ("iovsim_cfg_" + std::to_string(::getpid()) + "_" + info->name());
        fs::remove_all(m_dir);
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }

    std::string write(const std::string& name, const std::string& text)
    {
        const fs::path p = m_dir / name;
        fs::create_directories(p.parent_path());
        std::ofstream(p) << text;
        return p.string();
    }

    // Loads text as a file and returns the error it must raise.
    config_error load_error(config& c, const std::string& text, const std::string& name = "bad.yaml")
    {
        const std::string path = write(name, text);
        try {
            c.load_file(path);
        } catch (const config_error& e) {
            return e;
        }
        ADD_FAILURE() << "no config_error for:\n" << text;
        return config_error("", 0, "", "");
    }

    config_error set_error(config& c, const std::string& assignment)
    {
        try {
            c.apply_override(assignment);
        } catch (const config_error& e) {
            return e;
        }
        ADD_FAILURE() << "no config_error for --set " << assignment;
        return config_error("", 0, "", "");
    }

    fs::path m_dir;
    schema m_schema = make_schema();
};

// ---- schema -------------------------------------------------------------------------------

TEST(config_schema, records_definitions_in_order)
{
    const schema s = make_schema();
    ASSERT_EQ(s.params().size(), 8u);
    EXPECT_EQ(s.params()[0].key, "platform.cpu.freq_ghz");
    EXPECT_EQ(s.params()[7].key, "seed");
    const auto* p = s.find("platform.cpu.cores");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->kind, value_kind::integer);
    EXPECT_EQ(p->default_text, "6");
    EXPECT_EQ(p->min, 1);
    EXPECT_EQ(p->max, 64);
    EXPECT_EQ(s.find("platform.cpu.freq_ghz")->default_text, "2.2");
    EXPECT_EQ(s.find("platform.cpu.freq_ghz")->unit, "GHz");
    EXPECT_EQ(s.find("run.path")->choices.size(), 3u);
    EXPECT_EQ(s.find("run.workloads")->default_text, "[udp_echo]");
    EXPECT_EQ(s.find("platform.iommu.enabled")->default_text, "true");
    EXPECT_EQ(s.find("platform"), nullptr);   // a section, not a parameter
    EXPECT_EQ(s.find("nope"), nullptr);
}

TEST(config_schema, rejects_bad_declarations)
{
    schema s;
    s.add_int("a.b", 1, 0, 10, "", "");
    EXPECT_THROW(s.add_int("a.b", 1, 0, 10, "", ""), std::logic_error);         // twice
    EXPECT_THROW(s.add_bool("a.b", true, ""), std::logic_error);                // twice, other kind
    EXPECT_THROW(s.add_int("a.b.c", 1, 0, 10, "", ""), std::logic_error);       // param as section
    EXPECT_THROW(s.add_int("a", 1, 0, 10, "", ""), std::logic_error);           // section as param
    EXPECT_THROW(s.add_int("x", 11, 0, 10, "", ""), std::logic_error);          // default above max
    EXPECT_THROW(s.add_int("x", -1, 0, 10, "", ""), std::logic_error);          // default below min
    EXPECT_THROW(s.add_int("x", 5, 10, 0, "", ""), std::logic_error);           // empty range
    EXPECT_THROW(s.add_real("x", 0.05, 0.1, 1.0, "", ""), std::logic_error);
    EXPECT_THROW(s.add_real("x", std::numeric_limits<double>::quiet_NaN(), 0, 1, "", ""), std::logic_error);
    EXPECT_THROW(s.add_choice("x", "c", {"a", "b"}, ""), std::logic_error);
    EXPECT_THROW(s.add_choice("x", "a", {}, ""), std::logic_error);
    EXPECT_THROW(s.add_choice("x", "a", {"a", "a"}, ""), std::logic_error);
    EXPECT_THROW(s.add_bool("include", true, ""), std::logic_error);
    EXPECT_THROW(s.add_bool("include.x", true, ""), std::logic_error);
    EXPECT_THROW(s.add_bool("", true, ""), std::logic_error);
    EXPECT_THROW(s.add_bool("a..x", true, ""), std::logic_error);
    EXPECT_THROW(s.add_bool("a.x y", true, ""), std::logic_error);
    EXPECT_THROW(s.add_bool("a.null", true, ""), std::logic_error);
    EXPECT_THROW(s.add_bool("y", true, "two\nlines"), std::logic_error);
    // Failed declarations left nothing behind.
    EXPECT_EQ(s.params().size(), 1u);
    EXPECT_NO_THROW(s.add_bool("x", true, ""));
    EXPECT_NO_THROW(s.add_bool("a.c", true, ""));   // a sibling under an existing section
}

// ---- defaults and getters -------------------------------------------------------------------

TEST(config_defaults, every_parameter_starts_at_its_default)
{
    const config c(make_schema());
    EXPECT_DOUBLE_EQ(c.get_real("platform.cpu.freq_ghz"), 2.2);
    EXPECT_EQ(c.get_int("platform.cpu.cores"), 6);
    EXPECT_DOUBLE_EQ(c.get_real("platform.cpu.cores"), 6.0);   // integer read as real
    EXPECT_TRUE(c.get_bool("platform.iommu.enabled"));
    EXPECT_EQ(c.get_string("run.label"), "baseline");
    EXPECT_EQ(c.get_string("run.path"), "linux");
    EXPECT_EQ(c.get_string_list("run.workloads"), std::vector<std::string>{"udp_echo"});
    const schema s = make_schema();
    for (const auto& p : s.params())
        EXPECT_EQ(c.origin(p.key), "default") << p.key;
}

TEST(config_defaults, program_errors_are_logic_errors)
{
    const config c(make_schema());
    EXPECT_THROW(c.get_int("no.such.key"), std::logic_error);
    EXPECT_THROW(c.origin("platform"), std::logic_error);
    EXPECT_THROW(c.get_int("platform.cpu.freq_ghz"), std::logic_error);   // real read as integer
    EXPECT_THROW(c.get_bool("run.label"), std::logic_error);
    EXPECT_THROW(c.get_string("run.workloads"), std::logic_error);
    EXPECT_THROW(c.get_string_list("run.label"), std::logic_error);
    EXPECT_THROW(c.get_real("run.label"), std::logic_error);
}

TEST(config_defaults, config_keeps_its_own_copy_of_the_schema)
{
    auto s = std::make_unique<schema>(make_schema());
    config c(*s);
    s.reset();
    EXPECT_EQ(c.get_int("platform.cpu.cores"), 6);
}

// ---- loading --------------------------------------------------------------------------------

TEST_F(config_test, nested_and_dotted_keys_load_with_origins)
{
    config c(m_schema);
    const auto path = write("p.yaml",
                            "platform:\n"
                            "  cpu:\n"
                            "    freq_ghz: 3.5\n"
                            "    cores: 12\n"
                            "  iommu.enabled: false\n"
                            "run.label: hello world\n"
                            "run:\n"
                            "  path: arrakis_n\n"
                            "  workloads: [a, b]\n");
    c.load_file(path);
    EXPECT_DOUBLE_EQ(c.get_real("platform.cpu.freq_ghz"), 3.5);
    EXPECT_EQ(c.get_int("platform.cpu.cores"), 12);
    EXPECT_FALSE(c.get_bool("platform.iommu.enabled"));
    EXPECT_EQ(c.get_string("run.label"), "hello world");
    EXPECT_EQ(c.get_string("run.path"), "arrakis_n");
    EXPECT_EQ(c.get_string_list("run.workloads"), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(c.origin("platform.cpu.freq_ghz"), path + ":3");
    EXPECT_EQ(c.origin("platform.iommu.enabled"), path + ":5");
    EXPECT_EQ(c.origin("run.workloads"), path + ":9");
    EXPECT_EQ(c.origin("platform.dram.latency_ns"), "default");
}

TEST_F(config_test, empty_file_and_empty_section_change_nothing)
{
    config c(m_schema);
    c.load_file(write("empty.yaml", ""));
    c.load_file(write("comments.yaml", "# nothing here\n"));
    c.load_file(write("section.yaml", "platform:\n  cpu:\nrun:\n"));
    EXPECT_EQ(c.get_int("platform.cpu.cores"), 6);
    EXPECT_EQ(c.origin("platform.cpu.cores"), "default");
}

TEST_F(config_test, integer_forms)
{
    schema s;
    s.add_int("v", 0, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), "", "");
    const std::pair<const char*, int64_t> good[] = {
        {"0", 0},
        {"42", 42},
        {"+42", 42},
        {"-42", -42},
        {"007", 7},
        {"0x1F", 31},
        {"0Xff", 255},
        {"-0x10", -16},
        {"1_000_000", 1000000},
        {"0xdead_beef", 0xdeadbeef},
        {"9223372036854775807", std::numeric_limits<int64_t>::max()},
        {"-9223372036854775808", std::numeric_limits<int64_t>::min()},
    };
    for (const auto& [text, expected] : good) {
        config c(s);
        c.load_file(write("i.yaml", std::string("v: ") + text + "\n"));
        EXPECT_EQ(c.get_int("v"), expected) << text;
    }
    const std::pair<const char*, const char*> bad[] = {
        {"abc", "expected integer, got 'abc'"},
        {"1.5", "expected integer, got '1.5'"},
        {"1e3", "expected integer, got '1e3'"},
        {"12abc", "expected integer, got '12abc'"},
        {"0x", "expected integer, got '0x'"},
        {"0xg1", "expected integer, got '0xg1'"},
        {"1__000", "expected integer, got '1__000'"},
        {"_1", "expected integer, got '_1'"},
        {"1_", "expected integer, got '1_'"},
        {"0x_1", "expected integer, got '0x_1'"},
        {"--1", "expected integer, got '--1'"},
        {"true", "expected integer, got 'true'"},
        {"\"42\"", "expected integer, got quoted or tagged string '42'"},
        {"9223372036854775808", "'9223372036854775808' does not fit in a 64-bit integer"},
        {"-9223372036854775809", "'-9223372036854775809' does not fit in a 64-bit integer"},
        {"0x10000000000000000", "'0x10000000000000000' does not fit in a 64-bit integer"},
    };
    for (const auto& [text, reason] : bad) {
        config c(s);
        const auto e = load_error(c, std::string("v: ") + text + "\n");
        EXPECT_EQ(e.reason(), reason) << text;
        EXPECT_EQ(e.key(), "v");
        EXPECT_EQ(e.line(), 1);
    }
}

TEST_F(config_test, real_forms)
{
    schema s;
    s.add_real("v", 0, -1e300, 1e300, "", "");
    const std::pair<const char*, double> good[] = {
        {"1", 1.0},           {"-3", -3.0},     {"0x10", 16.0},  {"2.5", 2.5},   {"+2.5", 2.5},
        {"-0.125", -0.125},   {"1e-9", 1e-9},   {"1E3", 1000.0}, {".5", 0.5},    {"5.", 5.0},
        {"1_000.25", 1000.25}, {"1_000", 1000.0},
    };
    for (const auto& [text, expected] : good) {
        config c(s);
        c.load_file(write("r.yaml", std::string("v: ") + text + "\n"));
        EXPECT_EQ(c.get_real("v"), expected) << text;
    }
    for (const char* text : {"abc", "inf", "-inf", "nan", ".inf", "1.2.3", "1e", "1_.5", "++1", "0x1.8p1"}) {
        config c(s);
        const auto e = load_error(c, std::string("v: ") + text + "\n");
        EXPECT_EQ(e.reason(), std::string("expected real, got '") + text + "'") << text;
    }
    config c(s);
    EXPECT_EQ(load_error(c, "v: 1e999\n").reason(), "'1e999' is beyond the range of a double");
    EXPECT_EQ(load_error(c, "v: 2e300\n").reason(), "2e300 is outside [-1e+300, 1e+300]");
}

TEST_F(config_test, booleans_are_true_or_false_only)
{
    config c(m_schema);
    c.load_file(write("b.yaml", "platform.iommu.enabled: false\n"));
    EXPECT_FALSE(c.get_bool("platform.iommu.enabled"));
    for (const char* text : {"yes", "no", "True", "FALSE", "on", "1", "0"}) {
        const auto e = load_error(c, std::string("platform.iommu.enabled: ") + text + "\n");
        EXPECT_EQ(e.reason(), std::string("expected true or false, got '") + text + "'");
    }
    EXPECT_EQ(load_error(c, "platform.iommu.enabled: 'true'\n").reason(),
              "expected true or false, got quoted or tagged string 'true'");
    EXPECT_FALSE(c.get_bool("platform.iommu.enabled"));
}

TEST_F(config_test, strings_take_any_scalar_but_not_null)
{
    config c(m_schema);
    c.load_file(write("s1.yaml", "run.label: 42\n"));
    EXPECT_EQ(c.get_string("run.label"), "42");
    c.load_file(write("s2.yaml", "run.label: true\n"));
    EXPECT_EQ(c.get_string("run.label"), "true");
    c.load_file(write("s3.yaml", "run.label: \"\"\n"));
    EXPECT_EQ(c.get_string("run.label"), "");
    c.load_file(write("s4.yaml", "run.label: 'a: b # c'\n"));
    EXPECT_EQ(c.get_string("run.label"), "a: b # c");
    const auto e = load_error(c, "run.label:\n");
    EXPECT_EQ(e.reason(), "expected string, got no value (write \"\" for an empty string)");
    EXPECT_EQ(e.line(), 1);
    EXPECT_EQ(load_error(c, "run.label: ~\n").reason(), e.reason());
}

TEST_F(config_test, string_lists)
{
    config c(m_schema);
    c.load_file(write("l1.yaml", "run:\n  workloads:\n    - x\n    - 'y z'\n    - 3\n"));
    EXPECT_EQ(c.get_string_list("run.workloads"), (std::vector<std::string>{"x", "y z", "3"}));
    c.load_file(write("l2.yaml", "run.workloads: single\n"));
    EXPECT_EQ(c.get_string_list("run.workloads"), std::vector<std::string>{"single"});
    c.load_file(write("l3.yaml", "run.workloads: []\n"));
    EXPECT_TRUE(c.get_string_list("run.workloads").empty());

    auto e = load_error(c, "run:\n  workloads:\n    - a\n    - [b]\n");
    EXPECT_EQ(e.line(), 4);
    EXPECT_EQ(e.key(), "run.workloads");
    EXPECT_EQ(e.reason(), "list elements must be strings, got a list");
    e = load_error(c, "run.workloads: {a: 1}\n");
    EXPECT_EQ(e.reason(), "expected a list of strings, got a map");
    e = load_error(c, "run.workloads: [a, ~]\n");
    EXPECT_EQ(e.reason(), "list elements must be strings, got no value");
}

TEST_F(config_test, choices)
{
    config c(m_schema);
    const auto e = load_error(c, "run:\n  path: foo\n");
    EXPECT_EQ(e.key(), "run.path");
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.reason(), "'foo' is not one of: linux, arrakis_p, arrakis_n");
    EXPECT_EQ(load_error(c, "run.path: [linux]\n").reason(),
              "expected one of: linux, arrakis_p, arrakis_n, got a list");
    c.load_file(write("ok.yaml", "run.path: \"arrakis_p\"\n"));
    EXPECT_EQ(c.get_string("run.path"), "arrakis_p");
}

// ---- error classes with file, line and key ---------------------------------------------------

TEST_F(config_test, yaml_syntax_error_has_yaml_cpp_line)
{
    config c(m_schema);
    const auto e = load_error(c, "platform:\n  cpu:\n    cores: [1, 2\n  dram: 3\n", "syntax.yaml");
    EXPECT_EQ(e.file(), (m_dir / "syntax.yaml").string());
    EXPECT_GE(e.line(), 3);
    EXPECT_EQ(e.key(), "");
    EXPECT_EQ(e.reason().rfind("YAML syntax error: ", 0), 0u) << e.reason();
    EXPECT_EQ(std::string(e.what()), e.file() + ":" + std::to_string(e.line()) + ": " + e.reason());
}

TEST_F(config_test, unknown_keys_with_suggestions)
{
    config c(m_schema);
    auto e = load_error(c, "platform:\n  cpu:\n    freq_gzh: 2.0\n");
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.key(), "platform.cpu.freq_gzh");
    EXPECT_EQ(e.reason(), "unknown key; did you mean 'platform.cpu.freq_ghz'?");
    EXPECT_EQ(std::string(e.what()), e.file() + ":3: platform.cpu.freq_gzh: " + e.reason());

    e = load_error(c, "run: {label: x}\nplatfrom:\n  cpu:\n    cores: 2\n");
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.key(), "platfrom");
    EXPECT_EQ(e.reason(), "unknown key; did you mean 'platform'?");

    // Right name, wrong section: suggested by its last component.
    e = load_error(c, "dram:\n  latency_ns: 90\n");
    EXPECT_EQ(e.key(), "dram");
    e = load_error(c, "hardware.dram.latency_ns: 90\n");
    EXPECT_EQ(e.reason(), "unknown key; did you mean 'platform.dram.latency_ns'?");

    e = load_error(c, "completely_unrelated_name: 1\n");
    EXPECT_EQ(e.reason(), "unknown key");

    // "include" is only special at the top level.
    e = load_error(c, "platform:\n  include: x.yaml\n");
    EXPECT_EQ(e.key(), "platform.include");
    EXPECT_EQ(e.line(), 2);
}

TEST_F(config_test, map_where_value_expected_and_vice_versa)
{
    config c(m_schema);
    auto e = load_error(c, "platform:\n  cpu:\n    cores:\n      n: 3\n");
    EXPECT_EQ(e.key(), "platform.cpu.cores");
    EXPECT_EQ(e.line(), 4);
    EXPECT_EQ(e.reason(), "expected integer, got a map");

    e = load_error(c, "platform:\n  cpu: 3\n");
    EXPECT_EQ(e.key(), "platform.cpu");
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.reason(), "is a section: expected a map of its parameters, got '3'");

    e = load_error(c, "platform: [a, b]\n");
    EXPECT_EQ(e.key(), "platform");
    EXPECT_EQ(e.reason(), "is a section: expected a map of its parameters, got a list");

    e = load_error(c, "platform.cpu.cores: [1]\n");
    EXPECT_EQ(e.reason(), "expected integer, got a list");

    e = load_error(c, "- a\n- b\n");
    EXPECT_EQ(e.key(), "");
    EXPECT_EQ(e.reason(), "expected a map of parameters at the top level");
}

TEST_F(config_test, out_of_range_and_wrong_type)
{
    config c(m_schema);
    auto e = load_error(c, "# header\nplatform:\n  cpu:\n    cores: 120\n", "range.yaml");
    EXPECT_EQ(e.file(), (m_dir / "range.yaml").string());
    EXPECT_EQ(e.line(), 4);
    EXPECT_EQ(e.key(), "platform.cpu.cores");
    EXPECT_EQ(e.reason(), "120 is outside [1, 64]");
    EXPECT_EQ(load_error(c, "platform.cpu.cores: 0\n").reason(), "0 is outside [1, 64]");
    EXPECT_EQ(load_error(c, "platform.cpu.freq_ghz: 10.5\n").reason(), "10.5 is outside [0.1, 10]");
    EXPECT_EQ(load_error(c, "platform.cpu.freq_ghz: fast\n").reason(), "expected real, got 'fast'");
    EXPECT_EQ(load_error(c, "platform.cpu.cores:\n").reason(), "expected integer, got no value");
    // Bounds are the exact ones, even past 2^53.
    EXPECT_NO_THROW(c.load_file(write("big.yaml", "seed: 9007199254740993\n")));
    EXPECT_EQ(c.get_int("seed"), 9007199254740993);
}

TEST_F(config_test, duplicate_keys_in_one_file)
{
    config c(m_schema);
    auto e = load_error(c, "platform:\n  cpu:\n    cores: 2\n    cores: 4\n");
    EXPECT_EQ(e.line(), 4);
    EXPECT_EQ(e.key(), "platform.cpu.cores");
    EXPECT_EQ(e.reason(), "given twice in the same map (first at line 3)");

    e = load_error(c, "platform.cpu.cores: 2\nplatform:\n  cpu:\n    cores: 4\n");
    EXPECT_EQ(e.line(), 4);
    EXPECT_EQ(e.key(), "platform.cpu.cores");
    EXPECT_EQ(e.reason(), "given twice in this file (first at line 1)");

    e = load_error(c, "run:\n  label: a\nrun:\n  path: linux\n");
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.key(), "run");

    e = load_error(c, "multi: 1\n---\nother: 2\n");
    EXPECT_EQ(e.reason(), "more than one YAML document");
}

TEST_F(config_test, missing_file)
{
    config c(m_schema);
    const std::string path = (m_dir / "absent.yaml").string();
    try {
        c.load_file(path);
        FAIL() << "no error";
    } catch (const config_error& e) {
        EXPECT_EQ(e.file(), path);
        EXPECT_EQ(e.line(), 0);
        EXPECT_EQ(e.reason(), "no such file");
        EXPECT_EQ(std::string(e.what()), path + ": no such file");
    }
    EXPECT_THROW(c.load_file(m_dir.string()), config_error);   // a directory
}

// ---- includes -------------------------------------------------------------------------------

TEST_F(config_test, include_order_and_relative_paths)
{
    write("platforms/base.yaml", "platform:\n  cpu:\n    cores: 4\n    freq_ghz: 2.0\n"
                                 "  dram.latency_ns: 100\n");
    write("platforms/fast.yaml", "platform.cpu.freq_ghz: 3.0\nrun.label: fast\n");
    const auto top = write("experiments/run.yaml",
                           "platform.cpu.cores: 8\n"
                           "include:\n"
                           "  - ../platforms/base.yaml\n"
                           "  - ../platforms/fast.yaml\n");
    config c(m_schema);
    c.load_file(top);
    EXPECT_EQ(c.get_int("platform.cpu.cores"), 8);               // the including file wins
    EXPECT_DOUBLE_EQ(c.get_real("platform.cpu.freq_ghz"), 3.0);  // the later include wins
    EXPECT_EQ(c.get_int("platform.dram.latency_ns"), 100);       // only in the first include
    EXPECT_EQ(c.get_string("run.label"), "fast");
    EXPECT_EQ(c.origin("platform.cpu.cores"), top + ":1");
    EXPECT_EQ(c.origin("platform.dram.latency_ns"), (m_dir / "platforms/base.yaml").string() + ":5");

    // A single string, and nested includes resolved against each file's own directory.
    write("a/inner/leaf.yaml", "run.path: arrakis_p\n");
    write("a/mid.yaml", "include: inner/leaf.yaml\nrun.label: mid\n");
    config d(m_schema);
    d.load_file(write("top.yaml", "include: a/mid.yaml\n"));
    EXPECT_EQ(d.get_string("run.path"), "arrakis_p");
    EXPECT_EQ(d.get_string("run.label"), "mid");
}

TEST_F(config_test, include_cycles_and_missing_includes)
{
    write("a.yaml", "include: b.yaml\n");
    write("b.yaml", "run.label: b\ninclude: [a.yaml]\n");
    config c(m_schema);
    try {
        c.load_file((m_dir / "a.yaml").string());
        FAIL() << "no error";
    } catch (const config_error& e) {
        EXPECT_EQ(e.file(), (m_dir / "b.yaml").string());
        EXPECT_EQ(e.line(), 2);
        EXPECT_EQ(e.key(), "include");
        EXPECT_NE(e.reason().find("include cycle"), std::string::npos) << e.reason();
    }
    EXPECT_EQ(c.get_string("run.label"), "baseline");

    auto e = load_error(c, "include: self.yaml\n", "self.yaml");
    EXPECT_NE(e.reason().find("include cycle"), std::string::npos);

    e = load_error(c, "run.label: x\ninclude:\n  - a_missing.yaml\n");
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.key(), "include");
    EXPECT_NE(e.reason().find("no such file"), std::string::npos) << e.reason();

    e = load_error(c, "include: {a: b}\n");
    EXPECT_EQ(e.key(), "include");
    e = load_error(c, "include: ''\n");
    EXPECT_EQ(e.reason(), "empty file name");

    // The same file reached twice without a cycle is fine.
    write("common.yaml", "run.label: common\n");
    write("x.yaml", "include: common.yaml\n");
    c.load_file(write("diamond.yaml", "include: [common.yaml, x.yaml]\n"));
    EXPECT_EQ(c.get_string("run.label"), "common");
}

TEST_F(config_test, errors_inside_includes_name_the_included_file)
{
    write("inc.yaml", "platform:\n  cpu:\n    cores: 99\n");
    config c(m_schema);
    const auto e = load_error(c, "include: inc.yaml\n");
    EXPECT_EQ(e.file(), (m_dir / "inc.yaml").string());
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.key(), "platform.cpu.cores");
}

// ---- all or nothing -------------------------------------------------------------------------

TEST_F(config_test, failed_load_leaves_config_unchanged)
{
    config c(m_schema);
    c.apply_override("run.label=kept");
    const std::string before = c.to_yaml();

    load_error(c, "platform.cpu.cores: 8\nrun.label: changed\nrun.path: nowhere\n");
    load_error(c, "platform.cpu.cores: 8\nbogus: 1\n");
    write("good.yaml", "platform.cpu.cores: 8\n");
    load_error(c, "include: good.yaml\nrun.label: [x]\n");
    write("bad_inc.yaml", "platform.cpu.cores: 800\n");
    load_error(c, "run.label: changed\ninclude: bad_inc.yaml\n");
    load_error(c, "platform.cpu.cores: 8\nrun: {label: [unterminated\n");

    EXPECT_EQ(c.to_yaml(), before);
    EXPECT_EQ(c.get_int("platform.cpu.cores"), 6);
    EXPECT_EQ(c.origin("platform.cpu.cores"), "default");
    EXPECT_EQ(c.origin("run.label"), "--set");
}

// ---- --set ----------------------------------------------------------------------------------

TEST_F(config_test, set_on_each_kind)
{
    config c(m_schema);
    c.load_file(write("base.yaml", "platform.cpu.cores: 2\n"));
    c.apply_override("platform.cpu.cores=0x10");
    c.apply_override("platform.cpu.freq_ghz = 1.5");
    c.apply_override("platform.iommu.enabled=false");
    c.apply_override("run.label=two words");
    c.apply_override("run.path=arrakis_n");
    c.apply_override("run.workloads=[echo, \"kv store\"]");
    c.apply_override("seed=-1_000");
    EXPECT_EQ(c.get_int("platform.cpu.cores"), 16);
    EXPECT_DOUBLE_EQ(c.get_real("platform.cpu.freq_ghz"), 1.5);
    EXPECT_FALSE(c.get_bool("platform.iommu.enabled"));
    EXPECT_EQ(c.get_string("run.label"), "two words");
    EXPECT_EQ(c.get_string("run.path"), "arrakis_n");
    EXPECT_EQ(c.get_string_list("run.workloads"), (std::vector<std::string>{"echo", "kv store"}));
    EXPECT_EQ(c.get_int("seed"), -1000);
    EXPECT_EQ(c.origin("platform.cpu.cores"), "--set");
    c.apply_override("run.workloads=solo");
    EXPECT_EQ(c.get_string_list("run.workloads"), std::vector<std::string>{"solo"});
    c.apply_override("run.label=a=b");   // only the first '=' splits
    EXPECT_EQ(c.get_string("run.label"), "a=b");
    c.apply_override("run.label=\"\"");
    EXPECT_EQ(c.get_string("run.label"), "");
}

TEST_F(config_test, set_errors)
{
    config c(m_schema);
    auto e = set_error(c, "platform.cpu.cores");
    EXPECT_EQ(e.file(), "--set");
    EXPECT_EQ(e.line(), 0);
    EXPECT_EQ(e.reason(), "expected key=value");

    e = set_error(c, "=3");
    EXPECT_EQ(e.reason(), "missing key before '='");

    e = set_error(c, "platform.cpu.corse=3");
    EXPECT_EQ(e.key(), "platform.cpu.corse");
    EXPECT_EQ(e.reason(), "unknown key; did you mean 'platform.cpu.cores'?");
    EXPECT_EQ(std::string(e.what()), "--set: platform.cpu.corse: unknown key; did you mean 'platform.cpu.cores'?");

    EXPECT_EQ(set_error(c, "platform.cpu=3").reason(), "is a section, not a parameter");
    EXPECT_EQ(set_error(c, "platform.cpu.cores=65").reason(), "65 is outside [1, 64]");
    EXPECT_EQ(set_error(c, "platform.cpu.cores=").reason(), "expected integer, got no value");
    EXPECT_EQ(set_error(c, "platform.cpu.cores=[1]").reason(), "expected integer, got a list");
    EXPECT_EQ(set_error(c, "platform.iommu.enabled=yes").reason(), "expected true or false, got 'yes'");
    EXPECT_EQ(set_error(c, "run.path=bsd").reason(), "'bsd' is not one of: linux, arrakis_p, arrakis_n");
    EXPECT_EQ(set_error(c, "run.workloads=[a, [b]]").reason(), "list elements must be strings, got a list");
    e = set_error(c, "run.workloads=[a, b");
    EXPECT_EQ(e.key(), "run.workloads");
    EXPECT_EQ(e.reason().rfind("invalid value: ", 0), 0u) << e.reason();
    EXPECT_EQ(set_error(c, "include=x.yaml").reason(), "unknown key");

    // Nothing was changed by the failures.
    for (const auto& p : m_schema.params())
        EXPECT_EQ(c.origin(p.key), "default") << p.key;
}

// ---- output ---------------------------------------------------------------------------------

TEST(config_output, yaml_layout)
{
    schema s;
    s.add_real("platform.cpu.freq_ghz", 2.2, 0.1, 10, "GHz", "Intel Xeon E5-2430 nominal clock")
        .add_bool("top", false, "")
        .add_int("platform.nic.vfs", 16, 1, 64, "", "virtual functions")
        .add_int("platform.cpu.cores", 6, 1, 64, "", "")
        .add_string_list("platform.nic.macs", {}, "")
        .add_string("label", "42", "")
        .add_string_list("words", {"yes", "plain", "a: b"}, "");
    const config c(s);
    EXPECT_EQ(c.to_yaml(),
              "platform:\n"
              "  cpu:\n"
              "    freq_ghz: 2.2  # GHz; Intel Xeon E5-2430 nominal clock\n"
              "    cores: 6\n"
              "  nic:\n"
              "    vfs: 16  # virtual functions\n"
              "    macs: []\n"
              "top: false\n"
              "label: \"42\"\n"
              "words: [\"yes\", plain, \"a: b\"]\n");
    EXPECT_EQ(s.find("label")->default_text, "\"42\"");
}

TEST_F(config_test, yaml_round_trip_reproduces_every_value)
{
    schema s = make_schema();
    s.add_real("r.tiny", 0, -1, 1, "", "")
        .add_real("r.third", 0, -1, 1, "", "")
        .add_real("r.big", 0, 0, std::numeric_limits<double>::max(), "", "")
        .add_real("r.neg", 0, -10, 10, "", "")
        .add_int("i.min", 0, std::numeric_limits<int64_t>::min(), 0, "", "")
        .add_string("s.tricky", "", "quotes \" and # hashes in help")
        .add_string("s.nullish", "", "")
        .add_string("s.empty", "x", "")
        .add_string("s.unicode", "", "")
        .add_string_list("s.list", {}, "");
    config c(s);
    c.apply_override("run.label=\"say \\\"hi\\\": #1 \\\\ \\t end\"");
    c.apply_override("r.tiny=5e-324");
    c.apply_override("r.third=0.3333333333333333");
    c.apply_override("r.big=1.7976931348623157e308");
    c.apply_override("r.neg=-2.5");
    c.apply_override("i.min=-9223372036854775808");
    c.apply_override("s.nullish=\"null\"");
    c.apply_override("s.empty=\"\"");
    c.apply_override("s.unicode=\"h\\u00e9llo \\x01\"");
    c.apply_override("s.list=[\"a, b\", \"~\", \"- dash\", \"[x]\", plain, \"true\", \"\", \"'q'\"]");
    c.apply_override("platform.iommu.enabled=false");
    c.apply_override("run.workloads=[]");

    const std::string text = c.to_yaml();
    config back(s);
    back.load_file(write("effective.yaml", text));
    for (const auto& p : s.params()) {
        switch (p.kind) {
        case value_kind::integer: EXPECT_EQ(back.get_int(p.key), c.get_int(p.key)) << p.key; break;
        case value_kind::real: EXPECT_EQ(back.get_real(p.key), c.get_real(p.key)) << p.key; break;
        case value_kind::boolean: EXPECT_EQ(back.get_bool(p.key), c.get_bool(p.key)) << p.key; break;
        case value_kind::string:
        case value_kind::choice: EXPECT_EQ(back.get_string(p.key), c.get_string(p.key)) << p.key; break;
        case value_kind::string_list:
            EXPECT_EQ(back.get_string_list(p.key), c.get_string_list(p.key)) << p.key;
            break;
        case value_kind::map: EXPECT_EQ(back.get_map(p.key), c.get_map(p.key)) << p.key; break;
        }
        EXPECT_NE(back.origin(p.key), "default") << p.key;   // every parameter is in the file
    }
    EXPECT_EQ(back.get_string("s.unicode"), "h\xc3\xa9llo \x01");
    EXPECT_EQ(back.to_yaml(), text);   // and writing again is byte-identical
}

TEST(config_output, json_is_nested_and_typed)
{
    config c(make_schema());
    c.apply_override("run.workloads=[a, b]");
    const auto j = c.to_json();
    ASSERT_TRUE(j["platform"]["cpu"]["cores"].is_number_integer());
    EXPECT_EQ(j["platform"]["cpu"]["cores"].get<int64_t>(), 6);
    ASSERT_TRUE(j["platform"]["cpu"]["freq_ghz"].is_number_float());
    EXPECT_DOUBLE_EQ(j["platform"]["cpu"]["freq_ghz"].get<double>(), 2.2);
    EXPECT_TRUE(j["platform"]["iommu"]["enabled"].is_boolean());
    EXPECT_EQ(j["run"]["path"], "linux");
    EXPECT_EQ(j["run"]["workloads"], nlohmann::json::array({"a", "b"}));
    EXPECT_EQ(j["seed"], 1);
    EXPECT_EQ(j.size(), 3u);   // platform, run, seed
}

}  // namespace

// ---- collections ------------------------------------------------------------------------------

namespace {

schema collection_schema()
{
    schema s;
    s.add_int("experiment.requests", 10, 1, 100, "", "requests");
    s.add_collection("columns", [](schema& c, const std::string& base) {
        c.add_choice(base + ".path", "linux", {"linux", "arrakis"}, "path");
        c.add_int(base + ".outstanding", 1, 1, 64, "", "in flight");
    });
    return s;
}

} // namespace

TEST_F(config_test, collection_members_appear_when_a_file_names_them)
{
    config c(collection_schema());
    EXPECT_EQ(c.get_schema().find("columns.a.path"), nullptr);
    c.load_file(write("cols.yaml", "columns:\n  a:\n    path: arrakis\n  b:\n    outstanding: 8\n"));
    EXPECT_EQ(c.get_string("columns.a.path"), "arrakis");
    EXPECT_EQ(c.get_int("columns.a.outstanding"), 1);   // members not given keep their defaults
    EXPECT_EQ(c.get_string("columns.b.path"), "linux");
    EXPECT_EQ(c.get_int("columns.b.outstanding"), 8);
    EXPECT_EQ(c.origin("columns.b.outstanding"), write("cols.yaml", "columns:\n  a:\n    path: arrakis\n  b:\n    outstanding: 8\n") + ":5");
    // The effective config carries them, and loads back.
    config back(collection_schema());
    back.load_file(write("back.yaml", c.to_yaml()));
    EXPECT_EQ(back.get_int("columns.b.outstanding"), 8);
    EXPECT_EQ(back.get_string("columns.a.path"), "arrakis");
}

TEST_F(config_test, collection_members_are_checked_like_any_parameter)
{
    config c(collection_schema());
    const config_error e = load_error(c, "columns:\n  a:\n    outstanding: 99\n");
    EXPECT_EQ(e.key(), "columns.a.outstanding");
    EXPECT_EQ(e.line(), 3);
    const config_error unknown = load_error(c, "columns:\n  a:\n    speed: 3\n");
    EXPECT_EQ(unknown.key(), "columns.a.speed");
    // A failed load declares nothing.
    EXPECT_EQ(c.get_schema().find("columns.a.path"), nullptr);
    const config_error bad_name = set_error(c, "columns.a+b.path=linux");
    EXPECT_NE(bad_name.reason().find("not a valid name"), std::string::npos) << bad_name.what();
}

TEST_F(config_test, collection_members_by_set_and_by_instantiate)
{
    config c(collection_schema());
    c.apply_override("columns.x.outstanding=4");
    EXPECT_EQ(c.get_int("columns.x.outstanding"), 4);
    EXPECT_EQ(c.origin("columns.x.outstanding"), "--set");
    // A failed override declares nothing either.
    set_error(c, "columns.y.outstanding=0");
    EXPECT_EQ(c.get_schema().find("columns.y.path"), nullptr);
    c.instantiate("columns", "z", "experiment.columns");
    EXPECT_EQ(c.get_string("columns.z.path"), "linux");
    c.instantiate("columns", "z", "experiment.columns");   // a second time changes nothing
    EXPECT_EQ(c.get_schema().params().size(), 1u + 2 * 2);   // requests, then x and z (y failed)
}

// A map parameter keeps its entries in order with their lines, writes itself back as a flow map
// that loads to the same entries, and takes a flow map from --set.
TEST_F(config_test, map_parameters)
{
    schema s = make_schema();
    s.add_map("run.sweep", "parameter -> values");
    config c(s);
    EXPECT_TRUE(c.get_map("run.sweep").empty());
    EXPECT_NE(c.to_yaml().find("sweep: {}"), std::string::npos);
    c.load_file(write("m.yaml", "run:\n  sweep:\n    platform.cpu.cores: [1, 2, 4]\n"
                                "    platform.dram.latency_ns: {from: 10, to: 40, step: 10}\n"));
    const auto m = c.get_map("run.sweep");
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[0].key, "platform.cpu.cores");
    EXPECT_EQ(m[0].value, "[1, 2, 4]");
    EXPECT_EQ(m[0].line, 3);
    EXPECT_EQ(m[1].key, "platform.dram.latency_ns");
    EXPECT_EQ(m[1].value, "{from: 10, to: 40, step: 10}");
    EXPECT_EQ(m[1].line, 4);
    EXPECT_EQ(c.to_json()["run"]["sweep"]["platform.cpu.cores"], nlohmann::json::array({1, 2, 4}));
    EXPECT_EQ(c.to_json()["run"]["sweep"]["platform.dram.latency_ns"]["step"], 10);

    config back(s);
    back.load_file(write("back.yaml", c.to_yaml()));
    EXPECT_EQ(back.get_map("run.sweep"), m);
    EXPECT_EQ(back.to_yaml(), c.to_yaml());

    c.apply_override("run.sweep={seed: [1, 2]}");
    ASSERT_EQ(c.get_map("run.sweep").size(), 1u);
    EXPECT_EQ(c.get_map("run.sweep")[0].value, "[1, 2]");
    EXPECT_EQ(c.value_text("run.sweep"), "{seed: [1, 2]}");
    EXPECT_EQ(c.value_text("platform.cpu.freq_ghz"), "2.2");
    EXPECT_THROW(c.get_string("run.sweep"), std::logic_error);

    auto e = load_error(c, "run:\n  sweep: [a, b]\n");
    EXPECT_EQ(e.key(), "run.sweep");
    EXPECT_NE(e.reason().find("expected a map"), std::string::npos) << e.what();
    e = load_error(c, "run:\n  sweep:\n    a: 1\n    a: 2\n");
    EXPECT_EQ(e.line(), 4);
    e = load_error(c, "run:\n  sweep:\n    a:\n");
    EXPECT_EQ(e.line(), 3);
    EXPECT_NE(e.reason().find("no value"), std::string::npos) << e.what();
}
