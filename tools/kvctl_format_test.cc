#include "tools/kvctl_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "tools/kvctl_cluster_format.h"
#include "tools/kvctl_status_format.h"

namespace ringkv::kvctl {
namespace {

TEST(Base64Test, KnownVectors) {
  // RFC 4648, section 10.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},     {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}, {"one", "b25l"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded), std::optional<std::string>(plain));
  }
  EXPECT_EQ(Base64Decode("Zg"), std::optional<std::string>("f"));  // padding is optional
}

TEST(Base64Test, RoundTripsEveryByte) {
  std::mt19937 rng(7);
  for (size_t n = 0; n < 300; ++n) {
    std::string bytes(n, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)), std::optional<std::string>(bytes)) << n;
  }
}

TEST(Base64Test, RejectsMalformed) {
  for (const char* bad : {"Z", "Zg=", "Z===", "Zm9v!", "Zm 9v", "=Zm9", "Zg==Zg==", "===="}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
}

TEST(FormatTest, PrintableUtf8) {
  EXPECT_TRUE(IsPrintableUtf8("hello"));
  EXPECT_TRUE(IsPrintableUtf8("línea\tdos\n"));
  EXPECT_TRUE(IsPrintableUtf8("日本語 🙂"));
  EXPECT_TRUE(IsPrintableUtf8(""));
  EXPECT_FALSE(IsPrintableUtf8(std::string("a\0b", 3)));
  EXPECT_FALSE(IsPrintableUtf8("\x1b[31m"));
  EXPECT_FALSE(IsPrintableUtf8("\xff"));
  EXPECT_FALSE(IsPrintableUtf8("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(IsPrintableUtf8("\xed\xa0\x80"));  // a surrogate
  EXPECT_FALSE(IsPrintableUtf8("\xe6\x97"));      // truncated
}

TEST(FormatTest, CEscapeKeepsOneLine) {
  EXPECT_EQ(CEscape("plain"), "plain");
  EXPECT_EQ(CEscape("a\nb\tc\\d"), "a\\nb\\tc\\\\d");
  EXPECT_EQ(CEscape(std::string("\0\x01\xff", 3)), "\\x00\\x01\\xff");
  EXPECT_EQ(CEscape("naïve"), "naïve");
  EXPECT_EQ(CEscape("\xe6\x97"), "\\xe6\\x97");
}

TEST(FormatTest, Timestamps) {
  EXPECT_EQ(FormatTimestampUs(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestampUs(1'700'000'000'123'456), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(FormatTimestampUs(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(FormatTest, TablesAlignColumns) {
  EXPECT_EQ(FormatTable({{"Name", "N"}, {"default", "3"}, {"x", "12"}}),
            "Name     N\n"
            "default  3\n"
            "x        12\n");
  // No trailing padding, even when the last cells are empty.
  EXPECT_EQ(FormatTable({{"A", "B", "C"}, {"long", "", ""}}),
            "A     B  C\n"
            "long\n");
  EXPECT_EQ(FormatTable({}), "");
}

TEST(FormatTest, Percentages) {
  EXPECT_EQ(FormatPercent(1.0), "100.0%");
  EXPECT_EQ(FormatPercent(1.0 / 3), "33.3%");
  EXPECT_EQ(FormatPercent(0.0), "0.0%");
  EXPECT_EQ(FormatPercent(0.6666), "66.7%");
}

// Two members, one down; the second holds two tokens, the first one.
RingInfo SampleRing() {
  RingInfo ring;
  ring.self = "n1";
  ring.keyspace = "default";
  ring.replication_factor = 1;
  ring.members = {
      {"n1", "127.0.0.1:27101", 0xabc, {-9000000000000000000}, true, 0.25},
      {"n2", "127.0.0.1:27102", 2, {-5, 4611686018427387904}, false, 0.75},
  };
  ring.keyspaces = {{"default", 3, false}, {"docs", 1, true}};
  return ring;
}

TEST(ClusterFormatTest, RingTable) {
  EXPECT_EQ(RingText(SampleRing(), false),
            "2 nodes (as node n1 sees them); ownership at keyspace default, replication factor 1\n"
            "\n"
            "Address          Node  Status  Tokens  Owns\n"
            "127.0.0.1:27101  n1    Up      1       25.0%\n"
            "127.0.0.1:27102  n2    Down    2       75.0%\n");
}

TEST(ClusterFormatTest, RingTableWithTokensWalksTheRing) {
  const std::string text = RingText(SampleRing(), true);
  const std::string tokens = text.substr(text.find("\n\nToken") + 2);
  EXPECT_EQ(tokens,
            "Token                 Address          Node  Status\n"
            "-9000000000000000000  127.0.0.1:27101  n1    Up\n"
            "-5                    127.0.0.1:27102  n2    Down\n"
            "4611686018427387904   127.0.0.1:27102  n2    Down\n");
}

TEST(ClusterFormatTest, RingJson) {
  const nlohmann::json j = RingJson(SampleRing(), false);
  EXPECT_EQ(j["self"], "n1");
  EXPECT_EQ(j["keyspace"], "default");
  EXPECT_EQ(j["replication_factor"], 1);
  ASSERT_EQ(j["members"].size(), 2u);
  const nlohmann::json& n1 = j["members"][0];
  EXPECT_EQ(n1["name"], "n1");
  EXPECT_EQ(n1["address"], "127.0.0.1:27101");
  EXPECT_EQ(n1["host_id"], "0000000000000abc");
  EXPECT_EQ(n1["status"], "Up");
  EXPECT_EQ(n1["up"], true);
  EXPECT_EQ(n1["tokens_count"], 1);
  EXPECT_DOUBLE_EQ(n1["ownership"].get<double>(), 0.25);
  EXPECT_FALSE(n1.contains("tokens"));
  EXPECT_EQ(j["members"][1]["status"], "Down");
  EXPECT_EQ(j["keyspaces"], nlohmann::json::parse(R"([
      {"name": "default", "replication_factor": 3, "quorum": "strict"},
      {"name": "docs", "replication_factor": 1, "quorum": "sloppy"}])"));
  // Tokens as decimal strings: JSON numbers would round 64-bit tokens.
  const nlohmann::json t = RingJson(SampleRing(), true);
  EXPECT_EQ(t["members"][1]["tokens"], nlohmann::json::parse(R"(["-5", "4611686018427387904"])"));
}

TEST(ClusterFormatTest, Endpoints) {
  const RingInfo ring = SampleRing();
  EXPECT_EQ(EndpointsText({"n2", "n1"}, ring),
            "Address          Node  Status\n"
            "127.0.0.1:27102  n2    Down\n"
            "127.0.0.1:27101  n1    Up\n");
  EXPECT_EQ(EndpointsText({"gone"}, ring),
            "Address  Node  Status\n"
            "?        gone  ?\n");
  const nlohmann::json j = EndpointsJson("doc:1", -42, {"n2", "gone"}, ring);
  EXPECT_EQ(j["key"], "doc:1");
  EXPECT_EQ(j["keyspace"], "default");
  EXPECT_EQ(j["replication_factor"], 1);
  EXPECT_EQ(j["token"], "-42");
  EXPECT_EQ(j["endpoints"], nlohmann::json::parse(R"([
      {"name": "n2", "address": "127.0.0.1:27102", "up": false},
      {"name": "gone", "address": null, "up": null}])"));
}

TEST(ClusterFormatTest, Keyspaces) {
  EXPECT_EQ(KeyspacesText(SampleRing()),
            "Keyspace  Replication factor  Quorum\n"
            "default   3                   strict\n"
            "docs      1                   sloppy\n");
  EXPECT_EQ(KeyspacesJson(SampleRing()),
            nlohmann::json::parse(R"({"keyspaces": [
                {"name": "default", "replication_factor": 3, "quorum": "strict"},
                {"name": "docs", "replication_factor": 1, "quorum": "sloppy"}]})"));
}

TEST(ClusterFormatTest, NamesFromTheNetworkAreEscaped) {
  RingInfo ring = SampleRing();
  ring.members[0].name = "evil\x1b[2J\nname";
  const std::string text = RingText(ring, true);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("evil\\x1b[2J\\nname"), std::string::npos);
  // 1 heading + 1 blank + 3 table rows + 1 blank + 4 token rows: no line was split.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 10);
}

// n1 asked: it sees n2 down, n3 joining, n4 leaving; n5 left.
RingInfo StatusRing() {
  RingInfo ring = SampleRing();
  ring.members.push_back({"n3", "127.0.0.1:27103", 3, {7}, true, 0.0, "JOINING"});
  ring.members.push_back({"n4", "127.0.0.1:27104", 4, {8}, true, 0.0, "LEAVING"});
  ring.members.push_back({"n5", "127.0.0.1:27105", 5, {9}, false, 0.0, "REMOVED"});
  ring.members[0].status = "";  // from a node that predates gossip: normal
  return ring;
}

TEST(StatusFormatTest, TableIsTheAskedNodesView) {
  // n2's load is unknown (kvctl could not ask it); whether it is up is n1's verdict either way.
  const LoadByNode load = {{"n1", 2048}, {"n2", std::nullopt}, {"n3", 10}, {"n4", 0}};
  EXPECT_EQ(StatusText(StatusRing(), load),
            "Status as seen by n1 (127.0.0.1:27101)\n"
            "Datacenter: datacenter1\n"
            "=======================\n"
            "Status=Up/Down\n"
            "|/ State=Normal/Leaving/Joining/Moving\n"
            "--  Address          Load      Tokens  Owns (effective)  Host ID\n"
            "UN  127.0.0.1:27101  2.00 KiB  1       25.0%             0000000000000abc\n"
            "DN  127.0.0.1:27102  ?         2       75.0%             0000000000000002\n"
            "UJ  127.0.0.1:27103  10 B      1       0.0%              0000000000000003\n"
            "UL  127.0.0.1:27104  0 B       1       0.0%              0000000000000004\n"
            "\n"
            "Ownership at keyspace default (replication factor 1).\n");
}

TEST(StatusFormatTest, AnUnsettledViewSaysItIsPartial) {
  RingInfo ring = StatusRing();
  ring.settled = false;
  const std::string text = StatusText(ring, {});
  EXPECT_NE(text.find("n1 (127.0.0.1:27101)\n(it has not settled its ring yet"), std::string::npos)
      << text;
  EXPECT_EQ(StatusJson(ring, {})["view_of"]["settled"], false);
}

TEST(StatusFormatTest, JsonNamesWhoseViewItIs) {
  const nlohmann::json j = StatusJson(StatusRing(), {{"n1", 5}});
  EXPECT_EQ(j["view_of"], nlohmann::json::parse(
                              R"({"name": "n1", "address": "127.0.0.1:27101", "settled": true})"));
  EXPECT_EQ(j["keyspace"], "default");
  EXPECT_EQ(j["replication_factor"], 1);
  ASSERT_EQ(j["nodes"].size(), 4u) << "n5 was removed: not listed";
  EXPECT_EQ(j["nodes"][0]["status"], "UN");
  EXPECT_EQ(j["nodes"][0]["load_bytes"], 5);
  EXPECT_EQ(j["nodes"][0]["host_id"], "0000000000000abc");
  EXPECT_EQ(j["nodes"][1]["status"], "DN");
  EXPECT_EQ(j["nodes"][1]["up"], false);
  EXPECT_TRUE(j["nodes"][1]["load_bytes"].is_null());
  EXPECT_EQ(j["nodes"][2]["status"], "UJ");
  EXPECT_EQ(j["nodes"][2]["state"], "Joining");
  EXPECT_EQ(j["nodes"][3]["status"], "UL");
  EXPECT_EQ(j["nodes"][3]["state"], "Leaving");
  EXPECT_EQ(j["nodes"][3]["name"], "n4");
}

TEST(StatusFormatTest, AnAskedNodeMissingFromItsOwnListIsStillNamed) {
  RingInfo ring = StatusRing();
  ring.self = "n9";
  EXPECT_EQ(StatusText(ring, {}).rfind("Status as seen by n9\n", 0), 0u);
  EXPECT_EQ(StatusJson(ring, {})["view_of"]["address"], "");
}

}  // namespace
}  // namespace ringkv::kvctl
