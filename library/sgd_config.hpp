// The config of `fpsolve sgd` (docs/sgd.md): [grid] and [time] as for a run, [model] (the data set and the
// regression) and [sgd] (rates, momentum, batch, steps, chains, start, the eta sweep). [dynamics] and [initial] are
// refused: the drift and the noise come from the model and the data, the start from sgd.start and sgd.start_sd
// (and sgd.start_velocity, sgd.start_velocity_sd with momentum), and the snapshot times t = k eta_bar (with
// momentum k sqrt(eta)) from sgd.steps and sgd.snapshots.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "config.hpp"
#include "sgd_model.hpp"

namespace fpsolve {

struct SgdSettings {
    Vector2 rates{0.1, 0.1};
    int batch = 1;
    long steps = 100;
    int snapshots = 11;
    Eigen::Index chains = 10000;
    std::uint64_t seed = 1;
    int threads = 1;
    Vector2 start = Vector2::Zero();  // one number per parameter (the second slot 0 with one parameter)
    double start_sd = 0.0;  // 0: one grid spacing
    double momentum = 0.0;  // beta of heavy-ball SGD; 0: plain SGD
    Vector2 start_velocity = Vector2::Zero();  // p = v / sqrt(eta) at the start (momentum only)
    double start_velocity_sd = 0.0;            // 0: start_sd
    bool per_parameter = true;  // (false with momentum)
    std::vector<double> sweep;
    Eigen::Index sweep_chains = 0;  // 0: chains
};

// The config at `path` with the overrides, [model] and [sgd] kept in ParsedConfig::extra; the effective text has
// no [dynamics]. output_file defaults to "<stem of path>.h5". Throws InputError naming the key.
ParsedConfig load_sgd_config(const std::string& path, const std::vector<std::string>& overrides);

// [model]; `data_path` is model.data, relative to the config's folder.
ModelOptions read_model(const ParsedConfig& c, std::string& data_path);

// The number of parameters of the model these options build: 1 for linear regression without intercept, else 2.
int parameter_count(const ModelOptions& m);

// [sgd], for a model of `parameters` parameters (sgd.start and sgd.start_velocity have one number each).
SgdSettings read_sgd(const ParsedConfig& c, int parameters = 2);

}  // namespace fpsolve
