// End-to-end on a real three-node cluster: kvnode processes on 127.0.0.1 with static membership
// (every node gets --seeds naming all three), keyspace "default" with N=3, driven through the
// client library and kvctl. Crashes are SIGKILL, hangs are SIGSTOP; every wait polls a deadline.
//
// What the tests hold the cluster to (DESIGN.md §4):
//   - a QUORUM write survives the loss of any one node and reads back at QUORUM;
//   - with two of three replicas down, QUORUM fails at once with UNAVAILABLE (needed 2, alive 1),
//     not by running into the deadline, while ONE still reads;
//   - two writes with no shared context become siblings; a write with the merged context
//     supersedes both;
//   - a node restarted on its data rejoins, serves QUORUM, and read repair gives it the write it
//     missed while it was down (checked on that node alone: its peers SIGSTOPped, a ONE read
//     coordinated by it can only be answered by its own replica).
//
// Each test starts its own cluster, on three consecutive ports from a random base in
// [20000, 32000), and waits until every node sees all three up. A failed test leaves its data
// directories and logs under $TMPDIR/ringkv-cluster-* for a post-mortem.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "node/testing/node_process.h"
#include "ringkv/client.h"

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr size_t kNodes = 3;
constexpr milliseconds kFormTimeout{30'000};
constexpr milliseconds kPollInterval{50};
// The deadline of requests whose speed a test measures: UNAVAILABLE must come back in well
// under half of it.
constexpr milliseconds kRequestTimeout{4'000};

std::string KvctlPath() { return NodeProcess::KvctlPath(); }

milliseconds Since(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
}

// Calls `attempt` until it returns true or `timeout` passes; returns whether it succeeded.
bool PollUntil(milliseconds timeout, const std::function<bool()>& attempt) {
  const auto deadline = steady_clock::now() + timeout;
  while (true) {
    if (attempt()) return true;
    if (steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::string ErrorText(const Error& e) {
  return fmt::format("{} (needed {}, alive {})", e.ToString(), e.needed(), e.alive());
}

// SIGSTOPs a node for the guard's lifetime: its process hangs with its connections open, so its
// peers still believe it up but get no answer from it. SIGCONT on destruction, whatever happens.
class PauseGuard {
 public:
  explicit PauseGuard(const NodeProcess& node) : pid_(node.pid()) {
    if (pid_ > 0) ::kill(pid_, SIGSTOP);
  }
  ~PauseGuard() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
  }
  PauseGuard(const PauseGuard&) = delete;
  PauseGuard& operator=(const PauseGuard&) = delete;

 private:
  pid_t pid_;
};

class KvnodeClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("cluster");
    Status s = StartCluster();
    ASSERT_TRUE(s.ok()) << s.ToString() << Logs();
    ASSERT_TRUE(WaitAllSeeAllUp()) << "the cluster did not form within " << kFormTimeout.count()
                                   << " ms: W=3 writes and reads through the next node never all "
                                      "succeeded"
                                   << Logs();
  }
  void TearDown() override {
    nodes_.clear();                                        // SIGKILLs whatever still runs
    if (!HasFailure()) std::filesystem::remove_all(dir_);  // else kept for a post-mortem
  }

  // Three nodes on three consecutive ports from a random base in [20000, 32000). Every node must
  // know every address before it starts, so a port someone else holds restarts the whole cluster
  // on another base.
  Status StartCluster() {
    std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ std::random_device{}());
    Status last = Status::IoError("no attempt made");
    for (int attempt = 0; attempt < 10; ++attempt) {
      const uint16_t base = static_cast<uint16_t>(20000 + rng() % (12000 - kNodes));
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
      if (last.ok()) return last;
      if (last.message().find("cannot listen") == std::string::npos) return last;
    }
    return last;
  }

  // Formed: every node coordinates a QUORUM write and a write that needs all three replicas,
  // and the value reads back through the next node; so every node has learnt the other two and
  // believes them up. (Before the nodes know each other each is a ring of one, where QUORUM
  // alone would already succeed.) The clients are not token-aware, so that node i, not the
  // key's first replica, coordinates what is sent to node i.
  bool WaitAllSeeAllUp() {
    std::vector<std::unique_ptr<Client>> clients;
    for (const auto& node : nodes_) {
      clients.push_back(NewClient({node->address()}, /*token_aware=*/false));
    }
    return PollUntil(kFormTimeout, [&] {
      for (size_t i = 0; i < clients.size(); ++i) {
        const std::string key = fmt::format("probe:formed:{}", i);
        WriteOptions all_three = Write(Consistency::kQuorum);
        all_three.w = 3;
        if (!clients[i]->Put(key, "q", Write(Consistency::kQuorum)).ok()) return false;
        if (!clients[i]->Put(key, "w3", all_three).ok()) return false;
        auto got = clients[(i + 1) % clients.size()]->Get(key, Read(Consistency::kQuorum));
        if (!got.ok() || !got->found) return false;
      }
      return true;
    });
  }

  NodeProcess& node(size_t i) { return *nodes_.at(i); }

  // `token_aware` false: every request goes to the contact points, so a test decides which node
  // coordinates (a token-aware client sends each key to its first replica that is up).
  std::unique_ptr<Client> NewClient(std::vector<std::string> contact_points,
                                    bool token_aware = true) {
    ClientOptions options;
    options.contact_points = std::move(contact_points);
    options.request_timeout = kRequestTimeout;
    options.token_aware = token_aware;
    return std::make_unique<Client>(options);
  }
  std::vector<std::string> AllAddresses() {
    std::vector<std::string> out;
    for (const auto& n : nodes_) out.push_back(n->address());
    return out;
  }
  std::string HostList(const std::vector<std::string>& addresses) {
    return fmt::format("{}", fmt::join(addresses, ","));
  }

  CommandResult Kvctl(const std::string& hosts, std::vector<std::string> args) {
    std::vector<std::string> argv = {KvctlPath(), "--host", hosts, "--timeout-ms",
                                     std::to_string(kRequestTimeout.count())};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }

  // Every node's log, for failure messages.
  std::string Logs() {
    std::string out;
    for (const auto& n : nodes_) {
      std::string log = n->log();
      if (log.size() > 6000) log = "..." + log.substr(log.size() - 6000);
      out += fmt::format("\n----- {} log -----\n{}", n->address(), log);
    }
    return out;
  }

  static ReadOptions Read(Consistency c) {
    ReadOptions r;
    r.consistency = c;
    r.timeout = kRequestTimeout;
    return r;
  }
  static WriteOptions Write(Consistency c, std::string context = "") {
    WriteOptions w;
    w.consistency = c;
    w.context = std::move(context);
    w.timeout = kRequestTimeout;
    return w;
  }

  std::string dir_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
};

const std::string kDoc =
    R"({"url":"https://example.org/a","lang":"en","quality":0.91,"dedup":"mh:5f1c9a","shard":17,"stage":"dedup"})";

TEST_F(KvnodeClusterTest, QuorumWriteSurvivesOneNodeKilled) {
  auto client = NewClient(AllAddresses());
  auto put = client->Put("doc:1", kDoc, Write(Consistency::kQuorum));
  ASSERT_TRUE(put.ok()) << ErrorText(put.error()) << Logs();

  // The first contact point dies: the client moves on to the next for the read.
  node(0).Kill();
  auto got = client->Get("doc:1", Read(Consistency::kQuorum));
  ASSERT_TRUE(got.ok()) << ErrorText(got.error()) << Logs();
  ASSERT_TRUE(got->found);
  ASSERT_EQ(got->siblings.size(), 1u);
  EXPECT_EQ(got->siblings[0].value, kDoc);

  // kvctl, through every address (the dead one first) and through each survivor alone.
  for (const std::string& hosts :
       {HostList(AllAddresses()), node(1).address(), node(2).address()}) {
    auto r = Kvctl(hosts, {"get", "doc:1", "--cl", "quorum"});
    EXPECT_EQ(r.exit_code, 0) << hosts << ": " << r.err << Logs();
    EXPECT_EQ(r.out, kDoc) << hosts;
  }

  // And the surviving two still take QUORUM writes.
  auto again = Kvctl(node(2).address(), {"put", "doc:2", kDoc, "--cl", "quorum"});
  EXPECT_EQ(again.exit_code, 0) << again.err << Logs();
  got = client->Get("doc:2", Read(Consistency::kQuorum));
  ASSERT_TRUE(got.ok()) << ErrorText(got.error());
  EXPECT_TRUE(got->found);
}

TEST_F(KvnodeClusterTest, TwoNodesDownQuorumIsUnavailableAtOnceWhileOneReads) {
  auto writer = NewClient({node(0).address()});
  ASSERT_TRUE(writer->Put("doc:1", kDoc, Write(Consistency::kQuorum)).ok()) << Logs();
  // ALL, so the survivor holds the value whichever two replicas took the QUORUM write.
  ASSERT_TRUE(writer->Put("doc:all", kDoc, Write(Consistency::kAll)).ok()) << Logs();
  writer.reset();

  node(1).Kill();
  node(2).Kill();
  auto client = NewClient({node(0).address()});

  auto start = steady_clock::now();
  auto got = client->Get("doc:1", Read(Consistency::kQuorum));
  const milliseconds read_took = Since(start);
  ASSERT_FALSE(got.ok()) << "a QUORUM read with one replica of three up";
  EXPECT_EQ(got.error().code(), ErrorCode::kUnavailable) << ErrorText(got.error());
  EXPECT_EQ(got.error().needed(), 2u) << ErrorText(got.error());
  EXPECT_EQ(got.error().alive(), 1u) << ErrorText(got.error());
  EXPECT_LT(read_took, kRequestTimeout / 2) << "UNAVAILABLE must not wait for the deadline";

  start = steady_clock::now();
  auto put = client->Put("doc:new", kDoc, Write(Consistency::kQuorum));
  const milliseconds write_took = Since(start);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code(), ErrorCode::kUnavailable) << ErrorText(put.error());
  EXPECT_EQ(put.error().needed(), 2u) << ErrorText(put.error());
  EXPECT_EQ(put.error().alive(), 1u) << ErrorText(put.error());
  EXPECT_FALSE(put.error().in_doubt()) << "UNAVAILABLE means the write was not applied";
  EXPECT_LT(write_took, kRequestTimeout / 2);

  start = steady_clock::now();
  auto cli = Kvctl(node(0).address(), {"get", "doc:1", "--cl", "quorum"});
  const milliseconds kvctl_took = Since(start);
  EXPECT_EQ(cli.exit_code, 4) << cli.out << cli.err;
  EXPECT_LT(kvctl_took, kRequestTimeout / 2);
  cli = Kvctl(node(0).address(), {"--format", "json", "get", "doc:1", "--cl", "quorum"});
  EXPECT_EQ(cli.exit_code, 4);
  EXPECT_NE(cli.out.find("\"needed\":2"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("\"alive\":1"), std::string::npos) << cli.out;

  // ONE still reads, through the library and kvctl.
  got = client->Get("doc:all", Read(Consistency::kOne));
  ASSERT_TRUE(got.ok()) << ErrorText(got.error()) << Logs();
  ASSERT_TRUE(got->found);
  EXPECT_EQ(got->siblings.at(0).value, kDoc);
  cli = Kvctl(node(0).address(), {"get", "doc:all", "--cl", "one"});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(cli.out, kDoc);

  fmt::print("QUORUM unavailable after: read {} ms, write {} ms, kvctl {} ms (timeout {} ms)\n",
             read_took.count(), write_took.count(), kvctl_took.count(), kRequestTimeout.count());
}

TEST_F(KvnodeClusterTest, ConcurrentWritersMakeSiblingsAndTheMergedContextCollapsesThem) {
  // Two clients, neither having read the key, each writing through its own node (so two
  // coordinators issue the two versions).
  auto alice = NewClient({node(0).address()}, /*token_aware=*/false);
  auto bob = NewClient({node(1).address()}, /*token_aware=*/false);
  auto a = alice->PutAsync("cart:7", "alice:book", Write(Consistency::kQuorum));
  auto b = bob->PutAsync("cart:7", "bob:pen", Write(Consistency::kQuorum));
  auto ra = a.get();
  auto rb = b.get();
  ASSERT_TRUE(ra.ok()) << ErrorText(ra.error()) << Logs();
  ASSERT_TRUE(rb.ok()) << ErrorText(rb.error()) << Logs();

  auto reader = NewClient({node(2).address()});
  auto got = reader->Get("cart:7", Read(Consistency::kQuorum));
  ASSERT_TRUE(got.ok()) << ErrorText(got.error());
  ASSERT_EQ(got->siblings.size(), 2u) << "two writes that did not see each other are siblings";
  std::vector<std::string> values;
  for (const auto& s : got->siblings) values.push_back(s.value);
  std::sort(values.begin(), values.end());
  EXPECT_EQ(values, (std::vector<std::string>{"alice:book", "bob:pen"}));

  // kvctl shows both too, one per line.
  auto cli = Kvctl(node(1).address(), {"get", "cart:7", "--cl", "quorum"});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("alice:book"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("bob:pen"), std::string::npos) << cli.out;

  // Resolve: one write carrying the merged context supersedes both.
  auto resolved =
      reader->Put("cart:7", "alice:book+bob:pen", Write(Consistency::kQuorum, got->context));
  ASSERT_TRUE(resolved.ok()) << ErrorText(resolved.error());
  EXPECT_EQ(resolved->siblings, 1u);
  for (size_t i = 0; i < kNodes; ++i) {
    auto via = NewClient({node(i).address()}, /*token_aware=*/false);
    auto after = via->Get("cart:7", Read(Consistency::kQuorum));
    ASSERT_TRUE(after.ok()) << ErrorText(after.error());
    ASSERT_EQ(after->siblings.size(), 1u) << "through " << node(i).address();
    EXPECT_EQ(after->siblings[0].value, "alice:book+bob:pen");
  }
  auto all = reader->Get("cart:7", Read(Consistency::kAll));
  ASSERT_TRUE(all.ok()) << ErrorText(all.error());
  EXPECT_EQ(all->siblings.size(), 1u);
}

TEST_F(KvnodeClusterTest, RestartedNodeRejoinsServesQuorumAndIsRepaired) {
  auto client = NewClient({node(0).address()});
  ASSERT_TRUE(client->Put("doc:1", "v1", Write(Consistency::kAll)).ok()) << Logs();

  // n3 crashes; the cluster moves on without it.
  node(2).Kill();
  auto before = client->Get("doc:1", Read(Consistency::kQuorum));
  ASSERT_TRUE(before.ok()) << ErrorText(before.error());
  auto put = client->Put("doc:1", "v2", Write(Consistency::kQuorum, before->context));
  ASSERT_TRUE(put.ok()) << ErrorText(put.error()) << Logs();
  ASSERT_TRUE(
      client->Put("doc:missed", "born while n3 was down", Write(Consistency::kQuorum)).ok());

  // n3 comes back on its own data and port; wait until every node sees all three up.
  const auto restart_start = steady_clock::now();
  Status s = node(2).Start();
  ASSERT_TRUE(s.ok()) << s.ToString() << Logs();
  // Coordinated by n3 whatever the key: the checks below depend on which node coordinates.
  auto n3 = NewClient({node(2).address()}, /*token_aware=*/false);
  const bool rejoined = WaitAllSeeAllUp();
  ASSERT_TRUE(rejoined) << "n3 did not rejoin within " << kFormTimeout.count()
                        << " ms: some node did not see all three up" << Logs();
  fmt::print("n3 rejoined {} ms after its restart began\n", Since(restart_start).count());

  // n3 serves QUORUM: with n1 hung, a QUORUM write through n3 needs n3's own ack besides n2's,
  // and a QUORUM read through n2 needs n3's answer.
  {
    PauseGuard n1_hung(node(0));
    auto w = n3->Put("doc:n1-hung", "served by n2+n3", Write(Consistency::kQuorum));
    ASSERT_TRUE(w.ok()) << ErrorText(w.error()) << Logs();
    auto via_n2 = NewClient({node(1).address()}, /*token_aware=*/false);
    auto r = via_n2->Get("doc:n1-hung", Read(Consistency::kQuorum));
    ASSERT_TRUE(r.ok()) << ErrorText(r.error()) << Logs();
    EXPECT_TRUE(r->found);
  }

  // A QUORUM read coordinated by n3 merges n3's stale "v1" with "v2" and repairs n3. The
  // repair is asynchronous, so poll: read at QUORUM through n3, then check what n3 itself holds
  // by hanging n1 and n2 (SIGSTOP) and reading at ONE through n3, which only n3 can then answer.
  // (A ONE read through n3 with everyone up would not prove it: n3 asks every replica and takes
  // the first answer. And a token-aware client, kvctl's included, may send it to a hung node.)
  std::string seen_on_n3;
  const bool repaired = PollUntil(milliseconds(15'000), [&] {
    for (const char* key : {"doc:1", "doc:missed"}) {
      if (!n3->Get(key, Read(Consistency::kQuorum)).ok()) return false;
    }
    PauseGuard n1_hung(node(0));
    PauseGuard n2_hung(node(1));
    auto one = n3->Get("doc:1", Read(Consistency::kOne));
    auto missed = n3->Get("doc:missed", Read(Consistency::kOne));
    auto describe = [](const Expected<GetResult>& r) {
      if (!r.ok()) return ErrorText(r.error());
      if (!r->found) return std::string("not found");
      std::vector<std::string> values;
      for (const auto& sib : r->siblings) values.push_back(sib.value);
      return fmt::format("[{}]", fmt::join(values, ", "));
    };
    seen_on_n3 = fmt::format("doc:1 {}, doc:missed {}", describe(one), describe(missed));
    return one.ok() && one->siblings.size() == 1 && one->siblings[0].value == "v2" && missed.ok() &&
           missed->siblings.size() == 1 && missed->siblings[0].value == "born while n3 was down";
  });
  EXPECT_TRUE(repaired) << "n3 alone, at ONE, after QUORUM reads through it: " << seen_on_n3
                        << Logs();

  // With everyone up, ALL reads of both keys succeed and agree.
  for (const char* key : {"doc:1", "doc:missed"}) {
    auto all = Kvctl(node(2).address(), {"get", key, "--cl", "all"});
    EXPECT_EQ(all.exit_code, 0) << key << ": " << all.err;
  }
  auto all = n3->Get("doc:1", Read(Consistency::kAll));
  ASSERT_TRUE(all.ok()) << ErrorText(all.error());
  ASSERT_EQ(all->siblings.size(), 1u);
  EXPECT_EQ(all->siblings[0].value, "v2");
}

}  // namespace
}  // namespace ringkv::testing
