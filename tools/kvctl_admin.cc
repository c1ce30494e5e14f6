// kvctl status / describecluster / tablestats: the cluster as nodetool shows it, from the ring a
// contact point knows and from Info of each member. `status` shows the asked node's view (who it
// believes up, and each member's gossip state), as nodetool does, and says whose view it is.
#include <fmt/format.h>

#include <map>
#include <optional>
#include <set>

#include "tools/kvctl.h"
#include "tools/kvctl_format.h"
#include "tools/kvctl_status_format.h"

namespace ringkv::kvctl {
namespace {

constexpr char kStatusHelp[] = R"help(A nodetool-status table of the cluster as ONE node sees it: the
first --host that answers (the next ones only if it cannot be reached). A line naming that node,
a Datacenter line, the legend, then one row per member it knows, except those that left or were
removed: status (U or D: Up or Down as that node's failure detector sees it, not whether kvctl
can reach it; then N, J or L: Normal, Joining or Leaving, its gossip state), address, load
(storage bytes reported by the node itself; "?" when kvctl cannot ask it), tokens (vnodes), owns
(effective: the share of keys it replicates at KEYSPACE's replication factor, "default" unless
given; 0 for a joining node) and host id. To see another node's view, name it with --host.
json: {"view_of": {"name", "address"} (the node asked), "datacenter", "keyspace",
  "replication_factor", "nodes": [{"status" ("UN"|"DN"|"UJ"|"DJ"|"UL"|"DL"), "up", "state"
  ("Normal"|"Joining"|"Leaving"), "name", "address", "load_bytes" (null when unknown), "tokens",
  "owns", "host_id"}]})help";

constexpr char kDescribeHelp[] = R"help(Cluster name, partitioner and the schema versions the
members hold (a digest of their keyspace definitions): each version with the nodes holding it,
whether they agree, and the nodes that could not be asked.
json: {"name", "partitioner", "schema_versions": {"VERSION": ["address", ...]}, "agree",
  "unreachable": ["address", ...]})help";

constexpr char kTablestatsHelp[] = R"help(Per keyspace and per CQL table (keys "<table>\0..."; other
keys are table ""), the local figures of every reachable node summed: replica reads and writes and
their mean local latency, and estimates of keys and bytes (each replica counts its own copy, so a
key of a keyspace with replication factor 3 counts three times). KEYSPACE or KEYSPACE.TABLE
narrows it.
json: {"keyspaces": [{"keyspace", "reads", "writes", "keys_approx", "bytes_approx",
  "tables": [{"table", "reads", "writes", "read_latency_ms_mean", "write_latency_ms_mean",
  "keys_approx", "bytes_approx"}]}], "unreachable": [...]})help";

// Info of every member, by name; nullopt for those that could not be asked. Members that left or
// were removed are not asked, nor listed.
std::map<std::string, std::optional<NodeInfo>> InfoOfAll(Client& client, const RingInfo& ring) {
  std::map<std::string, std::optional<NodeInfo>> out;
  for (const auto& m : ring.members) {
    if (m.departed()) continue;
    auto info = client.InfoOf(m.address);
    out[m.name] = info.ok() ? std::optional<NodeInfo>(info.value()) : std::nullopt;
  }
  return out;
}

struct StatusFlags {
  std::string keyspace;
};

int RunStatus(const Globals& globals, const StatusFlags& flags) {
  auto client = MakeClient(globals);
  auto ring = client->Ring(flags.keyspace);
  if (!ring.ok()) return ReportError(globals, ring.error());
  // Only the load is each node's own word; whether a node is up is the asked node's.
  LoadByNode load;
  for (const auto& m : ring->members) {
    if (m.departed()) continue;  // not listed
    auto info = client->InfoOf(m.address);
    load[m.name] = info.ok() ? std::optional<uint64_t>(info->storage_bytes_approx) : std::nullopt;
  }
  if (globals.json()) {
    PrintJson(StatusJson(ring.value(), load));
  } else {
    fmt::print("{}", StatusText(ring.value(), load));
  }
  return kExitOk;
}

int RunDescribeCluster(const Globals& globals) {
  auto client = MakeClient(globals);
  auto ring = client->Ring();
  if (!ring.ok()) return ReportError(globals, ring.error());
  auto infos = InfoOfAll(*client, ring.value());
  std::map<std::string, std::vector<std::string>> versions;
  std::vector<std::string> unreachable;
  std::string cluster_name;
  for (const auto& m : ring->members) {
    if (m.departed()) continue;
    const auto& info = infos[m.name];
    if (!info) {
      unreachable.push_back(m.address);
      continue;
    }
    if (cluster_name.empty()) cluster_name = info->cluster_name;
    versions[info->schema_version].push_back(m.address);
  }
  const bool agree = versions.size() <= 1;
  if (globals.json()) {
    nlohmann::json v = nlohmann::json::object();
    for (const auto& [version, nodes] : versions) v[version] = nodes;
    PrintJson({{"name", cluster_name},
               {"partitioner", "Murmur3Partitioner"},
               {"schema_versions", v},
               {"agree", agree},
               {"unreachable", unreachable}});
    return kExitOk;
  }
  fmt::print("Cluster Information:\n");
  fmt::print("\tName: {}\n", cluster_name);
  fmt::print("\tPartitioner: Murmur3Partitioner (Cassandra-compatible tokens)\n");
  fmt::print("\tSchema versions:\n");
  for (const auto& [version, nodes] : versions) {
    fmt::print("\t\t{}: [{}]\n", version, fmt::join(nodes, ", "));
  }
  if (!unreachable.empty()) {
    fmt::print("\t\tUNREACHABLE: [{}]\n", fmt::join(unreachable, ", "));
  }
  fmt::print("\t{}\n", agree ? (unreachable.empty() ? "All nodes agree on the schema."
                                                    : "All reachable nodes agree on the schema.")
                             : "Schema versions DISAGREE: a schema change has not reached "
                               "every node yet.");
  return kExitOk;
}

struct TablestatsFlags {
  std::string target;  // "", KEYSPACE or KEYSPACE.TABLE
};

int RunTablestats(const Globals& globals, const TablestatsFlags& flags) {
  std::string want_ks = flags.target, want_table;
  bool table_given = false;
  if (auto dot = flags.target.find('.'); dot != std::string::npos) {
    want_ks = flags.target.substr(0, dot);
    want_table = flags.target.substr(dot + 1);
    table_given = true;
  }
  auto client = MakeClient(globals);
  auto ring = client->Ring();
  if (!ring.ok()) return ReportError(globals, ring.error());
  auto infos = InfoOfAll(*client, ring.value());
  // keyspace -> table -> summed figures
  std::map<std::string, std::map<std::string, KeyspaceStats>> sums;
  for (const auto& ks : ring->keyspaces) {
    if (want_ks.empty() || ks.name == want_ks) sums[ks.name];
  }
  std::vector<std::string> unreachable;
  for (const auto& m : ring->members) {
    if (m.departed()) continue;
    const auto& info = infos[m.name];
    if (!info) {
      unreachable.push_back(m.address);
      continue;
    }
    for (const auto& k : info->keyspace_stats) {
      if (!want_ks.empty() && k.keyspace != want_ks) continue;
      if (table_given && k.table != want_table) continue;
      KeyspaceStats& s = sums[k.keyspace][k.table];
      s.keyspace = k.keyspace;
      s.table = k.table;
      s.reads += k.reads;
      s.writes += k.writes;
      s.read_latency_us_total += k.read_latency_us_total;
      s.write_latency_us_total += k.write_latency_us_total;
      s.keys_approx += k.keys_approx;
      s.bytes_approx += k.bytes_approx;
    }
  }
  if (!want_ks.empty() && sums.empty()) {
    return ReportError(globals, Error(ErrorCode::kInvalidArgument,
                                      fmt::format("unknown keyspace '{}'", want_ks)));
  }
  auto mean_ms = [](uint64_t total_us, uint64_t n) {
    return n == 0 ? 0.0 : static_cast<double>(total_us) / 1000.0 / static_cast<double>(n);
  };
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [ks, tables] : sums) {
    KeyspaceStats total;
    nlohmann::json jt = nlohmann::json::array();
    for (const auto& [table, s] : tables) {
      total.reads += s.reads;
      total.writes += s.writes;
      total.keys_approx += s.keys_approx;
      total.bytes_approx += s.bytes_approx;
      total.read_latency_us_total += s.read_latency_us_total;
      total.write_latency_us_total += s.write_latency_us_total;
      jt.push_back({{"table", table},
                    {"reads", s.reads},
                    {"writes", s.writes},
                    {"read_latency_ms_mean", mean_ms(s.read_latency_us_total, s.reads)},
                    {"write_latency_ms_mean", mean_ms(s.write_latency_us_total, s.writes)},
                    {"keys_approx", s.keys_approx},
                    {"bytes_approx", s.bytes_approx}});
    }
    out.push_back({{"keyspace", ks},
                   {"reads", total.reads},
                   {"writes", total.writes},
                   {"keys_approx", total.keys_approx},
                   {"bytes_approx", total.bytes_approx},
                   {"tables", jt}});
    if (globals.json()) continue;
    fmt::print("Keyspace : {}\n", ks);
    fmt::print("\tRead Count: {}\n", total.reads);
    fmt::print("\tRead Latency: {:.3f} ms\n", mean_ms(total.read_latency_us_total, total.reads));
    fmt::print("\tWrite Count: {}\n", total.writes);
    fmt::print("\tWrite Latency: {:.3f} ms\n", mean_ms(total.write_latency_us_total, total.writes));
    for (const auto& [table, s] : tables) {
      fmt::print("\t\tTable: {}\n", table.empty() ? "(no table: plain keys)" : table);
      fmt::print("\t\tNumber of partitions (estimate): {}\n", s.keys_approx);
      fmt::print("\t\tSpace used (estimate): {}\n", s.bytes_approx);
      fmt::print("\t\tLocal read count: {}\n", s.reads);
      fmt::print("\t\tLocal read latency: {:.3f} ms\n", mean_ms(s.read_latency_us_total, s.reads));
      fmt::print("\t\tLocal write count: {}\n", s.writes);
      fmt::print("\t\tLocal write latency: {:.3f} ms\n", mean_ms(s.write_latency_us_total, s.writes));
      fmt::print("\n");
    }
    fmt::print("----------------\n");
  }
  if (globals.json()) {
    PrintJson({{"keyspaces", out}, {"unreachable", unreachable}});
  } else if (!unreachable.empty()) {
    fmt::print("Unreachable (not counted): {}\n", fmt::join(unreachable, ", "));
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> AddAdminCommands(CLI::App& parent, const Globals& globals) {
  auto status_flags = std::make_shared<StatusFlags>();
  CLI::App* status = parent.add_subcommand("status", "nodetool-style status of every node");
  status->footer(kStatusHelp);
  status->add_option("KEYSPACE", status_flags->keyspace, "Ownership at this keyspace's factor");

  CLI::App* describe =
      parent.add_subcommand("describecluster", "Cluster name, partitioner, schema agreement");
  describe->footer(kDescribeHelp);

  auto ts_flags = std::make_shared<TablestatsFlags>();
  CLI::App* tablestats =
      parent.add_subcommand("tablestats", "Per keyspace / table reads, writes, keys, space");
  tablestats->footer(kTablestatsHelp);
  tablestats->add_option("KEYSPACE[.TABLE]", ts_flags->target, "Only this keyspace or table");

  return {
      {status, [&globals, status_flags] { return RunStatus(globals, *status_flags); }},
      {describe, [&globals] { return RunDescribeCluster(globals); }},
      {tablestats, [&globals, ts_flags] { return RunTablestats(globals, *ts_flags); }},
  };
}

}  // namespace ringkv::kvctl
