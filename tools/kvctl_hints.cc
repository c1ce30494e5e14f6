// kvctl hints: the hints each node of --host holds, per target node (hinted handoff,
// docs/operations.md), from each node's Info answer; kvctl hints truncate TARGET deletes them.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tools/kvctl.h"

namespace ringkv::kvctl {
namespace {

std::vector<std::string> SplitHosts(const std::string& hosts) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= hosts.size()) {
    const size_t comma = hosts.find(',', start);
    std::string h = hosts.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!h.empty()) out.push_back(std::move(h));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int RunHints(const Globals& globals) {
  struct Row {
    std::string node;
    HintTargetInfo hint;
  };
  std::vector<Row> rows;
  std::vector<std::string> disabled;
  // Each node answers for itself: one client per --host entry.
  for (const std::string& host : SplitHosts(globals.hosts)) {
    Globals one = globals;
    one.hosts = host;
    auto info = MakeClient(one)->Info();
    if (!info.ok()) return ReportError(globals, info.error());
    if (!info->hinted_handoff) disabled.push_back(info->node_name);
    for (const auto& h : info->hints) rows.push_back(Row{info->node_name, h});
  }
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  if (globals.json()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) {
      out.push_back({{"node", r.node}, {"target", r.hint.target}, {"count", r.hint.count},
                     {"bytes", r.hint.bytes}, {"oldest_stored_at_us", r.hint.oldest_stored_at_us}});
    }
    PrintJson(out);
    return kExitOk;
  }
  for (const auto& n : disabled) fmt::print("{}: hinted handoff is off\n", n);
  if (rows.empty()) {
    fmt::print("no pending hints\n");
    return kExitOk;
  }
  fmt::print("{:<16} {:<16} {:>10} {:>14} {:>12}\n", "NODE", "TARGET", "HINTS", "BYTES",
             "OLDEST_AGE_S");
  for (const auto& r : rows) {
    // The age uses this machine's clock against the holder's: an estimate.
    fmt::print("{:<16} {:<16} {:>10} {:>14} {:>12}\n", r.node, r.hint.target, r.hint.count,
               r.hint.bytes, std::max<int64_t>(0, (now_us - r.hint.oldest_stored_at_us) / 1'000'000));
  }
  return kExitOk;
}

int RunTruncate(const Globals& globals, const std::string& target) {
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& host : SplitHosts(globals.hosts)) {
    Globals one = globals;
    one.hosts = host;
    auto removed = MakeClient(one)->TruncateHints(target);
    if (!removed.ok()) return ReportError(globals, removed.error());
    if (globals.json()) {
      out.push_back({{"host", host}, {"target", target}, {"removed", removed.value()}});
    } else {
      fmt::print("{}: {} hint(s) for {} removed\n", host, removed.value(), target);
    }
  }
  if (globals.json()) PrintJson(out);
  return kExitOk;
}

}  // namespace

std::vector<Command> AddHintsCommands(CLI::App& parent, const Globals& globals) {
  CLI::App* hints = parent.add_subcommand(
      "hints", "List the hints each --host node holds for other nodes (count, bytes, oldest)");
  hints->footer("Asks every node of --host for itself. text: one row per (node, target); json: "
                "[{\"node\", \"target\", \"count\", \"bytes\", \"oldest_stored_at_us\"}].");
  CLI::App* truncate = hints->add_subcommand(
      "truncate", "Delete every hint the --host nodes hold for TARGET (it then needs a repair)");
  auto target = std::make_shared<std::string>();
  truncate->add_option("TARGET", *target, "node name")->required();
  truncate->footer("json: [{\"host\", \"target\", \"removed\"}].");
  // Truncate first: main() runs the first parsed command, and `hints` is parsed with it.
  return {{truncate, [&globals, target] { return RunTruncate(globals, *target); }},
          {hints, [&globals] { return RunHints(globals); }}};
}

}  // namespace ringkv::kvctl
