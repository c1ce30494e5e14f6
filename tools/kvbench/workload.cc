#include "tools/kvbench/workload.h"

#include <cassert>

namespace ringkv::bench {

const std::vector<Workload>& AllWorkloads() {
  static const std::vector<Workload> kAll = {
      {"load", "inserts keys 0..K-1 once each, in order (run it before the read workloads)", 100,
       0, 0, 0, false},
      {"a", "YCSB A, update heavy: 50% reads, 50% blind updates", 0, 50, 50, 0, false},
      {"b", "YCSB B, read mostly: 95% reads, 5% blind updates", 0, 95, 5, 0, false},
      {"c", "YCSB C, read only", 0, 100, 0, 0, false},
      {"f", "YCSB F: 50% reads, 50% read-modify-write (get, then put with its context)", 0, 50, 0,
       50, false},
      {"update", "blind updates only (puts of chosen existing keys)", 0, 0, 100, 0, false},
      {"readhot", "reads only, of a small hot set of keys (--hot-keys)", 0, 100, 0, 0, true},
  };
  return kAll;
}

std::optional<Workload> FindWorkload(std::string_view name) {
  for (const Workload& w : AllWorkloads()) {
    if (w.name == name) return w;
  }
  return std::nullopt;
}

OpMix::OpMix(const Workload& workload, uint64_t seed) : w_(workload), rng_(seed) {
  assert(w_.insert_pct + w_.read_pct + w_.update_pct + w_.rmw_pct == 100);
}

OpKind OpMix::Next() {
  if (w_.insert_pct == 100) return OpKind::kInsert;
  int roll = static_cast<int>(rng_() % 100);
  if ((roll -= w_.read_pct) < 0) return OpKind::kRead;
  if ((roll -= w_.update_pct) < 0) return OpKind::kUpdate;
  if ((roll -= w_.rmw_pct) < 0) return OpKind::kReadModifyWrite;
  return OpKind::kInsert;
}

}  // namespace ringkv::bench
