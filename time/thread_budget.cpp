#include "thread_budget.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace fpsolve {

namespace {

using Clock = std::chrono::steady_clock;

struct Budget {
    bool enabled = false;
    int cores = 1, threads = 1;
    Clock::time_point last;
    double busy_ticks = 0.0, own_ticks = 0.0;  // at `last`
};
Budget budget;

// Busy ticks of all CPUs together (everything but idle and iowait), or NAN.
double all_busy_ticks() {
    std::ifstream in("/proc/stat");
    std::string cpu;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    if (!(in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) || cpu != "cpu")
        return NAN;
    return user + nice + system + irq + softirq + steal;
}

// This process's user + system ticks (all its threads), or NAN.
double own_ticks() {
    std::ifstream in("/proc/self/stat");
    std::string line;
    if (!std::getline(in, line)) return NAN;
    const auto close = line.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos) return NAN;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double utime = NAN, stime = NAN;
    for (int k = 3; k <= 15 && rest >> field; ++k) {  // fields 14 and 15: utime, stime
        if (k == 14) utime = std::atof(field.c_str());
        if (k == 15) stime = std::atof(field.c_str());
    }
    return utime + stime;
}

// Runnable tasks other than this one, from /proc/loadavg's "running/total" field, or NAN.
double others_running_now() {
    std::ifstream in("/proc/loadavg");
    double l1, l5, l15;
    std::string running;
    if (!(in >> l1 >> l5 >> l15 >> running)) return NAN;
    return std::atof(running.c_str()) - 1.0;
}

void set_threads(int n) {
#ifdef _OPENMP
    if (n != budget.threads) omp_set_num_threads(n);
#endif
    budget.threads = n;
}

}  // namespace

int threads_for(double others, int cores) {
    const int busy = static_cast<int>(std::ceil(others - 0.3));
    return std::max(1, std::min(cores, cores - std::max(0, busy)));
}

void enable_thread_budget() {
#ifdef _OPENMP
    if (std::getenv("OMP_NUM_THREADS") || std::getenv("OMP_DYNAMIC")) return;
    const double others = others_running_now();
    budget.busy_ticks = all_busy_ticks();
    budget.own_ticks = own_ticks();
    if (std::isnan(others) || std::isnan(budget.busy_ticks) || std::isnan(budget.own_ticks)) {
        omp_set_dynamic(1);  // no /proc: the runtime's load-average rule
        return;
    }
    omp_set_dynamic(0);
    budget.enabled = true;
    budget.cores = omp_get_num_procs();
    budget.threads = omp_get_max_threads();
    budget.last = Clock::now();
    set_threads(threads_for(others, budget.cores));
#endif
}

void adapt_threads() {
    if (!budget.enabled) return;
    const Clock::time_point now = Clock::now();
    const double seconds = std::chrono::duration<double>(now - budget.last).count();
    if (seconds < 0.5) return;
    const double busy = all_busy_ticks(), own = own_ticks();
    if (std::isnan(busy) || std::isnan(own)) return;
    const double ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double others =
        ((busy - budget.busy_ticks) - (own - budget.own_ticks)) / (seconds * ticks_per_second);
    budget.last = now;
    budget.busy_ticks = busy;
    budget.own_ticks = own;
    set_threads(threads_for(others, budget.cores));
}

FixedThreads::FixedThreads(int threads) {
#ifdef _OPENMP
    if (threads <= 0) return;
    active_ = true;
    budget_was_enabled_ = budget.enabled;
    budget.enabled = false;
    threads_ = omp_get_max_threads();
    dynamic_ = omp_get_dynamic();
    omp_set_dynamic(0);
    omp_set_num_threads(threads);
#else
    (void)threads;
#endif
}

FixedThreads::~FixedThreads() {
#ifdef _OPENMP
    if (!active_) return;
    omp_set_dynamic(dynamic_);
    omp_set_num_threads(threads_);
    budget.enabled = budget_was_enabled_;
#endif
}

}  // namespace fpsolve
