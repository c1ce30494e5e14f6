#include "node/anti_entropy.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "node/range_streamer.h"
#include "node/tombstone_gc.h"

namespace ringkv {

struct AntiEntropy::Run {
  Task task;
  std::string address;
  Exchange exchange;
  bool all_repaired = true;
  Run(Task t, std::string a, TreeShape shape, ExchangeOptions o)
      : task(std::move(t)), address(std::move(a)), exchange(shape, task.range, o) {}
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

int64_t PaceDelayUs(uint64_t bytes, int64_t elapsed_us, uint64_t bytes_per_s) {
  if (bytes_per_s == 0) return 0;
  const auto due_us = static_cast<int64_t>(static_cast<double>(bytes) * 1e6 /
                                           static_cast<double>(bytes_per_s));
  return std::max<int64_t>(0, due_us - elapsed_us);
}

int64_t AntiEntropy::Pace() const {
  if (report_.what != "round") return 0;
  return PaceDelayUs(report_.bytes, clock_->MonoUs() - started_us_, options_.round_bytes_per_s);
}

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
  if (Status s = view_->RefuseWhileMoving("repair"); !s.ok()) return s;
  for (const auto& [name, def] : keyspaces_->all()) {
    if (keyspace.empty() || name == keyspace) {
      if (Status s = trees_->ReadyStatus(name); !s.ok()) return s;
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
        timers_->After(Pace(), [=, this] {
          if (weak.lock()) RepairKeys(run, i + 1);
        });
      };
      auto failed = [=, this](Status s) {
        if (!weak.lock() || s.ok()) return;
        run->all_repaired = false;
        report_.last_error = s.ToString();
      };
      // A dead object past the grace period goes nowhere it is missing (tombstone_gc.h).
      const int64_t now_us = clock_->NowUs(), grace_us = options_.gc_grace_s * 1'000'000;
      if (theirs->found && (mine->found || !DeadPastGrace(theirs->object, now_us, grace_us))) {
        ++*pending;
        report_.bytes += StreamBytes(key, theirs->object);
        service_->ReplicaWrite(keyspace, key, theirs->object, [=](Status s) {
          failed(s);
          next();
        });
      }
      if (mine->found && (theirs->found || !DeadPastGrace(mine->object, now_us, grace_us))) {
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

void AntiEntropy::AskRoot(const std::string& peer, const std::string& keyspace,
                          const TokenRange& range, std::function<void(Result<uint64_t>)> done) {
  auto address = view_->AddressOf(peer);
  if (!address || !view_->IsUp(peer)) {
    return done(Status::Unavailable(fmt::format("{} is down", peer), 1, 0));
  }
  aae_->AskAae(*address, keyspace, range, RootRequest{trees_->shape()}, options_.request_timeout_ms,
               [done = std::move(done)](Result<AaeAnswer> a) {
                 if (!a.ok()) return done(a.status());
                 const auto* root = std::get_if<RootAnswer>(&a.value());
                 if (root == nullptr) return done(Status::Protocol("not a root answer"));
                 done(root->root);
               });
}

void AntiEntropy::Roots(const std::string& keyspace,
                        std::function<void(Result<std::vector<RangeRoots>>)> done) {
  if (Status s = keyspaces_->Find(keyspace).status(); !s.ok()) return done(s);
  if (Status s = trees_->ReadyStatus(keyspace); !s.ok()) return done(s);
  auto out = std::make_shared<std::vector<RangeRoots>>();
  auto outstanding = std::make_shared<size_t>(1);
  auto finish = [out, outstanding, done] {
    if (--*outstanding == 0) done(std::move(*out));
  };
  for (const auto& r : trees_->Ranges(keyspace)) {
    RangeRoots rr{r.range, r.replicas, {}, 0};
    int64_t converged = std::numeric_limits<int64_t>::max();
    for (const auto& replica : r.replicas) {
      if (replica == view_->self()) continue;
      auto agreed = r.agreed_us.find(replica);
      converged = std::min(converged, agreed == r.agreed_us.end() ? 0 : agreed->second);
    }
    rr.converged_us = converged == std::numeric_limits<int64_t>::max() ? 0 : converged;
    rr.roots.resize(r.replicas.size());
    out->push_back(std::move(rr));
    const size_t at = out->size() - 1;
    for (size_t i = 0; i < r.replicas.size(); ++i) {
      if (r.replicas[i] == view_->self()) {
        (*out)[at].roots[i] = fmt::format("{:016x}", r.root);
        continue;
      }
      ++*outstanding;
      AskRoot(r.replicas[i], keyspace, r.range, [out, at, i, finish](Result<uint64_t> root) {
        (*out)[at].roots[i] = root.ok() ? fmt::format("{:016x}", root.value())
                                        : root.status().ToString();
        finish();
      });
    }
  }
  finish();
}

void AntiEntropy::FingerprintOf(const std::string& keyspace,
                                std::function<void(Result<Fingerprint>)> done) {
  auto def = keyspaces_->Find(keyspace);
  if (!def.ok()) return done(def.status());
  if (Status s = trees_->ReadyStatus(keyspace); !s.ok()) return done(s);
  std::map<Token, uint64_t> mine;
  for (const auto& r : trees_->Ranges(keyspace)) mine[r.range.end] = r.root;
  const Ring& ring = view_->ring();
  auto result = std::make_shared<Fingerprint>();
  result->ranges = ring.token_count();
  auto outstanding = std::make_shared<size_t>(1);
  auto finish = [result, outstanding, done] {
    if (--*outstanding == 0) done(*result);
  };
  std::vector<uint32_t> replicas;
  for (size_t v = 0; v < ring.token_count(); ++v) {
    const TokenRange range = ring.RangeOf(v);
    if (auto it = mine.find(range.end); it != mine.end()) {
      result->hash ^= it->second;
      continue;
    }
    ring.ReplicasOfVNode(v, def->replication_factor, &replicas);
    std::vector<std::string> names;
    for (uint32_t r : replicas) names.push_back(ring.nodes()[r]);
    // The first replica that answers; the next one if it does not. The function refers to itself
    // weakly; the answer it waits for holds it.
    auto ask = std::make_shared<std::function<void(size_t)>>();
    std::weak_ptr<std::function<void(size_t)>> weak_ask = ask;
    ++*outstanding;
    *ask = [this, weak_ask, names, keyspace, range, result, finish](size_t i) {
      if (i >= names.size()) {
        ++result->ranges_missing;
        return finish();
      }
      AskRoot(names[i], keyspace, range,
              [next = weak_ask.lock(), i, result, finish](Result<uint64_t> root) {
                if (!root.ok()) {
                  result->last_error = root.status().ToString();
                  return (*next)(i + 1);
                }
                result->hash ^= root.value();
                finish();
              });
    };
    (*ask)(0);
  }
  finish();
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
  timers_->After(Pace(), [weak] {
    if (auto self = weak.lock()) (*self)->Next();
  });
}

}  // namespace ringkv
