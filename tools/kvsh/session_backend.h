// The real Backend: a cql::Session over a shared ringkv::Client.
//
// Thread safety: one SessionBackend per thread (as Session). Lifetime: the Client must outlive
// every SessionBackend made from it, NewSession() ones included.
#ifndef RINGKV_TOOLS_KVSH_SESSION_BACKEND_H_
#define RINGKV_TOOLS_KVSH_SESSION_BACKEND_H_

#include "cql/session.h"
#include "ringkv/client.h"
#include "tools/kvsh/backend.h"

namespace ringkv::kvsh {

class SessionBackend : public Backend {
 public:
  explicit SessionBackend(Client& client) : client_(client), session_(client) {}

  cql::CqlResult<cql::ResultSet> Execute(std::string_view statement,
                                         const std::vector<cql::Value>& binds,
                                         const cql::ExecuteOptions& options) override {
    return session_.Execute(statement, binds, options);
  }
  const std::string& keyspace() const override { return session_.keyspace(); }
  cql::CqlResult<bool> Use(std::string_view keyspace) override { return session_.Use(keyspace); }
  Consistency consistency() const override { return session_.consistency(); }
  void set_consistency(Consistency c) override { session_.set_consistency(c); }
  bool tracing() const override { return session_.tracing(); }
  void set_tracing(bool on) override { session_.set_tracing(on); }
  Quorum quorum() const override { return session_.quorum(); }
  void set_quorum(Quorum q) override { session_.set_quorum(q); }
  cql::CqlResult<std::vector<std::string>> Keyspaces() override { return session_.Keyspaces(); }
  cql::CqlResult<std::vector<std::string>> Tables(std::string_view keyspace) override {
    return session_.Tables(keyspace);
  }
  cql::CqlResult<std::vector<cql::ColumnSpec>> Columns(std::string_view keyspace,
                                                       std::string_view table) override {
    return session_.Columns(keyspace, table);
  }
  cql::CqlResult<std::string> DescribeKeyspace(std::string_view keyspace) override {
    return session_.DescribeKeyspace(keyspace);
  }
  cql::CqlResult<std::string> DescribeTable(std::string_view keyspace,
                                            std::string_view table) override {
    return session_.DescribeTable(keyspace, table);
  }
  cql::CqlResult<std::vector<std::string>> PartitionKey(std::string_view keyspace,
                                                        std::string_view table) override;
  cql::CqlResult<std::vector<TokenRange>> TokenRanges(std::string_view keyspace) override;
  std::unique_ptr<Backend> NewSession() override;

 private:
  Client& client_;
  cql::Session session_;
};

}  // namespace ringkv::kvsh

#endif  // RINGKV_TOOLS_KVSH_SESSION_BACKEND_H_
