// SGD on a two-parameter model of a real data set, as the SDE of DESIGN §1.3 (lecture: "The SGD SDE").
//
// Per-example loss l_n(Phi) of a linear predictor z_n = a_n . Phi, per-example gradient ghat_n = r_n a_n:
//   linear regression   a_n = (x_n, 1), Phi = (w, b):  l_n = 1/2 (z_n - y_n)^2,  r_n = z_n - y_n,  l_n'' = 1
//                       without intercept a_n = (x_n, 0), Phi = (w, 0): one parameter (the second slot stays 0)
//   logistic regression a_n = (x_n1, x_n2), labels y_n in {0, 1}:
//                       l_n = log(1 + e^z_n) - y_n z_n,  r_n = s(z_n) - y_n,  l_n'' = s(z_n)(1 - s(z_n))
// Exactly from the data (sums over the N examples, no sampling):
//   L(Phi) = mean_n l_n,   g(Phi) = mean_n ghat_n,   Sigma(Phi) = mean_n (ghat_n - g)(ghat_n - g)^T
// Minibatch SGD of size b with replacement, Phi <- Phi - Lambda ghat_B, Lambda = diag(eta_a), has gradient noise
// Sigma/b exactly; the SDE is dPhi = -P g dt + (eta_bar P (Sigma/b) P)^{1/2} dW (Ito), t = k eta_bar.
//
// Closed forms near the minimum Phi* (H = Hessian, S = Sigma(Phi*), C = stationary covariance):
//   Lyapunov (noise frozen at Phi*):          Lambda H C + C H Lambda = Lambda S Lambda / b
// and, for linear regression only (the loss is quadratic and Sigma(Phi) quadratic in Phi, so the second
// moments close; K(C) = mean_n (a_n^T C a_n) a_n a_n^T):
//   SDE (the Fokker–Planck stationary state): Lambda H C + C H Lambda = Lambda (S + K(C) - H C H) Lambda / b
//   exact SGD iterates:                       the same + Lambda H C H Lambda
// The last term is the discretisation error of the SDE: in 1-D with additive noise these reduce to
// eta sigma^2 / (2h) (SDE) and eta sigma^2 / (h (2 - eta h)) (SGD).
#pragma once
#include <Eigen/Dense>
#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "problem.hpp"

namespace fpsolve {

using Vector2 = Eigen::Vector2d;
using Matrix2 = Eigen::Matrix2d;

// A numeric table read from CSV with a header line (comma separated).
struct DataSet {
    std::vector<std::string> columns;
    Eigen::MatrixXd values;  // rows x columns
    std::string source;      // the file

    const std::string& name() const { return source; }
    // The column called `name`; throws InputError naming `where` if there is none.
    Eigen::VectorXd column(const std::string& name, const std::string& where) const;
};

// Throws InputError if the file is missing, empty, ragged or not numeric.
DataSet read_csv(const std::string& path);

enum class ModelKind { linear, logistic };

struct ModelOptions {
    ModelKind kind = ModelKind::linear;
    std::vector<std::string> features;  // linear: 1 column (weight and bias); logistic: 2 (two weights)
    std::string target = "target";
    bool intercept = true;               // linear regression only: false fits z = w x, one parameter
    bool standardize = true;             // features to mean 0, variance 1 (population)
    bool standardize_target = false;     // linear regression only
    std::optional<double> threshold;     // logistic: label = target > threshold (default: the median)
};

class SgdModel {
public:
    struct Statistics {
        double loss = 0.0;
        Vector2 gradient = Vector2::Zero();
        Matrix2 covariance = Matrix2::Zero();  // Sigma: per-example gradient covariance (divide by b for a batch)
    };

    // `parameters` = 1: linear regression without intercept (the second column of `inputs` must be 0).
    SgdModel(ModelKind kind, Eigen::MatrixX2d inputs, Eigen::VectorXd targets, std::string description,
             int parameters = 2);
    // Builds the model from the data set's columns; throws InputError naming model.<key>.
    static SgdModel from_data(const DataSet& data, const ModelOptions& options);

    ModelKind kind() const { return kind_; }
    // The number of parameters d: 2, or 1 for linear regression without intercept, whose vectors and matrices keep
    // the second slot (and row and column) exactly 0.
    int parameters() const { return parameters_; }
    Eigen::Index size() const { return y_.size(); }
    const std::string& description() const { return description_; }
    const Eigen::MatrixX2d& inputs() const { return a_; }  // a_n
    const Eigen::VectorXd& targets() const { return y_; }
    std::array<std::string, 2> parameter_names() const;  // the second is empty with one parameter

    // ghat_n(Phi) = r_n a_n.
    Vector2 example_gradient(Eigen::Index n, const Vector2& phi) const {
        const double z = a_(n, 0) * phi[0] + a_(n, 1) * phi[1];
        return residual(z, y_[n]) * Vector2(a_(n, 0), a_(n, 1));
    }
    // Logistic: two passes over the data (mean, then centred covariance). Linear: the same sums expanded in
    // the data moments E[x^i y^j] (i <= 4, j <= 2), exact algebra in O(1) per point.
    Statistics at(const Vector2& phi) const;
    Statistics at_by_examples(const Vector2& phi) const;  // always the two passes (tests compare the two)
    Matrix2 hessian(const Vector2& phi) const;
    // Newton's method from Phi = 0 on the d parameters; throws RunError if it does not converge (e.g. separable labels).
    Vector2 minimum() const;
    // K(C) = mean_n (a_n^T C a_n) a_n a_n^T (linear regression: the fourth moments in Sigma(Phi)).
    Matrix2 fourth_moment(const Matrix2& c) const;

private:
    double residual(double z, double y) const;
    double example_loss(double z, double y) const;
    double curvature(double z) const;

    ModelKind kind_;
    std::array<std::array<double, 3>, 5> moment_{};  // linear: E[x^i y^j]
    Eigen::MatrixX2d a_;
    Eigen::VectorXd y_;
    std::string description_;
    int parameters_ = 2;
};

// model.at(phi), remembered per thread for the last (model, phi): the potential and the entries of Sigma are
// separate expressions evaluated at the same points.
const SgdModel::Statistics& cached_statistics(const SgdModel& model, const Vector2& phi);

// The Problem of DESIGN §1.3 on `grid` (2-D): potential L, noise Sigma/b, learning rates eta_a, Ito.
// The coefficients are compiled functions of the data (one pass per point, cached per thread for the
// four entries of Sigma at the same point).
Problem sgd_problem(std::shared_ptr<const SgdModel> model, const Grid& grid, const Vector2& rates, int batch,
                    InitialDensity initial);

// Stationary covariance near the minimum (see the header comment). `fourth` = nullptr gives the Lyapunov
// form; with `fourth` (K) it is the SDE's moment closure, and `discrete` adds the SGD term Lambda H C H Lambda.
Matrix2 stationary_covariance(const Matrix2& hessian, const Matrix2& sigma, const Vector2& rates, int batch,
                              const std::function<Matrix2(const Matrix2&)>& fourth = nullptr, bool discrete = false);

// Spectral radius of the SGD second-moment map near the minimum (linear regression: exact),
//   T(C) = C - (Lambda H C + C H Lambda) + Lambda [K(C)/b + (1 - 1/b) H C H] Lambda     (K = H C H without `fourth`):
// E[(Phi_k - Phi*)(Phi_k - Phi*)^T] converges iff it is < 1, with relative error ~ rho^k.
double second_moment_contraction(const Matrix2& hessian, const Vector2& rates, int batch,
                                 const std::function<Matrix2(const Matrix2&)>& fourth = nullptr);

}  // namespace fpsolve
