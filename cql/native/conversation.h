// One CQL native protocol connection, as the server sees it: request frames in, response frames
// out, statements carried out by a cql::Session (the same code kvsh runs; see cql/session.h).
//
// The conversation is sans-IO: the listener (node/server/cql_listener.*) reads frames off the
// socket, checks headers with DecodeHeader, and hands each request to Handle on a thread that
// may block (Session calls block on the cluster). What a driver gets:
//   - OPTIONS: SUPPORTED (CQL_VERSION 3.4.4, no compression), before or after STARTUP;
//   - STARTUP: READY; COMPRESSION or a CQL_VERSION other than 3.x is a protocol error, unknown
//     options are ignored as Cassandra ignores them (drivers send DRIVER_NAME and the like);
//     with credentials configured, AUTHENTICATE (auth.h), then AUTH_SUCCESS or Bad credentials;
//   - QUERY, PREPARE, EXECUTE, BATCH, REGISTER before STARTUP (or before authentication), a
//     second STARTUP, an AUTH_RESPONSE not asked for, a response or unknown opcode, a
//     compressed frame: a protocol error;
//   - REGISTER: READY; a connection registered for SCHEMA_CHANGE gets an EVENT for each schema
//     change made through this node (Handle's `event`; the listener sends it to every such
//     connection; schema changes made through other nodes are not sent); STATUS_CHANGE and
//     TOPOLOGY_CHANGE events come from the listener, which watches the ring;
//   - QUERY / EXECUTE: RESULT Rows (with a paging state when more rows remain), Void,
//     SetKeyspace or SchemaChange; system tables from system_tables.h;
//   - errors with the protocol's codes: Syntax, Invalid, AlreadyExists, Unavailable (consistency,
//     required, alive), WriteTimeout / ReadTimeout, Unprepared, Server;
//   - consistency: ANY ONE TWO THREE QUORUM ALL as themselves; LOCAL_ONE, LOCAL_QUORUM and
//     EACH_QUORUM as ONE / QUORUM / QUORUM with a warning on the first response of the connection
//     that used the level (not on every one: LOCAL_ONE is the Python driver's default, and
//     drivers log each warning); SERIAL and LOCAL_SERIAL are Invalid (ringkv has no lightweight
//     transactions).
//   - a null bind value is written into the statement as the literal null (a tombstone cell for
//     INSERT and UPDATE, as in Cassandra); an unset one (v4's "not set") is Invalid.
//
// Thread safety: see Handle. The context's members are shared by every conversation of a node.
#ifndef RINGKV_CQL_NATIVE_CONVERSATION_H_
#define RINGKV_CQL_NATIVE_CONVERSATION_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cql/native/auth.h"
#include "cql/native/frame.h"
#include "cql/native/messages.h"
#include "cql/native/prepared.h"
#include "cql/native/system_tables.h"
#include "cql/session.h"
#include "ringkv/client.h"

namespace ringkv::cql::native {

struct ConversationContext {
  Client* client = nullptr;           // REQUIRED; outlives every conversation
  PreparedCache* prepared = nullptr;  // REQUIRED; outlives every conversation
  // The ring for the system tables; called on the conversation's thread.
  std::function<CqlResult<ClusterSnapshot>()> cluster;
  FrameLimits limits;
  // Null: no authentication. Else STARTUP is answered AUTHENTICATE and nothing but OPTIONS and
  // AUTH_RESPONSE is served until a user of these credentials has authenticated.
  const Credentials* credentials = nullptr;
  // Counts schema changes made through any conversation of the node. A Session caches the
  // tables it has read and would not notice one dropped and re-created with other columns; a
  // conversation that sees the count move starts a new Session. Null: no such sharing.
  std::atomic<uint64_t>* schema_generation = nullptr;
  int64_t tombstone_grace_s = kTombstoneGraceS;  // Session::set_tombstone_grace_s
};

// The consistency a [consistency] asks for, as ringkv's; `warning` set when it was mapped onto
// another level. False with `error` for levels ringkv does not serve.
bool MapConsistency(uint16_t wire, Consistency* out, std::string* warning, std::string* error);

// Event kinds of REGISTER, as a bitmask.
inline constexpr uint8_t kEventSchema = 1;    // SCHEMA_CHANGE
inline constexpr uint8_t kEventStatus = 2;    // STATUS_CHANGE
inline constexpr uint8_t kEventTopology = 4;  // TOPOLOGY_CHANGE

class Conversation {
 public:
  explicit Conversation(const ConversationContext& context);

  // The response frame to one request frame whose header DecodeHeader accepted. `event` (may be
  // null) receives the EVENT frame (stream -1) for a schema change the request made, to be sent
  // to the node's connections that registered for it; empty if it made none.
  //
  // Thread safety: QUERY, PREPARE, EXECUTE and BATCH may run on several threads at once, each
  // on a Session of its own from the conversation's pool (so one connection's requests run in
  // parallel, as Cassandra runs them); other requests must not overlap one another (the
  // listener runs them in order), but may overlap those.
  std::string Handle(const FrameHeader& header, std::string_view body,
                     std::string* event = nullptr);

  // The response to a header DecodeHeader refused; the connection is closed after it. Another
  // version gets "Invalid or unsupported protocol version (N); supported versions are (4/v4)",
  // which drivers read as "downgrade and reconnect": in a v4 frame for a newer version, in the
  // client's own version (and header layout) for an older one, as Cassandra answers.
  static std::string Refuse(HeaderCheck check, const FrameHeader& header,
                            const FrameLimits& limits);

  // Whether the request may run beside others of the connection (see Handle).
  static bool IsStatement(uint8_t opcode);
  // STARTUP accepted and, with credentials, a user authenticated: statements may run.
  bool ready() const;
  // The event kinds REGISTER asked for (kEventSchema | kEventStatus | kEventTopology).
  uint8_t registered_events() const;

 private:
  struct Reply {
    Opcode opcode = Opcode::kResult;
    std::string body;
    std::vector<std::string> warnings;
  };
  // A Session lent to one request, and what the request did that outlives it.
  struct Call {
    std::unique_ptr<Session> session;
    uint64_t generation = 0;  // the schema change count the Session's cache is as of
    std::string event;
  };

  Call Acquire();
  void Release(Call call);

  static Reply Fail(ErrorCode code, std::string_view message);
  Reply Startup(std::string_view body);
  Reply AuthResponse(std::string_view body);
  Reply Query(Call* call, std::string_view body);
  Reply Prepare(Call* call, std::string_view body);
  Reply Execute(Call* call, std::string_view body);
  Reply Batch(Call* call, std::string_view body);
  // Runs one statement; `binds` (from PREPARE) types the values, else they are typed here.
  Reply Run(Call* call, const std::string& text, const QueryParams& params,
            const std::vector<ColumnDesc>* binds);
  Reply Result(Call* call, const ParsedStatement& parsed, const ResultSet& rs);
  Reply Error(Call* call, const CqlError& e, const ParsedStatement* parsed, uint16_t consistency);
  // The values of a request as Session binds, typed by `binds`.
  CqlResult<std::vector<Value>> Bind(const std::vector<WireValue>& values,
                                     const std::vector<ColumnDesc>& binds) const;

  const ConversationContext context_;
  mutable std::mutex mu_;
  std::vector<Call> idle_;            // GUARDED_BY(mu_): Sessions not lent out
  std::string keyspace_;              // GUARDED_BY(mu_): the connection's, from USE
  bool started_ = false;              // GUARDED_BY(mu_): STARTUP accepted
  bool authenticating_ = false;       // GUARDED_BY(mu_): AUTHENTICATE sent, AUTH_RESPONSE awaited
  uint8_t registered_events_ = 0;     // GUARDED_BY(mu_)
  std::set<uint16_t> warned_levels_;  // GUARDED_BY(mu_): mapped levels already warned about
};

}  // namespace ringkv::cql::native

#endif  // RINGKV_CQL_NATIVE_CONVERSATION_H_
