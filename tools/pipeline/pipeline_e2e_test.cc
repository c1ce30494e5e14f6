// ringkv-pipeline end to end: the binary with a small corpus against a real three-node cluster
// (tools/kvload/test_cluster.h). The planted near-duplicates are all found (and nothing else),
// and the exported shard file holds exactly the kept docs of that shard, as the table says.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "cql/session.h"
#include "tools/kvload/test_cluster.h"

namespace ringkv::pipeline {
namespace {

using ringkv::testing::RunCommand;
using ringkv::testing::ToolTestCluster;

TEST(PipelineE2eTest, FindsThePlantedDuplicatesAndExportsExactlyTheKeptDocsOfTheShard) {
  ToolTestCluster cluster("pipeline");
  Status s = cluster.Start();
  ASSERT_TRUE(s.ok()) << s.ToString() << cluster.Logs();
  std::string export_path = cluster.dir() + "/shard-1.jsonl";
  auto r = RunCommand({RINGKV_PIPELINE_PATH, "--host", cluster.hosts(), "run", "--docs", "300",
                       "--seed", "7", "--shards", "4", "--export-shard", "1", "--export",
                       export_path},
                      "", std::chrono::milliseconds(120'000));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << cluster.Logs();

  auto client = cluster.NewClient();
  cql::Session session(*client);
  auto rs = session.Execute("SELECT doc_id, planted_dup_of, dup_of, status, shard FROM pipeline.docs");
  ASSERT_TRUE(rs.ok()) << rs.error().ToString();
  ASSERT_EQ(rs->rows.size(), 300u);
  auto text = [](const std::optional<cql::Value>& v) { return v ? v->ToDisplay() : std::string(); };
  size_t planted = 0;
  std::set<std::string> kept_in_shard;
  for (const auto& row : rs->rows) {
    std::string id = text(row[0]), planted_of = text(row[1]), dup_of = text(row[2]);
    std::string status = text(row[3]);
    if (!planted_of.empty()) {
      ++planted;
      EXPECT_EQ(status, "duplicate") << id;
      EXPECT_EQ(dup_of, planted_of) << id;
    } else {
      EXPECT_NE(status, "duplicate") << id << " is not a planted duplicate";
      EXPECT_TRUE(status == "kept" || status == "filtered") << id << ": " << status;
    }
    if (status == "kept" && text(row[4]) == "1") kept_in_shard.insert(id);
  }
  EXPECT_GT(planted, 5u);
  EXPECT_NE(r.out.find(fmt::format("near-duplicates planted {}, found {} ({} of the planted, 0 "
                                   "missed, 0 others)",
                                   planted, planted, planted)),
            std::string::npos)
      << r.out;

  std::set<std::string> exported;
  std::ifstream in(export_path);
  std::string line;
  size_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    auto j = nlohmann::json::parse(line);
    exported.insert(j["doc_id"].get<std::string>());
    EXPECT_EQ(j["shard"], 1);
  }
  EXPECT_EQ(lines, exported.size());  // no doc twice
  EXPECT_EQ(exported, kept_in_shard);
  EXPECT_FALSE(kept_in_shard.empty());
  if (HasFailure()) cluster.keep();
}

}  // namespace
}  // namespace ringkv::pipeline
