#include "expression.hpp"

#include <muParser.h>

#include <cmath>
#include <numbers>

namespace fpsolve {

struct Expression::Impl {
    std::string text;
    std::vector<std::string> variables;
    Parameters parameters;
    mutable Point x{};
    mutable double t = 0.0;
    mu::Parser parser;
    bool uses_time = false;
    bool uses_space = false;
    double constant_value = 0.0;
    bool folded = false;
    Function function;  // when set, used instead of the parser

    void compile(const std::string& where) {
        // Messages quote the formula, cut short: muParser takes up to 20000 characters.
        const std::string shown = text.size() <= 80 ? text : text.substr(0, 77) + "...";
        try {
            // Inside the try: muParser refuses names longer than 100 characters or that clash with its
            // built-ins such as _pi (they escaped as mu::ParserError; tests/fuzz_regressions/hand-*).
            parser.DefineConst("pi", std::numbers::pi);
            parser.DefineConst("e", std::numbers::e);
            for (const auto& [name, value] : parameters) parser.DefineConst(name, value);
            for (std::size_t a = 0; a < variables.size(); ++a) parser.DefineVar(variables[a], &x[a]);
            parser.DefineVar("t", &t);
            parser.SetExpr(text);
            const auto used = parser.GetUsedVar();  // throws on unknown names and syntax errors
            uses_time = used.count("t") > 0;
            for (const auto& v : variables) uses_space = uses_space || used.count(v) > 0;
            const double probe = parser.Eval();
            // "x, 2" is two formulas; muParser would silently keep the last one.
            if (parser.GetNumResults() != 1)
                throw InputError(where + ": cannot use \"" + shown + "\": it gives " +
                                 std::to_string(parser.GetNumResults()) +
                                 " comma-separated values, expected one formula (a list of formulas is a TOML list)");
            if (!uses_time && !uses_space) {
                constant_value = probe;
                folded = true;
            }
        } catch (const mu::Parser::exception_type& e) {
            throw InputError(where + ": cannot use \"" + shown + "\": " + e.GetMsg());
        }
    }
};

Expression::Expression(const std::string& text, const std::vector<std::string>& variables,
                       const Parameters& parameters, const std::string& where)
    : impl_(std::make_unique<Impl>()) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw InputError(where + ": the expression is empty");
    impl_->text = text;
    impl_->variables = variables;
    impl_->parameters = parameters;
    impl_->compile(where);
}

Expression Expression::constant(double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    return Expression(buf, {}, {}, "constant");
}

Expression Expression::from_function(Function f, bool depends_on_space, bool depends_on_time, std::string description) {
    Expression e;
    e.impl_ = std::make_unique<Impl>();
    e.impl_->text = std::move(description);
    e.impl_->function = std::move(f);
    e.impl_->uses_space = depends_on_space;
    e.impl_->uses_time = depends_on_time;
    return e;
}

Expression::Expression(const Expression& other) {
    if (other.impl_ && other.impl_->function) {
        impl_ = std::make_unique<Impl>();
        impl_->text = other.impl_->text;
        impl_->function = other.impl_->function;
        impl_->uses_space = other.impl_->uses_space;
        impl_->uses_time = other.impl_->uses_time;
    } else if (other.impl_) {
        impl_ = std::make_unique<Impl>();
        impl_->text = other.impl_->text;
        impl_->variables = other.impl_->variables;
        impl_->parameters = other.impl_->parameters;
        impl_->compile("expression");
    }
}
Expression& Expression::operator=(const Expression& other) {
    if (this != &other) *this = Expression(other);
    return *this;
}
Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;
Expression::~Expression() = default;
Expression::Expression() = default;

double Expression::operator()(const Point& x, double t) const {
    if (impl_->folded) return impl_->constant_value;
    if (impl_->function) return impl_->function(x, t);
    impl_->x = x;
    impl_->t = t;
    return impl_->parser.Eval();
}

bool Expression::depends_on_time() const { return impl_ && impl_->uses_time; }
bool Expression::depends_on_space() const { return impl_ && impl_->uses_space; }
const std::string& Expression::text() const {
    static const std::string empty;
    return impl_ ? impl_->text : empty;
}

}  // namespace fpsolve
