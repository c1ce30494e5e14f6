#include "ring/ownership_diff.h"

#include <algorithm>

namespace ringkv {
namespace {

std::vector<std::string> Names(const Ring& ring, const std::vector<uint32_t>& indices) {
  std::vector<std::string> names;
  names.reserve(indices.size());
  for (uint32_t i : indices) names.push_back(ring.nodes()[i]);
  return names;
}

// The names in `a` that are not in `b`, in a's order. Replica lists are short: quadratic is fine.
std::vector<std::string> Missing(const std::vector<std::string>& a,
                                 const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const std::string& s : a) {
    if (std::find(b.begin(), b.end(), s) == b.end()) out.push_back(s);
  }
  return out;
}

bool SameLists(const RangeChange& x, const RangeChange& y) {
  return x.old_replicas == y.old_replicas && x.new_replicas == y.new_replicas;
}

}  // namespace

std::vector<RangeChange> OwnershipDiff(const Ring& from, const Ring& to, uint32_t n) {
  // Every token of either ring bounds a range; between two consecutive ones both rings' replica
  // lists are constant, so each elementary range is judged by its end token.
  std::vector<Token> bounds;
  bounds.reserve(from.token_count() + to.token_count());
  for (const Ring::VNode& v : from.vnodes()) bounds.push_back(v.token);
  for (const Ring::VNode& v : to.vnodes()) bounds.push_back(v.token);
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());

  std::vector<RangeChange> changes;
  std::vector<uint32_t> indices;
  for (size_t i = 0; i < bounds.size(); ++i) {
    RangeChange change;
    change.range = {bounds[i == 0 ? bounds.size() - 1 : i - 1], bounds[i]};
    from.PreferenceIndices(bounds[i], n, &indices);
    change.old_replicas = Names(from, indices);
    to.PreferenceIndices(bounds[i], n, &indices);
    change.new_replicas = Names(to, indices);
    change.gained = Missing(change.new_replicas, change.old_replicas);
    change.lost = Missing(change.old_replicas, change.new_replicas);
    if (change.gained.empty() && change.lost.empty()) continue;
    if (!changes.empty() && changes.back().range.end == change.range.start &&
        SameLists(changes.back(), change)) {
      changes.back().range.end = change.range.end;
    } else {
      changes.push_back(std::move(change));
    }
  }
  // The last change may run on into the first across the origin: one arc, kept in first place.
  if (changes.size() > 1 && changes.back().range.end == changes.front().range.start &&
      SameLists(changes.back(), changes.front())) {
    changes.front().range.start = changes.back().range.start;
    changes.pop_back();
  }
  return changes;
}

}  // namespace ringkv
