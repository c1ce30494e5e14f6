// The named workloads of kvbench (the list itself is at the top of kvbench.cc) and the choice of
// each operation's kind.
//
// Thread safety: Workload is immutable after FindWorkload; OpMix is per lane (not thread-safe).
#ifndef RINGKV_TOOLS_KVBENCH_WORKLOAD_H_
#define RINGKV_TOOLS_KVBENCH_WORKLOAD_H_

#include <cstdint>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

namespace ringkv::bench {

enum class OpKind : uint8_t {
  kInsert,  // put of key i for the i-th operation: every key written once, in order
  kRead,    // get of a chosen key
  kUpdate,  // blind put of a chosen key (no context: the value supersedes nothing)
  kReadModifyWrite,  // get, then put with the context the get returned
};

struct Workload {
  std::string_view name;
  std::string_view description;
  // Percent of operations by kind; they sum to 100. A workload of inserts has insert_pct 100.
  int insert_pct = 0, read_pct = 0, update_pct = 0, rmw_pct = 0;
  // Reads go to a small hot set (KvbenchOptions::hot_keys) instead of the whole key range.
  bool hot = false;
};

// Every workload, in the order kvbench lists them.
const std::vector<Workload>& AllWorkloads();
std::optional<Workload> FindWorkload(std::string_view name);

// Draws operation kinds in the workload's proportions.
class OpMix {
 public:
  OpMix(const Workload& workload, uint64_t seed);
  OpKind Next();

 private:
  Workload w_;
  std::mt19937_64 rng_;
};

}  // namespace ringkv::bench

#endif  // RINGKV_TOOLS_KVBENCH_WORKLOAD_H_
