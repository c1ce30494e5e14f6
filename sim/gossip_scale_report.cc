#include "sim/gossip_scale_report.h"

#include <fmt/format.h>

#include <algorithm>

#include "gossip/gossiper.h"

namespace ringkv::sim {

// The checks of --check, as messages; none when all hold.
std::vector<std::string> Violations(const ScaleArgs& args, const Result& r) {
  std::vector<std::string> v;
  if (args.check_spread) {
    if (r.join_all_s < 0) v.push_back(fmt::format("n={}: not every node learnt the join", r.n));
    if (r.joiner_all_s < 0)
      v.push_back(fmt::format("n={}: the joiner did not learn every node", r.n));
    if (r.change_all_s < 0) v.push_back(fmt::format("n={}: not every node learnt LEAVING", r.n));
  }
  for (int p = kSteady; p < kPhases; ++p) {
    if (r.false_convictions[p] > 0 && args.check_no_false) {
      v.push_back(fmt::format("n={}: {} false convictions in the {} phase", r.n,
                              r.false_convictions[p], kPhaseNames[p]));
    }
  }
  for (size_t t = 0; t < r.detections.size(); ++t) {
    const Detection& d = r.detections[t];
    if (d.convicted_by != d.live && args.check_detect) {
      v.push_back(fmt::format("n={}: trial {}: dead node convicted by {} of {} live nodes", r.n, t,
                              d.convicted_by, d.live));
    }
  }
  return v;
}

namespace {

struct Stat {
  double mean = 0, max = -1;
};
Stat Summarize(const std::vector<Detection>& ds, double Detection::*field) {
  Stat s;
  if (ds.empty()) return {-1, -1};
  for (const auto& d : ds) {
    if (d.*field < 0) return {-1, -1};  // some trial did not reach it
    s.mean += d.*field / static_cast<double>(ds.size());
    s.max = std::max(s.max, d.*field);
  }
  return s;
}

}  // namespace

void PrintTable(const ScaleArgs& args, const std::vector<Result>& results) {
  const gossip::GossipOptions g;
  fmt::print(
      "gossip_scale: seed {}, interval {} s, fanout {}, phi threshold {} (sd {}-{} ms, "
      "first interval {} ms), message delay 1-20 ms, tick jitter 20 ms, 3 seeds, 16 tokens; "
      "{} warm-up + {} steady rounds, {} detection trials\n",
      args.seed, g.interval_us / 1e6, g.fanout, args.phi.threshold, args.phi.min_std_dev_us / 1000,
      args.phi.max_std_dev_us / 1000, args.phi.first_interval_us / 1000, args.warmup, args.rounds,
      args.trials);
  fmt::print(
      "{:>5} | {:>15} | {:>6} | {:>15} | {:>17} | {:>7} | {:>13} | {:>13} | {:>18} | "
      "{:>21} | {:>6}\n",
      "nodes", "join: all s/r", "joiner", "LEAVING: s/r", "B/node/s mean/max", "msg/n/s",
      "dead: first s", "dead: all s", "false st/spr/det/wu", "hb gap mean/sd/p99/max", "wall s");
  for (const Result& r : results) {
    const Stat first = Summarize(r.detections, &Detection::first_s);
    const Stat all = Summarize(r.detections, &Detection::all_s);
    const auto& f = r.false_convictions;
    fmt::print(
        "{:>5} | {:>6.2f} / {:>5.1f} | {:>6.2f} | {:>6.2f} / {:>5.1f} | {:>7.0f} / {:>7.0f} | "
        "{:>7.1f} | {:>5.2f} / {:>5.2f} | {:>5.2f} / {:>5.2f} | {:>4}/{:>4}/{:>4}/{:>5} | "
        "{:>4.2f}/{:>4.2f}/{:>4.2f}/{:>5.2f} | {:>6.1f}\n",
        r.n, r.join_all_s, r.join_all_s, r.joiner_all_s, r.change_all_s, r.change_all_s,
        r.bytes_mean, r.bytes_max, r.messages_mean, first.mean, first.max, all.mean, all.max,
        f[kSteady], f[kSpread], f[kDetect], f[kWarmup], r.gap_mean_s, r.gap_sd_s, r.gap_p99_s,
        r.gap_max_s, r.wall_s);
  }
  fmt::print(
      "s/r: virtual seconds / rounds of 1 s from the join's first tick or the change; "
      "joiner: s until it knew all; dead: mean / max over the trials; -1: not reached; "
      "false: kDead for a running node in the steady, spread (join + change), detection and "
      "warm-up phases; hb gap: s between newer heartbeats of a member at 5 observers, steady "
      "phase\n");
}

void PrintJson(const ScaleArgs& args, const std::vector<Result>& results) {
  fmt::print(
      "{{\"seed\": {}, \"warmup_rounds\": {}, \"steady_rounds\": {}, \"phi_threshold\": {}, "
      "\"phi_sd_ms\": [{}, {}], \"phi_first_interval_ms\": {}, \"results\": [",
      args.seed, args.warmup, args.rounds, args.phi.threshold, args.phi.min_std_dev_us / 1000,
      args.phi.max_std_dev_us / 1000, args.phi.first_interval_us / 1000);
  for (size_t k = 0; k < results.size(); ++k) {
    const Result& r = results[k];
    const auto& f = r.false_convictions;
    fmt::print(
        "{}\n  {{\"nodes\": {}, \"join_all_s\": {:.3f}, \"joiner_knows_all_s\": {:.3f}, "
        "\"change_all_s\": {:.3f}, \"bytes_per_node_s_mean\": {:.0f}, "
        "\"bytes_per_node_s_max\": {:.0f}, \"messages_per_node_s\": {:.2f}, "
        "\"false_convictions\": {{\"steady\": {}, \"spread\": {}, \"detect\": {}, "
        "\"warmup\": {}, \"of_joiner\": {}}}, \"heartbeat_gap_s\": {{\"mean\": {:.3f}, \"sd\": "
        "{:.3f}, \"p50\": {:.3f}, "
        "\"p99\": {:.3f}, \"max\": {:.3f}, \"count\": {}}}, \"wall_s\": {:.1f}, "
        "\"detections\": [",
        k == 0 ? "" : ",", r.n, r.join_all_s, r.joiner_all_s, r.change_all_s, r.bytes_mean,
        r.bytes_max, r.messages_mean, f[kSteady], f[kSpread], f[kDetect], f[kWarmup],
        r.joiner_convictions, r.gap_mean_s, r.gap_sd_s, r.gap_p50_s, r.gap_p99_s, r.gap_max_s,
        r.gaps, r.wall_s);
    for (size_t t = 0; t < r.detections.size(); ++t) {
      const Detection& d = r.detections[t];
      fmt::print("{}{{\"first_s\": {:.3f}, \"all_s\": {:.3f}, \"convicted_by\": {}, \"live\": {}}}",
                 t == 0 ? "" : ", ", d.first_s, d.all_s, d.convicted_by, d.live);
    }
    fmt::print("]}}");
  }
  fmt::print("\n]}}\n");
}

}  // namespace ringkv::sim
