// TestCluster: three real kvnode processes on 127.0.0.1 for the kvload and pipeline end-to-end
// tests (static membership: every node gets --seeds naming all three). Ports are three
// consecutive ones from a random base in [20000, 32000); a taken port moves the whole cluster.
// Start() returns once every node coordinates a write that needs all three replicas (polled
// with a deadline, never a fixed sleep).
//
// Thread safety: none. Ownership: the nodes are its children; the destructor SIGKILLs them and
// removes their data unless keep() was called (a failed test keeps it for a post-mortem).
#ifndef RINGKV_TOOLS_KVLOAD_TEST_CLUSTER_H_
#define RINGKV_TOOLS_KVLOAD_TEST_CLUSTER_H_

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "node/testing/node_process.h"
#include "ringkv/client.h"

namespace ringkv::testing {

// Calls `attempt` until it returns true or `timeout` passes.
inline bool PollUntil(std::chrono::milliseconds timeout, const std::function<bool()>& attempt) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (attempt()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

class TestCluster {
 public:
  static constexpr size_t kNodes = 3;

  explicit TestCluster(std::string tag) : dir_(TempDir(tag)) {}
  ~TestCluster() {
    nodes_.clear();
    if (!keep_) std::filesystem::remove_all(dir_);
  }
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  void keep() { keep_ = true; }
  const std::string& dir() const { return dir_; }

  Status Start() {
    std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ std::random_device{}());
    Status last = Status::IoError("no attempt made");
    for (int attempt = 0; attempt < 10; ++attempt) {
      const auto base = static_cast<uint16_t>(20000 + rng() % (12000 - kNodes));
      std::string seeds;
      for (size_t i = 0; i < kNodes; ++i) {
        seeds += fmt::format("{}127.0.0.1:{}", i == 0 ? "" : ",", base + i);
      }
      nodes_.clear();
      last = Status::Ok();
      for (size_t i = 0; i < kNodes && last.ok(); ++i) {
        NodeProcessOptions options;
        options.name = fmt::format("n{}", i + 1);
        options.data_dir = fmt::format("{}/try{}/n{}", dir_, attempt, i + 1);
        options.port = static_cast<uint16_t>(base + i);
        options.extra_args = {"--seeds", seeds};
        nodes_.push_back(std::make_unique<NodeProcess>(options));
        last = nodes_.back()->Start();
      }
      if (last.ok()) return WaitFormed() ? last : Status::IoError("the cluster did not form");
      if (last.message().find("cannot listen") == std::string::npos) return last;
    }
    return last;
  }

  // Every node coordinates a write that needs all three replicas: each knows the others up.
  bool WaitFormed() {
    std::vector<std::unique_ptr<Client>> clients;
    for (const auto& n : nodes_) clients.push_back(NewClient({n->address()}, false));
    return PollUntil(std::chrono::milliseconds(30'000), [&] {
      for (size_t i = 0; i < clients.size(); ++i) {
        WriteOptions w;
        w.w = 3;
        if (!clients[i]->Put(fmt::format("probe:{}", i), "x", w).ok()) return false;
      }
      return true;
    });
  }

  std::unique_ptr<Client> NewClient(std::vector<std::string> contact_points = {},
                                    bool token_aware = true) const {
    ClientOptions options;
    options.contact_points = contact_points.empty() ? addresses() : std::move(contact_points);
    options.request_timeout = std::chrono::milliseconds(4000);
    options.token_aware = token_aware;
    return std::make_unique<Client>(options);
  }
  std::vector<std::string> addresses() const {
    std::vector<std::string> out;
    for (const auto& n : nodes_) out.push_back(n->address());
    return out;
  }
  std::string hosts() const { return fmt::format("{}", fmt::join(addresses(), ",")); }
  NodeProcess& node(size_t i) { return *nodes_.at(i); }
  std::string Logs() const {
    std::string out;
    for (const auto& n : nodes_) {
      std::string log = n->log();
      if (log.size() > 3000) log = "..." + log.substr(log.size() - 3000);
      out += fmt::format("\n----- {} -----\n{}", n->address(), log);
    }
    return out;
  }

 private:
  std::string dir_;
  bool keep_ = false;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
};

}  // namespace ringkv::testing

#endif  // RINGKV_TOOLS_KVLOAD_TEST_CLUSTER_H_
