// A randomized client workload over a SimCluster, recorded as a history of operations (invoke,
// then ok / fail / info), and the checker of the replication invariants over that history.
#ifndef RINGKV_SIM_WORKLOAD_H_
#define RINGKV_SIM_WORKLOAD_H_

#include <string>
#include <vector>

#include "sim/sim_cluster.h"

namespace ringkv::sim {

struct Op {
  enum class Kind { kGet, kPut, kDel };
  enum class Outcome { kPending, kOk, kFail, kInfo };  // info: in doubt, or never answered
  Kind kind = Kind::kGet;
  std::string key;
  std::string value;         // put: unique per write, so a sibling names its write
  std::string context_used;  // put / del: the context the client sent
  std::string node;          // the coordinator asked
  int64_t invoke_us = 0;
  int64_t complete_us = -1;
  Outcome outcome = Outcome::kPending;
  Status error;
  Dot dot;                   // put ok: the dot the write took
  ReadReply read;            // get ok
};

struct WorkloadOptions {
  size_t keys = 4;
  size_t clients = 4;
  size_t ops_per_client = 30;
  double p_blind_put = 0.25;
  double p_delete = 0.05;
  double p_get = 0.2;  // the rest: read-modify-write
  RequestOptions request;  // consistency for every request
};

class Workload {
 public:
  Workload(SimCluster* cluster, WorkloadOptions options);
  void Start();
  bool done() const { return finished_clients_ == options_.clients; }
  const std::vector<Op>& history() const { return history_; }
  std::vector<std::string> keys() const;

 private:
  void NextOp(size_t client, size_t remaining);
  SimNode* PickNode();
  size_t Invoke(Op op);
  void Complete(size_t index, Op::Outcome outcome, Status error);

  SimCluster* const cluster_;
  const WorkloadOptions options_;
  std::vector<Op> history_;
  size_t finished_clients_ = 0;
  uint64_t next_value_ = 1;
};

// Checks a finished history and a healed, repaired cluster. Returns one line per violation.
//  1. every read that began after a write was acknowledged has seen it: the read's context covers
//     the write's dot (R + W > N, strict quorum);
//  2. no read returns two siblings where one's write context covered the other's dot (no false
//     siblings);
//  3. every replica of every key holds the same object;
//  4. every acknowledged write that no later write superseded is among the final siblings.
std::vector<std::string> CheckHistory(SimCluster* cluster, const std::vector<Op>& history,
                                      const std::vector<std::string>& keys,
                                      const std::string& keyspace);

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_WORKLOAD_H_
