// kvctl ring / getendpoints / keyspace create / keyspace list: the cluster as a contact point
// sees it.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/token.h"
#include "tools/kvctl.h"
#include "tools/kvctl_cluster_format.h"
#include "tools/kvctl_format.h"

namespace ringkv::kvctl {
namespace {

constexpr char kRingHelp[] = R"help(Lists the members of the ring as the contacted node knows them.
text: a table of address, node, status (Up/Down, as that node's failure detector sees it), token
  count and ownership: the share of all keys the node replicates at the replication factor of
  --keyspace ("default" unless given). With --tokens, then every token, ascending, with its node.
json: {"self", "keyspace", "replication_factor", "members": [{"name", "address", "host_id"
  (hex), "status", "up", "tokens_count", "ownership" (a fraction), "tokens" (with --tokens;
  decimal strings)}], "keyspaces": [{"name", "replication_factor"}]})help";

constexpr char kGetEndpointsHelp[] = R"help(Lists the replicas of KEY, primary first: the first N
distinct nodes clockwise from the key's token, N being the keyspace's replication factor. This is
where get/put/del of the key are sent (the first one that is up).
text: a table of address, node and status.
json: {"key", "keyspace", "replication_factor", "token" (decimal string),
  "endpoints": [{"name", "address", "up"}]})help";

constexpr char kKeyspaceCreateHelp[] = R"help(Creates keyspace NAME, replicated --rf times,
on every node the contacted node knows. Names are 1-48 characters of [A-Za-z0-9_].
--sloppy: its writes use sloppy quorum unless a request asks for strict (kvctl put --strict):
when replicas of a key are down, the next healthy nodes clockwise stand in for them, storing the
write as a hint for each, and count toward W. Reads still count replicas only, so a read may miss
a write that only stand-ins hold until their hints are delivered (README, "Sloppy quorum").
Without --if-not-exists an existing keyspace is an error (exit 1); with it, exit 0 either way.
text: "created keyspace NAME (replication factor N, strict|sloppy quorum)" or "keyspace NAME
exists already"; json: {"keyspace", "replication_factor", "quorum", "created"})help";

constexpr char kKeyspaceHelp[] = R"help(  kvctl keyspace create NAME --rf N [--sloppy] [--if-not-exists]
  kvctl keyspace drop NAME [--if-exists]
  kvctl keyspace list
See kvctl keyspace create --help and kvctl keyspace list --help.)help";

constexpr char kKeyspaceListHelp[] = R"help(Lists the keyspaces the contacted node knows.
text: a table of name, replication factor and quorum mode (strict or sloppy).
json: {"keyspaces": [{"name", "replication_factor", "quorum"}]})help";

void Print(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

struct RingFlags {
  std::string keyspace;
  bool tokens = false;
};

int RunRing(const Globals& globals, const RingFlags& flags) {
  auto client = MakeClient(globals);
  auto ring = client->Ring(flags.keyspace);
  if (!ring.ok()) return ReportError(globals, ring.error());
  if (globals.json()) {
    PrintJson(RingJson(ring.value(), flags.tokens));
  } else {
    Print(RingText(ring.value(), flags.tokens));
  }
  return kExitOk;
}

struct EndpointsFlags {
  std::string key;
  std::string keyspace;
};

int RunGetEndpoints(const Globals& globals, const EndpointsFlags& flags) {
  auto client = MakeClient(globals);
  // The ring first: it names the members' addresses and states, and the endpoints are then
  // computed from this same answer without asking again.
  auto ring = client->Ring(flags.keyspace);
  if (!ring.ok()) return ReportError(globals, ring.error());
  auto endpoints = client->Endpoints(flags.key, flags.keyspace);
  if (!endpoints.ok()) return ReportError(globals, endpoints.error());
  if (globals.json()) {
    PrintJson(EndpointsJson(flags.key, TokenOf(flags.key), endpoints.value(), ring.value()));
  } else {
    Print(EndpointsText(endpoints.value(), ring.value()));
  }
  return kExitOk;
}

struct KeyspaceCreateFlags {
  std::string name;
  uint32_t rf = 0;
  bool if_not_exists = false;
  bool sloppy = false;
};

int RunKeyspaceCreate(const Globals& globals, const KeyspaceCreateFlags& flags) {
  auto client = MakeClient(globals);
  auto created = client->CreateKeyspace(flags.name, flags.rf, flags.if_not_exists, flags.sloppy);
  if (!created.ok()) return ReportError(globals, created.error());
  const char* quorum = flags.sloppy ? "sloppy" : "strict";
  if (globals.json()) {
    PrintJson({{"keyspace", flags.name},
               {"replication_factor", flags.rf},
               {"quorum", quorum},
               {"created", created.value()}});
  } else if (created.value()) {
    fmt::print("created keyspace {} (replication factor {}, {} quorum)\n", CEscape(flags.name),
               flags.rf, quorum);
  } else {
    fmt::print("keyspace {} exists already\n", CEscape(flags.name));
  }
  return kExitOk;
}

struct KeyspaceDropFlags {
  std::string name;
  bool if_exists = false;
};

int RunKeyspaceDrop(const Globals& globals, const KeyspaceDropFlags& flags) {
  auto client = MakeClient(globals);
  auto dropped = client->DropKeyspace(flags.name, flags.if_exists);
  if (!dropped.ok()) return ReportError(globals, dropped.error());
  if (globals.json()) {
    PrintJson({{"keyspace", flags.name}, {"dropped", dropped.value()}});
  } else if (dropped.value()) {
    fmt::print("dropped keyspace {}\n", CEscape(flags.name));
  } else {
    fmt::print("keyspace {} does not exist\n", CEscape(flags.name));
  }
  return kExitOk;
}

int RunKeyspaceList(const Globals& globals) {
  auto client = MakeClient(globals);
  auto ring = client->Ring();
  if (!ring.ok()) return ReportError(globals, ring.error());
  if (globals.json()) {
    PrintJson(KeyspacesJson(ring.value()));
  } else {
    Print(KeyspacesText(ring.value()));
  }
  return kExitOk;
}

void AddKeyspaceFlag(CLI::App* command, std::string* keyspace) {
  command->add_option("--keyspace", *keyspace, "Keyspace (default: \"default\")");
}

}  // namespace

Command AddRingCommand(CLI::App& parent, const Globals& globals) {
  auto flags = std::make_shared<RingFlags>();
  CLI::App* ring = parent.add_subcommand("ring", "Show the ring: nodes, tokens and ownership");
  ring->footer(kRingHelp);
  AddKeyspaceFlag(ring, &flags->keyspace);
  ring->add_flag("--tokens", flags->tokens, "Also list every token");
  return {ring, [&globals, flags] { return RunRing(globals, *flags); }};
}

Command AddGetEndpointsCommand(CLI::App& parent, const Globals& globals) {
  auto flags = std::make_shared<EndpointsFlags>();
  CLI::App* command = parent.add_subcommand("getendpoints", "Show the replicas of a key");
  command->footer(kGetEndpointsHelp);
  command->add_option("KEY", flags->key, "The key (bytes as given)")->required();
  AddKeyspaceFlag(command, &flags->keyspace);
  return {command, [&globals, flags] { return RunGetEndpoints(globals, *flags); }};
}

std::vector<Command> AddKeyspaceCommands(CLI::App& parent, const Globals& globals) {
  CLI::App* keyspace = parent.add_subcommand("keyspace", "Create or list keyspaces");
  keyspace->require_subcommand(1);
  keyspace->footer(kKeyspaceHelp);

  auto create_flags = std::make_shared<KeyspaceCreateFlags>();
  CLI::App* create = keyspace->add_subcommand("create", "Create a keyspace");
  create->footer(kKeyspaceCreateHelp);
  create->add_option("NAME", create_flags->name, "The keyspace's name")->required();
  create->add_option("--rf", create_flags->rf, "Replication factor N")
      ->required()
      ->check(CLI::Range(1, 255));
  create->add_flag("--if-not-exists", create_flags->if_not_exists,
                   "Succeed without change if it exists already");
  create->add_flag("--sloppy", create_flags->sloppy,
                   "Writes use sloppy quorum unless a request asks for strict");

  CLI::App* list = keyspace->add_subcommand("list", "List the keyspaces");
  list->footer(kKeyspaceListHelp);

  auto drop_flags = std::make_shared<KeyspaceDropFlags>();
  CLI::App* drop = keyspace->add_subcommand("drop", "Drop a keyspace and delete its data");
  drop->footer(
      "Drops NAME on every node and deletes its data there (in the background). 'default' cannot "
      "be dropped. Without --if-exists a missing keyspace is an error (exit 1).\n"
      "text: \"dropped keyspace NAME\" or \"keyspace NAME does not exist\"; json: {\"keyspace\", "
      "\"dropped\"}");
  drop->add_option("NAME", drop_flags->name, "The keyspace's name")->required();
  drop->add_flag("--if-exists", drop_flags->if_exists, "Succeed without change if it is missing");

  return {
      {create, [&globals, create_flags] { return RunKeyspaceCreate(globals, *create_flags); }},
      {drop, [&globals, drop_flags] { return RunKeyspaceDrop(globals, *drop_flags); }},
      {list, [&globals] { return RunKeyspaceList(globals); }},
  };
}

}  // namespace ringkv::kvctl
