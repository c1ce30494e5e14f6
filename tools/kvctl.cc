// kvctl: administration and raw key-value access for a ringkv cluster. See `kvctl --help`.
#include "tools/kvctl.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <vector>


namespace ringkv::kvctl {
namespace {

constexpr int kTimeoutMsMax = 3'600'000;
constexpr std::chrono::milliseconds kConnectTimeoutMax{2000};

constexpr char kFooter[] = R"(Nodes:
  --host names one or more nodes to start from; any one that is up will do. get, put and del
  learn the ring from it and go straight to a replica of the key (the first one up; the next
  on a connection failure). A lone node works with the defaults.

Output:
  text (default) is for people and simple scripts; json is one JSON object per invocation.
  Contexts are base64 (standard alphabet), in and out.

Exit codes:
  0  ok
  1  other error (invalid request, node error, protocol, ...)
  2  usage: bad flags or arguments (including a malformed --context)
  3  not found: get of a key with no live value
  4  unavailable: too few replicas, or no node reachable; the request was not applied
  5  timeout; for put/del the outcome is in doubt: it may have been applied
Errors are one line on stderr ("kvctl: error: ..."); with --format json, also
{"error": {"code", "message", ...}} on stdout.)";

constexpr char kCommandFooter[] = R"(

Global options (before or after the command): --host HOST:PORT[,...], --format text|json,
--timeout-ms N. Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 unavailable, 5 timeout or
in doubt (see kvctl --help).)";

// "host:port[,host:port...]": each entry has a host and a port in 1..65535.
std::string CheckHosts(const std::string& list) {
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string_view entry(list.data() + start, comma - start);
    const size_t colon = entry.rfind(':');
    unsigned port = 0;
    if (colon == std::string_view::npos || colon == 0) {
      return fmt::format("'{}' is not host:port", entry);
    }
    const std::string_view digits = entry.substr(colon + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535) {
      return fmt::format("'{}' has no valid port", entry);
    }
    start = comma + 1;
  }
  return "";
}

}  // namespace

std::unique_ptr<Client> MakeClient(const Globals& globals) {
  ClientOptions options;
  size_t start = 0;
  while (start <= globals.hosts.size()) {
    const size_t comma = std::min(globals.hosts.find(',', start), globals.hosts.size());
    options.contact_points.push_back(globals.hosts.substr(start, comma - start));
    start = comma + 1;
  }
  options.request_timeout = std::chrono::milliseconds(globals.timeout_ms);
  options.connect_timeout = std::min(options.request_timeout, kConnectTimeoutMax);
  options.client_name = "kvctl";
  return std::make_unique<Client>(std::move(options));
}

int ExitCodeFor(const Error& error) {
  if (error.in_doubt() || error.code() == ErrorCode::kTimeout) return kExitTimeout;
  if (error.code() == ErrorCode::kUnavailable || error.code() == ErrorCode::kDisconnected) {
    return kExitUnavailable;
  }
  return kExitError;
}

void PrintJson(const nlohmann::json& value) {
  const std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

int ReportError(const Globals& globals, const Error& error) {
  fmt::print(stderr, "kvctl: error: {}\n", error.ToString());
  if (globals.json()) {
    nlohmann::json e = {{"code", std::string(ErrorCodeName(error.code()))},
                        {"message", error.message()},
                        {"in_doubt", error.in_doubt()}};
    if (error.code() == ErrorCode::kUnavailable) {
      e["needed"] = error.needed();
      e["alive"] = error.alive();
    }
    PrintJson({{"error", e}});
  }
  return ExitCodeFor(error);
}

int ReportUsage(const Globals& globals, std::string_view message) {
  fmt::print(stderr, "kvctl: error: {}\nRun with --help for more information.\n", message);
  if (globals.json()) {
    PrintJson({{"error", {{"code", "Usage"}, {"message", std::string(message)}}}});
  }
  return kExitUsage;
}

void AddKvFlags(CLI::App* command, KvFlags* flags) {
  command->add_option("--keyspace", flags->keyspace, "Keyspace (default: \"default\")");
  command->add_option("--cl", flags->consistency, "Consistency level: one|two|three|quorum|all|any")
      ->check(CLI::IsMember({"one", "two", "three", "quorum", "all", "any"}, CLI::ignore_case));
  command->add_flag("--trace", flags->trace,
                    "Ask the coordinator what it did (replicas asked and answering, versions, "
                    "read repair) and print it after the result");
}

Consistency ParseConsistency(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "one") return Consistency::kOne;
  if (lower == "two") return Consistency::kTwo;
  if (lower == "three") return Consistency::kThree;
  if (lower == "quorum") return Consistency::kQuorum;
  if (lower == "all") return Consistency::kAll;
  if (lower == "any") return Consistency::kAny;
  return Consistency::kDefault;
}

namespace {

int Main(int argc, char** argv) {
  Globals globals;
  CLI::App app("kvctl: administration and raw key-value access for a ringkv cluster", "kvctl");
  app.footer(kFooter);
  // Global flags may also follow the command ("kvctl get k --format json").
  app.fallthrough();
  app.require_subcommand(1);
  app.add_option("--host", globals.hosts, "Nodes to contact, host:port[,host:port...]")
      ->capture_default_str()
      ->check([](const std::string& v) { return CheckHosts(v); });
  app.add_option("--format", globals.format, "Output format: text|json")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--timeout-ms", globals.timeout_ms, "Deadline of the request, retries included")
      ->capture_default_str()
      ->check(CLI::Range(1, kTimeoutMsMax));

  // The command table. Later commands (status, repair, ...) are added here.
  std::vector<Command> commands = {
      AddGetCommand(app, globals),  AddPutCommand(app, globals),
      AddDelCommand(app, globals),  AddInfoCommand(app, globals),
      AddRingCommand(app, globals), AddGetEndpointsCommand(app, globals),
      AddScanCommand(app, globals),
  };
  for (Command& command : AddHintsCommands(app, globals)) commands.push_back(std::move(command));
  for (Command& command : AddKeyspaceCommands(app, globals)) commands.push_back(std::move(command));
  for (Command& command : AddAdminCommands(app, globals)) commands.push_back(std::move(command));
  for (Command& command : AddMembershipCommands(app, globals)) commands.push_back(std::move(command));

  for (const Command& command : commands) {
    command.app->footer(command.app->get_footer() + kCommandFooter);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help: printed, success
  } catch (const CLI::ParseError& e) {
    // CLI11's own exit codes are not ours: every parse error is a usage error, reported like
    // the others.
    return ReportUsage(globals, e.what());
  }
  for (const Command& command : commands) {
    if (command.app->parsed()) {
      const int code = command.run();
      std::fflush(stdout);
      return code;
    }
  }
  return ReportUsage(globals, "no command given");
}

}  // namespace
}  // namespace ringkv::kvctl

int main(int argc, char** argv) { return ringkv::kvctl::Main(argc, argv); }
