// Request tracing: what a coordinator did for one request, when the request asked for it
// (TRACING in kvsh, `kvctl get --trace`). A Tracer is off (null) unless the request set its trace
// flag, and every method of an off Tracer does nothing, so untraced requests pay one branch per
// event. Callers that format an activity should test `if (tracer)` first so that the formatting is
// skipped too.
//
// A Tracer is a handle to shared state: copies record into the same trace, so the closures of one
// request (replica answers, timers, read repair) can each hold one.
//
// Thread safety: none; the node's loop.
#ifndef RINGKV_NODE_TRACE_H_
#define RINGKV_NODE_TRACE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/version.h"

namespace ringkv {

// Events kept per trace; later ones are counted in one closing event. A trace travels in the
// answer, so it is bounded like everything else in a frame.
inline constexpr size_t kTraceEventsMax = 256;
inline constexpr size_t kTraceActivityBytesMax = 512;

struct TraceEvent {
  int64_t elapsed_us = 0;  // since the coordinator received the request
  std::string node;        // the node the event is about; empty: the coordinator
  std::string activity;
};

struct Trace {
  std::string coordinator;
  std::vector<TraceEvent> events;
  std::vector<std::string> replicas_asked, replicas_answered, read_repaired;
  uint32_t siblings = 0;
  uint64_t duration_us = 0;
};

class Tracer {
 public:
  Tracer() = default;  // off
  // An active tracer whose clock starts now. `clock` must outlive every copy.
  static Tracer Start(const Clock* clock, std::string coordinator);

  explicit operator bool() const { return state_ != nullptr; }

  // Recording methods are const: a Tracer is a handle, and closures hold it by value.
  void Event(std::string_view node, std::string activity) const;
  // Records `node` once in the list (no duplicates).
  void Asked(const std::string& node) const;
  void Answered(const std::string& node) const;
  void Repaired(const std::string& node) const;
  void SetSiblings(uint32_t siblings) const;
  // Appends what another coordinator traced (a forwarded write), its times shifted by the time
  // elapsed here when the request was sent to it (`sent_at_us`, from elapsed_us()). Events about
  // its own coordinator are attributed to `remote`.
  void Append(const Trace& remote, const std::string& remote_name, int64_t sent_at_us) const;
  int64_t elapsed_us() const;
  size_t repaired_count() const { return state_ ? state_->trace.read_repaired.size() : 0; }
  // The trace so far, with its duration; nullopt when off.
  std::optional<Trace> Finish() const;

 private:
  struct State {
    const Clock* clock = nullptr;
    int64_t start_us = 0;
    size_t dropped = 0;
    Trace trace;
  };
  std::shared_ptr<State> state_;
};

// A version vector in short form for traces: "{1a2b:3, 9f00:1}", each actor by its last four hex
// digits.
std::string ShortClock(const VersionVector& clock);

}  // namespace ringkv

#endif  // RINGKV_NODE_TRACE_H_
