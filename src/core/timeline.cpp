#include "core/timeline.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace distsgd::timeline {

namespace detail {
std::atomic<bool> enabled{false};
}  // namespace detail

namespace {

struct Buffer {
  std::mutex mutex;
  Track track;
};

// Buffers live for the whole process (a thread's pointer to its own stays
// valid, and the events of a thread that has ended are still collected);
// start() empties them.
struct Registry {
  std::mutex mutex;
  std::vector<std::unique_ptr<Buffer>> buffers;
  std::map<std::pair<const char*, int64_t>, Buffer*> lanes;
  int next_tid = 1;
  int next_lane_tid = 1000;
  std::atomic<int64_t> recorded{0};
  std::atomic<int64_t> dropped{0};
  std::atomic<int64_t> cap{0};
};

Registry& registry() {
  static Registry* instance = new Registry;  // never destroyed: threads may record at exit
  return *instance;
}

Buffer* new_buffer(Registry& r, int tid, std::string name) {
  r.buffers.push_back(std::make_unique<Buffer>());
  Buffer* buffer = r.buffers.back().get();
  buffer->track.tid = tid;
  buffer->track.name = std::move(name);
  return buffer;
}

Buffer& own_buffer() {
  thread_local Buffer* own = nullptr;
  if (!own) {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    const int tid = r.next_tid++;
    own = new_buffer(r, tid, "thread " + std::to_string(tid));
  }
  return *own;
}

// Takes one place under the cap; false (and counted) when it is full.
bool admit() {
  auto& r = registry();
  if (r.recorded.fetch_add(1, std::memory_order_relaxed) < r.cap.load(std::memory_order_relaxed))
    return true;
  r.recorded.fetch_sub(1, std::memory_order_relaxed);
  r.dropped.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void append(Buffer& buffer, const Event& event) {
  std::lock_guard lock(buffer.mutex);
  auto& events = buffer.track.events;
  if (events.capacity() == 0) events.reserve(1024);
  events.push_back(event);
}

Event make_event(const char* name, const char* category, int64_t start_ns, int64_t end_ns,
                 const char* arg_name, int64_t arg, std::string_view detail) {
  Event event;
  event.name = name;
  event.category = category;
  event.start_ns = start_ns;
  event.duration_ns = std::max<int64_t>(0, end_ns - start_ns);
  event.arg_name = arg_name;
  event.arg = arg;
  const auto n = std::min(detail.size(), sizeof event.detail - 1);
  std::memcpy(event.detail, detail.data(), n);
  event.detail[n] = '\0';
  return event;
}

}  // namespace

void start(std::size_t cap) {
  auto& r = registry();
  {
    std::lock_guard lock(r.mutex);
    for (auto& buffer : r.buffers) {
      std::lock_guard own(buffer->mutex);
      buffer->track.events.clear();
    }
    r.recorded = 0;
    r.dropped = 0;
    r.cap = static_cast<int64_t>(cap);
  }
  detail::enabled.store(true, std::memory_order_relaxed);
}

void stop() { detail::enabled.store(false, std::memory_order_relaxed); }

Snapshot collect() {
  auto& r = registry();
  Snapshot snapshot;
  std::lock_guard lock(r.mutex);
  for (auto& buffer : r.buffers) {
    std::lock_guard own(buffer->mutex);
    if (!buffer->track.events.empty()) snapshot.tracks.push_back(buffer->track);
  }
  snapshot.recorded = r.recorded.load();
  snapshot.dropped = r.dropped.load();
  snapshot.cap = r.cap.load();
  return snapshot;
}

int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void name_this_thread(std::string name) {
  auto& buffer = own_buffer();
  std::lock_guard lock(buffer.mutex);
  buffer.track.name = std::move(name);
}

void record(const char* name, const char* category, int64_t start_ns, int64_t end_ns,
            const char* arg_name, int64_t arg, std::string_view detail) {
  if (!enabled() || !admit()) return;
  append(own_buffer(), make_event(name, category, start_ns, end_ns, arg_name, arg, detail));
}

void record_on_lane(const char* lane, int64_t index, const char* name, const char* category,
                    int64_t start_ns, int64_t end_ns, std::string_view detail) {
  if (!enabled() || !admit()) return;
  auto& r = registry();
  Buffer* buffer = nullptr;
  {
    std::lock_guard lock(r.mutex);
    auto& slot = r.lanes[{lane, index}];
    if (!slot) slot = new_buffer(r, r.next_lane_tid++, std::string(lane) + " " + std::to_string(index));
    buffer = slot;
  }
  append(*buffer, make_event(name, category, start_ns, end_ns, nullptr, 0, detail));
}

}  // namespace distsgd::timeline
