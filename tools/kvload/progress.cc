#include "tools/kvload/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace ringkv::kvload {

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = static_cast<uint64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

Progress::Progress(const Counters& counters, ProgressMode mode, std::FILE* out,
                   std::chrono::milliseconds plain_interval)
    : counters_(counters), mode_(mode), out_(out), interval_(plain_interval) {
  if (mode_ == ProgressMode::kAuto) {
    mode_ = ::isatty(::fileno(out_)) ? ProgressMode::kTty : ProgressMode::kPlain;
  }
  if (mode_ == ProgressMode::kTty) interval_ = std::chrono::milliseconds(200);
}

Progress::~Progress() { Stop(); }

void Progress::Start() {
  start_ = std::chrono::steady_clock::now();
  if (mode_ == ProgressMode::kNone || thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void Progress::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (mode_ == ProgressMode::kTty) {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    fmt::print(out_, "\r{}\n", Render(elapsed));
    std::fflush(out_);
  }
}

void Progress::Run() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (mode_ == ProgressMode::kTty) {
      fmt::print(out_, "\r{}\x1b[K", Render(elapsed));  // clear what a longer line left behind
    } else {
      fmt::print(out_, "{}\n", Render(elapsed));
    }
    std::fflush(out_);
  }
}

std::string Progress::Render(double elapsed_s) const {
  uint64_t rows = counters_.rows_loaded.load();
  uint64_t bad = counters_.rows_bad.load();
  uint64_t read = counters_.bytes_read.load();
  uint64_t total = std::max<uint64_t>(counters_.bytes_total, 1);
  double fraction = std::min(1.0, static_cast<double>(read) / static_cast<double>(total));
  double rate = elapsed_s > 0 ? static_cast<double>(rows) / elapsed_s : 0;
  double eta = fraction > 0 ? elapsed_s * (1 - fraction) / fraction : -1;
  if (mode_ == ProgressMode::kTty) {
    constexpr int kWidth = 24;
    int filled = static_cast<int>(fraction * kWidth);
    return fmt::format("[{}{}] {:3.0f}%  {} rows  {:.0f} rows/s  ETA {}  {} bad",
                       std::string(filled, '#'), std::string(kWidth - filled, '.'),
                       fraction * 100, rows, rate, FormatDuration(eta), bad);
  }
  return fmt::format("kvload: {} rows loaded, {} bad, {:.0f} rows/s, {:.0f}% of the input read, "
                     "ETA {}",
                     rows, bad, rate, fraction * 100, FormatDuration(eta));
}

}  // namespace ringkv::kvload
