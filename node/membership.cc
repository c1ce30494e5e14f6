#include "node/membership.h"

#include <algorithm>
#include <optional>
#include <set>

#include "common/token.h"

namespace ringkv {

using gossip::Event;
using gossip::MemberStatus;

namespace {

MemberInfo InfoOf(const gossip::Endpoint& e) {
  return MemberInfo{e.name, e.state.address, e.state.host_id, e.state.tokens, e.state.status};
}

gossip::MemberState StateOf(const MemberInfo& m) {
  gossip::MemberState s;
  s.address = m.address;
  s.host_id = m.host_id;
  s.status = m.status;
  s.tokens = m.tokens;
  std::sort(s.tokens.begin(), s.tokens.end());
  return s;
}

}  // namespace

Membership::Membership(ClusterView* view, KeyspaceCatalog* keyspaces,
                       MembershipTransport* transport, Timers* timers, const Clock* clock,
                       Logger* log, MembershipOptions options, Callbacks callbacks)
    : view_(view),
      keyspaces_(keyspaces),
      transport_(transport),
      timers_(timers),
      clock_(clock),
      log_(log),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      gossiper_(view->self(), options_.generation, StateOf(view->members().at(view->self())),
                options_.rng_seed, options_.gossip) {
  UpdateSchema();
  const auto self_address = view_->AddressOf(view_->self());
  bool other_seeds = false;
  for (const auto& seed : options_.seeds) other_seeds |= !self_address || seed != *self_address;
  view_->set_settled(!other_seeds);
}

void Membership::Restore(const std::vector<gossip::Endpoint>& endpoints) {
  gossiper_.Restore(endpoints, clock_->MonoUs());
  ApplyEvents();
  if (!view_->settled() && view_->node_count() > 1) {
    view_->set_settled(true);
    RINGKV_LOG(log_, kInfo, "serving the ring saved by the last run ({} nodes) while gossip "
               "catches up", view_->node_count());
  }
}

void Membership::Start() {
  if (!view_->settled()) {
    timers_->After(options_.settle_timeout_ms * 1000, [this] {
      if (!view_->settled()) {
        view_->set_settled(true);
        RINGKV_LOG(log_, kWarn, "no seed answered within {} ms; serving the ring of {} node(s) "
                   "known so far", options_.settle_timeout_ms, view_->node_count());
      }
    });
  }
  Round();
  Judge();
}

void Membership::Judge() {
  gossiper_.Check(clock_->MonoUs());
  ApplyEvents();
  timers_->After(options_.period_ms * 1000 / 4, [this] { Judge(); });
}

void Membership::CheckSettled(const char* why) {
  if (view_->settled()) return;
  std::set<std::string> known;
  for (const auto& [name, m] : view_->members()) {
    if (name != view_->self()) known.insert(m.address);
  }
  const auto self_address = view_->AddressOf(view_->self());
  for (const auto& seed : options_.seeds) {
    if ((!self_address || seed != *self_address) && known.count(seed) == 0) return;
  }
  view_->set_settled(true);
  RINGKV_LOG(log_, kInfo, "ring settled with {} node(s) ({}); serving requests",
             view_->node_count(), why);
}

void Membership::Round() {
  // The load changes a full state (and spreads it): every 10th round, and only when it moved by
  // more than a tenth.
  if (callbacks_.load_bytes && stats_.rounds % 10 == 0) {
    gossip::MemberState state = gossiper_.self_endpoint().state;
    const uint64_t load = callbacks_.load_bytes();
    if (load > state.load_bytes + state.load_bytes / 10 ||
        load < state.load_bytes - state.load_bytes / 10) {
      state.load_bytes = load;
      gossiper_.SetState(state);
    }
  }
  auto round = gossiper_.Tick(clock_->MonoUs(), options_.seeds);
  ++stats_.rounds;
  ApplyEvents();
  for (const auto& address : round.addresses) Exchange(address, round.syn);
  PullSchema();
  timers_->After(options_.period_ms * 1000, [this] { Round(); });
}

void Membership::Exchange(const std::string& address, const gossip::Syn& syn) {
  transport_->GossipSyn(address, syn, options_.timeout_ms, [this, address](Result<gossip::Ack> r) {
    if (!r.ok()) {
      ++stats_.exchanges_failed;
      RINGKV_LOG(log_, kDebug, "gossip with {} failed: {}", address, r.status().ToString());
      return;
    }
    ++stats_.exchanges_ok;
    stats_.states_received += r.value().states.size();
    gossip::Ack2 ack2 = gossiper_.OnAck(r.value(), clock_->MonoUs());
    // The exchange itself proves the peer at that address accepts connections from this node.
    for (const auto& [name, m] : view_->members()) {
      if (m.address == address && name != view_->self()) view_->SetUp(name, true);
    }
    ApplyEvents();
    CheckSettled("heard from every seed");
    PullSchema();
    if (!ack2.states.empty() || !ack2.heartbeats.empty()) {
      transport_->GossipAck2(address, ack2, options_.timeout_ms, [](Status) {});
    }
  });
}

gossip::Ack Membership::OnSyn(const gossip::Syn& syn) {
  gossip::Ack ack = gossiper_.OnSyn(syn, clock_->MonoUs());
  ApplyEvents();
  PullSchema();
  return ack;
}

void Membership::OnAck2(const gossip::Ack2& ack2) {
  gossiper_.OnAck2(ack2, clock_->MonoUs());
  ApplyEvents();
  CheckSettled("heard from every seed");
  PullSchema();
}

void Membership::SetSelf(MemberStatus status, const std::vector<Token>& tokens) {
  MemberInfo me = view_->members().at(view_->self());
  me.status = status;
  me.tokens = tokens;
  std::sort(me.tokens.begin(), me.tokens.end());
  if (auto learnt = view_->Learn(me); !learnt.ok()) {
    RINGKV_LOG(log_, kError, "cannot take status {}: {}", gossip::StatusName(status),
               learnt.status().ToString());
    return;
  }
  gossip::MemberState state = gossiper_.self_endpoint().state;
  state.status = status;
  state.tokens = me.tokens;
  gossiper_.SetState(state);
  RINGKV_LOG(log_, kInfo, "this node is now {} with {} tokens", gossip::StatusName(status),
             me.tokens.size());
  Save();
}

void Membership::Save() {
  if (!callbacks_.on_save) return;
  std::vector<gossip::Endpoint> all;
  all.reserve(gossiper_.endpoints().size());
  for (const auto& [name, e] : gossiper_.endpoints()) all.push_back(e);
  callbacks_.on_save(all);
}

Status Membership::Remove(const std::string& name) {
  if (view_->IsAlive(name)) {
    return Status::InvalidArgument(fmt::format(
        "{} is alive as this node's failure detector sees it; removenode is for dead nodes "
        "(decommission a live one)", name));
  }
  if (Status s = gossiper_.MarkRemoved(name); !s.ok()) return s;
  ApplyEvents();
  return Status::Ok();
}

void Membership::ApplyEvents() {
  bool changed = false;
  for (const Event& e : gossiper_.TakeEvents()) {
    switch (e.kind) {
      case Event::Kind::kChanged: {
        const auto& endpoint = gossiper_.endpoints().at(e.name);
        const MemberInfo info = InfoOf(endpoint);
        auto before = view_->members().find(e.name);
        const bool is_new = before == view_->members().end();
        const MemberStatus old_status = is_new ? MemberStatus::kNormal : before->second.status;
        const bool removal = !is_new && gossip::InRing(old_status) &&
                             info.status == MemberStatus::kRemoved;
        std::optional<Ring> ring_before;
        if (removal) ring_before = view_->ring();
        auto learnt = view_->Learn(info);
        if (!learnt.ok()) {
          ++stats_.refused;
          RINGKV_LOG(log_, kWarn, "refusing the state of member {}: {}", e.name,
                     learnt.status().ToString());
          continue;
        }
        changed = true;
        callbacks_.on_member(info);
        if (is_new || old_status != info.status) {
          RINGKV_LOG(log_, kInfo, "member {} at {} is {} with {} tokens; the ring has {} nodes",
                     e.name, info.address, gossip::StatusName(info.status), info.tokens.size(),
                     view_->node_count());
        }
        if (removal && callbacks_.on_member_removed) {
          callbacks_.on_member_removed(e.name, *ring_before);
        }
        break;
      }
      case Event::Kind::kAlive:
        if (!view_->IsAlive(e.name)) RINGKV_LOG(log_, kInfo, "peer {} is alive", e.name);
        view_->SetAlive(e.name, true);
        break;
      case Event::Kind::kDead:
        ++stats_.convicted;
        RINGKV_LOG(log_, kInfo, "peer {} is down ({})", e.name, e.detail);
        view_->SetAlive(e.name, false);
        break;
      case Event::Kind::kRefused:
        ++stats_.refused;
        RINGKV_LOG(log_, kWarn, "gossip: refused a state for {}: {}", e.name, e.detail);
        break;
      case Event::Kind::kSelfRemoved:
        RINGKV_LOG(log_, kError, "the cluster removed this node (removenode); it stops serving");
        if (callbacks_.on_removed) callbacks_.on_removed();
        break;
      case Event::Kind::kSelfTaken:
        RINGKV_LOG(log_, kError, "another node already has the name {} ({}); this one stops",
                   view_->self(), e.detail);
        if (callbacks_.on_removed) callbacks_.on_removed();
        break;
      case Event::Kind::kExpired:
        view_->Forget(e.name);
        changed = true;
        break;
    }
  }
  if (changed) Save();
}

void Membership::UpdateSchema() {
  const uint64_t schema = static_cast<uint64_t>(TokenOf(keyspaces_->SchemaVersion()));
  gossip::MemberState state = gossiper_.self_endpoint().state;
  if (state.schema == schema) return;
  state.schema = schema;
  gossiper_.SetState(state);
  // Spread it now rather than at the next round: every live member sees the new digest in this
  // Syn, asks for the state, and pulls the catalog.
  const gossip::Syn syn = gossiper_.MakeSyn();
  for (const auto& address : LiveAddresses()) Exchange(address, syn);
}

bool Membership::SchemaAgrees() const {
  const uint64_t mine = gossiper_.self_endpoint().state.schema;
  for (const auto& [name, e] : gossiper_.endpoints()) {
    if (name == view_->self() || gossip::Gone(e.state.status) || !view_->IsUp(name)) continue;
    if (e.state.schema != mine) return false;
  }
  return true;
}

void Membership::WhenSchemaAgrees(int64_t timeout_ms, std::function<void(bool)> done) {
  PollSchemaAgreement(clock_->MonoUs() + timeout_ms * 1000, std::move(done));
}

void Membership::PollSchemaAgreement(int64_t deadline_us, std::function<void(bool)> done) {
  if (SchemaAgrees()) return done(true);
  if (clock_->MonoUs() >= deadline_us) return done(false);
  timers_->After(10'000, [this, deadline_us, done = std::move(done)]() mutable {
    PollSchemaAgreement(deadline_us, std::move(done));
  });
}

void Membership::PullSchema() {
  // One pull at a time, and at most one per 50 ms: gossip events call this too.
  const int64_t now_us = clock_->MonoUs();
  if (pulling_schema_ || (last_pull_us_ > 0 && now_us - last_pull_us_ < 50'000)) return;
  const uint64_t mine = gossiper_.self_endpoint().state.schema;
  for (const auto& [name, e] : gossiper_.endpoints()) {
    if (name == view_->self() || !view_->IsUp(name) || gossip::Gone(e.state.status) ||
        e.state.schema == mine || e.state.address.empty()) {
      continue;
    }
    pulling_schema_ = true;
    last_pull_us_ = now_us;
    ++stats_.schema_pulls;
    transport_->FetchRing(e.state.address, options_.timeout_ms, [this](Result<RingAnswer> r) {
      pulling_schema_ = false;
      if (r.ok()) Absorb(r.value());
    });
    return;  // one pull a round
  }
}

void Membership::Absorb(const RingAnswer& answer) {
  for (const auto& [name, dropped_us] : answer.dropped) {
    bool dropped = false;
    (void)DropKeyspace(name, true, dropped_us, true, &dropped);
  }
  for (const auto& ks : answer.keyspaces) LearnKeyspace(ks);
  UpdateSchema();
}

std::vector<std::string> Membership::LiveAddresses() const {
  std::vector<std::string> targets;
  for (const auto& [name, m] : view_->members()) {
    if (name != view_->self() && !gossip::Gone(m.status) && view_->IsUp(name)) {
      targets.push_back(m.address);
    }
  }
  return targets;
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
      callbacks_.on_keyspace(keyspaces_->Find(keyspace.name).value());
      UpdateSchema();
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
  callbacks_.on_keyspace(keyspace);
  UpdateSchema();
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
  callbacks_.on_keyspace(keyspace);
  RINGKV_LOG(log_, kInfo, "created keyspace {} (replication factor {}, {} quorum)",
             keyspace.name, keyspace.replication_factor, keyspace.sloppy ? "sloppy" : "strict");
  UpdateSchema();  // and gossip spreads it
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
    if (callbacks_.on_drop) callbacks_.on_drop(name, dropped_us);
    UpdateSchema();
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
  if (callbacks_.on_drop) callbacks_.on_drop(name, dropped_us);
  UpdateSchema();  // and gossip spreads it
  return Status::Ok();
}

RingAnswer Membership::Answer() const {
  RingAnswer answer;
  answer.self = view_->self();
  answer.settled = view_->settled();
  for (const auto& [name, m] : view_->members()) {
    if (!gossip::Gone(m.status)) answer.members.emplace_back(m, view_->IsUp(name));
  }
  for (const auto& [name, ks] : keyspaces_->all()) answer.keyspaces.push_back(ks);
  for (const auto& [name, at] : keyspaces_->dropped()) answer.dropped.emplace_back(name, at);
  return answer;
}

}  // namespace ringkv
