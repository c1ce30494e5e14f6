#include "node/range_streamer.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace ringkv {

std::string StreamTask::Id() const {
  return fmt::format("{} {} {}{}", keyspace, range.start, range.end,
                     copy_of.empty() ? "" : " from " + copy_of);
}

uint64_t StreamBytes(std::string_view key, const VersionedObject& object) {
  uint64_t bytes = key.size() + 16 * object.clock().size();
  for (const auto& sibling : object.siblings()) bytes += sibling.value.size() + 32;
  return bytes;
}

ScanSpec StreamPageSpec(const std::string& keyspace, const TokenRange& range, bool has_after,
                        Token after_token, const std::string& after_key, uint32_t limit) {
  ScanSpec spec;
  spec.keyspace = keyspace;
  spec.start_token = range.start;
  spec.end_token = range.end;
  spec.has_after = has_after;
  spec.after_token = after_token;
  spec.after_key = after_key;
  spec.limit = limit;
  return spec;
}

int64_t StreamThrottleUs(uint64_t bytes, double bytes_per_s, int64_t elapsed_us) {
  if (bytes_per_s <= 0) return 0;
  const auto min_us = static_cast<int64_t>(static_cast<double>(bytes) * 1e6 / bytes_per_s);
  return std::max<int64_t>(0, min_us - elapsed_us);
}

RangeStreamer::RangeStreamer(const ClusterView* view, KvService* service, PeerTransport* peers,
                             Timers* timers, const Clock* clock, Logger* log,
                             StreamOptions options, StreamProgress* progress)
    : view_(view),
      service_(service),
      peers_(peers),
      timers_(timers),
      clock_(clock),
      log_(log),
      options_(options),
      progress_(progress) {}

void RangeStreamer::Run(std::vector<StreamTask> tasks,
                        std::function<void(const StreamTask&)> range_done,
                        std::function<void()> done) {
  tasks_ = std::move(tasks);
  next_ = 0;
  range_done_ = std::move(range_done);
  done_ = std::move(done);
  Next();
}

void RangeStreamer::Next() {
  if (next_ >= tasks_.size()) {
    progress_->current.clear();
    auto done = std::move(done_);
    return done();
  }
  Page(0, false, 0, {});
}

void RangeStreamer::Page(size_t source, bool has_after, Token after_token, std::string after_key) {
  const StreamTask& task = tasks_[next_];
  if (source >= task.sources.size()) {
    RINGKV_LOG(log_, kWarn, "{}: no replica of {} answered; retrying in {} ms", progress_->what,
               task.Id(), options_.retry_ms);
    return (void)timers_->After(options_.retry_ms * 1000,
                                [this, has_after, after_token, after_key] {
                                  Page(0, has_after, after_token, after_key);
                                });
  }
  const std::string& from = task.sources[source];
  if (from == view_->self() || !view_->IsUp(from)) {
    return Page(source + 1, has_after, after_token, std::move(after_key));
  }
  progress_->current = fmt::format("{} from {}", task.Id(), from);
  const ScanSpec spec = StreamPageSpec(task.keyspace, task.range, has_after, after_token,
                                       after_key, options_.page_entries);
  const int64_t started_us = clock_->MonoUs();
  peers_->ReplicaScan(
      from, spec, started_us + options_.page_timeout_ms * 1000,
      [this, source, has_after, after_token, after_key, started_us](Result<ReplicaScanReply> r) {
        if (!r.ok()) {
          RINGKV_LOG(log_, kInfo, "{}: streaming {} from {} failed: {}", progress_->what,
                     tasks_[next_].Id(), tasks_[next_].sources[source], r.status().ToString());
          return Page(source + 1, has_after, after_token, after_key);
        }
        auto reply = std::make_shared<ReplicaScanReply>(std::move(r).value());
        auto outstanding = std::make_shared<size_t>(reply->entries.size() + 1);
        auto failed = std::make_shared<bool>(false);
        uint64_t bytes = 0;
        for (const auto& e : reply->entries) bytes += StreamBytes(e.key, e.object);
        auto next = [this, reply, outstanding, failed, source, has_after, after_token, after_key,
                     started_us, bytes] {
          if (--*outstanding > 0) return;
          if (*failed) {  // a local write failed: take the page again
            return (void)timers_->After(options_.retry_ms * 1000,
                                        [this, source, has_after, after_token, after_key] {
                                          Page(source, has_after, after_token, after_key);
                                        });
          }
          progress_->keys += reply->entries.size();
          progress_->bytes += bytes;
          // Throttle: a page may not take less time than its bytes allow.
          const int64_t wait_us =
              StreamThrottleUs(bytes, options_.bytes_per_s, clock_->MonoUs() - started_us);
          auto go_on = [this, reply, source] {
            if (!reply->more || reply->entries.empty()) {
              range_done_(tasks_[next_]);
              ++progress_->ranges_done;
              ++next_;
              return Next();
            }
            const auto& last = reply->entries.back();
            Page(source, true, last.token, last.key);
          };
          if (wait_us > 0) {
            timers_->After(wait_us, go_on);
          } else {
            go_on();
          }
        };
        for (const auto& e : reply->entries) {
          service_->ReplicaWrite(tasks_[next_].keyspace, e.key, e.object,
                                 [this, next, failed](Status s) {
                                   if (!s.ok()) {
                                     *failed = true;
                                     RINGKV_LOG(log_, kWarn, "{}: storing a streamed key failed: {}",
                                                progress_->what, s.ToString());
                                   }
                                   next();
                                 });
        }
        next();
      });
}

}  // namespace ringkv
