// gossip_scale: gossip membership at 50, 200 and 1000 nodes, in virtual time (issue 10).
//
// Each cluster size runs on its own GossipNet (sim/gossip_net.h: jittered ticks, 1-20 ms per
// message, one seeded generator) through these phases, in order:
//   warmup   n-1 nodes that know each other (restored, as after a restart) gossip for --warmup
//            rounds, so every failure detector has seen a window of heartbeat intervals;
//   steady   --rounds more rounds: gossip bytes (sim/gossip_wire_size.h) sent + received per node
//            per second, mean and max over the nodes, and messages per node per second;
//   join     one node that knows only the seeds starts: the time from its first tick until every
//            node holds its endpoint, and until it holds every node's;
//   change   a random node sets its status to LEAVING: the time until every node has that state;
//   dead     --trials times: a random node stops; the time until the first and until the last
//            other node emits kDead for it (each trial after 10 settling rounds).
// Through every phase after the warm-up it counts false convictions: a kDead for a running node.
//
// Times are virtual: "rounds" is virtual seconds over the gossip interval (1 s).
// Usage: gossip_scale [--nodes N[,N...]]... [--quick] [--seed S] [--rounds R] [--warmup R]
//                     [--trials T] [--phi-threshold X] [--phi-min-sd-ms MS] [--phi-max-sd-ms MS]
//                     [--phi-first-interval-ms MS] [--format table|json] [--check[=LIST]]
// The --phi-* options set gossip::PhiOptions (defaults: gossip/'s), to weigh a change to them.
// --check=LIST exits 1 (printing CHECK FAILED lines) unless, for every size, what LIST names holds:
//   spread    every node learnt the join and the change (within 120 s), the joiner every node;
//   detect    every trial's stopped node was convicted by every live node (within 60 s);
//   no-false  no running node was convicted after the warm-up.
// --check alone checks all three. The warm-up is not checked: every restored detector starts with
// no intervals while heartbeats take log(n) rounds to spread, so it convicts many (reported).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/gossip_net.h"
#include "sim/gossip_probes.h"
#include "sim/gossip_scale_report.h"

namespace ringkv::sim {
namespace {

constexpr int64_t kSpreadCapUs = 120'000'000;
constexpr int64_t kDetectCapUs = 60'000'000;
constexpr int kSettleRounds = 10;
const std::vector<size_t> kObservers = {3, 4, 5, 6, 7};  // of the gap sampler: not seeds

size_t PickVictim(GossipNet& net, size_t seed_count, const std::vector<size_t>& spared) {
  for (;;) {
    const size_t i = std::uniform_int_distribution<size_t>(seed_count, net.size() - 1)(net.rng());
    if (net.running(i) && std::find(spared.begin(), spared.end(), i) == spared.end()) return i;
  }
}

// One cluster size, phase by phase (the list at the top of this file); each phase fills its part
// of the result. The net's callbacks are set here for the whole run and by a phase for its own.
class ScaleRun {
 public:
  ScaleRun(size_t n, const ScaleArgs& args) : args_(args), net_(Options(n, args)) {
    r_.n = n;
    net_.on_event = [this](size_t node, int64_t at_us, const gossip::Event& e) {
      OnEvent(node, at_us, e);
    };
  }

  Result Run() {
    const auto wall_start = std::chrono::steady_clock::now();
    Warmup();
    Steady();
    Join();
    Change();
    for (int trial = 0; trial < args_.trials; ++trial) r_.detections.push_back(DetectTrial());
    r_.wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return r_;
  }

 private:
  static GossipNetOptions Options(size_t n, const ScaleArgs& args) {
    GossipNetOptions options;
    options.seed = args.seed * 1'000'003 + n;
    options.gossip.phi = args.phi;
    return options;
  }

  // A kDead for a running node is a false conviction; one for the trial's victim is detection.
  void OnEvent(size_t node, int64_t at_us, const gossip::Event& e) {
    if (e.kind != gossip::Event::Kind::kDead) return;
    auto it = index_.find(e.name);
    if (it != index_.end() && net_.running(it->second)) {
      ++r_.false_convictions[phase_];
      if (e.name == joiner_name_) ++r_.joiner_convictions;
    } else if (e.name == victim_name_ && on_victim_dead_) {
      on_victim_dead_(node, at_us);
    }
  }

  void Warmup() {
    net_.AddConverged(r_.n - 1);
    for (size_t i = 0; i < net_.size(); ++i) index_[net_.name(i)] = i;
    net_.RunUntil(net_.now_us() + args_.warmup * net_.interval_us());
  }

  void Steady() {
    phase_ = kSteady;
    net_.ResetTraffic();
    GapSampler sampler(&net_, kObservers);
    net_.on_view_changed = [&](size_t i) { sampler.Seen(i); };
    const int64_t steady_us = args_.rounds * net_.interval_us();
    net_.RunUntil(net_.now_us() + steady_us);
    net_.on_view_changed = nullptr;
    SummarizeGaps(sampler.Take());
    const double n = static_cast<double>(net_.size());
    for (const auto& t : net_.traffic()) {
      const double bytes = static_cast<double>(t.bytes_sent + t.bytes_received) * 1e6 / steady_us;
      r_.bytes_mean += bytes / n;
      r_.bytes_max = std::max(r_.bytes_max, bytes);
      r_.messages_mean +=
          static_cast<double>(t.messages_sent + t.messages_received) * 1e6 / steady_us / n;
    }
  }

  void SummarizeGaps(std::vector<int64_t> gaps) {
    r_.gaps = gaps.size();
    if (gaps.empty()) return;
    std::sort(gaps.begin(), gaps.end());
    auto at = [&](double q) { return gaps[static_cast<size_t>(q * (gaps.size() - 1))] / 1e6; };
    r_.gap_p50_s = at(0.5);
    r_.gap_p99_s = at(0.99);
    r_.gap_max_s = gaps.back() / 1e6;
    double sum = 0, sum_sq = 0;
    for (int64_t g : gaps) sum += g / 1e6, sum_sq += (g / 1e6) * (g / 1e6);
    r_.gap_mean_s = sum / static_cast<double>(gaps.size());
    r_.gap_sd_s = std::sqrt(
        std::max(0.0, sum_sq / static_cast<double>(gaps.size()) - r_.gap_mean_s * r_.gap_mean_s));
  }

  void Join() {
    phase_ = kSpread;
    joiner_ = net_.AddJoiner();
    joiner_name_ = net_.name(joiner_);
    index_[joiner_name_] = joiner_;
    net_.RunUntil(net_.now_us() + 2 * net_.interval_us(),
                  [&] { return net_.first_tick_us(joiner_) >= 0; });
    const size_t n = r_.n;
    const std::string& name = joiner_name_;
    Watch knows_joiner(&net_, [&](gossip::Gossiper& g) { return g.endpoints().count(name) > 0; });
    Watch joiner_knows(
        &net_, [&](gossip::Gossiper& g) { return g.self() != name || g.endpoints().size() == n; });
    RunUntilAll({&knows_joiner, &joiner_knows}, {&r_.join_all_s, &r_.joiner_all_s},
                net_.first_tick_us(joiner_));
  }

  void Change() {
    leaving_ = PickVictim(net_, kSeedCount, {joiner_});
    spared_ = {joiner_, leaving_};
    const std::string name = net_.name(leaving_);
    gossip::MemberState state = net_.node(leaving_).self_endpoint().state;
    state.status = gossip::MemberStatus::kLeaving;
    net_.node(leaving_).SetState(state);
    Watch knows_change(&net_, [&](gossip::Gossiper& g) {
      auto it = g.endpoints().find(name);
      return it != g.endpoints().end() && it->second.state.status == gossip::MemberStatus::kLeaving;
    });
    RunUntilAll({&knows_change}, {&r_.change_all_s}, net_.now_us());
  }

  // Runs until every watch holds on every node or kSpreadCapUs passes, setting each watch's
  // seconds (from `since_us`) when it comes to hold everywhere. REQUIRES: no node is stopped.
  void RunUntilAll(std::vector<Watch*> watches, std::vector<double*> seconds, int64_t since_us) {
    net_.on_view_changed = [&](size_t i) {
      for (size_t w = 0; w < watches.size(); ++w) {
        watches[w]->Recheck(i);
        if (*seconds[w] < 0 && watches[w]->count() == net_.size()) {
          *seconds[w] = static_cast<double>(net_.now_us() - since_us) / 1e6;
        }
      }
    };
    net_.RunUntil(since_us + kSpreadCapUs, [&] {
      return std::all_of(seconds.begin(), seconds.end(), [](double* s) { return *s >= 0; });
    });
    net_.on_view_changed = nullptr;
  }

  // A node that happens to hold the victim for dead when it stops (a false conviction not yet
  // undone) emits no new kDead, and the trial reports it as not convicting.
  Detection DetectTrial() {
    phase_ = kDetect;
    net_.RunUntil(net_.now_us() + kSettleRounds * net_.interval_us());
    const size_t victim = PickVictim(net_, kSeedCount, spared_);
    spared_.push_back(victim);
    victim_name_ = net_.name(victim);
    net_.Stop(victim);
    const int64_t stopped_us = net_.now_us();
    Detection d;
    for (size_t i = 0; i < net_.size(); ++i) d.live += net_.running(i) ? 1 : 0;
    std::vector<bool> convicted(net_.size(), false);
    on_victim_dead_ = [&](size_t node, int64_t at_us) {
      if (convicted[node] || !net_.running(node)) return;
      convicted[node] = true;
      ++d.convicted_by;
      const double s = static_cast<double>(at_us - stopped_us) / 1e6;
      if (d.first_s < 0) d.first_s = s;
      if (d.convicted_by == d.live) d.all_s = s;
    };
    net_.RunUntil(stopped_us + kDetectCapUs, [&] { return d.convicted_by == d.live; });
    on_victim_dead_ = nullptr;
    victim_name_.clear();
    return d;
  }

  static constexpr size_t kSeedCount = GossipNetOptions{}.seed_count;
  const ScaleArgs& args_;
  GossipNet net_;
  Result r_;
  Phase phase_ = kWarmup;
  std::unordered_map<std::string, size_t> index_;  // name -> node
  size_t joiner_ = 0, leaving_ = 0;
  std::string joiner_name_;
  std::vector<size_t> spared_;  // never picked as a victim
  std::string victim_name_;
  std::function<void(size_t, int64_t)> on_victim_dead_;  // (convicting node, at_us)
};

[[noreturn]] void Usage(const std::string& why) {
  fmt::print(stderr,
             "gossip_scale: {}\nusage: gossip_scale [--nodes N[,N...]]... [--quick] [--seed S] "
             "[--rounds R] [--warmup R] [--trials T] [--phi-threshold X] [--phi-min-sd-ms MS] "
             "[--phi-max-sd-ms MS] [--phi-first-interval-ms MS] [--format table|json] "
             "[--check[=spread,detect,no-false]]\n",
             why);
  std::exit(2);
}

ScaleArgs Parse(int argc, char** argv) {
  ScaleArgs args;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(a + " needs a value");
      return argv[++i];
    };
    auto number = [&](long min) {
      const std::string v = value();
      char* end = nullptr;
      const long x = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || x < min) Usage(fmt::format("{} {}: want >= {}", a, v, min));
      return x;
    };
    if (a == "--nodes") {
      std::string list = value();
      for (size_t start = 0; start <= list.size();) {
        const size_t comma = std::min(list.find(',', start), list.size());
        const std::string item = list.substr(start, comma - start);
        const long x = std::strtol(item.c_str(), nullptr, 10);
        if (x < 8 || x > static_cast<long>(gossip::kMembersMax)) Usage("--nodes: 8 to 4096 each");
        args.nodes.push_back(static_cast<size_t>(x));
        start = comma + 1;
      }
    } else if (a == "--seed") {
      args.seed = static_cast<uint64_t>(number(0));
    } else if (a == "--rounds") {
      args.rounds = static_cast<int>(number(1));
    } else if (a == "--warmup") {
      args.warmup = static_cast<int>(number(1));
    } else if (a == "--trials") {
      args.trials = static_cast<int>(number(0));
    } else if (a == "--phi-threshold") {
      args.phi.threshold = std::strtod(value().c_str(), nullptr);
      if (!(args.phi.threshold > 0)) Usage("--phi-threshold: want > 0");
    } else if (a == "--phi-min-sd-ms") {
      args.phi.min_std_dev_us = number(1) * 1000;
    } else if (a == "--phi-max-sd-ms") {
      args.phi.max_std_dev_us = number(1) * 1000;
    } else if (a == "--phi-first-interval-ms") {
      args.phi.first_interval_us = number(1) * 1000;
    } else if (a == "--format") {
      const std::string f = value();
      if (f != "table" && f != "json") Usage("--format table or json");
      args.json = f == "json";
    } else if (a == "--quick") {
      quick = true;
    } else if (a == "--check" || a.starts_with("--check=")) {
      const std::string list = a == "--check" ? "spread,detect,no-false," : a.substr(8) + ",";
      args.check_spread = list.find("spread,") != std::string::npos;
      args.check_detect = list.find("detect,") != std::string::npos;
      args.check_no_false = list.find("no-false,") != std::string::npos;
      if (!args.check_spread && !args.check_detect && !args.check_no_false) {
        Usage("--check=LIST: of spread, detect, no-false");
      }
    } else {
      Usage("unknown argument " + a);
    }
  }
  if (args.nodes.empty())
    args.nodes = quick ? std::vector<size_t>{50, 200} : std::vector<size_t>{50, 200, 1000};
  return args;
}

}  // namespace
}  // namespace ringkv::sim

int main(int argc, char** argv) {
  using namespace ringkv::sim;
  const ScaleArgs args = Parse(argc, argv);
  std::vector<Result> results;
  std::vector<std::string> violations;
  for (size_t n : args.nodes) {
    results.push_back(ScaleRun(n, args).Run());
    for (auto& v : Violations(args, results.back())) violations.push_back(std::move(v));
  }
  if (args.json) {
    PrintJson(args, results);
  } else {
    PrintTable(args, results);
  }
  for (const auto& v : violations) fmt::print("CHECK FAILED: {}\n", v);
  return violations.empty() ? 0 : 1;
}
