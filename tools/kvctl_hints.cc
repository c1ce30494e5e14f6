// kvctl hints: the hints each node of --host holds, per target node (hinted handoff,
// docs/operations.md), from each node's Info answer.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
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

}  // namespace

Command AddHintsCommand(CLI::App& parent, const Globals& globals) {
  CLI::App* hints = parent.add_subcommand(
      "hints", "List the hints each --host node holds for other nodes (count, bytes, oldest)");
  hints->footer("Asks every node of --host for itself. text: one row per (node, target); json: "
                "[{\"node\", \"target\", \"count\", \"bytes\", \"oldest_stored_at_us\"}]. "
                "Not yet: hints truncate.");
  return {hints, [&globals] { return RunHints(globals); }};
}

}  // namespace ringkv::kvctl
