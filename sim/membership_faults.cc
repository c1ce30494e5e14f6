#include "sim/membership_faults.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>

namespace ringkv::sim {
namespace {

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

}  // namespace

NetworkCut NetworkCut::Draw(World* world, std::vector<std::string> names) {
  assert(names.size() >= 2);
  std::shuffle(names.begin(), names.end(), world->rng());
  NetworkCut cut;
  // Splits need a majority to be one: with 2 nodes only a link or one-way cut is drawn.
  const int64_t first = names.size() >= 3 ? 0 : 1;
  cut.shape = static_cast<Shape>(world->Uniform(first, 2));
  if (cut.shape == Shape::kSplit) {
    const auto minority = static_cast<size_t>(
        world->Uniform(1, static_cast<int64_t>((names.size() - 1) / 2)));
    cut.a.assign(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(minority));
    cut.b.assign(names.begin() + static_cast<std::ptrdiff_t>(minority), names.end());
    std::sort(cut.a.begin(), cut.a.end());
    std::sort(cut.b.begin(), cut.b.end());
  } else {
    cut.a = {names[0]};
    cut.b = {names[1]};
  }
  cut.at_us = world->now_us();
  return cut;
}

void NetworkCut::Apply(SimCluster* cluster) const {
  if (shape == Shape::kOneWay) {
    cluster->Cut(a.front(), b.front());
  } else {
    cluster->Partition(a, b);
  }
}

std::string NetworkCut::Describe() const {
  static constexpr const char* kShape[] = {"split", "cut link", "one-way cut"};
  const char* sep = shape == Shape::kSplit ? " | " : shape == Shape::kLink ? "-" : "->";
  return fmt::format("{} {}{}{} for {:.1f} s", kShape[static_cast<int>(shape)], Join(a), sep,
                     Join(b), static_cast<double>(hold_us) / 1e6);
}

std::string SkewClocks(World* world, SimCluster* cluster, const std::vector<std::string>& names,
                       int64_t skew_ms) {
  std::string out;
  for (const auto& name : names) {
    const int64_t skew = world->Uniform(-skew_ms, skew_ms);
    cluster->node(name)->clock()->set_skew_us(skew * 1000);
    out += fmt::format("{}{} {:+} ms", out.empty() ? "" : ", ", name, skew);
  }
  return out;
}

}  // namespace ringkv::sim
