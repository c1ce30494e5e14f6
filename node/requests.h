// The shapes of client-level requests and answers inside a node, shared by the transport, the
// coordinator and the local request core.
#ifndef RINGKV_NODE_REQUESTS_H_
#define RINGKV_NODE_REQUESTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include <optional>

#include "common/consistency.h"
#include "common/token.h"
#include "common/version.h"
#include "node/trace.h"

namespace ringkv {

struct RequestOptions {
  Consistency consistency = Consistency::kDefault;
  uint8_t explicit_count = 0;  // R for reads, W for writes; 0: from `consistency`
  int64_t timeout_ms = 0;      // 0: the node's default
  bool trace = false;          // answer with a Trace of what the coordinator did
  QuorumMode quorum = QuorumMode::kDefault;  // writes only
};

struct ReadReply {
  bool found = false;
  std::vector<Sibling> siblings;  // live only
  std::string context;            // VersionVector::EncodeContext of the merged clock
  // Every replica of the key answered before the reply, each with the same object (or none):
  // what the CQL tables' tombstone collection waits for (cql/partition.h).
  bool agreed = false;
  std::optional<Trace> trace;     // when RequestOptions::trace
};

struct WriteReply {
  std::string context;    // the object's clock after the write
  uint32_t siblings = 0;  // live siblings after the write
  VersionedObject object; // the object as stored by the coordinator: what replicas receive
  Dot dot;                // the dot the write took (not carried by a forward over the wire)
  // Of the acknowledgements the answer counted, how many came from fallbacks (sloppy quorum)
  // rather than from the key's replicas.
  uint32_t fallback_acks = 0;
  std::optional<Trace> trace;  // when RequestOptions::trace
};

// A replica's whole copy of a key, tombstones and clock included. found = false: it has none.
struct ReplicaReadReply {
  bool found = false;
  VersionedObject object;
};

// A client write (put or delete) as it travels from a node outside the key's preference list to
// one inside it, which coordinates.
struct ForwardedWrite {
  std::string keyspace;
  std::string key;
  std::string value;
  std::string context;
  uint32_t ttl_s = 0;
  bool is_delete = false;
  RequestOptions options;
};

// A token range scan: the objects of `keyspace` with token in (start_token, end_token] (the whole
// ring when the two are equal; the range wraps past the largest token), whose keys start with
// `key_prefix`, in (token, key) order, resuming after (after_token, after_key) when has_after.
struct ScanSpec {
  std::string keyspace;
  Token start_token = 0;
  Token end_token = 0;
  std::string key_prefix;
  bool has_after = false;
  Token after_token = 0;
  std::string after_key;
  uint32_t limit = 0;  // entries per answer; 0 or more than the node's cap: the cap
};

// One replica's objects, tombstones included. more: it stopped at the limit.
struct ReplicaScanEntry {
  std::string key;
  Token token = 0;
  VersionedObject object;
};
struct ReplicaScanReply {
  std::vector<ReplicaScanEntry> entries;
  bool more = false;
};

// The coordinator's merged answer: live keys only.
struct ScanReplyEntry {
  std::string key;
  Token token = 0;
  std::vector<Sibling> siblings;  // live
  std::string context;
};
struct ScanReply {
  std::vector<ScanReplyEntry> entries;
  bool more = false;  // ask again after the last entry
};

}  // namespace ringkv

#endif  // RINGKV_NODE_REQUESTS_H_
