// kvctl decommission, removenode, cleanup, gossipinfo, netstats, dump, and anti-entropy's repair,
// merkle and fingerprint: administration of one node (the first --host), through admin requests
// whose answers are JSON documents (docs/operations.md: "Membership", "Anti-entropy").
#include <fmt/format.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tools/kvctl.h"

namespace ringkv::kvctl {
namespace {

Globals FirstHost(const Globals& globals) {
  Globals one = globals;
  one.hosts = globals.hosts.substr(0, globals.hosts.find(','));
  return one;
}

// The node's answer to `command`, parsed; an error already reported (its exit code in *code).
std::optional<nlohmann::json> AskNode(const Globals& globals, const std::string& command,
                                      const std::string& argument, int* code) {
  auto answer = MakeClient(FirstHost(globals))->Admin(command, argument);
  if (!answer.ok()) {
    *code = ReportError(globals, answer.error());
    return std::nullopt;
  }
  auto json = nlohmann::json::parse(answer.value(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    *code = ReportUsage(globals, "the node's answer is not JSON");
    return std::nullopt;
  }
  return json;
}

int RunGossipinfo(const Globals& globals) {
  int code = kExitOk;
  auto info = AskNode(globals, "gossipinfo", "", &code);
  if (!info) return code;
  if (globals.json()) {
    PrintJson(*info);
    return kExitOk;
  }
  fmt::print("Gossip as seen by {}: ring of {} nodes, digest {} (rounds {}, exchanges ok {}, "
             "failed {}, states refused {})\n",
             (*info)["self"].get<std::string>(), (*info)["ring_nodes"].get<uint64_t>(),
             (*info)["ring_digest"].get<std::string>(), (*info)["rounds"].get<uint64_t>(),
             (*info)["exchanges_ok"].get<uint64_t>(), (*info)["exchanges_failed"].get<uint64_t>(),
             (*info)["refused"].get<uint64_t>());
  fmt::print("{:<12} {:<22} {:<8} {:>18} {:>9} {:>8} {:>6} {:<5}\n", "NAME", "ADDRESS", "STATUS",
             "GENERATION", "HEARTBEAT", "VERSION", "PHI", "UP");
  for (const auto& m : (*info)["members"]) {
    fmt::print("{:<12} {:<22} {:<8} {:>18} {:>9} {:>8} {:>6.1f} {:<5}\n",
               m["name"].get<std::string>(), m["address"].get<std::string>(),
               m["status"].get<std::string>(), m["generation"].get<int64_t>(),
               m["heartbeat"].get<uint64_t>(), m["version"].get<uint64_t>(),
               m["phi"].get<double>(), m["up"].get<bool>() ? "yes" : "no");
  }
  return kExitOk;
}

void PrintStreams(const nlohmann::json& netstats) {
  fmt::print("{} is {}\n", netstats["self"].get<std::string>(),
             netstats["status"].get<std::string>());
  if (netstats["streams"].empty()) fmt::print("no streams\n");
  for (const auto& s : netstats["streams"]) {
    fmt::print("{}: {} ranges {}/{} keys {} bytes {}{}\n", s["what"].get<std::string>(),
               s["state"].get<std::string>(), s["ranges_done"].get<uint64_t>(),
               s["ranges_total"].get<uint64_t>(), s["keys"].get<uint64_t>(),
               s["bytes"].get<uint64_t>(),
               s["current"].get<std::string>().empty()
                   ? ""
                   : " (now " + s["current"].get<std::string>() + ")");
  }
}

int RunNetstats(const Globals& globals) {
  int code = kExitOk;
  auto netstats = AskNode(globals, "netstats", "", &code);
  if (!netstats) return code;
  if (globals.json()) {
    PrintJson(*netstats);
  } else {
    PrintStreams(*netstats);
  }
  return kExitOk;
}

int RunDecommission(const Globals& globals, bool wait, int wait_timeout_s) {
  int code = kExitOk;
  auto started = AskNode(globals, "decommission", "", &code);
  if (!started) return code;
  if (!wait) {
    if (globals.json()) PrintJson(*started);
    else fmt::print("{} is LEAVING\n", (*started)["self"].get<std::string>());
    return kExitOk;
  }
  // Follow it until the node has left and stopped answering.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_timeout_s);
  std::string last_line, status = "LEAVING";
  while (std::chrono::steady_clock::now() < deadline) {
    auto answer = MakeClient(FirstHost(globals))->Admin("netstats", "");
    if (!answer.ok()) {
      if (status == "LEFT") break;  // it left and stopped: done
      return ReportError(globals, answer.error());
    }
    auto netstats = nlohmann::json::parse(answer.value(), nullptr, false);
    if (netstats.is_discarded()) return ReportUsage(globals, "the node's answer is not JSON");
    status = netstats["status"].get<std::string>();
    for (const auto& s : netstats["streams"]) {
      if (s["what"] != "decommission") continue;
      const std::string line = fmt::format("{}: ranges {}/{}, {} keys, {} bytes", status,
                                           s["ranges_done"].get<uint64_t>(),
                                           s["ranges_total"].get<uint64_t>(),
                                           s["keys"].get<uint64_t>(), s["bytes"].get<uint64_t>());
      if (line != last_line && !globals.json()) fmt::print("{}\n", line);
      last_line = line;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // poll interval
  }
  if (status != "LEFT") {
    return ReportError(globals, Error(ErrorCode::kTimeout,
                                      fmt::format("still {} after {} s", status, wait_timeout_s)));
  }
  if (globals.json()) {
    PrintJson({{"decommissioned", true}});
  } else {
    fmt::print("decommissioned: the node left the cluster and stopped\n");
  }
  return kExitOk;
}

int RunRemovenode(const Globals& globals, const std::string& node) {
  int code = kExitOk;
  auto removed = AskNode(globals, "removenode", node, &code);
  if (!removed) return code;
  if (globals.json()) {
    PrintJson(*removed);
  } else {
    fmt::print("{} is REMOVED; its ranges are being copied to their new replicas (kvctl netstats "
               "on each node shows it)\n",
               (*removed)["removed"].get<std::string>());
  }
  return kExitOk;
}

// The node's cleanup entry in its netstats; nullopt (and the error reported) when it did not
// answer.
// Follows the node's netstats entry whose `what` starts with `what` until its state leaves
// `running`, polling; the final entry, or nullopt with the error reported (its exit code in *code).
std::optional<nlohmann::json> FollowStream(const Globals& globals, const std::string& what,
                                           const std::string& running, int wait_timeout_s,
                                           int* code) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_timeout_s);
  while (true) {
    auto netstats = AskNode(globals, "netstats", "", code);
    if (!netstats) return std::nullopt;
    nlohmann::json entry;
    for (const auto& s : (*netstats)["streams"]) {
      if (s["what"].get<std::string>().rfind(what, 0) == 0) entry = s;
    }
    if (entry.is_null()) {
      *code = ReportError(globals, Error(ErrorCode::kProtocol,
                                         fmt::format("the node shows no {} in its netstats", what)));
      return std::nullopt;
    }
    if (entry["state"] != running) return entry;
    if (std::chrono::steady_clock::now() >= deadline) {
      *code = ReportError(globals, Error(ErrorCode::kTimeout,
                                         fmt::format("still {} after {} s", running, wait_timeout_s)));
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // poll interval
  }
}

int RunCleanup(const Globals& globals, const std::string& keyspace, bool wait,
               int wait_timeout_s) {
  int code = kExitOk;
  if (!AskNode(globals, "cleanup", keyspace, &code)) return code;
  if (!wait) {
    if (!globals.json()) fmt::print("cleanup started (kvctl netstats shows it)\n");
    else PrintJson({{"state", "cleaning"}});
    return kExitOk;
  }
  auto progress = FollowStream(globals, "cleanup", "cleaning", wait_timeout_s, &code);
  if (!progress) return code;
  const std::string state = (*progress)["state"].get<std::string>();
  if (globals.json()) {
    PrintJson(*progress);
  } else {
    fmt::print("cleanup {}: {} keyspace(s), examined {} object(s), erased {} ({} bytes) in {} ms\n",
               state, (*progress)["ranges_done"].get<uint64_t>(),
               (*progress)["examined"].get<uint64_t>(), (*progress)["keys"].get<uint64_t>(),
               (*progress)["bytes"].get<uint64_t>(), (*progress)["elapsed_ms"].get<int64_t>());
  }
  if (state == "done") return kExitOk;
  return ReportError(globals, Error(ErrorCode::kUnavailable, "cleanup " + state));
}

// Every object this node stores in `keyspace`, page by page: "TOKEN KEY siblings=S tombstones=T".
int RunDump(const Globals& globals, const std::string& keyspace) {
  nlohmann::json arg = {{"keyspace", keyspace}};
  nlohmann::json all = nlohmann::json::array();
  while (true) {
    int code = kExitOk;
    auto page = AskNode(globals, "dump", arg.dump(), &code);
    if (!page) return code;
    for (const auto& o : (*page)["objects"]) {
      if (globals.json()) {
        all.push_back(o);
      } else {
        fmt::print("{} {} siblings={} tombstones={}\n", o["token"].get<int64_t>(),
                   o["key"].get<std::string>(), o["siblings"].get<uint64_t>(),
                   o["tombstones"].get<uint64_t>());
      }
    }
    if (!(*page)["more"].get<bool>() || (*page)["objects"].empty()) break;
    arg["after_token"] = (*page)["objects"].back()["token"];
    arg["after_key_hex"] = (*page)["objects"].back()["key_hex"];
  }
  if (globals.json()) PrintJson({{"keyspace", keyspace}, {"objects", all}});
  return kExitOk;
}

int RunRepair(const Globals& globals, const std::string& keyspace, bool wait, int wait_timeout_s) {
  int code = kExitOk;
  if (!AskNode(globals, "repair", keyspace, &code)) return code;
  if (!wait) {
    if (globals.json()) PrintJson({{"state", "running"}});
    else fmt::print("repair started (kvctl netstats shows it)\n");
    return kExitOk;
  }
  auto report = FollowStream(globals, "repair", "running", wait_timeout_s, &code);
  if (!report) return code;
  const uint64_t failures = (*report)["failures"].get<uint64_t>();
  if (globals.json()) {
    PrintJson(*report);
  } else {
    fmt::print("{}: {} exchange(s), {} agreed, {} failed; {} key(s) differing, {} repaired, {} "
               "bytes, {} ms{}\n",
               (*report)["what"].get<std::string>(), (*report)["ranges_done"].get<uint64_t>(),
               (*report)["ranges_agreed"].get<uint64_t>(), failures,
               (*report)["keys_differing"].get<uint64_t>(), (*report)["keys"].get<uint64_t>(),
               (*report)["bytes"].get<uint64_t>(), (*report)["elapsed_ms"].get<int64_t>(),
               failures > 0 ? " (last failure: " + (*report)["last_error"].get<std::string>() + ")"
                            : "");
  }
  return failures > 0 ? ReportError(globals, Error(ErrorCode::kUnavailable,
                                                   "some ranges could not be compared"))
                      : kExitOk;
}

int RunMerkle(const Globals& globals, const std::string& keyspace) {
  int code = kExitOk;
  auto merkle = AskNode(globals, "merkle", keyspace, &code);
  if (!merkle) return code;
  if (globals.json()) {
    PrintJson(*merkle);
    return kExitOk;
  }
  fmt::print("Merkle roots of {} as seen by {} (per range, each replica's)\n",
             (*merkle)["keyspace"].get<std::string>(), (*merkle)["self"].get<std::string>());
  for (const auto& r : (*merkle)["ranges"]) {
    std::string line = fmt::format("({}, {}]", r["start"].get<int64_t>(), r["end"].get<int64_t>());
    bool agree = true;
    for (size_t i = 0; i < r["replicas"].size(); ++i) {
      line += fmt::format(" {}={}", r["replicas"][i].get<std::string>(),
                          r["roots"][i].get<std::string>());
      agree = agree && r["roots"][i] == r["roots"][0];
    }
    fmt::print("{}{}\n", line, agree ? "" : "  DIFFER");
  }
  return kExitOk;
}

int RunFingerprint(const Globals& globals, const std::string& keyspace) {
  int code = kExitOk;
  auto fp = AskNode(globals, "fingerprint", keyspace, &code);
  if (!fp) return code;
  if (globals.json()) {
    PrintJson(*fp);
  } else {
    fmt::print("{} {}{}\n", (*fp)["keyspace"].get<std::string>(),
               (*fp)["fingerprint"].get<std::string>(),
               (*fp)["ranges_missing"].get<uint64_t>() > 0
                   ? fmt::format(" (partial: {} of {} ranges unanswered)",
                                 (*fp)["ranges_missing"].get<uint64_t>(),
                                 (*fp)["ranges"].get<uint64_t>())
                   : "");
  }
  return (*fp)["ranges_missing"].get<uint64_t>() > 0
             ? ReportError(globals, Error(ErrorCode::kUnavailable, "the fingerprint is partial"))
             : kExitOk;
}

}  // namespace

std::vector<Command> AddMembershipCommands(CLI::App& parent, const Globals& globals) {
  std::vector<Command> commands;
  CLI::App* gossipinfo = parent.add_subcommand(
      "gossipinfo", "each member's gossip state, generation, heartbeat and phi, as the node sees");
  commands.push_back({gossipinfo, [&globals] { return RunGossipinfo(globals); }});
  CLI::App* netstats =
      parent.add_subcommand("netstats", "the node's streams in progress (join, decommission, "
                                        "removenode) with ranges, keys and bytes done");
  commands.push_back({netstats, [&globals] { return RunNetstats(globals); }});
  struct DecommissionFlags {
    bool no_wait = false;
    int wait_timeout_s = 3600;
  };
  auto flags = std::make_shared<DecommissionFlags>();
  CLI::App* decommission = parent.add_subcommand(
      "decommission", "the node streams its ranges to their new owners, leaves, and exits");
  decommission->add_flag("--no-wait", flags->no_wait, "return once it is LEAVING");
  decommission->add_option("--wait-timeout-s", flags->wait_timeout_s, "give up waiting after")
      ->capture_default_str()
      ->check(CLI::Range(1, 7 * 24 * 3600));
  commands.push_back({decommission, [&globals, flags] {
                        return RunDecommission(globals, !flags->no_wait, flags->wait_timeout_s);
                      }});
  struct CleanupFlags {
    std::string keyspace;
    bool no_wait = false;
    int wait_timeout_s = 24 * 3600;
  };
  auto cleanup_flags = std::make_shared<CleanupFlags>();
  CLI::App* cleanup = parent.add_subcommand(
      "cleanup", "the node erases its copies of keys it no longer replicates (after a join)");
  cleanup->add_option("KEYSPACE", cleanup_flags->keyspace, "only this keyspace (default: all)");
  cleanup->add_flag("--no-wait", cleanup_flags->no_wait, "return once it started");
  cleanup->add_option("--wait-timeout-s", cleanup_flags->wait_timeout_s, "give up waiting after")
      ->capture_default_str()
      ->check(CLI::Range(1, 7 * 24 * 3600));
  commands.push_back({cleanup, [&globals, cleanup_flags] {
                        return RunCleanup(globals, cleanup_flags->keyspace,
                                          !cleanup_flags->no_wait, cleanup_flags->wait_timeout_s);
                      }});
  auto dump_keyspace = std::make_shared<std::string>("default");
  CLI::App* dump = parent.add_subcommand(
      "dump", "every object the node itself stores in a keyspace (its local copies), in token "
              "order");
  dump->add_option("KEYSPACE", *dump_keyspace, "the keyspace")->capture_default_str();
  commands.push_back({dump, [&globals, dump_keyspace] { return RunDump(globals, *dump_keyspace); }});
  struct RepairFlags {
    std::string keyspace;
    bool no_wait = false;
    int wait_timeout_s = 24 * 3600;
  };
  auto repair_flags = std::make_shared<RepairFlags>();
  CLI::App* repair = parent.add_subcommand(
      "repair", "anti-entropy now: compare the node's ranges with their other replicas and "
                "exchange what differs");
  repair->add_option("KEYSPACE", repair_flags->keyspace, "only this keyspace (default: all)");
  repair->add_flag("--no-wait", repair_flags->no_wait, "return once it started");
  repair->add_option("--wait-timeout-s", repair_flags->wait_timeout_s, "give up waiting after")
      ->capture_default_str()
      ->check(CLI::Range(1, 7 * 24 * 3600));
  commands.push_back({repair, [&globals, repair_flags] {
                        return RunRepair(globals, repair_flags->keyspace, !repair_flags->no_wait,
                                         repair_flags->wait_timeout_s);
                      }});
  auto merkle_keyspace = std::make_shared<std::string>("default");
  CLI::App* merkle = parent.add_subcommand(
      "merkle", "each replica's Merkle root per range the node replicates, and where they differ");
  merkle->add_option("KEYSPACE", *merkle_keyspace, "the keyspace")->capture_default_str();
  commands.push_back(
      {merkle, [&globals, merkle_keyspace] { return RunMerkle(globals, *merkle_keyspace); }});
  auto fp_keyspace = std::make_shared<std::string>("default");
  CLI::App* fingerprint = parent.add_subcommand(
      "fingerprint", "one hash of a keyspace's contents, equal on every replica set once they "
                     "converged");
  fingerprint->add_option("KEYSPACE", *fp_keyspace, "the keyspace")->capture_default_str();
  commands.push_back(
      {fingerprint, [&globals, fp_keyspace] { return RunFingerprint(globals, *fp_keyspace); }});
  auto node = std::make_shared<std::string>();
  CLI::App* removenode = parent.add_subcommand(
      "removenode", "declare a dead node removed; its ranges are re-replicated from survivors");
  removenode->add_option("NODE", *node, "its name or host id")->required();
  commands.push_back({removenode, [&globals, node] { return RunRemovenode(globals, *node); }});
  return commands;
}

}  // namespace ringkv::kvctl
