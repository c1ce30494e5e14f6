// What kvsh needs from the cluster, as an interface: the shell, COPY and completion are written
// against it, so tests can drive them with a scripted backend and no cluster. SessionBackend
// (session_backend.h) is the real one, over cql::Session and the Client.
//
// Thread safety: one Backend per thread; NewSession() gives another for another thread.
#ifndef RINGKV_TOOLS_KVSH_BACKEND_H_
#define RINGKV_TOOLS_KVSH_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "cql/session.h"
#include "ringkv/client.h"

namespace ringkv::kvsh {

// A CqlError that points at no token.
inline cql::CqlError MakeError(cql::ErrorKind kind, std::string message) {
  cql::CqlError e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}

// A token range (start, end]: start exclusive, end inclusive.
struct TokenRange {
  int64_t start = 0;
  int64_t end = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual cql::CqlResult<cql::ResultSet> Execute(std::string_view statement,
                                                 const std::vector<cql::Value>& binds,
                                                 const cql::ExecuteOptions& options) = 0;
  virtual const std::string& keyspace() const = 0;
  virtual cql::CqlResult<bool> Use(std::string_view keyspace) = 0;
  virtual Consistency consistency() const = 0;
  virtual void set_consistency(Consistency c) = 0;
  virtual bool tracing() const = 0;
  virtual void set_tracing(bool on) = 0;
  virtual Quorum quorum() const = 0;
  virtual void set_quorum(Quorum q) = 0;

  virtual cql::CqlResult<std::vector<std::string>> Keyspaces() = 0;
  virtual cql::CqlResult<std::vector<std::string>> Tables(std::string_view keyspace) = 0;
  virtual cql::CqlResult<std::vector<cql::ColumnSpec>> Columns(std::string_view keyspace,
                                                               std::string_view table) = 0;
  virtual cql::CqlResult<std::string> DescribeKeyspace(std::string_view keyspace) = 0;
  virtual cql::CqlResult<std::string> DescribeTable(std::string_view keyspace,
                                                    std::string_view table) = 0;
  // The partition key columns of a table (for COPY TO's token ranges).
  virtual cql::CqlResult<std::vector<std::string>> PartitionKey(std::string_view keyspace,
                                                                std::string_view table) = 0;

  // The ring cut at every member's tokens: ranges that together cover every token once, in
  // order (RangesFromTokens). An empty ring gives the one range (INT64_MIN, INT64_MAX].
  virtual cql::CqlResult<std::vector<TokenRange>> TokenRanges(std::string_view keyspace) = 0;

  // Another session on the same cluster with this one's keyspace, consistency and no tracing,
  // for use on another thread. nullptr: not supported (COPY then runs on this one).
  virtual std::unique_ptr<Backend> NewSession() = 0;
};

// Ranges (t[i-1], t[i]] over the sorted distinct `tokens`, with the wrapping range split at the
// ends of the token space so that every range has start < end: (INT64_MIN, t_0] first and
// (t_last, INT64_MAX] last. INT64_MIN itself is never a key's token (ring/token_range.h), so
// `token(pk) > start AND token(pk) <= end` over these ranges sees every partition exactly once.
std::vector<TokenRange> RangesFromTokens(std::vector<int64_t> tokens);

}  // namespace ringkv::kvsh

#endif  // RINGKV_TOOLS_KVSH_BACKEND_H_
