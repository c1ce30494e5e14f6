// A scripted Backend for kvsh's unit tests: canned answers per statement text, a fixed schema,
// and a record of what was executed. Not thread-safe; NewSession returns nullptr so COPY runs
// on the test's thread.
#ifndef RINGKV_TOOLS_KVSH_FAKE_BACKEND_H_
#define RINGKV_TOOLS_KVSH_FAKE_BACKEND_H_

#include <map>
#include <string>
#include <vector>

#include "tools/kvsh/backend.h"

namespace ringkv::kvsh {

class FakeBackend : public Backend {
 public:
  struct Call {
    std::string statement;
    std::vector<cql::Value> binds;
    cql::ExecuteOptions options;
  };

  // Answer for a statement (exact text, trailing ';' and surrounding spaces removed). Pages:
  // several answers for one statement are returned in turn, following paging_state.
  std::map<std::string, std::vector<cql::CqlResult<cql::ResultSet>>> answers;
  // Answer for statements not in `answers`: an empty success.
  std::vector<Call> calls;
  std::map<std::string, std::vector<std::string>> tables;  // keyspace -> tables
  std::map<std::string, std::vector<cql::ColumnSpec>> columns;  // "ks.t" -> columns
  std::map<std::string, std::vector<std::string>> partition_keys;  // "ks.t" -> pk
  std::vector<TokenRange> ranges = {{INT64_MIN, 0}, {0, INT64_MAX}};
  std::string keyspace_;
  Consistency consistency_ = Consistency::kDefault;
  bool tracing_ = false;
  Quorum quorum_ = Quorum::kDefault;

  cql::CqlResult<cql::ResultSet> Execute(std::string_view statement,
                                         const std::vector<cql::Value>& binds,
                                         const cql::ExecuteOptions& options) override {
    std::string key(statement);
    while (!key.empty() && (key.back() == ';' || key.back() == ' ' || key.back() == '\n')) {
      key.pop_back();
    }
    while (!key.empty() && (key.front() == ' ' || key.front() == '\n')) key.erase(0, 1);
    calls.push_back({key, binds, options});
    auto it = answers.find(key);
    if (it == answers.end()) return cql::ResultSet{};
    size_t page = 0;
    if (!options.paging_state.empty()) page = std::stoul(options.paging_state);
    if (page >= it->second.size()) return cql::ResultSet{};
    auto answer = it->second[page];
    if (answer.ok() && page + 1 < it->second.size()) {
      answer.value().paging_state = std::to_string(page + 1);
    }
    if (answer.ok() && !answer->keyspace_changed.empty()) keyspace_ = answer->keyspace_changed;
    return answer;
  }
  const std::string& keyspace() const override { return keyspace_; }
  cql::CqlResult<bool> Use(std::string_view keyspace) override {
    keyspace_ = std::string(keyspace);
    return true;
  }
  Consistency consistency() const override { return consistency_; }
  void set_consistency(Consistency c) override { consistency_ = c; }
  bool tracing() const override { return tracing_; }
  void set_tracing(bool on) override { tracing_ = on; }
  Quorum quorum() const override { return quorum_; }
  void set_quorum(Quorum q) override { quorum_ = q; }
  cql::CqlResult<std::vector<std::string>> Keyspaces() override {
    std::vector<std::string> out;
    for (const auto& [k, v] : tables) out.push_back(k);
    return out;
  }
  cql::CqlResult<std::vector<std::string>> Tables(std::string_view keyspace) override {
    auto it = tables.find(std::string(keyspace));
    if (it == tables.end()) {
      return MakeError(cql::ErrorKind::kInvalid, "Keyspace '" + std::string(keyspace) + "' does not exist");
    }
    return it->second;
  }
  cql::CqlResult<std::vector<cql::ColumnSpec>> Columns(std::string_view keyspace,
                                                       std::string_view table) override {
    auto it = columns.find(std::string(keyspace) + "." + std::string(table));
    if (it == columns.end()) {
      return MakeError(cql::ErrorKind::kInvalid, "unconfigured table " + std::string(table));
    }
    return it->second;
  }
  cql::CqlResult<std::string> DescribeKeyspace(std::string_view keyspace) override {
    return "CREATE KEYSPACE " + std::string(keyspace) +
           " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '3'};";
  }
  cql::CqlResult<std::string> DescribeTable(std::string_view keyspace,
                                            std::string_view table) override {
    return "CREATE TABLE " + std::string(keyspace) + "." + std::string(table) + " (...);";
  }
  cql::CqlResult<std::vector<std::string>> PartitionKey(std::string_view keyspace,
                                                        std::string_view table) override {
    auto it = partition_keys.find(std::string(keyspace) + "." + std::string(table));
    if (it == partition_keys.end()) return MakeError(cql::ErrorKind::kInvalid, "no table");
    return it->second;
  }
  cql::CqlResult<std::vector<TokenRange>> TokenRanges(std::string_view) override {
    return ranges;
  }
  std::unique_ptr<Backend> NewSession() override { return nullptr; }
};

}  // namespace ringkv::kvsh

#endif  // RINGKV_TOOLS_KVSH_FAKE_BACKEND_H_
