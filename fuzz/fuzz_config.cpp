// libFuzzer target over config parsing and expression compilation (issue 7): every InputError is an
// expected outcome; any other exception (it reaches std::terminate), crash, ASan/UBSan report or hang
// is a bug. Run it with scripts/fuzz.sh; keep each crasher in tests/fuzz_regressions/.
#include <cstddef>
#include <cstdint>

#include "fuzz_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        fpsolve::fuzz::run_one(std::string(reinterpret_cast<const char*>(data), size));
    } catch (const fpsolve::InputError&) {
    }
    return 0;
}
