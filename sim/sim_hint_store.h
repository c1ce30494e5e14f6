// SimHintStore: a node's hint store on the simulated disk, with SimStorage's crash semantics
// (sim/sim_storage.h): a hint becomes durable, and its completion runs, after a random disk
// latency; a crash loses every hint not yet durable and never runs its completion. The node's
// disk faults apply to it as well (a failing write or fsync: kIoError, nothing stored; a slow
// disk). Durable hints survive crashes: the store belongs to the SimNode, not to an incarnation.
//
// Thread safety: none.
#ifndef RINGKV_SIM_SIM_HINT_STORE_H_
#define RINGKV_SIM_SIM_HINT_STORE_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/sim_storage.h"
#include "sim/world.h"
#include "storage/memory_hint_store.h"

namespace ringkv::sim {

class SimHintStore final : public HintStore {
 public:
  // `faults` (the node's disk's) must outlive the store.
  SimHintStore(World* world, const DiskFaults* faults) : world_(world), faults_(faults) {}

  void AddRecord(const std::string& target, int64_t stored_at_us, std::string record,
                 std::function<void(Status)> done) override;
  std::vector<Hint> Oldest(const std::string& target, size_t max_count,
                           size_t max_bytes) override {
    return mem_.Oldest(target, max_count, max_bytes);
  }
  Status Remove(const std::string& target, uint64_t id) override { return mem_.Remove(target, id); }
  Result<uint64_t> Truncate(const std::string& target) override { return mem_.Truncate(target); }
  std::map<std::string, HintTargetStats> Stats() const override { return mem_.Stats(); }
  uint64_t corrupt_skipped() const override { return mem_.corrupt_skipped(); }

  // The process died: hints in flight are lost and their completions never run.
  void Crash();

  // A hint that was never durably stored: lost in a crash, or failed by the disk. What it would
  // have carried is not promised (sim/faults.h, the hinted-replication check).
  struct Lost {
    std::string target;
    std::string key;
    VersionVector clock;  // the hinted object's
  };
  const std::vector<Lost>& lost() const { return lost_; }

 private:
  World* const world_;
  const DiskFaults* const faults_;
  MemoryHintStore mem_;
  std::map<uint64_t, std::pair<World::TaskId, Lost>> in_flight_;  // hint id -> its completion
  std::vector<Lost> lost_;
};

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_SIM_HINT_STORE_H_
