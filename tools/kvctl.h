// kvctl's command plumbing: the global flags, exit codes, how errors are reported, and the
// registration function each command file provides. main() (kvctl.cc) wires them together.
//
// Adding a command: write AddFooCommand in a kvctl_*.cc file, declare it here, list it in
// kvctl.cc's command table. Its Run returns an exit code; it reports its own errors with
// ReportError / ReportUsage so every command fails the same way.
//
// Thread safety: none; kvctl is one thread (the client has its own I/O thread inside).
#ifndef RINGKV_TOOLS_KVCTL_H_
#define RINGKV_TOOLS_KVCTL_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ringkv/client.h"

namespace ringkv::kvctl {

// The documented exit codes; scripts rely on them.
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,        // any other error
  kExitUsage = 2,        // bad flags or arguments
  kExitNotFound = 3,     // get of a key with no live value
  kExitUnavailable = 4,  // too few replicas, or no node reachable: the request was not applied
  kExitTimeout = 5,      // timeout; for a write, in doubt: it may have been applied
};

// Flags accepted before (or after) the command.
struct Globals {
  std::string hosts = "127.0.0.1:7000";  // comma-separated host:port list
  std::string format = "text";           // text | json
  int timeout_ms = 5000;
  bool json() const { return format == "json"; }
};

// A registered command: its CLI11 subcommand, and what runs once parsing succeeded. `run` reads
// the globals and the command's own flags (which it captured) and returns an exit code.
struct Command {
  CLI::App* app;
  std::function<int()> run;
};

Command AddGetCommand(CLI::App& parent, const Globals& globals);
Command AddPutCommand(CLI::App& parent, const Globals& globals);
Command AddDelCommand(CLI::App& parent, const Globals& globals);
Command AddInfoCommand(CLI::App& parent, const Globals& globals);
Command AddRingCommand(CLI::App& parent, const Globals& globals);
Command AddGetEndpointsCommand(CLI::App& parent, const Globals& globals);
Command AddScanCommand(CLI::App& parent, const Globals& globals);
// `hints` and `hints truncate TARGET` (tools/kvctl_hints.cc).
std::vector<Command> AddHintsCommands(CLI::App& parent, const Globals& globals);
// status, describecluster, tablestats (tools/kvctl_admin.cc).
std::vector<Command> AddAdminCommands(CLI::App& parent, const Globals& globals);
// gossipinfo, netstats, decommission, removenode (tools/kvctl_membership.cc).
std::vector<Command> AddMembershipCommands(CLI::App& parent, const Globals& globals);
// `keyspace create` and `keyspace list`, under a `keyspace` command of their own.
std::vector<Command> AddKeyspaceCommands(CLI::App& parent, const Globals& globals);

// ---- Shared by the commands ----

// A client for the --host list and --timeout-ms.
std::unique_ptr<Client> MakeClient(const Globals& globals);

// Prints `error` (stderr; also a JSON object on stdout in json mode) and returns its exit code.
int ReportError(const Globals& globals, const Error& error);
// A usage error found after parsing (bad --context, VALUE and --value-file together): stderr,
// JSON on stdout in json mode; returns kExitUsage.
int ReportUsage(const Globals& globals, std::string_view message);
// The exit code an error maps to.
int ExitCodeFor(const Error& error);
// One JSON document on stdout, newline-terminated; invalid UTF-8 in strings is replaced, never
// thrown on.
void PrintJson(const nlohmann::json& value);

// Flags most key-value commands take. Later options (sloppy quorum, tracing) belong here too.
struct KvFlags {
  std::string keyspace;
  std::string consistency;  // "" or one|two|three|quorum|all|any
  bool trace = false;       // --trace
};
void AddKvFlags(CLI::App* command, KvFlags* flags);
Consistency ParseConsistency(const std::string& name);  // REQUIRES: a name AddKvFlags accepts

// A request trace (--trace): as a table after a command's text output, or as JSON
// {"coordinator", "duration_us", "siblings", "replicas_asked", "replicas_answered",
//  "read_repaired", "events": [{"elapsed_us", "node", "activity"}]}.
void PrintTraceText(const TraceInfo& trace);
nlohmann::json TraceJson(const TraceInfo& trace);

}  // namespace ringkv::kvctl

#endif  // RINGKV_TOOLS_KVCTL_H_
