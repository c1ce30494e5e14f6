// Progress: kvload's progress report on a stream (stderr), from a thread of its own.
//   tty:   a bar redrawn in place 5 times a second:
//          [#########.........]  47%  12,345 rows  2,104 rows/s  ETA 0:07  3 bad
//   plain: a line every `plain_interval` (logs, CI):  kvload: 12345 rows, 3 bad, 2104 rows/s, 47% read
//   none:  nothing.
// The percentage and ETA come from the input bytes read against the files' total size.
//
// Thread safety: the counters are atomics the loader updates from any thread; Start / Stop from
// the thread that owns the Progress. Lifetime: the counters must outlive the Progress.
#ifndef RINGKV_TOOLS_KVLOAD_PROGRESS_H_
#define RINGKV_TOOLS_KVLOAD_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace ringkv::kvload {

struct Counters {
  std::atomic<uint64_t> rows_loaded{0};
  std::atomic<uint64_t> rows_bad{0};
  std::atomic<uint64_t> bytes_read{0};  // of all files, so far
  uint64_t bytes_total = 0;             // set before Start
};

enum class ProgressMode : uint8_t { kAuto, kTty, kPlain, kNone };

class Progress {
 public:
  Progress(const Counters& counters, ProgressMode mode, std::FILE* out,
           std::chrono::milliseconds plain_interval = std::chrono::milliseconds(5000));
  ~Progress();  // stops
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Start();
  // Draws the final state (tty: and ends the line) and joins the thread.
  void Stop();

  // One report line as the mode draws it, for `elapsed_s` since the start.
  std::string Render(double elapsed_s) const;

 private:
  void Run();

  const Counters& counters_;
  ProgressMode mode_;
  std::FILE* out_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

// "1:02:03" / "2:03" for a duration in seconds.
std::string FormatDuration(double seconds);

}  // namespace ringkv::kvload

#endif  // RINGKV_TOOLS_KVLOAD_PROGRESS_H_
