// End-to-end admin surfaces on a real three-node cluster started with --http: the Prometheus
// /metrics page (fetched over a plain TCP socket and checked line by line against the text
// exposition format), Info's new fields, and kvctl status / describecluster / tablestats in text
// and JSON, with all nodes up and with one SIGKILLed.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "node/testing/http_get.h"
#include "node/testing/raw_connection.h"
#include "node/testing/test_cluster.h"
#include "ringkv/client.h"

namespace ringkv::testing {
namespace {

std::string Body(const std::string& response) {
  const auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

// Checks a page against the text exposition format 0.0.4; returns the problems found, and the
// samples by "name{labels}".
std::vector<std::string> Validate(const std::string& page, std::map<std::string, double>* samples) {
  std::vector<std::string> problems;
  const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  const std::regex sample(
      R"re(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")*)?\})? ([^ ]+))re");
  std::map<std::string, std::string> types;
  std::istringstream in(page);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("# HELP", 0) == 0) {
      if (!std::regex_match(line, m, help)) problems.push_back("bad HELP: " + line);
      continue;
    }
    if (line.rfind("# TYPE", 0) == 0) {
      if (!std::regex_match(line, m, type)) {
        problems.push_back("bad TYPE: " + line);
      } else {
        types[m[1]] = m[2];
      }
      continue;
    }
    if (line[0] == '#') continue;
    if (!std::regex_match(line, m, sample)) {
      problems.push_back("bad sample: " + line);
      continue;
    }
    const std::string name = m[1];
    std::string value = m[7];
    char* end = nullptr;
    const double v = value == "+Inf" ? INFINITY : std::strtod(value.c_str(), &end);
    if (value != "+Inf" && (end == nullptr || *end != '\0')) {
      problems.push_back("bad value: " + line);
    }
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s(suffix);
      if (family.size() > s.size() && family.compare(family.size() - s.size(), s.size(), s) == 0 &&
          types.count(family.substr(0, family.size() - s.size())) > 0) {
        family = family.substr(0, family.size() - s.size());
      }
    }
    if (types.count(family) == 0) problems.push_back("sample before its TYPE: " + line);
    (*samples)[name + std::string(m[2])] = v;
  }
  // Histograms: cumulative buckets never decrease, and +Inf equals _count.
  std::map<std::string, double> last;
  for (const auto& [key, v] : *samples) {
    const auto b = key.find("_bucket{");
    if (b == std::string::npos) continue;
    const auto le = key.find(",le=\"");
    const std::string series = key.substr(0, le);
    const std::string bound = key.substr(le + 5, key.size() - le - 7);
    if (bound == "+Inf") {
      const std::string count = key.substr(0, b) + "_count" + key.substr(b + 7, le - b - 7) + "}";
      if (samples->count(count) == 0 || samples->at(count) != v) {
        problems.push_back("+Inf bucket differs from _count: " + key);
      }
    }
  }
  // Monotone, in the order the page lists buckets.
  std::istringstream again(page);
  std::string prev_series;
  double prev = 0;
  while (std::getline(again, line)) {
    const auto b = line.find("_bucket{");
    if (b == std::string::npos || line[0] == '#') continue;
    const std::string series = line.substr(0, line.find(",le=\""));
    const double v = std::strtod(line.substr(line.rfind(' ') + 1).c_str(), nullptr);
    if (series == prev_series && v < prev) problems.push_back("bucket decreases: " + line);
    prev_series = series;
    prev = v;
  }
  return problems;
}

class KvnodeAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("admin");
    TestClusterOptions options;
    options.dir = dir_;
    options.extra_args = {"--http", "127.0.0.1:{port}"};
    cluster_ = std::make_unique<TestCluster>(options);
    Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString() << cluster_->Logs();
    ClientOptions client_options;
    client_options.contact_points = {cluster_->node(0).address()};
    client_options.token_aware = false;  // node 0 coordinates everything
    client_ = std::make_unique<Client>(client_options);
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(client_->Put(fmt::format("users{}{}", '\0', i), "row").ok());
      ASSERT_TRUE(client_->Put(fmt::format("plain:{}", i), "v").ok());
      ASSERT_TRUE(client_->Get(fmt::format("plain:{}", i)).ok());
    }
  }
  void TearDown() override {
    client_.reset();
    cluster_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // kvctl with --host node `at`'s address only.
  nlohmann::json KvctlJson(std::vector<std::string> args, size_t at = 0) {
    std::vector<std::string> argv = {NodeProcess::KvctlPath(), "--host",
                                     cluster_->node(at).address(), "--format", "json",
                                     "--timeout-ms", "3000"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  std::string KvctlText(std::vector<std::string> args, size_t at = 0) {
    std::vector<std::string> argv = {NodeProcess::KvctlPath(), "--host",
                                     cluster_->node(at).address(), "--timeout-ms", "3000"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  std::string dir_;
  std::unique_ptr<TestCluster> cluster_;
  std::unique_ptr<Client> client_;
};

TEST_F(KvnodeAdminTest, MetricsPageIsValidExpositionAndCountersMove) {
  const uint16_t port = cluster_->ExtraPort(0);
  const std::string response = HttpGet(port, "/metrics");
  ASSERT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  EXPECT_NE(response.find("text/plain; version=0.0.4"), std::string::npos);
  std::map<std::string, double> samples;
  const auto problems = Validate(Body(response), &samples);
  EXPECT_TRUE(problems.empty()) << fmt::format("{}", fmt::join(problems, "\n"));
  EXPECT_GE(samples[R"(ringkv_request_duration_seconds_count{op="put",consistency="default"})"], 40);
  EXPECT_GE(samples[R"(ringkv_request_duration_seconds_count{op="get",consistency="default"})"], 20);
  EXPECT_GE(samples["ringkv_replica_writes_total"], 40);
  EXPECT_GE(samples["ringkv_coordinator_writes_total"], 40);
  EXPECT_GT(samples["ringkv_storage_bytes"], 0);
  EXPECT_EQ(samples[R"(ringkv_peer_up{peer="n2"})"], 1);
  EXPECT_EQ(samples.count("ringkv_aae_exchanges_total"), 1u);
  EXPECT_GT(samples[R"(ringkv_gossip_bytes_total{direction="sent"})"], 0);
  EXPECT_GT(samples[R"(ringkv_gossip_bytes_total{direction="received"})"], 0);
  EXPECT_TRUE(PollUntil(std::chrono::milliseconds(10'000), [&] {
    std::map<std::string, double> now;
    return Validate(Body(HttpGet(port, "/metrics")), &now).empty() &&
           now["ringkv_aae_tree_bytes"] > 0;
  })) << "the trees are built once the ring is known";
  EXPECT_EQ(samples.count("ringkv_requests_in_flight"), 1u);

  // Counters move with traffic.
  ASSERT_TRUE(client_->Get("plain:1").ok());
  std::map<std::string, double> later;
  EXPECT_TRUE(Validate(Body(HttpGet(port, "/metrics")), &later).empty());
  EXPECT_GT(later[R"(ringkv_request_duration_seconds_count{op="get",consistency="default"})"],
            samples[R"(ringkv_request_duration_seconds_count{op="get",consistency="default"})"]);

  EXPECT_EQ(HttpGet(port, "/nope").rfind("HTTP/1.1 404", 0), 0u);
}

// Gossip is for peers that proved the cluster secret: a client's gossipSyn and a peer hello with
// a wrong secret are refused, and counted.
TEST_F(KvnodeAdminTest, StrangersAreRefusedAndCounted) {
  const uint16_t http = cluster_->ExtraPort(0);
  auto refused = [http] {
    std::map<std::string, double> samples;
    EXPECT_TRUE(Validate(Body(HttpGet(http, "/metrics")), &samples).empty());
    return samples["ringkv_strangers_refused_total"];
  };
  const double before = refused();
  auto client = RawConnection::Connect(cluster_->node(0).port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client.value()->Handshake().ok());
  capnp::MallocMessageBuilder m;
  auto frame = m.initRoot<wire::Frame>();
  frame.setRequestId(5);
  frame.initGossipSyn().setFrom("intruder");
  ASSERT_TRUE(client.value()->Send(m).ok());
  auto reply = client.value()->ReadFrame();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_EQ(reply.value()->root().which(), wire::Frame::ERROR);
  EXPECT_EQ(reply.value()->root().getError().getCode(), wire::ErrorCode::UNAUTHORIZED);

  auto peer = RawConnection::Connect(cluster_->node(0).port());
  ASSERT_TRUE(peer.ok());
  auto refusal = peer.value()->Hello("", "not the secret");
  ASSERT_TRUE(refusal.ok());
  ASSERT_EQ(refusal.value()->root().which(), wire::Frame::ERROR);
  EXPECT_EQ(refusal.value()->root().getError().getCode(), wire::ErrorCode::UNAUTHORIZED);
  EXPECT_EQ(refused(), before + 2);
}

TEST_F(KvnodeAdminTest, InfoStatusDescribeclusterTablestats) {
  std::set<std::string> versions;
  for (size_t i = 0; i < cluster_->size(); ++i) {
    auto info = client_->InfoOf(cluster_->node(i).address());
    ASSERT_TRUE(info.ok()) << info.error().ToString();
    EXPECT_NE(info->host_id, 0u);
    EXPECT_EQ(info->tokens, 16u);
    EXPECT_EQ(info->http_address, fmt::format("127.0.0.1:{}", cluster_->ExtraPort(i)));
    EXPECT_GT(info->storage_bytes_approx, 0u);
    versions.insert(info->schema_version);
    bool users = false;
    for (const auto& k : info->keyspace_stats) users |= k.table == "users" && k.keys_approx == 20;
    EXPECT_TRUE(users) << "every node replicates the 20 users rows (N = 3)";
  }
  EXPECT_EQ(versions.size(), 1u);

  const std::string status = KvctlText({"status"});
  EXPECT_EQ(status.rfind("Status as seen by n1 (" + cluster_->node(0).address() + ")\n", 0), 0u)
      << status;
  EXPECT_NE(status.find("Datacenter: "), std::string::npos) << status;
  EXPECT_NE(status.find("Status=Up/Down"), std::string::npos);
  EXPECT_NE(status.find("Owns (effective)"), std::string::npos);
  size_t un = 0;
  for (size_t at = status.find("\nUN  "); at != std::string::npos; at = status.find("\nUN  ", at + 1)) ++un;
  EXPECT_EQ(un, 3u) << status;
  auto js = KvctlJson({"status"});
  ASSERT_EQ(js["nodes"].size(), 3u);
  EXPECT_EQ(js["nodes"][0]["status"], "UN");
  EXPECT_EQ(js["nodes"][0]["state"], "Normal");
  EXPECT_EQ(js["view_of"]["name"], "n1");
  EXPECT_EQ(js["view_of"]["address"], cluster_->node(0).address());
  EXPECT_EQ(KvctlJson({"status"}, 1)["view_of"]["name"], "n2");

  auto dc = KvctlJson({"describecluster"});
  EXPECT_EQ(dc["agree"], true);
  EXPECT_EQ(dc["partitioner"], "Murmur3Partitioner");
  EXPECT_EQ(dc["schema_versions"].size(), 1u);
  EXPECT_NE(KvctlText({"describecluster"}).find("All nodes agree"), std::string::npos);

  auto ts = KvctlJson({"tablestats", "default.users"});
  ASSERT_EQ(ts["keyspaces"].size(), 1u);
  ASSERT_EQ(ts["keyspaces"][0]["tables"].size(), 1u);
  EXPECT_EQ(ts["keyspaces"][0]["tables"][0]["keys_approx"], 60) << "20 keys on 3 replicas";
  EXPECT_GE(ts["keyspaces"][0]["tables"][0]["writes"].get<int>(), 60);
  EXPECT_NE(KvctlText({"tablestats"}).find("Table: users"), std::string::npos);

  // One node down.
  cluster_->node(2).Kill();
  ASSERT_TRUE(PollUntil(std::chrono::milliseconds(15'000), [&] {
    auto j = KvctlJson({"status"});
    return j["nodes"].size() == 3 && j["nodes"][2]["status"] == "DN" &&
           j["nodes"][2]["load_bytes"].is_null();
  }));
  const std::string down = KvctlText({"status"});
  EXPECT_NE(down.find("DN  " + cluster_->node(2).address() + "  ?"), std::string::npos) << down;
  // Asked of n2, the answer is n2's view, and says so: n3 is down there too (its own failure
  // detector, polled: it may decide a moment later than n1's).
  ASSERT_TRUE(PollUntil(std::chrono::milliseconds(15'000), [&] {
    auto j = KvctlJson({"status"}, 1);
    return j["view_of"]["name"] == "n2" && j["nodes"].size() == 3 &&
           j["nodes"][1]["status"] == "UN" && j["nodes"][2]["status"] == "DN";
  }));
  const std::string down_at_n2 = KvctlText({"status"}, 1);
  EXPECT_EQ(down_at_n2.rfind("Status as seen by n2 (" + cluster_->node(1).address() + ")\n", 0),
            0u)
      << down_at_n2;
  EXPECT_NE(down_at_n2.find("DN  " + cluster_->node(2).address()), std::string::npos)
      << down_at_n2;
  dc = KvctlJson({"describecluster"});
  EXPECT_EQ(dc["unreachable"].size(), 1u);
  EXPECT_EQ(dc["agree"], true);
  ts = KvctlJson({"tablestats", "default"});
  EXPECT_EQ(ts["unreachable"].size(), 1u);
}

TEST_F(KvnodeAdminTest, TracesSayWhatTheCoordinatorDid) {
  ReadOptions read;
  read.trace = true;
  auto got = client_->Get("plain:3", read);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  ASSERT_TRUE(got->trace.has_value());
  EXPECT_EQ(got->trace->coordinator, "n1");
  EXPECT_EQ(got->trace->replicas_asked.size(), 3u);
  EXPECT_GE(got->trace->replicas_answered.size(), 2u);
  EXPECT_EQ(got->trace->siblings, 1u);
  EXPECT_GT(got->trace->duration_us, 0u);
  ASSERT_FALSE(got->trace->events.empty());
  EXPECT_NE(got->trace->events.front().activity.find("get received"), std::string::npos);
  EXPECT_FALSE(client_->Get("plain:3").value().trace.has_value()) << "only when asked";

  // A write coordinated through a node outside the key's replicas carries the replica's trace.
  ASSERT_TRUE(client_->CreateKeyspace("one", 1).ok());
  WriteOptions write;
  write.keyspace = "one";
  write.trace = true;
  bool forwarded = false;
  for (int i = 0; i < 30 && !forwarded; ++i) {
    auto put = client_->Put(fmt::format("k{}", i), "v", write);
    ASSERT_TRUE(put.ok()) << put.error().ToString();
    ASSERT_TRUE(put->trace.has_value());
    for (const auto& e : put->trace->events) {
      forwarded |= e.activity.find("forwarded to") != std::string::npos;
    }
    if (forwarded) {
      bool remote_stored = false;
      for (const auto& e : put->trace->events) {
        remote_stored |= e.node != "" && e.node != "n1" &&
                         e.activity.find("stored locally") != std::string::npos;
      }
      EXPECT_TRUE(remote_stored) << "the remote coordinator's events are appended";
    }
  }
  EXPECT_TRUE(forwarded) << "with replication factor 1, most keys live on another node";

  auto j = KvctlJson({"get", "--trace", "plain:3"});
  EXPECT_TRUE(j["trace"]["events"].is_array());
  EXPECT_NE(KvctlText({"del", "--trace", "plain:4"}).find("Tracing (coordinator"),
            std::string::npos);
}

}  // namespace
}  // namespace ringkv::testing
