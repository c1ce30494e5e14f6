#include "sim/world.h"

#include <cassert>

namespace ringkv::sim {

World::TaskId World::At(int64_t time_us, std::function<void()> task) {
  assert(time_us >= now_us_);
  const auto key = std::make_pair(time_us, next_seq_);
  const TaskId id = next_seq_++;
  queue_.emplace(key, std::move(task));
  index_.emplace(id, key);
  return id;
}

void World::Cancel(TaskId id) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  queue_.erase(it->second);
  index_.erase(it);
}

size_t World::RunUntil(int64_t until_us) {
  size_t ran = 0;
  while (!queue_.empty() && queue_.begin()->first.first <= until_us) {
    auto node = queue_.extract(queue_.begin());
    index_.erase(node.key().second);
    now_us_ = node.key().first;
    node.mapped()();
    ++ran;
  }
  if (until_us > now_us_) now_us_ = until_us;
  return ran;
}

size_t World::RunToQuiescence(size_t max_tasks) {
  size_t ran = 0;
  while (!queue_.empty() && ran < max_tasks) {
    auto node = queue_.extract(queue_.begin());
    index_.erase(node.key().second);
    now_us_ = node.key().first;
    node.mapped()();
    ++ran;
  }
  return ran;
}

Timers::TimerId SimTimers::After(int64_t delay_us, std::function<void()> fn) {
  const TimerId id = next_++;
  live_[id] = world_->After(delay_us, [this, id, fn = std::move(fn)] {
    live_.erase(id);
    fn();
  });
  return id;
}

void SimTimers::Cancel(TimerId id) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  world_->Cancel(it->second);
  live_.erase(it);
}

void SimTimers::CancelAll() {
  for (const auto& [id, task] : live_) world_->Cancel(task);
  live_.clear();
}

}  // namespace ringkv::sim
