#include "study_support.hpp"

#include "run_support.hpp"

namespace fpsolve {

std::string study_output_path(const ParsedConfig& c, const std::string& output, bool force) {
    const std::string path = output.empty() ? c.output_file : output;
    check_output_path(path, force);
    return path;
}

RunError study_failed(SnapshotWriter& writer, const std::exception& e) {
    try {
        writer.set_status(std::string("failed: ") + e.what());
    } catch (...) {
    }
    return RunError(e.what());
}

bool integrate_into_file(SnapshotWriter& writer, const FokkerPlanckOperator& op, State& p, const TimeSettings& ts,
                         const Observer& observe, const std::atomic<bool>* interrupt) {
    try {
        integrate(op, p, ts, observe, interrupt);
    } catch (const Interrupted&) {
        writer.set_status("interrupted");
        return false;
    } catch (const std::exception& e) {
        throw study_failed(writer, e);
    }
    return true;
}

}  // namespace fpsolve
