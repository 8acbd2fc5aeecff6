// What the studies that write a run's file and groups of their own (sgd_study.cpp: /sgd, particle_comparison.cpp:
// /particles) share: the output-path rule, and integrating into the file with its final status.
#pragma once
#include <atomic>
#include <exception>
#include <string>

#include "config.hpp"
#include "integrator.hpp"
#include "snapshot_file.hpp"

namespace fpsolve {

// The file a study writes: `output`, else output.file (the config's "<stem>.h5" when it names none). Throws
// InputError as check_output_path does.
std::string study_output_path(const ParsedConfig& c, const std::string& output, bool force);

// Sets the file's status to "failed: <why>" (best effort: the snapshots written stay readable either way) and
// returns RunError(why) to throw.
RunError study_failed(SnapshotWriter& writer, const std::exception& e);

// integrate() for a study whose observer appends to `writer`: true once every snapshot is written, false if
// `interrupt` stopped it (the file's status is then "interrupted"); a failure marks the file (study_failed) and
// throws RunError.
bool integrate_into_file(SnapshotWriter& writer, const FokkerPlanckOperator& op, State& p, const TimeSettings& ts,
                         const Observer& observe, const std::atomic<bool>* interrupt);

}  // namespace fpsolve
