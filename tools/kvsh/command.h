// Recognition of kvsh's own commands (the ones cqlsh handles itself rather than sending to the
// server): CONSISTENCY, TRACING, EXPAND, PAGING, DESCRIBE / DESC, SOURCE, HELP, EXIT / QUIT,
// COPY, and ringkv's SLOPPY (the quorum mode of the session's writes). Everything else is a CQL statement for the Session.
//
// Thread safety: pure functions.
#ifndef RINGKV_TOOLS_KVSH_COMMAND_H_
#define RINGKV_TOOLS_KVSH_COMMAND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ringkv/client.h"

namespace ringkv::kvsh {

enum class CommandKind : uint8_t {
  kConsistency, kTracing, kExpand, kPaging, kDescribe, kSource, kHelp, kExit, kCopy, kSloppy,
};

enum class Toggle : uint8_t { kShow, kOn, kOff };

enum class DescribeWhat : uint8_t { kKeyspaces, kKeyspace, kTables, kTable };

// COPY t [(cols)] TO|FROM 'file' [WITH opt = v [AND opt = v ...]]. Option names are upper-cased;
// values are kept as written (quotes removed); copy.h interprets them.
struct CopySpec {
  std::string keyspace;  // empty: the session's
  std::string table;
  std::vector<std::string> columns;  // empty: all
  bool to = true;                    // TO (export) or FROM (import)
  std::string file;
  std::vector<std::pair<std::string, std::string>> options;
};

struct Command {
  explicit Command(CommandKind k) : kind(k) {}
  CommandKind kind;
  Toggle toggle = Toggle::kShow;    // TRACING, EXPAND, PAGING
  std::optional<Consistency> level;  // CONSISTENCY with a level
  std::optional<Quorum> quorum;      // SLOPPY ON (kSloppy), OFF (kStrict) or DEFAULT
  uint32_t page_size = 0;           // PAGING N
  DescribeWhat describe = DescribeWhat::kKeyspaces;
  std::string keyspace, name;       // DESCRIBE KEYSPACE k / TABLE [k.]t
  std::string file;                 // SOURCE
  std::string topic;                // HELP topic (upper-cased), empty: the topic list
  CopySpec copy;
};

struct CommandError {
  std::string message;  // e.g. "Improper CONSISTENCY command."
};

// Whether `statement` is a shell command (else hand it to the Session) and, if so, the command or
// what is wrong with its arguments. `statement` may end with ';'.
struct ParsedCommand {
  bool is_command = false;
  std::optional<Command> command;   // set when is_command and the arguments were understood
  CommandError error;               // when is_command and not understood
};
ParsedCommand ParseCommand(std::string_view statement);

// "ONE" .. "ANY" (case-insensitive) -> the level.
std::optional<Consistency> ParseConsistency(std::string_view name);

// Keywords a shell command starts with (upper case), for completion and HELP.
const std::vector<std::string>& ShellCommandWords();

}  // namespace ringkv::kvsh

#endif  // RINGKV_TOOLS_KVSH_COMMAND_H_
