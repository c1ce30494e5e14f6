// The conversation at frame level, in this process: request frames built here go to a
// Conversation whose Session is a client of one real kvnode (127.0.0.1), and the response frames
// are decoded here. Covers the handshake rules, every result kind, prepared statements, paging,
// consistency mapping, errors with their bodies, and refused headers.
#include "cql/native/conversation.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "cql/native/types.h"
#include "node/testing/node_process.h"

namespace ringkv::cql::native {
namespace {

using ringkv::testing::NodeProcess;
using ringkv::testing::NodeProcessOptions;

struct Response {
  FrameHeader header;
  std::string body;
  int32_t ErrorCode() const {
    BodyReader r(body, FrameLimits{});
    return r.Int();
  }
  std::string ErrorMessage() const {
    BodyReader r(body, FrameLimits{});
    r.Int();
    return r.String();
  }
  int32_t ResultKind() const {
    BodyReader r(body, FrameLimits{});
    return r.Int();
  }
};

Response Parse(const std::string& frame) {
  Response out;
  std::string head = frame.substr(0, kHeaderBytes);
  EXPECT_EQ(static_cast<uint8_t>(head[0]), 0x84);
  head[0] = 0x04;
  EXPECT_EQ(DecodeHeader(head, FrameLimits{}, &out.header), HeaderCheck::kOk);
  out.body = frame.substr(kHeaderBytes);
  EXPECT_EQ(out.body.size(), out.header.length);
  return out;
}

std::string QueryBody(std::string_view query, WireConsistency cl = WireConsistency::kOne,
                      const std::vector<std::string>& values = {}, int32_t page_size = 0,
                      const std::string* paging_state = nullptr) {
  BodyWriter w;
  w.LongString(query);
  w.Short(static_cast<uint16_t>(cl));
  uint8_t flags = 0;
  if (!values.empty()) flags |= 0x01;
  if (page_size > 0) flags |= 0x04;
  if (paging_state != nullptr) flags |= 0x08;
  w.Byte(flags);
  if (!values.empty()) {
    w.Short(static_cast<uint16_t>(values.size()));
    for (const auto& v : values) w.Bytes(std::string_view(v));
  }
  if (page_size > 0) w.Int(page_size);
  if (paging_state != nullptr) w.Bytes(std::string_view(*paging_state));
  return w.Take();
}

std::string StartupBody(std::map<std::string, std::string> options = {{"CQL_VERSION", "3.0.0"}}) {
  BodyWriter w;
  w.StringMap(options);
  return w.Take();
}

// Rows: the column names and the cells, decoded with the test's own reading of section 4.2.5.2.
struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::optional<std::string> paging_state;
};

Rows DecodeRows(const std::string& body) {
  Rows out;
  BodyReader r(body, FrameLimits{});
  EXPECT_EQ(r.Int(), 2);
  const int32_t flags = r.Int();
  const int32_t count = r.Int();
  if (flags & 0x0002) out.paging_state = r.Bytes();
  EXPECT_FALSE(flags & 0x0004);
  if (flags & 0x0001) {
    r.String();
    r.String();
  }
  // Scalar and one-level collection type options only (all CQL-lite has).
  for (int32_t i = 0; i < count; ++i) {
    out.columns.push_back(r.String());
    const uint16_t id = r.Short();
    if (id == 0x20 || id == 0x22) r.Short();
    if (id == 0x21) {
      r.Short();
      r.Short();
    }
  }
  const int32_t n = r.Int();
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    std::vector<std::optional<std::string>> row;
    for (int32_t c = 0; c < count; ++c) row.push_back(r.Bytes());
    out.rows.push_back(std::move(row));
  }
  EXPECT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.remaining(), 0u);
  return out;
}

class ConversationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(ringkv::testing::TempDir("cql-conversation"));
    NodeProcessOptions options;
    options.data_dir = *dir_ + "/n1";
    node_ = new NodeProcess(options);
    ASSERT_TRUE(node_->Start().ok()) << node_->log();
    ClientOptions client_options;
    client_options.contact_points = {node_->address()};
    client_ = new Client(client_options);
  }
  static void TearDownTestSuite() {
    delete client_;
    delete node_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  void SetUp() override {
    ConversationContext context;
    context.client = client_;
    context.prepared = &prepared_;
    context.cluster = [] {
      ClusterSnapshot c;
      c.cluster_name = "test";
      c.nodes = {{"n1", "127.0.0.1", 9042, 7, {-5, 10}, true},
                 {"n2", "127.0.0.2", 9043, 8, {0}, false}};
      return CqlResult<ClusterSnapshot>(c);
    };
    conversation_ = std::make_unique<Conversation>(context);
  }

  // A conversation that asks for a password (the fixture's own asks none).
  void RequireCredentials() {
    ConversationContext context;
    context.client = client_;
    context.prepared = &prepared_;
    context.cluster = [] { return CqlResult<ClusterSnapshot>(ClusterSnapshot{}); };
    context.credentials = &credentials_;
    conversation_ = std::make_unique<Conversation>(context);
  }

  Response Send(Opcode op, const std::string& body, int16_t stream = 1, uint8_t flags = 0) {
    FrameHeader h;
    h.opcode = static_cast<uint8_t>(op);
    h.stream = stream;
    h.flags = flags;
    h.length = static_cast<uint32_t>(body.size());
    Response r = Parse(conversation_->Handle(h, body, &last_event_));
    EXPECT_EQ(r.header.stream, stream);
    return r;
  }
  Response Query(std::string_view q, WireConsistency cl = WireConsistency::kOne,
                 const std::vector<std::string>& values = {}) {
    return Send(Opcode::kQuery, QueryBody(q, cl, values));
  }
  void Start() { ASSERT_EQ(Send(Opcode::kStartup, StartupBody()).header.opcode, 0x02); }
  // A keyspace with RF 1 (the node is alone) and a table, once per suite.
  void Schema() {
    Start();
    Query(
        "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = "
        "{'class': 'SimpleStrategy', 'replication_factor': 1}");
    Query("CREATE TABLE IF NOT EXISTS ks.t (k text, c int, v text, PRIMARY KEY (k, c))");
    ASSERT_EQ(Query("USE ks").ResultKind(), 3);
  }

  static std::string* dir_;
  static NodeProcess* node_;
  static Client* client_;
  PreparedCache prepared_;
  Credentials credentials_{{"feast", "s3cret"}};
  std::string last_event_;  // the EVENT the last request made, if any
  std::unique_ptr<Conversation> conversation_;
};

std::string* ConversationTest::dir_ = nullptr;
NodeProcess* ConversationTest::node_ = nullptr;
Client* ConversationTest::client_ = nullptr;

TEST_F(ConversationTest, HandshakeRules) {
  EXPECT_EQ(Send(Opcode::kOptions, "").header.opcode, 0x06);
  Response early = Query("SELECT * FROM system.local");
  EXPECT_EQ(early.header.opcode, 0x00);
  EXPECT_EQ(early.ErrorCode(), 0x000A);
  EXPECT_NE(early.ErrorMessage().find("before STARTUP"), std::string::npos);

  EXPECT_EQ(Send(Opcode::kStartup, StartupBody({})).ErrorCode(), 0x000A);
  EXPECT_EQ(Send(Opcode::kStartup, StartupBody({{"CQL_VERSION", "2.0.0"}})).ErrorCode(), 0x000A);
  EXPECT_EQ(Send(Opcode::kStartup, StartupBody({{"CQL_VERSION", "3.0.0"}, {"COMPRESSION", "lz4"}}))
                .ErrorCode(),
            0x000A);
  // Unknown options are ignored, as Cassandra does (drivers send their name and version).
  Response ready =
      Send(Opcode::kStartup, StartupBody({{"CQL_VERSION", "3.4.4"}, {"DRIVER_NAME", "test"}}));
  EXPECT_EQ(ready.header.opcode, 0x02);
  EXPECT_EQ(Send(Opcode::kStartup, StartupBody()).ErrorCode(), 0x000A);
  EXPECT_EQ(Send(Opcode::kResult, "").ErrorCode(), 0x000A);
  EXPECT_EQ(Send(static_cast<Opcode>(0x2a), "").ErrorCode(), 0x000A);
  EXPECT_EQ(Send(Opcode::kQuery, QueryBody("SELECT 1"), 1, kFlagCompression).ErrorCode(), 0x000A);
  Response truncated = Send(Opcode::kQuery, QueryBody("SELECT * FROM t").substr(0, 6));
  EXPECT_EQ(truncated.ErrorCode(), 0x000A);
  EXPECT_NE(truncated.ErrorMessage().find("malformed QUERY"), std::string::npos);
  BodyWriter events;
  events.StringList({"SCHEMA_CHANGE"});
  EXPECT_EQ(conversation_->registered_events(), 0);
  EXPECT_EQ(Send(Opcode::kRegister, events.body()).header.opcode, 0x02);
  EXPECT_EQ(conversation_->registered_events(), kEventSchema);
}

TEST_F(ConversationTest, RefusedHeaders) {
  FrameHeader h;
  h.version = 5;
  h.stream = 9;
  Response r = Parse(Conversation::Refuse(HeaderCheck::kBadVersion, h, FrameLimits{}));
  EXPECT_EQ(r.header.stream, 9);
  EXPECT_EQ(r.ErrorCode(), 0x000A);
  EXPECT_NE(r.ErrorMessage().find("unsupported protocol version (5)"), std::string::npos);
  // Older versions are answered in their own version: v3 with v4's layout, v2 with an 8-byte
  // header and a one-byte stream id.
  h.version = 3;
  std::string v3 = Conversation::Refuse(HeaderCheck::kBadVersion, h, FrameLimits{});
  EXPECT_EQ(static_cast<uint8_t>(v3[0]), 0x83);
  EXPECT_EQ(v3.substr(2, 3), std::string("\0\x09\0", 3));   // stream 9, opcode ERROR
  std::string v2_request("\x02\x00\x07\x05\0\0\0\0\0", 9);  // OPTIONS on stream 7
  FrameHeader v2;
  ASSERT_EQ(DecodeHeader(v2_request, FrameLimits{}, &v2), HeaderCheck::kBadVersion);
  EXPECT_EQ(v2.stream, 7);
  std::string v2_reply = Conversation::Refuse(HeaderCheck::kBadVersion, v2, FrameLimits{});
  EXPECT_EQ(v2_reply.substr(0, 4), std::string("\x82\x00\x07\x00", 4));
  EXPECT_EQ(v2_reply.size(), 8 + GetBe(v2_reply.data() + 4, 4));
  h.version = 4;
  h.length = 0x80000000u;
  r = Parse(Conversation::Refuse(HeaderCheck::kTooLarge, h, FrameLimits{}));
  EXPECT_NE(r.ErrorMessage().find("2147483648 bytes is over the limit"), std::string::npos);
}

TEST_F(ConversationTest, SystemTables) {
  Start();
  Rows local = DecodeRows(Query("SELECT * FROM system.local WHERE key = 'local'").body);
  ASSERT_EQ(local.rows.size(), 1u);
  auto col = [&](const Rows& rows, std::string_view name) {
    return std::find(rows.columns.begin(), rows.columns.end(), name) - rows.columns.begin();
  };
  EXPECT_EQ(local.rows[0][col(local, "cluster_name")], "test");
  EXPECT_EQ(local.rows[0][col(local, "rpc_address")], std::string("\x7f\0\0\x01", 4));
  Rows peers = DecodeRows(Query("SELECT peer, native_port FROM system.peers_v2").body);
  ASSERT_EQ(peers.rows.size(), 1u);
  EXPECT_EQ(peers.columns, (std::vector<std::string>{"peer", "native_port"}));
  EXPECT_EQ(peers.rows[0][1], SerializeValue(Value::Int(9043)));
  EXPECT_TRUE(
      DecodeRows(Query("SELECT * FROM system.local WHERE key = 'other'").body).rows.empty());
  // Tables ringkv keeps empty answer any column a driver names.
  EXPECT_TRUE(DecodeRows(Query("SELECT * FROM system_schema.indexes WHERE keyspace_name = 'ks' "
                               "AND table_name = 't'")
                             .body)
                  .rows.empty());
  EXPECT_EQ(Query("SELECT * FROM system.nosuch").ErrorCode(), 0x2200);
  EXPECT_EQ(Query("SELECT nosuch FROM system.local").ErrorCode(), 0x2200);
}

TEST_F(ConversationTest, StatementsResultsAndErrors) {
  Schema();
  Response created = Query("CREATE TABLE t2 (k text PRIMARY KEY)");
  ASSERT_EQ(created.ResultKind(), 5) << created.ErrorMessage();
  BodyReader change(created.body, FrameLimits{});
  change.Int();
  EXPECT_EQ(change.String(), "CREATED");
  EXPECT_EQ(change.String(), "TABLE");
  EXPECT_EQ(change.String(), "ks");
  EXPECT_EQ(change.String(), "t2");
  // The same change as an EVENT (stream -1) for the connections that registered.
  Response event = Parse(last_event_);
  EXPECT_EQ(event.header.opcode, 0x0C);
  EXPECT_EQ(event.header.stream, -1);
  BodyReader e(event.body, FrameLimits{});
  EXPECT_EQ(e.String(), "SCHEMA_CHANGE");
  EXPECT_EQ(e.String(), "CREATED");
  EXPECT_EQ(Query("SELECT * FROM t2").ResultKind(), 2);
  EXPECT_TRUE(last_event_.empty());

  Response exists = Query("CREATE TABLE t2 (k text PRIMARY KEY)");
  ASSERT_EQ(exists.ErrorCode(), 0x2400) << exists.ErrorMessage();
  BodyReader ae(exists.body, FrameLimits{});
  ae.Int();
  ae.String();
  EXPECT_EQ(ae.String(), "ks");
  EXPECT_EQ(ae.String(), "t2");

  EXPECT_EQ(Query("INSERT INTO t (k, c, v) VALUES ('a', 1, 'x')").ResultKind(), 1);
  EXPECT_EQ(Query("INSERT INTO t (k, c, v) VALUES (?, ?, ?)", WireConsistency::kOne,
                  {"a", SerializeValue(Value::Int(2)), "y"})
                .ResultKind(),
            1);
  Rows rows = DecodeRows(Query("SELECT c, v FROM t WHERE k = 'a'").body);
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_EQ(rows.rows[1][1], "y");

  EXPECT_EQ(Query("SELEC * FROM t").ErrorCode(), 0x2000);
  EXPECT_EQ(Query("SELECT nosuch FROM t").ErrorCode(), 0x2200);
  // A bind value of the wrong width for its column.
  EXPECT_EQ(
      Query("INSERT INTO t (k, c) VALUES ('a', ?)", WireConsistency::kOne, {"xy"}).ErrorCode(),
      0x2200);
  Response serial = Query("SELECT * FROM t WHERE k = 'a'", WireConsistency::kSerial);
  EXPECT_EQ(serial.ErrorCode(), 0x2200);
  EXPECT_NE(serial.ErrorMessage().find("SERIAL"), std::string::npos);
  // ALL on a lone node with RF 1 is served.
  EXPECT_EQ(Query("SELECT * FROM t WHERE k = 'a'", WireConsistency::kAll).ResultKind(), 2);
}

TEST_F(ConversationTest, LocalLevelsWarnOncePerConnection) {
  Schema();
  Response first = Query("SELECT * FROM t WHERE k = 'a'", WireConsistency::kLocalOne);
  EXPECT_TRUE(first.header.flags & kFlagWarning);
  BodyReader r(first.body, FrameLimits{});
  auto warnings = r.StringList();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("LOCAL_ONE is served as ONE"), std::string::npos);
  EXPECT_EQ(r.Int(), 2);  // then the Rows result
  Response second = Query("SELECT * FROM t WHERE k = 'a'", WireConsistency::kLocalOne);
  EXPECT_FALSE(second.header.flags & kFlagWarning);
  EXPECT_TRUE(Query("SELECT * FROM t WHERE k = 'a'", WireConsistency::kLocalQuorum).header.flags &
              kFlagWarning);
}

TEST_F(ConversationTest, PrepareExecuteBatchAndPaging) {
  Schema();
  BodyWriter prepare;
  prepare.LongString("INSERT INTO t (k, c, v) VALUES (?, ?, ?)");
  Response prepared = Send(Opcode::kPrepare, prepare.body());
  ASSERT_EQ(prepared.ResultKind(), 4) << prepared.ErrorMessage();
  BodyReader p(prepared.body, FrameLimits{});
  p.Int();
  const std::string id = p.ShortBytes();
  EXPECT_EQ(id.size(), 16u);
  p.Int();                // flags
  EXPECT_EQ(p.Int(), 3);  // bind markers
  EXPECT_EQ(p.Int(), 0);  // no partition key indexes
  EXPECT_EQ(p.String(), "");
  EXPECT_EQ(p.String(), "");
  EXPECT_EQ(p.String(), "k");
  EXPECT_EQ(p.Short(), 0x000D);
  EXPECT_EQ(p.String(), "c");
  EXPECT_EQ(p.Short(), 0x0009);

  for (int c = 0; c < 25; ++c) {
    BodyWriter e;
    e.ShortBytes(id);
    e.Raw(QueryBody("", WireConsistency::kQuorum,
                    {"pages", SerializeValue(Value::Int(c)), "v" + std::to_string(c)})
              .substr(4));  // the query parameters without QUERY's [long string]
    ASSERT_EQ(Send(Opcode::kExecute, e.body()).ResultKind(), 1);
  }
  BodyWriter unknown;
  unknown.ShortBytes("0123456789abcdef");
  unknown.Short(1);
  unknown.Byte(0);
  Response unprepared = Send(Opcode::kExecute, unknown.body());
  ASSERT_EQ(unprepared.ErrorCode(), 0x2500);
  BodyReader u(unprepared.body, FrameLimits{});
  u.Int();
  u.String();
  EXPECT_EQ(u.ShortBytes(), "0123456789abcdef");

  // A null bind value writes null; an unset one is refused with a reason.
  BodyWriter with_null;
  with_null.ShortBytes(id);
  with_null.Short(1);
  with_null.Byte(0x01);
  with_null.Short(3);
  with_null.Bytes(std::string_view("pages"));
  with_null.Bytes(SerializeValue(Value::Int(99)));
  with_null.Int(-1);
  Response null_bind = Send(Opcode::kExecute, with_null.body());
  ASSERT_EQ(null_bind.ResultKind(), 1) << null_bind.ErrorMessage();
  Rows nulled = DecodeRows(Query("SELECT c, v FROM t WHERE k = 'pages' AND c = 99").body);
  ASSERT_EQ(nulled.rows.size(), 1u);
  EXPECT_FALSE(nulled.rows[0][1].has_value());
  EXPECT_EQ(Query("DELETE FROM t WHERE k = 'pages' AND c = 99").ResultKind(), 1);
  std::string with_unset = with_null.body();
  with_unset[with_unset.size() - 1] = '\xfe';  // the last value's length: -1 -> -2
  Response unset = Send(Opcode::kExecute, with_unset);
  EXPECT_EQ(unset.ErrorCode(), 0x2200);
  EXPECT_NE(unset.ErrorMessage().find("unset"), std::string::npos);

  // BATCH: a prepared entry and a query entry with its own value.
  BodyWriter batch;
  batch.Byte(1);
  batch.Short(2);
  batch.Byte(1);
  batch.ShortBytes(id);
  batch.Short(3);
  batch.Bytes(std::string_view("pages"));
  batch.Bytes(SerializeValue(Value::Int(25)));
  batch.Bytes(std::string_view("v25"));
  batch.Byte(0);
  batch.LongString("INSERT INTO t (k, c, v) VALUES ('pages', 26, ?)");
  batch.Short(1);
  batch.Bytes(std::string_view("v26"));
  batch.Short(static_cast<uint16_t>(WireConsistency::kOne));
  batch.Byte(0);
  Response batched = Send(Opcode::kBatch, batch.body());
  ASSERT_EQ(batched.ResultKind(), 1) << batched.ErrorMessage();

  // Pages of 10 over the 27 rows: 10, 10, 7, each resumed from the last paging state.
  std::vector<std::string> seen;
  std::optional<std::string> state;
  for (int page = 0; page < 5; ++page) {
    Rows rows = DecodeRows(
        Send(Opcode::kQuery, QueryBody("SELECT v FROM t WHERE k = 'pages'", WireConsistency::kOne,
                                       {}, 10, state ? &*state : nullptr))
            .body);
    for (const auto& row : rows.rows) seen.push_back(*row[0]);
    state = rows.paging_state;
    if (!state) break;
  }
  ASSERT_EQ(seen.size(), 27u);
  EXPECT_EQ(seen[0], "v0");
  EXPECT_EQ(seen[26], "v26");
  EXPECT_FALSE(state.has_value());
}

TEST_F(ConversationTest, AnotherConnectionsSchemaChangeIsSeen) {
  // Two conversations of one node, sharing the node's schema change count.
  std::atomic<uint64_t> generation{0};
  ConversationContext context;
  context.client = client_;
  context.prepared = &prepared_;
  context.cluster = [] { return CqlResult<ClusterSnapshot>(ClusterSnapshot{}); };
  context.schema_generation = &generation;
  conversation_ = std::make_unique<Conversation>(context);
  Schema();
  auto other = std::make_unique<Conversation>(context);
  std::swap(conversation_, other);
  Schema();
  std::swap(conversation_, other);

  ASSERT_EQ(Query("CREATE TABLE regen (k text PRIMARY KEY, v int)").ResultKind(), 5);
  std::swap(conversation_, other);
  ASSERT_EQ(Query("SELECT * FROM regen").ResultKind(), 2);  // `other` caches v as an int
  std::swap(conversation_, other);
  ASSERT_EQ(Query("DROP TABLE regen").ResultKind(), 5);
  ASSERT_EQ(Query("CREATE TABLE regen (k text PRIMARY KEY, v text)").ResultKind(), 5);
  std::swap(conversation_, other);
  Response insert = Query("INSERT INTO regen (k, v) VALUES ('a', 'text now')");
  EXPECT_EQ(insert.ResultKind(), 1) << insert.ErrorMessage();
  Rows rows = DecodeRows(Query("SELECT v FROM regen WHERE k = 'a'").body);
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(rows.rows[0][0], "text now");
}

std::string AuthToken(std::string_view user, std::string_view password) {
  BodyWriter w;
  w.Bytes(std::string(1, '\0') + std::string(user) + '\0' + std::string(password));
  return w.Take();
}

TEST_F(ConversationTest, PlainTextAuthentication) {
  RequireCredentials();
  EXPECT_EQ(Send(Opcode::kAuthResponse, AuthToken("feast", "s3cret")).ErrorCode(), 0x000A);
  Response challenge = Send(Opcode::kStartup, StartupBody());
  ASSERT_EQ(challenge.header.opcode, 0x03);
  BodyReader r(challenge.body, FrameLimits{});
  EXPECT_EQ(r.String(), kPasswordAuthenticator);
  Response early = Query("SELECT * FROM system.local");
  EXPECT_EQ(early.ErrorCode(), 0x000A);
  EXPECT_NE(early.ErrorMessage().find("before authentication"), std::string::npos);
  EXPECT_EQ(Send(Opcode::kAuthResponse, AuthToken("feast", "wrong")).ErrorCode(), 0x0100);
  EXPECT_EQ(Send(Opcode::kAuthResponse, AuthToken("nobody", "s3cret")).ErrorCode(), 0x0100);
  EXPECT_EQ(Send(Opcode::kAuthResponse, AuthToken("feast", "s3cre")).ErrorCode(), 0x0100);
  EXPECT_EQ(Send(Opcode::kAuthResponse, "\x01").ErrorCode(), 0x000A);
  EXPECT_EQ(Send(Opcode::kAuthResponse, AuthToken("feast", "s3cret")).header.opcode, 0x10);
  EXPECT_EQ(Query("SELECT * FROM system.local").ResultKind(), 2);
  EXPECT_EQ(Send(Opcode::kAuthResponse, AuthToken("feast", "s3cret")).ErrorCode(), 0x000A);
}

TEST(AuthTest, ParseCredentials) {
  Credentials c;
  std::string error;
  ASSERT_TRUE(ParseCredentials("# users\nfeast:s3:cret\r\n\nops:\n", &c, &error)) << error;
  EXPECT_EQ(c.at("feast"), "s3:cret");
  EXPECT_EQ(c.at("ops"), "");
  EXPECT_FALSE(ParseCredentials("feast\n", &c, &error));
  EXPECT_NE(error.find("line 1"), std::string::npos);
  EXPECT_FALSE(ParseCredentials(":pw\n", &c, &error));
  EXPECT_FALSE(ParseCredentials("# nobody\n", &c, &error));
}

}  // namespace
}  // namespace ringkv::cql::native
