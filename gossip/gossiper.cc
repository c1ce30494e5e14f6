#include "gossip/gossiper.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <tuple>

namespace ringkv::gossip {

namespace {

// removenode's verdict must outrank anything the removed member itself said in that generation.
constexpr uint64_t kRemovedVersionJump = uint64_t{1} << 32;

bool Newer(int64_t gen_a, uint64_t ver_a, int64_t gen_b, uint64_t ver_b) {
  return std::tie(gen_a, ver_a) > std::tie(gen_b, ver_b);
}

}  // namespace

Gossiper::Gossiper(std::string self, int64_t generation, MemberState state, uint64_t seed,
                   GossipOptions options)
    : self_(std::move(self)), options_(options), rng_(seed) {
  Endpoint e;
  e.name = self_;
  e.generation = generation;
  e.version = 1;
  e.state = std::move(state);
  endpoints_.emplace(self_, std::move(e));
}

void Gossiper::Emit(Event::Kind kind, const std::string& name, std::string detail) {
  events_.push_back(Event{kind, name, std::move(detail)});
}

void Gossiper::SetState(const MemberState& state) {
  Endpoint& me = endpoints_.at(self_);
  if (me.state == state) return;
  me.state = state;
  ++me.version;
}

Status Gossiper::MarkRemoved(const std::string& name) {
  if (name == self_) return Status::InvalidArgument("a node cannot remove itself");
  auto it = endpoints_.find(name);
  if (it == endpoints_.end()) {
    return Status::NotFound(fmt::format("no member named {}", name));
  }
  Endpoint& e = it->second;
  if (Gone(e.state.status)) {
    return Status::InvalidArgument(
        fmt::format("member {} is already {}", name, StatusName(e.state.status)));
  }
  e.state.status = MemberStatus::kRemoved;
  e.version += kRemovedVersionJump;
  Peer& peer = peers_.at(name);
  peer.alive = false;
  peer.gone_since_us = last_tick_us_ < 0 ? 0 : last_tick_us_;
  Emit(Event::Kind::kChanged, name);
  return Status::Ok();
}

void Gossiper::Restore(const std::vector<Endpoint>& endpoints, int64_t now_us) {
  for (const auto& e : endpoints) {
    if (e.name == self_ || !Validate(e).ok() || endpoints_.count(e.name) > 0) continue;
    if (endpoints_.size() >= kMembersMax) break;
    endpoints_.emplace(e.name, e);
    Peer peer{PhiDetector(&options_.phi)};
    peer.detector.Reset(now_us);
    peer.alive = !Gone(e.state.status);
    if (!peer.alive) peer.gone_since_us = now_us;
    peers_.emplace(e.name, std::move(peer));
    Emit(Event::Kind::kChanged, e.name);
  }
}

Syn Gossiper::MakeSyn() const {
  Syn syn;
  syn.from = self_;
  syn.digests.reserve(endpoints_.size());
  for (const auto& [name, e] : endpoints_) syn.digests.push_back(DigestOf(e));
  return syn;
}

Gossiper::Round Gossiper::Tick(int64_t now_us, const std::vector<std::string>& seeds) {
  ++rounds_;
  if (last_tick_us_ >= 0 && now_us - last_tick_us_ > options_.interval_us + options_.pause_guard_us) {
    for (auto& [name, peer] : peers_) peer.detector.Forgive(now_us);
  }
  last_tick_us_ = now_us;
  Endpoint& me = endpoints_.at(self_);
  ++me.heartbeat;
  Judge(now_us);

  Round round;
  round.syn = MakeSyn();

  std::vector<const std::string*> live, down;
  for (const auto& [name, peer] : peers_) {
    const Endpoint& e = endpoints_.at(name);
    if (Gone(e.state.status) || e.state.address.empty()) continue;
    (peer.alive ? live : down).push_back(&e.state.address);
  }
  std::set<std::string> seed_set;
  for (const auto& s : seeds) {
    if (s != me.state.address) seed_set.insert(s);
  }
  auto pick = [this](const std::vector<const std::string*>& from) {
    return *from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng_)];
  };
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  bool to_seed = false;
  std::shuffle(live.begin(), live.end(), rng_);
  for (size_t i = 0; i < std::min(options_.fanout, live.size()); ++i) {
    round.addresses.push_back(*live[i]);
    to_seed = to_seed || seed_set.count(round.addresses.back()) > 0;
  }
  if (!down.empty() &&
      coin(rng_) < static_cast<double>(down.size()) / static_cast<double>(live.size() + 1)) {
    round.addresses.push_back(pick(down));
  }
  // A node that knows fewer live members than there are seeds always asks a seed too: two nodes
  // that only found each other must not stay an island.
  if (!seed_set.empty() && (!to_seed || live.size() < seed_set.size())) {
    const double members = static_cast<double>(live.size() + down.size());
    if (live.size() < seed_set.size() ||
        coin(rng_) <= static_cast<double>(seed_set.size()) / std::max(members, 1.0)) {
      std::vector<std::string> seed_list(seed_set.begin(), seed_set.end());
      round.addresses.push_back(
          seed_list[std::uniform_int_distribution<size_t>(0, seed_list.size() - 1)(rng_)]);
    }
  }
  std::sort(round.addresses.begin(), round.addresses.end());
  round.addresses.erase(std::unique(round.addresses.begin(), round.addresses.end()),
                        round.addresses.end());
  return round;
}

void Gossiper::Judge(int64_t now_us) {
  std::vector<std::string> expired;
  for (auto& [name, peer] : peers_) {
    const Endpoint& e = endpoints_.at(name);
    if (Gone(e.state.status)) {
      if (peer.gone_since_us < 0) peer.gone_since_us = now_us;
      if (now_us - peer.gone_since_us > options_.gone_expiry_us) expired.push_back(name);
      continue;
    }
    if (peer.alive && !peer.detector.Alive(now_us)) {
      peer.alive = false;
      Emit(Event::Kind::kDead, name,
           fmt::format("phi {:.1f}", peer.detector.Phi(now_us)));
    }
  }
  for (const auto& name : expired) {
    endpoints_.erase(name);
    peers_.erase(name);
    Emit(Event::Kind::kExpired, name);
  }
}

void Gossiper::Offer(const Endpoint& mine, const Digest& theirs, std::vector<Endpoint>* states,
                     std::vector<Digest>* heartbeats) const {
  if (Newer(mine.generation, mine.version, theirs.generation, theirs.version)) {
    if (states->size() < kStatesPerMessageMax) states->push_back(mine);
  } else if (mine.generation == theirs.generation && mine.heartbeat > theirs.heartbeat) {
    heartbeats->push_back(DigestOf(mine));
  }
}

Ack Gossiper::OnSyn(const Syn& syn, int64_t now_us) {
  (void)now_us;
  Ack ack;
  std::set<std::string_view> listed;
  const size_t count = std::min(syn.digests.size(), kMembersMax);
  for (size_t i = 0; i < count; ++i) {
    const Digest& d = syn.digests[i];
    if (d.name.empty() || d.name.size() > kNameBytesMax) continue;
    listed.insert(d.name);
    auto it = endpoints_.find(d.name);
    if (it == endpoints_.end()) {
      ack.requests.push_back(Digest{d.name, 0, 0, 0, 0});
      continue;
    }
    const Endpoint& mine = it->second;
    if (d.host_id != 0 && d.host_id != mine.state.host_id && !Gone(mine.state.status)) {
      // Two nodes claim the name: show the sender the one this node knows, so that the one
      // that started later learns it is the second (Event::kSelfTaken) and stops.
      if (ack.states.size() < kStatesPerMessageMax) ack.states.push_back(mine);
      continue;
    }
    Offer(mine, d, &ack.states, &ack.heartbeats);
    const bool they_newer = Newer(d.generation, d.version, mine.generation, mine.version) ||
                            (d.generation == mine.generation && d.version == mine.version &&
                             d.heartbeat > mine.heartbeat);
    if (they_newer) ack.requests.push_back(DigestOf(mine));
  }
  for (const auto& [name, e] : endpoints_) {
    if (listed.count(name) == 0 && ack.states.size() < kStatesPerMessageMax) {
      ack.states.push_back(e);
    }
  }
  return ack;
}

Ack2 Gossiper::OnAck(const Ack& ack, int64_t now_us) {
  for (size_t i = 0; i < std::min(ack.states.size(), kStatesPerMessageMax); ++i) {
    Apply(ack.states[i], now_us);
  }
  for (size_t i = 0; i < std::min(ack.heartbeats.size(), kMembersMax); ++i) {
    ApplyHeartbeat(ack.heartbeats[i], now_us);
  }
  Ack2 reply;
  reply.from = self_;
  for (size_t i = 0; i < std::min(ack.requests.size(), kMembersMax); ++i) {
    auto it = endpoints_.find(ack.requests[i].name);
    if (it != endpoints_.end()) Offer(it->second, ack.requests[i], &reply.states, &reply.heartbeats);
  }
  return reply;
}

void Gossiper::OnAck2(const Ack2& ack2, int64_t now_us) {
  for (size_t i = 0; i < std::min(ack2.states.size(), kStatesPerMessageMax); ++i) {
    Apply(ack2.states[i], now_us);
  }
  for (size_t i = 0; i < std::min(ack2.heartbeats.size(), kMembersMax); ++i) {
    ApplyHeartbeat(ack2.heartbeats[i], now_us);
  }
}

void Gossiper::Beat(const std::string& name, int64_t now_us) {
  Peer& peer = peers_.at(name);
  peer.detector.Arrival(now_us);
  if (!peer.alive && !Gone(endpoints_.at(name).state.status)) {
    peer.alive = true;
    Emit(Event::Kind::kAlive, name);
  }
}

void Gossiper::Apply(const Endpoint& e, int64_t now_us) {
  if (Status s = Validate(e); !s.ok()) {
    Emit(Event::Kind::kRefused, e.name.substr(0, kNameBytesMax), s.message());
    return;
  }
  if (e.name == self_) {
    const Endpoint& me = endpoints_.at(self_);
    if (e.state.status == MemberStatus::kRemoved && e.state.host_id == me.state.host_id) {
      Emit(Event::Kind::kSelfRemoved, self_);
    } else if (e.state.host_id != me.state.host_id && !Gone(e.state.status) &&
               e.generation < me.generation) {
      // The name was taken by a node that started before this one: this one is the second.
      Emit(Event::Kind::kSelfTaken, self_,
           fmt::format("host {:016x} at {} holds the name", e.state.host_id, e.state.address));
    } else if (Newer(e.generation, e.version, me.generation, me.version)) {
      Emit(Event::Kind::kRefused, self_,
           fmt::format("a state for this node's name from another node (host id {:016x}, "
                       "generation {})",
                       e.state.host_id, e.generation));
    }
    return;
  }
  auto it = endpoints_.find(e.name);
  if (it == endpoints_.end()) {
    if (endpoints_.size() >= kMembersMax) {
      Emit(Event::Kind::kRefused, e.name, fmt::format("already {} members", kMembersMax));
      return;
    }
    if (!Gone(e.state.status)) {
      for (const auto& [name, other] : endpoints_) {
        if (other.state.host_id == e.state.host_id && !Gone(other.state.status)) {
          Emit(Event::Kind::kRefused, e.name,
               fmt::format("claims host id {:016x}, which {} holds", e.state.host_id, name));
          return;
        }
      }
    }
    endpoints_.emplace(e.name, e);
    Peer peer{PhiDetector(&options_.phi)};
    peer.detector.Reset(now_us);
    peer.alive = !Gone(e.state.status);
    peers_.emplace(e.name, std::move(peer));
    Emit(Event::Kind::kChanged, e.name);
    if (!Gone(e.state.status)) Emit(Event::Kind::kAlive, e.name);
    return;
  }
  Endpoint& known = it->second;
  Peer& peer = peers_.at(e.name);
  if (e.generation < known.generation) return;  // an old run's news
  if (e.state.host_id != known.state.host_id && !Gone(known.state.status) &&
      !Gone(e.state.status)) {
    Emit(Event::Kind::kRefused, e.name,
         fmt::format("host id {:016x}, but member {} is host {:016x} and has not left: remove it "
                     "first",
                     e.state.host_id, e.name, known.state.host_id));
    return;
  }
  if (e.generation > known.generation) {
    known = e;
    peer.detector.Reset(now_us);
    peer.gone_since_us = -1;
    Emit(Event::Kind::kChanged, e.name);
    if (Gone(e.state.status)) {
      peer.alive = false;
    } else if (!peer.alive) {
      peer.alive = true;
      Emit(Event::Kind::kAlive, e.name);
    }
    return;
  }
  if (e.version > known.version) {
    known.state = e.state;
    known.version = e.version;
    if (Gone(e.state.status)) {
      peer.alive = false;
      peer.gone_since_us = -1;
    }
    Emit(Event::Kind::kChanged, e.name);
  }
  if (e.heartbeat > known.heartbeat) {
    known.heartbeat = e.heartbeat;
    if (!Gone(known.state.status)) Beat(e.name, now_us);
  }
}

void Gossiper::ApplyHeartbeat(const Digest& d, int64_t now_us) {
  auto it = endpoints_.find(d.name);
  if (it == endpoints_.end() || d.name == self_) return;
  Endpoint& known = it->second;
  if (d.generation != known.generation || d.heartbeat <= known.heartbeat) return;
  known.heartbeat = d.heartbeat;
  if (!Gone(known.state.status)) Beat(d.name, now_us);
}

bool Gossiper::IsAlive(const std::string& name) const {
  if (name == self_) return true;
  auto it = peers_.find(name);
  return it != peers_.end() && it->second.alive;
}

double Gossiper::Phi(const std::string& name, int64_t now_us) const {
  auto it = peers_.find(name);
  return it == peers_.end() ? 0 : it->second.detector.Phi(now_us);
}

}  // namespace ringkv::gossip
