#include "distributed_detailed_balance.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "collective.hpp"
#include "detailed_balance.hpp"

namespace fpsolve {

namespace {

using Sparse = Eigen::SparseMatrix<double>;

// The global (row-major) index of a cell of the rank's extended block, wrapped across periodic axes.
Index global_cell(const Decomposition& dec, Index extended_cell) {
    const Grid& e = dec.extended();
    const Grid& g = dec.global();
    std::array<Index, kMaxAxes> i{};
    for (int a = e.dims - 1; a >= 0; --a) {
        i[static_cast<std::size_t>(a)] = extended_cell % e.cells[a];
        extended_cell /= e.cells[a];
    }
    Index c = 0;
    for (int a = 0; a < g.dims; ++a) {
        const Index n = g.cells[a];
        c = c * n + ((i[static_cast<std::size_t>(a)] + e.offset[a]) % n + n) % n;
    }
    return c;
}

// The rank holding piece `node`, given the first piece of every rank.
int rank_of(const std::vector<long>& first, long node) {
    return static_cast<int>(std::upper_bound(first.begin(), first.end(), node) - first.begin()) - 1;
}

// One offset C_a - C_b = d between two pieces, with the coupling it came from (global cells), for messages.
struct Offset {
    long a, b;
    double d;
    Index i, g;
};

}  // namespace

DistributedBalance detailed_balance(const DistributedOperator& op, double t, double tolerance) {
    const Decomposition& dec = op.decomposition();
    const MPI_Comm comm = dec.comm();
    const Sparse a = op.local().matrix(t);
    const Index n_ext = a.cols(), n_own = dec.owned_size();
    const std::vector<Index>& owned = dec.owned_cells();
    std::vector<Index> own_index(static_cast<std::size_t>(n_ext), -1);
    for (std::size_t k = 0; k < owned.size(); ++k)
        own_index[static_cast<std::size_t>(owned[k])] = static_cast<Index>(k);

    // 1. The owned block alone: couplings among owned cells, and those with ghosts (A_ig, A_gi).
    std::vector<Eigen::Triplet<double>> inner;
    std::map<std::pair<Index, Index>, std::pair<double, double>> across;  // (i, g) extended -> (A_ig, A_gi)
    for (Index c = 0; c < n_ext; ++c)
        for (Sparse::InnerIterator it(a, c); it; ++it) {
            const Index r = it.row();
            const Index ro = own_index[static_cast<std::size_t>(r)],
                        co = own_index[static_cast<std::size_t>(c)];
            if (ro >= 0 && co >= 0)
                inner.emplace_back(ro, co, it.value());
            else if (ro >= 0)
                across[{r, c}].first = it.value();
            else if (co >= 0)
                across[{c, r}].second = it.value();
        }
    Sparse block(n_own, n_own);
    block.setFromTriplets(inner.begin(), inner.end());
    const DetailedBalance local = fpsolve::detailed_balance(block, tolerance);
    std::string why;
    if (!local.holds)
        why = "rank " + std::to_string(dec.rank()) + "'s block, cells numbered in it: " + local.why;

    // 2. Pieces numbered over all ranks; log w and the piece of every ghost from its owner.
    long pieces = local.holds ? static_cast<long>(local.components) : 0;
    std::vector<long> first(static_cast<std::size_t>(dec.size()));
    MPI_Allgather(&pieces, 1, MPI_LONG, first.data(), 1, MPI_LONG, comm);
    long total = 0;
    for (long& f : first) {  // pieces -> the first piece of each rank
        const long n = f;
        f = total;
        total += n;
    }
    const long mine = first[static_cast<std::size_t>(dec.rank())];
    Eigen::VectorXd lw = Eigen::VectorXd::Zero(n_own), piece = Eigen::VectorXd::Constant(n_own, -1.0), lw_ext,
                    piece_ext;
    if (local.holds)
        for (Index k = 0; k < n_own; ++k) {
            lw[k] = local.log_weight[k];
            piece[k] =
                static_cast<double>(mine + static_cast<long>(local.component[static_cast<std::size_t>(k)]));
        }
    dec.to_extended(lw, lw_ext);
    dec.to_extended(piece, piece_ext);

    // 3. One offset per pair of pieces; every coupling of the pair must give it.
    std::map<std::pair<long, long>, Offset> offsets;
    auto pair_text = [&](Index i, Index g, double aig, double agi) {
        std::ostringstream s;
        s.precision(3);
        s << "cells " << global_cell(dec, g) << " and " << global_cell(dec, i) << " (ranks " << dec.rank()
          << " and " << rank_of(first, static_cast<long>(piece_ext[g])) << "): rates " << aig << " and "
          << agi;
        return s.str();
    };
    if (why.empty())
        for (const auto& [cells, rates] : across) {
            const auto [i, g] = cells;
            const auto [aig, agi] = rates;
            if (aig == 0.0 && agi == 0.0) continue;
            if (aig < 0.0 || agi < 0.0 || aig == 0.0 || agi == 0.0) {
                why = pair_text(i, g, aig, agi) +
                      (aig < 0.0 || agi < 0.0 ? ": a negative rate" : ": coupled one way only");
                break;
            }
            Offset o{static_cast<long>(piece_ext[i]), static_cast<long>(piece_ext[g]),
                     std::log(aig) - std::log(agi) + lw_ext[g] - lw_ext[i], global_cell(dec, i),
                     global_cell(dec, g)};
            if (o.a > o.b) std::swap(o.a, o.b), o.d = -o.d, std::swap(o.i, o.g);
            const auto [at, fresh] = offsets.try_emplace({o.a, o.b}, o);
            if (!fresh && std::abs(at->second.d - o.d) > tolerance) {
                std::ostringstream m;
                m.precision(3);
                m << "the couplings of cells " << o.i << "-" << o.g << " and " << at->second.i << "-"
                  << at->second.g << " (between ranks " << rank_of(first, o.a) << " and "
                  << rank_of(first, o.b) << ") give weights that differ by a factor exp("
                  << o.d - at->second.d << ") (a probability current circulates)";
                why = m.str();
                break;
            }
        }
    try {
        agree(comm, [&] {
            if (!why.empty()) throw InputError(why);
        });
    } catch (const InputError& e) {
        return {false, e.what()};
    }

    // 4. The offsets of all ranks, closed around every cycle of pieces (the same numbers on every rank).
    std::vector<double> send;
    for (const auto& [key, o] : offsets)
        send.insert(send.end(), {static_cast<double>(o.a), static_cast<double>(o.b), o.d,
                                 static_cast<double>(o.i), static_cast<double>(o.g)});
    int count = static_cast<int>(send.size());
    std::vector<int> counts(static_cast<std::size_t>(dec.size())), displs(counts.size(), 0);
    MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm);
    for (std::size_t r = 1; r < counts.size(); ++r) displs[r] = displs[r - 1] + counts[r - 1];
    std::vector<double> all(static_cast<std::size_t>(displs.back() + counts.back()));
    MPI_Allgatherv(send.data(), count, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE,
                   comm);
    std::vector<Offset> edges;
    for (std::size_t k = 0; k + 4 < all.size(); k += 5)
        edges.push_back({static_cast<long>(all[k]), static_cast<long>(all[k + 1]), all[k + 2],
                         static_cast<Index>(all[k + 3]), static_cast<Index>(all[k + 4])});
    std::vector<std::vector<std::size_t>> touching(static_cast<std::size_t>(total));
    for (std::size_t e = 0; e < edges.size(); ++e) {
        touching[static_cast<std::size_t>(edges[e].a)].push_back(e);
        touching[static_cast<std::size_t>(edges[e].b)].push_back(e);
    }
    std::vector<double> c(static_cast<std::size_t>(total),
                          NAN);  // C of each piece, along a breadth-first tree
    std::vector<long> queue;
    for (long root = 0; root < total; ++root) {
        if (!std::isnan(c[static_cast<std::size_t>(root)])) continue;
        c[static_cast<std::size_t>(root)] = 0.0;
        queue.assign(1, root);
        for (std::size_t head = 0; head < queue.size(); ++head)
            for (const std::size_t e : touching[static_cast<std::size_t>(queue[head])]) {
                const Offset& o = edges[e];
                double& ca = c[static_cast<std::size_t>(o.a)];
                double& cb = c[static_cast<std::size_t>(o.b)];
                if (std::isnan(ca)) ca = cb + o.d, queue.push_back(o.a);
                if (std::isnan(cb)) cb = ca - o.d, queue.push_back(o.b);
            }
    }
    for (const Offset& o : edges) {
        const double mismatch = c[static_cast<std::size_t>(o.a)] - c[static_cast<std::size_t>(o.b)] - o.d;
        if (std::abs(mismatch) <= tolerance) continue;
        std::ostringstream m;
        m.precision(3);
        m << "cells " << o.i << " and " << o.g << " (ranks " << rank_of(first, o.a) << " and "
          << rank_of(first, o.b) << "): A_ij w_j and A_ji w_i differ by a factor exp(" << mismatch
          << ") around a cycle through the ranks (a probability current circulates)";
        return {false, m.str()};
    }
    return {true, {}};
}

}  // namespace fpsolve
