#include "sim/sim_hint_store.h"

namespace ringkv::sim {

void SimHintStore::Add(Hint hint, std::function<void(Status)> done) {
  const uint64_t id = mem_.next_id();
  Lost what{hint.target, hint.key, hint.object.clock()};
  mem_.Add(std::move(hint), std::move(done));
  // Decided now, so the outcome does not depend on what else ran meanwhile.
  const bool fails = world_->Chance(faults_->write_error) || world_->Chance(faults_->fsync_error);
  const int64_t latency_us = world_->Uniform(faults_->latency_min_us, faults_->latency_max_us);
  const World::TaskId task = world_->After(latency_us, [this, id, fails] {
    auto it = in_flight_.find(id);
    if (fails) lost_.push_back(std::move(it->second.second));
    in_flight_.erase(it);
    mem_.Complete(id, fails ? Status::IoError("simulated hint write error (EIO)") : Status::Ok());
  });
  in_flight_.emplace(id, std::make_pair(task, std::move(what)));
}

void SimHintStore::Crash() {
  for (auto& [id, entry] : in_flight_) {
    world_->Cancel(entry.first);
    lost_.push_back(std::move(entry.second));
  }
  in_flight_.clear();
  mem_.LosePending();
}

}  // namespace ringkv::sim
