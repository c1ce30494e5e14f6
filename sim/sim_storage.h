// SimStorage: a simulated disk. Writes become durable, and are acknowledged, after a random disk
// latency; a crash loses every write not yet durable and never runs its completion, as a process
// killed before its fsync would. Reads see only durable data (KvService never reads a key with a
// write in flight).
//
// Disk faults (DiskFaults): a write or its fsync fails, returning kIoError with nothing applied
// (ENOSPC or EIO before the data reached the disk), and a slow disk (latencies up to
// latency_max_us).
//
// Thread safety: none.
#ifndef RINGKV_SIM_SIM_STORAGE_H_
#define RINGKV_SIM_SIM_STORAGE_H_

#include <map>
#include <set>
#include <string>

#include "sim/world.h"
#include "storage/memory_storage.h"

namespace ringkv::sim {

struct DiskFaults {
  double write_error = 0;  // probability a write fails with kIoError, nothing applied
  double fsync_error = 0;  // probability its fsync fails: kIoError, nothing applied
  int64_t latency_min_us = 50;
  int64_t latency_max_us = 2000;
};

class SimStorage final : public Storage {
 public:
  explicit SimStorage(World* world) : world_(world) {}

  Result<VersionedObject> Get(std::string_view storage_key) override { return durable_.Get(storage_key); }
  void Write(std::vector<ObjectWrite> writes, std::function<void(Status)> done) override;
  Status Scan(std::string_view keyspace, Token from_exclusive, Token to_inclusive,
              const std::function<bool(std::string_view, Token, const VersionedObject&)>& fn)
      override {
    return durable_.Scan(keyspace, from_exclusive, to_inclusive, fn);
  }
  Result<std::string> GetMeta(std::string_view name) override { return durable_.GetMeta(name); }
  Status PutMeta(std::string_view name, std::string_view value) override {
    return durable_.PutMeta(name, value);
  }
  StorageStats Stats() override { return durable_.Stats(); }
  void Drain() override {}

  // The process died: writes in flight are lost and their completions never run.
  void Crash();

  DiskFaults& faults() { return faults_; }

 private:
  World* world_;
  MemoryStorage durable_;
  std::set<World::TaskId> in_flight_;
  DiskFaults faults_;
};

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_SIM_STORAGE_H_
