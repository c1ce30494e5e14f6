// The ringkv C++ client.
//
//   ringkv::ClientOptions options;
//   options.contact_points = {"127.0.0.1:7000"};
//   ringkv::Client client(options);
//   auto put = client.Put("doc:42", "{\"lang\":\"en\"}");
//   if (!put.ok()) { /* put.error().code() says what to do next */ }
//   auto got = client.Get("doc:42");
//   if (got.ok() && got->found) { ... got->siblings[0].value ... got->context ... }
//
// Thread safety: a Client may be used from any number of threads at once. Its calls never block
// each other beyond the connection they share; synchronous calls block the calling thread only.
// Lifetime: destroying a Client fails every request still pending with ErrorCode::kCancelled
// (callbacks run, futures become ready) before the destructor returns; callbacks never run after
// it. A callback must not destroy the Client that runs it, must not throw, and must not make a
// synchronous call on it (that would wait for the thread it runs on; such a call returns
// kInvalidArgument instead). It may start asynchronous ones.
//
// Every request completes exactly once: a callback runs once, a future becomes ready once.
//
// Routing: the client learns the ring (members, their addresses and tokens, the keyspaces) from a
// contact point before its first key-value request, and sends each get, put and del to the first
// replica of the key that is up (token-aware), failing over to the next replica on a connection
// failure. Without a ring (a node that does not serve one, or an empty ring) requests go to the
// contact points. Routing saves a hop but never decides correctness: any node coordinates any key.
//
// Writes in doubt: a put or del whose outcome is unknown -- its deadline passed after it was sent,
// or the connection dropped after it was sent -- fails with ErrorCode::kTimeout and in_doubt()
// true, whatever the cause: one code means "may have been applied; re-read before deciding".
// kDisconnected always means the request was not sent (no node could be reached).
#ifndef RINGKV_CLIENT_CLIENT_H_
#define RINGKV_CLIENT_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ringkv/error.h"

namespace ringkv {

enum class Consistency : uint8_t { kDefault, kOne, kTwo, kThree, kQuorum, kAll, kAny };

// Which nodes a write may count toward W. kStrict: the key's replicas only (too few up is
// kUnavailable). kSloppy: when replicas are down, the next healthy nodes clockwise stand in for
// them, each storing the write as a hint that it hands to the replica when it returns; they count
// toward W, but a read (which asks replicas only) may not see the write until the hints are
// delivered (README, "Sloppy quorum"). kDefault: the keyspace's mode (strict unless created
// sloppy).
enum class Quorum : uint8_t { kDefault, kStrict, kSloppy };

struct ClientOptions {
  // "host:port" of one or more nodes. Requests go to the first that answers; on a connection
  // failure the client moves on to the next.
  std::vector<std::string> contact_points;
  std::chrono::milliseconds connect_timeout{2000};
  // Deadline of one request, end to end, retries included.
  std::chrono::milliseconds request_timeout{5000};
  // Extra attempts for idempotent operations (get, info) after a connection failure or an
  // overloaded answer; non-idempotent ones (put, del) are retried only when the request is known
  // not to have been sent, or was refused before anything was written. Each retry goes to
  // another node where there is one. An UNAVAILABLE answer (the coordinator saw too few replicas)
  // is retried once, on another node, which may see more; one that says the node is not ready
  // ("not ready: ...", its ring is not settled yet) as often as retries allow. A timeout is never
  // retried.
  int retries = 2;  // 0..16
  // Empty: accept any cluster. Otherwise the node must belong to this cluster.
  std::string cluster_name;
  // Requests in flight on the connection to one node; more wait in the client. The node's own
  // limit (from the handshake) applies if it is lower.
  uint32_t in_flight_max = 128;
  // Sent in the handshake; the node may log it.
  std::string client_name = "client";
  // Route get / put / del to a replica of the key. Off: every request goes to the contact points.
  bool token_aware = true;
  // The ring is fetched again by the first request that finds it older than this (1 ms..24 h),
  // at once after a connection to a node fails, and after an UNAVAILABLE answer (at most once a
  // second). So the client follows membership changes: a node that joined becomes a contact and,
  // once NORMAL, a replica; one that left, was removed or is no longer named is not tried.
  std::chrono::milliseconds ring_refresh_interval{10000};
};

struct Sibling {
  std::string value;
  int64_t timestamp_us = 0;   // coordinator wall clock at write
  int64_t expires_at_us = 0;  // 0: never
  uint64_t actor = 0;         // the dot that names this write
  uint64_t counter = 0;
};

// What the coordinator did for one request (ReadOptions::trace / WriteOptions::trace).
struct TraceEvent {
  uint64_t elapsed_us = 0;  // since the coordinator received the request
  std::string node;         // the node the event is about; empty: the coordinator
  std::string activity;     // e.g. "asked n2", "n2 answered: 2 siblings"
};

struct TraceInfo {
  std::string coordinator;
  std::vector<TraceEvent> events;
  std::vector<std::string> replicas_asked, replicas_answered, read_repaired;
  uint32_t siblings = 0;  // live siblings in the merged answer
  uint64_t duration_us = 0;
};

struct GetResult {
  bool found = false;              // at least one live sibling
  std::vector<Sibling> siblings;   // all live siblings; more than one means concurrent writes
  std::string context;             // opaque; pass it to the next Put / Del of this key
  // Every replica of the key answered the read, each with the same object: no replica holds
  // another version of it (so data it deleted can be forgotten; the CQL tables use this).
  bool replicas_agreed = false;
  std::optional<TraceInfo> trace;  // when ReadOptions::trace was set
};

struct PutResult {
  // The object's clock after the write: covers the write just made and every sibling still
  // stored beside it.
  std::string context;
  // Live siblings after the write. More than one: concurrent writes stand beside this one and
  // `context` covers them too, so read them before writing with it again.
  uint32_t siblings = 1;
  // Of the acknowledgements counted toward W, how many came from stand-ins (sloppy quorum) rather
  // than from the key's replicas.
  uint32_t fallback_acks = 0;
  std::optional<TraceInfo> trace;  // when WriteOptions::trace was set
};

struct DelResult {
  uint32_t fallback_acks = 0;      // as PutResult::fallback_acks
  std::optional<TraceInfo> trace;  // when WriteOptions::trace was set
};

// One node's local figures for a keyspace, or a CQL table of it (keys "<table>\0..."; other keys
// count under table "").
struct KeyspaceStats {
  std::string keyspace, table;
  uint64_t reads = 0, writes = 0;
  uint64_t read_latency_us_total = 0, write_latency_us_total = 0;
  uint64_t keys_approx = 0, bytes_approx = 0;
};

// The hints one node holds for one target node.
struct HintTargetInfo {
  std::string target;
  uint64_t count = 0, bytes = 0;
  int64_t oldest_stored_at_us = 0;  // the holder's wall clock
};

struct NodeInfo {
  std::string node_name, cluster_name, version, listen, data_dir, sync_mode;
  uint32_t protocol_version = 0;
  uint64_t uptime_s = 0, actor = 0, keys_approx = 0, storage_bytes_approx = 0;
  uint32_t connections = 0;
  uint64_t requests_served = 0;
  uint64_t host_id = 0;
  uint32_t tokens = 0;         // vnodes
  std::string schema_version;  // digest of its keyspace definitions
  std::vector<KeyspaceStats> keyspace_stats;
  std::string http_address;    // where /metrics is served; empty: not served
  bool hinted_handoff = false;
  std::vector<HintTargetInfo> hints;  // pending, per target
};

// One node of the ring, as the node that answered Client::Ring() knows it.
struct RingMemberInfo {
  std::string name;
  std::string address;  // HOST:PORT the node advertises
  uint64_t host_id = 0;
  std::vector<int64_t> tokens;  // ascending
  bool up = false;              // as the answering node's failure detector sees it
  double ownership = 0;         // share of all keys it replicates at RingInfo::replication_factor
  // As gossip says: NORMAL, JOINING, LEAVING, LEFT or REMOVED (NORMAL when the answering node
  // predates gossip). Only NORMAL and LEAVING members own ranges; LEFT and REMOVED ones are
  // listed only so that a caller can see they went.
  std::string status = "NORMAL";

  // Gone from the cluster (LEFT or REMOVED): not a node to contact or to show as a member.
  bool departed() const { return status == "LEFT" || status == "REMOVED"; }
};

struct KeyspaceInfo {
  std::string name;
  uint32_t replication_factor = 0;
  bool sloppy = false;  // its writes use sloppy quorum unless WriteOptions::quorum says strict
};

struct RingInfo {
  std::string self;                     // the node that answered
  std::string keyspace;                 // ownership is computed at this keyspace's
  uint32_t replication_factor = 0;      // replication factor
  std::vector<RingMemberInfo> members;  // by name
  std::vector<KeyspaceInfo> keyspaces;  // by name
  // false: the node that answered had just started and not yet heard from every seed, so the
  // members are only those it knew of (kvctl status says so).
  bool settled = true;
};

struct ReadOptions {
  std::string keyspace;  // empty: "default"
  Consistency consistency = Consistency::kDefault;
  uint8_t r = 0;         // explicit R; 0: use consistency
  std::chrono::milliseconds timeout{0};  // 0: ClientOptions::request_timeout
  bool trace = false;    // ask the coordinator for a TraceInfo
};

// A page of the live keys of a token range, in (token, key) order (Client::Scan).
struct ScanOptions {
  std::string keyspace;
  int64_t start_token = 0;  // exclusive
  int64_t end_token = 0;    // inclusive; equal to start_token: the whole ring
  std::string key_prefix;   // only keys starting with these bytes
  bool has_after = false;   // resume after (after_token, after_key): the last entry of a page
  int64_t after_token = 0;
  std::string after_key;
  uint32_t limit = 0;       // keys per page; 0: the node's cap
  Consistency consistency = Consistency::kDefault;
  uint8_t r = 0;
  std::chrono::milliseconds timeout{0};
};

struct ScanEntry {
  std::string key;
  int64_t token = 0;
  std::vector<Sibling> siblings;  // live siblings
  std::string context;
};

struct ScanPage {
  std::vector<ScanEntry> entries;
  bool more = false;  // ask again after the last entry
};

struct WriteOptions {
  std::string keyspace;
  std::string context;   // from a Get; empty: a blind write that supersedes nothing (for Del:
                         // deletes everything the node has seen)
  uint32_t ttl_s = 0;    // Put only (Del ignores it); 0: no expiry
  Consistency consistency = Consistency::kDefault;
  uint8_t w = 0;
  std::chrono::milliseconds timeout{0};
  bool trace = false;
  Quorum quorum = Quorum::kDefault;
};

class Client {
 public:
  // Does not connect; the first request does. Invalid options surface as errors on requests.
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Expected<GetResult> Get(std::string_view key, const ReadOptions& options = {});
  Expected<PutResult> Put(std::string_view key, std::string_view value,
                          const WriteOptions& options = {});
  Expected<DelResult> Del(std::string_view key, const WriteOptions& options = {});
  Expected<NodeInfo> Info();
  // Info of one particular node ("host:port"), whether or not it is a contact point.
  Expected<NodeInfo> InfoOf(std::string_view address);
  // One page of a token range scan; see ScanOptions. Idempotent (retried like Get).
  Expected<ScanPage> Scan(const ScanOptions& options);
  // The token ringkv places `key` at (Murmur3, as Cassandra's partitioner).
  static int64_t TokenOf(std::string_view key);

  // The ring as a contact point knows it, with each member's ownership at the replication factor
  // of `keyspace` (empty: "default"; unknown: kInvalidArgument). The answer also becomes the ring
  // the client routes by.
  Expected<RingInfo> Ring(std::string_view keyspace = {});
  // The replicas of `key` in `keyspace` (empty: "default"), primary first, as node names: the
  // preference list the client routes by, computed from its ring (fetched first if the client has
  // none yet or it is older than ring_refresh_interval). An empty ring is kUnavailable.
  Expected<std::vector<std::string>> Endpoints(std::string_view key,
                                               std::string_view keyspace = {});
  // Creates a keyspace on every node the contact point knows. Returns whether it was created:
  // false when it existed already and `if_not_exists` is set (without it, an existing keyspace is
  // an error from the node).
  // `sloppy`: its writes use sloppy quorum by default (Quorum).
  Expected<bool> CreateKeyspace(std::string_view name, uint32_t replication_factor,
                                bool if_not_exists = false, bool sloppy = false);
  // Drops a keyspace and its data on every node the contact point knows. Returns whether it was
  // dropped: false when it did not exist and `if_exists` is set.
  Expected<bool> DropKeyspace(std::string_view name, bool if_exists = false);
  // Deletes every hint the contact point holds for node `target`; returns how many there were.
  Expected<uint64_t> TruncateHints(std::string_view target);
  // Administration of the contact point itself (kvctl decommission, removenode, gossipinfo,
  // netstats, cleanup): the node's answer, a JSON document (docs/operations.md). Sent once.
  Expected<std::string> Admin(std::string_view command, std::string_view argument = {});

  // Asynchronous forms. The future is always made ready, with an error if the client is destroyed
  // first. Callbacks run on the client's I/O thread: keep them short.
  std::future<Expected<GetResult>> GetAsync(std::string_view key, const ReadOptions& options = {});
  std::future<Expected<PutResult>> PutAsync(std::string_view key, std::string_view value,
                                            const WriteOptions& options = {});
  std::future<Expected<DelResult>> DelAsync(std::string_view key, const WriteOptions& options = {});
  void GetAsync(std::string_view key, const ReadOptions& options,
                std::function<void(Expected<GetResult>)> done);
  void PutAsync(std::string_view key, std::string_view value, const WriteOptions& options,
                std::function<void(Expected<PutResult>)> done);
  void DelAsync(std::string_view key, const WriteOptions& options,
                std::function<void(Expected<DelResult>)> done);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ringkv

#endif  // RINGKV_CLIENT_CLIENT_H_
