// MemoryHintStore: a HintStore held in memory, for unit tests and the simulator. As MemoryStorage,
// an Add is not durable at once: it waits in a queue until the owner completes it (RunCompletions,
// or Complete for one hint, which is how sim/sim_hint_store.h gives each its own disk latency), and
// LosePending() is a crash: every hint not yet durable is gone and its completion never runs.
//
// Durable hints are kept as encoded records (storage/hint_store.h), so decoding and the skipping of
// corrupt records run the same code as the LevelDB engine (CorruptForTest plants one).
//
// Thread safety: none; single-threaded use only.
#ifndef RINGKV_STORAGE_MEMORY_HINT_STORE_H_
#define RINGKV_STORAGE_MEMORY_HINT_STORE_H_

#include <deque>
#include <map>
#include <string>

#include "storage/hint_store.h"

namespace ringkv {

class MemoryHintStore final : public HintStore {
 public:
  void AddRecord(const std::string& target, int64_t stored_at_us, std::string record,
                 std::function<void(Status)> done) override;
  std::vector<Hint> Oldest(const std::string& target, size_t max_count,
                           size_t max_bytes) override;
  Status Remove(const std::string& target, uint64_t id) override;
  Result<uint64_t> Truncate(const std::string& target) override;
  std::map<std::string, HintTargetStats> Stats() const override { return index_.Stats(); }
  uint64_t corrupt_skipped() const override { return corrupt_skipped_; }

  // The id the next Add will take.
  uint64_t next_id() const { return next_id_; }
  // Completes the pending Add of `id`: stored when s is OK, dropped otherwise; runs its completion.
  void Complete(uint64_t id, Status s);
  // Completes every pending Add in order (OK unless FailWrites). Returns how many ran.
  size_t RunCompletions();
  // A crash: pending Adds are gone, their completions never run.
  void LosePending();
  size_t pending() const { return pending_.size(); }
  void FailWrites(int n) { fail_writes_ = n; }
  // Replaces a durable record's bytes with garbage.
  void CorruptForTest(const std::string& target, uint64_t id);

 private:
  struct Pending {
    std::string target;
    std::string record;
    std::function<void(Status)> done;
  };
  HintIndex index_;
  std::map<std::string, std::map<uint64_t, std::string>> durable_;  // target -> id -> record
  std::map<uint64_t, Pending> pending_;
  uint64_t next_id_ = 1;
  uint64_t corrupt_skipped_ = 0;
  int fail_writes_ = 0;
};

}  // namespace ringkv

#endif  // RINGKV_STORAGE_MEMORY_HINT_STORE_H_
