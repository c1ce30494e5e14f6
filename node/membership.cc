#include "node/membership.h"

#include <algorithm>
#include <set>

namespace ringkv {

Membership::Membership(ClusterView* view, KeyspaceCatalog* keyspaces,
                       MembershipTransport* transport, Timers* timers, Logger* log,
                       MembershipOptions options, std::function<void(const MemberInfo&)> on_member,
                       std::function<void(const KeyspaceDef&)> on_keyspace)
    : view_(view),
      keyspaces_(keyspaces),
      transport_(transport),
      timers_(timers),
      log_(log),
      options_(std::move(options)),
      on_member_(std::move(on_member)),
      on_keyspace_(std::move(on_keyspace)) {
  const auto self_address = view_->AddressOf(view_->self());
  for (const auto& seed : options_.seeds) {
    if (!self_address || seed != *self_address) seeds_unheard_.insert(seed);
  }
  view_->set_settled(seeds_unheard_.empty());
}

void Membership::Start() {
  if (!view_->settled()) {
    timers_->After(options_.settle_timeout_ms * 1000, [this] {
      if (!view_->settled()) Settle("waited long enough for the seeds that did not answer");
    });
  }
  Round();
}

void Membership::Settle(const char* why) {
  view_->set_settled(true);
  std::string unheard;
  for (const auto& seed : seeds_unheard_) unheard += (unheard.empty() ? "" : ", ") + seed;
  RINGKV_LOG(log_, kInfo, "ring settled with {} node(s) ({}); serving requests{}",
             view_->node_count(), why, unheard.empty() ? "" : "; seeds not heard from: " + unheard);
}

std::vector<std::string> Membership::Targets() const {
  std::set<std::string> targets(options_.seeds.begin(), options_.seeds.end());
  for (const auto& [name, m] : view_->members()) targets.insert(m.address);
  const auto self_address = view_->AddressOf(view_->self());
  if (self_address) targets.erase(*self_address);
  return {targets.begin(), targets.end()};
}

void Membership::Round() {
  for (const auto& address : Targets()) {
    transport_->FetchRing(address, options_.timeout_ms, [this, address](Result<RingAnswer> r) {
      if (r.ok()) {
        Absorb(address, r.value());
        return;
      }
      // Whoever we know at that address is unreachable from here.
      for (const auto& [name, m] : view_->members()) {
        if (m.address == address && name != view_->self() && view_->IsUp(name)) {
          RINGKV_LOG(log_, kInfo, "peer {} ({}) is down: {}", name, address, r.status().ToString());
          view_->SetUp(name, false);
        }
      }
    });
  }
  timers_->After(options_.period_ms * 1000, [this] { Round(); });
}

void Membership::Absorb(const std::string& address, const RingAnswer& answer) {
  for (const auto& [member, up] : answer.members) {
    auto learnt = view_->Learn(member);
    if (!learnt.ok()) {
      RINGKV_LOG(log_, kWarn, "ignoring member {} from {}: {}", member.name, address,
                 learnt.status().ToString());
      continue;
    }
    if (member.name != view_->self()) on_member_(member);
    if (learnt.value()) {
      RINGKV_LOG(log_, kInfo, "learnt member {} at {} with {} tokens; the ring has {} nodes",
                 member.name, member.address, member.tokens.size(), view_->node_count());
    }
  }
  if (!answer.self.empty() && answer.self != view_->self() && !view_->IsUp(answer.self)) {
    RINGKV_LOG(log_, kInfo, "peer {} ({}) is up", answer.self, address);
    view_->SetUp(answer.self, true);
  }
  for (const auto& [name, dropped_us] : answer.dropped) {
    bool dropped = false;
    (void)DropKeyspace(name, true, dropped_us, true, &dropped);
  }
  for (const auto& ks : answer.keyspaces) LearnKeyspace(ks);
  // A seed is accounted for once it answered or another node's answer told its tokens: either
  // way its part of the ring is known.
  seeds_unheard_.erase(address);
  for (const auto& [name, m] : view_->members()) seeds_unheard_.erase(m.address);
  if (seeds_unheard_.empty() && !view_->settled()) Settle("every seed's tokens are known");
}

void Membership::LearnKeyspace(const KeyspaceDef& keyspace) {
  if (keyspaces_->DroppedAt(keyspace.name) >= keyspace.created_us &&
      keyspaces_->DroppedAt(keyspace.name) > 0) {
    return;  // dropped after this definition was made: a node that missed the drop sent it
  }
  auto known = keyspaces_->Find(keyspace.name);
  if (known.ok()) {
    if (known->created_us < keyspace.created_us &&
        known->replication_factor == keyspace.replication_factor &&
        known->sloppy == keyspace.sloppy) {
      keyspaces_->Touch(keyspace.name, keyspace.created_us);
      on_keyspace_(keyspaces_->Find(keyspace.name).value());
    }
    return;
  }
  if (Status s = keyspaces_->Create(keyspace.name, keyspace.replication_factor,
                                    keyspace.created_us, keyspace.sloppy);
      !s.ok()) {
    RINGKV_LOG(log_, kWarn, "ignoring keyspace {}: {}", keyspace.name, s.ToString());
    return;
  }
  RINGKV_LOG(log_, kInfo, "keyspace {} (replication factor {}, {} quorum)", keyspace.name,
             keyspace.replication_factor, keyspace.sloppy ? "sloppy" : "strict");
  on_keyspace_(keyspace);
}

Status Membership::CreateKeyspace(const KeyspaceDef& keyspace, bool if_not_exists,
                                  bool propagated, bool* created) {
  *created = false;
  if (propagated) {
    const bool existed = keyspaces_->Find(keyspace.name).ok();
    LearnKeyspace(keyspace);
    *created = !existed && keyspaces_->Find(keyspace.name).ok();
    return Status::Ok();
  }
  auto known = keyspaces_->Find(keyspace.name);
  if (known.ok()) {
    if (known->replication_factor != keyspace.replication_factor) {
      return Status::InvalidArgument(fmt::format("keyspace '{}' exists with replication factor {}",
                                                 keyspace.name, known->replication_factor));
    }
    if (known->sloppy != keyspace.sloppy) {
      return Status::InvalidArgument(fmt::format("keyspace '{}' exists with {} quorum",
                                                 keyspace.name,
                                                 known->sloppy ? "sloppy" : "strict"));
    }
    if (!if_not_exists) {
      return Status::InvalidArgument(fmt::format("keyspace '{}' already exists", keyspace.name));
    }
    return Status::Ok();
  }
  if (Status s = keyspaces_->Create(keyspace.name, keyspace.replication_factor,
                                    keyspace.created_us, keyspace.sloppy);
      !s.ok()) {
    return s;
  }
  *created = true;
  on_keyspace_(keyspace);
  RINGKV_LOG(log_, kInfo, "created keyspace {} (replication factor {}, {} quorum)",
             keyspace.name, keyspace.replication_factor, keyspace.sloppy ? "sloppy" : "strict");
  // Tell everyone now; a member that misses it learns it from the next ring exchange.
  for (const auto& address : Targets()) {
    transport_->PushKeyspace(address, keyspace, options_.timeout_ms, [](Status) {});
  }
  return Status::Ok();
}

Status Membership::DropKeyspace(const std::string& name, bool if_exists, int64_t dropped_us,
                                bool propagated, bool* dropped) {
  *dropped = false;
  if (name.empty() || name == kDefaultKeyspace) {
    return Status::InvalidArgument("the default keyspace cannot be dropped");
  }
  if (Status s = KeyspaceCatalog::ValidateName(name); !s.ok()) return s;
  auto known = keyspaces_->Find(name);
  if (!known.ok()) {
    if (keyspaces_->DroppedAt(name) >= dropped_us) return Status::Ok();  // knew it already
    keyspaces_->RecordDropped(name, dropped_us);
    if (on_drop_) on_drop_(name, dropped_us);
    if (!propagated && !if_exists) {
      return Status::InvalidArgument(fmt::format("keyspace '{}' does not exist", name));
    }
    return Status::Ok();
  }
  if (known->created_us >= dropped_us) {
    if (propagated) return Status::Ok();  // created again after that drop
    dropped_us = known->created_us + 1;   // this node's clock is behind the creator's
  }
  if (Status s = keyspaces_->Drop(name, dropped_us); !s.ok()) return s;
  *dropped = true;
  RINGKV_LOG(log_, kInfo, "dropped keyspace {}", name);
  if (on_drop_) on_drop_(name, dropped_us);
  if (!propagated) {
    for (const auto& address : Targets()) {
      transport_->PushDrop(address, name, dropped_us, options_.timeout_ms, [](Status) {});
    }
  }
  return Status::Ok();
}

RingAnswer Membership::Answer() const {
  RingAnswer answer;
  answer.self = view_->self();
  for (const auto& [name, m] : view_->members()) answer.members.emplace_back(m, view_->IsUp(name));
  for (const auto& [name, ks] : keyspaces_->all()) answer.keyspaces.push_back(ks);
  for (const auto& [name, at] : keyspaces_->dropped()) answer.dropped.emplace_back(name, at);
  return answer;
}

}  // namespace ringkv
