#include "sim/event_queue.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace distsgd::sim {

void EventQueue::at(double time, Action action) {
  if (time < now_)
    throw std::logic_error(fmt::format("an event at {} s scheduled at {} s", time, now_));
  queue_.push(Event{time, scheduled_++, std::move(action)});
}

bool EventQueue::run_next() {
  if (queue_.empty()) return false;
  // The action may schedule more: take it out of the queue first.
  Event event = std::move(const_cast<Event&>(queue_.top()));
  queue_.pop();
  now_ = event.time;
  ++processed_;
  event.action();
  return true;
}

}  // namespace distsgd::sim
