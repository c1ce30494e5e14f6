// Prepared statements of the native protocol: what each '?' of a statement binds (its column
// name and type, from the table's schema), and the node's cache of prepared statements that
// EXECUTE looks ids up in.
//
// A driver prepares a statement on one connection and executes it on any connection to the same
// node, so the cache is shared by all of a node's connections. It is bounded: past
// kPreparedMax entries the oldest is forgotten, and an EXECUTE of it is answered Unprepared,
// which makes the driver prepare it again.
//
// Thread safety: BindTypes is a pure function of its Session's answers; PreparedCache is safe to
// use from any thread.
#ifndef RINGKV_CQL_NATIVE_PREPARED_H_
#define RINGKV_CQL_NATIVE_PREPARED_H_

#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cql/native/messages.h"
#include "cql/parser.h"
#include "cql/session.h"

namespace ringkv::cql::native {

inline constexpr size_t kPreparedMax = 10'000;

// The '?' markers of a parsed statement, in order, named and typed as the spec's bind metadata:
// a column's name and type, an element's type for a marker inside a collection literal,
// "[limit]" int, "[ttl]" int, "[timestamp]" bigint, "partition key token" bigint. Tables of an
// unqualified name are looked up in `keyspace`. Errors: an unknown keyspace, table or column,
// as the statement's execution would report them.
CqlResult<std::vector<ColumnDesc>> BindTypes(const ParsedStatement& parsed,
                                             std::string_view keyspace, Session* session);

struct PreparedStatement {
  std::string query;
  std::string keyspace;  // the connection's keyspace when it was prepared
  std::vector<ColumnDesc> binds;
};

class PreparedCache {
 public:
  // The id of `query` prepared in `keyspace`: 16 bytes, the same for the same pair.
  static std::string IdOf(std::string_view keyspace, std::string_view query);

  void Put(const std::string& id, PreparedStatement statement);
  std::optional<PreparedStatement> Get(const std::string& id) const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, PreparedStatement> by_id_;  // GUARDED_BY(mu_)
  std::deque<std::string> order_;                   // GUARDED_BY(mu_): oldest first
};

}  // namespace ringkv::cql::native

#endif  // RINGKV_CQL_NATIVE_PREPARED_H_
