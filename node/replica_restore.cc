#include "node/replica_restore.h"

#include <fmt/format.h>

#include <algorithm>

#include "ring/ownership_diff.h"

namespace ringkv {

ReplicaRestore::ReplicaRestore(const ClusterView* view, KvService* service, PeerTransport* peers,
                               Timers* timers, const Clock* clock,
                               const KeyspaceCatalog* keyspaces, Logger* log,
                               StreamOptions options, int64_t ring_delay_ms)
    : view_(view),
      keyspaces_(keyspaces),
      timers_(timers),
      clock_(clock),
      ring_delay_ms_(ring_delay_ms),
      log_(log),
      streamer_(view, service, peers, timers, clock, log, options, &progress_) {}

void ReplicaRestore::OnRemoved(const std::string& name, const Ring& before) {
  std::vector<StreamTask> tasks;
  for (const auto& [ks, def] : keyspaces_->all()) {
    for (const auto& change : OwnershipDiff(before, view_->ring(), def.replication_factor)) {
      if (std::find(change.gained.begin(), change.gained.end(), view_->self()) ==
          change.gained.end()) {
        continue;
      }
      std::vector<std::string> sources;
      for (const auto& node : change.old_replicas) {
        if (node != name && node != view_->self()) sources.push_back(node);
      }
      for (const auto& part : change.range.Unwrap()) tasks.push_back(StreamTask{ks, part, sources});
    }
  }
  RINGKV_LOG(log_, kInfo, "removenode {}: this node takes {} range(s) of it from the surviving "
             "replicas in {} ms, once every coordinator has heard", name, tasks.size(),
             ring_delay_ms_);
  if (tasks.empty()) return;
  queue_.push_back(Removal{name, std::move(tasks), clock_->MonoUs() + ring_delay_ms_ * 1000});
  if (!running_) RunNext();
}

void ReplicaRestore::RunNext() {
  if (queue_.empty()) {
    running_ = false;
    return;
  }
  running_ = true;
  if (const int64_t wait_us = queue_.front().start_us - clock_->MonoUs(); wait_us > 0) {
    progress_.what = "removenode " + queue_.front().name;
    progress_.state = "waiting";
    timers_->After(wait_us, [this] { RunNext(); });
    return;
  }
  Removal removal = std::move(queue_.front());
  queue_.pop_front();
  const std::string name = removal.name;
  std::vector<StreamTask> tasks = std::move(removal.tasks);
  progress_ = StreamProgress{};
  progress_.what = "removenode " + name;
  progress_.state = "streaming";
  progress_.ranges_total = tasks.size();
  streamer_.Run(std::move(tasks), [](const StreamTask&) {}, [this, name] {
    progress_.state = "done";
    RINGKV_LOG(log_, kInfo, "removenode {}: restored {} key(s), {} byte(s) in {} range(s)", name,
               progress_.keys, progress_.bytes, progress_.ranges_done);
    RunNext();
  });
}

}  // namespace ringkv
