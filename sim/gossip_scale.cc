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
//                     [--trials T] [--phi-threshold X] [--format table|json] [--check]
// --check exits 1 unless, for every size: every node learnt the join and the change, there was
// no false conviction, and every trial's dead node was convicted by every live node.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/gossip_net.h"

namespace ringkv::sim {
namespace {

struct Args {
  std::vector<size_t> nodes;
  uint64_t seed = 1;
  int rounds = 30;
  int warmup = 20;
  int trials = 3;
  double phi_threshold = 8.0;
  bool json = false;
  bool check = false;
};

struct Detection {
  double first_s = -1, all_s = -1;  // -1: not reached within the cap
  size_t convicted_by = 0, live = 0;
};

struct Result {
  size_t n = 0;
  double join_all_s = -1, joiner_all_s = -1, change_all_s = -1;  // -1: not reached
  double bytes_mean = 0, bytes_max = 0, messages_mean = 0;        // per node per second
  std::vector<Detection> detections;
  uint64_t false_convictions = 0;         // after the warm-up
  uint64_t warmup_false_convictions = 0;  // during it: the restored detectors start blank
  double wall_s = 0;
};

constexpr int64_t kSpreadCapUs = 120'000'000;
constexpr int64_t kDetectCapUs = 60'000'000;
constexpr int kSettleRounds = 10;

// How many running nodes satisfy `holds`, re-checked on the nodes whose view changed.
class Watch {
 public:
  Watch(GossipNet* net, std::function<bool(gossip::Gossiper&)> holds)
      : net_(net), holds_(std::move(holds)), ok_(net->size(), false) {
    for (size_t i = 0; i < net_->size(); ++i) Recheck(i);
  }
  void Recheck(size_t i) {
    if (!ok_[i] && net_->running(i) && holds_(net_->node(i))) {
      ok_[i] = true;
      ++count_;
    }
  }
  size_t count() const { return count_; }

 private:
  GossipNet* net_;
  std::function<bool(gossip::Gossiper&)> holds_;
  std::vector<bool> ok_;
  size_t count_ = 0;
};

// Runs until every watch holds on every running node or the cap passes; returns the seconds
// from `since_us` it took, or -1.
double RunUntilAll(GossipNet& net, std::vector<Watch*> watches, std::vector<double*> seconds,
                   int64_t since_us) {
  net.on_view_changed = [&](size_t i) {
    for (size_t w = 0; w < watches.size(); ++w) {
      watches[w]->Recheck(i);
      if (*seconds[w] < 0 && watches[w]->count() == net.size()) {
        *seconds[w] = static_cast<double>(net.now_us() - since_us) / 1e6;
      }
    }
  };
  // Watch counts reach net.size() only when nothing is stopped: the join and change phases.
  net.RunUntil(since_us + kSpreadCapUs, [&] {
    return std::all_of(seconds.begin(), seconds.end(), [](double* s) { return *s >= 0; });
  });
  net.on_view_changed = nullptr;
  return *seconds[0];
}

size_t PickVictim(GossipNet& net, size_t seed_count, const std::vector<size_t>& spared) {
  for (;;) {
    const size_t i =
        std::uniform_int_distribution<size_t>(seed_count, net.size() - 1)(net.rng());
    if (net.running(i) && std::find(spared.begin(), spared.end(), i) == spared.end()) return i;
  }
}

Result RunSize(size_t n, const Args& args) {
  const auto wall_start = std::chrono::steady_clock::now();
  GossipNetOptions options;
  options.seed = args.seed * 1'000'003 + n;
  options.gossip.phi.threshold = args.phi_threshold;
  GossipNet net(options);
  Result r;
  r.n = n;
  std::unordered_map<std::string, size_t> index;
  bool counting = false;
  std::function<void(size_t, int64_t)> on_dead;  // (convicting node, at_us) for the trial's victim
  std::string victim_name;
  net.on_event = [&](size_t node, int64_t at_us, const gossip::Event& e) {
    if (e.kind != gossip::Event::Kind::kDead) return;
    auto it = index.find(e.name);
    if (it != index.end() && net.running(it->second)) {
      ++(counting ? r.false_convictions : r.warmup_false_convictions);
    } else if (e.name == victim_name && on_dead) {
      on_dead(node, at_us);
    }
  };

  const int64_t interval = net.interval_us();
  net.AddConverged(n - 1);
  for (size_t i = 0; i < net.size(); ++i) index[net.name(i)] = i;
  net.RunUntil(net.now_us() + args.warmup * interval);
  counting = true;

  net.ResetTraffic();
  const int64_t steady_us = args.rounds * interval;
  net.RunUntil(net.now_us() + steady_us);
  for (const auto& t : net.traffic()) {
    const double bytes = static_cast<double>(t.bytes_sent + t.bytes_received) * 1e6 / steady_us;
    r.bytes_mean += bytes / static_cast<double>(net.size());
    r.bytes_max = std::max(r.bytes_max, bytes);
    r.messages_mean += static_cast<double>(t.messages_sent + t.messages_received) * 1e6 /
                       steady_us / static_cast<double>(net.size());
  }

  const size_t joiner = net.AddJoiner();
  const std::string joiner_name = net.name(joiner);
  index[joiner_name] = joiner;
  net.RunUntil(net.now_us() + 2 * interval, [&] { return net.first_tick_us(joiner) >= 0; });
  Watch knows_joiner(&net, [&](gossip::Gossiper& g) { return g.endpoints().count(joiner_name) > 0; });
  Watch joiner_knows(&net, [&](gossip::Gossiper& g) {
    return g.self() != joiner_name || g.endpoints().size() == n;
  });
  RunUntilAll(net, {&knows_joiner, &joiner_knows}, {&r.join_all_s, &r.joiner_all_s},
              net.first_tick_us(joiner));

  const size_t leaving = PickVictim(net, options.seed_count, {joiner});
  const std::string leaving_name = net.name(leaving);
  gossip::MemberState state = net.node(leaving).self_endpoint().state;
  state.status = gossip::MemberStatus::kLeaving;
  net.node(leaving).SetState(state);
  Watch knows_change(&net, [&](gossip::Gossiper& g) {
    auto it = g.endpoints().find(leaving_name);
    return it != g.endpoints().end() && it->second.state.status == gossip::MemberStatus::kLeaving;
  });
  RunUntilAll(net, {&knows_change}, {&r.change_all_s}, net.now_us());

  std::vector<size_t> spared = {joiner, leaving};
  for (int trial = 0; trial < args.trials; ++trial) {
    net.RunUntil(net.now_us() + kSettleRounds * interval);
    const size_t victim = PickVictim(net, options.seed_count, spared);
    spared.push_back(victim);
    victim_name = net.name(victim);
    net.Stop(victim);
    const int64_t stopped_us = net.now_us();
    Detection d;
    for (size_t i = 0; i < net.size(); ++i) d.live += net.running(i) ? 1 : 0;
    std::vector<bool> convicted(net.size(), false);
    on_dead = [&](size_t node, int64_t at_us) {
      if (convicted[node] || !net.running(node)) return;
      convicted[node] = true;
      ++d.convicted_by;
      const double s = static_cast<double>(at_us - stopped_us) / 1e6;
      if (d.first_s < 0) d.first_s = s;
      if (d.convicted_by == d.live) d.all_s = s;
    };
    net.RunUntil(stopped_us + kDetectCapUs, [&] { return d.convicted_by == d.live; });
    on_dead = nullptr;
    victim_name.clear();
    r.detections.push_back(d);
  }
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

// The checks of --check, as messages; none when all hold.
std::vector<std::string> Violations(const Result& r) {
  std::vector<std::string> v;
  if (r.join_all_s < 0) v.push_back(fmt::format("n={}: not every node learnt the join", r.n));
  if (r.joiner_all_s < 0) v.push_back(fmt::format("n={}: the joiner did not learn every node", r.n));
  if (r.change_all_s < 0) v.push_back(fmt::format("n={}: not every node learnt LEAVING", r.n));
  if (r.false_convictions + r.warmup_false_convictions > 0) {
    v.push_back(fmt::format("n={}: {} false convictions ({} in the warm-up)", r.n,
                            r.false_convictions + r.warmup_false_convictions,
                            r.warmup_false_convictions));
  }
  for (size_t t = 0; t < r.detections.size(); ++t) {
    const Detection& d = r.detections[t];
    if (d.convicted_by != d.live) {
      v.push_back(fmt::format("n={}: trial {}: dead node convicted by {} of {} live nodes", r.n, t,
                              d.convicted_by, d.live));
    }
  }
  return v;
}

struct Stat {
  double mean = 0, max = -1;
};
Stat Summarize(const std::vector<Detection>& ds, double Detection::*field) {
  Stat s;
  for (const auto& d : ds) {
    if (d.*field < 0) return {-1, -1};  // some trial did not reach it
    s.mean += d.*field / static_cast<double>(ds.size());
    s.max = std::max(s.max, d.*field);
  }
  return s;
}

void PrintTable(const Args& args, const std::vector<Result>& results) {
  const gossip::GossipOptions g;
  fmt::print("gossip_scale: seed {}, interval {} s, fanout {}, phi threshold {}, message delay "
             "1-20 ms, tick jitter 20 ms, 3 seeds, 16 tokens; {} warm-up + {} steady rounds, {} "
             "detection trials\n",
             args.seed, g.interval_us / 1e6, g.fanout, args.phi_threshold, args.warmup,
             args.rounds, args.trials);
  fmt::print("{:>5} | {:>15} | {:>9} | {:>15} | {:>19} | {:>8} | {:>15} | {:>15} | {:>5} | {:>6}\n",
             "nodes", "join: all (s/r)", "joiner (s)", "LEAVING (s/r)", "B/node/s mean (max)",
             "msg/n/s", "dead first s", "dead all s", "false", "wall s");
  for (const Result& r : results) {
    const Stat first = Summarize(r.detections, &Detection::first_s);
    const Stat all = Summarize(r.detections, &Detection::all_s);
    fmt::print("{:>5} | {:>7.2f} / {:>5.1f} | {:>10.2f} | {:>7.2f} / {:>5.1f} | {:>9.0f} ({:>7.0f}) | "
               "{:>8.1f} | {:>6.2f} / {:>6.2f} | {:>6.2f} / {:>6.2f} | {:>5} | {:>6.1f}\n",
               r.n, r.join_all_s, r.join_all_s, r.joiner_all_s, r.change_all_s, r.change_all_s,
               r.bytes_mean, r.bytes_max, r.messages_mean, first.mean, first.max, all.mean,
               all.max, r.false_convictions, r.wall_s);
  }
  fmt::print("(s/r: virtual seconds / rounds of 1 s; dead: mean / max over the trials; -1: not "
             "reached; false: kDead for a running node after the warm-up)\n");
}

void PrintJson(const Args& args, const std::vector<Result>& results) {
  fmt::print("{{\"seed\": {}, \"warmup_rounds\": {}, \"steady_rounds\": {}, \"phi_threshold\": {}, "
             "\"results\": [",
             args.seed, args.warmup, args.rounds, args.phi_threshold);
  for (size_t k = 0; k < results.size(); ++k) {
    const Result& r = results[k];
    fmt::print("{}\n  {{\"nodes\": {}, \"join_all_s\": {:.3f}, \"joiner_knows_all_s\": {:.3f}, "
               "\"change_all_s\": {:.3f}, \"bytes_per_node_s_mean\": {:.0f}, "
               "\"bytes_per_node_s_max\": {:.0f}, \"messages_per_node_s\": {:.2f}, "
               "\"false_convictions\": {}, \"warmup_false_convictions\": {}, \"wall_s\": {:.1f}, "
               "\"detections\": [",
               k == 0 ? "" : ",", r.n, r.join_all_s, r.joiner_all_s, r.change_all_s, r.bytes_mean,
               r.bytes_max, r.messages_mean, r.false_convictions, r.warmup_false_convictions,
               r.wall_s);
    for (size_t t = 0; t < r.detections.size(); ++t) {
      const Detection& d = r.detections[t];
      fmt::print("{}{{\"first_s\": {:.3f}, \"all_s\": {:.3f}, \"convicted_by\": {}, \"live\": {}}}",
                 t == 0 ? "" : ", ", d.first_s, d.all_s, d.convicted_by, d.live);
    }
    fmt::print("]}}");
  }
  fmt::print("\n]}}\n");
}

[[noreturn]] void Usage(const std::string& why) {
  fmt::print(stderr,
             "gossip_scale: {}\nusage: gossip_scale [--nodes N[,N...]]... [--quick] [--seed S] "
             "[--rounds R] [--warmup R] [--trials T] [--phi-threshold X] [--format table|json] "
             "[--check]\n",
             why);
  std::exit(2);
}

Args Parse(int argc, char** argv) {
  Args args;
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
      args.phi_threshold = std::strtod(value().c_str(), nullptr);
      if (!(args.phi_threshold > 0)) Usage("--phi-threshold: want > 0");
    } else if (a == "--format") {
      const std::string f = value();
      if (f != "table" && f != "json") Usage("--format table or json");
      args.json = f == "json";
    } else if (a == "--quick") {
      quick = true;
    } else if (a == "--check") {
      args.check = true;
    } else {
      Usage("unknown argument " + a);
    }
  }
  if (args.nodes.empty()) args.nodes = quick ? std::vector<size_t>{50, 200} : std::vector<size_t>{50, 200, 1000};
  return args;
}

}  // namespace
}  // namespace ringkv::sim

int main(int argc, char** argv) {
  using namespace ringkv::sim;
  const Args args = Parse(argc, argv);
  std::vector<Result> results;
  std::vector<std::string> violations;
  for (size_t n : args.nodes) {
    results.push_back(RunSize(n, args));
    for (auto& v : Violations(results.back())) violations.push_back(std::move(v));
  }
  if (args.json) {
    PrintJson(args, results);
  } else {
    PrintTable(args, results);
  }
  for (const auto& v : violations) fmt::print(stderr, "CHECK FAILED: {}\n", v);
  return args.check && !violations.empty() ? 1 : 0;
}
