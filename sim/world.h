// World: the simulator's single thread of virtual time (DESIGN.md §2). Every event of every
// simulated node (a message delivery, a timer, a disk completion) is a task on one queue, run in
// time order; ties run in scheduling order. All randomness comes from one seeded generator, so a
// seed replays exactly.
//
// Thread safety: none; the whole simulation is single-threaded.
#ifndef RINGKV_SIM_WORLD_H_
#define RINGKV_SIM_WORLD_H_

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <utility>
#include <vector>
#include <algorithm>

#include "common/clock.h"
#include "node/effects.h"

namespace ringkv::sim {

class World {
 public:
  explicit World(uint64_t seed) : rng_(seed) {}

  int64_t now_us() const { return now_us_; }
  std::mt19937_64& rng() { return rng_; }
  // Uniform in [lo, hi].
  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  using TaskId = uint64_t;
  TaskId At(int64_t time_us, std::function<void()> task);
  TaskId After(int64_t delay_us, std::function<void()> task) {
    return At(now_us_ + std::max<int64_t>(delay_us, 0), std::move(task));
  }
  void Cancel(TaskId id);

  // Runs tasks until none is left or virtual time would pass `until_us`. Returns tasks run.
  size_t RunUntil(int64_t until_us);
  // Runs until the queue is empty (or `max_tasks`, a guard against livelock).
  size_t RunToQuiescence(size_t max_tasks = 10'000'000);
  size_t pending() const { return queue_.size(); }

 private:
  int64_t now_us_ = 1'000'000;
  uint64_t next_seq_ = 1;
  std::mt19937_64 rng_;
  // (time, sequence) -> task: time order, then FIFO among equal times.
  std::map<std::pair<int64_t, uint64_t>, std::function<void()>> queue_;
  std::map<TaskId, std::pair<int64_t, uint64_t>> index_;
};

// A node's clock: the world's time plus a per-node skew for wall time.
class SimClock final : public Clock {
 public:
  explicit SimClock(const World* world) : world_(world) {}
  int64_t NowUs() const override { return kEpochUs + world_->now_us() + skew_us_; }
  int64_t MonoUs() const override { return world_->now_us(); }
  void set_skew_us(int64_t skew) {
    skew_us_ = skew;
    skew_log_.emplace_back(world_->now_us(), skew);
  }
  // The lowest wall time this clock showed at any virtual time in [from_us, to_us]: what a
  // judgement made somewhere in that interval (a TTL's expiry) saw at least.
  int64_t MinWallBetween(int64_t from_us, int64_t to_us) const {
    int64_t skew = 0, best = 0;
    bool any = false;
    auto consider = [&](int64_t at_us) {
      const int64_t wall = kEpochUs + at_us + skew;
      if (!any || wall < best) best = wall;
      any = true;
    };
    for (const auto& [at_us, s] : skew_log_) {
      if (at_us > to_us) break;
      if (at_us > from_us) consider(from_us);  // the previous skew held from from_us
      skew = s;
      from_us = std::max(from_us, at_us);
    }
    consider(from_us);
    return best;
  }

 private:
  static constexpr int64_t kEpochUs = 1'700'000'000'000'000;
  const World* world_;
  int64_t skew_us_ = 0;
  std::vector<std::pair<int64_t, int64_t>> skew_log_;  // (virtual time, skew from then on)
};

// A node's timers. Cancelled as a whole when the node crashes.
class SimTimers final : public Timers {
 public:
  explicit SimTimers(World* world) : world_(world) {}
  ~SimTimers() override { CancelAll(); }
  TimerId After(int64_t delay_us, std::function<void()> fn) override;
  void Cancel(TimerId id) override;
  void CancelAll();

 private:
  World* world_;
  std::map<TimerId, World::TaskId> live_;
  TimerId next_ = 1;
};

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_WORLD_H_
