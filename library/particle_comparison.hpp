// The SDE's particles against its Fokker–Planck solution on the same grid: what `fpsolve sample` computes.
//
// compare_particles() runs the PDE of the config (as fpsolve::run does, without grid.richardson) and N
// Euler–Maruyama particles of the same SDE (solver/particles.hpp: the Ito form of every convention, the same
// walls), histograms them on the grid at the snapshot times, and writes, besides the usual groups (DESIGN §4),
//   /particles/time [n], density [n, cells...], mass [n], l1_to_pde [n], l1_floor [n]
// where l1_floor is the L1 distance expected from N particles alone (binomial counts around the PDE's cell masses).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fpsolve {

struct ParticleComparisonOptions {
    std::string config;                  // the TOML config, as for fpsolve run
    std::vector<std::string> overrides;  // "key=value" in TOML value syntax, as --set
    std::string output;                  // the file to write; empty: output.file, else "<config stem>.h5"
    bool force = false;                  // overwrite `output` if it exists (else InputError, nothing written)
    std::uint64_t particles = 0;         // N, at least 1
    std::uint64_t seed = 1;              // of the counter-based random numbers: results do not depend on threads
    double dt = 1e-3;                    // the largest Euler–Maruyama step
    int threads = 0;                     // for the particles; 0: all cores
    // Read between time steps of the PDE and of the particles; once true the comparison stops with status
    // "interrupted" (the file keeps the PDE snapshots written, and no particles).
    const std::atomic<bool>* interrupt = nullptr;
    // After each PDE snapshot: its time, and the time of the last one.
    std::function<void(double t, double end)> on_progress;
};

// One snapshot of the PDE with the particles' histogram at its time.
struct ParticleSnapshotComparison {
    double time = 0.0;
    double l1 = 0.0;     // L1(histogram, PDE density)
    double floor = 0.0;  // the L1 expected from N exact samples of the PDE density
    double mass = 0.0;   // the surviving fraction of particles
};

struct ParticleComparisonResult {
    std::string status;  // "complete" or "interrupted"
    std::string title, output;
    std::uint64_t particles = 0, seed = 0;
    double dt = 0.0;
    int threads = 0;  // the threads the particles ran on
    std::vector<ParticleSnapshotComparison> snapshots;
};

// Throws InputError on bad input (before the file is created), RunError if the PDE or a particle fails (the file
// then has status "failed: <why>").
ParticleComparisonResult compare_particles(const ParticleComparisonOptions& options);

}  // namespace fpsolve
