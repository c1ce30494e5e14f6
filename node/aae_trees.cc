#include "node/aae_trees.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "aae/version_hash.h"

namespace ringkv {

AaeTrees::AaeTrees(const Placement* placement, const KeyspaceCatalog* keyspaces,
                   Storage* storage, const KvService* service, Timers* timers, Logger* log,
                   AaeTreesOptions options)
    : placement_(placement),
      keyspaces_(keyspaces),
      storage_(storage),
      service_(service),
      timers_(timers),
      log_(log),
      options_(options) {}

void AaeTrees::Refresh() {
  const uint64_t digest = placement_->ring().Digest();
  for (auto it = keyspaces_trees_.begin(); it != keyspaces_trees_.end();) {
    it = keyspaces_->Find(it->first).ok() ? std::next(it) : keyspaces_trees_.erase(it);
  }
  for (const auto& [name, def] : keyspaces_->all()) {
    auto it = keyspaces_trees_.find(name);
    if (it != keyspaces_trees_.end() && it->second.ring_digest == digest &&
        it->second.replication_factor == def.replication_factor) {
      continue;
    }
    StartBuild(name, def.replication_factor);
  }
}

void AaeTrees::StartBuild(const std::string& name, uint32_t replication_factor) {
  Keyspace& ks = keyspaces_trees_[name];
  ks = Keyspace{};
  const Ring& ring = placement_->ring();
  ks.ring_digest = ring.Digest();
  ks.replication_factor = replication_factor;
  ks.building = true;
  ks.build = ++builds_;
  const auto self = ring.IndexOf(placement_->self());
  if (self) {
    std::vector<uint32_t> replicas;
    for (size_t v = 0; v < ring.token_count(); ++v) {
      ring.ReplicasOfVNode(v, replication_factor, &replicas);
      if (std::find(replicas.begin(), replicas.end(), *self) == replicas.end()) continue;
      const TokenRange range = ring.RangeOf(v);
      Entry e{range, {}, TictacTree(options_.shape, range), {}};
      for (uint32_t r : replicas) e.replicas.push_back(ring.nodes()[r]);
      ks.by_end.emplace(ring.vnodes()[v].token, std::move(e));
    }
  }
  const uint64_t build = ks.build;
  timers_->After(0, [this, name, build] { BuildPage(name, build); });
}

void AaeTrees::BuildPage(const std::string& name, uint64_t build) {
  auto it = keyspaces_trees_.find(name);
  if (it == keyspaces_trees_.end() || it->second.build != build) return;  // rebuilt or dropped
  Keyspace& ks = it->second;
  size_t scanned = 0;
  bool more = false;
  // The cursor is passed by value: the scan moves it.
  Status s = ScanAfter(
      storage_, name, std::numeric_limits<Token>::min(), std::numeric_limits<Token>::max(),
      ks.scanned_any, ks.cursor_token, ks.cursor_key,
      [&](std::string_view key, Token token, const VersionedObject& object) {
        if (scanned >= options_.build_page_objects) {
          more = true;
          return false;
        }
        ++scanned;
        ks.scanned_any = true;
        ks.cursor_token = token;
        ks.cursor_key.assign(key);
        if (service_->Busy(EncodeStorageKey(name, token, key))) {
          ks.skipped.emplace(key);  // OnStored adds it when its write completes
          return true;
        }
        if (Entry* e = Find(&ks, token)) e->tree.Apply(key, std::nullopt, VersionHash(object));
        return true;
      });
  if (!s.ok()) {
    RINGKV_LOG(log_, kWarn, "anti-entropy: building the trees of {} failed: {}; again in 1 s",
               name, s.ToString());
    return (void)timers_->After(1'000'000, [this, name, build] { BuildPage(name, build); });
  }
  if (more) return (void)timers_->After(0, [this, name, build] { BuildPage(name, build); });
  ks.building = false;
  RINGKV_LOG(log_, kInfo, "anti-entropy: {} tree(s) of {} built", ks.by_end.size(), name);
}

AaeTrees::Entry* AaeTrees::Find(Keyspace* ks, Token token) {
  const Ring& ring = placement_->ring();
  if (ring.empty()) return nullptr;
  auto it = ks->by_end.find(ring.vnodes()[ring.VNodeFor(token)].token);
  return it == ks->by_end.end() ? nullptr : &it->second;
}

void AaeTrees::OnStored(std::string_view keyspace, std::string_view key, Token token,
                        std::optional<uint64_t> before, std::optional<uint64_t> after) {
  auto it = keyspaces_trees_.find(keyspace);
  if (it == keyspaces_trees_.end()) return;
  if (it->second.ring_digest != placement_->ring().Digest()) {
    Refresh();  // rebuilt from storage, which holds this write already
    return;
  }
  Keyspace& ks = it->second;
  if (ks.building && (!ks.scanned_any || token > ks.cursor_token ||
                      (token == ks.cursor_token && key > ks.cursor_key))) {
    return;  // the scan has yet to reach it, and will read this object
  }
  if (auto skipped = ks.skipped.find(key); skipped != ks.skipped.end()) {
    ks.skipped.erase(skipped);
    before.reset();  // the scan left it out
  }
  if (Entry* e = Find(&ks, token)) e->tree.Apply(key, before, after);
}

bool AaeTrees::Ready(const std::string& keyspace) const {
  auto it = keyspaces_trees_.find(keyspace);
  return it != keyspaces_trees_.end() && !it->second.building &&
         it->second.ring_digest == placement_->ring().Digest();
}

Status AaeTrees::ReadyStatus(const std::string& keyspace) const {
  if (Ready(keyspace)) return Status::Ok();
  return Status::Unavailable(
      fmt::format("not ready: the anti-entropy trees of '{}' are being built", keyspace), 1, 0);
}

std::vector<AaeTrees::Range> AaeTrees::Ranges(const std::string& keyspace) const {
  std::vector<Range> out;
  if (!Ready(keyspace)) return out;
  for (const auto& [end, e] : keyspaces_trees_.find(keyspace)->second.by_end) {
    out.push_back(Range{e.range, e.replicas, e.tree.root(), e.agreed_us});
  }
  return out;
}

Result<AaeTrees::Entry*> AaeTrees::FindRange(const std::string& keyspace,
                                             const TokenRange& range) {
  if (keyspaces_->Find(keyspace).status().code() != Code::kOk) {
    return Status::InvalidArgument(fmt::format("no keyspace '{}' here", keyspace));
  }
  if (Status s = ReadyStatus(keyspace); !s.ok()) return s;
  auto& by_end = keyspaces_trees_.find(keyspace)->second.by_end;
  auto it = by_end.find(range.end);
  if (it == by_end.end() || it->second.range.start != range.start) {
    return Status::InvalidArgument(fmt::format(
        "this node does not replicate range ({}, {}] of '{}' (its ring differs, or it is not a "
        "replica)",
        range.start, range.end, keyspace));
  }
  return &it->second;
}

void AaeTrees::MarkAgreed(const std::string& keyspace, const TokenRange& range,
                          const std::string& peer, int64_t now_us) {
  auto entry = FindRange(keyspace, range);
  if (entry.ok()) entry.value()->agreed_us[peer] = now_us;
}

Result<AaeAnswer> AaeTrees::Answer(const std::string& keyspace, const TokenRange& range,
                                   const AaeRequest& request) {
  auto entry = FindRange(keyspace, range);
  if (!entry.ok()) return entry.status();
  if (Status s = ValidateRequest(options_.shape, request); !s.ok()) return s;
  const auto* keys = std::get_if<KeysRequest>(&request);
  if (keys == nullptr) return AnswerFromTree(entry.value()->tree, request);
  // Keys: a scan of the requested segments' tokens only (DESIGN.md §3), every object with its
  // version hash; the rest of the range is not read.
  KeysAnswerBuilder builder(options_.shape, range, *keys);
  for (const TokenRange& part : KeysRequestTokens(options_.shape, range, *keys)) {
    Status s = storage_->Scan(keyspace, part.start, part.end,
                              [&](std::string_view key, Token, const VersionedObject& object) {
                                builder.Add(key, VersionHash(object));
                                return true;
                              });
    if (!s.ok()) return s;
  }
  return AaeAnswer(builder.Take());
}

size_t AaeTrees::memory_bytes() const {
  size_t bytes = 0;
  for (const auto& [name, ks] : keyspaces_trees_) {
    for (const auto& [end, e] : ks.by_end) bytes += e.tree.MemoryBytes();
  }
  return bytes;
}

}  // namespace ringkv
