// BalancedAllocator: the greedy, replication-aware token placement behind AllocateTokens
// (ring/tokens.h). Internal to ring/.
//
// Model. At replication factor r every range has r replica slots (fewer while the ring has fewer
// nodes). A slot belongs to a node and, more finely, to the vnode at which the clockwise walk first
// met that node. A node's (or vnode's) ownership at level r is the total width of its slots among
// the first r of each range. Its fair share at level r is r * tau times its token count (a vnode: r
// * tau), with tau = 1 / T_final, T_final the ring's tokens after the join.
//
// Objective. The weighted sum, over levels r = 1..N (N the factor asked for, capped at the nodes
// after the join) and over nodes and vnodes, of squared deviations from fair shares. Weights are
// 1/r^2 (so each level's relative spread counts alike), times 4 at level N, times 1/4 for vnodes.
// Keyspaces have their own replication factors (DESIGN.md §3), so balance at every level up to N
// matters, not only at N; vnode terms keep vnode sizes even so later joins stay balanced.
//
// Step. For each new token, for every existing range (a, b]: inserting the new node's token at p
// changes the slots of (a, p], of (p, b] and of the ranges before a whose walks now meet the new
// token before finding N nodes (found by walking back until the candidate drops out of the walk).
// Every change is linear in w1 = width of (a, p], so the objective over the units touched is a
// quadratic in w1: take its minimum, clamped so that neither side of the split is under a quarter
// of the range (slivers would make later splits uneven). The range with the best improvement wins,
// ties to the lowest index; its split is then jittered by up to 1/64 of the range from the seed. So
// the result depends on nothing but the inputs.
//
// Thread safety: none; a short-lived object on one thread.
#ifndef RINGKV_RING_BALANCED_ALLOCATOR_H_
#define RINGKV_RING_BALANCED_ALLOCATOR_H_

#include <cstdint>
#include <random>
#include <vector>

#include "common/token.h"
#include "ring/ring.h"

namespace ringkv {

class BalancedAllocator {
 public:
  // REQUIRES: !ring.empty(); tokens >= 1; replication_factor >= 1; the new node is not in the ring.
  // `ring` is copied from; it need not outlive the allocator.
  BalancedAllocator(const Ring& ring, uint32_t tokens, uint32_t replication_factor, uint64_t seed);

  // The new node's tokens, in the order placed. Call once.
  std::vector<Token> Run();

 private:
  static constexpr uint32_t kVirtual = UINT32_MAX;  // the candidate token's vnode id in a Slot

  struct Slot {
    uint32_t node;
    uint32_t vnode;  // index into tokens_, or kVirtual
  };
  // How a unit's ownership changes with the candidate: by c + w1 * d. `touched` units carry their
  // deviation from the fair share and their weight in the objective.
  struct Change {
    bool touched = false;
    double c = 0;
    double d = 0;
    double deviation = 0;
    double weight = 0;
  };
  struct Candidate {
    bool valid = false;
    double score = 0;  // change of the objective; lower is better
    size_t range = 0;
    double w1 = 0;  // width of (a, p] as a share of the ring
  };

  void Recompute();
  Candidate Evaluate(size_t range);
  void AddSlots(const Slot* slots, size_t count, double c, double d);
  void AddNodeChange(size_t level, uint32_t node, double c, double d);
  void AddVNodeChange(size_t level, uint32_t vnode, double c, double d);
  // Units are (level, node) and (level, vnode), levels 1..levels_, numbered densely.
  size_t NodeUnit(size_t level, uint32_t node) const;
  size_t VNodeUnit(size_t level, uint32_t vnode) const;
  static double LevelWeight(size_t level, size_t levels);

  const uint32_t new_node_;  // its index: one past the ring's nodes
  const uint32_t tokens_to_place_;
  const uint32_t replication_factor_;
  uint32_t placed_ = 0;
  std::mt19937_64 rng_;

  std::vector<Token> tokens_;           // ascending, the new node's placed tokens included
  std::vector<uint32_t> owners_;        // by token
  std::vector<uint32_t> token_counts_;  // final counts by node; the new node's is tokens_to_place_
  double tau_ = 0;                      // fair share of one vnode at level 1: 1 / T_final

  // Derived by Recompute() from tokens_ and owners_.
  size_t want_now_ = 0;        // replicas a range has now
  size_t want_after_ = 0;      // replicas a range has once the candidate is in
  size_t levels_ = 0;          // replication levels balanced: 1..want_after_
  std::vector<double> width_;  // of range i = (tokens_[i-1], tokens_[i]]
  std::vector<Slot> slots_;    // want_now_ per range, flat, in walk order
  std::vector<double> own_;    // by unit

  // Scratch for Evaluate(): changes by unit, and the units touched.
  std::vector<Change> changes_;
  std::vector<size_t> touched_;
  std::vector<Slot> walk_;  // the replicas of one range with the candidate in
};

}  // namespace ringkv

#endif  // RINGKV_RING_BALANCED_ALLOCATOR_H_
