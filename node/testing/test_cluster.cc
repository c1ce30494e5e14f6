#include "node/testing/test_cluster.h"

#include <fmt/format.h>
#include <unistd.h>

#include <random>
#include <thread>

namespace ringkv::testing {

bool PollUntil(std::chrono::milliseconds timeout, const std::function<bool()>& attempt) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (attempt()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Status TestCluster::Start() {
  const size_t n = options_.nodes;
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ std::random_device{}());
  Status last = Status::IoError("no attempt made");
  for (int attempt = 0; attempt < 10; ++attempt) {
    // Room above the base for the nodes and their "{port}" ports (+1000), all below 32768.
    const auto base = static_cast<uint16_t>(20000 + rng() % (10000 - n));
    std::string seeds;
    for (size_t i = 0; i < n; ++i) seeds += fmt::format("{}127.0.0.1:{}", i == 0 ? "" : ",", base + i);
    nodes_.clear();
    last = Status::Ok();
    for (size_t i = 0; i < n && last.ok(); ++i) {
      NodeProcessOptions o;
      o.name = fmt::format("n{}", i + 1);
      o.data_dir = fmt::format("{}/try{}/n{}", options_.dir, attempt, i + 1);
      o.port = static_cast<uint16_t>(base + i);
      o.extra_args = {"--seeds", seeds};
      std::vector<std::string> args = options_.extra_args;
      if (i < options_.node_args.size()) {
        args.insert(args.end(), options_.node_args[i].begin(), options_.node_args[i].end());
      }
      for (std::string arg : args) {
        const auto at = arg.find("{port}");
        if (at != std::string::npos) arg.replace(at, 6, std::to_string(base + i + 1000));
        o.extra_args.push_back(arg);
      }
      nodes_.push_back(std::make_unique<NodeProcess>(o));
      last = nodes_.back()->Start();
    }
    if (last.ok()) break;
    if (last.message().find("cannot listen") == std::string::npos &&
        last.message().find("Address already in use") == std::string::npos) {
      return last;
    }
  }
  if (!last.ok()) return last;
  if (!WaitFormed()) {
    return Status::Timeout(fmt::format("the cluster did not form within {} ms",
                                       options_.form_timeout.count()),
                           false);
  }
  return Status::Ok();
}

bool TestCluster::WaitFormed() {
  // kvctl through each node with W = all: succeeds only once that node knows every other member
  // and believes it up. Not token-aware routing matters little: a put is coordinated by a replica,
  // and with N = nodes every node is one.
  return PollUntil(options_.form_timeout, [&] {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      auto r = RunCommand({NodeProcess::KvctlPath(), "--host", nodes_[i]->address(),
                           "--timeout-ms", "2000", "put", fmt::format("probe:formed:{}", i), "x",
                           "--w", std::to_string(std::min<size_t>(nodes_.size(), 3))});
      if (r.exit_code != 0) return false;
      auto ring = RunCommand({NodeProcess::KvctlPath(), "--host", nodes_[i]->address(),
                              "--format", "json", "ring"});
      if (ring.exit_code != 0) return false;
      // Every member listed as up.
      size_t ups = 0;
      for (size_t at = ring.out.find("\"up\":true"); at != std::string::npos;
           at = ring.out.find("\"up\":true", at + 1)) {
        ++ups;
      }
      if (ups < nodes_.size()) return false;
    }
    return true;
  });
}

std::vector<std::string> TestCluster::Addresses() const {
  std::vector<std::string> out;
  for (const auto& n : nodes_) out.push_back(n->address());
  return out;
}

std::string TestCluster::HostList() const { return fmt::format("{}", fmt::join(Addresses(), ",")); }

std::string TestCluster::Logs() const {
  std::string out;
  for (const auto& n : nodes_) {
    std::string log = n->log();
    if (log.size() > 6000) log = "..." + log.substr(log.size() - 6000);
    out += fmt::format("\n----- {} log -----\n{}", n->address(), log);
  }
  return out;
}

}  // namespace ringkv::testing
