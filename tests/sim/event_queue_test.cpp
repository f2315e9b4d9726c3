#include "sim/event_queue.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace distsgd::sim {
namespace {

TEST(EventQueue, RunsByTimeThenByTheOrderScheduled) {
  EventQueue queue;
  std::vector<int> order;
  queue.at(2.0, [&] { order.push_back(3); });
  queue.at(1.0, [&] { order.push_back(1); });
  queue.at(1.0, [&] { order.push_back(2); });
  queue.run_all();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(queue.now(), 2.0);
  EXPECT_EQ(queue.processed(), 3);
}

TEST(EventQueue, AnActionCanScheduleMoreAndThePastIsRefused) {
  EventQueue queue;
  double seen = -1.0;
  queue.at(1.0, [&] { queue.after(0.5, [&] { seen = queue.now(); }); });
  queue.run_all();
  EXPECT_DOUBLE_EQ(seen, 1.5);
  EXPECT_THROW(queue.at(1.0, [] {}), std::logic_error);
}

}  // namespace
}  // namespace distsgd::sim
