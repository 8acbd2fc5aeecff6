// Every input the fuzzer (fuzz/fuzz_config.cpp, scripts/fuzz.sh) found crashing or escaping with an
// exception other than InputError, kept in tests/fuzz_regressions/ and fed to the same entry function:
// each must now be accepted or refused with an InputError (exit 2), nothing else. The `fpsolve run`
// scenarios, the fuzzer's seeds, must be accepted, so the entry function is seen to reach the operator.
// Files named hand-* were written by hand (hostile names, sizes, nesting) before the fuzzer ran.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "../fuzz/fuzz_entry.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path source_dir = fs::path(__FILE__).parent_path().parent_path();

std::vector<fs::path> files_in(const fs::path& dir, const std::string& extension = "") {
    std::vector<fs::path> out;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.is_regular_file() && (extension.empty() || entry.path().extension() == extension))
            out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

// "accepted", "refused: <InputError>", or "escaped: <anything else>".
std::string outcome(const std::string& text) {
    try {
        fpsolve::fuzz::run_one(text);
        return "accepted";
    } catch (const fpsolve::InputError& e) {
        return std::string("refused: ") + e.what();
    } catch (const std::exception& e) {
        return std::string("escaped: ") + e.what();
    } catch (...) {
        return "escaped: an exception that is not a std::exception";
    }
}

}  // namespace

TEST_CASE("fuzz regressions: every kept input is accepted or refused with an InputError") {
    const auto files = files_in(source_dir / "tests" / "fuzz_regressions");
    REQUIRE(!files.empty());
    for (const auto& f : files) {
        DYNAMIC_SECTION(f.filename().string()) {
            const std::string r = outcome(read(f));
            INFO(f.filename().string() << ": " << r);
            CHECK(r.rfind("escaped", 0) != 0);
        }
    }
}

// `fpsolve sgd` scenarios have no [dynamics] (it comes from [model]): parse_config refuses them.
TEST_CASE("fuzz seeds: every `fpsolve run` scenario is accepted by the fuzz entry function") {
    const auto files = files_in(source_dir / "data" / "scenarios", ".toml");
    REQUIRE(!files.empty());
    for (const auto& f : files) {
        DYNAMIC_SECTION(f.filename().string()) {
            const std::string text = read(f);
            const std::string r = outcome(text);
            INFO(f.filename().string() << ": " << r);
            if (text.find("[dynamics]") != std::string::npos)
                CHECK(r == "accepted");
            else
                CHECK(r.rfind("refused", 0) == 0);
        }
    }
}
