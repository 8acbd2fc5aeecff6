// What the library's entry points (run.cpp, stationary_solve.cpp, load.cpp, run_distributed.cpp) share.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "config.hpp"
#include "fpsolve/fpsolve.hpp"
#include "subnormals.hpp"
#include "thread_budget.hpp"

namespace fpsolve {

// The config checked, with the tables `extra_tables` a command reads itself; with `read_snapshot`,
// initial.snapshot's values read (a decomposed run reads each rank's block itself).
ParsedConfig parse(const Config& config, const std::vector<std::string>& extra_tables, bool read_snapshot);

// Records a warning (nothing for an empty one) and passes it on.
void warn(std::vector<std::string>& warnings, const std::function<void(const std::string&)>& on_warning,
          const std::string& what);

// An entry point's whole call: `threads` OpenMP threads (0: as set up) and subnormals flushed on the calling
// thread for its duration; the caller's settings come back after.
template <class F>
auto in_run_scope(int threads, F&& f) {
    const FixedThreads fixed(threads);
    const SubnormalsAreZero ftz;  // as every kernel does per thread (subnormals.hpp)
    return f();
}

}  // namespace fpsolve
