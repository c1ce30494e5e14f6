#include "node/server/asio_timers.h"

#include <algorithm>
#include <chrono>

namespace ringkv {

// Shared by the map and the pending wait handler, so the asio timer lives until its handler has
// run even when the entry was cancelled or the AsioTimers destroyed meanwhile.
struct AsioTimers::Entry {
  explicit Entry(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  std::function<void()> fn;
  // Set by Cancel and by the destructor. Checked by the handler before anything else: a timer that
  // had already expired when cancelled still completes with success, so the error code alone
  // cannot tell.
  bool cancelled = false;
};

AsioTimers::~AsioTimers() {
  for (auto& [id, entry] : live_) {
    entry->cancelled = true;
    entry->fn = nullptr;
    entry->timer.cancel();
  }
}

Timers::TimerId AsioTimers::After(int64_t delay_us, std::function<void()> fn) {
  const TimerId id = next_id_++;
  auto entry = std::make_shared<Entry>(*io_);
  entry->fn = std::move(fn);
  entry->timer.expires_after(std::chrono::microseconds(std::max<int64_t>(delay_us, 0)));
  // The handler reaches `this` only while the entry is not cancelled, which the destructor
  // guarantees for every entry it leaves behind.
  entry->timer.async_wait([this, id, entry](const boost::system::error_code&) {
    if (entry->cancelled) return;
    live_.erase(id);
    // Moved out first: fn may call After or Cancel (even Cancel(id)), or destroy state it owns.
    auto fn = std::move(entry->fn);
    entry->fn = nullptr;
    fn();
  });
  live_.emplace(id, std::move(entry));
  return id;
}

void AsioTimers::Cancel(TimerId id) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  it->second->cancelled = true;
  // Dropping fn now frees what it captured without waiting for the aborted handler to run.
  it->second->fn = nullptr;
  it->second->timer.cancel();
  live_.erase(it);
}

}  // namespace ringkv
