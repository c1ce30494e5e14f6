// ToolTestCluster: the three-node cluster of the kvload and pipeline end-to-end tests. A thin
// layer over node/testing's TestCluster (which starts the nodes and waits until every one
// coordinates a write that needs all three replicas) that adds what these tests share: a
// temporary directory of its own, removed unless keep() was called (a failed test keeps it for
// a post-mortem), and clients of the cluster.
//
// Thread safety: none. The nodes are its children; the destructor SIGKILLs them.
#ifndef RINGKV_TOOLS_KVLOAD_TEST_CLUSTER_H_
#define RINGKV_TOOLS_KVLOAD_TEST_CLUSTER_H_

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "node/testing/node_process.h"
#include "node/testing/test_cluster.h"
#include "ringkv/client.h"

namespace ringkv::testing {

class ToolTestCluster {
 public:
  explicit ToolTestCluster(const std::string& tag)
      : dir_(TempDir(tag)) {
    TestClusterOptions options;
    options.nodes = 3;
    options.dir = dir_;
    cluster_ = std::make_unique<TestCluster>(std::move(options));
  }
  ~ToolTestCluster() {
    cluster_.reset();  // the nodes stop before their data goes
    if (!keep_) std::filesystem::remove_all(dir_);
  }
  ToolTestCluster(const ToolTestCluster&) = delete;
  ToolTestCluster& operator=(const ToolTestCluster&) = delete;

  [[nodiscard]] Status Start() { return cluster_->Start(); }
  // After nodes were restarted: true once every node again coordinates writes at W=3.
  bool WaitFormed() { return cluster_->WaitFormed(); }
  void keep() { keep_ = true; }
  const std::string& dir() const { return dir_; }

  std::unique_ptr<Client> NewClient(std::vector<std::string> contact_points = {},
                                    bool token_aware = true) const {
    ClientOptions options;
    options.contact_points = contact_points.empty() ? addresses() : std::move(contact_points);
    options.request_timeout = std::chrono::milliseconds(4000);
    options.token_aware = token_aware;
    return std::make_unique<Client>(options);
  }
  std::vector<std::string> addresses() const { return cluster_->Addresses(); }
  std::string hosts() const { return cluster_->HostList(); }
  NodeProcess& node(size_t i) { return cluster_->node(i); }
  std::string Logs() const { return cluster_->Logs(); }

 private:
  std::string dir_;
  bool keep_ = false;
  std::unique_ptr<TestCluster> cluster_;
};

}  // namespace ringkv::testing

#endif  // RINGKV_TOOLS_KVLOAD_TEST_CLUSTER_H_
