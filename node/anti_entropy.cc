#include "node/anti_entropy.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

#include "node/range_streamer.h"

namespace ringkv {

struct AntiEntropy::Run {
  Task task;
  std::string address;
  Exchange exchange;
  bool all_repaired = true;
  Run(Task t, std::string a, TreeShape shape, ExchangeOptions o)
      : task(std::move(t)), address(std::move(a)), exchange(shape, o) {}
};

AntiEntropy::AntiEntropy(const ClusterView* view, AaeTrees* trees, KvService* service,
                         PeerTransport* peers, AaeTransport* aae, Timers* timers,
                         const Clock* clock, const KeyspaceCatalog* keyspaces, Logger* log,
                         AntiEntropyOptions options)
    : view_(view),
      trees_(trees),
      service_(service),
      peers_(peers),
      aae_(aae),
      timers_(timers),
      clock_(clock),
      keyspaces_(keyspaces),
      log_(log),
      options_(options),
      alive_(std::make_shared<AntiEntropy*>(this)) {}

AntiEntropy::~AntiEntropy() { alive_.reset(); }

void AntiEntropy::Start() {
  if (options_.interval_ms <= 0) return;
  std::weak_ptr<AntiEntropy*> weak = alive_;
  timers_->After(options_.interval_ms * 1000, [weak] {
    if (auto self = weak.lock()) (*self)->Round();
  });
}

void AntiEntropy::Round() {
  Start();  // the next one
  if (running_ || !view_->Moving().empty()) return;
  report_ = RepairReport{};
  report_.what = "round";
  for (const auto& [name, def] : keyspaces_->all()) Plan(name, /*primary_only=*/true);
  running_ = true;
  started_us_ = clock_->MonoUs();
  report_.state = "running";
  Next();
}

Status AntiEntropy::Repair(const std::string& keyspace) {
  if (running_) {
    return Status::InvalidArgument(fmt::format("anti-entropy is busy ({}); try again once it is "
                                               "done", report_.what));
  }
  if (!keyspace.empty()) {
    if (Status s = keyspaces_->Find(keyspace).status(); !s.ok()) return s;
  }
  for (const auto& name : view_->Moving()) {
    return Status::InvalidArgument(fmt::format(
        "{} is {}; repair once the range movement is over", name,
        gossip::StatusName(view_->members().at(name).status)));
  }
  for (const auto& [name, def] : keyspaces_->all()) {
    if ((keyspace.empty() || name == keyspace) && !trees_->Ready(name)) {
      return Status::Unavailable(
          fmt::format("not ready: the anti-entropy trees of '{}' are being built", name), 1, 0);
    }
  }
  report_ = RepairReport{};
  report_.what = keyspace.empty() ? "repair" : "repair " + keyspace;
  for (const auto& [name, def] : keyspaces_->all()) {
    if (keyspace.empty() || name == keyspace) Plan(name, /*primary_only=*/false);
  }
  running_ = true;
  started_us_ = clock_->MonoUs();
  report_.state = "running";
  RINGKV_LOG(log_, kInfo, "anti-entropy: {}: {} exchange(s) to make", report_.what, tasks_.size());
  Next();
  return Status::Ok();
}

void AntiEntropy::Plan(const std::string& keyspace, bool primary_only) {
  for (const auto& r : trees_->Ranges(keyspace)) {
    if (primary_only && r.replicas.front() != view_->self()) continue;
    for (const auto& peer : r.replicas) {
      if (peer == view_->self()) continue;
      tasks_.push_back(Task{keyspace, r.range, peer});
      ++report_.ranges_total;
    }
  }
}

void AntiEntropy::Next() {
  if (tasks_.empty()) {
    running_ = false;
    report_.state = "done";
    report_.elapsed_ms = (clock_->MonoUs() - started_us_) / 1000;
    if (report_.what != "round" || report_.keys_differing > 0 || report_.failures > 0) {
      RINGKV_LOG(log_, kInfo,
                 "anti-entropy: {} done: {} exchange(s), {} agreed, {} failed, {} key(s) "
                 "differing, {} repaired, {} byte(s), {} ms",
                 report_.what, report_.ranges_done, report_.ranges_agreed, report_.failures,
                 report_.keys_differing, report_.keys_repaired, report_.bytes,
                 report_.elapsed_ms);
    }
    return;
  }
  Task task = std::move(tasks_.front());
  tasks_.pop_front();
  auto address = view_->AddressOf(task.peer);
  auto run = std::make_shared<Run>(std::move(task), address.value_or(""), trees_->shape(),
                                   options_.exchange);
  if (!address || !view_->IsUp(run->task.peer)) {
    return Finish(run, Status::Unavailable(fmt::format("{} is down", run->task.peer), 1, 0));
  }
  Ask(std::move(run));
}

void AntiEntropy::Ask(std::shared_ptr<Run> run) {
  const AaeRequest request = run->exchange.request();
  auto local = trees_->Answer(run->task.keyspace, run->task.range, request);
  if (!local.ok()) return Finish(run, local.status());
  std::weak_ptr<AntiEntropy*> weak = alive_;
  aae_->AskAae(run->address, run->task.keyspace, run->task.range, request,
               options_.request_timeout_ms,
               [weak, run, local = std::move(local).value()](Result<AaeAnswer> answer) {
                 auto self = weak.lock();
                 if (!self) return;
                 Exchange& ex = run->exchange;
                 if (!answer.ok()) {
                   ex.Abort(answer.status());
                 } else {
                   ex.OnAnswers(local, answer.value());
                 }
                 if (ex.state() == Exchange::State::kFailed) return (*self)->Finish(run, ex.status());
                 if (ex.state() != Exchange::State::kDone) return (*self)->Ask(run);
                 (*self)->report_.bytes += ex.stats().request_bytes + ex.stats().answer_bytes_b;
                 (*self)->report_.keys_differing += ex.diffs().size();
                 (*self)->RepairKeys(run, 0);
               });
}

void AntiEntropy::RepairKeys(std::shared_ptr<Run> run, size_t i) {
  const auto& diffs = run->exchange.diffs();
  if (i >= diffs.size()) {
    if (diffs.empty()) ++report_.ranges_agreed;
    if (run->all_repaired) {
      trees_->MarkAgreed(run->task.keyspace, run->task.range, run->task.peer, clock_->NowUs());
    }
    return Finish(run, run->all_repaired ? Status::Ok()
                                         : Status::Unavailable("some repairs failed", 1, 0));
  }
  // Each side's object merged into the other: concurrent values become siblings, and nothing
  // newer is overwritten. TODO(perf): a window of keys at once instead of one.
  const std::string& keyspace = run->task.keyspace;
  const std::string key = diffs[i].key;
  const int64_t deadline_us = clock_->MonoUs() + options_.request_timeout_ms * 1000;
  std::weak_ptr<AntiEntropy*> weak = alive_;
  service_->ReplicaRead(keyspace, key, [=, this](Result<ReplicaReadReply> mine) {
    if (!weak.lock()) return;
    peers_->ReplicaRead(run->task.peer, keyspace, key, deadline_us,
                        [=, this](Result<ReplicaReadReply> theirs) {
      if (!weak.lock()) return;
      if (!mine.ok() || !theirs.ok()) {
        run->all_repaired = false;
        report_.last_error = (!mine.ok() ? mine.status() : theirs.status()).ToString();
        return RepairKeys(run, i + 1);
      }
      auto pending = std::make_shared<int>(1);
      auto next = [=, this] {
        if (--*pending > 0 || !weak.lock()) return;
        ++report_.keys_repaired;
        ++stats_.keys_repaired;
        timers_->After(0, [=, this] {
          if (weak.lock()) RepairKeys(run, i + 1);
        });
      };
      auto failed = [=, this](Status s) {
        if (!weak.lock() || s.ok()) return;
        run->all_repaired = false;
        report_.last_error = s.ToString();
      };
      if (theirs->found) {
        ++*pending;
        report_.bytes += StreamBytes(key, theirs->object);
        service_->ReplicaWrite(keyspace, key, theirs->object, [=](Status s) {
          failed(s);
          next();
        });
      }
      if (mine->found) {
        ++*pending;
        report_.bytes += StreamBytes(key, mine->object);
        peers_->ReplicaWrite(run->task.peer, keyspace, key, mine->object, deadline_us,
                             [=](Status s) {
                               failed(s);
                               next();
                             });
      }
      next();
    });
  });
}

void AntiEntropy::Finish(std::shared_ptr<Run> run, Status s) {
  ++report_.ranges_done;
  ++stats_.exchanges;
  stats_.bytes = report_.bytes;
  if (!s.ok()) {
    ++report_.failures;
    ++stats_.exchanges_failed;
    report_.last_error = fmt::format("{} with {}: {}", run->task.keyspace, run->task.peer,
                                     s.ToString());
  }
  std::weak_ptr<AntiEntropy*> weak = alive_;
  timers_->After(0, [weak] {
    if (auto self = weak.lock()) (*self)->Next();
  });
}

}  // namespace ringkv
