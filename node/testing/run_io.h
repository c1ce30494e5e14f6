// RunIoUntil: drives an io_context from a test until a condition holds, with a deadline (tests
// never sleep to wait).
#ifndef RINGKV_NODE_TESTING_RUN_IO_H_
#define RINGKV_NODE_TESTING_RUN_IO_H_

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>

namespace ringkv::testing {

// Runs `io` until `done` holds; false if `timeout_ms` passed first.
inline bool RunIoUntil(boost::asio::io_context& io, const std::function<bool()>& done,
                       int64_t timeout_ms = 5000) {
  using std::chrono::milliseconds;
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(milliseconds(10));
  }
  return true;
}

}  // namespace ringkv::testing

#endif  // RINGKV_NODE_TESTING_RUN_IO_H_
