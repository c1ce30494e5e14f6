// The fault schedule of the randomized simulation tests: while the workload runs, a fault every
// few virtual milliseconds, drawn from the World's seeded generator.
//
//   network    two-sided partitions of random shape, one-way cuts, heals; message loss,
//              duplication, and delays long enough to reorder and to outlast request deadlines
//   process    crash (losing every write not yet durable) and restart later
//   disk       a node's writes or fsyncs fail (kIoError, nothing applied) for a while; a slow disk
//   detector   a live node believed down by one peer for a while; a dead one believed up
//   clock      a node's wall clock skewed by up to +-2 s (TTL expiry and LWW timestamps see it)
//
// Thread safety: none; runs on the World's thread.
#ifndef RINGKV_SIM_FAULTS_H_
#define RINGKV_SIM_FAULTS_H_

#include <memory>
#include <string>
#include <vector>

#include "sim/sim_cluster.h"

namespace ringkv::sim {

class FaultSchedule {
 public:
  // `cluster` must outlive the schedule.
  explicit FaultSchedule(SimCluster* cluster) : cluster_(cluster) {}
  // Starts injecting; Stop() ends it (pending steps do nothing).
  void Start();
  void Stop() { *stopped_ = true; }

 private:
  void Step();
  SimNode* RandomNode();

  SimCluster* const cluster_;
  std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
};

// Ends every fault: heals the network and the disks, forgets detector mistakes and skew, restarts
// the dead, and lets everything in flight land, hint replay included (with hinted handoff on, the
// handoff's tick runs while any hint is pending). With hinted handoff on, checks that every
// acknowledged write reached all N replicas by now, before any repair (CheckHintedReplication,
// sim/checker.h, says which writes may legitimately be missing). Then, in the healthy cluster, writes every key once
// more at ONE (Workload::ProbeWrites) and checks, before any repair, that each of those writes
// reached all N replicas: a coordinator must send a write to every replica it believes up, not just
// to W of them (a skipped replica would otherwise hide behind the repair round). Last, reads every
// key at ALL (read repair) and lets the repairs land. Returns the violations of the probe check.
//
// With anti-entropy on (SimOptions::anti_entropy), anti-entropy converges the replicas instead:
// scheduled rounds stop at the heal; after the hint check every node runs one
// RepairWithAntiEntropy, before the probe writes (which would carry coordinators' objects to
// every replica); and the last step reads every key at ALL as recorded operations
// (Workload::ProbeReads), which the checker judges against the whole history. The read repair of
// those reads cannot hide an anti-entropy bug: the replicas were compared before them.
// `idle_node`: see RepairWithAntiEntropy.
class Workload;
std::vector<std::string> HealAndRepair(SimCluster* cluster, Workload* workload,
                                       const std::string& idle_node = "");

// One repair of the keyspace on every node of the healed cluster (`kvctl repair sim` on each, all
// at once) but `idle_node` (none when empty), run to quiescence. Violations: a repair refused or
// unfinished, an exchange that failed (nothing is down, lost or cut), and any key whose N owners
// do not hold identical objects (siblings and clocks) afterwards.
// One idle node still converges: every pair of a range's replicas but the idle one's meets in an
// exchange, and each exchange repairs both ways, so every replica merges every other's objects.
// It is what catches a repair that copies one way only: with every node repairing, each node
// pulling from every peer would converge too.
std::vector<std::string> RepairWithAntiEntropy(SimCluster* cluster,
                                               const std::vector<std::string>& keys,
                                               const std::string& idle_node);

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_FAULTS_H_
