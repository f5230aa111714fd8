#include "sim/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <type_traits>

#include <yaml-cpp/yaml.h>

namespace iovsim::cfg {

namespace {

namespace fs = std::filesystem;
using detail::value;

const std::string set_file = "--set";

// Longest edit distance at which an unknown key still gets a "did you mean" suggestion.
constexpr size_t suggest_distance = 3;

[[noreturn]] void schema_bug(const std::string& key, const std::string& why)
{
    throw std::logic_error("config schema: " + key + ": " + why);
}

bool is_null_word(const std::string& s)
{
    return s == "null" || s == "Null" || s == "NULL" || s == "~";
}

// A component is a YAML plain scalar that reads back as itself, never as null.
bool valid_component(const std::string& c)
{
    if (c.empty() || is_null_word(c))
        return false;
    return std::all_of(c.begin(), c.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '_' || ch == '-';
    });
}

std::vector<std::string> split_key(const std::string& key)
{
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        const size_t dot = key.find('.', start);
        parts.push_back(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        if (dot == std::string::npos)
            return parts;
        start = dot + 1;
    }
}

std::string last_component(const std::string& key)
{
    const size_t dot = key.rfind('.');
    return dot == std::string::npos ? key : key.substr(dot + 1);
}

std::string join_key(const std::string& prefix, const std::string& name)
{
    return prefix.empty() ? name : prefix + "." + name;
}

std::string trim(const std::string& s)
{
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string::npos)
        return "";
    const auto last = s.find_last_not_of(" \t");
    return s.substr(first, last - first + 1);
}

size_t edit_distance(const std::string& a, const std::string& b)
{
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

// Shortest text that reads back to the same double.
std::string format_real(double v)
{
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

enum class number_parse { ok, bad, overflow };
number_parse parse_int(const std::string& text, int64_t& out);
number_parse parse_real(const std::string& text, double& out);

// Words other YAML readers (YAML 1.1) take for booleans.
bool is_bool_word(std::string s)
{
    for (auto& ch : s)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s == "true" || s == "false" || s == "yes" || s == "no" || s == "on" || s == "off" ||
           s == "y" || s == "n";
}

// Plain when the text is an unambiguous YAML plain scalar, double-quoted otherwise. Strings
// that look like numbers or booleans are quoted too, so any YAML reader sees a string.
std::string yaml_string(const std::string& s)
{
    double unused = 0;
    const bool plain =
        !s.empty() && !is_null_word(s) && !is_bool_word(s) &&
        parse_real(s, unused) == number_parse::bad &&
        std::all_of(s.begin(), s.end(), [](char ch) {
            return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                   ch == '_' || ch == '.' || ch == '/' || ch == '-' || ch == '+';
        }) &&
        s[0] != '-' && s[0] != '+' && s[0] != '.';
    if (plain)
        return s;
    std::string out = "\"";
    for (const char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (ch == '\n') {
            out += "\\n";
        } else if (ch == '\t') {
            out += "\\t";
        } else if (u < 0x20 || u == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += ch;
        }
    }
    out += '"';
    return out;
}

std::string format_value(const value& v)
{
    if (const auto* m = std::get_if<std::vector<map_entry>>(&v)) {
        std::string out = "{";
        for (size_t i = 0; i < m->size(); ++i)
            out += (i ? ", " : "") + yaml_string((*m)[i].key) + ": " + (*m)[i].value;
        return out + "}";
    }
    if (const auto* i = std::get_if<int64_t>(&v))
        return std::to_string(*i);
    if (const auto* r = std::get_if<double>(&v))
        return format_real(*r);
    if (const auto* b = std::get_if<bool>(&v))
        return *b ? "true" : "false";
    if (const auto* s = std::get_if<std::string>(&v))
        return yaml_string(*s);
    const auto& list = std::get<std::vector<std::string>>(v);
    std::string out = "[";
    for (size_t i = 0; i < list.size(); ++i)
        out += (i ? ", " : "") + yaml_string(list[i]);
    return out + "]";
}

// Accepts separators only between two digits, so "1__0", "_1" and "1_" stay malformed.
bool strip_separators(const std::string& in, bool hex, std::string& out)
{
    const auto is_digit = [hex](char ch) {
        return (ch >= '0' && ch <= '9') ||
               (hex && ((ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')));
    };
    out.clear();
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '_') {
            out += in[i];
            continue;
        }
        if (i == 0 || i + 1 == in.size() || !is_digit(in[i - 1]) || !is_digit(in[i + 1]))
            return false;
    }
    return true;
}

// Decimal or 0x hex, optional sign, '_' digit separators.
number_parse parse_int(const std::string& text, int64_t& out)
{
    size_t pos = 0;
    bool negative = false;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
        negative = text[pos++] == '-';
    bool hex = false;
    if (text.size() >= pos + 2 && text[pos] == '0' && (text[pos + 1] == 'x' || text[pos + 1] == 'X')) {
        hex = true;
        pos += 2;
    }
    std::string digits;
    if (!strip_separators(text.substr(pos), hex, digits) || digits.empty())
        return number_parse::bad;
    uint64_t magnitude = 0;
    const auto res = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, hex ? 16 : 10);
    if (res.ptr != digits.data() + digits.size())
        return number_parse::bad;
    if (res.ec == std::errc::result_out_of_range)
        return number_parse::overflow;
    if (res.ec != std::errc())
        return number_parse::bad;
    constexpr uint64_t max_pos = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (magnitude > max_pos + (negative ? 1 : 0))
        return number_parse::overflow;
    if (negative)
        out = magnitude == max_pos + 1 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(magnitude);
    else
        out = static_cast<int64_t>(magnitude);
    return number_parse::ok;
}

// Any integer literal, or a decimal floating-point literal; finite values only.
number_parse parse_real(const std::string& text, double& out)
{
    int64_t i = 0;
    if (parse_int(text, i) == number_parse::ok) {
        out = static_cast<double>(i);
        return number_parse::ok;
    }
    std::string body = text;
    if (!body.empty() && body[0] == '+')
        body.erase(0, 1);
    std::string digits;
    if (!strip_separators(body, false, digits) || digits.empty() || digits[0] == '+')
        return number_parse::bad;
    // from_chars also reads "inf" and "nan"; only digits, sign, point and exponent are numbers here.
    const bool numeric = std::all_of(digits.begin(), digits.end(), [](char ch) {
        return (ch >= '0' && ch <= '9') || ch == '.' || ch == 'e' || ch == 'E' || ch == '+' || ch == '-';
    });
    if (!numeric)
        return number_parse::bad;
    double v = 0;
    const auto res = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (res.ptr != digits.data() + digits.size())
        return number_parse::bad;
    if (res.ec == std::errc::result_out_of_range)
        return number_parse::overflow;
    if (res.ec != std::errc() || !std::isfinite(v))
        return number_parse::bad;
    out = v;
    return number_parse::ok;
}

std::string expected_text(const param_def& def)
{
    switch (def.kind) {
    case value_kind::integer: return "expected integer";
    case value_kind::real: return "expected real";
    case value_kind::boolean: return "expected true or false";
    case value_kind::string: return "expected string";
    case value_kind::string_list: return "expected a list of strings";
    case value_kind::map: return "expected a map";
    case value_kind::choice: {
        std::string s = "expected one of: ";
        for (size_t i = 0; i < def.choices.size(); ++i)
            s += (i ? ", " : "") + def.choices[i];
        return s;
    }
    }
    return "expected a value";
}

bool is_plain(const YAML::Node& node)
{
    return node.Tag() == "?";
}

std::string describe(const YAML::Node& node)
{
    if (node.IsMap())
        return "a map";
    if (node.IsSequence())
        return "a list";
    if (node.IsScalar()) {
        if (is_plain(node))
            return "'" + node.Scalar() + "'";
        return "quoted or tagged string '" + node.Scalar() + "'";
    }
    return "no value";
}

int mark_line(const YAML::Mark& mark)
{
    return mark.is_null() ? 0 : mark.line + 1;
}

}  // namespace

const char* to_string(value_kind kind)
{
    switch (kind) {
    case value_kind::integer: return "integer";
    case value_kind::real: return "real";
    case value_kind::boolean: return "boolean";
    case value_kind::string: return "string";
    case value_kind::choice: return "choice";
    case value_kind::string_list: return "string list";
    case value_kind::map: return "map";
    }
    return "unknown";
}

// ---------------------------------------------------------------------------------------------
// schema

void schema::add(param_def def, value v, int64_t imin, int64_t imax)
{
    const std::string& key = def.key;
    const auto parts = split_key(key);
    if (!std::all_of(parts.begin(), parts.end(), valid_component))
        schema_bug(key, "malformed key (components of letters, digits, '_' and '-', joined by '.')");
    if (parts.front() == "include")
        schema_bug(key, "'include' is reserved at the top level");
    if (m_index.count(key))
        schema_bug(key, "declared twice");
    if (m_sections.count(key))
        schema_bug(key, "already a section of another parameter");
    std::string prefix;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        prefix = join_key(prefix, parts[i]);
        if (m_index.count(prefix))
            schema_bug(key, "'" + prefix + "' is already a parameter, it cannot also be a section");
    }
    if (def.help.find_first_of("\r\n") != std::string::npos || def.unit.find_first_of("\r\n") != std::string::npos)
        schema_bug(key, "help and unit must be one line");

    prefix.clear();
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        prefix = join_key(prefix, parts[i]);
        m_sections.insert(prefix);
    }
    def.default_text = format_value(v);
    m_index.emplace(key, m_params.size());
    m_params.push_back(std::move(def));
    m_defaults.push_back(std::move(v));
    m_int_ranges.emplace_back(imin, imax);
}

schema& schema::add_int(const std::string& key, int64_t def, int64_t min, int64_t max,
                        const std::string& unit, const std::string& help)
{
    if (min > max)
        schema_bug(key, "min is above max");
    if (def < min || def > max)
        schema_bug(key, "default " + std::to_string(def) + " is outside its range");
    param_def p{key, value_kind::integer, "", static_cast<double>(min), static_cast<double>(max), {}, unit, help};
    add(std::move(p), value(def), min, max);
    return *this;
}

schema& schema::add_real(const std::string& key, double def, double min, double max,
                         const std::string& unit, const std::string& help)
{
    if (!std::isfinite(def) || !std::isfinite(min) || !std::isfinite(max))
        schema_bug(key, "default and range must be finite");
    if (min > max)
        schema_bug(key, "min is above max");
    if (def < min || def > max)
        schema_bug(key, "default " + format_real(def) + " is outside its range");
    param_def p{key, value_kind::real, "", min, max, {}, unit, help};
    add(std::move(p), value(def), 0, 0);
    return *this;
}

schema& schema::add_bool(const std::string& key, bool def, const std::string& help)
{
    param_def p{key, value_kind::boolean, "", 0, 0, {}, "", help};
    add(std::move(p), value(def), 0, 0);
    return *this;
}

schema& schema::add_string(const std::string& key, const std::string& def, const std::string& help)
{
    param_def p{key, value_kind::string, "", 0, 0, {}, "", help};
    add(std::move(p), value(def), 0, 0);
    return *this;
}

schema& schema::add_choice(const std::string& key, const std::string& def,
                           std::vector<std::string> choices, const std::string& help)
{
    if (choices.empty())
        schema_bug(key, "a choice needs at least one allowed value");
    for (size_t i = 0; i < choices.size(); ++i) {
        if (choices[i].empty())
            schema_bug(key, "empty choice");
        if (std::find(choices.begin(), choices.begin() + static_cast<long>(i), choices[i]) !=
            choices.begin() + static_cast<long>(i))
            schema_bug(key, "choice '" + choices[i] + "' listed twice");
    }
    if (std::find(choices.begin(), choices.end(), def) == choices.end())
        schema_bug(key, "default '" + def + "' is not one of its choices");
    param_def p{key, value_kind::choice, "", 0, 0, std::move(choices), "", help};
    add(std::move(p), value(def), 0, 0);
    return *this;
}

schema& schema::add_string_list(const std::string& key, std::vector<std::string> def,
                                const std::string& help)
{
    param_def p{key, value_kind::string_list, "", 0, 0, {}, "", help};
    add(std::move(p), value(std::move(def)), 0, 0);
    return *this;
}

schema& schema::add_map(const std::string& key, const std::string& help)
{
    param_def p{key, value_kind::map, "", 0, 0, {}, "", help};
    add(std::move(p), value(std::vector<map_entry>{}), 0, 0);
    return *this;
}

schema& schema::add_collection(const std::string& prefix, collection_fn members)
{
    const auto parts = split_key(prefix);
    if (!std::all_of(parts.begin(), parts.end(), valid_component) || m_index.count(prefix))
        schema_bug(prefix, "malformed collection prefix, or already a parameter");
    std::string section;
    for (const auto& part : parts) {
        section = join_key(section, part);
        m_sections.insert(section);
    }
    m_collections.emplace_back(prefix, std::move(members));
    return *this;
}

const param_def* schema::find(const std::string& key) const
{
    const long i = index_of(key);
    return i < 0 ? nullptr : &m_params[static_cast<size_t>(i)];
}

const std::vector<param_def>& schema::params() const
{
    return m_params;
}

long schema::index_of(const std::string& key) const
{
    const auto it = m_index.find(key);
    return it == m_index.end() ? -1 : static_cast<long>(it->second);
}

bool schema::is_section(const std::string& key) const
{
    return m_sections.count(key) != 0;
}

// ---------------------------------------------------------------------------------------------
// config_error

namespace {

std::string error_text(const std::string& file, int line, const std::string& key, const std::string& reason)
{
    std::string s = file;
    if (line > 0)
        s += ":" + std::to_string(line);
    if (!key.empty())
        s += ": " + key;
    return s + ": " + reason;
}

}  // namespace

config_error::config_error(std::string file, int line, std::string key, std::string reason)
    : std::runtime_error(error_text(file, line, key, reason)),
      m_file(std::move(file)), m_line(line), m_key(std::move(key)), m_reason(std::move(reason))
{
}

// ---------------------------------------------------------------------------------------------
// config

struct config::load_state {
    std::vector<std::string> canonical_stack;   // files being loaded, for cycle detection
    std::vector<std::string> shown_stack;
    std::vector<assignment> out;                // in application order
};

config::config(const schema& s)
    : m_schema(s), m_values(s.m_defaults), m_origins(s.m_params.size(), "default")
{
}

void config::load_file(const std::string& path)
{
    // Loading may declare collection members: it works on a copy, so a failed load changes nothing.
    config next = *this;
    load_state state;
    next.load_into(path, path, state, "", 0);
    for (auto& a : state.out) {
        next.m_values[a.index] = std::move(a.value);
        next.m_origins[a.index] = std::move(a.origin);
    }
    *this = std::move(next);
}

bool config::instantiate_for(const std::string& key, const std::string& file, int line)
{
    for (const auto& [prefix, members] : m_schema.m_collections) {
        if (key.size() <= prefix.size() + 1 || key.compare(0, prefix.size(), prefix) != 0 || key[prefix.size()] != '.')
            continue;
        const std::string rest = key.substr(prefix.size() + 1);
        const std::string name = rest.substr(0, rest.find('.'));
        if (!valid_component(name))
            throw config_error(file, line, key, "'" + name + "' is not a valid name in " + prefix);
        instantiate(prefix, name, key);
        return true;
    }
    return false;
}

void config::instantiate(const std::string& prefix, const std::string& name, const std::string& origin_key)
{
    if (!valid_component(name))
        throw config_error("", 0, origin_key, "'" + name + "' is not a valid name in " + prefix);
    const std::string base = prefix + "." + name;
    if (m_schema.is_section(base))
        return;   // declared already
    for (const auto& [p, members] : m_schema.m_collections) {
        if (p != prefix)
            continue;
        const size_t before = m_schema.m_params.size();
        members(m_schema, base);
        for (size_t i = before; i < m_schema.m_params.size(); ++i) {
            m_values.push_back(m_schema.m_defaults[i]);
            m_origins.push_back("default");
        }
        return;
    }
    throw std::logic_error("config: no collection '" + prefix + "'");
}

void config::load_into(const std::string& path, const std::string& shown, load_state& state,
                       const std::string& from_file, int from_line)
{
    const auto fail_open = [&](const std::string& why) {
        if (from_file.empty())
            throw config_error(shown, 0, "", why);
        throw config_error(from_file, from_line, "include", "'" + shown + "': " + why);
    };

    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        fail_open(fs::exists(path, ec) ? "not a regular file" : "no such file");
    const fs::path canonical = fs::weakly_canonical(path, ec);
    const std::string canon = ec ? shown : canonical.string();
    if (std::find(state.canonical_stack.begin(), state.canonical_stack.end(), canon) !=
        state.canonical_stack.end()) {
        std::string chain;
        for (const auto& s : state.shown_stack)
            chain += s + " -> ";
        throw config_error(from_file, from_line, "include", "include cycle: " + chain + shown);
    }

    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail_open("cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
        fail_open("cannot read");

    std::vector<YAML::Node> docs;
    try {
        docs = YAML::LoadAll(text.str());
    } catch (const YAML::Exception& e) {
        throw config_error(shown, mark_line(e.mark), "", "YAML syntax error: " + e.msg);
    }
    if (docs.size() > 1)
        throw config_error(shown, mark_line(docs[1].Mark()), "", "more than one YAML document");
    if (docs.empty() || docs[0].IsNull())
        return;
    const YAML::Node& root = docs[0];
    if (!root.IsMap())
        throw config_error(shown, mark_line(root.Mark()), "", "expected a map of parameters at the top level");

    std::map<std::string, int> seen;
    std::vector<assignment> own;
    walk_map(root, "", shown, seen, own);

    state.canonical_stack.push_back(canon);
    state.shown_stack.push_back(shown);
    for (const auto& pair : root) {
        const YAML::Node k = pair.first;
        if (!k.IsScalar() || k.Scalar() != "include")
            continue;
        const YAML::Node inc = pair.second;
        const int line = mark_line(k.Mark());
        std::vector<std::pair<std::string, int>> names;
        if (inc.IsScalar()) {
            names.emplace_back(inc.Scalar(), line);
        } else if (inc.IsSequence()) {
            for (const auto& item : inc) {
                if (!item.IsScalar())
                    throw config_error(shown, line, "include", "expected a file name, got " + describe(item));
                names.emplace_back(item.Scalar(), mark_line(item.Mark()));
            }
        } else {
            throw config_error(shown, line, "include", "expected a file name or a list of file names, got " +
                                                          describe(inc));
        }
        for (const auto& [name, name_line] : names) {
            if (name.empty())
                throw config_error(shown, name_line, "include", "empty file name");
            fs::path target(name);
            if (target.is_relative())
                target = fs::path(path).parent_path() / target;
            load_into(target.string(), target.lexically_normal().string(), state, shown, name_line);
        }
    }
    state.canonical_stack.pop_back();
    state.shown_stack.pop_back();

    // The including file's own values come after its includes, so they win.
    for (auto& a : own)
        state.out.push_back(std::move(a));
}

void config::walk_map(const YAML::Node& map, const std::string& prefix, const std::string& file,
                      std::map<std::string, int>& seen, std::vector<assignment>& out)
{
    std::map<std::string, int> here;   // yaml-cpp keeps repeated keys: catch them per map
    for (const auto& pair : map) {
        const YAML::Node k = pair.first;
        const YAML::Node v = pair.second;
        const int key_line = mark_line(k.Mark());
        if (!k.IsScalar() || k.Scalar().empty())
            throw config_error(file, key_line, prefix, "map keys must be parameter names, got " + describe(k));
        const std::string& name_here = k.Scalar();
        const std::string name = join_key(prefix, name_here);
        if (const auto dup = here.find(name_here); dup != here.end())
            throw config_error(file, key_line, name,
                               "given twice in the same map (first at line " + std::to_string(dup->second) + ")");
        here.emplace(name_here, key_line);
        if (prefix.empty() && name_here == "include")
            continue;

        // An empty value ("key:") has no mark of its own on its line: point at the key.
        const int value_line = v.IsNull() ? key_line : mark_line(v.Mark());
        if (m_schema.index_of(name) < 0 && !m_schema.is_section(name))
            instantiate_for(name, file, key_line);
        const long index = m_schema.index_of(name);
        if (index >= 0) {
            if (const auto dup = seen.find(name); dup != seen.end())
                throw config_error(file, key_line, name,
                                   "given twice in this file (first at line " + std::to_string(dup->second) + ")");
            seen.emplace(name, key_line);
            const auto i = static_cast<size_t>(index);
            out.push_back({i, parse_value(m_schema.m_params[i], i, v, file, value_line),
                           file + ":" + std::to_string(key_line)});
        } else if (m_schema.is_section(name)) {
            if (v.IsMap())
                walk_map(v, name, file, seen, out);
            else if (!v.IsNull())   // an empty section sets nothing
                throw config_error(file, value_line, name,
                                   "is a section: expected a map of its parameters, got " + describe(v));
        } else {
            throw config_error(file, key_line, name, unknown_key_reason(name));
        }
    }
}

value config::parse_value(const param_def& def, size_t index, const YAML::Node& node,
                          const std::string& file, int line) const
{
    const auto fail = [&](const std::string& why, int at) -> value {
        throw config_error(file, at, def.key, why);
    };
    const bool marks = file != set_file;

    if (def.kind == value_kind::map) {
        if (node.IsNull())
            return std::vector<map_entry>{};
        if (!node.IsMap())
            return fail(expected_text(def) + ", got " + describe(node), line);
        std::vector<map_entry> entries;
        for (const auto& pair : node) {
            const int at = marks ? mark_line(pair.first.Mark()) : 0;
            if (!pair.first.IsScalar() || pair.first.Scalar().empty())
                return fail("map keys must be names, got " + describe(pair.first), at);
            const std::string& k = pair.first.Scalar();
            for (const auto& e : entries)
                if (e.key == k)
                    return fail("'" + k + "' given twice in the map", at);
            YAML::Emitter flow;
            flow.SetMapFormat(YAML::Flow);
            flow.SetSeqFormat(YAML::Flow);
            flow << pair.second;
            if (pair.second.IsNull() || !flow.good())
                return fail("'" + k + "' has no value", at);
            entries.push_back({k, flow.c_str(), at});
        }
        return entries;
    }

    if (def.kind == value_kind::string_list) {
        if (node.IsScalar())
            return std::vector<std::string>{node.Scalar()};
        if (!node.IsSequence())
            return fail(expected_text(def) + ", got " + describe(node), line);
        std::vector<std::string> list;
        for (const auto& item : node) {
            if (!item.IsScalar())
                return fail("list elements must be strings, got " + describe(item),
                            marks ? mark_line(item.Mark()) : 0);
            list.push_back(item.Scalar());
        }
        return list;
    }

    if (!node.IsScalar()) {
        std::string why = expected_text(def) + ", got " + describe(node);
        if (node.IsNull() && def.kind == value_kind::string)
            why += " (write \"\" for an empty string)";
        return fail(why, line);
    }
    const std::string& text = node.Scalar();
    const bool typed = def.kind == value_kind::integer || def.kind == value_kind::real ||
                       def.kind == value_kind::boolean;
    if (typed && !is_plain(node))
        return fail(expected_text(def) + ", got " + describe(node), line);

    switch (def.kind) {
    case value_kind::integer: {
        int64_t v = 0;
        const auto r = parse_int(text, v);
        if (r == number_parse::overflow)
            return fail("'" + text + "' does not fit in a 64-bit integer", line);
        if (r != number_parse::ok)
            return fail(expected_text(def) + ", got '" + text + "'", line);
        const auto [lo, hi] = m_schema.m_int_ranges[index];
        if (v < lo || v > hi)
            return fail(text + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]", line);
        return v;
    }
    case value_kind::real: {
        double v = 0;
        const auto r = parse_real(text, v);
        if (r == number_parse::overflow)
            return fail("'" + text + "' is beyond the range of a double", line);
        if (r != number_parse::ok)
            return fail(expected_text(def) + ", got '" + text + "'", line);
        if (v < def.min || v > def.max)
            return fail(text + " is outside [" + format_real(def.min) + ", " + format_real(def.max) + "]", line);
        return v;
    }
    case value_kind::boolean:
        if (text == "true")
            return true;
        if (text == "false")
            return false;
        return fail(expected_text(def) + ", got '" + text + "'", line);
    case value_kind::string:
        return text;
    case value_kind::choice: {
        if (std::find(def.choices.begin(), def.choices.end(), text) != def.choices.end())
            return text;
        std::string allowed;
        for (size_t i = 0; i < def.choices.size(); ++i)
            allowed += (i ? ", " : "") + def.choices[i];
        return fail("'" + text + "' is not one of: " + allowed, line);
    }
    case value_kind::string_list:
    case value_kind::map:
        break;
    }
    return fail("unsupported parameter kind", line);
}

std::string config::unknown_key_reason(const std::string& key) const
{
    // Closest parameter or section by edit distance; failing that, a parameter with the same
    // last component (a right name under the wrong section).
    const std::string* best = nullptr;
    size_t best_distance = suggest_distance + 1;
    const auto consider = [&](const std::string& candidate) {
        const size_t d = edit_distance(key, candidate);
        if (d < best_distance) {
            best_distance = d;
            best = &candidate;
        }
    };
    for (const auto& p : m_schema.m_params)
        consider(p.key);
    for (const auto& s : m_schema.m_sections)
        consider(s);
    if (!best) {
        const std::string last = last_component(key);
        for (const auto& p : m_schema.m_params) {
            if (last_component(p.key) == last) {
                best = &p.key;
                break;
            }
        }
    }
    if (!best)
        return "unknown key";
    return "unknown key; did you mean '" + *best + "'?";
}

void config::apply_override(const std::string& assignment_text)
{
    // An override may declare collection members: it works on a copy, so a failed one changes nothing.
    config next = *this;
    next.apply_override_here(assignment_text);
    *this = std::move(next);
}

void config::apply_override_here(const std::string& assignment_text)
{
    const size_t eq = assignment_text.find('=');
    if (eq == std::string::npos)
        throw config_error(set_file, 0, trim(assignment_text), "expected key=value");
    const std::string key = trim(assignment_text.substr(0, eq));
    if (key.empty())
        throw config_error(set_file, 0, "", "missing key before '='");
    if (m_schema.index_of(key) < 0 && !m_schema.is_section(key))
        instantiate_for(key, set_file, 0);
    const long index = m_schema.index_of(key);
    if (index < 0) {
        if (m_schema.is_section(key))
            throw config_error(set_file, 0, key, "is a section, not a parameter");
        throw config_error(set_file, 0, key, unknown_key_reason(key));
    }
    YAML::Node node;
    try {
        node = YAML::Load(assignment_text.substr(eq + 1));
    } catch (const YAML::Exception& e) {
        throw config_error(set_file, 0, key, "invalid value: " + e.msg);
    }
    const auto i = static_cast<size_t>(index);
    value v = parse_value(m_schema.m_params[i], i, node, set_file, 0);
    m_values[i] = std::move(v);
    m_origins[i] = set_file;
}

size_t config::checked_index(const std::string& key) const
{
    const long i = m_schema.index_of(key);
    if (i < 0)
        throw std::logic_error("config: unknown parameter '" + key + "'");
    return static_cast<size_t>(i);
}

namespace {

[[noreturn]] void kind_mismatch(const param_def& def, const char* wanted)
{
    throw std::logic_error("config: parameter '" + def.key + "' is a " + to_string(def.kind) +
                           ", read as " + wanted);
}

}  // namespace

int64_t config::get_int(const std::string& key) const
{
    const size_t i = checked_index(key);
    if (const auto* v = std::get_if<int64_t>(&m_values[i]))
        return *v;
    kind_mismatch(m_schema.m_params[i], "integer");
}

double config::get_real(const std::string& key) const
{
    const size_t i = checked_index(key);
    if (const auto* v = std::get_if<double>(&m_values[i]))
        return *v;
    if (const auto* v = std::get_if<int64_t>(&m_values[i]))
        return static_cast<double>(*v);
    kind_mismatch(m_schema.m_params[i], "real");
}

bool config::get_bool(const std::string& key) const
{
    const size_t i = checked_index(key);
    if (const auto* v = std::get_if<bool>(&m_values[i]))
        return *v;
    kind_mismatch(m_schema.m_params[i], "boolean");
}

std::string config::get_string(const std::string& key) const
{
    const size_t i = checked_index(key);
    if (const auto* v = std::get_if<std::string>(&m_values[i]))
        return *v;
    kind_mismatch(m_schema.m_params[i], "string");
}

std::vector<std::string> config::get_string_list(const std::string& key) const
{
    const size_t i = checked_index(key);
    if (const auto* v = std::get_if<std::vector<std::string>>(&m_values[i]))
        return *v;
    kind_mismatch(m_schema.m_params[i], "string list");
}

std::vector<map_entry> config::get_map(const std::string& key) const
{
    const size_t i = checked_index(key);
    if (const auto* v = std::get_if<std::vector<map_entry>>(&m_values[i]))
        return *v;
    kind_mismatch(m_schema.m_params[i], "map");
}

std::string config::value_text(const std::string& key) const
{
    return format_value(m_values[checked_index(key)]);
}

std::string config::origin(const std::string& key) const
{
    return m_origins[checked_index(key)];
}

namespace {

// Sections in order of first declaration; parameters in declaration order within each.
struct yaml_tree {
    std::string name;
    long param = -1;
    std::vector<yaml_tree> children;

    yaml_tree& child(const std::string& n)
    {
        for (auto& c : children)
            if (c.name == n && c.param < 0)
                return c;
        children.push_back(yaml_tree{n, -1, {}});
        return children.back();
    }
};

// A map entry's flow YAML as JSON: plain scalars that read as numbers or booleans become those.
nlohmann::json yaml_to_json(const YAML::Node& n)
{
    if (n.IsSequence()) {
        nlohmann::json a = nlohmann::json::array();
        for (const auto& item : n)
            a.push_back(yaml_to_json(item));
        return a;
    }
    if (n.IsMap()) {
        nlohmann::json m = nlohmann::json::object();
        for (const auto& pair : n)
            m[pair.first.Scalar()] = yaml_to_json(pair.second);
        return m;
    }
    if (!n.IsScalar())
        return nullptr;
    const std::string& t = n.Scalar();
    if (is_plain(n)) {
        int64_t i = 0;
        double r = 0;
        if (parse_int(t, i) == number_parse::ok)
            return i;
        if (parse_real(t, r) == number_parse::ok)
            return r;
        if (t == "true" || t == "false")
            return t == "true";
    }
    return t;
}

nlohmann::json flow_to_json(const std::string& text)
{
    try {
        return yaml_to_json(YAML::Load(text));
    } catch (const YAML::Exception&) {
        return text;
    }
}

}  // namespace

std::string config::to_yaml() const
{
    yaml_tree root;
    const auto& params = m_schema.m_params;
    for (size_t i = 0; i < params.size(); ++i) {
        const auto parts = split_key(params[i].key);
        yaml_tree* node = &root;
        for (size_t p = 0; p + 1 < parts.size(); ++p)
            node = &node->child(parts[p]);
        node->children.push_back(yaml_tree{parts.back(), static_cast<long>(i), {}});
    }

    std::string out;
    const auto emit = [&](const auto& self, const yaml_tree& node, size_t depth) -> void {
        for (const auto& c : node.children) {
            out.append(2 * depth, ' ');
            out += c.name + ":";
            if (c.param < 0) {
                out += '\n';
                self(self, c, depth + 1);
                continue;
            }
            const auto& def = params[static_cast<size_t>(c.param)];
            out += ' ' + format_value(m_values[static_cast<size_t>(c.param)]);
            std::string note = def.unit;
            if (!def.help.empty())
                note += (note.empty() ? "" : "; ") + def.help;
            if (!note.empty())
                out += "  # " + note;
            out += '\n';
        }
    };
    emit(emit, root, 0);
    return out;
}

nlohmann::json config::to_json() const
{
    nlohmann::json j = nlohmann::json::object();
    const auto& params = m_schema.m_params;
    for (size_t i = 0; i < params.size(); ++i) {
        const auto parts = split_key(params[i].key);
        nlohmann::json* node = &j;
        for (size_t p = 0; p + 1 < parts.size(); ++p)
            node = &(*node)[parts[p]];
        std::visit([&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::vector<map_entry>>) {
                nlohmann::json m = nlohmann::json::object();
                for (const auto& e : v)
                    m[e.key] = flow_to_json(e.value);
                (*node)[parts.back()] = m;
            } else {
                (*node)[parts.back()] = v;
            }
        }, m_values[i]);
    }
    return j;
}

}  // namespace iovsim::cfg
