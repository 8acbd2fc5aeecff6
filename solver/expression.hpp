// A formula of the axis variables, t and named parameters, compiled once by muParser.
// Operators + - * / ^, functions exp log (natural) ln sqrt sin cos tan tanh abs min max ...,
// constants pi and e. Evaluation is not thread-safe: give each thread its own copy (copies are deep).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "grid.hpp"

namespace fpsolve {

using Parameters = std::map<std::string, double>;

class Expression {
public:
    Expression();
    // `where` names the config key for error messages. Throws InputError if the text does not parse
    // or uses a name that is neither a variable, t, a parameter nor a built-in.
    Expression(const std::string& text, const std::vector<std::string>& variables, const Parameters& parameters,
               const std::string& where);
    static Expression constant(double value);
    // A compiled function in place of a formula (data-derived coefficients, e.g. the SGD noise);
    // it must be safe to call from one thread at a time, like a formula.
    using Function = std::function<double(const Point& x, double t)>;
    static Expression from_function(Function f, bool depends_on_space, bool depends_on_time, std::string description);

    Expression(const Expression& other);
    Expression& operator=(const Expression& other);
    Expression(Expression&&) noexcept;
    Expression& operator=(Expression&&) noexcept;
    ~Expression();

    double operator()(const Point& x, double t) const;
    bool valid() const { return impl_ != nullptr; }
    bool depends_on_time() const;
    bool depends_on_space() const;
    bool is_constant() const { return !depends_on_time() && !depends_on_space(); }
    const std::string& text() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace fpsolve
