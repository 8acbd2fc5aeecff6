// What the two paths of sgd_study share: plain SGD (sgd_study.cpp) and heavy-ball SGD in phase space
// (sgd_momentum_study.cpp).
#pragma once
#include <Eigen/Dense>
#include <memory>
#include <string>
#include <vector>

#include "fokker_planck_operator.hpp"
#include "sgd_config.hpp"
#include "sgd_study.hpp"

namespace fpsolve {

namespace sgd_parts {

// A p = 0, sum(p) V = 1: one sparse LU with the last row replaced by the normalisation.
Eigen::VectorXd stationary_density(const FokkerPlanckOperator& op);

// Snapshot steps k_j (whole steps, increasing) of `snapshots` nearly even ones from 0 to `steps`.
std::vector<long> snapshot_steps(long steps, int snapshots);

// The warning for correlated noise beyond the 9-point stencil's monotone range (empty when within it).
std::string correlation_warning(double ratio);

}  // namespace sgd_parts

// The heavy-ball path (settings.momentum > 0), from the config, the settings and the model read_setup checked.
SgdStudyResult momentum_study(const SgdStudyOptions& options, const ParsedConfig& config, const SgdSettings& settings,
                              std::shared_ptr<const SgdModel> model);

}  // namespace fpsolve
