// aae_bench: the figures of anti-entropy's core (issue 12), in one process, no network.
//
// Workloads, in the order they run:
//   memory    bytes per tree of the shape, and its serialized size
//   apply     ns per TictacTree::Apply: M inserts into an empty tree, then M overwrites (best of 3)
//   exchange  for k = 1, 100, 10,000 differing keys among M: rounds and payload bytes of an
//             exchange (requests + the peer's answers, aae/messages.h PayloadBytes), against a full
//             exchange of the range's keys and version hashes, M x (key + 8) bytes
//
// Usage: aae_bench [--keys M] [--branches B] [--leaves L]   (defaults 1000000, 1024, 256)
// Keys are 16 bytes ("doc-000000000042"), in one tree over the whole ring. Exchange time is this process's CPU for both replicas,
// scans of the in-memory models included; it is not a network figure.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "aae/aae_testing.h"
#include "aae/exchange.h"
#include "aae/tictac_tree.h"

namespace ringkv {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Args {
  size_t keys = 1000000;
  TreeShape shape;
};

bool Parse(int argc, char** argv, Args* args) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const unsigned long long v = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--keys") == 0) {
      args->keys = v;
    } else if (std::strcmp(argv[i], "--branches") == 0) {
      args->shape.branches = static_cast<uint32_t>(v);
    } else if (std::strcmp(argv[i], "--leaves") == 0) {
      args->shape.leaves_per_branch = static_cast<uint32_t>(v);
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && args->shape.Validate().ok() && args->keys >= 10000;
}

void Memory(const TreeShape& shape) {
  const TictacTree tree(shape, TokenRange{});
  std::printf(
      "memory    shape %s (%u segments): %zu bytes per tree (%.2f MiB), the same at any "
      "key count; serialized %zu bytes\n",
      shape.ToString().c_str(), shape.segments(), tree.MemoryBytes(),
      tree.MemoryBytes() / 1048576.0, tree.Serialize().size());
}

void Apply(const TreeShape& shape, const aae_testing::KeyMap& keys) {
  std::vector<std::pair<std::string, uint64_t>> order(keys.begin(), keys.end());
  std::mt19937_64 rng(7);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  // The best of three passes: the machine is shared, and the slower passes measure the neighbours.
  TictacTree tree(shape, TokenRange{});
  double insert_s = 1e9, overwrite_s = 1e9;
  for (int pass = 0; pass < 3; ++pass) {
    tree.Clear();
    auto start = Clock::now();
    for (const auto& [key, version] : order) tree.Apply(key, std::nullopt, version);
    insert_s = std::min(insert_s, SecondsSince(start));
    start = Clock::now();
    for (const auto& [key, version] : order) tree.Apply(key, version, version + 1);
    overwrite_s = std::min(overwrite_s, SecondsSince(start));
  }
  std::printf(
      "apply     %zu keys in random order, best of 3: insert %.1f ns/Apply, overwrite "
      "%.1f ns/Apply (root %016llx)\n",
      order.size(), 1e9 * insert_s / order.size(), 1e9 * overwrite_s / order.size(),
      static_cast<unsigned long long>(tree.root()));
}

void Exchanges(const TreeShape& shape, const aae_testing::KeyMap& base) {
  uint64_t full_bytes = 0;
  for (const auto& [key, version] : base) full_bytes += key.size() + 8;
  std::printf("exchange  M = %zu keys, full key+version list: %llu bytes\n", base.size(),
              static_cast<unsigned long long>(full_bytes));
  std::printf("          %6s %6s %9s %9s %12s %12s %9s %9s %8s\n", "k", "rounds", "branches",
              "segments", "bytes", "of full", "keys diff", "found", "cpu s");
  const aae_testing::Replica a(base, shape);
  std::mt19937_64 rng(42);
  for (size_t k : {1, 100, 10000}) {
    const aae_testing::Replica b(aae_testing::Diverge(base, k, rng), shape);
    const auto start = Clock::now();
    const Exchange exchange = aae_testing::RunExchange(a, b);
    const double seconds = SecondsSince(start);
    const ExchangeStats& s = exchange.stats();
    const uint64_t bytes = s.request_bytes + s.answer_bytes_b;
    const bool exact = exchange.diffs() == aae_testing::ExpectedDiffs(a.keys, b.keys);
    std::printf("          %6zu %6u %9u %9u %12llu %11.4f%% %9zu %9s %8.2f\n", k, s.rounds,
                s.branches_differing, s.segments_differing, static_cast<unsigned long long>(bytes),
                100.0 * bytes / full_bytes, exchange.diffs().size(), exact ? "exact" : "WRONG",
                seconds);
  }
}

}  // namespace
}  // namespace ringkv

int main(int argc, char** argv) {
  ringkv::Args args;
  if (!ringkv::Parse(argc, argv, &args)) {
    std::fprintf(stderr,
                 "usage: aae_bench [--keys M >= 10000] [--branches B] [--leaves L]\n"
                 "  B, L powers of two within the tree limits (aae/tictac_tree.h)\n");
    return 2;
  }
  std::mt19937_64 rng(1);
  const ringkv::aae_testing::KeyMap keys = ringkv::aae_testing::RandomKeys(args.keys, rng);
  ringkv::Memory(args.shape);
  ringkv::Apply(args.shape, keys);
  ringkv::Exchanges(args.shape, keys);
  return 0;
}
