#include "aae/messages.h"

#include <algorithm>
#include <type_traits>

#include "common/token.h"

namespace ringkv {
namespace {

constexpr uint64_t kShapeBytes = 8;
constexpr uint64_t kIdBytes = 4;
constexpr uint64_t kHashBytes = 8;

// Overloaded visitor for std::visit.
template <class... F>
struct Visitor : F... {
  using F::operator()...;
};
template <class... F>
Visitor(F...) -> Visitor<F...>;

Status CheckIds(std::string_view what, const std::vector<uint32_t>& ids, uint32_t count) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= count) {
      return Status::InvalidArgument(std::string(what) + " " + std::to_string(ids[i]) +
                                     " is out of range (the tree has " + std::to_string(count) +
                                     ")");
    }
    if (i > 0 && ids[i] <= ids[i - 1]) {
      return Status::InvalidArgument(std::string(what) + " ids are not strictly ascending");
    }
  }
  return Status::Ok();
}

}  // namespace

uint64_t PayloadBytes(const AaeRequest& request) {
  return std::visit(Visitor{
                        [](const RootRequest&) { return kShapeBytes; },
                        [](const BranchesRequest& r) { return kIdBytes * r.branches.size(); },
                        [](const LeavesRequest& r) { return kIdBytes * r.branches.size(); },
                        [](const KeysRequest& r) { return kIdBytes * r.segments.size(); },
                    },
                    request);
}

uint64_t PayloadBytes(const AaeAnswer& answer) {
  return std::visit(Visitor{
                        [](const RootAnswer&) { return kShapeBytes + kHashBytes; },
                        [](const BranchesAnswer& a) { return kHashBytes * a.hashes.size(); },
                        [](const LeavesAnswer& a) { return kHashBytes * a.hashes.size(); },
                        [](const KeysAnswer& a) {
                          uint64_t bytes = 0;
                          for (const KeyVersion& kv : a.keys) bytes += kv.key.size() + kHashBytes;
                          return bytes;
                        },
                    },
                    answer);
}

Status ValidateRequest(const TreeShape& shape, const AaeRequest& request) {
  return std::visit(
      Visitor{
          [&](const RootRequest& r) {
            if (r.shape == shape) return Status::Ok();
            return Status::InvalidArgument("anti-entropy: the asker's tree has shape " +
                                           r.shape.ToString() + ", ours " + shape.ToString() +
                                           ": trees of different shapes do not compare");
          },
          [&](const BranchesRequest& r) { return CheckIds("branch", r.branches, shape.branches); },
          [&](const LeavesRequest& r) { return CheckIds("branch", r.branches, shape.branches); },
          [&](const KeysRequest& r) { return CheckIds("segment", r.segments, shape.segments()); },
      },
      request);
}

Result<AaeAnswer> AnswerFromTree(const TictacTree& tree, const AaeRequest& request) {
  if (Status s = ValidateRequest(tree.shape(), request); !s.ok()) return s;
  return std::visit(
      Visitor{
          [&](const RootRequest&) -> Result<AaeAnswer> {
            return AaeAnswer{RootAnswer{tree.shape(), tree.root()}};
          },
          [&](const BranchesRequest& r) -> Result<AaeAnswer> {
            BranchesAnswer answer;
            answer.hashes.reserve(r.branches.size());
            for (uint32_t b : r.branches) answer.hashes.push_back(tree.branch_hashes()[b]);
            return AaeAnswer{std::move(answer)};
          },
          [&](const LeavesRequest& r) -> Result<AaeAnswer> {
            LeavesAnswer answer;
            answer.hashes.reserve(size_t{tree.shape().leaves_per_branch} * r.branches.size());
            for (uint32_t b : r.branches) {
              const auto leaves = tree.leaves_of(b);
              answer.hashes.insert(answer.hashes.end(), leaves.begin(), leaves.end());
            }
            return AaeAnswer{std::move(answer)};
          },
          [&](const KeysRequest&) -> Result<AaeAnswer> {
            return Status::InvalidArgument(
                "anti-entropy: a keys request is answered from storage (KeysAnswerBuilder)");
          },
      },
      request);
}

std::vector<TokenRange> KeysRequestTokens(const TreeShape& shape, const TokenRange& range,
                                          const KeysRequest& request) {
  std::vector<TokenRange> out;
  const std::vector<uint32_t>& segments = request.segments;
  for (size_t i = 0; i < segments.size();) {
    size_t j = i + 1;  // segments[i..j) is a run of adjacent ids
    while (j < segments.size() && segments[j] == segments[j - 1] + 1) ++j;
    if (auto arc = SegmentTokens(shape, range, segments[i], segments[j - 1])) {
      for (const TokenRange& piece : arc->Unwrap()) out.push_back(piece);
    }
    i = j;
  }
  return out;
}

KeysAnswerBuilder::KeysAnswerBuilder(const TreeShape& shape, const TokenRange& range,
                                     const KeysRequest& request)
    : shape_(shape), range_(range), segments_(request.segments) {}

void KeysAnswerBuilder::Add(std::string_view key, uint64_t version_hash) {
  if (std::binary_search(segments_.begin(), segments_.end(),
                         SegmentOf(shape_, range_, TokenOf(key)))) {
    answer_.keys.push_back(KeyVersion{std::string(key), version_hash});
  }
}

}  // namespace ringkv
