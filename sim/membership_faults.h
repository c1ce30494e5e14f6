// The membership mode's faults (sim/sim_membership.h): network cuts held for a while during a
// range movement, and skewed wall clocks. Drawn from the World's seeded generator, so a seed
// replays them; each describes itself for MembershipSimResult::schedule.
//
// Thread safety: none; the World's thread.
#ifndef RINGKV_SIM_MEMBERSHIP_FAULTS_H_
#define RINGKV_SIM_MEMBERSHIP_FAULTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/sim_cluster.h"
#include "sim/world.h"

namespace ringkv::sim {

// One cut of the network, among the nodes up when it was drawn:
//   kSplit   a minority (1 .. (n-1)/2 nodes) cut both ways from the majority
//   kLink    one link A-B cut both ways; every other node still reaches both
//   kOneWay  A's messages to B dropped; B still reaches A
struct NetworkCut {
  enum class Shape { kSplit, kLink, kOneWay };
  Shape shape = Shape::kSplit;
  std::vector<std::string> a, b;  // kLink, kOneWay: one node each
  int64_t at_us = 0;              // virtual time applied
  int64_t hold_us = 0;            // healed this long after

  // REQUIRES: at least 2 names.
  static NetworkCut Draw(World* world, std::vector<std::string> names);
  void Apply(SimCluster* cluster) const;
  // e.g. "split n1,n5 | n2,n3,n4 for 12.0 s"
  std::string Describe() const;
};

// Sets each named node's wall clock off by a uniform draw in [-skew_ms, +skew_ms] and returns
// "n1 +1203 ms, n2 -88 ms" (monotonic time, which the failure detector and every timer use, is
// not skewed: SimClock).
std::string SkewClocks(World* world, SimCluster* cluster, const std::vector<std::string>& names,
                       int64_t skew_ms);

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_MEMBERSHIP_FAULTS_H_
