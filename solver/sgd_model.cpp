#include "sgd_model.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace fpsolve {

Eigen::VectorXd DataSet::column(const std::string& name, const std::string& where) const {
    for (std::size_t j = 0; j < columns.size(); ++j)
        if (columns[j] == name) return values.col(static_cast<Eigen::Index>(j));
    std::string known;
    for (const auto& c : columns) known += (known.empty() ? "" : ", ") + c;
    throw InputError(where + ": no column \"" + name + "\" in " + source + " (it has " + known + ")");
}

namespace {

std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) {
        const auto b = cell.find_first_not_of(" \t\r");
        const auto e = cell.find_last_not_of(" \t\r");
        out.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
    }
    if (!line.empty() && line.back() == ',') out.emplace_back();
    return out;
}

}  // namespace

DataSet read_csv(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw InputError(path + ": cannot read the data file");
    DataSet d;
    d.source = path;
    std::string line;
    if (!std::getline(in, line)) throw InputError(path + ": empty data file");
    d.columns = split(line);
    std::vector<std::vector<double>> rows;
    std::size_t number = 1;
    while (std::getline(in, line)) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const auto cells = split(line);
        if (cells.size() != d.columns.size())
            throw InputError(path + ":" + std::to_string(number) + ": has " + std::to_string(cells.size()) +
                             " fields, the header " + std::to_string(d.columns.size()));
        std::vector<double> row;
        for (const auto& c : cells) {
            std::size_t used = 0;
            double v = 0.0;
            try {
                v = std::stod(c, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used != c.size() || c.empty() || !std::isfinite(v))
                throw InputError(path + ":" + std::to_string(number) + ": \"" + c + "\" is not a finite number");
            row.push_back(v);
        }
        rows.push_back(std::move(row));
    }
    if (rows.empty()) throw InputError(path + ": no data rows");
    d.values.resize(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(d.columns.size()));
    for (std::size_t i = 0; i < rows.size(); ++i)
        for (std::size_t j = 0; j < d.columns.size(); ++j)
            d.values(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j];
    return d;
}

SgdModel::SgdModel(ModelKind kind, Eigen::MatrixX2d inputs, Eigen::VectorXd targets, std::string description,
                   int parameters)
    : kind_(kind), a_(std::move(inputs)), y_(std::move(targets)), description_(std::move(description)),
      parameters_(parameters) {
    if (a_.rows() != y_.size() || y_.size() < 2) throw InputError("model: needs at least two examples");
    if (parameters_ == 1 && (kind_ != ModelKind::linear || !a_.col(1).isZero(0.0)))
        throw InputError("model: one parameter is linear regression without intercept (zero second input)");
    if (kind_ == ModelKind::linear) {
        for (std::size_t i = 0; i < 5; ++i)
            for (std::size_t j = 0; j < 3; ++j)
                moment_[i][j] = (a_.col(0).array().pow(static_cast<double>(i)) * y_.array().pow(static_cast<double>(j))).mean();
    }
}

SgdModel SgdModel::from_data(const DataSet& data, const ModelOptions& o) {
    const std::size_t want = o.kind == ModelKind::linear ? 1 : 2;
    if (o.features.size() != want)
        throw InputError(std::string("model.features: ") +
                         (o.kind == ModelKind::linear ? "linear regression takes one feature (weight and bias)"
                                                      : "logistic regression takes two features (two weights)") +
                         ", got " + std::to_string(o.features.size()));
    const Eigen::Index n = data.values.rows();
    auto standardized = [&](Eigen::VectorXd v, const std::string& what) {
        const double mean = v.mean();
        const double sd = std::sqrt((v.array() - mean).square().mean());
        if (!(sd > 0.0)) throw InputError(what + ": the column is constant and cannot be standardised");
        return Eigen::VectorXd((v.array() - mean) / sd);
    };
    Eigen::MatrixX2d a(n, 2);
    for (std::size_t k = 0; k < want; ++k) {
        Eigen::VectorXd x = data.column(o.features[k], "model.features");
        if (o.standardize) x = standardized(x, "model.features: " + o.features[k]);
        a.col(static_cast<Eigen::Index>(k)) = x;
    }
    Eigen::VectorXd y = data.column(o.target, "model.target");
    std::string desc;
    if (!o.intercept && o.kind != ModelKind::linear) throw InputError("model.intercept: only for linear regression");
    if (o.kind == ModelKind::linear) {
        if (o.intercept)
            a.col(1).setOnes();
        else
            a.col(1).setZero();
        if (o.standardize_target) y = standardized(y, "model.target");
        desc = "linear regression " + o.target + " ~ w " + o.features[0] +
               (o.intercept ? " + b (squared loss)" : " (squared loss, no intercept)");
    } else {
        double thr;
        if (o.threshold) {
            thr = *o.threshold;
        } else {
            std::vector<double> v(y.data(), y.data() + y.size());
            std::sort(v.begin(), v.end());
            const std::size_t m = v.size() / 2;
            thr = v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
        }
        y = (y.array() > thr).cast<double>();
        const double ones = y.sum();
        if (ones == 0.0 || ones == static_cast<double>(n))
            throw InputError("model.threshold: every label is the same; choose a threshold inside the target's range");
        std::ostringstream os;
        os << "logistic regression [" << o.target << " > " << thr << "] ~ w1 " << o.features[0] << " + w2 "
           << o.features[1] << " (log loss)";
        desc = os.str();
    }
    if (o.standardize) desc += ", standardised features";
    return SgdModel(o.kind, std::move(a), std::move(y), desc + ", " + std::to_string(n) + " examples of " + data.source,
                    o.intercept ? 2 : 1);
}

std::array<std::string, 2> SgdModel::parameter_names() const {
    if (parameters_ == 1) return {"w", ""};
    if (kind_ == ModelKind::linear) return {"w", "b"};
    return {"w1", "w2"};
}

double SgdModel::residual(double z, double y) const {
    if (kind_ == ModelKind::linear) return z - y;
    return 1.0 / (1.0 + std::exp(-z)) - y;
}

double SgdModel::example_loss(double z, double y) const {
    if (kind_ == ModelKind::linear) return 0.5 * (z - y) * (z - y);
    const double softplus = z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
    return softplus - y * z;
}

double SgdModel::curvature(double z) const {
    if (kind_ == ModelKind::linear) return 1.0;
    const double s = 1.0 / (1.0 + std::exp(-z));
    return s * (1.0 - s);
}

SgdModel::Statistics SgdModel::at(const Vector2& phi) const {
    if (kind_ != ModelKind::linear) return at_by_examples(phi);
    // r = w x + b - y:  E[r x^k] and E[r^2 x^k] from the moments m_ij = E[x^i y^j].
    const auto& m = moment_;
    const double w = phi[0], b = parameters_ == 1 ? 0.0 : phi[1];
    auto r1 = [&](std::size_t k) { return w * m[k + 1][0] + b * m[k][0] - m[k][1]; };
    auto r2 = [&](std::size_t k) {
        return w * w * m[k + 2][0] + b * b * m[k][0] + m[k][2] + 2.0 * w * b * m[k + 1][0] - 2.0 * w * m[k + 1][1] -
               2.0 * b * m[k][1];
    };
    Statistics s;
    s.loss = 0.5 * r2(0);
    if (parameters_ == 1) {  // b = 0 and no gradient along it: only the w entries
        s.gradient = Vector2(r1(1), 0.0);
        s.covariance(0, 0) = r2(2) - s.gradient[0] * s.gradient[0];
        return s;
    }
    s.gradient = Vector2(r1(1), r1(0));
    const double e00 = r2(2), e01 = r2(1), e11 = r2(0);  // E[ghat ghat^T]
    s.covariance << e00 - s.gradient[0] * s.gradient[0], e01 - s.gradient[0] * s.gradient[1],
        e01 - s.gradient[0] * s.gradient[1], e11 - s.gradient[1] * s.gradient[1];
    return s;
}

SgdModel::Statistics SgdModel::at_by_examples(const Vector2& phi) const {
    Statistics s;
    const Eigen::Index n = size();
    Eigen::VectorXd r(n);
    for (Eigen::Index k = 0; k < n; ++k) {
        const double z = a_(k, 0) * phi[0] + a_(k, 1) * phi[1];
        r[k] = residual(z, y_[k]);
        s.loss += example_loss(z, y_[k]);
        s.gradient += r[k] * a_.row(k).transpose();
    }
    const double inv = 1.0 / static_cast<double>(n);
    s.loss *= inv;
    s.gradient *= inv;
    for (Eigen::Index k = 0; k < n; ++k) {
        const Vector2 e = r[k] * a_.row(k).transpose() - s.gradient;
        s.covariance += e * e.transpose();
    }
    s.covariance *= inv;
    return s;
}

Matrix2 SgdModel::hessian(const Vector2& phi) const {
    Matrix2 h = Matrix2::Zero();
    for (Eigen::Index k = 0; k < size(); ++k) {
        const Vector2 a = a_.row(k).transpose();
        h += curvature(a.dot(phi)) * a * a.transpose();
    }
    return h / static_cast<double>(size());
}

Vector2 SgdModel::minimum() const {
    Vector2 phi = Vector2::Zero();
    if (parameters_ == 1) {  // Newton on w alone (the loss is quadratic in it: one step, a second to confirm)
        for (int it = 0; it < 100; ++it) {
            const double h = hessian(phi)(0, 0);
            if (!(h > 0.0)) throw RunError("model: the feature is zero; the minimum is not unique");
            const double step = at(phi).gradient[0] / h;
            phi[0] -= step;
            if (std::abs(step) <= 1e-14 * (1.0 + std::abs(phi[0]))) break;
        }
        return phi;
    }
    for (int it = 0; it < 100; ++it) {
        const Vector2 g = at(phi).gradient;
        const Matrix2 h = hessian(phi);
        const Eigen::LDLT<Matrix2> ldlt(h);
        if (ldlt.info() != Eigen::Success || !(h.determinant() > 0.0))
            throw RunError("model: the Hessian of the loss is singular; the minimum is not unique");
        const Vector2 step = ldlt.solve(g);
        phi -= step;
        if (!phi.allFinite() || phi.norm() > 1e8)
            throw RunError("model: no finite minimum (are the classes separable?)");
        if (step.norm() <= 1e-14 * (1.0 + phi.norm())) return phi;
    }
    return phi;  // Newton on a convex loss: 100 steps are far more than needed
}

Matrix2 SgdModel::fourth_moment(const Matrix2& c) const {
    Matrix2 k = Matrix2::Zero();
    for (Eigen::Index n = 0; n < size(); ++n) {
        const Vector2 a = a_.row(n).transpose();
        k += a.dot(c * a) * a * a.transpose();
    }
    return k / static_cast<double>(size());
}

const SgdModel::Statistics& cached_statistics(const SgdModel& m, const Vector2& phi) {
    thread_local const SgdModel* model = nullptr;
    thread_local Vector2 at = Vector2::Zero();
    thread_local SgdModel::Statistics s;
    if (model != &m || at[0] != phi[0] || at[1] != phi[1]) {
        s = m.at(phi);
        model = &m;
        at = phi;
    }
    return s;
}

Problem sgd_problem(std::shared_ptr<const SgdModel> model, const Grid& grid, const Vector2& rates, int batch,
                    InitialDensity initial) {
    if (grid.dims != 2 || model->parameters() != 2)
        throw InputError("grid: fpsolve sgd needs a 2-D grid and two parameters (one axis per parameter)");
    if (batch < 1) throw InputError("sgd.batch_size: must be at least 1");
    Problem pb;
    pb.grid = grid;
    pb.potential = Expression::from_function(
        [model](const Point& x, double) { return cached_statistics(*model, Vector2(x[0], x[1])).loss; }, true, false,
        "L(Phi) from the data");
    const double inv_b = 1.0 / static_cast<double>(batch);
    pb.noise.assign(2, std::vector<Expression>(2));
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j)
            pb.noise[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)] = Expression::from_function(
                [model, i, j, inv_b](const Point& x, double) {
                    return inv_b * cached_statistics(*model, Vector2(x[0], x[1])).covariance(i, j);
                },
                true, false, "Sigma(Phi)/b from the data");
    pb.learning_rate = {rates[0], rates[1]};
    pb.convention = Convention::ito;
    pb.scheme = Scheme::exponential;
    pb.initial = std::move(initial);
    return pb;
}

Matrix2 stationary_covariance(const Matrix2& h, const Matrix2& sigma, const Vector2& rates, int batch,
                              const std::function<Matrix2(const Matrix2&)>& fourth, bool discrete) {
    const Matrix2 lam = rates.asDiagonal();
    const double inv_b = 1.0 / static_cast<double>(batch);
    // F(C) = Lambda H C + C H Lambda - [moment terms](C) = Lambda S Lambda / b, linear in C.
    auto f = [&](const Matrix2& c) {
        Matrix2 out = lam * h * c + c * h * lam;
        const Matrix2 hch = h * c * h;
        if (fourth) out -= inv_b * lam * (fourth(c) - hch) * lam;
        if (discrete) out -= lam * hch * lam;
        return out;
    };
    Eigen::Matrix3d m;
    const Matrix2 basis[3] = {(Matrix2() << 1, 0, 0, 0).finished(), (Matrix2() << 0, 1, 1, 0).finished(),
                              (Matrix2() << 0, 0, 0, 1).finished()};
    for (int k = 0; k < 3; ++k) {
        const Matrix2 v = f(basis[k]);
        m.col(k) << v(0, 0), v(0, 1), v(1, 1);
    }
    const Matrix2 rhs = inv_b * lam * sigma * lam;
    const Eigen::Vector3d c = m.fullPivLu().solve(Eigen::Vector3d(rhs(0, 0), rhs(0, 1), rhs(1, 1)));
    return (Matrix2() << c[0], c[1], c[1], c[2]).finished();
}

double second_moment_contraction(const Matrix2& h, const Vector2& rates, int batch,
                                 const std::function<Matrix2(const Matrix2&)>& fourth) {
    const Matrix2 lam = rates.asDiagonal();
    const double inv_b = 1.0 / static_cast<double>(batch);
    auto t = [&](const Matrix2& c) {
        const Matrix2 hch = h * c * h;
        const Matrix2 k = fourth ? fourth(c) : hch;
        return Matrix2(c - (lam * h * c + c * h * lam) + lam * (inv_b * k + (1.0 - inv_b) * hch) * lam);
    };
    Eigen::Matrix3d m;
    const Matrix2 basis[3] = {(Matrix2() << 1, 0, 0, 0).finished(), (Matrix2() << 0, 1, 1, 0).finished(),
                              (Matrix2() << 0, 0, 0, 1).finished()};
    for (int k = 0; k < 3; ++k) {
        const Matrix2 v = t(basis[k]);
        m.col(k) << v(0, 0), v(0, 1), v(1, 1);
    }
    return m.eigenvalues().cwiseAbs().maxCoeff();
}

}  // namespace fpsolve

