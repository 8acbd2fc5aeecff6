// Reads the tables of `fpsolve sgd` (sgd_config.hpp).
#include "sgd_config.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "run_support.hpp"

namespace fpsolve {

namespace {

// Reads one table and refuses the keys it did not use.
class Keys {
public:
    Keys(const toml::table& t, std::string name) : t_(t), name_(std::move(name)) {}
    std::string where(const std::string& k) const { return name_ + "." + k; }
    const toml::node* get(const std::string& k) {
        used_.push_back(k);
        return t_.get(k);
    }
    double number(const std::string& k, const toml::node& n) const {
        double v;
        if (auto i = n.as_integer())
            v = static_cast<double>(i->get());
        else if (auto f = n.as_floating_point())
            v = f->get();
        else
            throw InputError(where(k) + ": expected a number");
        if (!std::isfinite(v)) throw InputError(where(k) + ": expected a finite number");
        return v;
    }
    std::vector<double> numbers(const std::string& k, const toml::node& n) const {
        std::vector<double> out;
        if (auto a = n.as_array())
            for (const auto& e : *a) out.push_back(number(k, e));
        else
            out.push_back(number(k, n));
        return out;
    }
    long whole(const std::string& k, long fallback, long min) {
        const toml::node* n = get(k);
        if (!n) return fallback;
        const double v = number(k, *n);
        if (v != std::floor(v) || v < static_cast<double>(min) || v > 1e12)
            throw InputError(where(k) + ": expected a whole number >= " + std::to_string(min));
        return static_cast<long>(v);
    }
    std::string string(const std::string& k, const std::string& fallback) {
        const toml::node* n = get(k);
        if (!n) return fallback;
        if (auto s = n->as_string()) return s->get();
        throw InputError(where(k) + ": expected a string");
    }
    bool boolean(const std::string& k, bool fallback) {
        const toml::node* n = get(k);
        if (!n) return fallback;
        if (auto b = n->as_boolean()) return b->get();
        throw InputError(where(k) + ": expected true or false");
    }
    void finish() const {
        for (auto&& [k, v] : t_)
            if (std::find(used_.begin(), used_.end(), std::string(k.str())) == used_.end())
                throw InputError(where(std::string(k.str())) + ": unknown key");
    }

private:
    const toml::table& t_;
    std::string name_;
    std::vector<std::string> used_;
};

}  // namespace

// The config with [model] and [sgd]; [dynamics] and [initial] come from them, the snapshot times from sgd.steps.
ParsedConfig load_sgd_config(const std::string& path, const std::vector<std::string>& overrides) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw InputError(path + ": no such config file");
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
        throw InputError(os.str());
    }
    for (const char* k : {"dynamics", "initial"})
        if (root.contains(k))
            throw InputError(std::string(k) + ": not used by fpsolve sgd (the loss, drift and noise come from [model] and "
                             "the data; the start from sgd.start and sgd.start_sd)");
    auto refuse_time = [](const std::string& key) {
        for (const char* k : {"end", "snapshots", "times"})
            if (key == std::string("time.") + k)
                throw InputError(key + ": not used by fpsolve sgd (snapshot times are t = k eta, or k sqrt(eta) with "
                                 "momentum, from sgd.steps and sgd.snapshots)");
    };
    if (const toml::table* t = root["time"].as_table())
        for (auto&& [k, v] : *t) refuse_time("time." + std::string(k.str()));
    for (const auto& o : overrides) {
        const std::string key = o.substr(0, o.find('='));
        if (key.rfind("dynamics", 0) == 0 || key.rfind("initial", 0) == 0)
            throw InputError("--set " + o + ": [dynamics] and [initial] are not used by fpsolve sgd");
        refuse_time(key);
    }
    toml::table with = root;
    with.insert_or_assign("dynamics", toml::table{{"potential", "0"}, {"noise", 1.0}});
    std::ostringstream os;
    os << with;
    ParsedConfig c = parse_config(os.str(), path, overrides, {"model", "sgd"});
    refuse_richardson(c, "fpsolve sgd");
    toml::table effective = toml::parse(c.text);
    effective.erase("dynamics");
    std::ostringstream text;
    text << effective;
    c.text = text.str();
    if (c.output_file.empty()) c.output_file = std::filesystem::path(path).stem().string() + ".h5";
    return c;
}

ModelOptions read_model(const ParsedConfig& c, std::string& data_path) {
    const auto it = c.extra.find("model");
    if (it == c.extra.end()) throw InputError(c.path + ": the [model] table is missing");
    Keys k(it->second, "model");
    ModelOptions m;
    const std::string type = k.string("type", "linear");
    if (type == "linear")
        m.kind = ModelKind::linear;
    else if (type == "logistic")
        m.kind = ModelKind::logistic;
    else
        throw InputError("model.type: got \"" + type + "\", expected linear or logistic");
    data_path = k.string("data", "");
    if (data_path.empty()) throw InputError("model.data: required (a CSV file with a header line)");
    if (std::filesystem::path(data_path).is_relative())
        data_path = (std::filesystem::path(c.path).parent_path() / data_path).lexically_normal().string();
    const toml::node* f = k.get("features");
    if (!f) throw InputError("model.features: required (the column names)");
    if (auto s = f->as_string()) {
        m.features = {s->get()};
    } else if (auto a = f->as_array()) {
        for (const auto& e : *a) {
            if (!e.is_string()) throw InputError("model.features: expected column names");
            m.features.push_back(e.as_string()->get());
        }
    } else {
        throw InputError("model.features: expected a column name or a list of them");
    }
    m.target = k.string("target", "target");
    m.standardize = k.boolean("standardize", true);
    m.standardize_target = k.boolean("standardize_target", false);
    if (m.standardize_target && m.kind == ModelKind::logistic)
        throw InputError("model.standardize_target: only for linear regression");
    if (const toml::node* t = k.get("threshold")) {
        if (m.kind != ModelKind::logistic) throw InputError("model.threshold: only for logistic regression");
        m.threshold = k.number("threshold", *t);
    }
    m.intercept = k.boolean("intercept", true);
    if (!m.intercept && m.kind != ModelKind::linear)
        throw InputError("model.intercept: only for linear regression (logistic regression has none)");
    k.finish();
    return m;
}

int parameter_count(const ModelOptions& m) { return m.kind == ModelKind::linear && !m.intercept ? 1 : 2; }

SgdSettings read_sgd(const ParsedConfig& c, int parameters) {
    const auto it = c.extra.find("sgd");
    if (it == c.extra.end()) throw InputError(c.path + ": the [sgd] table is missing");
    Keys k(it->second, "sgd");
    SgdSettings s;
    if (const toml::node* m = k.get("momentum")) {
        s.momentum = k.number("momentum", *m);
        if (!(s.momentum >= 0.0 && s.momentum < 1.0)) throw InputError("sgd.momentum: expected 0 <= beta < 1");
    }
    const bool momentum = s.momentum > 0.0;
    const std::string count = parameters == 1 ? "one number" : "two numbers";
    const toml::node* lr = k.get("learning_rate");
    if (!lr) throw InputError("sgd.learning_rate: required (a number, or one per parameter)");
    const auto rates = k.numbers("learning_rate", *lr);
    if (momentum && rates.size() != 1)
        throw InputError("sgd.learning_rate: with sgd.momentum, expected one number (heavy ball has one rate eta)");
    if (rates.size() != 1 && rates.size() != 2)
        throw InputError("sgd.learning_rate: expected one number or two (one per parameter)");
    s.rates = Vector2(rates.front(), rates.back());
    if (!(s.rates.minCoeff() > 0.0)) throw InputError("sgd.learning_rate: must be positive");
    s.batch = static_cast<int>(k.whole("batch_size", 1, 1));
    s.steps = k.whole("steps", 0, 1);
    if (s.steps == 0)
        throw InputError(std::string("sgd.steps: required (SGD steps per chain; t_end = steps * ") +
                         (momentum ? "sqrt(eta))" : "eta)"));
    s.snapshots = static_cast<int>(k.whole("snapshots", 11, 2));
    s.chains = static_cast<Eigen::Index>(k.whole("chains", 10000, 2));
    s.seed = static_cast<std::uint64_t>(k.whole("seed", 1, 0));
    s.threads = static_cast<int>(k.whole("threads", 1, 1));
    auto vector_of = [&](const std::string& key, const toml::node& n) {
        const auto v = k.numbers(key, n);
        if (static_cast<int>(v.size()) != parameters)
            throw InputError("sgd." + key + ": expected " + count + " (one per parameter)");
        return Vector2(v[0], parameters == 2 ? v[1] : 0.0);
    };
    const toml::node* st = k.get("start");
    if (!st) throw InputError("sgd.start: required (the chains' starting parameters, one per axis)");
    s.start = vector_of("start", *st);
    if (const toml::node* sd = k.get("start_sd")) {
        s.start_sd = k.number("start_sd", *sd);
        if (!(s.start_sd > 0.0)) throw InputError("sgd.start_sd: must be positive");
    }
    for (const char* key : {"start_velocity", "start_velocity_sd"})
        if (!momentum && k.get(key)) throw InputError(std::string("sgd.") + key + ": only with sgd.momentum > 0");
    if (const toml::node* sv = k.get("start_velocity")) s.start_velocity = vector_of("start_velocity", *sv);
    if (const toml::node* sd = k.get("start_velocity_sd")) {
        s.start_velocity_sd = k.number("start_velocity_sd", *sd);
        if (!(s.start_velocity_sd > 0.0)) throw InputError("sgd.start_velocity_sd: must be positive");
    }
    s.per_parameter = k.boolean("per_parameter", !momentum);
    if (momentum && s.per_parameter)
        throw InputError("sgd.per_parameter: not with sgd.momentum (the rates eta'/sigma_a^2 are a plain-SGD question)");
    if (const toml::node* sw = k.get("sweep_eta")) s.sweep = k.numbers("sweep_eta", *sw);
    s.sweep_chains = static_cast<Eigen::Index>(k.whole("sweep_chains", 0, 0));
    k.finish();
    return s;
}

}  // namespace fpsolve
