// A randomized client workload over a SimCluster, recorded as a history of operations (invoke,
// then ok / fail / info), in the manner of a Jepsen history. The checker (sim/checker.h) judges it.
//
// Clients run one operation at a time, each against a random live node: gets, blind puts,
// read-modify-writes that carry the context just read, deletes with a context and blind deletes,
// puts with a TTL, and paged token-range scans. Keys come from a small hot set most of the time and
// from a wider set otherwise. A get is often followed at once by the same client's get of the same
// key through another node (a session's reads). Every put writes a value no other put writes, so a value returned by
// a read names the write it came from. Each operation draws its consistency from the workload's
// mix, so one history holds pairs of operations whose R + W overlap and pairs whose do not; the
// checker judges each pair by what its setting promises.
//
// Thread safety: none; runs on the World's thread.
#ifndef RINGKV_SIM_WORKLOAD_H_
#define RINGKV_SIM_WORKLOAD_H_

#include <string>
#include <vector>

#include "sim/sim_cluster.h"

namespace ringkv::sim {

inline constexpr std::string_view kSimKeyspace = "sim";

struct Op {
  enum class Kind { kGet, kPut, kDel, kScan };
  // ok: answered with success; fail: answered with an error that guarantees nothing was applied;
  // info: in doubt (timed out, or the client gave up), or never answered.
  enum class Outcome { kPending, kOk, kFail, kInfo };
  Kind kind = Kind::kGet;
  size_t client = 0;
  std::string key;           // get, put, del
  std::string value;         // put: unique per write, so a sibling names its write
  bool blind = false;        // put / del sent without a context
  std::string context_used;  // put / del: the context the client sent
  uint32_t ttl_s = 0;        // put
  // The R or W this operation asked for (ANY: 0, see PickLevel); for a write acknowledged in part
  // by stand-ins (sloppy quorum), only what replicas acknowledged: a stand-in's hint is invisible
  // to reads until delivered, so R + W > N promises nothing for the stand-ins' share.
  size_t needed = 0;
  bool sloppy = false;       // put / del: asked for sloppy quorum
  uint32_t fallback_acks = 0;  // put / del ok: acknowledgements counted from stand-ins
  std::string node;          // the coordinator asked
  int64_t invoke_us = 0;
  int64_t complete_us = -1;
  // The coordinator's wall clock (skewed) at completion: how late a TTL may have been judged.
  int64_t complete_wall_us = 0;
  Outcome outcome = Outcome::kPending;
  Status error;
  Dot dot;                    // put / del ok: the dot the write took
  int64_t expires_at_us = 0;  // put ok with a TTL: when its value expires (coordinator wall)
  ReadReply read;             // get ok
  std::vector<ScanReplyEntry> scan;  // scan ok: every live key it returned, all pages
};

// One consistency setting an operation may ask for.
struct Level {
  Consistency consistency = Consistency::kQuorum;
  uint8_t explicit_count = 0;
};

struct WorkloadOptions {
  size_t keys = 16;      // keys in all
  size_t hot_keys = 3;   // the first hot_keys of them take p_hot of the operations
  double p_hot = 0.6;
  size_t clients = 5;
  size_t ops_per_client = 24;
  // Operation mix (the rest: gets).
  double p_blind_put = 0.2;
  double p_rmw_put = 0.3;
  double p_delete = 0.06;
  double p_blind_delete = 0.04;
  double p_scan = 0.03;
  double p_reread = 0.4;  // of gets: the same client reads the key again at once
  double p_ttl = 0.15;  // of puts: with a TTL of 1 to ttl_s_max seconds
  uint32_t ttl_s_max = 2;
  int64_t think_min_us = 1'000;  // between one client's operations
  int64_t think_max_us = 60'000;
  std::vector<Level> read_levels{{Consistency::kQuorum, 0}};
  std::vector<Level> write_levels{{Consistency::kQuorum, 0}};
  double p_sloppy = 0;  // of puts and deletes: asking for sloppy quorum (QuorumMode::kSloppy)
};

class Workload {
 public:
  // `cluster` must outlive the workload.
  Workload(SimCluster* cluster, WorkloadOptions options);
  void Start();
  bool done() const { return finished_clients_ == options_.clients; }
  // A blind put at ONE of a fresh value to every key, each through the next node in turn, recorded
  // in the history like any other (for after the heal: see sim/faults.h). Returns the indexes of
  // the ops in history().
  std::vector<size_t> ProbeWrites();
  // A get at ALL of every key, each through the next node in turn, recorded like any other: the
  // reads after anti-entropy's repair, judged against the whole history (sim/faults.h).
  void ProbeReads();
  const std::vector<Op>& history() const { return history_; }
  std::vector<std::string> keys() const;

 private:
  void NextOp(size_t client, size_t remaining);
  void ContinueLater(size_t client, size_t remaining);
  SimNode* PickNode();
  std::string PickKey();
  RequestOptions PickLevel(const std::vector<Level>& levels, size_t* needed);
  size_t Invoke(Op op, SimNode* node);
  void Complete(size_t index, Op::Outcome outcome, Status error);
  // Arms the client's own timeout: a client gives up on a coordinator that died with its request.
  // Returns the flag that says whether the op has been settled (by an answer or by giving up).
  std::shared_ptr<bool> GiveUpLater(size_t index, size_t client, size_t remaining);

  void Get(size_t client, size_t remaining, SimNode* node, const std::string& key, int then);
  void Write(size_t client, size_t remaining, SimNode* node, Op::Kind kind, const std::string& key,
             std::string context);
  void Scan(size_t client, size_t remaining, SimNode* node);
  void ScanPage(size_t index, std::shared_ptr<bool> settled, size_t client, size_t remaining,
                RequestOptions options, ScanSpec spec);

  SimCluster* const cluster_;
  const WorkloadOptions options_;
  std::vector<Op> history_;
  size_t finished_clients_ = 0;
  uint64_t next_value_ = 1;
};

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_WORKLOAD_H_
