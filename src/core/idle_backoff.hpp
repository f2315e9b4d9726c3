#pragma once
// How distsgd polls: spin briefly for latency, then yield, then sleep in short
// naps, so that a rank waiting for a message leaves the core to the rank (or
// thread) that has work to do when ranks outnumber cores.
#include <chrono>
#include <thread>

namespace distsgd {

class IdleBackoff {
 public:
  // After a poll that found work.
  void reset() { polls_ = 0; }
  // After a poll that found none. Returns true once polling has reached the
  // napping stage (the moment for slower checks, such as deadlines).
  bool pause() {
    ++polls_;
    if (polls_ < kSpins) return false;
    if (polls_ < kYields) {
      std::this_thread::yield();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    return true;
  }

 private:
  static constexpr int kSpins = 200, kYields = 1000;
  int polls_ = 0;
};

}  // namespace distsgd
