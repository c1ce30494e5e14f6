#include "cql/native/conversation.h"

#include <fmt/format.h>

#include <variant>

#include "cql/lexer.h"
#include "cql/native/types.h"
#include "cql/parser.h"
#include "cql/session_impl.h"  // Invalid()

namespace ringkv::cql::native {

namespace {

// Reads past the [bytes map] a request with kFlagCustomPayload carries before its message:
// custom payloads are for custom query handlers, which ringkv does not have.
bool SkipCustomPayload(std::string_view* body, const FrameLimits& limits, std::string* error) {
  BodyReader r(*body, limits);
  const uint16_t n = r.Short();
  for (uint16_t i = 0; i < n && r.ok(); ++i) {
    r.String();
    r.Bytes();
  }
  if (!r.ok()) {
    *error = "malformed custom payload: " + r.error();
    return false;
  }
  body->remove_prefix(body->size() - r.remaining());
  return true;
}

// The keyspace and table a statement names, for AlreadyExists and SchemaChange.
struct Target {
  std::string change;  // CREATED / DROPPED; empty: not a schema change
  std::string kind;    // KEYSPACE / TABLE
  std::string keyspace, table;
};

Target TargetOf(const Statement& s, const std::string& session_keyspace) {
  auto ks = [&](const TableName& t) { return t.keyspace.empty() ? session_keyspace : t.keyspace; };
  if (auto* c = std::get_if<CreateKeyspaceStmt>(&s))
    return {"CREATED", "KEYSPACE", c->keyspace.name, ""};
  if (auto* d = std::get_if<DropKeyspaceStmt>(&s))
    return {"DROPPED", "KEYSPACE", d->keyspace.name, ""};
  if (auto* c = std::get_if<CreateTableStmt>(&s))
    return {"CREATED", "TABLE", ks(c->table), c->table.name};
  if (auto* d = std::get_if<DropTableStmt>(&s))
    return {"DROPPED", "TABLE", ks(d->table), d->table.name};
  return {};
}

bool IsWrite(const Statement& s) {
  return std::holds_alternative<InsertStmt>(s) || std::holds_alternative<UpdateStmt>(s) ||
         std::holds_alternative<DeleteStmt>(s) || std::holds_alternative<BatchStmt>(s);
}

// The Session binds values only: a null bind value is written into the statement as the literal
// null (which INSERT and UPDATE store as a tombstone cell, as Cassandra does), and its value and
// type leave the lists. Unchanged if the markers cannot be matched with the values (the count
// check reports that).
void InlineNulls(std::string* text, std::vector<WireValue>* values,
                 std::vector<ColumnDesc>* binds) {
  std::vector<size_t> markers;  // offsets of the '?' tokens, in order: bind index order
  Lexer lexer(*text);
  for (Token t = lexer.Next(); t.kind != TokenKind::kEnd && t.kind != TokenKind::kError;
       t = lexer.Next()) {
    if (t.IsSymbol("?")) markers.push_back(t.offset);
  }
  if (markers.size() != values->size() || binds->size() != values->size()) return;
  for (size_t i = markers.size(); i-- > 0;) {
    if ((*values)[i].state != WireValue::State::kNull) continue;
    text->replace(markers[i], 1, "null");
    values->erase(values->begin() + static_cast<std::ptrdiff_t>(i));
    binds->erase(binds->begin() + static_cast<std::ptrdiff_t>(i));
  }
}

}  // namespace

bool MapConsistency(uint16_t wire, Consistency* out, std::string* warning, std::string* error) {
  switch (static_cast<WireConsistency>(wire)) {
    case WireConsistency::kAny:
      *out = Consistency::kAny;
      return true;
    case WireConsistency::kOne:
      *out = Consistency::kOne;
      return true;
    case WireConsistency::kTwo:
      *out = Consistency::kTwo;
      return true;
    case WireConsistency::kThree:
      *out = Consistency::kThree;
      return true;
    case WireConsistency::kQuorum:
      *out = Consistency::kQuorum;
      return true;
    case WireConsistency::kAll:
      *out = Consistency::kAll;
      return true;
    case WireConsistency::kLocalOne:
      *out = Consistency::kOne;
      *warning = "LOCAL_ONE is served as ONE: ringkv has a single data centre";
      return true;
    case WireConsistency::kLocalQuorum:
    case WireConsistency::kEachQuorum:
      *out = Consistency::kQuorum;
      *warning = fmt::format("{} is served as QUORUM: ringkv has a single data centre",
                             WireConsistencyName(wire));
      return true;
    case WireConsistency::kSerial:
    case WireConsistency::kLocalSerial:
      *error = fmt::format(
          "consistency {} is not supported: ringkv has no lightweight transactions (use ONE, "
          "TWO, THREE, QUORUM, ALL or ANY)",
          WireConsistencyName(wire));
      return false;
  }
  *error = fmt::format("unknown consistency level {}", WireConsistencyName(wire));
  return false;
}

Conversation::Conversation(const ConversationContext& context) : context_(context) {}

bool Conversation::IsStatement(uint8_t opcode) {
  const auto op = static_cast<Opcode>(opcode);
  return op == Opcode::kQuery || op == Opcode::kPrepare || op == Opcode::kExecute ||
         op == Opcode::kBatch;
}

bool Conversation::ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_ && !authenticating_;
}

uint8_t Conversation::registered_events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return registered_events_;
}

Conversation::Call Conversation::Acquire() {
  Call call;
  std::string keyspace;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      call = std::move(idle_.back());
      idle_.pop_back();
    }
    keyspace = keyspace_;
  }
  const uint64_t now =
      context_.schema_generation != nullptr ? context_.schema_generation->load() : 0;
  if (call.session == nullptr || call.generation != now) {
    // A schema change through another connection: a new Session, with nothing cached.
    call.session = std::make_unique<Session>(*context_.client);
    call.session->set_tombstone_grace_s(context_.tombstone_grace_s);
    call.generation = now;
  }
  // A keyspace dropped meanwhile leaves the Session without one, as Cassandra leaves a
  // connection whose keyspace was dropped: statements must name one or USE another.
  if (call.session->keyspace() != keyspace && !keyspace.empty()) {
    (void)call.session->Use(keyspace).ok();
  }
  call.event.clear();
  return call;
}

void Conversation::Release(Call call) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(call));
}

std::string Conversation::Refuse(HeaderCheck check, const FrameHeader& header,
                                 const FrameLimits& limits) {
  std::string message;
  switch (check) {
    case HeaderCheck::kBadVersion:
      // The words drivers look for to downgrade ("unsupported protocol version").
      message =
          fmt::format("Invalid or unsupported protocol version ({}); supported versions are (4/v4)",
                      header.version);
      break;
    case HeaderCheck::kNotRequest:
      message = "a response frame was sent to the server";
      break;
    case HeaderCheck::kTooLarge:
      message = fmt::format("frame of {} bytes is over the limit of {} bytes", header.length,
                            limits.body_bytes_max);
      break;
    case HeaderCheck::kOk:
      message = "no error";
      break;
  }
  const std::string body = ErrorBody(ErrorCode::kProtocol, message);
  if (check != HeaderCheck::kBadVersion || header.version >= kProtocolVersion) {
    // A newer version is answered in the newest this server speaks (as Cassandra does).
    return EncodeResponse(header.stream, Opcode::kError, 0, body);
  }
  // An older version is answered in that version, so the client can read it: v3's header is
  // v4's; v1 and v2 have a one-byte stream id.
  std::string out;
  out.push_back(static_cast<char>(header.version | kResponseBit));
  out.push_back(0);
  if (header.version >= 3) {
    PutBe(static_cast<uint16_t>(header.stream), 2, &out);
  } else {
    out.push_back(static_cast<char>(header.stream));
  }
  out.push_back(static_cast<char>(Opcode::kError));
  PutBe(body.size(), 4, &out);
  return out + body;
}

Conversation::Reply Conversation::Fail(ErrorCode code, std::string_view message) {
  return Reply{Opcode::kError, ErrorBody(code, message), {}};
}

std::string Conversation::Handle(const FrameHeader& header, std::string_view body,
                                 std::string* event) {
  Reply reply;
  std::string error;
  const auto op = static_cast<Opcode>(header.opcode);
  const bool needs_startup = IsStatement(header.opcode) || op == Opcode::kRegister;
  bool ready = true;
  bool authenticating = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ready = started_ && !authenticating_;
    authenticating = authenticating_;
  }
  if (header.flags & kFlagCompression) {
    reply = Fail(ErrorCode::kProtocol, "compressed frame, but no compression was agreed");
  } else if ((header.flags & kFlagCustomPayload) &&
             !SkipCustomPayload(&body, context_.limits, &error)) {
    reply = Fail(ErrorCode::kProtocol, error);
  } else if (needs_startup && !ready) {
    reply = Fail(ErrorCode::kProtocol, fmt::format("{} before {}", OpcodeName(header.opcode),
                                                   authenticating ? "authentication" : "STARTUP"));
  } else if (IsStatement(header.opcode)) {
    Call call = Acquire();
    if (op == Opcode::kQuery) reply = Query(&call, body);
    if (op == Opcode::kPrepare) reply = Prepare(&call, body);
    if (op == Opcode::kExecute) reply = Execute(&call, body);
    if (op == Opcode::kBatch) reply = Batch(&call, body);
    if (event != nullptr) *event = std::move(call.event);
    Release(std::move(call));
  } else {
    switch (op) {
      case Opcode::kOptions:
        reply = Reply{Opcode::kSupported, SupportedBody(), {}};
        break;
      case Opcode::kStartup:
        reply = Startup(body);
        break;
      case Opcode::kRegister: {
        std::vector<std::string> events;
        if (!DecodeRegister(body, context_.limits, &events, &error)) {
          reply = Fail(ErrorCode::kProtocol, error);
          break;
        }
        std::lock_guard<std::mutex> lock(mu_);
        for (const std::string& e : events) {
          if (e == "SCHEMA_CHANGE") registered_events_ |= kEventSchema;
          if (e == "STATUS_CHANGE") registered_events_ |= kEventStatus;
          if (e == "TOPOLOGY_CHANGE") registered_events_ |= kEventTopology;
        }
        reply = Reply{Opcode::kReady, "", {}};
        break;
      }
      case Opcode::kAuthResponse:
        reply = AuthResponse(body);
        break;
      default:
        reply = Fail(ErrorCode::kProtocol,
                     fmt::format("unexpected opcode {} in a request", OpcodeName(header.opcode)));
        break;
    }
  }
  uint8_t flags = 0;
  if (!reply.warnings.empty()) {
    flags |= kFlagWarning;
    reply.body = WithWarnings(reply.warnings, reply.body);
  }
  return EncodeResponse(header.stream, reply.opcode, flags, reply.body);
}

Conversation::Reply Conversation::Startup(std::string_view body) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return Fail(ErrorCode::kProtocol, "STARTUP on a connection already started");
  std::map<std::string, std::string> options;
  std::string error;
  if (!DecodeStartup(body, context_.limits, &options, &error)) {
    return Fail(ErrorCode::kProtocol, error);
  }
  auto version = options.find("CQL_VERSION");
  if (version == options.end()) {
    return Fail(ErrorCode::kProtocol, "STARTUP without CQL_VERSION");
  }
  if (version->second.rfind("3.", 0) != 0) {
    return Fail(ErrorCode::kProtocol,
                fmt::format("CQL_VERSION {} is not supported (3.4.4 is)", version->second));
  }
  if (auto c = options.find("COMPRESSION"); c != options.end() && !c->second.empty()) {
    return Fail(ErrorCode::kProtocol,
                fmt::format("compression {} is not supported (SUPPORTED lists none)", c->second));
  }
  started_ = true;
  if (context_.credentials != nullptr) {
    authenticating_ = true;
    BodyWriter w;
    w.String(kPasswordAuthenticator);
    return Reply{Opcode::kAuthenticate, w.Take(), {}};
  }
  return Reply{Opcode::kReady, "", {}};
}

Conversation::Reply Conversation::AuthResponse(std::string_view body) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!authenticating_) return Fail(ErrorCode::kProtocol, "AUTH_RESPONSE not asked for");
  BodyReader r(body, context_.limits);
  const std::optional<std::string> token = r.Bytes();
  if (!r.ok() || r.remaining() != 0) {
    return Fail(ErrorCode::kProtocol, "malformed AUTH_RESPONSE: " + r.error());
  }
  std::string user;
  if (!token || !CheckPlainToken(*token, *context_.credentials, &user)) {
    // The connection stays in AUTHENTICATE: the driver may try again or close.
    return Fail(ErrorCode::kBadCredentials,
                fmt::format("Provided username {} and/or password are incorrect", user));
  }
  authenticating_ = false;
  BodyWriter w;
  w.NullableBytes(std::nullopt);
  return Reply{Opcode::kAuthSuccess, w.Take(), {}};
}

Conversation::Reply Conversation::Query(Call* call, std::string_view body) {
  QueryRequest q;
  std::string error;
  if (!DecodeQuery(body, context_.limits, &q, &error)) return Fail(ErrorCode::kProtocol, error);
  if (!q.params.names.empty()) {
    return Fail(ErrorCode::kInvalid, "named bind values are not supported; bind by position");
  }
  return Run(call, q.query, q.params, nullptr);
}

Conversation::Reply Conversation::Prepare(Call* call, std::string_view body) {
  std::string query, error;
  if (!DecodePrepare(body, context_.limits, &query, &error)) {
    return Fail(ErrorCode::kProtocol, error);
  }
  auto parsed = ParseStatement(query);
  if (!parsed.ok()) return Error(call, parsed.error(), nullptr, 0);
  auto binds = BindTypes(*parsed, call->session->keyspace(), call->session.get());
  if (!binds.ok()) return Error(call, binds.error(), &*parsed, 0);
  const std::string id = PreparedCache::IdOf(call->session->keyspace(), query);
  RowsMetadata bind_meta;
  bind_meta.columns = *binds;
  if (auto* select = std::get_if<SelectStmt>(&parsed->statement)) {
    bind_meta.keyspace =
        select->table.keyspace.empty() ? call->session->keyspace() : select->table.keyspace;
    bind_meta.table = select->table.name;
  }
  context_.prepared->Put(id, PreparedStatement{query, call->session->keyspace(), *binds});
  // No result metadata: drivers then ask for it with every EXECUTE (no skip_metadata), so a
  // table altered since PREPARE can never be read with stale column types.
  return Reply{Opcode::kResult, ResultPreparedBody(id, bind_meta, {}, RowsMetadata{}), {}};
}

Conversation::Reply Conversation::Execute(Call* call, std::string_view body) {
  ExecuteRequest e;
  std::string error;
  if (!DecodeExecute(body, context_.limits, &e, &error)) return Fail(ErrorCode::kProtocol, error);
  auto prepared = context_.prepared->Get(e.id);
  if (!prepared) {
    return Reply{
        Opcode::kError,
        UnpreparedBody("prepared statement not found on this node; prepare it again", e.id),
        {}};
  }
  // A statement runs in the keyspace it was prepared in (its unqualified names resolve there);
  // the next request's Acquire puts the connection's keyspace back.
  if (!prepared->keyspace.empty() && prepared->keyspace != call->session->keyspace()) {
    if (auto used = call->session->Use(prepared->keyspace); !used.ok()) {
      return Error(call, used.error(), nullptr, 0);
    }
  }
  return Run(call, prepared->query, e.params, &prepared->binds);
}

CqlResult<std::vector<Value>> Conversation::Bind(const std::vector<WireValue>& values,
                                                 const std::vector<ColumnDesc>& binds) const {
  if (values.size() != binds.size()) {
    return Invalid(fmt::format("there were {} markers(?) in CQL but {} bound variables",
                               binds.size(), values.size()));
  }
  std::vector<Value> out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].state == WireValue::State::kUnset) {
      return Invalid(fmt::format(
          "bind value {} ({}) is unset: ringkv cannot leave a column unchanged by an unset "
          "value; leave the column out of the statement",
          i + 1, binds[i].name));
    }
    if (values[i].state == WireValue::State::kNull) {
      return Invalid(fmt::format("bind value {} ({}) is null, and its marker was not found", i + 1,
                                 binds[i].name));
    }
    Value v;
    std::string error;
    if (!DeserializeValue(binds[i].type, values[i].bytes, context_.limits, &v, &error)) {
      return Invalid(fmt::format("Invalid bind value {} for {} of type {}: {}", i + 1,
                                 binds[i].name, binds[i].type.ToCql(), error));
    }
    out.push_back(std::move(v));
  }
  return out;
}

Conversation::Reply Conversation::Run(Call* call, const std::string& text,
                                      const QueryParams& params,
                                      const std::vector<ColumnDesc>* binds) {
  Consistency consistency;
  std::string warning, error;
  if (!MapConsistency(params.consistency, &consistency, &warning, &error)) {
    return Fail(ErrorCode::kInvalid, error);
  }
  auto parsed = ParseStatement(text);
  if (!parsed.ok()) return Error(call, parsed.error(), nullptr, params.consistency);

  std::vector<ColumnDesc> typed;
  if (binds == nullptr && !params.values.empty()) {
    auto t = BindTypes(*parsed, call->session->keyspace(), call->session.get());
    if (!t.ok()) return Error(call, t.error(), &*parsed, params.consistency);
    typed = std::move(*t);
    binds = &typed;
  }
  std::vector<Value> values;
  std::string statement = text;
  if (binds != nullptr) {
    std::vector<WireValue> wire_values = params.values;
    std::vector<ColumnDesc> bind_types = *binds;
    InlineNulls(&statement, &wire_values, &bind_types);
    auto v = Bind(wire_values, bind_types);
    if (!v.ok()) return Error(call, v.error(), &*parsed, params.consistency);
    values = std::move(*v);
  }

  Reply reply;
  auto* select = std::get_if<SelectStmt>(&parsed->statement);
  if (select != nullptr && IsSystemKeyspace(select->table.keyspace)) {
    auto cluster = context_.cluster();
    if (!cluster.ok()) return Error(call, cluster.error(), &*parsed, params.consistency);
    auto answer = QuerySystemTable(*select, values, *cluster, call->session.get());
    if (!answer.ok()) return Error(call, answer.error(), &*parsed, params.consistency);
    reply.body = ResultRowsBody(answer->metadata, answer->rows);
  } else {
    call->session->set_consistency(consistency);
    ExecuteOptions options;
    if (params.page_size > 0) options.page_size = static_cast<uint32_t>(params.page_size);
    if (params.paging_state) options.paging_state = *params.paging_state;
    auto rs = call->session->Execute(statement, values, options);
    if (!rs.ok()) return Error(call, rs.error(), &*parsed, params.consistency);
    reply = Result(call, *parsed, *rs);
  }
  if (!warning.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (warned_levels_.insert(params.consistency).second) {
      reply.warnings.insert(reply.warnings.begin(), warning);
    }
  }
  return reply;
}

Conversation::Reply Conversation::Result(Call* call, const ParsedStatement& parsed,
                                         const ResultSet& rs) {
  Reply reply;
  reply.warnings = rs.warnings;
  if (!rs.keyspace_changed.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    keyspace_ = rs.keyspace_changed;  // every Session of the connection follows at Acquire
    reply.body = ResultSetKeyspaceBody(rs.keyspace_changed);
    return reply;
  }
  if (auto* select = std::get_if<SelectStmt>(&parsed.statement)) {
    RowsMetadata m;
    m.keyspace =
        select->table.keyspace.empty() ? call->session->keyspace() : select->table.keyspace;
    m.table = select->table.name;
    for (const ColumnSpec& c : rs.columns) m.columns.push_back({c.name, c.type});
    if (!rs.paging_state.empty()) m.paging_state = rs.paging_state;
    std::vector<Row> rows;
    rows.reserve(rs.rows.size());
    for (const auto& row : rs.rows) {
      Row out;
      for (const auto& cell : row) {
        out.push_back(cell ? std::optional<std::string>(SerializeValue(*cell)) : std::nullopt);
      }
      rows.push_back(std::move(out));
    }
    reply.body = ResultRowsBody(m, rows);
    return reply;
  }
  const Target target = TargetOf(parsed.statement, call->session->keyspace());
  if (target.change.empty()) {
    reply.body = ResultVoidBody();
    return reply;
  }
  reply.body = ResultSchemaChangeBody(target.change, target.kind, target.keyspace, target.table);
  if (context_.schema_generation != nullptr) {
    // Every other conversation of the node drops its cached schema before its next request;
    // this one's Session made the change and knows it.
    call->generation = context_.schema_generation->fetch_add(1) + 1;
  }
  call->event = EncodeResponse(
      -1, Opcode::kEvent, 0,
      SchemaChangeEventBody(target.change, target.kind, target.keyspace, target.table));
  return reply;
}

Conversation::Reply Conversation::Error(Call* call, const CqlError& e,
                                        const ParsedStatement* parsed, uint16_t consistency) {
  const std::string message = e.line > 0 ? e.ToString() : e.message;
  switch (e.kind) {
    case ErrorKind::kSyntax:
      return Fail(ErrorCode::kSyntax, message);
    case ErrorKind::kInvalid:
      return Fail(ErrorCode::kInvalid, message);
    case ErrorKind::kAlreadyExists: {
      Target t;
      if (parsed != nullptr) t = TargetOf(parsed->statement, call->session->keyspace());
      return Reply{Opcode::kError, AlreadyExistsBody(message, t.keyspace, t.table), {}};
    }
    case ErrorKind::kUnavailable:
      return Reply{Opcode::kError,
                   UnavailableBody(message, consistency, static_cast<int32_t>(e.needed),
                                   static_cast<int32_t>(e.alive)),
                   {}};
    case ErrorKind::kTimeout:
      // ringkv's timeout says neither how many replicas answered nor how many were awaited:
      // received 0 of 1, so that no retry policy takes it for a read that nearly succeeded.
      if (parsed != nullptr && IsWrite(parsed->statement)) {
        // A batch is written partition by partition without a batch log, logged or not.
        const char* type =
            std::holds_alternative<BatchStmt>(parsed->statement) ? "UNLOGGED_BATCH" : "SIMPLE";
        return Reply{Opcode::kError, WriteTimeoutBody(message, consistency, 0, 1, type), {}};
      }
      return Reply{Opcode::kError, ReadTimeoutBody(message, consistency, 0, 1, false), {}};
    case ErrorKind::kServer:
      break;
  }
  return Fail(ErrorCode::kServer, message);
}

Conversation::Reply Conversation::Batch(Call* call, std::string_view body) {
  BatchRequest b;
  std::string error;
  if (!DecodeBatch(body, context_.limits, &b, &error)) return Fail(ErrorCode::kProtocol, error);
  if (b.type == 2) return Fail(ErrorCode::kInvalid, "counter batches are not supported");
  // One CQL-lite BATCH statement: its '?' markers run through the entries in order, so the
  // entries' values concatenate; each entry's markers are typed as the entry alone would be.
  std::string text = b.type == 1 ? "BEGIN UNLOGGED BATCH\n" : "BEGIN BATCH\n";
  QueryParams params;
  params.consistency = b.consistency;
  std::vector<ColumnDesc> binds;
  for (const BatchEntry& entry : b.entries) {
    std::string query;
    std::vector<ColumnDesc> entry_binds;
    if (entry.prepared) {
      auto prepared = context_.prepared->Get(entry.query_or_id);
      if (!prepared) {
        return Reply{Opcode::kError,
                     UnpreparedBody("prepared statement not found on this node; prepare it again",
                                    entry.query_or_id),
                     {}};
      }
      query = prepared->query;
      entry_binds = prepared->binds;
    } else {
      query = entry.query_or_id;
      auto parsed = ParseStatement(query);
      if (!parsed.ok()) return Error(call, parsed.error(), nullptr, b.consistency);
      auto t = BindTypes(*parsed, call->session->keyspace(), call->session.get());
      if (!t.ok()) return Error(call, t.error(), &*parsed, b.consistency);
      entry_binds = std::move(*t);
    }
    while (!query.empty() && (query.back() == ';' || query.back() == ' ' || query.back() == '\n')) {
      query.pop_back();
    }
    text += query + ";\n";
    binds.insert(binds.end(), entry_binds.begin(), entry_binds.end());
    params.values.insert(params.values.end(), entry.values.begin(), entry.values.end());
  }
  text += "APPLY BATCH";
  return Run(call, text, params, &binds);
}

}  // namespace ringkv::cql::native
