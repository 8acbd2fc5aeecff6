// The two kinds of failure every layer reports, mapped to exit codes by the apps:
// InputError -> 2 (the user must change an input), RunError -> 1 (something failed while running).
#pragma once
#include <stdexcept>
#include <string>

namespace fpsolve {

struct InputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct RunError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace fpsolve
