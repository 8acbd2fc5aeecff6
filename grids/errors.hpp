// The two kinds of failure every layer reports, mapped to exit codes by the apps:
// ConfigError -> 2 (the user must change an input), RunError -> 1 (something failed while running).
// ConfigError is the library's public name (DESIGN §6: derived from std::invalid_argument; Python's
// fpsolve.ConfigError, a ValueError); inside the code it is also called InputError.
#pragma once
#include <stdexcept>
#include <string>

namespace fpsolve {

struct ConfigError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};
using InputError = ConfigError;

struct RunError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace fpsolve
