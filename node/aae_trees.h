// AaeTrees: this node's anti-entropy trees (aae/tictac_tree.h), one per keyspace and ring range it
// replicates, kept up to date as writes land (DESIGN.md §5, issue 12).
//
// Ranges are the ring's vnode ranges (Ring::RangeOf): every key of one has the same replicas, so
// two replicas of it hold trees over the same key set and can compare them (aae/exchange.h). When
// the ring or a keyspace's replication factor changes, that keyspace's trees are rebuilt.
//
// Kept up to date: KvService tells this observer of every stored object's change once its write
// completed (StoredObjectObserver), as the key's version hash before and after
// (aae/version_hash.h), and the key's tree is XORed in O(1).
//
// Built at start (and after a ring change) by one scan of the keyspace in storage order, a page
// at a time on the loop. Writes completing meanwhile are applied only to the part already
// scanned (up to the cursor), since the scan will read the rest; a key whose write is in flight
// when the scan meets it (KvService::Busy: the scan may see either object) is skipped and added
// when that write completes. Until a keyspace's build ends its trees answer nothing ("not ready").
//
// Memory: 8 bytes per segment, per branch and for the root per tree, whatever the number of
// keys: with the default shape (256 branches of 64 leaves), 132 KiB per range; a node of a
// 5-node ring with 16 vnodes each and replication factor 3 holds about 48 ranges per keyspace:
// 6.2 MiB per keyspace, for a million keys or for ten (memory_bytes()).
//
// Thread safety: none; the node's loop. Pointers must outlive it.
#ifndef RINGKV_NODE_AAE_TREES_H_
#define RINGKV_NODE_AAE_TREES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aae/messages.h"
#include "aae/tictac_tree.h"
#include "node/cluster_view.h"
#include "node/effects.h"
#include "node/keyspaces.h"
#include "node/kv_service.h"
#include "node/log.h"
#include "storage/storage.h"

namespace ringkv {

struct AaeTreesOptions {
  TreeShape shape{256, 64};
  size_t build_page_objects = 2000;
};

class AaeTrees final : public StoredObjectObserver {
 public:
  AaeTrees(const Placement* placement, const KeyspaceCatalog* keyspaces, Storage* storage,
           const KvService* service, Timers* timers, Logger* log, AaeTreesOptions options = {});

  // Rebuilds the keyspaces whose ring or replication factor changed, builds new ones, forgets
  // dropped ones; nothing when nothing changed. The node calls it on ring and catalog changes
  // (OnStored does too, when it sees the ring changed).
  void Refresh();

  void OnStored(std::string_view keyspace, std::string_view key, Token token,
                std::optional<uint64_t> before, std::optional<uint64_t> after) override;

  struct Range {
    TokenRange range;
    std::vector<std::string> replicas;  // preference order; this node among them
    uint64_t root = 0;
    std::map<std::string, int64_t> agreed_us;  // per other replica: when an exchange last agreed
  };
  // Whether the keyspace's trees are built (false while building, or for an unknown keyspace).
  bool Ready(const std::string& keyspace) const;
  // OK when Ready; else Unavailable, "not ready: ... being built", for a refusal.
  Status ReadyStatus(const std::string& keyspace) const;
  // The ranges of `keyspace` this node replicates, ascending by end token (empty while building).
  std::vector<Range> Ranges(const std::string& keyspace) const;
  // An exchange found this node and `peer` agreeing on the range at `now_us` (Clock::NowUs).
  void MarkAgreed(const std::string& keyspace, const TokenRange& range, const std::string& peer,
                  int64_t now_us);

  // A replica's answer about its copy of `range` (a peer's request, or this node's own side of an
  // exchange). InvalidArgument for a range this node does not replicate as one of its ranges or a
  // request its trees cannot answer; Unavailable ("not ready") while the keyspace is building.
  // A keys request reads from storage only its segments' tokens (KeysRequestTokens), on the loop:
  // its cost follows the keys asked for, not the range's size.
  Result<AaeAnswer> Answer(const std::string& keyspace, const TokenRange& range,
                           const AaeRequest& request);

  const TreeShape& shape() const { return options_.shape; }
  size_t memory_bytes() const;

 private:
  struct Entry {
    TokenRange range;
    std::vector<std::string> replicas;
    TictacTree tree;
    std::map<std::string, int64_t> agreed_us;
  };
  struct Keyspace {
    uint64_t ring_digest = 0;
    uint32_t replication_factor = 0;
    std::map<Token, Entry> by_end;  // by the range's end token
    bool building = false;
    bool scanned_any = false;       // the cursor below is set
    Token cursor_token = 0;         // the last object the build scanned
    std::string cursor_key;
    std::set<std::string, std::less<>> skipped;  // user keys busy when the scan met them
    uint64_t build = 0;             // which build a scheduled page belongs to
  };
  void StartBuild(const std::string& name, uint32_t replication_factor);
  void BuildPage(const std::string& name, uint64_t build);
  Entry* Find(Keyspace* ks, Token token);
  Result<Entry*> FindRange(const std::string& keyspace, const TokenRange& range);

  const Placement* const placement_;
  const KeyspaceCatalog* const keyspaces_;
  Storage* const storage_;
  const KvService* const service_;
  Timers* const timers_;
  Logger* const log_;
  const AaeTreesOptions options_;
  std::map<std::string, Keyspace, std::less<>> keyspaces_trees_;
  uint64_t builds_ = 0;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_AAE_TREES_H_
