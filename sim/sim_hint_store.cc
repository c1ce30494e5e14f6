#include "sim/sim_hint_store.h"

#include <cassert>

namespace ringkv::sim {

void SimHintStore::AddRecord(const std::string& target, int64_t stored_at_us, std::string record,
                             std::function<void(Status)> done) {
  const uint64_t id = mem_.next_id();
  // What the hint carries, for the checker should it be lost (records come from EncodeHintRecord).
  Hint hint;
  const Status decoded = DecodeHintRecord(record, &hint);
  assert(decoded.ok());
  (void)decoded;
  Lost what{target, std::move(hint.key), hint.object.clock()};
  mem_.AddRecord(target, stored_at_us, std::move(record), std::move(done));
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
