// The one place that brings Boost.Odeint and its Eigen adapter together. The order matters: without the
// adapter, odeint compiles against Eigen::VectorXd but resizes and norms it wrongly at run time.
#pragma once
#include <boost/numeric/odeint.hpp>
#include <boost/numeric/odeint/external/eigen/eigen.hpp>
