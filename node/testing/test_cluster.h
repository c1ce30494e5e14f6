// TestCluster: a real n-node kvnode cluster on 127.0.0.1 for end-to-end tests, with static
// membership (every node gets --seeds naming all of them). Start() picks a random base port in
// [20000, 32000) (restarting on another base if a port is taken) and returns once every node
// coordinates writes that need every replica, so each has learnt and believes up all the others.
// Every wait polls a deadline; no sleeps.
//
// Thread safety: none. The destructor SIGKILLs the nodes still running (its own children only).
#ifndef RINGKV_NODE_TESTING_TEST_CLUSTER_H_
#define RINGKV_NODE_TESTING_TEST_CLUSTER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "node/testing/node_process.h"

namespace ringkv::testing {

struct TestClusterOptions {
  size_t nodes = 3;
  std::string dir;  // REQUIRED: data directories and logs go under it
  // Extra flags per node; "{port}" in an argument is replaced by the node's port + 1000 (an HTTP
  // port next to it, say).
  std::vector<std::string> extra_args;
  // node_args[i]: node i's own flags, after extra_args ({port} as there); none past its end.
  std::vector<std::vector<std::string>> node_args;
  std::chrono::milliseconds form_timeout{30'000};
};

class TestCluster {
 public:
  explicit TestCluster(TestClusterOptions options) : options_(std::move(options)) {}

  [[nodiscard]] Status Start();

  NodeProcess& node(size_t i) { return *nodes_.at(i); }
  size_t size() const { return nodes_.size(); }
  std::vector<std::string> Addresses() const;
  std::string HostList() const;  // "a,b,c"
  // The port given to node i's "{port}" arguments.
  uint16_t ExtraPort(size_t i) const { return static_cast<uint16_t>(nodes_.at(i)->port() + 1000); }
  // The tail of every node's log, for failure messages.
  std::string Logs() const;
  // True once every node coordinates writes that need every replica (Start waits for it; call it
  // again after restarting nodes).
  bool WaitFormed();

 private:

  TestClusterOptions options_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
};

// Calls `attempt` every 50 ms until it returns true or `timeout` passes; returns whether it did.
bool PollUntil(std::chrono::milliseconds timeout, const std::function<bool()>& attempt);

}  // namespace ringkv::testing

#endif  // RINGKV_NODE_TESTING_TEST_CLUSTER_H_
