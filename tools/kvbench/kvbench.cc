// kvbench: load generator for ringkv, in the manner of LevelDB's db_bench.
//
// Workloads (--workload):
//   load     inserts keys 0..K-1 once each, in order (--ops defaults to, and is capped at, K), so a
//            later read workload with the same --keys finds every key
//   a        YCSB A, update heavy: 50% reads, 50% blind updates
//   b        YCSB B, read mostly: 95% reads, 5% blind updates
//   c        YCSB C, read only
//   f        YCSB F: 50% reads, 50% read-modify-write (get, then put with the get's context)
//   update   blind updates only
//   readhot  reads only, of --hot-keys keys (default 100) spread over the key range
//
// Keys: "k" and the zero-padded index, --key-bytes long (default 16); chosen --distribution
// uniform (default) or zipfian (theta 0.99, YCSB's scrambled zipfian) over --keys K.
// Values: --value-bytes (default 100) of random letters. --key-offset O shifts the range to
// [O, O+K), so several loads can each write fresh keys.
//
// Updates (a, b, update) are blind puts, without a context: in ringkv a blind put supersedes
// nothing, so a key updated twice holds two siblings (up to the node's cap of 100, then
// TooManySiblings). Keep update runs short against a large key range, or use f, whose writes carry
// the context of their read and replace the value.
//
// Closed loop (default): --clients C streams, each with --pipeline D operations in flight, spread
// over --connections Client instances. Open loop: --rate OPS_PER_S sends operation i at
// start + i / rate and measures its latency from that intended time (no coordinated omission).
//
// Output: ops/s, latency p50 / p99 / p99.9 / max, errors by class; --format json prints one
// object: {"workload", "ops", "ops_per_s", "errors", "latency_us": {"p50", "p99", "p999", "max",
// "mean"}, ...}. A progress line goes to stderr every second (--progress-s, 0 for none).
// Exit status: 0 when every operation succeeded, 1 when any failed, 2 on bad usage or when the
// cluster could not be reached.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/kvbench/key_chooser.h"
#include "tools/kvbench/runner.h"
#include "tools/kvbench/workload.h"

namespace {

using ringkv::Consistency;
using ringkv::bench::LatencyHistogram;
using ringkv::bench::RunOptions;
using ringkv::bench::RunResult;

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const size_t end = comma == std::string::npos ? s.size() : comma;
    if (end > start) out.push_back(s.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

double Us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

nlohmann::json LatencyJson(const LatencyHistogram& h) {
  return {{"count", h.count()},          {"p50", Us(h.Percentile(50))},
          {"p90", Us(h.Percentile(90))}, {"p99", Us(h.Percentile(99))},
          {"p999", Us(h.Percentile(99.9))}, {"max", Us(h.max())},
          {"mean", h.Mean() / 1000.0}};
}

nlohmann::json ResultJson(const RunOptions& o, const RunResult& r, const std::string& cl,
                          const std::string& distribution) {
  nlohmann::json j;
  j["workload"] = std::string(o.workload.name);
  j["ops"] = r.ops;
  j["ops_per_s"] = r.elapsed_s > 0 ? static_cast<double>(r.ops) / r.elapsed_s : 0.0;
  j["errors"] = r.errors;
  j["errors_by_class"] = r.errors_by_class;
  j["latency_us"] = LatencyJson(r.all);
  j["read_latency_us"] = LatencyJson(r.read);
  j["write_latency_us"] = LatencyJson(r.write);
  j["reads"] = r.reads;
  j["reads_found"] = r.reads_found;
  j["reads_missing"] = r.reads - r.reads_found;
  j["elapsed_s"] = r.elapsed_s;
  j["clients"] = o.clients;
  j["pipeline"] = o.pipeline;
  j["rate"] = o.rate_per_s;
  j["keys"] = o.keys;
  j["key_bytes"] = o.key_bytes;
  j["value_bytes"] = o.value_bytes;
  j["distribution"] = distribution;
  j["cl"] = cl;
  return j;
}

void PrintText(const RunOptions& o, const RunResult& r) {
  const double rate = r.elapsed_s > 0 ? static_cast<double>(r.ops) / r.elapsed_s : 0;
  fmt::print("{:<8} : {:>10.1f} ops/s  {:>9} ops in {:.2f} s  ({} clients x {} in flight{})\n",
             o.workload.name, rate, r.ops, r.elapsed_s, o.clients, o.pipeline,
             o.rate_per_s > 0 ? fmt::format(", open loop at {:.0f}/s", o.rate_per_s) : "");
  auto line = [](const char* what, const LatencyHistogram& h) {
    if (h.count() == 0) return;
    fmt::print("  {:<6} latency us: p50 {:.1f}  p99 {:.1f}  p99.9 {:.1f}  max {:.1f}  mean {:.1f}\n",
               what, Us(h.Percentile(50)), Us(h.Percentile(99)), Us(h.Percentile(99.9)),
               Us(h.max()), h.Mean() / 1000.0);
  };
  line("all", r.all);
  if (r.read.count() > 0 && r.write.count() > 0) {
    line("read", r.read);
    line("write", r.write);
  }
  if (r.reads > 0) {
    fmt::print("  reads: {} found, {} missing\n", r.reads_found, r.reads - r.reads_found);
  }
  fmt::print("  errors: {}", r.errors);
  for (const auto& [k, v] : r.errors_by_class) fmt::print("  {}={}", k, v);
  fmt::print("\n");
}

bool ParseConsistency(const std::string& s, Consistency* out) {
  static const std::pair<const char*, Consistency> kNames[] = {
      {"default", Consistency::kDefault}, {"one", Consistency::kOne},
      {"two", Consistency::kTwo},         {"three", Consistency::kThree},
      {"quorum", Consistency::kQuorum},   {"all", Consistency::kAll},
      {"any", Consistency::kAny}};
  for (const auto& [name, c] : kNames) {
    if (s == name) {
      *out = c;
      return true;
    }
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kvbench: named workloads against a ringkv cluster (see the list at the top of "
               "tools/kvbench/kvbench.cc)"};
  RunOptions o;
  std::string hosts = "127.0.0.1:7000", workload = "a", cl = "default", format = "text";
  std::string distribution = "uniform";
  double duration_s = 0;
  int request_timeout_ms = 5000;
  app.add_option("--hosts", hosts, "HOST:PORT[,HOST:PORT...] contact points");
  app.add_option("--workload", workload, "load, a, b, c, f, update, readhot");
  app.add_option("--clients", o.clients, "closed loop: independent request streams")
      ->check(CLI::Range(1, 4096));
  app.add_option("--pipeline", o.pipeline, "closed loop: operations in flight per client")
      ->check(CLI::Range(1, 4096));
  app.add_option("--connections", o.connections,
                 "Client instances (each one connection per node and an I/O thread); "
                 "default min(clients, 4)")
      ->check(CLI::Range(0, 256));
  auto* ops_opt = app.add_option("--ops", o.ops, "stop after this many operations");
  auto* dur_opt = app.add_option("--duration-s", duration_s, "stop after this many seconds");
  ops_opt->excludes(dur_opt);
  app.add_option("--keys", o.keys, "key range K (keys 0..K-1)")->check(CLI::Range(1ULL, 1ULL << 40));
  app.add_option("--key-offset", o.key_offset,
                 "first key index: keys run over [offset, offset + K), so a second load can "
                 "write fresh keys beside the first");
  app.add_option("--key-bytes", o.key_bytes, "bytes per key (>= digits of K-1, plus one)")
      ->check(CLI::Range(2, 65536));
  app.add_option("--value-bytes", o.value_bytes, "bytes per value")
      ->check(CLI::Range(0, 16 << 20));
  app.add_option("--distribution", distribution, "uniform or zipfian (theta 0.99)")
      ->check(CLI::IsMember({"uniform", "zipfian"}));
  app.add_option("--hot-keys", o.hot_keys, "readhot: size of the hot set")
      ->check(CLI::Range(1ULL, 1ULL << 30));
  app.add_option("--cl", cl, "consistency: one, two, three, quorum, all, any, default");
  app.add_option("--keyspace", o.keyspace, "ringkv keyspace (default: \"default\")");
  app.add_option("--rate", o.rate_per_s, "open loop at this many operations per second")
      ->check(CLI::Range(0.0, 1e8));
  app.add_option("--seed", o.seed, "random seed of keys, kinds and values");
  app.add_option("--timeout-ms", request_timeout_ms, "deadline of each request")
      ->check(CLI::Range(1, 600'000));
  app.add_option("--progress-s", o.progress_s, "seconds between progress lines on stderr (0: none)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--format", format, "text or json")->check(CLI::IsMember({"text", "json"}));
  CLI11_PARSE(app, argc, argv);

  const auto w = ringkv::bench::FindWorkload(workload);
  if (!w) {
    std::fprintf(stderr, "kvbench: unknown workload '%s'; one of:\n", workload.c_str());
    for (const auto& x : ringkv::bench::AllWorkloads()) {
      std::fprintf(stderr, "  %-8s %s\n", std::string(x.name).c_str(),
                   std::string(x.description).c_str());
    }
    return 2;
  }
  o.workload = *w;
  o.hosts = SplitComma(hosts);
  if (o.hosts.empty()) {
    std::fprintf(stderr, "kvbench: --hosts is empty\n");
    return 2;
  }
  if (!ParseConsistency(cl, &o.consistency)) {
    std::fprintf(stderr, "kvbench: unknown --cl '%s'\n", cl.c_str());
    return 2;
  }
  if (!ringkv::bench::KeyBytesFit(o.keys + o.key_offset, o.key_bytes)) {
    std::fprintf(stderr, "kvbench: --key-bytes %zu is too short for %llu keys\n", o.key_bytes,
                 static_cast<unsigned long long>(o.keys));
    return 2;
  }
  o.zipfian = distribution == "zipfian";
  o.request_timeout = std::chrono::milliseconds(request_timeout_ms);
  // Bounds: load defaults to (and never exceeds) one pass over the keys; everything else runs
  // 10 s unless told otherwise. A run bounded by ops alone still stops after an hour.
  if (o.workload.insert_pct == 100) {
    if (o.ops == 0 && duration_s == 0) o.ops = o.keys;
    if (o.ops == 0 || o.ops > o.keys) o.ops = o.keys;
  }
  if (duration_s > 0) {
    o.duration_s = duration_s;
  } else if (o.ops > 0) {
    o.duration_s = 3600;
  } else {
    o.duration_s = 10;
  }

  const RunResult r = ringkv::bench::Run(o);
  if (!r.fatal.empty()) {
    std::fprintf(stderr, "kvbench: %s\n", r.fatal.c_str());
    return 2;
  }
  if (format == "json") {
    std::printf("%s\n", ResultJson(o, r, cl, distribution).dump().c_str());
  } else {
    PrintText(o, r);
  }
  return r.errors == 0 ? 0 : 1;
}
