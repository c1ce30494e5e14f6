#include "sim/sim_storage.h"

#include <memory>

namespace ringkv::sim {

void SimStorage::Write(std::vector<ObjectWrite> writes, std::function<void(Status)> done) {
  auto id = std::make_shared<World::TaskId>(0);
  // Decided now, so the outcome does not depend on what else ran meanwhile.
  const bool write_fails = world_->Chance(faults_.write_error);
  const bool fsync_fails = !write_fails && world_->Chance(faults_.fsync_error);
  const int64_t latency_us = world_->Uniform(faults_.latency_min_us, faults_.latency_max_us);
  *id = world_->After(latency_us, [this, id, write_fails, fsync_fails, writes = std::move(writes),
                                   done = std::move(done)]() mutable {
    in_flight_.erase(*id);
    if (write_fails || fsync_fails) {
      done(Status(Code::kIoError, write_fails ? "simulated write error (EIO)"
                                              : "simulated fsync error (EIO)"));
      return;
    }
    durable_.Write(std::move(writes), [](Status) {});
    durable_.RunCompletions();  // now durable
    done(Status::Ok());
  });
  in_flight_.insert(*id);
}

void SimStorage::Crash() {
  for (auto id : in_flight_) world_->Cancel(id);
  in_flight_.clear();
}

}  // namespace ringkv::sim
