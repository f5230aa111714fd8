#pragma once
// The one configuration system (DESIGN.md rule 7): a schema of typed, defaulted, documented
// parameters, and a config that holds their effective values, loaded from YAML files and
// `--set key=value` overrides. Input errors are config_error (the caller exits with code 2);
// misuse by the program (unknown key in a getter, bad schema) is std::logic_error.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace YAML {
class Node;
}

namespace iovsim::cfg {

enum class value_kind { integer, real, boolean, string, choice, string_list, map };

// Name used in messages: "integer", "real", "boolean", "string", "choice", "string list", "map".
const char* to_string(value_kind kind);

struct param_def {
    std::string key;                  // dotted path, e.g. "platform.cpu.freq_ghz"
    value_kind kind;
    std::string default_text;         // the default as to_yaml() writes it (a YAML literal)
    double min = 0, max = 0;          // inclusive range, integer and real only
    std::vector<std::string> choices; // for choice
    std::string unit;                 // "ns", "GHz", "B", "" ...
    std::string help;                 // one line; for cost primitives also where the value comes from
};

// One entry of a map parameter: a key the map's reader interprets (e.g. another parameter's key)
// and its value as one line of flow YAML ("3", "[0, 1, 2]", "{from: 1, to: 64, factor: 2}").
struct map_entry {
    std::string key;
    std::string value;
    int line = 0;   // where the entry's key was written (1-based; 0 for --set and defaults)
    bool operator==(const map_entry& o) const { return key == o.key && value == o.value; }
};

namespace detail {
// Typed value of one parameter; the alternative matches the kind (choice holds a std::string).
using value = std::variant<int64_t, double, bool, std::string, std::vector<std::string>, std::vector<map_entry>>;
}

// Declaring the same key twice, a key that is also a section of another key, a malformed key,
// the reserved top-level name "include", a multi-line help, or a default outside its range or
// choices: std::logic_error.
class schema {
public:
    schema& add_int(const std::string& key, int64_t def, int64_t min, int64_t max,
                    const std::string& unit, const std::string& help);
    schema& add_real(const std::string& key, double def, double min, double max,
                     const std::string& unit, const std::string& help);
    schema& add_bool(const std::string& key, bool def, const std::string& help);
    schema& add_string(const std::string& key, const std::string& def, const std::string& help);
    schema& add_choice(const std::string& key, const std::string& def,
                       std::vector<std::string> choices, const std::string& help);
    schema& add_string_list(const std::string& key, std::vector<std::string> def,
                            const std::string& help);
    // A map whose keys the program interprets itself (e.g. a sweep: parameter key -> values); its
    // entries keep their order and lines, for errors that point at them. Empty by default.
    schema& add_map(const std::string& key, const std::string& help);

    // A collection: parameters "<prefix>.<name>.<member>" for names the input chooses. The first
    // time a config meets a name (in a file, a --set, or config::instantiate), `members` declares
    // that name's parameters under the base key "<prefix>.<name>", at their defaults.
    using collection_fn = std::function<void(schema&, const std::string& base)>;
    schema& add_collection(const std::string& prefix, collection_fn members);

    const param_def* find(const std::string& key) const;   // nullptr if unknown
    const std::vector<param_def>& params() const;           // declaration order

private:
    friend class config;

    void add(param_def def, detail::value value, int64_t imin, int64_t imax);
    // Index into m_params, or -1.
    long index_of(const std::string& key) const;
    bool is_section(const std::string& key) const;

    std::vector<param_def> m_params;
    std::vector<detail::value> m_defaults;              // parallel to m_params
    std::vector<std::pair<int64_t, int64_t>> m_int_ranges; // parallel; exact bounds for integers
    std::map<std::string, size_t> m_index;
    std::set<std::string> m_sections;                   // every proper prefix of a key
    std::vector<std::pair<std::string, collection_fn>> m_collections;
};

// An error in configuration input. what(): "<file>:<line>: <key>: <reason>"; the line is left
// out when 0 (e.g. for --set) and the key when empty (e.g. a YAML syntax error).
class config_error : public std::runtime_error {
public:
    config_error(std::string file, int line, std::string key, std::string reason);

    const std::string& file() const { return m_file; }
    int line() const { return m_line; }   // 1-based, 0 when none
    const std::string& key() const { return m_key; }
    const std::string& reason() const { return m_reason; }

private:
    std::string m_file;
    int m_line;
    std::string m_key;
    std::string m_reason;
};

class config {
public:
    explicit config(const schema& s);                  // every parameter at its default

    // Loads a YAML file (and its includes). All or nothing: on config_error nothing changes.
    void load_file(const std::string& path);
    // "a.b=v", v parsed as a YAML scalar (or flow sequence for a string list); errors name
    // the file "--set".
    void apply_override(const std::string& assignment);

    // Getters throw std::logic_error on an unknown key or a kind mismatch: the key is in the
    // program, not in the input.
    int64_t get_int(const std::string& key) const;
    double get_real(const std::string& key) const;      // an integer param may also be read as real
    bool get_bool(const std::string& key) const;
    std::string get_string(const std::string& key) const; // string and choice
    std::vector<std::string> get_string_list(const std::string& key) const;
    std::vector<map_entry> get_map(const std::string& key) const;
    // The value as to_yaml() writes it (shortest exact form: "4", "0.5", "[a, b]").
    std::string value_text(const std::string& key) const;
    std::string origin(const std::string& key) const;   // "file:line", "--set" or "default"

    // Declares collection `prefix`'s members for `name` at their defaults, if not yet declared.
    // A name that is not a valid key component is a config_error naming `origin_key`.
    void instantiate(const std::string& prefix, const std::string& name, const std::string& origin_key);

    // Effective config: nested YAML, every parameter, sections in order of first declaration,
    // parameters in declaration order, a "# unit; help" comment after each value. Loading it
    // back reproduces every value exactly.
    std::string to_yaml() const;
    nlohmann::json to_json() const;     // nested object of effective values (typed)

    const schema& get_schema() const { return m_schema; }

private:
    struct assignment {
        size_t index;
        detail::value value;
        std::string origin;
    };
    struct load_state;

    size_t checked_index(const std::string& key) const;
    void load_into(const std::string& path, const std::string& shown, load_state& state,
                   const std::string& from_file, int from_line);
    void walk_map(const YAML::Node& map, const std::string& prefix, const std::string& file,
                  std::map<std::string, int>& seen, std::vector<assignment>& out);
    void apply_override_here(const std::string& assignment);
    // Instantiates the collection member `key` belongs to, if any; true when it did.
    bool instantiate_for(const std::string& key, const std::string& file, int line);
    detail::value parse_value(const param_def& def, size_t index, const YAML::Node& node,
                              const std::string& file, int line) const;
    std::string unknown_key_reason(const std::string& key) const;

    schema m_schema;
    std::vector<detail::value> m_values;   // parallel to m_schema.params()
    std::vector<std::string> m_origins;
};

}  // namespace iovsim::cfg
