// The CQL binary protocol v4, message level: the bodies of the requests a server reads (STARTUP,
// QUERY, PREPARE, EXECUTE, BATCH, REGISTER) and of the responses it writes (ERROR, READY,
// SUPPORTED, RESULT of each kind), per sections 4.1 and 4.2 of the spec.
//
// Decoders read with a BodyReader, so every length is checked against the body and FrameLimits;
// a body with bytes left over is malformed too. They never throw.
//
// Thread safety: pure functions over plain structs.
#ifndef RINGKV_CQL_NATIVE_MESSAGES_H_
#define RINGKV_CQL_NATIVE_MESSAGES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cql/native/frame.h"
#include "cql/value.h"

namespace ringkv::cql::native {

// <query_parameters> of QUERY and EXECUTE (section 4.1.4).
struct QueryParams {
  uint16_t consistency = static_cast<uint16_t>(WireConsistency::kOne);
  uint8_t flags = 0;
  std::vector<WireValue> values;
  std::vector<std::string> names;  // with flag 0x40: one per value
  bool skip_metadata = false;
  int32_t page_size = -1;  // <= 0: no paging
  std::optional<std::string> paging_state;
  std::optional<uint16_t> serial_consistency;
  std::optional<int64_t> default_timestamp_us;
};

struct QueryRequest {
  std::string query;
  QueryParams params;
};

struct ExecuteRequest {
  std::string id;
  QueryParams params;
};

struct BatchEntry {
  bool prepared = false;
  std::string query_or_id;  // the query text, or the prepared id
  std::vector<WireValue> values;
};

struct BatchRequest {
  uint8_t type = 0;  // 0 logged, 1 unlogged, 2 counter
  std::vector<BatchEntry> entries;
  uint16_t consistency = static_cast<uint16_t>(WireConsistency::kOne);
  uint8_t flags = 0;
  std::optional<uint16_t> serial_consistency;
  std::optional<int64_t> default_timestamp_us;
};

// Each returns false with `*error` on a malformed body.
bool DecodeStartup(std::string_view body, const FrameLimits& limits,
                   std::map<std::string, std::string>* out, std::string* error);
bool DecodeQuery(std::string_view body, const FrameLimits& limits, QueryRequest* out,
                 std::string* error);
bool DecodePrepare(std::string_view body, const FrameLimits& limits, std::string* query,
                   std::string* error);
bool DecodeExecute(std::string_view body, const FrameLimits& limits, ExecuteRequest* out,
                   std::string* error);
bool DecodeBatch(std::string_view body, const FrameLimits& limits, BatchRequest* out,
                 std::string* error);
bool DecodeRegister(std::string_view body, const FrameLimits& limits,
                    std::vector<std::string>* events, std::string* error);

// ---- responses (bodies; EncodeResponse adds the header) ----

struct ColumnDesc {
  std::string name;
  Type type;
  // A protocol type CQL-lite does not have (0x0010 inet, for the system tables): written in
  // place of `type` when non-zero.
  uint16_t wire_type = 0;
};
inline constexpr uint16_t kInetWireType = 0x0010;

// The metadata of a Rows result or of a prepared statement's result (section 4.2.5.2).
struct RowsMetadata {
  std::string keyspace, table;  // the global table spec; both empty: "" / ""
  std::vector<ColumnDesc> columns;
  std::optional<std::string> paging_state;  // set: Has_more_pages
  bool no_metadata = false;                 // only the column count is sent
};

using Row = std::vector<std::optional<std::string>>;  // serialized cells; nullopt: null

std::string ErrorBody(ErrorCode code, std::string_view message);
// Unavailable: <cl><required><alive>.
std::string UnavailableBody(std::string_view message, uint16_t consistency, int32_t required,
                            int32_t alive);
// Write_timeout: <cl><received><blockfor><writeType>.
std::string WriteTimeoutBody(std::string_view message, uint16_t consistency, int32_t received,
                             int32_t block_for, std::string_view write_type);
// Read_timeout: <cl><received><blockfor><data_present>.
std::string ReadTimeoutBody(std::string_view message, uint16_t consistency, int32_t received,
                            int32_t block_for, bool data_present);
// Already_exists: <ks><table> (table empty for a keyspace).
std::string AlreadyExistsBody(std::string_view message, std::string_view keyspace,
                              std::string_view table);
std::string UnpreparedBody(std::string_view message, std::string_view id);

std::string SupportedBody();

std::string ResultVoidBody();
std::string ResultSetKeyspaceBody(std::string_view keyspace);
// target "KEYSPACE" (name empty) or "TABLE"; change "CREATED", "UPDATED" or "DROPPED".
std::string ResultSchemaChangeBody(std::string_view change, std::string_view target,
                                   std::string_view keyspace, std::string_view name);
std::string ResultRowsBody(const RowsMetadata& metadata, const std::vector<Row>& rows);
// Prepared (v4): <id><metadata><result_metadata>. `pk_indexes` are the bind markers that give
// the partition key, in key order (for token-aware routing).
std::string ResultPreparedBody(std::string_view id, const RowsMetadata& binds,
                               const std::vector<uint16_t>& pk_indexes, const RowsMetadata& result);

// An EVENT body for a SCHEMA_CHANGE (section 4.2.6).
std::string SchemaChangeEventBody(std::string_view change, std::string_view target,
                                  std::string_view keyspace, std::string_view name);

// STATUS_CHANGE ("UP" / "DOWN") and TOPOLOGY_CHANGE ("NEW_NODE" / "REMOVED_NODE") of the node
// whose CQL address is `ipv4` (4 bytes, network order) : `port`.
std::string NodeEventBody(std::string_view type, std::string_view change, std::string_view ipv4,
                          int32_t port);

// Prepends the [string list] of warnings a response with kFlagWarning carries.
std::string WithWarnings(const std::vector<std::string>& warnings, std::string_view body);

}  // namespace ringkv::cql::native

#endif  // RINGKV_CQL_NATIVE_MESSAGES_H_
