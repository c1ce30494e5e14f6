#include "node/trace.h"

#include <fmt/format.h>

#include <algorithm>

namespace ringkv {
namespace {

void AddOnce(std::vector<std::string>* list, const std::string& node) {
  if (std::find(list->begin(), list->end(), node) == list->end()) list->push_back(node);
}

}  // namespace

Tracer Tracer::Start(const Clock* clock, std::string coordinator) {
  Tracer t;
  t.state_ = std::make_shared<State>();
  t.state_->clock = clock;
  t.state_->start_us = clock->MonoUs();
  t.state_->trace.coordinator = std::move(coordinator);
  return t;
}

int64_t Tracer::elapsed_us() const {
  if (!state_) return 0;
  return state_->clock->MonoUs() - state_->start_us;
}

void Tracer::Event(std::string_view node, std::string activity) const {
  if (!state_) return;
  if (state_->trace.events.size() >= kTraceEventsMax) {
    ++state_->dropped;
    return;
  }
  if (activity.size() > kTraceActivityBytesMax) {
    activity.resize(kTraceActivityBytesMax - 3);
    activity += "...";
  }
  state_->trace.events.push_back(TraceEvent{elapsed_us(), std::string(node), std::move(activity)});
}

void Tracer::Asked(const std::string& node) const {
  if (state_) AddOnce(&state_->trace.replicas_asked, node);
}

void Tracer::Answered(const std::string& node) const {
  if (state_) AddOnce(&state_->trace.replicas_answered, node);
}

void Tracer::Repaired(const std::string& node) const {
  if (state_) AddOnce(&state_->trace.read_repaired, node);
}

void Tracer::SetSiblings(uint32_t siblings) const {
  if (state_) state_->trace.siblings = siblings;
}

void Tracer::Append(const Trace& remote, const std::string& remote_name, int64_t sent_at_us) const {
  if (!state_) return;
  for (const auto& e : remote.events) {
    if (state_->trace.events.size() >= kTraceEventsMax) {
      ++state_->dropped;
      continue;
    }
    state_->trace.events.push_back(TraceEvent{sent_at_us + e.elapsed_us,
                                              e.node.empty() ? remote_name : e.node, e.activity});
  }
  for (const auto& n : remote.replicas_asked) Asked(n);
  for (const auto& n : remote.replicas_answered) Answered(n);
  for (const auto& n : remote.read_repaired) Repaired(n);
  state_->trace.siblings = remote.siblings;
}

std::optional<Trace> Tracer::Finish() const {
  if (!state_) return std::nullopt;
  Trace out = state_->trace;
  out.duration_us = static_cast<uint64_t>(std::max<int64_t>(elapsed_us(), 0));
  if (state_->dropped > 0) {
    out.events.push_back(TraceEvent{static_cast<int64_t>(out.duration_us), "",
                                    fmt::format("({} more events not kept)", state_->dropped)});
  }
  return out;
}

std::string ShortClock(const VersionVector& clock) {
  std::string out = "{";
  for (const auto& [actor, counter] : clock.entries()) {
    if (out.size() > 1) out += ", ";
    out += fmt::format("{:04x}:{}", actor & 0xffff, counter);
  }
  out += "}";
  return out;
}

}  // namespace ringkv
