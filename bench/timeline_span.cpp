// What a timeline span costs (core/timeline.hpp): nanoseconds per Span with
// the recorder off (the cost every run pays: one relaxed atomic load) and on
// (two clock reads and an append under an uncontended lock), and per event
// put on a lane. Single thread; prints one line per figure.
#include <fmt/format.h>

#include <chrono>
#include <cstdint>

#include "core/timeline.hpp"

namespace {

using Clock = std::chrono::steady_clock;

template <typename Body>
double ns_per_iteration(int64_t iterations, Body body) {
  const auto start = Clock::now();
  for (int64_t i = 0; i < iterations; ++i) body(i);
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
         static_cast<double>(iterations);
}

}  // namespace

int main() {
  using namespace distsgd;
  constexpr int64_t kOff = 50'000'000, kOn = 200'000;
  timeline::stop();
  const double off = ns_per_iteration(kOff, [](int64_t i) {
    timeline::Span span("forward", "compute", "step", i);
    asm volatile("" ::: "memory");  // keep one span per iteration
  });
  const double empty = ns_per_iteration(kOff, [](int64_t) { asm volatile("" ::: "memory"); });
  timeline::start(static_cast<std::size_t>(2 * kOn));
  timeline::name_this_thread("bench");
  const double on = ns_per_iteration(kOn, [](int64_t i) {
    timeline::Span span("forward", "compute", "step", i);
    asm volatile("" ::: "memory");
  });
  const double lane = ns_per_iteration(kOn, [](int64_t i) {
    timeline::record_on_lane("all-reduce bucket", i % 4, "allreduce bucket", "comm", i, i + 1);
  });
  const auto snapshot = timeline::collect();
  // Past the cap (here 0): counted, not stored.
  timeline::start(0);
  const double full = ns_per_iteration(kOn, [](int64_t i) {
    timeline::Span span("forward", "compute", "step", i);
    asm volatile("" ::: "memory");
  });
  const auto dropped = timeline::collect();
  timeline::stop();
  const double clock = ns_per_iteration(kOn, [](int64_t) {
    volatile int64_t t = timeline::now_ns();
    (void)t;
  });
  fmt::print("span, recorder off: {:.2f} ns ({:.2f} ns of it the empty loop), {} spans\n", off,
             empty, kOff);
  fmt::print("span, recorder on:  {:.1f} ns, {} spans\n", on, kOn);
  fmt::print("lane event, on:     {:.1f} ns, {} events ({} recorded in all)\n", lane, kOn,
             snapshot.recorded);
  fmt::print("span past the cap:  {:.1f} ns ({} recorded, {} dropped)\n", full, dropped.recorded,
             dropped.dropped);
  fmt::print("one clock read:     {:.1f} ns (a span on reads it twice)\n", clock);
  return 0;
}
