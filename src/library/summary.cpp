#include "library/summary.hpp"

namespace distsgd::library {

Summary summary_of(const TrainResult& result) {
  const auto& s = result.summary;
  const auto number = [&s](const char* key) {
    const auto it = s.find(key);
    return it != s.end() && it->is_number() ? it->get<double>() : 0.0;
  };
  const auto text = [&s](const char* key) {
    const auto it = s.find(key);
    return it != s.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Summary out;
  // A server's summary is {"method": ...} alone; a worker's names the method
  // (or, stopped by a signal with a whole-file checkpoint, the signal).
  out.worker = s.contains("algo") || s.contains("stopped_by_signal");
  out.final_test_accuracy = number("final_test_accuracy");
  out.final_test_loss = number("final_test_loss");
  out.best_test_accuracy = number("best_test_accuracy");
  out.epochs = number("epochs");
  out.steps = static_cast<int64_t>(s.contains("steps") ? number("steps") : number("step"));
  out.train_time_s = number("train_time_s");
  out.wall_time_s = number("wall_time_s");
  out.samples_per_s = number("samples_per_s");
  out.stopped_by_signal = text("stopped_by_signal");
  out.checkpoint = text("checkpoint");
  out.lost_ranks = result.lost_ranks;
  out.json = s.dump(2);
  return out;
}

}  // namespace distsgd::library
