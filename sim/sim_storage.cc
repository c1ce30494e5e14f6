#include "sim/sim_storage.h"

#include <memory>

namespace ringkv::sim {

void SimStorage::Write(std::vector<ObjectWrite> writes, std::function<void(Status)> done) {
  auto id = std::make_shared<World::TaskId>(0);
  *id = world_->After(world_->Uniform(50, 2000), [this, id, writes = std::move(writes),
                                                  done = std::move(done)]() mutable {
    in_flight_.erase(*id);
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
