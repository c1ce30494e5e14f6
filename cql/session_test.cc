// The Session end to end on a real three-node cluster (kvnode processes on 127.0.0.1, static
// membership with --seeds): every statement form through Session::Execute, errors with their kind
// and position, paging, token ranges, TTL / WRITETIME, batches, truncate, drop, schema agreement
// after CREATE KEYSPACE, and siblings under each conflict mode. Every wait polls a deadline; nodes
// are killed only by their own PIDs.
#include "cql/session.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cql/schema_agreement.h"
#include "node/testing/node_process.h"
#include "ringkv/client.h"

namespace ringkv::cql {
namespace {

using ringkv::testing::NodeProcess;
using ringkv::testing::NodeProcessOptions;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr size_t kNodes = 3;
constexpr milliseconds kFormTimeout{30'000};

bool PollUntil(milliseconds timeout, const std::function<bool()>& attempt) {
  const auto deadline = steady_clock::now() + timeout;
  while (true) {
    if (attempt()) return true;
    if (steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(50));
  }
}

// Three kvnodes on consecutive ports from a random base in [20000, 32000).
class Cluster {
 public:
  Cluster() : dir_(ringkv::testing::TempDir("cql-session")) {}
  ~Cluster() {
    nodes_.clear();
    if (!keep_) std::filesystem::remove_all(dir_);
  }
  void keep() { keep_ = true; }

  Status Start() {
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
      if (last.ok()) return WaitFormed() ? last : Status::IoError("cluster did not form");
      if (last.message().find("cannot listen") == std::string::npos) return last;
    }
    return last;
  }

  // Formed: every node coordinates a write that needs all three replicas.
  bool WaitFormed() {
    std::vector<std::unique_ptr<Client>> clients;
    for (const auto& n : nodes_) clients.push_back(NewClient({n->address()}, false));
    return PollUntil(kFormTimeout, [&] {
      for (size_t i = 0; i < clients.size(); ++i) {
        WriteOptions w;
        w.w = 3;
        if (!clients[i]->Put(fmt::format("probe:{}", i), "x", w).ok()) return false;
      }
      return true;
    });
  }

  std::unique_ptr<Client> NewClient(std::vector<std::string> contact_points,
                                    bool token_aware = true) {
    ClientOptions options;
    options.contact_points = std::move(contact_points);
    options.request_timeout = milliseconds(4000);
    options.token_aware = token_aware;
    return std::make_unique<Client>(options);
  }
  std::vector<std::string> addresses() const {
    std::vector<std::string> out;
    for (const auto& n : nodes_) out.push_back(n->address());
    return out;
  }
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

std::string Show(const std::optional<Value>& v) { return v ? v->ToDisplay() : "null"; }

// Rows as "a|b|c" strings, for compact expectations.
std::vector<std::string> Lines(const ResultSet& rs) {
  std::vector<std::string> out;
  for (const auto& row : rs.rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) line += (i ? "|" : "") + Show(row[i]);
    out.push_back(line);
  }
  return out;
}

class SessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster();
    Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString() << cluster_->Logs();
    client_ = cluster_->NewClient(cluster_->addresses()).release();
  }
  static void TearDownTestSuite() {
    delete client_;
    delete cluster_;
  }
  void SetUp() override {
    ASSERT_NE(client_, nullptr);
    session_ = std::make_unique<Session>(*client_);
  }
  void TearDown() override {
    if (HasFailure()) cluster_->keep();
  }

  // Runs a statement that must succeed.
  ResultSet Run(const std::string& cql, const std::vector<Value>& binds = {},
                const ExecuteOptions& options = {}) {
    auto r = session_->Execute(cql, binds, options);
    EXPECT_TRUE(r.ok()) << cql << "\n  -> " << (r.ok() ? "" : r.error().ToString());
    return r.ok() ? r.value() : ResultSet{};
  }
  // Runs a statement that must fail; returns the error.
  CqlError Fail(const std::string& cql, const std::vector<Value>& binds = {}) {
    auto r = session_->Execute(cql, binds);
    EXPECT_FALSE(r.ok()) << cql << " succeeded";
    return r.ok() ? CqlError{} : r.error();
  }
  // A keyspace unique to the test, created and USEd.
  void UseFreshKeyspace(const std::string& name) {
    Run(fmt::format("CREATE KEYSPACE IF NOT EXISTS {} WITH replication = {{'class': "
                    "'SimpleStrategy', 'replication_factor': 3}}",
                    name));
    Run("USE " + name);
  }

  static Cluster* cluster_;
  static Client* client_;
  std::unique_ptr<Session> session_;
};

Cluster* SessionTest::cluster_ = nullptr;
Client* SessionTest::client_ = nullptr;

TEST_F(SessionTest, KeyspacesTablesAndSchemaErrors) {
  auto e = Fail("USE nope");
  EXPECT_EQ(e.kind, ErrorKind::kInvalid);
  EXPECT_EQ(e.message, "Keyspace 'nope' does not exist");

  Run("CREATE KEYSPACE ddl WITH replication = {'class': 'SimpleStrategy', "
      "'replication_factor': 3}");
  e = Fail("CREATE KEYSPACE ddl WITH replication = {'class': 'SimpleStrategy', "
           "'replication_factor': 3}");
  EXPECT_EQ(e.kind, ErrorKind::kAlreadyExists);
  EXPECT_EQ(e.message, "Keyspace 'ddl' already exists");
  Run("CREATE KEYSPACE IF NOT EXISTS ddl WITH replication = {'class': 'SimpleStrategy', "
      "'replication_factor': 3}");
  auto use = Run("USE ddl");
  EXPECT_EQ(use.keyspace_changed, "ddl");
  EXPECT_EQ(session_->keyspace(), "ddl");

  Run("CREATE TABLE docs (doc_id text PRIMARY KEY, lang text, score double)");
  e = Fail("CREATE TABLE docs (doc_id text PRIMARY KEY, lang text)");
  EXPECT_EQ(e.kind, ErrorKind::kAlreadyExists);
  EXPECT_EQ(e.message, "Table 'ddl.docs' already exists");
  Run("CREATE TABLE IF NOT EXISTS docs (doc_id text PRIMARY KEY, lang text)");

  // Another session sees the schema (it reads the records, not a cache).
  Session other(*client_);
  auto tables = other.Tables("ddl");
  ASSERT_TRUE(tables.ok()) << tables.error().ToString();
  EXPECT_EQ(tables.value(), std::vector<std::string>{"docs"});
  auto keyspaces = other.Keyspaces();
  ASSERT_TRUE(keyspaces.ok());
  EXPECT_NE(std::find(keyspaces->begin(), keyspaces->end(), "ddl"), keyspaces->end());
  auto columns = other.Columns("ddl", "docs");
  ASSERT_TRUE(columns.ok());
  ASSERT_EQ(columns->size(), 3u);
  EXPECT_EQ((*columns)[0].name, "doc_id");
  auto described = other.DescribeTable("ddl", "docs");
  ASSERT_TRUE(described.ok());
  EXPECT_NE(described->find("doc_id text PRIMARY KEY"), std::string::npos) << *described;
  auto ks_described = other.DescribeKeyspace("ddl");
  ASSERT_TRUE(ks_described.ok());
  EXPECT_NE(ks_described->find("CREATE KEYSPACE ddl"), std::string::npos) << *ks_described;

  // Unknown table, unknown column (with its position), type errors at the literal.
  e = Fail("SELECT * FROM nothere");
  EXPECT_EQ(e.kind, ErrorKind::kInvalid);
  EXPECT_EQ(e.message, "table nothere does not exist");
  e = Fail("SELECT lnag FROM docs WHERE doc_id = 'a'");
  EXPECT_EQ(e.kind, ErrorKind::kInvalid);
  EXPECT_EQ(e.message, "Undefined column name lnag in table ddl.docs");
  EXPECT_EQ(e.line, 1);
  EXPECT_EQ(e.column, 8);
  e = Fail("INSERT INTO docs (doc_id, score)\nVALUES ('a', 'high')");
  EXPECT_EQ(e.kind, ErrorKind::kInvalid);
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.column, 14);
  e = Fail("INSERT INTO docs (lang) VALUES ('en')");
  EXPECT_EQ(e.message, "Some partition key parts are missing: doc_id");
  e = Fail("UPDATE docs SET lang = 'en' WHERE lang = 'x'");
  EXPECT_EQ(e.message, "Non PRIMARY KEY columns found in where clause: lang");
  e = Fail("UPDATE docs SET doc_id = 'b' WHERE doc_id = 'a'");
  EXPECT_EQ(e.message, "PRIMARY KEY part doc_id found in SET part");
  e = Fail("SELECT * FROM docs WHERE doc_id = ?");
  EXPECT_EQ(e.message, "There were 1 markers(?) in CQL but 0 bound variables");
  e = Fail("SELECT * FROM docs WHERE lang = 'en'");
  EXPECT_NE(e.message.find("ALLOW FILTERING"), std::string::npos);
  e = Fail("SELEC * FROM docs");
  EXPECT_EQ(e.kind, ErrorKind::kSyntax);
  e = Fail("SELECT * FROM otherks.docs");
  EXPECT_EQ(e.message, "Keyspace 'otherks' does not exist");

  Run("DROP TABLE docs");
  e = Fail("SELECT * FROM docs");
  EXPECT_EQ(e.message, "table docs does not exist");
  Run("DROP TABLE IF EXISTS docs");
  Run("DROP KEYSPACE ddl");
  e = Fail("USE ddl");
  EXPECT_EQ(e.message, "Keyspace 'ddl' does not exist");
  Run("DROP KEYSPACE IF EXISTS ddl");
}

TEST_F(SessionTest, InsertSelectUpdateDeleteAndCollections) {
  UseFreshKeyspace("crud");
  Run("CREATE TABLE docs (doc_id text PRIMARY KEY, lang text, score double, tags set<text>, "
      "attrs map<text, int>, path list<text>)");
  Run("INSERT INTO docs (doc_id, lang, score, tags, attrs, path) VALUES ('d1', 'en', 0.5, "
      "{'b', 'a'}, {'x': 1}, ['p', 'q'])");
  Run("INSERT INTO docs (doc_id, lang) VALUES (?, ?)", {Value::Text("d2"), Value::Text("fr")});
  auto rs = Run("SELECT doc_id, lang, score, tags, attrs, path FROM docs WHERE doc_id = 'd1'");
  EXPECT_EQ(Lines(rs), std::vector<std::string>{"d1|en|0.5|{'a', 'b'}|{'x': 1}|['p', 'q']"});
  ASSERT_EQ(rs.columns.size(), 6u);
  EXPECT_EQ(rs.columns[3].type.kind, Kind::kSet);

  Run("UPDATE docs SET tags = tags + {'c'}, attrs['y'] = 2, path = path + ['r'], "
      "score = 0.75 WHERE doc_id = 'd1'");
  Run("UPDATE docs SET tags = tags - {'a'}, path = ['z'] + path WHERE doc_id = 'd1'");
  rs = Run("SELECT tags, attrs, path, score FROM docs WHERE doc_id = 'd1'");
  EXPECT_EQ(Lines(rs),
            std::vector<std::string>{"{'b', 'c'}|{'x': 1, 'y': 2}|['z', 'p', 'q', 'r']|0.75"});
  Run("DELETE attrs['x'], score FROM docs WHERE doc_id = 'd1'");
  rs = Run("SELECT attrs, score FROM docs WHERE doc_id = 'd1'");
  EXPECT_EQ(Lines(rs), std::vector<std::string>{"{'y': 2}|null"});

  rs = Run("SELECT doc_id, lang FROM docs WHERE doc_id IN ('d2', 'd1', 'nope')");
  EXPECT_EQ(Lines(rs), (std::vector<std::string>{"d2|fr", "d1|en"}));

  // UPDATE makes a row without a row marker: setting its only column to null removes it.
  Run("UPDATE docs SET lang = 'de' WHERE doc_id = 'd3'");
  EXPECT_EQ(Run("SELECT doc_id FROM docs WHERE doc_id = 'd3'").rows.size(), 1u);
  Run("UPDATE docs SET lang = null WHERE doc_id = 'd3'");
  EXPECT_EQ(Run("SELECT doc_id FROM docs WHERE doc_id = 'd3'").rows.size(), 0u);
  // INSERT's row marker keeps a row with only its key.
  Run("INSERT INTO docs (doc_id) VALUES ('d4')");
  EXPECT_EQ(Lines(Run("SELECT doc_id, lang FROM docs WHERE doc_id = 'd4'")),
            std::vector<std::string>{"d4|null"});

  Run("DELETE FROM docs WHERE doc_id = 'd1'");
  EXPECT_TRUE(Run("SELECT * FROM docs WHERE doc_id = 'd1'").rows.empty());

  // Full scans, COUNT, DISTINCT, ALLOW FILTERING, LIMIT.
  rs = Run("SELECT COUNT(*) FROM docs");
  EXPECT_EQ(Lines(rs), std::vector<std::string>{"2"});
  rs = Run("SELECT doc_id FROM docs WHERE lang = 'fr' ALLOW FILTERING");
  EXPECT_EQ(Lines(rs), std::vector<std::string>{"d2"});
  EXPECT_EQ(Run("SELECT DISTINCT doc_id FROM docs").rows.size(), 2u);
  EXPECT_EQ(Run("SELECT doc_id FROM docs LIMIT 1").rows.size(), 1u);
}

TEST_F(SessionTest, ClusteringRestrictionsOrderAndTimestamps) {
  UseFreshKeyspace("clus");
  Run("CREATE TABLE events (doc_id text, seq int, stage text, note text, "
      "PRIMARY KEY (doc_id, seq)) WITH CLUSTERING ORDER BY (seq DESC)");
  Run("BEGIN UNLOGGED BATCH "
      "INSERT INTO events (doc_id, seq, stage) VALUES ('d', 1, 'a'); "
      "INSERT INTO events (doc_id, seq, stage) VALUES ('d', 2, 'b'); "
      "INSERT INTO events (doc_id, seq, stage) VALUES ('d', 3, 'c'); "
      "INSERT INTO events (doc_id, seq, stage) VALUES ('d', 4, 'd'); "
      "APPLY BATCH");
  auto rs = Run("SELECT seq FROM events WHERE doc_id = 'd'");
  EXPECT_EQ(Lines(rs), (std::vector<std::string>{"4", "3", "2", "1"}));
  rs = Run("SELECT seq FROM events WHERE doc_id = 'd' AND seq > 1 AND seq <= 3");
  EXPECT_EQ(Lines(rs), (std::vector<std::string>{"3", "2"}));
  rs = Run("SELECT seq FROM events WHERE doc_id = 'd' AND seq IN (1, 4) ORDER BY seq ASC");
  EXPECT_EQ(Lines(rs), (std::vector<std::string>{"1", "4"}));
  auto e = Fail("INSERT INTO events (doc_id, stage) VALUES ('d', 'x')");
  EXPECT_EQ(e.message, "Some clustering keys are missing: seq");
  e = Fail("UPDATE events SET stage = 'x' WHERE doc_id = 'd'");
  EXPECT_EQ(e.message, "Some clustering keys are missing: seq");

  // A range delete, then a row delete.
  Run("DELETE FROM events WHERE doc_id = 'd' AND seq >= 3");
  EXPECT_EQ(Lines(Run("SELECT seq FROM events WHERE doc_id = 'd'")),
            (std::vector<std::string>{"2", "1"}));
  Run("DELETE FROM events WHERE doc_id = 'd' AND seq = 2");
  EXPECT_EQ(Lines(Run("SELECT seq FROM events WHERE doc_id = 'd'")),
            (std::vector<std::string>{"1"}));

  // USING TIMESTAMP: a write older than the cell loses; WRITETIME shows the winner's.
  Run("UPDATE events USING TIMESTAMP 1000 SET note = 'new' WHERE doc_id = 't' AND seq = 1");
  Run("UPDATE events USING TIMESTAMP 999 SET note = 'old' WHERE doc_id = 't' AND seq = 1");
  rs = Run("SELECT note, writetime(note) FROM events WHERE doc_id = 't' AND seq = 1");
  EXPECT_EQ(Lines(rs), std::vector<std::string>{"new|1000"});
  // A partition delete at 1500 shadows it; a later write at 2000 shows again.
  Run("DELETE FROM events USING TIMESTAMP 1500 WHERE doc_id = 't'");
  EXPECT_TRUE(Run("SELECT note FROM events WHERE doc_id = 't'").rows.empty());
  Run("UPDATE events USING TIMESTAMP 1400 SET note = 'x' WHERE doc_id = 't' AND seq = 1");
  EXPECT_TRUE(Run("SELECT note FROM events WHERE doc_id = 't'").rows.empty());
  Run("UPDATE events USING TIMESTAMP 2000 SET note = 'y' WHERE doc_id = 't' AND seq = 1");
  EXPECT_EQ(Lines(Run("SELECT note FROM events WHERE doc_id = 't'")),
            std::vector<std::string>{"y"});

  // TTL: ttl() counts down from what was asked; default_time_to_live applies without USING TTL.
  Run("INSERT INTO events (doc_id, seq, stage) VALUES ('ttl', 1, 's') USING TTL 3600");
  rs = Run("SELECT ttl(stage), writetime(stage) FROM events WHERE doc_id = 'ttl'");
  ASSERT_EQ(rs.rows.size(), 1u);
  const int64_t ttl = std::get<int64_t>(rs.rows[0][0]->data);
  EXPECT_GT(ttl, 3590);
  EXPECT_LE(ttl, 3600);
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  EXPECT_NEAR(static_cast<double>(std::get<int64_t>(rs.rows[0][1]->data)),
              static_cast<double>(now_us), 60e6);
  e = Fail("INSERT INTO events (doc_id, seq) VALUES ('ttl', 2) USING TTL -1");
  EXPECT_EQ(e.message, "A TTL must be greater or equal to 0, but was -1");
  Run("CREATE TABLE short (k text PRIMARY KEY, v text) WITH default_time_to_live = 1");
  Run("INSERT INTO short (k, v) VALUES ('a', 'b')");
  // Expiry is at whole seconds: poll (bounded) until the row is gone.
  EXPECT_TRUE(PollUntil(milliseconds(5000), [&] {
    return Run("SELECT * FROM short WHERE k = 'a'").rows.empty();
  }));
}

TEST_F(SessionTest, PagingOverTwoHundredFiftyRowsAndTokenRanges) {
  UseFreshKeyspace("paging");
  Run("CREATE TABLE items (id int PRIMARY KEY, v text)");
  Run("CREATE TABLE wide (p text, c int, v text, PRIMARY KEY (p, c))");
  constexpr int kRows = 250;
  for (int i = 0; i < kRows; i += 50) {
    std::string batch = "BEGIN UNLOGGED BATCH ";
    for (int j = i; j < i + 50; ++j) {
      batch += fmt::format("INSERT INTO items (id, v) VALUES ({}, 'v{}'); ", j, j);
      batch += fmt::format("INSERT INTO wide (p, c, v) VALUES ('p', {}, 'v{}'); ", j, j);
    }
    Run(batch + "APPLY BATCH");
  }
  // Page through a full scan (250 partitions) and one partition of 250 rows.
  for (const std::string cql : {"SELECT id FROM items", "SELECT c FROM wide WHERE p = 'p'"}) {
    std::set<int64_t> seen;
    std::vector<int64_t> order;
    ExecuteOptions options;
    options.page_size = 37;
    int pages = 0;
    do {
      auto rs = Run(cql, {}, options);
      ASSERT_LE(rs.rows.size(), 37u);
      for (const auto& row : rs.rows) {
        seen.insert(std::get<int64_t>(row[0]->data));
        order.push_back(std::get<int64_t>(row[0]->data));
      }
      options.paging_state = rs.paging_state;
      ASSERT_LT(++pages, 20) << cql;
    } while (!options.paging_state.empty());
    EXPECT_EQ(seen.size(), static_cast<size_t>(kRows)) << cql;
    EXPECT_EQ(order.size(), static_cast<size_t>(kRows)) << cql;  // no row twice
    EXPECT_EQ(pages, (kRows + 36) / 37) << cql;                  // no empty last page
  }
  // Rows come in token order, as token(id) shows.
  auto all = Run("SELECT token(id), id FROM items");
  ASSERT_EQ(all.rows.size(), static_cast<size_t>(kRows));
  for (size_t i = 1; i < all.rows.size(); ++i) {
    EXPECT_LE(std::get<int64_t>(all.rows[i - 1][0]->data), std::get<int64_t>(all.rows[i][0]->data));
  }
  // Four token ranges partition the table exactly, whichever bound forms are used.
  const int64_t a = -(int64_t{1} << 62), b = 0, c = int64_t{1} << 62;
  std::vector<std::string> ranges = {
      fmt::format("SELECT id FROM items WHERE token(id) < {}", a),
      fmt::format("SELECT id FROM items WHERE token(id) >= {} AND token(id) <= {}", a, b),
      fmt::format("SELECT id FROM items WHERE token(id) > {} AND token(id) < {}", b, c),
      fmt::format("SELECT id FROM items WHERE token(id) >= {}", c)};
  std::multiset<int64_t> union_of_ranges;
  for (const auto& cql : ranges) {
    for (const auto& row : Run(cql).rows) union_of_ranges.insert(std::get<int64_t>(row[0]->data));
  }
  EXPECT_EQ(union_of_ranges.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(std::set<int64_t>(union_of_ranges.begin(), union_of_ranges.end()).size(),
            static_cast<size_t>(kRows));
  // token(pk) in the column list is the ringkv token of the partition's storage key.
  auto one = Run("SELECT token(id) FROM items WHERE id = 7");
  ASSERT_EQ(one.rows.size(), 1u);
  std::string key = std::string("items") + '\0';
  EncodeValue(Value::Int(7), &key);
  EXPECT_EQ(std::get<int64_t>(one.rows[0][0]->data), Client::TokenOf(key));
}

TEST_F(SessionTest, BatchesTruncateAndTracing) {
  UseFreshKeyspace("batches");
  Run("CREATE TABLE kv (k text PRIMARY KEY, v int)");
  auto rs = Run("BEGIN BATCH INSERT INTO kv (k, v) VALUES ('a', 1); "
                "INSERT INTO kv (k, v) VALUES ('b', 2); UPDATE kv SET v = 3 WHERE k = 'a'; "
                "APPLY BATCH");
  ASSERT_EQ(rs.warnings.size(), 1u);
  EXPECT_NE(rs.warnings[0].find("not atomic"), std::string::npos);
  // One timestamp for the batch: the INSERT and the UPDATE of 'a' tie; the greater value wins.
  EXPECT_EQ(Lines(Run("SELECT v FROM kv WHERE k = 'a'")), std::vector<std::string>{"3"});
  rs = Run("BEGIN UNLOGGED BATCH INSERT INTO kv (k, v) VALUES ('c', 1); APPLY BATCH");
  EXPECT_TRUE(rs.warnings.empty());

  session_->set_tracing(true);
  rs = Run("UPDATE kv SET v = 9 WHERE k = 'c'");
  EXPECT_EQ(rs.traces.size(), 2u);  // the read and the write
  EXPECT_FALSE(rs.notes.empty());
  session_->set_tracing(false);

  EXPECT_EQ(Lines(Run("SELECT COUNT(*) FROM kv")), std::vector<std::string>{"3"});
  Run("TRUNCATE kv");
  EXPECT_EQ(Lines(Run("SELECT COUNT(*) FROM kv")), std::vector<std::string>{"0"});
  Run("INSERT INTO kv (k, v) VALUES ('after', 1)");
  EXPECT_EQ(Lines(Run("SELECT k, v FROM kv")), std::vector<std::string>{"after|1"});
}

// CREATE KEYSPACE returns once every node holds the keyspace (schema agreement): a QUORUM write
// in it works at once through each node, with no retry. Each round creates through another node.
TEST_F(SessionTest, CreatedKeyspaceIsWritableThroughEveryNodeAtOnce) {
  const auto addresses = cluster_->addresses();
  std::vector<std::unique_ptr<Client>> direct;  // each sends every request to its one node
  for (const auto& address : addresses) direct.push_back(cluster_->NewClient({address}, false));
  for (size_t round = 0; round < 6; ++round) {
    const std::string ks = fmt::format("agreed{}", round);
    auto contact = cluster_->NewClient({addresses[round % addresses.size()]}, false);
    Session creator(*contact);
    auto created = creator.Execute(fmt::format(
        "CREATE KEYSPACE {} WITH replication = {{'class': 'SimpleStrategy', "
        "'replication_factor': 3}}",
        ks));
    ASSERT_TRUE(created.ok()) << created.error().ToString();
    for (size_t i = 0; i < direct.size(); ++i) {
      WriteOptions w;
      w.keyspace = ks;
      w.consistency = Consistency::kQuorum;
      auto put = direct[i]->Put("k", "v", w);
      EXPECT_TRUE(put.ok()) << ks << " through " << addresses[i] << ": "
                            << (put.ok() ? "" : put.error().ToString());
    }
  }
  // The deadline: a keyspace no node holds never reaches agreement, and the error says why.
  auto never = AwaitSchemaAgreement(*client_, "never_created", milliseconds(200));
  ASSERT_TRUE(never.has_value());
  EXPECT_EQ(never->kind, ErrorKind::kTimeout);
  EXPECT_NE(never->message.find("schema agreement not reached within 200 ms"), std::string::npos)
      << never->message;
  EXPECT_NE(never->message.find("(the contact point) does not hold the keyspace"),
            std::string::npos)
      << never->message;
}

// Siblings: two versions of one partition written concurrently (each while the other's
// coordinator was cut off), then read at ALL under each conflict mode.
TEST(SessionSiblingsTest, ConflictModesShowSiblingsAndTheNextWriteResolvesThem) {
  Cluster cluster;
  Status s = cluster.Start();
  ASSERT_TRUE(s.ok()) << s.ToString() << cluster.Logs();
  auto via_all = cluster.NewClient(cluster.addresses());
  Session setup(*via_all);
  auto ok = [](const CqlResult<ResultSet>& r) {
    return r.ok() ? std::string() : r.error().ToString();
  };
  ASSERT_EQ(ok(setup.Execute("CREATE KEYSPACE sib WITH replication = {'class': "
                             "'SimpleStrategy', 'replication_factor': 3}")),
            "");
  ASSERT_EQ(ok(setup.Execute("USE sib")), "");
  setup.set_consistency(Consistency::kAll);  // every replica starts from the same version
  for (const char* mode : {"merge", "lww", "siblings"}) {
    ASSERT_EQ(ok(setup.Execute(fmt::format("CREATE TABLE t_{} (k text PRIMARY KEY, a text, b text) "
                                           "WITH conflict_mode = '{}'",
                                           mode, mode))),
              "");
    ASSERT_EQ(ok(setup.Execute(fmt::format("INSERT INTO t_{} (k, a, b) VALUES ('p', 'a0', 'b0')",
                                           mode))),
              "");
  }
  // Sessions bound to one node each, schema cached before the nodes go down.
  auto via1 = cluster.NewClient({cluster.node(0).address()}, false);
  auto via2 = cluster.NewClient({cluster.node(1).address()}, false);
  Session s1(*via1), s2(*via2);
  for (Session* x : {&s1, &s2}) {
    ASSERT_EQ(ok(x->Execute("USE sib")), "");
    for (const char* mode : {"merge", "lww", "siblings"}) {
      ASSERT_EQ(ok(x->Execute(fmt::format("SELECT * FROM t_{} WHERE k = 'p'", mode))), "");
    }
    x->set_consistency(Consistency::kOne);
  }
  // n2, n3 down: n1 alone takes a = 'a1'.
  cluster.node(1).Kill();
  cluster.node(2).Kill();
  // At the default level (QUORUM) the cluster's answer maps to Unavailable, with the counts.
  s1.set_consistency(Consistency::kDefault);
  auto unavailable = s1.Execute("SELECT * FROM t_merge WHERE k = 'p'");
  ASSERT_FALSE(unavailable.ok());
  EXPECT_EQ(unavailable.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(unavailable.error().message,
            "Cannot achieve consistency level QUORUM: needed 2, alive 1");
  {
    // A Session with nothing cached, at ONE, reads the schema from the one replica up.
    Session fresh_one(*via1);
    fresh_one.set_consistency(Consistency::kOne);
    ASSERT_EQ(ok(fresh_one.Execute("SELECT * FROM sib.t_merge WHERE k = 'p'")), "");
  }
  s1.set_consistency(Consistency::kOne);
  for (const char* mode : {"merge", "lww", "siblings"}) {
    ASSERT_EQ(ok(s1.Execute(fmt::format("UPDATE t_{} SET a = 'a1' WHERE k = 'p'", mode))), "");
  }
  // n1 down, n2 and n3 back: n2 takes b = 'b2', later, not having seen a1.
  cluster.node(0).Kill();
  ASSERT_TRUE(cluster.node(1).Start().ok());
  ASSERT_TRUE(cluster.node(2).Start().ok());
  for (const char* mode : {"merge", "lww", "siblings"}) {
    ASSERT_TRUE(PollUntil(milliseconds(20'000), [&] {
      return s2.Execute(fmt::format("UPDATE t_{} SET b = 'b2' WHERE k = 'p'", mode)).ok();
    })) << mode << cluster.Logs();
  }
  ASSERT_TRUE(cluster.node(0).Start().ok());
  ASSERT_TRUE(cluster.WaitFormed()) << cluster.Logs();

  auto fresh = cluster.NewClient(cluster.addresses());
  Session reader(*fresh);
  ASSERT_EQ(ok(reader.Execute("USE sib")), "");
  reader.set_consistency(Consistency::kAll);
  auto read = [&](const char* mode) {
    auto r = reader.Execute(fmt::format("SELECT k, a, b FROM t_{} WHERE k = 'p'", mode));
    EXPECT_TRUE(r.ok()) << mode << ": " << (r.ok() ? "" : r.error().ToString());
    return r.ok() ? r.value() : ResultSet{};
  };
  auto sib = read("siblings");
  ASSERT_EQ(sib.rows.size(), 2u) << cluster.Logs();
  EXPECT_EQ(sib.sibling_of_row, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(sib.siblings_of_row, (std::vector<uint32_t>{2, 2}));
  ASSERT_EQ(sib.warnings.size(), 1u);
  EXPECT_EQ(sib.warnings[0], "partition 'p' has 2 siblings");
  const auto sib_lines = Lines(sib);
  std::set<std::string> versions(sib_lines.begin(), sib_lines.end());
  EXPECT_EQ(versions, (std::set<std::string>{"p|a1|b0", "p|a0|b2"}));

  auto merged = read("merge");
  EXPECT_EQ(Lines(merged), std::vector<std::string>{"p|a1|b2"});
  ASSERT_FALSE(merged.notes.empty());
  EXPECT_NE(merged.notes[0].find("merged 2 siblings"), std::string::npos);
  EXPECT_TRUE(merged.sibling_of_row.empty());

  auto lww = read("lww");
  EXPECT_EQ(Lines(lww), std::vector<std::string>{"p|a0|b2"});  // b2 was written last
  ASSERT_FALSE(lww.notes.empty());
  EXPECT_NE(lww.notes[0].find("kept the newest"), std::string::npos);

  // The next write resolves the siblings: it applies on their merge, with the read's context.
  auto w = reader.Execute("UPDATE t_siblings SET a = 'a3' WHERE k = 'p'");
  ASSERT_TRUE(w.ok()) << w.error().ToString();
  auto after = read("siblings");
  EXPECT_EQ(Lines(after), std::vector<std::string>{"p|a3|b2"});
  EXPECT_TRUE(after.warnings.empty());
}

}  // namespace
}  // namespace ringkv::cql
