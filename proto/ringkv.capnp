# ringkv wire schema. Every message on a connection, client<->node and node<->node, is one Frame in
# Cap'n Proto's standard stream framing. proto/wire.md describes framing, limits and semantics.
@0xf212438d29fbd1a6;

$import "/capnp/c++.capnp".namespace("ringkv::wire");

const protocolVersion :UInt32 = 1;

# What a caller should do next with a failed request (STYLE.md, Errors).
enum ErrorCode {
  internal @0;          # a bug or an unexpected local failure; report it
  invalidArgument @1;   # the request is wrong (limits, names, malformed context); do not retry
  unavailable @2;       # too few replicas reachable; `needed` / `alive` say how many
  timeout @3;           # the deadline passed; for a write the outcome is in doubt
  overloaded @4;        # back off and retry (too many requests in flight, queue full)
  corruption @5;        # stored or received data failed a check
  protocol @6;          # malformed frame, wrong message for the state, version mismatch; the
                        # connection is closed after this error
  unauthorized @7;      # wrong cluster name or cluster secret
  tooManySiblings @8;   # the key holds the maximum number of siblings; write with the context
  ioError @9;           # the node's disk failed the write (full, read-only, failing); nothing of
                        # the request was acknowledged
}

enum Role {
  client @0;
  peer @1;              # another node of the cluster; must present the cluster secret
}

enum Consistency {
  default @0;           # the node's default for the operation
  one @1;
  two @2;
  three @3;
  quorum @4;
  all @5;
  any @6;
}

# Which nodes a write may count toward W (common/consistency.h QuorumMode).
enum QuorumMode {
  default @0;           # the keyspace's mode
  strict @1;            # the key's preference list only
  sloppy @2;            # stand-ins past the preference list for the replicas that are down
}

struct Hello {
  protocolVersion @0 :UInt32;
  role @1 :Role;
  clusterName @2 :Text;    # empty: accept whatever cluster the node belongs to (clients only)
  nodeName @3 :Text;       # peers: the sender's node name; clients: free-form, for logs
  secret @4 :Data;         # peers: the cluster secret
}

struct HelloOk {
  protocolVersion @0 :UInt32;
  nodeName @1 :Text;
  clusterName @2 :Text;
  frameBytesMax @3 :UInt64;
  inFlightMax @4 :UInt32;
}

# One causal event: the `counter`-th write coordinated by actor `actor`.
struct Dot {
  actor @0 :UInt64;
  counter @1 :UInt64;
}

struct Sibling {
  value @0 :Data;
  dot @1 :Dot;
  timestampUs @2 :Int64;   # coordinator wall clock at write time, microseconds since the epoch
  tombstone @3 :Bool;
  expiresAtUs @4 :Int64;   # 0: never
}

struct GetRequest {
  keyspace @0 :Text;       # empty: "default"
  key @1 :Data;
  consistency @2 :Consistency;
  r @3 :UInt8;             # explicit R; 0: use `consistency`
  timeoutMs @4 :UInt32;    # 0: the node's default
  trace @5 :Bool;          # answer with a Trace of what the coordinator did
}

struct GetResult {
  found @0 :Bool;                  # at least one live sibling
  siblings @1 :List(Sibling);      # live siblings only (no tombstones, nothing expired)
  context @2 :Data;                # opaque causal context; round-trip it on the next put / del
  trace @3 :Trace;                 # set when the request asked for it
  agreed @4 :Bool;                 # every replica of the key answered, each with the same object
}

struct PutRequest {
  keyspace @0 :Text;
  key @1 :Data;
  value @2 :Data;
  context @3 :Data;        # empty: a blind write that supersedes nothing
  ttlS @4 :UInt32;         # 0: no expiry
  consistency @5 :Consistency;
  w @6 :UInt8;
  timeoutMs @7 :UInt32;
  forwarded @8 :Bool;      # peers only: sent on by a node outside the key's preference list; the
                           # receiver coordinates it and never forwards it again
  trace @9 :Bool;
  quorum @10 :QuorumMode;
}

struct PutResult {
  context @0 :Data;        # the object's clock after the write: covers the new write and every
                           # sibling still stored beside it
  siblings @1 :UInt32;     # live siblings after the write; > 1 means concurrent writes stand
                           # beside this one, and `context` covers them too: read them before
                           # writing with it
  trace @2 :Trace;
  fallbackAcks @3 :UInt32; # of the acknowledgements counted, those from stand-ins (sloppy quorum)
}

struct DelRequest {
  keyspace @0 :Text;
  key @1 :Data;
  context @2 :Data;        # empty: delete everything the node has seen for the key
  consistency @3 :Consistency;
  w @4 :UInt8;
  timeoutMs @5 :UInt32;
  forwarded @6 :Bool;      # as PutRequest.forwarded
  trace @7 :Bool;
  quorum @8 :QuorumMode;
}

struct DelResult {
  trace @0 :Trace;
  fallbackAcks @1 :UInt32; # as PutResult.fallbackAcks
}

# What a coordinator did for one request, for TRACING in kvsh and `kvctl --trace`: one event per
# step, in the order they happened, with the time since the coordinator received the request.
struct TraceEvent {
  elapsedUs @0 :UInt64;
  node @1 :Text;           # the node the event happened on or is about ("" : the coordinator)
  activity @2 :Text;       # e.g. "asked n2", "n2 answered: 2 siblings, clock {a1:3, b2:1}"
}

struct Trace {
  coordinator @0 :Text;    # the node that coordinated (after any forwarding)
  events @1 :List(TraceEvent);
  replicasAsked @2 :List(Text);
  replicasAnswered @3 :List(Text);
  readRepaired @4 :List(Text);   # replicas sent a repair
  siblings @5 :UInt32;           # live siblings in the merged answer
  durationUs @6 :UInt64;
}

struct InfoRequest {}

struct InfoResult {
  nodeName @0 :Text;
  clusterName @1 :Text;
  version @2 :Text;
  protocolVersion @3 :UInt32;
  listen @4 :Text;
  dataDir @5 :Text;
  syncMode @6 :Text;
  uptimeS @7 :UInt64;
  actor @8 :UInt64;               # the actor id this incarnation writes dots with
  keysApprox @9 :UInt64;
  storageBytesApprox @10 :UInt64;
  connections @11 :UInt32;
  requestsServed @12 :UInt64;
  hostId @13 :UInt64;
  tokens @14 :UInt32;             # vnodes this node owns
  schemaVersion @15 :Text;        # digest of the keyspace definitions it holds; equal on every
                                  # node once schema changes have reached them all
  keyspaceStats @16 :List(KeyspaceStats);
  httpAddress @17 :Text;          # where /metrics is served; empty: not served
  hintedHandoff @18 :Bool;        # whether the node stores and replays hints
  hints @19 :List(HintTargetInfo);  # its pending hints, per target node
}

# The hints one node holds for one target node (node/hinted_handoff.h).
struct HintTargetInfo {
  target @0 :Text;
  count @1 :UInt64;
  bytes @2 :UInt64;
  oldestStoredAtUs @3 :Int64;     # the holder's wall clock when the oldest was stored
}

# Local (this replica's) figures for one keyspace, or one CQL table of it: keys of the form
# "<table>\0<partition key>" are counted under <table>; other keys under table "".
struct KeyspaceStats {
  keyspace @0 :Text;
  table @1 :Text;
  reads @2 :UInt64;               # replica reads served
  writes @3 :UInt64;              # replica writes applied
  readLatencyUsTotal @4 :UInt64;  # summed local latency of those reads / writes
  writeLatencyUsTotal @5 :UInt64;
  keysApprox @6 :UInt64;
  bytesApprox @7 :UInt64;
}

# Node-to-node: store a whole object (all its siblings and its causal clock) by merging it into the
# local copy. Used by replication, read repair, hinted handoff and streaming.
struct ReplicaWrite {
  keyspace @0 :Text;
  key @1 :Data;
  object @2 :Data;         # storage/object.h encoding
  hintFor @3 :Text;        # non-empty (sloppy quorum): the receiver stands in for this replica,
                           # which is down: it stores the object as a durable hint for it instead
                           # of merging it into its own data, and answers once the hint is durable
}

struct ReplicaWriteResult {}

# Node-to-node: read the whole local object, tombstones and clock included.
struct ReplicaRead {
  keyspace @0 :Text;
  key @1 :Data;
}

struct ReplicaReadResult {
  found @0 :Bool;
  object @1 :Data;
}

struct KeyspaceDef {
  name @0 :Text;
  replicationFactor @1 :UInt32;
  createdUs @2 :Int64;       # wall clock of its creation; 0: always existed ("default", old nodes)
  sloppy @3 :Bool;           # writes use sloppy quorum unless a request says otherwise
}

# A keyspace dropped at `droppedUs`: it stays dropped on every node unless created again later
# (a definition with a greater createdUs wins), so a node that missed the drop cannot bring it back.
struct DroppedKeyspace {
  name @0 :Text;
  droppedUs @1 :Int64;
}

# What a node says of itself: enough for any other node, or a client, to place it on the ring.
struct NodeDescription {
  nodeName @0 :Text;
  address @1 :Text;          # HOST:PORT it listens on
  hostId @2 :UInt64;
  tokens @3 :List(Int64);    # its virtual nodes' tokens (Murmur3)
}

struct RingMember {
  description @0 :NodeDescription;
  up @1 :Bool;               # as the answering node's failure detector sees it
  status @2 :Text;           # as gossip says: NORMAL, JOINING, LEAVING, LEFT or REMOVED; empty
                             # from a node that predates gossip (read it as NORMAL)
}

# The ring as the answering node knows it: every member, itself included, and the keyspaces.
# Clients use it to route requests to replicas; nodes use it to learn the membership from seeds.
struct RingRequest {}

struct RingResult {
  members @0 :List(RingMember);
  keyspaces @1 :List(KeyspaceDef);
  self @2 :Text;             # the answering node's name
  dropped @3 :List(DroppedKeyspace);
  # The answering node has not settled its ring yet (it has not heard every seed since it
  # started): the members are only those it heard of so far. A client keeps the ring it has.
  unsettled @4 :Bool;
}

# Gossip (gossip/state.h): a member's own account of itself, and the three-message exchange.
struct GossipEndpoint {
  name @0 :Text;
  generation @1 :Int64;
  version @2 :UInt64;
  heartbeat @3 :UInt64;
  address @4 :Text;
  hostId @5 :UInt64;
  status @6 :Text;           # JOINING, NORMAL, LEAVING, LEFT, REMOVED
  tokens @7 :List(Int64);
  loadBytes @8 :UInt64;
  schema @9 :UInt64;
}

struct GossipDigest {
  name @0 :Text;
  generation @1 :Int64;
  version @2 :UInt64;
  heartbeat @3 :UInt64;
  hostId @4 :UInt64;
}

struct GossipSyn {
  from @0 :Text;
  digests @1 :List(GossipDigest);
}

struct GossipAck {
  states @0 :List(GossipEndpoint);
  heartbeats @1 :List(GossipDigest);
  requests @2 :List(GossipDigest);
}

struct GossipAck2 {
  from @0 :Text;
  states @1 :List(GossipEndpoint);
  heartbeats @2 :List(GossipDigest);
}

struct GossipAck2Result {}

# Administration of one node (kvctl decommission, removenode, cleanup, gossipinfo, netstats, dump):
# the command and its argument; the answer is a JSON document (docs/operations.md).
struct AdminRequest {
  command @0 :Text;
  argument @1 :Text;
}

struct AdminResult {
  json @0 :Text;
}

# Creates a keyspace on the receiver, which gossips it to every member (a schema digest in its
# gossip state; the others pull its catalog) and answers once the live members agree. A peer may
# still send it with `propagated` set (nodes before gossip did, carrying their createdUs).
struct CreateKeyspace {
  name @0 :Text;
  replicationFactor @1 :UInt32;
  ifNotExists @2 :Bool;
  propagated @3 :Bool;
  createdUs @4 :Int64;       # set by the node that created it (propagated copies carry it)
  sloppy @5 :Bool;           # as KeyspaceDef.sloppy
}

struct CreateKeyspaceResult {
  created @0 :Bool;          # false: it existed already (with the same factor)
}

# Client request: the live keys of a token range, in (token, key) order, read at a consistency level.
# The coordinator splits the range by ring ranges, asks R replicas of each (ReplicaScan) and merges
# their answers key by key. Paged: at most `limit` keys per answer; `more` says to ask again with
# `afterToken` / `afterKey` set to the last key returned.
struct ScanRequest {
  keyspace @0 :Text;
  startToken @1 :Int64;    # exclusive
  endToken @2 :Int64;      # inclusive; startToken == endToken: the whole ring
  keyPrefix @3 :Data;      # only keys starting with these bytes
  hasAfter @4 :Bool;       # resume after (afterToken, afterKey)
  afterToken @5 :Int64;
  afterKey @6 :Data;
  limit @7 :UInt32;        # keys per answer; 0 or more than the node's cap: the cap
  consistency @8 :Consistency;
  r @9 :UInt8;
  timeoutMs @10 :UInt32;
}

struct ScanEntry {
  key @0 :Data;
  token @1 :Int64;
  siblings @2 :List(Sibling);   # live siblings, as GetResult
  context @3 :Data;
}

struct ScanResult {
  entries @0 :List(ScanEntry);
  more @1 :Bool;                # there may be more keys after the last entry
}

# Node-to-node: this replica's objects in a token range, (token, key) order, tombstones included.
struct ReplicaScan {
  keyspace @0 :Text;
  startToken @1 :Int64;    # exclusive
  endToken @2 :Int64;      # inclusive; equal: the whole ring
  keyPrefix @3 :Data;
  hasAfter @4 :Bool;
  afterToken @5 :Int64;
  afterKey @6 :Data;
  limit @7 :UInt32;
}

struct ReplicaScanEntry {
  key @0 :Data;
  token @1 :Int64;
  object @2 :Data;         # storage/object.h encoding
}

struct ReplicaScanResult {
  entries @0 :List(ReplicaScanEntry);
  more @1 :Bool;
}

struct DropKeyspace {
  name @0 :Text;
  ifExists @1 :Bool;
  propagated @2 :Bool;     # as CreateKeyspace.propagated
  droppedUs @3 :Int64;     # set by the node that dropped it (propagated copies carry it)
}

struct DropKeyspaceResult {
  dropped @0 :Bool;        # false: there was no such keyspace (and `ifExists` was set)
}

# Admin: delete every hint the receiving node holds for `target` (kvctl hints truncate).
struct TruncateHints {
  target @0 :Text;
}

struct TruncateHintsResult {
  removed @0 :UInt64;
}

# Node-to-node: one round of an anti-entropy exchange (aae/messages.h) about the receiver's copy of
# one token range of a keyspace. The receiver answers from its own tree of that range, or refuses
# (a range it does not replicate, a tree of another shape, ids out of bounds).
enum AaeKind {
  root @0;                 # the root hash and the tree's shape
  branches @1;             # the hashes of the listed branches
  leaves @2;               # the leaf hashes of the listed branches
  keys @3;                 # every (key, version hash) held in the listed segments
}

struct AaeRequest {
  keyspace @0 :Text;
  startToken @1 :Int64;    # exclusive
  endToken @2 :Int64;      # inclusive; equal: the whole ring
  kind @3 :AaeKind;
  branches @4 :UInt32;     # root: the asker's tree shape, which the receiver's must equal
  leavesPerBranch @5 :UInt32;
  ids @6 :List(UInt32);    # branches, leaves: branch ids; keys: segment ids; strictly ascending
}

struct AaeKeyVersion {
  key @0 :Data;
  versionHash @1 :UInt64;
}

struct AaeResult {
  kind @0 :AaeKind;              # the request's
  branches @1 :UInt32;           # root: the receiver's tree shape
  leavesPerBranch @2 :UInt32;
  root @3 :UInt64;               # root: the root hash
  hashes @4 :List(UInt64);       # branches: one per id; leaves: leavesPerBranch per id, in order
  keys @5 :List(AaeKeyVersion);  # keys: each key of the segments once, in any order
}

struct Error {
  code @0 :ErrorCode;
  message @1 :Text;
  needed @2 :UInt32;       # unavailable: replicas the request needed
  alive @3 :UInt32;        # unavailable: replicas that were reachable
  inDoubt @4 :Bool;        # timeout on a write: it may or may not have been applied
}

struct Frame {
  requestId @0 :UInt64;    # chosen by the requester; the response carries the same id
  union {
    hello @1 :Hello;
    helloOk @2 :HelloOk;
    error @3 :Error;
    get @4 :GetRequest;
    getResult @5 :GetResult;
    put @6 :PutRequest;
    putResult @7 :PutResult;
    del @8 :DelRequest;
    delResult @9 :DelResult;
    info @10 :InfoRequest;
    infoResult @11 :InfoResult;
    replicaWrite @12 :ReplicaWrite;
    replicaWriteResult @13 :ReplicaWriteResult;
    replicaRead @14 :ReplicaRead;
    replicaReadResult @15 :ReplicaReadResult;
    ring @16 :RingRequest;
    ringResult @17 :RingResult;
    createKeyspace @18 :CreateKeyspace;
    createKeyspaceResult @19 :CreateKeyspaceResult;
    scan @20 :ScanRequest;
    scanResult @21 :ScanResult;
    replicaScan @22 :ReplicaScan;
    replicaScanResult @23 :ReplicaScanResult;
    dropKeyspace @24 :DropKeyspace;
    dropKeyspaceResult @25 :DropKeyspaceResult;
    truncateHints @26 :TruncateHints;
    truncateHintsResult @27 :TruncateHintsResult;
    gossipSyn @28 :GossipSyn;
    gossipAck @29 :GossipAck;
    gossipAck2 @30 :GossipAck2;
    gossipAck2Result @31 :GossipAck2Result;
    admin @32 :AdminRequest;
    adminResult @33 :AdminResult;
    aae @34 :AaeRequest;
    aaeResult @35 :AaeResult;
  }
}
