#include "aae/exchange.h"

#include <algorithm>
#include <cassert>
#include <variant>

#include "common/limits.h"
#include "common/token.h"

namespace ringkv {
namespace {

std::vector<uint32_t> AllBranches(uint32_t count) {
  std::vector<uint32_t> ids(count);
  for (uint32_t i = 0; i < count; ++i) ids[i] = i;
  return ids;
}

// Moves up to `n` ids from the front of `todo` into a list.
std::vector<uint32_t> TakeFront(std::deque<uint32_t>* todo, uint32_t n) {
  const size_t count = std::min<size_t>(n, todo->size());
  std::vector<uint32_t> ids(todo->begin(), todo->begin() + count);
  todo->erase(todo->begin(), todo->begin() + count);
  return ids;
}

Status CountMismatch(std::string_view what, char side, size_t got, size_t want) {
  return Status::Protocol("anti-entropy: replica " + std::string(1, side) + " answered " +
                          std::to_string(got) + " " + std::string(what) + ", " +
                          std::to_string(want) + " were asked for");
}

// One side's keys, checked and sorted by key. Protocol error if a key is oversized, outside the
// range or the requested segments, or listed twice.
Result<std::vector<const KeyVersion*>> SortedKeys(const TreeShape& shape, const TokenRange& range,
                                                  const std::vector<uint32_t>& segments,
                                                  const KeysAnswer& answer, char side) {
  std::vector<const KeyVersion*> keys;
  keys.reserve(answer.keys.size());
  for (const KeyVersion& kv : answer.keys) {
    if (kv.key.size() > kKeyBytesMax) {
      return Status::Protocol("anti-entropy: replica " + std::string(1, side) +
                              " answered a key of " + std::to_string(kv.key.size()) + " bytes");
    }
    const Token token = TokenOf(kv.key);
    if (!range.Contains(token) ||
        !std::binary_search(segments.begin(), segments.end(), SegmentOf(shape, range, token))) {
      return Status::Protocol("anti-entropy: replica " + std::string(1, side) +
                              " answered a key outside the requested segments");
    }
    keys.push_back(&kv);
  }
  std::sort(keys.begin(), keys.end(),
            [](const KeyVersion* x, const KeyVersion* y) { return x->key < y->key; });
  for (size_t i = 1; i < keys.size(); ++i) {
    if (keys[i]->key == keys[i - 1]->key) {
      return Status::Protocol("anti-entropy: replica " + std::string(1, side) +
                              " answered a key twice");
    }
  }
  return keys;
}

}  // namespace

Exchange::Exchange(TreeShape shape, TokenRange range, ExchangeOptions options)
    : shape_(shape), range_(range), options_(options), request_(RootRequest{shape}) {
  assert(shape.Validate().ok());
  assert(options.branches_per_request_max >= 1 && options.segments_per_request_max >= 1);
}

const AaeRequest& Exchange::request() const {
  assert(!finished());
  return request_;
}

void Exchange::OnAnswers(const AaeAnswer& a, const AaeAnswer& b) {
  assert(!finished());
  ++stats_.rounds;
  stats_.request_bytes += PayloadBytes(request_);
  stats_.answer_bytes_a += PayloadBytes(a);
  stats_.answer_bytes_b += PayloadBytes(b);
  // An answer of the kind asked for has the request's index in the variants.
  if (a.index() != request_.index() || b.index() != request_.index()) {
    return Fail(Status::Protocol("anti-entropy: an answer does not match the request's kind"));
  }
  switch (state_) {
    case State::kRoot:
      return OnRoot(std::get<RootAnswer>(a), std::get<RootAnswer>(b));
    case State::kBranches:
      return OnBranches(std::get<BranchesAnswer>(a), std::get<BranchesAnswer>(b));
    case State::kLeaves:
      return OnLeaves(std::get<LeavesAnswer>(a), std::get<LeavesAnswer>(b));
    case State::kKeys:
      return OnKeys(std::get<KeysAnswer>(a), std::get<KeysAnswer>(b));
    case State::kDone:
    case State::kFailed:
      break;
  }
  assert(false && "OnAnswers after the exchange finished");
}

void Exchange::Abort(Status why) {
  if (!finished()) Fail(std::move(why));
}

void Exchange::OnRoot(const RootAnswer& a, const RootAnswer& b) {
  for (const auto& [answer, side] : {std::pair{&a, 'A'}, std::pair{&b, 'B'}}) {
    if (answer->shape != shape_) {
      return Fail(Status::InvalidArgument("anti-entropy: replica " + std::string(1, side) +
                                          "'s tree has shape " + answer->shape.ToString() +
                                          ", this exchange compares trees of shape " +
                                          shape_.ToString() + ": refused"));
    }
  }
  if (a.root == b.root) return Finish();
  state_ = State::kBranches;
  request_ = BranchesRequest{AllBranches(shape_.branches)};
}

void Exchange::OnBranches(const BranchesAnswer& a, const BranchesAnswer& b) {
  const size_t want = std::get<BranchesRequest>(request_).branches.size();
  if (a.hashes.size() != want)
    return Fail(CountMismatch("branch hashes", 'A', a.hashes.size(), want));
  if (b.hashes.size() != want)
    return Fail(CountMismatch("branch hashes", 'B', b.hashes.size(), want));
  // The request asked for every branch, in order, so an index is a branch id.
  for (uint32_t branch : DifferingIndices(a.hashes, b.hashes)) branches_todo_.push_back(branch);
  stats_.branches_differing = static_cast<uint32_t>(branches_todo_.size());
  state_ = State::kLeaves;
  NextRequest();
}

void Exchange::OnLeaves(const LeavesAnswer& a, const LeavesAnswer& b) {
  const std::vector<uint32_t>& branches = std::get<LeavesRequest>(request_).branches;
  const uint32_t lpb = shape_.leaves_per_branch;
  const size_t want = branches.size() * lpb;
  if (a.hashes.size() != want)
    return Fail(CountMismatch("leaf hashes", 'A', a.hashes.size(), want));
  if (b.hashes.size() != want)
    return Fail(CountMismatch("leaf hashes", 'B', b.hashes.size(), want));
  const std::span<const uint64_t> leaves_a(a.hashes), leaves_b(b.hashes);
  for (size_t i = 0; i < branches.size(); ++i) {
    for (uint32_t segment : DifferingIndices(leaves_a.subspan(i * lpb, lpb),
                                             leaves_b.subspan(i * lpb, lpb), branches[i] * lpb)) {
      segments_todo_.push_back(segment);
      ++stats_.segments_differing;
    }
  }
  NextRequest();
}

void Exchange::OnKeys(const KeysAnswer& a, const KeysAnswer& b) {
  const std::vector<uint32_t>& segments = std::get<KeysRequest>(request_).segments;
  auto sorted_a = SortedKeys(shape_, range_, segments, a, 'A');
  if (!sorted_a.ok()) return Fail(sorted_a.status());
  auto sorted_b = SortedKeys(shape_, range_, segments, b, 'B');
  if (!sorted_b.ok()) return Fail(sorted_b.status());
  const std::vector<const KeyVersion*>& xs = sorted_a.value();
  const std::vector<const KeyVersion*>& ys = sorted_b.value();
  // A merge of two sorted lists: a key on one side only, or on both with other version hashes.
  size_t i = 0, j = 0;
  while (i < xs.size() || j < ys.size()) {
    if (j == ys.size() || (i < xs.size() && xs[i]->key < ys[j]->key)) {
      diffs_.push_back(KeyDiff{xs[i]->key, xs[i]->version_hash, std::nullopt});
      ++i;
    } else if (i == xs.size() || ys[j]->key < xs[i]->key) {
      diffs_.push_back(KeyDiff{ys[j]->key, std::nullopt, ys[j]->version_hash});
      ++j;
    } else {
      if (xs[i]->version_hash != ys[j]->version_hash) {
        diffs_.push_back(KeyDiff{xs[i]->key, xs[i]->version_hash, ys[j]->version_hash});
      }
      ++i;
      ++j;
    }
  }
  NextRequest();
}

void Exchange::NextRequest() {
  if (!branches_todo_.empty()) {
    state_ = State::kLeaves;
    request_ = LeavesRequest{TakeFront(&branches_todo_, options_.branches_per_request_max)};
  } else if (!segments_todo_.empty()) {
    state_ = State::kKeys;
    request_ = KeysRequest{TakeFront(&segments_todo_, options_.segments_per_request_max)};
  } else {
    Finish();
  }
}

void Exchange::Finish() {
  state_ = State::kDone;
  // Segments were asked for in ascending order, but keys do not sort by segment.
  std::sort(diffs_.begin(), diffs_.end(),
            [](const KeyDiff& x, const KeyDiff& y) { return x.key < y.key; });
}

void Exchange::Fail(Status why) {
  assert(!why.ok());
  state_ = State::kFailed;
  status_ = std::move(why);
  diffs_.clear();
}

}  // namespace ringkv
