#include "cql/native/messages.h"

#include <fmt/format.h>

#include "cql/native/types.h"

namespace ringkv::cql::native {

namespace {

// QUERY / EXECUTE flags (section 4.1.4).
constexpr uint8_t kValues = 0x01;
constexpr uint8_t kSkipMetadata = 0x02;
constexpr uint8_t kPageSize = 0x04;
constexpr uint8_t kPagingState = 0x08;
constexpr uint8_t kSerialConsistency = 0x10;
constexpr uint8_t kDefaultTimestamp = 0x20;
constexpr uint8_t kValueNames = 0x40;

// Rows metadata flags (section 4.2.5.2).
constexpr int32_t kGlobalTablesSpec = 0x0001;
constexpr int32_t kHasMorePages = 0x0002;
constexpr int32_t kNoMetadata = 0x0004;

// Result kinds (section 4.2.5).
constexpr int32_t kVoid = 0x0001;
constexpr int32_t kRows = 0x0002;
constexpr int32_t kSetKeyspace = 0x0003;
constexpr int32_t kPrepared = 0x0004;
constexpr int32_t kSchemaChange = 0x0005;

// The common ending of every decoder: the reader's first error, or bytes nobody read.
bool Finish(const BodyReader& r, std::string_view what, std::string* error) {
  if (!r.ok()) {
    *error = fmt::format("malformed {}: {}", what, r.error());
    return false;
  }
  if (r.remaining() != 0) {
    *error = fmt::format("malformed {}: {} bytes after the message", what, r.remaining());
    return false;
  }
  return true;
}

void ReadParams(BodyReader* r, const FrameLimits& limits, QueryParams* p) {
  p->consistency = r->Consistency();
  p->flags = r->Byte();
  if (p->flags & kValues) {
    const uint16_t n = r->Short();
    if (n > limits.collection_count_max) {
      r->Fail(
          fmt::format("{} bind values, more than the limit of {}", n, limits.collection_count_max));
    }
    for (uint16_t i = 0; i < n && r->ok(); ++i) {
      if (p->flags & kValueNames) p->names.push_back(r->String());
      p->values.push_back(r->Value());
    }
  }
  p->skip_metadata = (p->flags & kSkipMetadata) != 0;
  if (p->flags & kPageSize) p->page_size = r->Int();
  if (p->flags & kPagingState) {
    p->paging_state = r->Bytes();
    if (!p->paging_state) p->paging_state = std::string();
  }
  if (p->flags & kSerialConsistency) p->serial_consistency = r->Consistency();
  if (p->flags & kDefaultTimestamp) p->default_timestamp_us = r->Long();
}

void WriteMetadataColumns(const RowsMetadata& m, BodyWriter* w) {
  w->String(m.keyspace);
  w->String(m.table);
  for (const ColumnDesc& c : m.columns) {
    w->String(c.name);
    if (c.wire_type != 0) {
      w->Short(c.wire_type);
    } else {
      WriteTypeOption(c.type, w);
    }
  }
}

void ErrorHead(ErrorCode code, std::string_view message, BodyWriter* w) {
  w->Int(static_cast<int32_t>(code));
  // A [string] holds at most 65535 bytes; longer messages are cut.
  w->String(message.substr(0, 0xffff));
}

// <change_type><target><options>, shared by the RESULT and the EVENT forms.
void WriteSchemaChange(std::string_view change, std::string_view target, std::string_view keyspace,
                       std::string_view name, BodyWriter* w) {
  w->String(change);
  w->String(target);
  w->String(keyspace);
  if (target != "KEYSPACE") w->String(name);
}

}  // namespace

bool DecodeStartup(std::string_view body, const FrameLimits& limits,
                   std::map<std::string, std::string>* out, std::string* error) {
  BodyReader r(body, limits);
  *out = r.StringMap();
  return Finish(r, "STARTUP", error);
}

bool DecodeQuery(std::string_view body, const FrameLimits& limits, QueryRequest* out,
                 std::string* error) {
  BodyReader r(body, limits);
  out->query = r.LongString();
  ReadParams(&r, limits, &out->params);
  return Finish(r, "QUERY", error);
}

bool DecodePrepare(std::string_view body, const FrameLimits& limits, std::string* query,
                   std::string* error) {
  BodyReader r(body, limits);
  *query = r.LongString();
  return Finish(r, "PREPARE", error);
}

bool DecodeExecute(std::string_view body, const FrameLimits& limits, ExecuteRequest* out,
                   std::string* error) {
  BodyReader r(body, limits);
  out->id = r.ShortBytes();
  ReadParams(&r, limits, &out->params);
  return Finish(r, "EXECUTE", error);
}

bool DecodeBatch(std::string_view body, const FrameLimits& limits, BatchRequest* out,
                 std::string* error) {
  BodyReader r(body, limits);
  out->type = r.Byte();
  if (r.ok() && out->type > 2) r.Fail(fmt::format("unknown batch type {}", out->type));
  const uint16_t n = r.Short();
  if (n > limits.collection_count_max) {
    r.Fail(fmt::format("batch of {} statements, more than the limit of {}", n,
                       limits.collection_count_max));
  }
  for (uint16_t i = 0; i < n && r.ok(); ++i) {
    BatchEntry e;
    const uint8_t kind = r.Byte();
    if (kind > 1) r.Fail(fmt::format("unknown batch entry kind {}", kind));
    e.prepared = kind == 1;
    e.query_or_id = e.prepared ? r.ShortBytes() : r.LongString();
    const uint16_t values = r.Short();
    if (values > limits.collection_count_max) r.Fail("too many bind values in a batch entry");
    for (uint16_t v = 0; v < values && r.ok(); ++v) e.values.push_back(r.Value());
    out->entries.push_back(std::move(e));
  }
  out->consistency = r.Consistency();
  out->flags = r.Byte();
  if (out->flags & kValueNames) r.Fail("named values in a BATCH are not supported");
  if (out->flags & kSerialConsistency) out->serial_consistency = r.Consistency();
  if (out->flags & kDefaultTimestamp) out->default_timestamp_us = r.Long();
  return Finish(r, "BATCH", error);
}

bool DecodeRegister(std::string_view body, const FrameLimits& limits,
                    std::vector<std::string>* events, std::string* error) {
  BodyReader r(body, limits);
  *events = r.StringList();
  return Finish(r, "REGISTER", error);
}

std::string ErrorBody(ErrorCode code, std::string_view message) {
  BodyWriter w;
  ErrorHead(code, message, &w);
  return w.Take();
}

std::string UnavailableBody(std::string_view message, uint16_t consistency, int32_t required,
                            int32_t alive) {
  BodyWriter w;
  ErrorHead(ErrorCode::kUnavailable, message, &w);
  w.Short(consistency);
  w.Int(required);
  w.Int(alive);
  return w.Take();
}

std::string WriteTimeoutBody(std::string_view message, uint16_t consistency, int32_t received,
                             int32_t block_for, std::string_view write_type) {
  BodyWriter w;
  ErrorHead(ErrorCode::kWriteTimeout, message, &w);
  w.Short(consistency);
  w.Int(received);
  w.Int(block_for);
  w.String(write_type);
  return w.Take();
}

std::string ReadTimeoutBody(std::string_view message, uint16_t consistency, int32_t received,
                            int32_t block_for, bool data_present) {
  BodyWriter w;
  ErrorHead(ErrorCode::kReadTimeout, message, &w);
  w.Short(consistency);
  w.Int(received);
  w.Int(block_for);
  w.Byte(data_present ? 1 : 0);
  return w.Take();
}

std::string AlreadyExistsBody(std::string_view message, std::string_view keyspace,
                              std::string_view table) {
  BodyWriter w;
  ErrorHead(ErrorCode::kAlreadyExists, message, &w);
  w.String(keyspace);
  w.String(table);
  return w.Take();
}

std::string UnpreparedBody(std::string_view message, std::string_view id) {
  BodyWriter w;
  ErrorHead(ErrorCode::kUnprepared, message, &w);
  w.ShortBytes(id);
  return w.Take();
}

std::string SupportedBody() {
  BodyWriter w;
  // No compression: a driver then sends every frame uncompressed.
  w.StringMultimap({{"CQL_VERSION", {"3.4.4"}}, {"COMPRESSION", {}}});
  return w.Take();
}

std::string ResultVoidBody() {
  BodyWriter w;
  w.Int(kVoid);
  return w.Take();
}

std::string ResultSetKeyspaceBody(std::string_view keyspace) {
  BodyWriter w;
  w.Int(kSetKeyspace);
  w.String(keyspace);
  return w.Take();
}

std::string ResultSchemaChangeBody(std::string_view change, std::string_view target,
                                   std::string_view keyspace, std::string_view name) {
  BodyWriter w;
  w.Int(kSchemaChange);
  WriteSchemaChange(change, target, keyspace, name, &w);
  return w.Take();
}

std::string SchemaChangeEventBody(std::string_view change, std::string_view target,
                                  std::string_view keyspace, std::string_view name) {
  BodyWriter w;
  w.String("SCHEMA_CHANGE");
  WriteSchemaChange(change, target, keyspace, name, &w);
  return w.Take();
}

std::string ResultRowsBody(const RowsMetadata& m, const std::vector<Row>& rows) {
  BodyWriter w;
  w.Int(kRows);
  int32_t flags = 0;
  if (m.paging_state) flags |= kHasMorePages;
  if (m.no_metadata) {
    flags |= kNoMetadata;
  } else {
    flags |= kGlobalTablesSpec;
  }
  w.Int(flags);
  w.Int(static_cast<int32_t>(m.columns.size()));
  if (m.paging_state) w.Bytes(std::string_view(*m.paging_state));
  if (!m.no_metadata) WriteMetadataColumns(m, &w);
  w.Int(static_cast<int32_t>(rows.size()));
  for (const Row& row : rows) {
    for (const auto& cell : row) w.NullableBytes(cell);
  }
  return w.Take();
}

std::string ResultPreparedBody(std::string_view id, const RowsMetadata& binds,
                               const std::vector<uint16_t>& pk_indexes,
                               const RowsMetadata& result) {
  BodyWriter w;
  w.Int(kPrepared);
  w.ShortBytes(id);
  w.Int(kGlobalTablesSpec);
  w.Int(static_cast<int32_t>(binds.columns.size()));
  w.Int(static_cast<int32_t>(pk_indexes.size()));
  for (uint16_t i : pk_indexes) w.Short(i);
  WriteMetadataColumns(binds, &w);
  if (result.columns.empty()) {
    w.Int(kNoMetadata);
    w.Int(0);
  } else {
    w.Int(kGlobalTablesSpec);
    w.Int(static_cast<int32_t>(result.columns.size()));
    WriteMetadataColumns(result, &w);
  }
  return w.Take();
}

std::string NodeEventBody(std::string_view type, std::string_view change, std::string_view ipv4,
                          int32_t port) {
  BodyWriter w;
  w.String(type);
  w.String(change);
  w.Byte(static_cast<uint8_t>(ipv4.size()));  // [inet]: address size, address, port
  w.Raw(ipv4);
  w.Int(port);
  return w.Take();
}

std::string WithWarnings(const std::vector<std::string>& warnings, std::string_view body) {
  BodyWriter w;
  std::vector<std::string> cut;
  for (const auto& s : warnings) cut.push_back(s.substr(0, 0xffff));
  w.StringList(cut);
  w.Raw(body);
  return w.Take();
}

}  // namespace ringkv::cql::native
