// AsioTimers: the Timers seam (node/effects.h) on a Boost.Asio io_context, for kvnode and for the
// node's transport. The simulator binds Timers to virtual time instead (sim/world.h).
//
// Delays are measured by the io_context's steady clock. A node started with --clock-offset-ms
// shifts only its wall clock, so delays computed from Clock::MonoUs differences stay right.
//
// Lifetime: no callback runs after the AsioTimers is destroyed; the destructor cancels every timer
// still pending. The io_context must outlive the AsioTimers.
//
// Thread safety: none. Every call, and every callback, happens on the io_context's single thread.
#ifndef RINGKV_NODE_SERVER_ASIO_TIMERS_H_
#define RINGKV_NODE_SERVER_ASIO_TIMERS_H_

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility> (DESIGN.md §9).
#include <utility>

#include <boost/asio.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

#include "node/effects.h"

namespace ringkv {

class AsioTimers final : public Timers {
 public:
  // `io` must outlive this object.
  explicit AsioTimers(boost::asio::io_context* io) : io_(io) {}
  ~AsioTimers() override;
  AsioTimers(const AsioTimers&) = delete;
  AsioTimers& operator=(const AsioTimers&) = delete;

  // A delay <= 0 runs `fn` on a later turn of the loop, never inside After. Ids are never reused.
  TimerId After(int64_t delay_us, std::function<void()> fn) override;
  // Unknown, already run or already cancelled ids are ignored.
  void Cancel(TimerId id) override;

  // Timers scheduled and not yet run or cancelled.
  size_t pending() const { return live_.size(); }

 private:
  struct Entry;

  boost::asio::io_context* const io_;
  std::unordered_map<TimerId, std::shared_ptr<Entry>> live_;
  TimerId next_id_ = 1;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_SERVER_ASIO_TIMERS_H_
