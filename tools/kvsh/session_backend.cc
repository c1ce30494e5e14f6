#include "tools/kvsh/session_backend.h"

#include <variant>

#include "cql/ast.h"
#include "cql/parser.h"

namespace ringkv::kvsh {

cql::CqlResult<std::vector<std::string>> SessionBackend::PartitionKey(std::string_view keyspace,
                                                                      std::string_view table) {
  // The Session lists columns partition key first but does not say how many there are; its
  // DESCRIBE output does, and the parser reads it back.
  auto described = session_.DescribeTable(keyspace, table);
  if (!described.ok()) return described.error();
  auto parsed = cql::ParseStatement(described.value());
  if (!parsed.ok()) return parsed.error();
  const auto* create = std::get_if<cql::CreateTableStmt>(&parsed->statement);
  if (create == nullptr) {
    return MakeError(cql::ErrorKind::kServer, "DESCRIBE TABLE did not give a CREATE TABLE");
  }
  std::vector<std::string> out;
  for (const auto& id : create->partition_key) out.push_back(id.name);
  return out;
}

cql::CqlResult<std::vector<TokenRange>> SessionBackend::TokenRanges(std::string_view keyspace) {
  auto ring = client_.Ring(keyspace);
  if (!ring.ok()) {
    return MakeError(cql::ErrorKind::kServer, "ring: " + ring.error().ToString());
  }
  std::vector<int64_t> tokens;
  for (const auto& m : ring->members) tokens.insert(tokens.end(), m.tokens.begin(), m.tokens.end());
  return RangesFromTokens(std::move(tokens));
}

std::unique_ptr<Backend> SessionBackend::NewSession() {
  auto other = std::make_unique<SessionBackend>(client_);
  if (!keyspace().empty() && !other->Use(keyspace()).ok()) return nullptr;
  other->set_consistency(consistency());
  other->set_quorum(quorum());
  return other;
}

}  // namespace ringkv::kvsh
