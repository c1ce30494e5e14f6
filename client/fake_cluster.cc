#include "client/fake_cluster.h"

#include "common/token.h"

namespace ringkv::fake {

using ConnPtr = std::shared_ptr<FakeNode::Conn>;

ClientOptions OptionsFor(std::vector<std::string> contacts) {
  ClientOptions options;
  options.contact_points = std::move(contacts);
  options.request_timeout = std::chrono::seconds(5);
  options.connect_timeout = std::chrono::seconds(2);
  return options;
}

FakeNode::Handler Answering(Inbox* inbox) {
  return [inbox](const ConnPtr& conn, const FakeRequest& r) {
    if (inbox != nullptr) inbox->Add(conn, r);
    switch (r.kind) {
      case wire::Frame::GET:
        conn->Send(GetResultFrame(r.id, {"v1"}));
        break;
      case wire::Frame::PUT:
        conn->Send(PutResultFrame(r.id, "ctx:" + r.value));
        break;
      case wire::Frame::DEL:
        conn->Send(DelResultFrame(r.id));
        break;
      case wire::Frame::INFO:
        conn->Send(InfoResultFrame(r.id, "fake"));
        break;
      default:
        break;
    }
  };
}

char PrimaryOf(int64_t token) {
  if (token > kTokenA && token <= kTokenB) return 'b';
  if (token > kTokenB && token <= kTokenC) return 'c';
  return 'a';
}

std::string KeyWithPrimary(char node) {
  for (int i = 0;; ++i) {
    std::string key = "key" + std::to_string(i);
    if (PrimaryOf(TokenOf(key)) == node) return key;
  }
}

std::string AnsweredBy(const Expected<GetResult>& got) {
  if (!got.ok()) return "error: " + got.error().ToString();
  if (got->siblings.size() != 1) return "no value";
  return got->siblings[0].value;
}

FakeCluster::FakeCluster() {
  const int64_t tokens[] = {kTokenA, kTokenB, kTokenC};
  for (char name : {'a', 'b', 'c'}) {
    members_.push_back(FakeMember{
        std::string(1, name), "", {tokens[Index(name)]}, true, static_cast<uint64_t>(name), ""});
    listed_.push_back(true);
    modes_.push_back(Mode::kAnswer);
  }
  for (size_t i = 0; i < members_.size(); ++i) Start(i);
}

std::string FakeCluster::address(char name) {
  std::lock_guard lock(mu_);
  return members_[Index(name)].address;
}

std::vector<int> FakeCluster::Requests() {
  std::vector<int> out;
  for (const auto& node : nodes_) out.push_back(node == nullptr ? 0 : node->requests());
  return out;
}

int FakeCluster::ring_requests() {
  std::lock_guard lock(mu_);
  return ring_requests_;
}

bool FakeCluster::WaitForRingRequests(int n) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return ring_requests_ >= n; });
}

void FakeCluster::SetUp(char name, bool up) {
  std::lock_guard lock(mu_);
  members_[Index(name)].up = up;
}

void FakeCluster::SetStatus(char name, std::string status) {
  std::lock_guard lock(mu_);
  members_[Index(name)].status = std::move(status);
}

void FakeCluster::SetMode(char name, Mode mode) {
  std::lock_guard lock(mu_);
  modes_[Index(name)] = mode;
}

void FakeCluster::AddKeyspace(std::string name, uint32_t rf) {
  std::lock_guard lock(mu_);
  keyspaces_.emplace_back(std::move(name), rf);
}

void FakeCluster::Add(char name, std::vector<int64_t> tokens, std::string status) {
  {
    std::lock_guard lock(mu_);
    // REQUIRES: the next letter; the new member is listed only once it has an address.
    members_.push_back(FakeMember{std::string(1, name), "", std::move(tokens), true,
                                  static_cast<uint64_t>(name), std::move(status)});
    listed_.push_back(false);
    modes_.push_back(Mode::kAnswer);
  }
  Start(Index(name));
  std::lock_guard lock(mu_);
  listed_[Index(name)] = true;
}

void FakeCluster::Forget(char name) {
  std::lock_guard lock(mu_);
  listed_[Index(name)] = false;
}

void FakeCluster::Move(char name) {
  auto old = std::move(nodes_[Index(name)]);
  Start(Index(name));
  old.reset();
}

void FakeCluster::Start(size_t i) {
  if (inboxes_.size() <= i) inboxes_.resize(i + 1);
  if (nodes_.size() <= i) nodes_.resize(i + 1);
  if (inboxes_[i] == nullptr) inboxes_[i] = std::make_unique<Inbox>();
  FakeNode::Options options;
  std::string name;
  {
    std::lock_guard lock(mu_);
    name = members_[i].name;
  }
  options.node_name = name;
  options.ring = [this, i, self = name] {
    std::lock_guard lock(mu_);
    ++ring_requests_;
    cv_.notify_all();
    FakeRing ring{{}, keyspaces_, self};
    // A node that has not settled knows only itself so far.
    ring.unsettled = modes_[i] == Mode::kNotReady;
    for (size_t m = 0; m < members_.size(); ++m) {
      if (listed_[m] && (!ring.unsettled || m == i)) ring.members.push_back(members_[m]);
    }
    return ring;
  };
  Inbox* inbox = inboxes_[i].get();
  nodes_[i] = std::make_unique<FakeNode>(options, [this, inbox, i, name](const ConnPtr& conn,
                                                                         const FakeRequest& r) {
    inbox->Add(conn, r);
    Mode mode;
    {
      std::lock_guard lock(mu_);
      mode = modes_[i];
    }
    const bool keyed =
        r.kind == wire::Frame::GET || r.kind == wire::Frame::PUT || r.kind == wire::Frame::DEL;
    if (keyed && mode == Mode::kSilent) return;
    if (keyed && mode == Mode::kUnavailable) {
      conn->Send(ErrorFrame(r.id, wire::ErrorCode::UNAVAILABLE,
                            "cannot achieve QUORUM: too few of the key's 3 replicas are up", 2, 1));
      return;
    }
    if (keyed && mode == Mode::kNotReady) {
      conn->Send(ErrorFrame(r.id, wire::ErrorCode::UNAVAILABLE,
                            "not ready: node " + name + " has not settled its ring yet", 2, 0));
      return;
    }
    switch (r.kind) {
      case wire::Frame::GET:
        conn->Send(GetResultFrame(r.id, {name}));
        break;
      case wire::Frame::PUT:
        conn->Send(PutResultFrame(r.id, "ctx@" + name));
        break;
      case wire::Frame::DEL:
        conn->Send(DelResultFrame(r.id));
        break;
      case wire::Frame::CREATE_KEYSPACE:
        conn->Send(CreateKeyspaceResultFrame(r.id, true));
        break;
      default:
        break;
    }
  });
  std::lock_guard lock(mu_);
  members_[i].address = nodes_[i]->address();
}

}  // namespace ringkv::fake
