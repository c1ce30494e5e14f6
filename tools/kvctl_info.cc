// kvctl info: what one node says about itself.
#include <fmt/format.h>

#include <string>
#include <utility>
#include <vector>

#include "tools/kvctl.h"

namespace ringkv::kvctl {
namespace {

int RunInfo(const Globals& globals) {
  auto client = MakeClient(globals);
  auto info = client->Info();
  if (!info.ok()) return ReportError(globals, info.error());
  const NodeInfo& i = info.value();
  // One list for both formats, so text and json never disagree on names.
  const std::vector<std::pair<const char*, nlohmann::json>> fields = {
      {"node_name", i.node_name},
      {"cluster_name", i.cluster_name},
      {"version", i.version},
      {"protocol_version", i.protocol_version},
      {"listen", i.listen},
      {"data_dir", i.data_dir},
      {"sync_mode", i.sync_mode},
      {"uptime_s", i.uptime_s},
      {"actor", fmt::format("{:016x}", i.actor)},  // hex: JSON numbers lose 64-bit ids
      {"keys_approx", i.keys_approx},
      {"storage_bytes_approx", i.storage_bytes_approx},
      {"connections", i.connections},
      {"requests_served", i.requests_served},
      {"host_id", fmt::format("{:016x}", i.host_id)},
      {"tokens", i.tokens},
      {"schema_version", i.schema_version},
      {"http_address", i.http_address},
  };
  if (globals.json()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, value] : fields) out[name] = value;
    nlohmann::json stats = nlohmann::json::array();
    for (const auto& k : i.keyspace_stats) {
      stats.push_back({{"keyspace", k.keyspace}, {"table", k.table}, {"reads", k.reads},
                       {"writes", k.writes}, {"read_latency_us_total", k.read_latency_us_total},
                       {"write_latency_us_total", k.write_latency_us_total},
                       {"keys_approx", k.keys_approx}, {"bytes_approx", k.bytes_approx}});
    }
    out["keyspace_stats"] = stats;
    PrintJson(out);
  } else {
    for (const auto& [name, value] : fields) {
      fmt::print("{}: {}\n", name,
                 value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  return kExitOk;
}

}  // namespace

Command AddInfoCommand(CLI::App& parent, const Globals& globals) {
  CLI::App* info = parent.add_subcommand("info", "Show what the node says about itself");
  info->footer("text: one \"name: value\" line per field (per-table figures: kvctl tablestats); "
               "json: one object, with \"keyspace_stats\": [{\"keyspace\", \"table\", \"reads\", "
               "\"writes\", \"read_latency_us_total\", \"write_latency_us_total\", \"keys_approx\", "
               "\"bytes_approx\"}].");
  return {info, [&globals] { return RunInfo(globals); }};
}

}  // namespace ringkv::kvctl
