// The checker: judges a finished history (sim/workload.h) and the healed, repaired cluster against
// what each setting promises. Every put writes a unique value, so a sibling a read returns names
// its write; a write "supersedes" the dots its context covers.
//
// A read (a get, or one key of a scan) is judged against every write of its key:
//   value      every sibling it returns was written, with exactly those bytes, for this key, with
//              the dot that write took; a write that failed (nothing applied) never shows;
//   expiry     no sibling it returns had expired on the coordinator's clock when the read began;
//   context    the context it returns covers every sibling it returns;
//   staleness  no sibling it returns was superseded by a write acknowledged before the read began,
//              and its context covers every write acknowledged before it began (a put, or a delete
//              whose tombstone hides the deleted values). Deletes and in-doubt writes are judged
//              by the same rule: an in-doubt value may show or not, but never after a write that
//              superseded it was acknowledged. A pair (read at R, write at W) is held to this only
//              when R + W > N under strict quorum; otherwise the breach is counted as a stale read;
//   siblings   exactness: none invented (above), no false siblings (two siblings where one's
//              write context covered the other), none dropped (a write whose dot the context
//              covers is returned, unless a write that superseded it is covered too, or it expired);
//   sessions   monotonic reads per client and key: a client's later read has a context that
//              descends its earlier read's. Promised, and so judged, with blocking read repair when
//              both reads have 2R > N; otherwise counted.
// A scan is also judged on the keys it did not return (R + W > N: every key with an acknowledged
// live write that nothing superseded is there).
// After heal and repair (a read-repair round, or one anti-entropy repair: sim/faults.h), on the
// cluster:
//   replication   every replica of every key holds the same object (an acknowledged write on
//                 fewer than N replicas is a violation);
//   durability    every acknowledged put that nothing superseded and that has not expired is a
//                 sibling of that object; no sibling superseded by an acknowledged write remains.
// Any operation that ends in kInternal or kCorruption is a violation.
#ifndef RINGKV_SIM_CHECKER_H_
#define RINGKV_SIM_CHECKER_H_

#include <string>
#include <vector>

#include "sim/workload.h"

namespace ringkv::sim {

struct CheckOptions {
  size_t replication_factor = 3;
  bool blocking_read_repair = false;
};

struct CheckReport {
  std::vector<std::string> violations;
  // Breaches of guarantees the setting does not promise: counted, not failed.
  size_t stale_reads = 0;       // R + W <= N
  size_t non_monotonic = 0;     // reads without the monotonic-read promise
  size_t reads_checked = 0;
  size_t strict_pairs = 0;      // (read, acknowledged earlier write) pairs held to R + W > N
};

CheckReport CheckHistory(SimCluster* cluster, const std::vector<Op>& history,
                         const std::vector<std::string>& keys, const CheckOptions& options);

// Hinted replication (hinted handoff, node/hinted_handoff.h), judged on the healed cluster once
// its hints have drained and BEFORE any repair (no read repair, no probe write: sim/faults.h):
// every acknowledged write (put or delete, by its dot) is on all N replicas of its key (their
// clock covers the dot). A replica holds an acknowledged write by its own acknowledgement (it
// stored it durably) or else by a hint its coordinator stored durably and replayed; a replica may
// therefore legitimately miss it only when
//   - a hint for it (that replica, that key, an object covering the dot) was never durably stored:
//     lost in its coordinator's crash before its write completed, or failed by the disk
//     (SimHintStore::lost()); a hint not durably stored is not promised; or
//   - the coordinator (the node whose actor issued the dot) crashed before every replica's
//     outcome was known, so it never asked for a hint: between the write's invocation and
//     4 request deadlines later (its replicas answer by one deadline after it received the
//     write; a hint is durable within the slowest disk's latency after that).
// Hints refused for the window or the caps are not excused: the simulation's window and caps are
// far beyond what a run can reach, so such a refusal is a bug.
// Returns the violations.
std::vector<std::string> CheckHintedReplication(SimCluster* cluster,
                                                const std::vector<Op>& history);

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_CHECKER_H_
