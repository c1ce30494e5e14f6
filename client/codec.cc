#include "client/codec.h"

#include <capnp/blob.h>
#include <fmt/format.h>
#include <kj/exception.h>

#include <cassert>

#include "common/limits.h"

namespace ringkv::client_internal {
namespace {

Error Invalid(std::string message) { return Error(ErrorCode::kInvalidArgument, std::move(message)); }

capnp::Data::Reader AsData(std::string_view bytes) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

capnp::Text::Reader AsText(std::string_view text) {
  return capnp::Text::Reader(text.data(), text.size());
}

std::string FromData(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

std::string FromText(capnp::Text::Reader text) { return std::string(text.cStr(), text.size()); }

wire::Consistency ToWire(Consistency c) {
  switch (c) {
    case Consistency::kDefault: return wire::Consistency::DEFAULT;
    case Consistency::kOne: return wire::Consistency::ONE;
    case Consistency::kTwo: return wire::Consistency::TWO;
    case Consistency::kThree: return wire::Consistency::THREE;
    case Consistency::kQuorum: return wire::Consistency::QUORUM;
    case Consistency::kAll: return wire::Consistency::ALL;
    case Consistency::kAny: return wire::Consistency::ANY;
  }
  return wire::Consistency::DEFAULT;
}

wire::QuorumMode ToWire(Quorum q) {
  switch (q) {
    case Quorum::kDefault: return wire::QuorumMode::DEFAULT;
    case Quorum::kStrict: return wire::QuorumMode::STRICT;
    case Quorum::kSloppy: return wire::QuorumMode::SLOPPY;
  }
  return wire::QuorumMode::DEFAULT;
}

Expected<void> ValidateCommon(std::string_view key, std::string_view keyspace,
                              std::chrono::milliseconds timeout) {
  if (key.empty()) return Invalid("empty key");
  if (key.size() > kKeyBytesMax) {
    return Invalid(fmt::format("key of {} bytes exceeds the maximum of {}", key.size(), kKeyBytesMax));
  }
  if (keyspace.size() > kKeyspaceNameBytesMax) {
    return Invalid(fmt::format("keyspace name of {} bytes exceeds the maximum of {}",
                               keyspace.size(), kKeyspaceNameBytesMax));
  }
  if (timeout.count() < 0) return Invalid("negative timeout");
  return {};
}

// Wraps a parser: any frame may instead be an error, and capnp getters report a malformed frame by
// throwing (FrameDecoder validated it already, so this is a last line of defence, not a path).
template <typename T, typename Parse>
Expected<T> ParseAnswer(wire::Frame::Reader frame, wire::Frame::Which want, const char* what,
                        Parse parse) {
  try {
    if (frame.isError()) return ErrorFromWire(frame.getError());
    if (frame.which() != want) {
      return Error(ErrorCode::kProtocol,
                   fmt::format("node answered a {} with frame kind {}", what,
                               static_cast<int>(frame.which())));
    }
    return parse();
  } catch (const kj::Exception& e) {
    return Error(ErrorCode::kProtocol,
                 fmt::format("malformed {} answer: {}", what, e.getDescription().cStr()));
  }
}

Sibling ReadSibling(wire::Sibling::Reader s) {
  Sibling sibling;
  sibling.value = FromData(s.getValue());
  sibling.timestamp_us = s.getTimestampUs();
  sibling.expires_at_us = s.getExpiresAtUs();
  sibling.actor = s.getDot().getActor();
  sibling.counter = s.getDot().getCounter();
  return sibling;
}

std::vector<std::string> ReadNames(capnp::List<capnp::Text>::Reader in) {
  std::vector<std::string> out;
  for (auto n : in) out.push_back(FromText(n));
  return out;
}

TraceInfo ReadTrace(wire::Trace::Reader in) {
  TraceInfo t;
  t.coordinator = FromText(in.getCoordinator());
  for (auto e : in.getEvents()) {
    t.events.push_back(TraceEvent{e.getElapsedUs(), FromText(e.getNode()), FromText(e.getActivity())});
  }
  t.replicas_asked = ReadNames(in.getReplicasAsked());
  t.replicas_answered = ReadNames(in.getReplicasAnswered());
  t.read_repaired = ReadNames(in.getReadRepaired());
  t.siblings = in.getSiblings();
  t.duration_us = in.getDurationUs();
  return t;
}

}  // namespace

Expected<void> ValidateRead(std::string_view key, const ReadOptions& options) {
  return ValidateCommon(key, options.keyspace, options.timeout);
}

Expected<void> ValidateWrite(std::string_view key, const std::string_view* value,
                             const WriteOptions& options) {
  if (auto common = ValidateCommon(key, options.keyspace, options.timeout); !common.ok()) {
    return common;
  }
  if (value != nullptr && value->size() > kValueBytesMaxDefault) {
    return Invalid(fmt::format("value of {} bytes exceeds the maximum of {}", value->size(),
                               kValueBytesMaxDefault));
  }
  if (options.context.size() > kContextBytesMax) {
    return Invalid(fmt::format("context of {} bytes exceeds the maximum of {}; pass the context "
                               "returned by a get unchanged",
                               options.context.size(), kContextBytesMax));
  }
  if (options.ttl_s > kTtlSecondsMax) {
    return Invalid(fmt::format("ttl of {} s exceeds the maximum of {} s", options.ttl_s,
                               kTtlSecondsMax));
  }
  return {};
}

Expected<void> ValidateCreateKeyspace(std::string_view name, uint32_t replication_factor) {
  if (name.empty()) return Invalid("empty keyspace name");
  if (name.size() > kKeyspaceNameBytesMax) {
    return Invalid(fmt::format("keyspace name of {} bytes exceeds the maximum of {}", name.size(),
                               kKeyspaceNameBytesMax));
  }
  if (replication_factor == 0) return Invalid("replication factor must be at least 1");
  return {};
}

void BuildHello(wire::Frame::Builder frame, uint64_t request_id, std::string_view cluster_name,
                std::string_view node_name) {
  frame.setRequestId(request_id);
  auto hello = frame.initHello();
  hello.setProtocolVersion(wire::PROTOCOL_VERSION);
  hello.setRole(wire::Role::CLIENT);
  hello.setClusterName(AsText(cluster_name));
  hello.setNodeName(AsText(node_name));
}

void BuildGet(wire::Frame::Builder frame, std::string_view key, const ReadOptions& options) {
  auto get = frame.initGet();
  get.setKeyspace(AsText(options.keyspace));
  get.setKey(AsData(key));
  get.setConsistency(ToWire(options.consistency));
  get.setR(options.r);
  get.setTrace(options.trace);
}

void BuildPut(wire::Frame::Builder frame, std::string_view key, std::string_view value,
              const WriteOptions& options) {
  auto put = frame.initPut();
  put.setKeyspace(AsText(options.keyspace));
  put.setKey(AsData(key));
  put.setValue(AsData(value));
  put.setContext(AsData(options.context));
  put.setTtlS(options.ttl_s);
  put.setConsistency(ToWire(options.consistency));
  put.setW(options.w);
  put.setTrace(options.trace);
  put.setQuorum(ToWire(options.quorum));
}

void BuildDel(wire::Frame::Builder frame, std::string_view key, const WriteOptions& options) {
  auto del = frame.initDel();
  del.setKeyspace(AsText(options.keyspace));
  del.setKey(AsData(key));
  del.setContext(AsData(options.context));
  del.setConsistency(ToWire(options.consistency));
  del.setW(options.w);
  del.setTrace(options.trace);
  del.setQuorum(ToWire(options.quorum));
}

void BuildScan(wire::Frame::Builder frame, const ScanOptions& options) {
  auto scan = frame.initScan();
  scan.setKeyspace(AsText(options.keyspace));
  scan.setStartToken(options.start_token);
  scan.setEndToken(options.end_token);
  scan.setKeyPrefix(AsData(options.key_prefix));
  scan.setHasAfter(options.has_after);
  scan.setAfterToken(options.after_token);
  scan.setAfterKey(AsData(options.after_key));
  scan.setLimit(options.limit);
  scan.setConsistency(ToWire(options.consistency));
  scan.setR(options.r);
}

void BuildDropKeyspace(wire::Frame::Builder frame, std::string_view name, bool if_exists) {
  auto drop = frame.initDropKeyspace();
  drop.setName(AsText(name));
  drop.setIfExists(if_exists);
  drop.setPropagated(false);
}

Expected<void> ValidateScan(const ScanOptions& options) {
  if (options.keyspace.size() > kKeyspaceNameBytesMax) {
    return Invalid(fmt::format("keyspace name of {} bytes exceeds the maximum of {}",
                               options.keyspace.size(), kKeyspaceNameBytesMax));
  }
  if (options.key_prefix.size() > kKeyBytesMax || options.after_key.size() > kKeyBytesMax) {
    return Invalid("scan prefix or resume key longer than a key may be");
  }
  if (options.timeout.count() < 0) return Invalid("negative timeout");
  return {};
}

void BuildInfo(wire::Frame::Builder frame) { frame.initInfo(); }

void BuildRing(wire::Frame::Builder frame) { frame.initRing(); }

void BuildCreateKeyspace(wire::Frame::Builder frame, std::string_view name,
                         uint32_t replication_factor, bool if_not_exists, bool sloppy) {
  auto create = frame.initCreateKeyspace();
  create.setSloppy(sloppy);
  create.setName(AsText(name));
  create.setReplicationFactor(replication_factor);
  create.setIfNotExists(if_not_exists);
  create.setPropagated(false);
}

void SetAttempt(wire::Frame::Builder frame, uint64_t request_id, uint32_t timeout_ms) {
  frame.setRequestId(request_id);
  switch (frame.which()) {
    case wire::Frame::GET: frame.getGet().setTimeoutMs(timeout_ms); break;
    case wire::Frame::PUT: frame.getPut().setTimeoutMs(timeout_ms); break;
    case wire::Frame::DEL: frame.getDel().setTimeoutMs(timeout_ms); break;
    case wire::Frame::SCAN: frame.getScan().setTimeoutMs(timeout_ms); break;
    case wire::Frame::INFO:  // answered locally; no deadline to pass on
    case wire::Frame::RING:
    case wire::Frame::CREATE_KEYSPACE:
    case wire::Frame::DROP_KEYSPACE:
    case wire::Frame::TRUNCATE_HINTS:
    case wire::Frame::ADMIN:
      break;
    default: assert(false && "SetAttempt on a frame that is not a client request");
  }
}

Error ErrorFromWire(wire::Error::Reader error) {
  ErrorCode code = ErrorCode::kInternal;
  switch (error.getCode()) {
    case wire::ErrorCode::INTERNAL: code = ErrorCode::kInternal; break;
    case wire::ErrorCode::INVALID_ARGUMENT: code = ErrorCode::kInvalidArgument; break;
    case wire::ErrorCode::UNAVAILABLE: code = ErrorCode::kUnavailable; break;
    case wire::ErrorCode::TIMEOUT: code = ErrorCode::kTimeout; break;
    case wire::ErrorCode::OVERLOADED: code = ErrorCode::kOverloaded; break;
    case wire::ErrorCode::CORRUPTION: code = ErrorCode::kCorruption; break;
    case wire::ErrorCode::PROTOCOL: code = ErrorCode::kProtocol; break;
    case wire::ErrorCode::UNAUTHORIZED: code = ErrorCode::kUnauthorized; break;
    case wire::ErrorCode::TOO_MANY_SIBLINGS: code = ErrorCode::kTooManySiblings; break;
    case wire::ErrorCode::IO_ERROR: code = ErrorCode::kIoError; break;
  }
  Error out(code, FromText(error.getMessage()));
  if (code == ErrorCode::kUnavailable) out.set_counts(error.getNeeded(), error.getAlive());
  out.set_in_doubt(error.getInDoubt());
  return out;
}

Expected<GetResult> ParseGetAnswer(wire::Frame::Reader frame) {
  return ParseAnswer<GetResult>(frame, wire::Frame::GET_RESULT, "get", [&]() -> Expected<GetResult> {
    auto in = frame.getGetResult();
    GetResult out;
    out.context = FromData(in.getContext());
    out.replicas_agreed = in.getAgreed();
    for (auto s : in.getSiblings()) {
      // The node sends live siblings only; a tombstone here would read as a value, so drop it
      // rather than trust the other side of the boundary.
      if (s.getTombstone()) continue;
      out.siblings.push_back(ReadSibling(s));
    }
    out.found = in.getFound() && !out.siblings.empty();
    if (in.hasTrace()) out.trace = ReadTrace(in.getTrace());
    return out;
  });
}

Expected<PutResult> ParsePutAnswer(wire::Frame::Reader frame) {
  return ParseAnswer<PutResult>(frame, wire::Frame::PUT_RESULT, "put", [&]() -> Expected<PutResult> {
    auto in = frame.getPutResult();
    PutResult out;
    out.context = FromData(in.getContext());
    out.siblings = in.getSiblings();
    out.fallback_acks = in.getFallbackAcks();
    if (in.hasTrace()) out.trace = ReadTrace(in.getTrace());
    return out;
  });
}

Expected<DelResult> ParseDelAnswer(wire::Frame::Reader frame) {
  return ParseAnswer<DelResult>(frame, wire::Frame::DEL_RESULT, "del", [&]() -> Expected<DelResult> {
    auto in = frame.getDelResult();
    DelResult out;
    out.fallback_acks = in.getFallbackAcks();
    if (in.hasTrace()) out.trace = ReadTrace(in.getTrace());
    return out;
  });
}

Expected<ScanPage> ParseScanAnswer(wire::Frame::Reader frame) {
  return ParseAnswer<ScanPage>(frame, wire::Frame::SCAN_RESULT, "scan", [&]() -> Expected<ScanPage> {
    auto in = frame.getScanResult();
    ScanPage out;
    out.more = in.getMore();
    for (auto e : in.getEntries()) {
      ScanEntry entry;
      entry.key = FromData(e.getKey());
      entry.token = e.getToken();
      for (auto s : e.getSiblings()) {
        if (!s.getTombstone()) entry.siblings.push_back(ReadSibling(s));
      }
      entry.context = FromData(e.getContext());
      out.entries.push_back(std::move(entry));
    }
    return out;
  });
}

Expected<bool> ParseDropKeyspaceAnswer(wire::Frame::Reader frame) {
  return ParseAnswer<bool>(
      frame, wire::Frame::DROP_KEYSPACE_RESULT, "dropKeyspace",
      [&]() -> Expected<bool> { return frame.getDropKeyspaceResult().getDropped(); });
}

void BuildAdmin(wire::Frame::Builder frame, std::string_view command, std::string_view argument) {
  auto admin = frame.initAdmin();
  admin.setCommand(AsText(command));
  admin.setArgument(AsText(argument));
}

Expected<std::string> ParseAdminAnswer(wire::Frame::Reader frame) {
  return ParseAnswer<std::string>(frame, wire::Frame::ADMIN_RESULT, "admin",
                                  [&]() -> Expected<std::string> {
                                    auto json = frame.getAdminResult().getJson();
                                    return std::string(json.cStr(), json.size());
                                  });
}

void BuildTruncateHints(wire::Frame::Builder frame, std::string_view target) {
  frame.initTruncateHints().setTarget(AsText(target));
}

Expected<uint64_t> ParseTruncateHintsAnswer(wire::Frame::Reader frame) {
  return ParseAnswer<uint64_t>(
      frame, wire::Frame::TRUNCATE_HINTS_RESULT, "truncateHints",
      [&]() -> Expected<uint64_t> { return frame.getTruncateHintsResult().getRemoved(); });
}

Expected<NodeInfo> ParseInfoAnswer(wire::Frame::Reader frame) {
  return ParseAnswer<NodeInfo>(frame, wire::Frame::INFO_RESULT, "info", [&]() -> Expected<NodeInfo> {
    auto in = frame.getInfoResult();
    NodeInfo out;
    out.node_name = FromText(in.getNodeName());
    out.cluster_name = FromText(in.getClusterName());
    out.version = FromText(in.getVersion());
    out.listen = FromText(in.getListen());
    out.data_dir = FromText(in.getDataDir());
    out.sync_mode = FromText(in.getSyncMode());
    out.protocol_version = in.getProtocolVersion();
    out.uptime_s = in.getUptimeS();
    out.actor = in.getActor();
    out.keys_approx = in.getKeysApprox();
    out.storage_bytes_approx = in.getStorageBytesApprox();
    out.connections = in.getConnections();
    out.requests_served = in.getRequestsServed();
    out.host_id = in.getHostId();
    out.tokens = in.getTokens();
    out.schema_version = FromText(in.getSchemaVersion());
    out.http_address = FromText(in.getHttpAddress());
    out.hinted_handoff = in.getHintedHandoff();
    for (auto h : in.getHints()) {
      out.hints.push_back(HintTargetInfo{FromText(h.getTarget()), h.getCount(), h.getBytes(),
                                         h.getOldestStoredAtUs()});
    }
    for (auto k : in.getKeyspaceStats()) {
      KeyspaceStats ks;
      ks.keyspace = FromText(k.getKeyspace());
      ks.table = FromText(k.getTable());
      ks.reads = k.getReads();
      ks.writes = k.getWrites();
      ks.read_latency_us_total = k.getReadLatencyUsTotal();
      ks.write_latency_us_total = k.getWriteLatencyUsTotal();
      ks.keys_approx = k.getKeysApprox();
      ks.bytes_approx = k.getBytesApprox();
      out.keyspace_stats.push_back(std::move(ks));
    }
    return out;
  });
}

Expected<bool> ParseCreateKeyspaceAnswer(wire::Frame::Reader frame) {
  return ParseAnswer<bool>(
      frame, wire::Frame::CREATE_KEYSPACE_RESULT, "createKeyspace",
      [&]() -> Expected<bool> { return frame.getCreateKeyspaceResult().getCreated(); });
}

}  // namespace ringkv::client_internal
