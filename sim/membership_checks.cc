// The membership mode's end-of-run checks, and the false-conviction count it keeps during the
// run (sim/sim_membership.h lists the invariants).
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>

#include "common/hash.h"
#include "common/token.h"
#include "sim/membership_harness.h"
#include "storage/storage.h"

namespace ringkv::sim::membership_internal {

void Harness::CountFalseConvictions() {
  if (options_.partitions || options_.kill_joiner || cluster_.faults().loss > 0) return;
  const auto live = LiveNames();
  for (const std::string& observer : live) {
    for (const std::string& subject : live) {
      if (!nodes_[observer].view->IsAlive(subject)) {
        if (result_.false_convictions++ == 0) {
          Violation(fmt::format("{} convicted {} at {} ms, both live and every link up", observer,
                                subject, world_.now_us() / 1000));
        }
      }
    }
  }
}

void Harness::CleanUpThenCheck(int attempts_left) {
  bool waiting = false;
  for (const std::string& name : LiveNames()) {
    MNode& m = nodes_[name];
    if (!m.cleanup) {
      KvService* kv = m.sim->kv();
      m.cleanup = std::make_unique<Cleanup>(
          m.view.get(), kv, cluster_.keyspaces(), m.sim->timers(), m.sim->clock(), m.log.get(),
          [kv] {  // a fresh actor, as RenewActor takes one
            kv->set_actor(Mix64(kv->actor() + 0x9e3779b97f4a7c15ULL));
            return Status::Ok();
          });
    }
    const std::string& state = m.cleanup->progress().state;
    if (state == "done") continue;
    if (state.rfind("stopped", 0) == 0) {
      Violation(fmt::format("cleanup on {} {}", name, state));
      continue;
    }
    waiting = true;
    if (m.cleanup->running()) continue;
    // Refused (a member not yet seen up again after a heal, say): asked again next tick.
    if (Status s = m.cleanup->Start(""); !s.ok() && attempts_left == 0) {
      Violation(fmt::format("cleanup on {} refused: {}", name, s.ToString()));
      waiting = false;
    }
  }
  if (!waiting || attempts_left == 0) return Check();
  world_.After(kTickUs, [this, attempts_left] { CleanUpThenCheck(attempts_left - 1); });
}

bool Harness::LostWithANode(const std::string& owner, const Acked& a) const {
  if (hints_lost_.count(owner + '\0' + a.key) > 0) return true;
  auto stopped = stopped_at_ms_.find(a.via);
  return stopped != stopped_at_ms_.end() && stopped->second >= a.at_ms &&
         stopped->second <= a.at_ms + cluster_.options().request_timeout_ms;
}

void Harness::Check() {
  std::string why;
  if (!Settled(&why)) Violation("not settled at the check: " + why);
  const auto live = LiveNames();
  const Ring ring = nodes_[live.front()].view->ring();
  // Owners first, on the storage: the ALL reads below would repair what they find missing.
  for (const Acked& a : acked_) {
    const std::string& key = a.key;
    const std::string& value = a.value;
    const auto owners = ring.PreferenceList(TokenOf(key), options_.replication_factor);
    std::string holders;  // live nodes holding it, for the report
    std::vector<std::string> missing;
    for (const std::string& name : live) {
      MNode& m = nodes_[name];
      auto stored = m.sim->storage()->Get(EncodeStorageKey(kKeyspace, TokenOf(key), key));
      const bool holds = stored.ok() && HasValue(stored.value().siblings(), value);
      if (holds) holders += (holders.empty() ? "" : ",") + name;
      const bool owner = std::find(owners.begin(), owners.end(), name) != owners.end();
      if (owner) {
        ++result_.copies_checked;
        if (!holds) ++result_.missing_owner_copies;
        if (!holds) missing.push_back(name);
      } else if (stored.ok()) {
        ++result_.orphans;
        Violation(fmt::format("{} still holds {} after cleanup, not being one of its owners",
                              name, key));
      }
    }
    for (const std::string& name : missing) {
      if (LostWithANode(name, a)) {
        ++result_.missing_hint_lost;
        continue;
      }
      if (!options_.owners_strict) break;
      Violation(fmt::format("owner {} does not hold {}, acknowledged through {} at {} ms (held "
                            "by {})", name, key, a.via, a.at_ms, holders.empty() ? "none" : holders));
    }
  }
  RepairThenCheck(40);
}

void Harness::RepairThenCheck(int attempts_left) {
  bool waiting = false;
  for (const std::string& name : LiveNames()) {
    AntiEntropy* ae = nodes_[name].sim->anti_entropy();
    if (repaired_.count(name) > 0) continue;
    waiting = true;
    if (ae->running()) continue;
    const RepairReport& r = ae->report();
    if (r.what == std::string("repair ") + kKeyspace && r.state == "done" && r.failures == 0) {
      result_.anti_entropy_keys_repaired += r.keys_repaired;  // of the last, successful, run
      repaired_.insert(name);
      continue;
    }
    if (Status s = ae->Repair(kKeyspace); !s.ok() && attempts_left == 0) {
      Violation(fmt::format("anti-entropy repair on {} refused: {}", name, s.ToString()));
    }
  }
  if (!waiting) return CheckRepaired();
  if (attempts_left == 0) {
    Violation(fmt::format("anti-entropy repair unfinished on {} of {} live nodes",
                          LiveNames().size() - repaired_.size(), LiveNames().size()));
    return CheckRepaired();
  }
  world_.After(kTickUs, [this, attempts_left] { RepairThenCheck(attempts_left - 1); });
}

void Harness::CheckRepaired() {
  const auto live = LiveNames();
  const Ring ring = nodes_[live.front()].view->ring();
  for (const Acked& a : acked_) {
    for (const std::string& owner :
         ring.PreferenceList(TokenOf(a.key), options_.replication_factor)) {
      MNode* m = Live(owner);
      if (m == nullptr) continue;  // not settled: reported by Check
      auto stored = m->sim->storage()->Get(EncodeStorageKey(kKeyspace, TokenOf(a.key), a.key));
      if (!stored.ok() || !HasValue(stored.value().siblings(), a.value)) {
        Violation(fmt::format("owner {} does not hold {} after one anti-entropy repair on every "
                              "live node", owner, a.key));
      }
    }
  }
  ReadAll();
}

void Harness::ReadAll() {
  const auto live = LiveNames();
  auto unanswered = std::make_shared<size_t>(0);
  for (const std::string& name : live) {
    for (const Acked& a : acked_) {
      const std::string key = a.key, value = a.value;
      ++*unanswered;
      RequestOptions ro;
      ro.consistency = Consistency::kAll;
      ro.timeout_ms = 5000;
      nodes_[name].sim->coordinator()->Get(
          kKeyspace, key, ro, [this, unanswered, name, key, value](Result<ReadReply> r) {
            --*unanswered;
            if (!r.ok()) {
              Violation(fmt::format("ALL read of {} through {}: {}", key, name,
                                    r.status().ToString()));
            } else if (!HasValue(r.value().siblings, value)) {
              Violation(fmt::format("ALL read of acknowledged {} through {} lost it", key, name));
            }
          });
    }
  }
  world_.After(8'000'000, [this, unanswered] {
    if (*unanswered > 0) Violation(fmt::format("{} ALL reads never answered", *unanswered));
    finished_ = true;
  });
}

}  // namespace ringkv::sim::membership_internal
