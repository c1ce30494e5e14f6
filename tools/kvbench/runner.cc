#include "tools/kvbench/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "tools/kvbench/key_chooser.h"
#include "tools/kvbench/open_loop.h"

namespace ringkv::bench {
namespace {

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// Distinct values bytes come from a window into one random buffer, so making a value costs no
// more than the client's own copy of it.
constexpr size_t kValueWindow = 4096;

// What one Client instance's completions add up to. Completions of one client arrive on its I/O
// thread, so the mutex is uncontended except against the final merge.
struct Shard {
  std::mutex mu;
  LatencyHistogram all, read, write;
  std::map<std::string, uint64_t> errors_by_class;
  uint64_t ops = 0, errors = 0, reads = 0, reads_found = 0;
  uint64_t last_done_ns = 0;
};

class Bench {
 public:
  explicit Bench(const RunOptions& o) : o_(o) {}
  RunResult Go();

 private:
  // One chain of operations: its client, its key and kind choosers. Used by one operation at a
  // time (closed loop) or by the sending thread only (open loop).
  struct Lane {
    Client* client;
    Shard* shard;
    KeyChooser keys;
    OpMix mix;
  };

  std::string Warmup();
  void RunClosedLoop(uint64_t t0);
  void RunOpenLoop(uint64_t t0);
  void Issue(Lane* lane);
  void LaneDone();
  // Starts operation `index` on `lane`; latency counts from `origin_ns`; `next` runs after it
  // completes (on the client's I/O thread).
  void Start(Lane& lane, uint64_t index, uint64_t origin_ns, std::function<void()> next);
  void Finish(Shard* shard, uint64_t origin_ns, bool is_write, const Error* error,
              std::optional<bool> found);
  std::string_view Value(uint64_t index) const {
    return std::string_view(value_buf_).substr((index * 64) % kValueWindow, o_.value_bytes);
  }
  void Progress();

  const RunOptions& o_;
  ReadOptions read_opts_;
  WriteOptions write_opts_;
  std::string value_buf_;
  std::shared_ptr<const ZipfianTable> zipf_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  uint64_t t0_ = 0;

  std::atomic<uint64_t> next_op_{0};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> completed_{0}, failed_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  int active_lanes_ = 0;     // guarded by mu_
  uint64_t in_flight_ = 0;   // open loop; guarded by mu_
  bool finished_ = false;    // guarded by mu_: stops the progress thread
};

std::string Bench::Warmup() {
  // Each client learns the ring before the clock starts; a missing key is a fine answer.
  const std::string key = FormatKey(o_.key_offset, o_.key_bytes);
  for (auto& c : clients_) {
    auto got = c->Get(key, read_opts_);
    if (!got.ok()) {
      const ErrorCode code = got.error().code();
      if (code == ErrorCode::kDisconnected || code == ErrorCode::kUnauthorized ||
          code == ErrorCode::kProtocol || code == ErrorCode::kInvalidArgument) {
        return "warm-up get failed: " + got.error().ToString();
      }
    }
  }
  return {};
}

void Bench::Finish(Shard* shard, uint64_t origin_ns, bool is_write, const Error* error,
                   std::optional<bool> found) {
  const uint64_t now = NowNs();
  const uint64_t latency = now > origin_ns ? now - origin_ns : 0;
  {
    std::lock_guard lock(shard->mu);
    ++shard->ops;
    shard->last_done_ns = std::max(shard->last_done_ns, now);
    if (error != nullptr) {
      ++shard->errors;
      ++shard->errors_by_class[std::string(ErrorCodeName(error->code()))];
    } else {
      shard->all.Record(latency);
      (is_write ? shard->write : shard->read).Record(latency);
      if (found.has_value()) {
        ++shard->reads;
        if (*found) ++shard->reads_found;
      }
    }
  }
  completed_.fetch_add(1, std::memory_order_relaxed);
  if (error != nullptr) failed_.fetch_add(1, std::memory_order_relaxed);
}

void Bench::Start(Lane& lane, uint64_t index, uint64_t origin_ns, std::function<void()> next) {
  const OpKind kind = lane.mix.Next();
  uint64_t k;
  if (kind == OpKind::kInsert) {
    k = index % o_.keys;
  } else if (o_.workload.hot) {
    k = Fnv1a64(lane.keys.Next()) % o_.keys;  // the hot set, spread over the key range
  } else {
    k = lane.keys.Next();
  }
  std::string key = FormatKey(k + o_.key_offset, o_.key_bytes);
  Shard* shard = lane.shard;
  Client* client = lane.client;
  switch (kind) {
    case OpKind::kRead:
      client->GetAsync(key, read_opts_, [this, shard, origin_ns, next](Expected<GetResult> r) {
        if (r.ok()) {
          Finish(shard, origin_ns, false, nullptr, r->found);
        } else {
          Finish(shard, origin_ns, false, &r.error(), std::nullopt);
        }
        next();
      });
      break;
    case OpKind::kInsert:
    case OpKind::kUpdate:
      client->PutAsync(key, Value(index), write_opts_,
                       [this, shard, origin_ns, next](Expected<PutResult> r) {
                         Finish(shard, origin_ns, true, r.ok() ? nullptr : &r.error(),
                                std::nullopt);
                         next();
                       });
      break;
    case OpKind::kReadModifyWrite:
      client->GetAsync(
          key, read_opts_,
          [this, shard, client, origin_ns, next, index, key](Expected<GetResult> r) {
            if (!r.ok() || stop_.load()) {
              Finish(shard, origin_ns, true, r.ok() ? nullptr : &r.error(), std::nullopt);
              next();
              return;
            }
            WriteOptions w = write_opts_;
            w.context = std::move(r->context);
            const bool found = r->found;
            client->PutAsync(key, Value(index), w,
                             [this, shard, origin_ns, next, found](Expected<PutResult> p) {
                               Finish(shard, origin_ns, true, p.ok() ? nullptr : &p.error(),
                                      found);
                               next();
                             });
          });
      break;
  }
}

void Bench::LaneDone() {
  std::lock_guard lock(mu_);
  if (--active_lanes_ == 0) cv_.notify_all();
}

void Bench::Issue(Lane* lane) {
  // A client that completed synchronously on this thread would recurse here; bound the depth so
  // an error storm cannot overflow the stack.
  thread_local int depth = 0;
  const uint64_t i = next_op_.fetch_add(1, std::memory_order_relaxed);
  if (stop_.load(std::memory_order_relaxed) || (o_.ops > 0 && i >= o_.ops) || depth > 64) {
    LaneDone();
    return;
  }
  ++depth;
  Start(*lane, i, NowNs(), [this, lane] { Issue(lane); });
  --depth;
}

void Bench::RunClosedLoop(uint64_t t0) {
  {
    std::lock_guard lock(mu_);
    active_lanes_ = static_cast<int>(lanes_.size());
  }
  for (auto& lane : lanes_) Issue(lane.get());
  const auto deadline = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(t0)) +
                        std::chrono::duration<double>(o_.duration_s > 0 ? o_.duration_s : 1e7);
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return active_lanes_ == 0; });
  stop_ = true;
  // Operations in flight finish within their request timeout; allow that and a margin.
  cv_.wait_for(lock, o_.request_timeout * 2 + std::chrono::seconds(5),
               [&] { return active_lanes_ == 0; });
}

void Bench::RunOpenLoop(uint64_t t0) {
  const OpenLoopSchedule schedule(t0, o_.rate_per_s);
  const uint64_t end_ns =
      o_.duration_s > 0 ? t0 + static_cast<uint64_t>(o_.duration_s * 1e9) : UINT64_MAX;
  for (uint64_t i = 0;; ++i) {
    if (o_.ops > 0 && i >= o_.ops) break;
    const uint64_t intended = schedule.IntendedNs(i);
    if (intended >= end_ns) break;
    std::this_thread::sleep_until(
        std::chrono::steady_clock::time_point(std::chrono::nanoseconds(intended)));
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return in_flight_ < o_.open_loop_in_flight_max; });
      ++in_flight_;
    }
    Lane& lane = *lanes_[i % lanes_.size()];
    Start(lane, i, intended, [this] {
      std::lock_guard lock(mu_);
      --in_flight_;
      cv_.notify_all();
    });
  }
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, o_.request_timeout * 2 + std::chrono::seconds(5),
               [&] { return in_flight_ == 0; });
  stop_ = true;
}

void Bench::Progress() {
  uint64_t last_ops = 0;
  uint64_t last_ns = t0_;
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::duration<double>(o_.progress_s),
                       [&] { return finished_; })) {
    const uint64_t now = NowNs();
    const uint64_t ops = completed_.load();
    const double since = static_cast<double>(now - t0_) / 1e9;
    const double rate = static_cast<double>(ops - last_ops) / (static_cast<double>(now - last_ns) / 1e9);
    std::fprintf(stderr, "kvbench %s: %6.1fs %10llu ops %9.0f ops/s now, %llu errors\n",
                 std::string(o_.workload.name).c_str(), since,
                 static_cast<unsigned long long>(ops), rate,
                 static_cast<unsigned long long>(failed_.load()));
    last_ops = ops;
    last_ns = now;
  }
}

RunResult Bench::Go() {
  RunResult result;
  read_opts_.keyspace = o_.keyspace;
  read_opts_.consistency = o_.consistency;
  write_opts_.keyspace = o_.keyspace;
  write_opts_.consistency = o_.consistency;

  std::mt19937_64 rng(o_.seed);
  value_buf_.resize(kValueWindow + o_.value_bytes);
  for (char& c : value_buf_) c = static_cast<char>('a' + rng() % 26);
  const uint64_t chooser_keys = o_.workload.hot ? std::max<uint64_t>(1, o_.hot_keys) : o_.keys;
  if (o_.zipfian) zipf_ = std::make_shared<ZipfianTable>(chooser_keys, o_.zipf_theta);

  const int connections = o_.connections > 0 ? o_.connections : std::min(o_.clients, 4);
  for (int c = 0; c < connections; ++c) {
    ClientOptions co;
    co.contact_points = o_.hosts;
    co.request_timeout = o_.request_timeout;
    co.client_name = fmt::format("kvbench-{}", c);
    clients_.push_back(std::make_unique<Client>(co));
    shards_.push_back(std::make_unique<Shard>());
  }
  const int lanes = o_.rate_per_s > 0 ? connections : o_.clients * o_.pipeline;
  for (int l = 0; l < lanes; ++l) {
    const size_t c = static_cast<size_t>(l % connections);
    lanes_.push_back(std::make_unique<Lane>(
        Lane{clients_[c].get(), shards_[c].get(),
             KeyChooser(chooser_keys, zipf_, o_.seed * 7919 + static_cast<uint64_t>(l)),
             OpMix(o_.workload, o_.seed * 104729 + static_cast<uint64_t>(l))}));
  }
  result.fatal = Warmup();
  if (!result.fatal.empty()) return result;

  t0_ = NowNs();
  std::thread progress;
  if (o_.progress_s > 0) progress = std::thread([this] { Progress(); });
  if (o_.rate_per_s > 0) {
    RunOpenLoop(t0_);
  } else {
    RunClosedLoop(t0_);
  }
  {
    std::lock_guard lock(mu_);
    finished_ = true;
    cv_.notify_all();
  }
  if (progress.joinable()) progress.join();
  // Destroying the clients cancels anything still pending (a run that overran its bound); their
  // callbacks see stop_ and start nothing new.
  stop_ = true;
  clients_.clear();

  uint64_t last_done = t0_;
  for (auto& s : shards_) {
    std::lock_guard lock(s->mu);
    result.ops += s->ops;
    result.errors += s->errors;
    result.reads += s->reads;
    result.reads_found += s->reads_found;
    for (const auto& [k, v] : s->errors_by_class) result.errors_by_class[k] += v;
    result.all.Merge(s->all);
    result.read.Merge(s->read);
    result.write.Merge(s->write);
    last_done = std::max(last_done, s->last_done_ns);
  }
  result.elapsed_s = static_cast<double>(last_done - t0_) / 1e9;
  return result;
}

}  // namespace

RunResult Run(const RunOptions& options) {
  Bench bench(options);
  return bench.Go();
}

}  // namespace ringkv::bench
