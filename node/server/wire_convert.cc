#include "node/server/wire_convert.h"

#include <fmt/format.h>

#include "storage/object_codec.h"

namespace ringkv {
namespace {

void FillNames(capnp::List<capnp::Text>::Builder out, const std::vector<std::string>& names) {
  for (unsigned i = 0; i < names.size(); ++i) out.set(i, names[i]);
}

std::vector<std::string> ReadNames(capnp::List<capnp::Text>::Reader in) {
  std::vector<std::string> out;
  for (auto n : in) out.emplace_back(WireView(n));
  return out;
}

Code FromWire(wire::ErrorCode code) {
  switch (code) {
    case wire::ErrorCode::INTERNAL:
      return Code::kInternal;
    case wire::ErrorCode::INVALID_ARGUMENT:
      return Code::kInvalidArgument;
    case wire::ErrorCode::UNAVAILABLE:
      return Code::kUnavailable;
    case wire::ErrorCode::TIMEOUT:
      return Code::kTimeout;
    case wire::ErrorCode::OVERLOADED:
      return Code::kOverloaded;
    case wire::ErrorCode::CORRUPTION:
      return Code::kCorruption;
    case wire::ErrorCode::PROTOCOL:
      return Code::kProtocol;
    case wire::ErrorCode::UNAUTHORIZED:
      return Code::kUnauthorized;
    case wire::ErrorCode::TOO_MANY_SIBLINGS:
      return Code::kTooManySiblings;
    case wire::ErrorCode::IO_ERROR:
      return Code::kIoError;
  }
  return Code::kInternal;  // a code from a newer protocol
}

}  // namespace

Status StatusFromWire(wire::Error::Reader e, std::string_view context) {
  std::string message = context.empty() ? std::string(WireView(e.getMessage()))
                                        : fmt::format("{}: {}", context, WireView(e.getMessage()));
  const Code code = FromWire(e.getCode());
  if (code == Code::kUnavailable)
    return Status::Unavailable(std::move(message), e.getNeeded(), e.getAlive());
  if (code == Code::kTimeout) return Status::Timeout(std::move(message), e.getInDoubt());
  return Status(code, std::move(message));
}

void FillTrace(wire::Trace::Builder out, const Trace& trace) {
  out.setCoordinator(trace.coordinator);
  auto events = out.initEvents(static_cast<unsigned>(trace.events.size()));
  for (unsigned i = 0; i < trace.events.size(); ++i) {
    events[i].setElapsedUs(static_cast<uint64_t>(std::max<int64_t>(trace.events[i].elapsed_us, 0)));
    events[i].setNode(trace.events[i].node);
    events[i].setActivity(trace.events[i].activity);
  }
  FillNames(out.initReplicasAsked(static_cast<unsigned>(trace.replicas_asked.size())),
            trace.replicas_asked);
  FillNames(out.initReplicasAnswered(static_cast<unsigned>(trace.replicas_answered.size())),
            trace.replicas_answered);
  FillNames(out.initReadRepaired(static_cast<unsigned>(trace.read_repaired.size())),
            trace.read_repaired);
  out.setSiblings(trace.siblings);
  out.setDurationUs(trace.duration_us);
}

Trace ReadTrace(wire::Trace::Reader in) {
  Trace t;
  t.coordinator.assign(WireView(in.getCoordinator()));
  const auto events = in.getEvents();
  // A peer's trace is bounded like ours; more is dropped rather than trusted.
  for (unsigned i = 0; i < events.size() && i < kTraceEventsMax; ++i) {
    t.events.push_back(TraceEvent{static_cast<int64_t>(events[i].getElapsedUs()),
                                  std::string(WireView(events[i].getNode())),
                                  std::string(WireView(events[i].getActivity()))});
  }
  t.replicas_asked = ReadNames(in.getReplicasAsked());
  t.replicas_answered = ReadNames(in.getReplicasAnswered());
  t.read_repaired = ReadNames(in.getReadRepaired());
  t.siblings = in.getSiblings();
  t.duration_us = in.getDurationUs();
  return t;
}

void FillReplicaScan(wire::ReplicaScan::Builder out, const ScanSpec& spec) {
  out.setKeyspace(spec.keyspace);
  out.setStartToken(spec.start_token);
  out.setEndToken(spec.end_token);
  out.setKeyPrefix(WireData(spec.key_prefix));
  out.setHasAfter(spec.has_after);
  out.setAfterToken(spec.after_token);
  out.setAfterKey(WireData(spec.after_key));
  out.setLimit(spec.limit);
}

ScanSpec ReadReplicaScan(wire::ReplicaScan::Reader in) {
  ScanSpec spec;
  spec.keyspace.assign(WireView(in.getKeyspace()));
  spec.start_token = in.getStartToken();
  spec.end_token = in.getEndToken();
  spec.key_prefix.assign(WireView(in.getKeyPrefix()));
  spec.has_after = in.getHasAfter();
  spec.after_token = in.getAfterToken();
  spec.after_key.assign(WireView(in.getAfterKey()));
  spec.limit = in.getLimit();
  return spec;
}

void FillReplicaScanResult(wire::ReplicaScanResult::Builder out, const ReplicaScanReply& reply) {
  auto entries = out.initEntries(static_cast<unsigned>(reply.entries.size()));
  for (unsigned i = 0; i < reply.entries.size(); ++i) {
    const auto& e = reply.entries[i];
    entries[i].setKey(WireData(e.key));
    entries[i].setToken(e.token);
    entries[i].setObject(WireData(EncodeObject(e.object)));
  }
  out.setMore(reply.more);
}

Result<ReplicaScanReply> ReadReplicaScanResult(wire::ReplicaScanResult::Reader in) {
  ReplicaScanReply reply;
  reply.more = in.getMore();
  for (auto e : in.getEntries()) {
    auto object = DecodeObject(WireView(e.getObject()));
    if (!object.ok()) {
      return Status::Corruption(
          fmt::format("a scanned object does not decode: {}", object.status().message()));
    }
    reply.entries.push_back(
        ReplicaScanEntry{std::string(WireView(e.getKey())), e.getToken(), std::move(object).value()});
  }
  return reply;
}

}  // namespace ringkv
