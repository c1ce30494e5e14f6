// What the gossip scale benchmark (sim/gossip_scale.cc) measures, how it checks it, and how it
// prints it (a table, or JSON).
//
// Thread safety: plain values and pure functions.
#ifndef RINGKV_SIM_GOSSIP_SCALE_REPORT_H_
#define RINGKV_SIM_GOSSIP_SCALE_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "gossip/phi_detector.h"

namespace ringkv::sim {

struct ScaleArgs {
  std::vector<size_t> nodes;
  uint64_t seed = 1;
  int rounds = 30;
  int warmup = 20;
  int trials = 3;
  gossip::PhiOptions phi;  // gossip/'s defaults unless --phi-* says otherwise
  bool json = false;
  // What --check[=LIST] checks: every node learnt the join and the change; every live node
  // convicted each dead one; no false conviction after the warm-up.
  bool check_spread = false, check_detect = false, check_no_false = false;
};

enum Phase { kWarmup, kSteady, kSpread, kDetect, kPhases };  // spread: join and change
inline constexpr const char* kPhaseNames[] = {"warmup", "steady", "spread", "detect"};

struct Detection {
  double first_s = -1, all_s = -1;  // -1: not reached within the cap
  size_t convicted_by = 0, live = 0;
};

struct Result {
  size_t n = 0;
  double join_all_s = -1, joiner_all_s = -1, change_all_s = -1;  // -1: not reached
  double bytes_mean = 0, bytes_max = 0, messages_mean = 0;       // per node per second
  std::vector<Detection> detections;
  uint64_t false_convictions[kPhases] = {};  // kDead for a running node, by phase
  uint64_t joiner_convictions = 0;           // of them, of the joiner
  // Heartbeat inter-arrival gaps seen by a few observers in the steady phase, in seconds.
  double gap_mean_s = 0, gap_sd_s = 0, gap_p50_s = 0, gap_p99_s = 0, gap_max_s = 0;
  size_t gaps = 0;
  double wall_s = 0;
};

// The violations of what args.check_* names, one message each; none when all hold.
std::vector<std::string> Violations(const ScaleArgs& args, const Result& r);
void PrintTable(const ScaleArgs& args, const std::vector<Result>& results);
void PrintJson(const ScaleArgs& args, const std::vector<Result>& results);

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_GOSSIP_SCALE_REPORT_H_
