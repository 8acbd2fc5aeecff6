// How many OpenMP threads a run uses when the user has not said (neither OMP_NUM_THREADS nor OMP_DYNAMIC
// set).
//
// A thread team waits for its slowest member: with the other core busy, two threads measured 1.8x (512^2
// expm) to 6x (1024^2 right-hand side) slower than one. libgomp's dynamic teams avoid that from the load
// average, but the load average counts this process too, so on two cores a run falls to one thread after
// its first minute even on an idle machine (512^2 expm: 6.5 s dynamic, 4.8 s with two threads). Instead
// the budget is the cores minus what OTHER processes keep busy:
//
//   others = (delta busy time of all CPUs (/proc/stat) - delta CPU time of this process (/proc/self/stat))
//            / delta wall time,          threads = cores - ceil(others - 0.3), at least 1,
//
// measured at start from the run queue (/proc/loadavg) and then again whenever adapt_threads() is called at
// least 0.5 s after the last measurement (the integrators call it once per right-hand side). Results do not
// depend on the thread count (tests/test_threads.cpp), only the speed does. Without /proc, dynamic teams.
#pragma once

namespace fpsolve {

// From main, before any parallel region. Does nothing when OMP_NUM_THREADS or OMP_DYNAMIC is set.
void enable_thread_budget();
// Cheap when not due; call outside parallel regions, from the thread that started the run.
void adapt_threads();
// The rule: `others` CPUs kept busy by other processes leave this many of `cores` (at least 1).
int threads_for(double others, int cores);

// For one scope (a library call with an explicit thread count): exactly `threads` OpenMP threads, the budget
// paused; the previous settings come back on exit. threads <= 0 changes nothing.
class FixedThreads {
public:
    explicit FixedThreads(int threads);
    ~FixedThreads();
    FixedThreads(const FixedThreads&) = delete;
    FixedThreads& operator=(const FixedThreads&) = delete;

private:
    bool active_ = false, budget_was_enabled_ = false;
    int threads_ = 1, dynamic_ = 0;
};

}  // namespace fpsolve
