// The TOML config (DESIGN §3) turned into a Problem and its run settings. Every mistake is an
// InputError naming the key; unknown keys are mistakes too.
#pragma once
#include <map>
#include <string>
#include <toml++/toml.h>
#include <vector>

#include "integrator.hpp"
#include "problem.hpp"

namespace fpsolve {

struct ParsedConfig {
    std::string path;               // the config file
    std::string text;               // the effective config (file + --set overrides), as TOML
    std::string title;
    Parameters parameters;
    Problem problem;
    TimeSettings time;              // times[0] = 0 always; observe_first says whether 0 was asked for
    bool observe_first = true;
    std::string output_file;        // empty: derived from the config's name
    bool output_current = false;
    bool richardson = false;        // grid.richardson: extrapolate in space (richardson.hpp)
    std::map<std::string, toml::table> extra;  // tables a command reads itself ([model], [sgd], ...)
};

// Reads `path`, applies the overrides ("key=value", TOML value syntax, dotted keys), and checks
// everything. `extra_tables` are top-level tables the calling command accepts and reads itself.
ParsedConfig load_config(const std::string& path, const std::vector<std::string>& overrides,
                   const std::vector<std::string>& extra_tables = {});

// The TOML text with the overrides ("key=value", TOML value syntax, dotted keys) merged in; throws InputError
// for a syntax error in either. `name` stands for the text in messages.
toml::table effective_table(const std::string& text, const std::string& name,
                            const std::vector<std::string>& overrides);

// The file a command writes when none is given: output.file, else "<stem of config_path>.h5", else "".
// Does not check the rest of the config (the command does).
std::string default_output_file(const std::string& text, const std::string& name, const std::string& config_path,
                                const std::vector<std::string>& overrides);

// Same, from text (tests); `name` stands for the file in messages.
ParsedConfig parse_config(const std::string& text, const std::string& name, const std::vector<std::string>& overrides,
                    const std::vector<std::string>& extra_tables = {});

}  // namespace fpsolve
