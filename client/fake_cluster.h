// FakeCluster: fake nodes (client/fake_node.h) that describe one cluster, for the client's routing
// and membership tests. Nodes are named by one letter from 'a'; a, b and c start with one token
// each (a: -2^62, b: 0, c: 2^62) and every node answers `ring` with the same membership, as a real
// cluster would. Each answers a get with its own name (a put with "ctx@<name>") and records what
// it was asked. Keyspaces: "default" (3) and "pairs" (2).
//
// Membership can change under a running client: a node can be added (a join), given a status
// (JOINING, LEFT, ...), dropped from the answer, killed or moved to another port; and a node can
// be made to refuse keyed requests UNAVAILABLE (plainly or as "not ready") or to never answer.
//
// Thread safety: the fake nodes' threads read the membership under mu_; the test thread calls
// everything else.
#ifndef RINGKV_CLIENT_FAKE_CLUSTER_H_
#define RINGKV_CLIENT_FAKE_CLUSTER_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "client/fake_node.h"
#include "ringkv/client.h"

namespace ringkv::fake {

inline constexpr int64_t kTokenA = -(int64_t{1} << 62);
inline constexpr int64_t kTokenB = 0;
inline constexpr int64_t kTokenC = int64_t{1} << 62;

// The primary of a token among a, b and c, by the rule itself (a vnode owns (previous token, its
// token]), not by the ring library the client uses.
char PrimaryOf(int64_t token);
// Options for a test client of `contacts`: a 5 s request timeout, a 2 s connect timeout.
ClientOptions OptionsFor(std::vector<std::string> contacts);
// A lone node that answers everything at once: gets with "v1", puts with "ctx:<value>", info as
// node "fake"; `ring` with an empty ring. Records what it was asked in `inbox`, if given.
FakeNode::Handler Answering(Inbox* inbox = nullptr);

// A key whose primary among a, b and c is `node`.
std::string KeyWithPrimary(char node);
// Which node answered a get: FakeCluster's nodes answer with their names.
std::string AnsweredBy(const Expected<GetResult>& got);

class FakeCluster {
 public:
  // How a node answers keyed requests (get, put, del).
  enum class Mode : uint8_t {
    kAnswer,       // at once, as above
    kUnavailable,  // UNAVAILABLE, needed 2, alive 1: it sees too few replicas
    kNotReady,     // UNAVAILABLE "not ready: ...": it has not settled its ring (and its ring
                   // answer, marked unsettled, lists only itself)
    kSilent,       // never
  };

  FakeCluster();

  FakeNode& node(char name) { return *nodes_[Index(name)]; }
  Inbox& inbox(char name) { return *inboxes_[Index(name)]; }
  std::string address(char name);
  // Requests (not rings) each node received, in name order (a stopped node counts 0).
  std::vector<int> Requests();
  int ring_requests();
  bool WaitForRingRequests(int n);

  void SetUp(char name, bool up);
  void SetStatus(char name, std::string status);
  void SetMode(char name, Mode mode);
  void AddKeyspace(std::string name, uint32_t rf);
  // Starts node `name` (the next letter) holding `tokens`, with `status`; every ring answer names
  // it from now on.
  void Add(char name, std::vector<int64_t> tokens, std::string status = "NORMAL");
  // Ring answers no longer name it; the node keeps serving.
  void Forget(char name);
  // Stops the node: connections to its port are refused from now on; the ring still names it.
  void Kill(char name) { nodes_[Index(name)].reset(); }
  // The node restarts on another port, and the ring says so.
  void Move(char name);

 private:
  static size_t Index(char name) { return static_cast<size_t>(name - 'a'); }
  void Start(size_t i);

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<FakeMember> members_;  // by name; guarded by mu_
  std::vector<bool> listed_;         // by name: named in ring answers; guarded by mu_
  std::vector<Mode> modes_;          // by name; guarded by mu_
  std::vector<std::pair<std::string, uint32_t>> keyspaces_ = {{"default", 3},
                                                              {"pairs", 2}};  // guarded by mu_
  int ring_requests_ = 0;                                                     // guarded by mu_
  std::vector<std::unique_ptr<Inbox>> inboxes_;
  std::vector<std::unique_ptr<FakeNode>> nodes_;
};

}  // namespace ringkv::fake

#endif  // RINGKV_CLIENT_FAKE_CLUSTER_H_
